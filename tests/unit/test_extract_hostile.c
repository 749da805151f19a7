/* More hostile layers for the extractor (see docs/security.md): hardlinks
 * that try to reach a lower layer's setuid file through a later entry of the
 * same name, overlayfs xattrs in both extraction modes, and PAX records with
 * negative or huge values.  Runs as root (make check does). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tartest.h"
#include "oci/extract.h"
#include "oci/banned.h"

struct fx {
	char *dir;
	int rootfd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = testutil_mkdtemp();
	f->rootfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->rootfd);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* A lower layer's setuid-root bin/su. */
static void lower_su(struct fx *f, struct stat *st)
{
	const struct tspec lower[] = {
	    {.type = 'd', .name = "bin"},
	    {.type = 'f', .name = "bin/su", .arg = "real su", .mode = 04755},
	    {0},
	};

	assert_ok(tar_apply(f->rootfd, lower, NULL, &test_err));
	assert_int_equal(fstatat(f->rootfd, "bin/su", st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st->st_mode & 07777, 04755);
	assert_int_equal(st->st_uid, 0);
}

static void assert_su_untouched(struct fx *f, const struct stat *before)
{
	struct stat st;

	assert_int_equal(fstatat(f->rootfd, "bin/su", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_ino, before->st_ino);
	assert_int_equal(st.st_mode, before->st_mode);
	assert_int_equal(st.st_uid, before->st_uid);
	assert_int_equal(st.st_gid, before->st_gid);
	assert_content_at(f->rootfd, "bin/su", "real su");
}

/* A hardlink to the lower setuid file, then an entry of the same name: the
 * entry replaces the link, it never writes (or chmods, chowns) through it. */
static void test_hardlink_then_rewrite_setuid(void **state)
{
	struct fx *f = *state;
	struct stat su;
	const struct tspec file[] = {
	    {.type = 'h', .name = "x", .arg = "bin/su"},
	    {.type = 'f', .name = "x", .arg = "evil", .mode = 06777, .uid = 1000, .gid = 1000},
	    {0},
	};
	const struct tspec dir[] = {
	    {.type = 'h', .name = "y", .arg = "bin/su"},
	    {.type = 'd', .name = "y", .mode = 0777, .uid = 1000},
	    {0},
	};
	const struct tspec node[] = {
	    {.type = 'h', .name = "z", .arg = "bin/su"},
	    {.type = 'p', .name = "z", .mode = 0666, .uid = 1000},
	    {.type = 'h', .name = "w", .arg = "bin/su"},
	    {.type = 'l', .name = "w", .arg = "bin/su", .uid = 1000},
	    {0},
	};
	const struct tspec self[] = {
	    /* bin/su replaced by a link to itself: left as it is. */
	    {.type = 'h', .name = "bin/su", .arg = "bin/su"},
	    {0},
	};

	lower_su(f, &su);
	assert_ok(tar_apply(f->rootfd, file, NULL, &test_err));
	assert_su_untouched(f, &su);
	assert_content_at(f->rootfd, "x", "evil");
	assert_ok(tar_apply(f->rootfd, dir, NULL, &test_err));
	assert_su_untouched(f, &su);
	assert_ok(tar_apply(f->rootfd, node, NULL, &test_err));
	assert_su_untouched(f, &su);
	assert_ok(tar_apply(f->rootfd, self, NULL, &test_err));
	assert_su_untouched(f, &su);
}

/* A whiteout of the link's name removes the link, not the lower file. */
static void test_hardlink_then_whiteout(void **state)
{
	struct fx *f = *state;
	struct stat su;
	const struct tspec link[] = {{.type = 'h', .name = "x", .arg = "bin/su"}, {0}};
	const struct tspec wh[] = {{.type = 'f', .name = ".wh.x"}, {0}};

	lower_su(f, &su);
	assert_ok(tar_apply(f->rootfd, link, NULL, &test_err));
	assert_ok(tar_apply(f->rootfd, wh, NULL, &test_err));
	assert_false(exists_at(f->rootfd, "x"));
	assert_su_untouched(f, &su);
}

/* trusted.overlay.* steers overlayfs (redirect, metacopy, origin, opaque):
 * never from a tar, in either mode, on files or directories. */
static void test_overlay_xattrs_dropped(void **state)
{
	static const char *const names[] = {"trusted.overlay.redirect", "trusted.overlay.metacopy",
					    "trusted.overlay.origin",	"trusted.overlay.opaque",
					    "trusted.overlay.upper",	"trusted.overlay.nlink"};
	struct fx *f = *state;

	for (unsigned mode = 0; mode < 2; mode++) {
		struct oci_extract_opts opts = {.flags = mode ? OCI_EXTRACT_OVERLAY_WHITEOUTS : 0};

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char dname[32], fname[40], path[4096], v[64];
			struct tspec t[3] = {{0}};
			struct oci_extract_stats st;
			size_t len;
			char *tar;

			snprintf(dname, sizeof(dname), "d%u-%zu", mode, i);
			snprintf(fname, sizeof(fname), "%s/f", dname);
			t[0] = (struct tspec){
			    .type = 'd', .name = dname, .xattr_name = names[i], .xattr_value = "/etc"};
			t[1] = (struct tspec){.type = 'f',
					      .name = fname,
					      .arg = "x",
					      .xattr_name = names[i],
					      .xattr_value = "y"};
			tar = tar_build(t, 2, &len);
			assert_ok(tar_extract(f->rootfd, tar, len, &opts, &st, &test_err));
			free(tar);
			assert_true(st.skipped_xattrs >= 2); /* pax writes SCHILY and LIBARCHIVE records */
			snprintf(path, sizeof(path), "%s/%s", f->dir, dname);
			assert_true(lgetxattr(path, names[i], v, sizeof(v)) < 0);
			snprintf(path, sizeof(path), "%s/%s", f->dir, fname);
			assert_true(lgetxattr(path, names[i], v, sizeof(v)) < 0);
		}
	}
}

/* security.capability on a file is image content (ping's cap_net_raw) and is
 * applied as root: the sandbox's bounding set limits what it can grant. */
static void test_file_capability_applied_as_root(void **state)
{
	/* VFS_CAP_REVISION_2, permitted = cap_net_raw (bit 13), effective. */
	static const unsigned char cap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20};
	struct fx *f = *state;
	unsigned char v[32];
	char path[4096], *tar;
	struct archive *a;
	struct archive_entry *e;
	struct tbuf tb = {NULL, 0, 0};
	size_t len;

	if (geteuid() != 0)
		skip();
	a = archive_write_new();
	archive_write_set_format_pax(a);
	assert_int_equal(archive_write_open(a, &tb, NULL, tbuf_write, NULL), ARCHIVE_OK);
	e = archive_entry_new();
	archive_entry_set_pathname(e, "ping");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0755);
	archive_entry_set_size(e, 1);
	archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, "x", 1), 1);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	tar = tb.data;
	len = tb.len;
	assert_ok(tar_extract(f->rootfd, tar, len, NULL, NULL, &test_err));
	free(tar);
	snprintf(path, sizeof(path), "%s/ping", f->dir);
	assert_int_equal(lgetxattr(path, "security.capability", v, sizeof(v)), (ssize_t)sizeof(cap));
}

/* A raw pax 'x' header carrying `records`, then a ustar file "f" of `size`
 * bytes (zeros), then the end marker. */
static char *pax_tar(const char *records, unsigned size, size_t *len)
{
	unsigned rlen = (unsigned)strlen(records);
	size_t rblocks = (rlen + 511) / 512, dblocks = (size + 511) / 512;
	size_t total = 512 * (1 + rblocks + 1 + dblocks + 2);
	unsigned char *t = calloc(1, total);

	tar_raw_header(t, "pax", 3, 'x', rlen);
	memcpy(t + 512, records, rlen);
	tar_raw_header(t + 512 * (1 + rblocks), "f", 1, '0', size);
	*len = total;
	return (char *)t;
}

/* "NN key=value\n" with NN its own length. */
static void pax_record(char *buf, size_t size, const char *kv)
{
	size_t n = strlen(kv) + 2; /* ' ' and '\n' */
	size_t digits = 1;

	for (size_t v = n + 1; v >= 10; v /= 10)
		digits++;
	snprintf(buf, size, "%zu %s\n", n + digits, kv);
}

static void test_pax_hostile_values(void **state)
{
	static const char *const bad[] = {
	    "size=-1",
	    "size=99999999999999999999999",
	    "size=18446744073709551615",
	    "uid=-5",
	    "gid=99999999999999999999",
	    "path=../../victim",
	    "linkpath=/x",
	    "path=a/../../b",
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rec[256], *tar;
		size_t len;
		int rc;

		pax_record(rec, sizeof(rec), bad[i]);
		tar = pax_tar(rec, 4, &len);
		rc = tar_extract(f->rootfd, tar, len, NULL, NULL, &test_err);
		free(tar);
		/* Either refused, or applied in the root with a sane size. */
		if (rc == 0) {
			struct stat st;

			if (fstatat(f->rootfd, "f", &st, AT_SYMLINK_NOFOLLOW) == 0)
				assert_true(st.st_size <= 4);
		}
		assert_int_equal(faccessat(AT_FDCWD, "/victim", F_OK, AT_SYMLINK_NOFOLLOW), -1);
		assert_int_equal(faccessat(AT_FDCWD, "/b", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	}
	/* A path with a newline and control bytes is only a name. */
	{
		char rec[256], *tar;
		size_t len;

		pax_record(rec, sizeof(rec), "path=a\nb\x01");
		tar = pax_tar(rec, 1, &len);
		assert_ok(tar_extract(f->rootfd, tar, len, NULL, NULL, &test_err));
		free(tar);
		assert_true(exists_at(f->rootfd, "a\nb\x01"));
	}
}

/* Many nested directories (up to PATH_MAX) then an opaque marker at the top:
 * bounded, no crash. */
static void test_deep_tree(void **state)
{
	struct fx *f = *state;
	struct tspec t[3] = {{0}};
	char deep[4000], *tar;
	size_t n = 0, len;

	while (n + 2 < sizeof(deep) - 8) {
		deep[n++] = 'a';
		deep[n++] = '/';
	}
	memcpy(deep + n, "f", 2);
	t[0] = (struct tspec){.type = 'f', .name = deep, .arg = "deep"};
	tar = tar_build(t, 1, &len);
	assert_ok(tar_extract(f->rootfd, tar, len, NULL, NULL, &test_err));
	free(tar);
	/* Now hide it all with an opaque root from a second layer: the tree is
	 * deeper than the removal bound, which is an error, not a crash. */
	t[0] = (struct tspec){.type = 'f', .name = ".wh..wh..opq"};
	tar = tar_build(t, 1, &len);
	if (tar_extract(f->rootfd, tar, len, NULL, NULL, &test_err) < 0)
		assert_int_equal(test_err.code, OCB_ELIMIT);
	free(tar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hardlink_then_rewrite_setuid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hardlink_then_whiteout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlay_xattrs_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_capability_applied_as_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pax_hostile_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deep_tree, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
