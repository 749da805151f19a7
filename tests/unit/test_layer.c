#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/layer.h"

#define LONG_COMPONENT "a-very-long-directory-name-that-goes-on-and-on-and-on-for-quite-a-while-indeed"

struct fixture {
	char *dir;
	char *tree;
	int tree_fd;
	struct oci_blobstore bs;
	bool xattrs; /* the temp fs takes user.* xattrs */
};

/* One entry as libarchive reads it back. */
struct rentry {
	char *name;
	char *link; /* hardlink or symlink target */
	mode_t type;
	unsigned mode;
	int64_t uid, gid, size, mtime;
	bool has_uname, is_hardlink;
	char *xattr; /* "name=value" of the first xattr, if any */
	unsigned rdevmajor;
};

struct rlist {
	struct rentry v[256];
	size_t n;
};

static void path_in(char *buf, size_t size, const char *root, const char *rel)
{
	if ((size_t)snprintf(buf, size, "%s/%s", root, rel) >= size)
		fail_msg("path too long");
}

static void mk_dir(struct fixture *f, const char *rel)
{
	char p[4096];

	path_in(p, sizeof(p), f->tree, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void mk_file(struct fixture *f, const char *rel, const char *content)
{
	char p[4096];

	path_in(p, sizeof(p), f->tree, rel);
	testutil_write_file(p, content, strlen(content));
}

static void set_mtime(struct fixture *f, const char *rel, time_t t)
{
	struct timespec ts[2] = {{t, 0}, {t, 0}};

	assert_int_equal(utimensat(f->tree_fd, rel, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* A tree with every kind of entry the writer handles. */
static void build_tree(struct fixture *f)
{
	char p[4096], q[4096];

	mk_dir(f, "bin");
	mk_file(f, "bin/sh", "#!shell\n");
	path_in(p, sizeof(p), f->tree, "bin/sh");
	path_in(q, sizeof(q), f->tree, "bin/ash");
	assert_int_equal(link(p, q), 0); /* ash is the hardlink: sh sorts after it */
	assert_int_equal(symlinkat("sh", f->tree_fd, "bin/link"), 0);
	mk_dir(f, "a");
	mk_file(f, "a/x", "x");
	mk_file(f, "a.b", "dot");
	mk_file(f, "a-b", "dash");
	mk_dir(f, LONG_COMPONENT);
	mk_file(f, LONG_COMPONENT "/" LONG_COMPONENT "-file", "long");
	assert_int_equal(symlinkat(LONG_COMPONENT "/" LONG_COMPONENT "-file-target-that-is-long-too",
				   f->tree_fd, "longlink"),
			 0);
	assert_int_equal(mkfifoat(f->tree_fd, "fifo", 0600), 0);
	path_in(p, sizeof(p), f->tree, "a/x");
	f->xattrs = setxattr(p, "user.test", "hello", 5, 0) == 0;
	if (f->xattrs)
		assert_int_equal(setxattr(p, "user.another", "v", 1, 0), 0);
	/* 1 MiB + 1 of pseudo-random bytes: several ring slots, odd padding. */
	{
		size_t len = (1 << 20) + 1;
		char *data = malloc(len);
		for (size_t i = 0; i < len; i++)
			data[i] = (char)((i * 2654435761u) >> 13);
		path_in(p, sizeof(p), f->tree, "big");
		testutil_write_file(p, data, len);
		free(data);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[4096];

	f->dir = testutil_mkdtemp();
	assert_true(asprintf(&f->tree, "%s/tree", f->dir) > 0);
	assert_int_equal(mkdir(f->tree, 0755), 0);
	f->tree_fd = open(f->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->tree_fd >= 0);
	path_in(p, sizeof(p), f->dir, "store");
	assert_ok(oci_blobstore_open(&f->bs, p, true, &test_err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	oci_blobstore_release(&f->bs);
	close(f->tree_fd);
	testutil_rmtree(f->dir);
	free(f->tree);
	free(f->dir);
	free(f);
	return 0;
}

static void commit_tree(struct fixture *f, const struct oci_layer_options *opts, struct oci_layer_desc *d)
{
	assert_ok(oci_layer_from_dir(&f->bs, f->tree_fd, opts, d, &test_err));
}

/* Decompress the layer blob into a temp file (checking the diff_id on the
 * way) and return it open at offset 0. */
static int layer_tar_fd(struct fixture *f, const struct oci_layer_desc *d)
{
	struct oci_decompressor *dec = NULL;
	struct oci_hasher h;
	struct oci_digest got;
	char p[4096], buf[65536];
	int blob = -1, out;
	ssize_t n;

	assert_ok(oci_blobstore_open_blob(&f->bs, &d->digest, &blob, NULL, &test_err));
	path_in(p, sizeof(p), f->dir, "layer.tar");
	out = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(out >= 0);
	assert_ok(oci_decompressor_new(&dec, OCI_COMPRESSION_AUTO, blob, NULL, &test_err));
	assert_ok(oci_hasher_init(&h, &test_err));
	while ((n = oci_decompressor_read(dec, buf, sizeof(buf), &test_err)) > 0) {
		oci_hasher_update(&h, buf, (size_t)n);
		assert_int_equal(write(out, buf, (size_t)n), n);
	}
	assert_int_equal(n, 0);
	oci_hasher_final(&h, &got);
	oci_hasher_release(&h);
	assert_string_equal(got.str, d->diff_id.str);
	assert_int_equal((uint64_t)lseek(out, 0, SEEK_CUR), d->tar_size);
	oci_decompressor_free(dec);
	close(blob);
	lseek(out, 0, SEEK_SET);
	return out;
}

static void read_entry(struct archive *a, struct archive_entry *e, struct rentry *r)
{
	const char *xname;
	const void *xval;
	size_t xlen;

	memset(r, 0, sizeof(*r));
	r->name = strdup(archive_entry_pathname(e));
	r->type = archive_entry_filetype(e);
	r->mode = archive_entry_perm(e);
	r->uid = archive_entry_uid(e);
	r->gid = archive_entry_gid(e);
	r->size = archive_entry_size(e);
	r->mtime = archive_entry_mtime(e);
	r->has_uname = (archive_entry_uname(e) && *archive_entry_uname(e)) ||
		       (archive_entry_gname(e) && *archive_entry_gname(e));
	r->rdevmajor = major(archive_entry_rdev(e));
	if (archive_entry_hardlink(e)) {
		r->is_hardlink = true;
		r->link = strdup(archive_entry_hardlink(e));
	} else if (archive_entry_symlink(e)) {
		r->link = strdup(archive_entry_symlink(e));
	}
	/* All xattrs as "name=value;" in name order (libarchive keeps its own order). */
	if (archive_entry_xattr_reset(e) == 2) {
		char *x[2];
		for (int k = 0; k < 2; k++) {
			assert_int_equal(archive_entry_xattr_next(e, &xname, &xval, &xlen), ARCHIVE_OK);
			assert_true(asprintf(&x[k], "%s=%.*s;", xname, (int)xlen, (const char *)xval) > 0);
		}
		if (strcmp(x[0], x[1]) > 0)
			assert_true(asprintf(&r->xattr, "%s%s", x[1], x[0]) > 0);
		else
			assert_true(asprintf(&r->xattr, "%s%s", x[0], x[1]) > 0);
		free(x[0]);
		free(x[1]);
	}
	(void)a;
}

static void read_layer(struct fixture *f, const struct oci_layer_desc *d, struct rlist *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int fd = layer_tar_fd(f, d);
	int rc;

	out->n = 0;
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		assert_true(out->n < 256);
		read_entry(a, e, &out->v[out->n++]);
	}
	if (rc != ARCHIVE_EOF)
		fail_msg("libarchive: %s", archive_error_string(a));
	archive_read_free(a);
	close(fd);
}

/* Where s first occurs in the last layer read_layer() unpacked. */
static long tar_offset(struct fixture *f, const char *s)
{
	static char buf[4 << 20];
	char p[4096];
	int fd;
	ssize_t n;
	const char *hit;

	path_in(p, sizeof(p), f->dir, "layer.tar");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0);
	hit = memmem(buf, (size_t)n, s, strlen(s));
	assert_non_null(hit);
	return hit - buf;
}

static void rlist_release(struct rlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].link);
		free(l->v[i].xattr);
	}
	l->n = 0;
}

static const struct rentry *find(const struct rlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	fail_msg("no entry '%s' in the layer", name);
	return NULL;
}

static void test_tree_contents(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_GZIP};
	struct oci_layer_desc d;
	struct rlist *l = calloc(1, sizeof(*l));
	const struct rentry *r;

	build_tree(f);
	commit_tree(f, &opts, &d);
	assert_string_equal(d.media_type, OCI_MEDIA_TYPE_LAYER_GZIP);
	assert_true(oci_blobstore_has(&f->bs, &d.digest));
	read_layer(f, &d, l);
	assert_int_equal(l->n, 13);
	/* Sorted bytewise by tar name; directories before their contents. */
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(l->v[i - 1].name, l->v[i].name) >= 0)
			fail_msg("'%s' before '%s'", l->v[i - 1].name, l->v[i].name);
	assert_string_equal(l->v[0].name, "a-b");
	assert_string_equal(l->v[1].name, LONG_COMPONENT "/");
	assert_string_equal(l->v[3].name, "a.b");
	assert_string_equal(l->v[4].name, "a/");
	assert_string_equal(l->v[5].name, "a/x");
	for (size_t i = 0; i < l->n; i++) {
		assert_false(l->v[i].has_uname);
		assert_int_equal(l->v[i].uid, getuid());
		assert_true(l->v[i].name[0] != '/' && strncmp(l->v[i].name, "./", 2));
	}
	/* The first name of a linked inode holds the data, later ones link to it. */
	r = find(l, "bin/ash");
	assert_int_equal(r->type, AE_IFREG);
	assert_int_equal(r->size, 8);
	r = find(l, "bin/sh");
	assert_true(r->is_hardlink);
	assert_string_equal(r->link, "bin/ash");
	r = find(l, "bin/link");
	assert_int_equal(r->type, AE_IFLNK);
	assert_string_equal(r->link, "sh");
	assert_int_equal(find(l, "bin/")->type, AE_IFDIR);
	assert_int_equal(find(l, "bin/")->mode, 0755);
	assert_int_equal(find(l, "fifo")->type, AE_IFIFO);
	assert_int_equal(find(l, "big")->size, (1 << 20) + 1);
	/* Long names and link targets survive (PAX). */
	r = find(l, LONG_COMPONENT "/" LONG_COMPONENT "-file");
	assert_int_equal(r->size, 4);
	r = find(l, "longlink");
	assert_string_equal(r->link, LONG_COMPONENT "/" LONG_COMPONENT "-file-target-that-is-long-too");
	find(l, LONG_COMPONENT "/");
	if (f->xattrs) {
		assert_string_equal(find(l, "a/x")->xattr, "user.another=v;user.test=hello;");
		assert_true(tar_offset(f, "SCHILY.xattr.user.another") <
			    tar_offset(f, "SCHILY.xattr.user.test"));
	}
	rlist_release(l);
	free(l);
}

static void test_deterministic_with_source_date_epoch(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {
	    .compression = OCI_COMPRESSION_GZIP, .clamp_mtime = true, .source_date_epoch = 1700000000};
	struct oci_layer_desc d1, d2, d3;
	struct rlist *l = calloc(1, sizeof(*l));

	build_tree(f);
	commit_tree(f, &opts, &d1);
	commit_tree(f, &opts, &d2);
	assert_string_equal(d1.digest.str, d2.digest.str);
	/* Newer mtimes are clamped: same layer. */
	set_mtime(f, "big", 1800000000);
	set_mtime(f, "a", 1800000001);
	commit_tree(f, &opts, &d2);
	assert_string_equal(d1.digest.str, d2.digest.str);
	assert_string_equal(d1.diff_id.str, d2.diff_id.str);
	/* An older mtime is kept, so the layer changes. */
	set_mtime(f, "big", 1600000000);
	commit_tree(f, &opts, &d3);
	assert_string_not_equal(d1.diff_id.str, d3.diff_id.str);
	read_layer(f, &d3, l);
	assert_int_equal(find(l, "big")->mtime, 1600000000);
	assert_int_equal(find(l, "a/")->mtime, 1700000000);
	rlist_release(l);
	free(l);
}

static void test_codecs_share_the_tar(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.clamp_mtime = true, .source_date_epoch = 1700000000};
	struct oci_layer_desc dg, dz, dn, dz2;
	struct rlist *l = calloc(1, sizeof(*l));

	build_tree(f);
	opts.compression = OCI_COMPRESSION_GZIP;
	commit_tree(f, &opts, &dg);
	opts.compression = OCI_COMPRESSION_ZSTD;
	commit_tree(f, &opts, &dz);
	commit_tree(f, &opts, &dz2);
	opts.compression = OCI_COMPRESSION_NONE;
	commit_tree(f, &opts, &dn);
	assert_string_equal(dz.media_type, OCI_MEDIA_TYPE_LAYER_ZSTD);
	assert_string_equal(dn.media_type, OCI_MEDIA_TYPE_LAYER);
	assert_string_equal(dg.diff_id.str, dz.diff_id.str);
	assert_string_equal(dg.diff_id.str, dn.diff_id.str);
	assert_string_equal(dn.digest.str, dn.diff_id.str); /* uncompressed: digest is the diff_id */
	assert_int_equal(dn.size, dn.tar_size);
	assert_string_equal(dz.digest.str, dz2.digest.str);
	assert_true(dz.size < dz.tar_size);
	read_layer(f, &dz, l); /* checks the diff_id of the decompressed zstd blob */
	assert_int_equal(l->n, 13);
	rlist_release(l);
	free(l);
}

static void test_entry_api_whiteouts(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_ZSTD};
	struct oci_layer_writer *w;
	struct oci_layer_desc d;
	struct rlist *l = calloc(1, sizeof(*l));
	static const char *const want[] = {"etc/",	     "etc/.wh..wh..opq", "etc/passwd",
					   "etc/.wh.shadow", ".wh.gone",	 "usr/bin/"};

	mk_dir(f, "etc");
	mk_file(f, "etc/passwd", "root:x:0:0\n");
	mk_dir(f, "usr");
	mk_dir(f, "usr/bin");
	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "etc", &test_err));
	assert_ok(oci_layer_add_opaque(w, "etc", &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "etc/passwd", &test_err));
	assert_ok(oci_layer_add_whiteout(w, "etc/shadow", &test_err));
	assert_ok(oci_layer_add_whiteout(w, "gone", &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "usr/bin", &test_err));
	assert_ok(oci_layer_writer_commit(w, &d, &test_err));
	read_layer(f, &d, l);
	assert_int_equal(l->n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < l->n; i++)
		assert_string_equal(l->v[i].name, want[i]);
	assert_int_equal(l->v[1].type, AE_IFREG);
	assert_int_equal(l->v[1].size, 0);
	assert_int_equal(l->v[2].size, 11);
	rlist_release(l);
	free(l);
}

/* Entries under other names with overridden metadata (copy steps), and a
 * directory that is not on disk. */
static void test_entry_api_renamed_and_overridden(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_NONE};
	struct oci_layer_override ov = {
	    .mode_set = true, .mode = 0600, .owner_set = true, .uid = 1000, .gid = 50};
	struct oci_layer_override mt = {.mtime_set = true, .mtime = 1234};
	struct oci_layer_writer *w;
	struct oci_layer_desc d;
	struct rlist *l = calloc(1, sizeof(*l));
	char p[4096], q[4096];

	mk_dir(f, "src");
	mk_file(f, "src/a", "alpha");
	path_in(p, sizeof(p), f->tree, "src/a");
	path_in(q, sizeof(q), f->tree, "src/b");
	assert_int_equal(link(p, q), 0);
	assert_int_equal(symlinkat("a", f->tree_fd, "src/l"), 0);
	mk_file(f, "src/.wh.x", "not a whiteout once renamed");
	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	assert_ok(oci_layer_add_dir(w, "app", 0755, 0, 0, 0, &test_err));
	assert_ok(oci_layer_add_path_as(w, f->tree_fd, "src", "app/data", &ov, &test_err));
	assert_ok(oci_layer_add_path_as(w, f->tree_fd, "src/a", "app/data/first", &ov, &test_err));
	assert_ok(oci_layer_add_path_as(w, f->tree_fd, "src/l", "app/data/link", &ov, &test_err));
	assert_ok(oci_layer_add_path_as(w, f->tree_fd, "src/b", "app/data/second", &ov, &test_err));
	assert_ok(oci_layer_add_path_as(w, f->tree_fd, "src/.wh.x", "app/x", &mt, &test_err));
	assert_int_equal(oci_layer_add_path_as(w, f->tree_fd, "src/a", "../escape", NULL, &test_err), -1);
	assert_ok(oci_layer_writer_commit(w, &d, &test_err));
	read_layer(f, &d, l);
	assert_int_equal(l->n, 6);
	assert_string_equal(l->v[0].name, "app/");
	assert_int_equal(l->v[0].mode, 0755);
	assert_int_equal(l->v[0].uid, 0);
	assert_int_equal(l->v[0].mtime, 0);
	assert_string_equal(l->v[1].name, "app/data/");
	assert_int_equal(l->v[1].type, AE_IFDIR);
	assert_int_equal(l->v[1].mode, 0600);
	assert_int_equal(l->v[1].uid, 1000);
	assert_int_equal(l->v[1].gid, 50);
	assert_string_equal(l->v[2].name, "app/data/first");
	assert_int_equal(l->v[2].size, 5);
	assert_int_equal(l->v[2].mode, 0600);
	assert_string_equal(l->v[3].name, "app/data/link");
	assert_int_equal(l->v[3].mode, 0777); /* the mode does not apply to symlinks */
	assert_int_equal(l->v[3].uid, 1000);
	assert_string_equal(l->v[3].link, "a");
	assert_string_equal(l->v[4].name, "app/data/second");
	assert_true(l->v[4].is_hardlink);
	assert_string_equal(l->v[4].link, "app/data/first");
	assert_string_equal(l->v[5].name, "app/x");
	assert_int_equal(l->v[5].mtime, 1234);
	assert_int_equal(l->v[5].mode, 0644);
	rlist_release(l);
	free(l);
}

/* Symlinks, fifos and a second name of an inode through the entry API. */
static void test_entry_api_links_and_specials(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_GZIP};
	struct oci_layer_writer *w;
	struct oci_layer_desc d;
	struct rlist *l = calloc(1, sizeof(*l));
	char p[4096], q[4096];

	mk_dir(f, "d");
	mk_file(f, "d/one", "same inode");
	path_in(p, sizeof(p), f->tree, "d/one");
	path_in(q, sizeof(q), f->tree, "d/two");
	assert_int_equal(link(p, q), 0);
	assert_int_equal(symlinkat("../elsewhere", f->tree_fd, "d/sym"), 0);
	assert_int_equal(mkfifoat(f->tree_fd, "d/pipe", 0640), 0);
	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "d/two", &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "d/one", &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "d/sym", &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "d/pipe", &test_err));
	assert_ok(oci_layer_writer_commit(w, &d, &test_err));
	read_layer(f, &d, l);
	assert_int_equal(l->n, 4);
	assert_int_equal(l->v[0].size, 10); /* the first name seen carries the data */
	assert_true(l->v[1].is_hardlink);
	assert_string_equal(l->v[1].link, "d/two");
	assert_int_equal(l->v[2].type, AE_IFLNK);
	assert_string_equal(l->v[2].link, "../elsewhere");
	assert_int_equal(l->v[3].type, AE_IFIFO);
	assert_int_equal(l->v[3].mode, 0640);
	rlist_release(l);
	free(l);
}

static void expect_einval(int rc, struct ocb_error *err);

/* Enough linked inodes to make the link table grow several times. */
static void test_many_hardlinks(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_NONE};
	struct oci_layer_desc d;
	struct rlist *l = calloc(1, sizeof(*l));
	char name[64], p[4096], q[4096];
	size_t links = 0;

	mk_dir(f, "h");
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "h/f%03d", i);
		mk_file(f, name, name);
		path_in(p, sizeof(p), f->tree, name);
		snprintf(name, sizeof(name), "h/g%03d", i);
		path_in(q, sizeof(q), f->tree, name);
		assert_int_equal(link(p, q), 0);
	}
	commit_tree(f, &opts, &d);
	read_layer(f, &d, l);
	assert_int_equal(l->n, 201);
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].is_hardlink)
			continue;
		links++;
		assert_int_equal(l->v[i].name[2], 'g');
		assert_string_equal(l->v[i].link + 3, l->v[i].name + 3);
		assert_int_equal(l->v[i].link[2], 'f');
	}
	assert_int_equal(links, 100);
	rlist_release(l);
	free(l);
}

static void expect_einval(int rc, struct ocb_error *err)
{
	assert_int_equal(rc, -1);
	assert_int_equal(err->code, OCB_EINVAL);
	ocb_error_clear(err);
}

static void test_entry_api_rejects_bad_names(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_GZIP};
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_layer_writer *w;
	struct oci_layer_desc d;
	const char *bad[] = {"", "/etc", "../x", "a/../b", "a//b", "a/", "./a", "."};

	mk_dir(f, "real");
	mk_file(f, "real/file", "x");
	assert_int_equal(symlinkat("real", f->tree_fd, "sym"), 0);
	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_einval(oci_layer_add_path(w, f->tree_fd, bad[i], &err), &err);
		expect_einval(oci_layer_add_whiteout(w, bad[i], &err), &err);
		expect_einval(oci_layer_add_opaque(w, bad[i], &err), &err);
	}
	expect_einval(oci_layer_add_whiteout(w, "dir/.wh.x", &err), &err);
	/* A symlinked parent is not followed. */
	assert_int_equal(oci_layer_add_path(w, f->tree_fd, "sym/file", &err), -1);
	/* Rejected names did not spoil the writer. */
	assert_ok(oci_layer_add_path(w, f->tree_fd, "real/file", &test_err));
	assert_ok(oci_layer_writer_commit(w, &d, &test_err));
}

static int count_blobs_dir(struct fixture *f)
{
	char p[4096];
	DIR *dir;
	struct dirent *de;
	int n = 0;

	path_in(p, sizeof(p), f->dir, "store/blobs/sha256");
	dir = opendir(p);
	assert_non_null(dir);
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.' || strncmp(de->d_name, ".tmp-", 5) == 0;
	closedir(dir);
	return n;
}

static void test_failed_layer_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_ZSTD};
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_layer_writer *w;
	struct oci_layer_desc d;

	build_tree(f);
	mk_file(f, "bin/.wh.evil", "x"); /* a whiteout name in a plain tree */
	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	assert_int_equal(oci_layer_add_tree(w, f->tree_fd, NULL, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_non_null(strstr(err.msg, "bin/.wh.evil"));
	assert_int_equal(oci_layer_writer_commit(w, &d, &err), -1);
	assert_int_equal(count_blobs_dir(f), 0);
	/* Abort mid-way too. */
	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	assert_ok(oci_layer_add_path(w, f->tree_fd, "big", &test_err));
	oci_layer_writer_abort(w);
	assert_int_equal(count_blobs_dir(f), 0);
	oci_layer_writer_abort(NULL);
}

static void test_tree_prefix_and_empty(void **state)
{
	struct fixture *f = *state;
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_NONE};
	struct oci_layer_writer *w;
	struct oci_layer_desc d;
	struct rlist *l = calloc(1, sizeof(*l));

	/* An empty tree is 1024 zero bytes. */
	commit_tree(f, &opts, &d);
	assert_int_equal(d.tar_size, 1024);
	mk_dir(f, "sub");
	mk_file(f, "sub/f", "data");
	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	assert_ok(oci_layer_add_tree(w, f->tree_fd, "opt/app", &test_err));
	assert_ok(oci_layer_writer_commit(w, &d, &test_err));
	read_layer(f, &d, l);
	assert_int_equal(l->n, 2);
	assert_string_equal(l->v[0].name, "opt/app/sub/");
	assert_string_equal(l->v[1].name, "opt/app/sub/f");
	rlist_release(l);
	free(l);
}

static void test_name_cmp(void **state)
{
	assert_true(oci_layer_name_cmp("a", true, "a.b", false) > 0);
	assert_true(oci_layer_name_cmp("a", false, "a.b", false) < 0);
	assert_true(oci_layer_name_cmp("a", true, "a0", false) < 0);
	assert_int_equal(oci_layer_name_cmp("same", true, "same", true), 0);
	assert_true(oci_layer_name_cmp("\xff", false, "a", false) > 0); /* bytes are unsigned */
}

static void test_xattr_kept(void **state)
{
	(void)state;
	assert_true(oci_layer_xattr_kept("user.x"));
	assert_true(oci_layer_xattr_kept("security.capability"));
	assert_true(oci_layer_xattr_kept("trusted.other"));
	assert_false(oci_layer_xattr_kept("security.selinux"));
	assert_false(oci_layer_xattr_kept("trusted.overlay.opaque"));
	assert_false(oci_layer_xattr_kept("user.overlay.redirect"));
	assert_false(oci_layer_xattr_kept("system.posix_acl_access"));
}

static void test_options_from_env(void **state)
{
	struct oci_layer_options opts = {0};
	struct ocb_error err = OCB_ERROR_INIT;

	setenv("SOURCE_DATE_EPOCH", "1234", 1);
	assert_ok(oci_layer_options_from_env(&opts, &test_err));
	assert_true(opts.clamp_mtime);
	assert_int_equal(opts.source_date_epoch, 1234);
	setenv("SOURCE_DATE_EPOCH", "12x", 1);
	expect_einval(oci_layer_options_from_env(&opts, &err), &err);
	setenv("SOURCE_DATE_EPOCH", "-5", 1);
	expect_einval(oci_layer_options_from_env(&opts, &err), &err);
	unsetenv("SOURCE_DATE_EPOCH");
	opts = (struct oci_layer_options){0};
	assert_ok(oci_layer_options_from_env(&opts, &test_err));
	assert_false(opts.clamp_mtime);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tree_contents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deterministic_with_source_date_epoch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_codecs_share_the_tar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_api_whiteouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_api_links_and_specials, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_api_renamed_and_overridden, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_hardlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_api_rejects_bad_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_layer_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tree_prefix_and_empty, setup, teardown),
	    cmocka_unit_test(test_name_cmp),
	    cmocka_unit_test(test_xattr_kept),
	    cmocka_unit_test(test_options_from_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
