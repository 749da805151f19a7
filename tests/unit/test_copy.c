/* Copy steps: sources in real temp dirs, the plan turned into a layer and
 * read back with libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/copy.h"
#include "builder/copy_impl.h"
#include "oci/blobstore.h"
#include "oci/extract.h"
#include "oci/layer.h"

struct fixture {
	char *dir, *ctx, *dest, *outside;
	int ctx_fd, dest_fd;
	struct oci_blobstore bs;
	struct recipe_ignore *ignore;
};

struct rentry {
	char name[512];
	char link[512];
	mode_t type;
	unsigned mode;
	int64_t uid, gid, size;
	bool hardlink;
	char data[64];
};

struct rlist {
	struct rentry v[64];
	size_t n;
};

/* A copy step: sources, to, and the options below. */
struct step {
	const char *src[8];
	const char *to;
	const char *chown;
	int chmod; /* 0: none */
	const char *exclude[4];
	const char *workdir;
	bool from_stage;
};

static void at(struct fixture *f, const char *root, const char *rel, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", root, rel) >= size)
		fail_msg("path too long");
}

static void put(struct fixture *f, const char *rel, const char *content)
{
	char p[4096];

	at(f, f->ctx, rel, p, sizeof(p));
	testutil_write_file(p, content, strlen(content));
}

static void mkd(struct fixture *f, const char *root, const char *rel)
{
	char p[4096];

	at(f, root, rel, p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[4096];

	f->dir = testutil_mkdtemp();
	assert_true(asprintf(&f->ctx, "%s/ctx", f->dir) > 0);
	assert_true(asprintf(&f->dest, "%s/dest", f->dir) > 0);
	assert_true(asprintf(&f->outside, "%s/outside", f->dir) > 0);
	assert_int_equal(mkdir(f->ctx, 0755), 0);
	assert_int_equal(mkdir(f->dest, 0755), 0);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	at(f, f->outside, "secret", p, sizeof(p));
	testutil_write_file(p, "TOPSECRET", 9);
	f->ctx_fd = open(f->ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f->dest_fd = open(f->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->ctx_fd >= 0 && f->dest_fd >= 0);
	at(f, f->dir, "store", p, sizeof(p));
	assert_ok(oci_blobstore_open(&f->bs, p, true, &test_err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	oci_blobstore_release(&f->bs);
	recipe_ignore_free(f->ignore);
	close(f->ctx_fd);
	close(f->dest_fd);
	testutil_rmtree(f->dir);
	free(f->ctx);
	free(f->dest);
	free(f->outside);
	free(f->dir);
	free(f);
	return 0;
}

static void set_ignore(struct fixture *f, const char *text)
{
	assert_ok(recipe_ignore_parse(".dockerignore", text, strlen(text), &f->ignore, &test_err));
}

/* The recipe_copy for s: sources at recipe.toml:<i+1>:5, to at 9:1. */
struct built {
	struct recipe_copy c;
	struct recipe_str src[8], ex[4];
};

static void build_copy(const struct step *s, struct built *b)
{
	static char user[64], group[64];
	size_t n = 0;

	memset(b, 0, sizeof(*b));
	while (n < 8 && s->src[n]) {
		b->src[n] = (struct recipe_str){.value = (char *)s->src[n],
						.pos = {"recipe.toml", (uint32_t)n + 1, 5}};
		n++;
	}
	b->c.sources =
	    (struct recipe_strv){.items = b->src, .len = n, .set = true, .pos = {"recipe.toml", 1, 1}};
	b->c.to = (struct recipe_str){.value = (char *)s->to, .pos = {"recipe.toml", 9, 1}};
	b->c.origin = s->from_stage ? RECIPE_COPY_STAGE : RECIPE_COPY_CONTEXT;
	if (s->chmod > 0) {
		b->c.chmod_set = true;
		b->c.chmod = (uint32_t)s->chmod;
	}
	if (s->chown) {
		const char *colon = strchr(s->chown, ':');
		b->c.chown = (struct recipe_str){.value = (char *)s->chown, .pos = {"recipe.toml", 10, 3}};
		snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - s->chown) : (int)strlen(s->chown),
			 s->chown);
		snprintf(group, sizeof(group), "%s", colon ? colon + 1 : "");
		b->c.chown_user = user;
		b->c.chown_group = colon ? group : NULL;
	}
	n = 0;
	while (n < 4 && s->exclude[n]) {
		b->ex[n] = (struct recipe_str){.value = (char *)s->exclude[n], .pos = {"recipe.toml", 11, 1}};
		n++;
	}
	b->c.exclude = (struct recipe_strv){.items = b->ex, .len = n, .set = n > 0};
}

static int plan_step(struct fixture *f, const struct step *s, struct copy_plan **out, struct ocb_error *err)
{
	struct built b;
	struct copy_request req = {
	    .source_root_fd = f->ctx_fd,
	    .source_label = s->from_stage ? "stage 'build'" : "context 'ctx'",
	    .ignore = s->from_stage ? NULL : f->ignore,
	    .workdir = s->workdir,
	    .dest_root_fd = f->dest_fd,
	    .origin_is_context = !s->from_stage,
	};

	build_copy(s, &b);
	req.copy = &b.c;
	return copy_plan(&req, out, err);
}

static struct oci_layer_desc last_layer; /* of the last layer_of() */

/* Plan, write the layer (uncompressed) and read it back. */
static void layer_of(struct fixture *f, const struct copy_plan *p, struct rlist *l)
{
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_NONE};
	struct oci_layer_writer *w;
	struct oci_layer_desc d;
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int fd, rc;

	assert_ok(oci_layer_writer_new(&w, &f->bs, &opts, &test_err));
	if (copy_plan_write_layer(p, w, &test_err) < 0) {
		oci_layer_writer_abort(w);
		fail_msg("write layer: %s", test_err.msg);
	}
	assert_ok(oci_layer_writer_commit(w, &d, &test_err));
	last_layer = d;
	assert_ok(oci_blobstore_open_blob(&f->bs, &d.digest, &fd, NULL, &test_err));
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	l->n = 0;
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		struct rentry *r = &l->v[l->n++];
		assert_true(l->n < 64);
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", archive_entry_pathname(e));
		r->type = archive_entry_filetype(e);
		r->mode = archive_entry_perm(e);
		r->uid = archive_entry_uid(e);
		r->gid = archive_entry_gid(e);
		r->size = archive_entry_size(e);
		if (archive_entry_hardlink(e)) {
			r->hardlink = true;
			snprintf(r->link, sizeof(r->link), "%s", archive_entry_hardlink(e));
		} else if (archive_entry_symlink(e)) {
			snprintf(r->link, sizeof(r->link), "%s", archive_entry_symlink(e));
		}
		if (r->type == AE_IFREG && r->size > 0 && !r->hardlink)
			assert_true(archive_read_data(a, r->data, sizeof(r->data) - 1) >= 0);
	}
	if (rc != ARCHIVE_EOF)
		fail_msg("libarchive: %s", archive_error_string(a));
	archive_read_free(a);
	close(fd);
}

static void run_step(struct fixture *f, const struct step *s, struct rlist *l)
{
	struct copy_plan *p = NULL;

	assert_ok(plan_step(f, s, &p, &test_err));
	layer_of(f, p, l);
	copy_plan_free(p);
}

/* The layer's names, space-separated. */
static const char *names(const struct rlist *l)
{
	static char buf[8192];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", l->v[i].name);
	return buf;
}

static const struct rentry *find(const struct rlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	fail_msg("no entry '%s' in the layer (%s)", name, names(l));
	return NULL;
}

static void expect_error(struct fixture *f, const struct step *s, enum ocb_code code, const char *msg)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct copy_plan *p = NULL;

	assert_int_equal(plan_step(f, s, &p, &err), -1);
	assert_null(p);
	if (!strstr(err.msg, msg))
		fail_msg("error '%s' does not contain '%s'", err.msg, msg);
	assert_int_equal(err.code, code);
}

static void test_file_to_file(void **state)
{
	struct fixture *f = *state;
	struct rlist l;
	struct step s = {.src = {"a.txt"}, .to = "/etc/app/b.conf"};

	put(f, "a.txt", "hello");
	assert_int_equal(chmod(f->ctx, 0755), 0);
	mkd(f, f->dest, "etc");
	run_step(f, &s, &l);
	/* etc exists in the destination: its entry keeps its metadata (so
	 * the layer does not imply root:root 0755), app/ is created */
	assert_string_equal(names(&l), "etc/ etc/app/ etc/app/b.conf");
	assert_int_equal(find(&l, "etc/app/")->mode, 0755);
	assert_int_equal(find(&l, "etc/app/")->uid, 0);
	assert_string_equal(find(&l, "etc/app/b.conf")->data, "hello");
	assert_int_equal(find(&l, "etc/app/b.conf")->mode, 0644);
	assert_int_equal(find(&l, "etc/app/b.conf")->uid, 0);
}

static void test_file_into_dir(void **state)
{
	struct fixture *f = *state;
	struct rlist l;
	struct step slash = {.src = {"a.txt"}, .to = "/app/"};
	struct step existing = {.src = {"a.txt"}, .to = "/srv"};
	struct step relative = {.src = {"a.txt"}, .to = "conf/", .workdir = "/work/dir"};
	struct step dots = {.src = {"a.txt"}, .to = "/v1..2/a..b"};

	put(f, "a.txt", "hello");
	mkd(f, f->dest, "srv");
	assert_int_equal(fchownat(f->dest_fd, "srv", 9999, 9998, 0), 0);
	assert_int_equal(fchmodat(f->dest_fd, "srv", 0750, 0), 0);
	run_step(f, &slash, &l);
	assert_string_equal(names(&l), "app/ app/a.txt");
	run_step(f, &existing, &l);
	assert_string_equal(names(&l), "srv/ srv/a.txt");
	/* the existing directory's owner and mode, not an implied root:root 0755 */
	assert_int_equal(find(&l, "srv/")->uid, 9999);
	assert_int_equal(find(&l, "srv/")->gid, 9998);
	assert_int_equal(find(&l, "srv/")->mode, 0750);
	run_step(f, &relative, &l);
	assert_string_equal(names(&l), "work/ work/dir/ work/dir/conf/ work/dir/conf/a.txt");
	run_step(f, &dots, &l);
	assert_string_equal(names(&l), "v1..2/ v1..2/a..b");
}

static void test_dir_contents(void **state)
{
	struct fixture *f = *state;
	struct rlist l;
	struct step s = {.src = {"src"}, .to = "/app"};
	struct step root = {.src = {"."}, .to = "/"};
	char p[4096];

	mkd(f, f->ctx, "src");
	mkd(f, f->ctx, "src/sub");
	put(f, "src/x", "x");
	put(f, "src/sub/y", "y");
	put(f, "src/x-y", "dash");
	at(f, f->ctx, "src", p, sizeof(p));
	assert_int_equal(chmod(p, 0750), 0);
	run_step(f, &s, &l);
	assert_string_equal(names(&l), "app/ app/sub/ app/sub/y app/x app/x-y");
	assert_int_equal(l.v[0].mode, 0750); /* the new dir takes the source dir's metadata */
	run_step(f, &root, &l);
	assert_string_equal(names(&l), "src/ src/sub/ src/sub/y src/x src/x-y");
}

static void test_glob_and_several(void **state)
{
	struct fixture *f = *state;
	struct rlist l;
	struct step glob = {.src = {"*.txt", "d?r/[a-c]*"}, .to = "/out/"};
	struct step no_slash = {.src = {"a.txt", "b.txt"}, .to = "/out"};
	struct step glob_many = {.src = {"*.txt"}, .to = "/out"};
	struct step nomatch = {.src = {"a.txt", "*.none"}, .to = "/out/"};
	struct step bad = {.src = {"[a"}, .to = "/out/"};

	put(f, "b.txt", "b");
	put(f, "a.txt", "a");
	put(f, "c.md", "c");
	mkd(f, f->ctx, "dir");
	put(f, "dir/alpha", "1");
	put(f, "dir/zeta", "2");
	run_step(f, &glob, &l);
	assert_string_equal(names(&l), "out/ out/a.txt out/alpha out/b.txt");
	expect_error(f, &no_slash, OCB_EINVAL,
		     "recipe.toml:9:1: copy with several sources needs 'to' to end in '/'");
	expect_error(f, &glob_many, OCB_EINVAL, "needs 'to' to end in '/'");
	expect_error(f, &nomatch, OCB_ENOTFOUND,
		     "recipe.toml:2:5: copy source '*.none' matches nothing in context 'ctx'");
	expect_error(f, &bad, OCB_EINVAL, "recipe.toml:1:5: copy source: invalid pattern '[a'");
}

static void test_missing_source(void **state)
{
	struct fixture *f = *state;
	struct step s = {.src = {"nope/file"}, .to = "/x"};
	struct step dotdot = {.src = {"../outside/secret"}, .to = "/x"};

	expect_error(f, &s, OCB_ENOTFOUND,
		     "recipe.toml:1:5: copy source 'nope/file' not found in context 'ctx'");
	expect_error(f, &dotdot, OCB_EUNSAFE, "is outside the build context");
}

/* A symlinked directory pointing out of the context resolves inside it. */
static void test_symlinked_component_stays_inside(void **state)
{
	struct fixture *f = *state;
	struct step rel = {.src = {"out/secret"}, .to = "/x"};
	struct step abs = {.src = {"abs/outside/secret"}, .to = "/x"};
	struct step stage = {.src = {"/../../outside/secret"}, .to = "/x", .from_stage = true};
	struct rlist l;
	char target[4096];

	at(f, f->dir, "outside", target, sizeof(target));
	assert_int_equal(symlinkat("../outside", f->ctx_fd, "out"), 0);
	assert_int_equal(symlinkat(f->dir, f->ctx_fd, "abs"), 0);
	expect_error(f, &rel, OCB_ENOTFOUND, "copy source 'out/secret' not found");
	expect_error(f, &abs, OCB_ENOTFOUND, "not found");
	expect_error(f, &stage, OCB_ENOTFOUND, "not found in stage 'build'");
	/* Inside the root the same link works: ctx/outside/secret. */
	mkd(f, f->ctx, "outside");
	put(f, "outside/secret", "inner");
	run_step(f, &rel, &l);
	assert_string_equal(names(&l), "x");
	assert_string_equal(l.v[0].data, "inner");
	(void)target;
}

static void test_symlinks_copied_as_links(void **state)
{
	struct fixture *f = *state;
	struct step link = {.src = {"passwd-link"}, .to = "/etc/"};
	struct step dir = {.src = {"d"}, .to = "/app/"};
	struct rlist l;

	assert_int_equal(symlinkat("/etc/passwd", f->ctx_fd, "passwd-link"), 0);
	mkd(f, f->ctx, "d");
	assert_int_equal(symlinkat("../../outside/secret", f->ctx_fd, "d/escape"), 0);
	put(f, "d/file", "f");
	run_step(f, &link, &l);
	assert_string_equal(names(&l), "etc/ etc/passwd-link");
	assert_int_equal(l.v[1].type, AE_IFLNK);
	assert_string_equal(l.v[1].link, "/etc/passwd");
	run_step(f, &dir, &l);
	assert_string_equal(names(&l), "app/ app/escape app/file");
	assert_int_equal(find(&l, "app/escape")->type, AE_IFLNK);
	assert_string_equal(find(&l, "app/escape")->link, "../../outside/secret");
}

static void test_ignore_and_exclude(void **state)
{
	struct fixture *f = *state;
	struct step all = {.src = {"."}, .to = "/app/"};
	struct step ignored = {.src = {"debug.log"}, .to = "/app/"};
	struct step ex = {.src = {"src", "keep.log"}, .to = "/app/", .exclude = {"*.tmp", "gen", "#hash"}};
	struct rlist l;

	put(f, "debug.log", "d");
	put(f, "keep.log", "k");
	mkd(f, f->ctx, "build");
	put(f, "build/out", "o");
	put(f, "build/important", "i");
	mkd(f, f->ctx, "src");
	put(f, "src/main.c", "m");
	put(f, "src/x.tmp", "t");
	put(f, "src/#hash", "h");
	mkd(f, f->ctx, "src/gen");
	put(f, "src/gen/g.c", "g");
	mkd(f, f->ctx, "other");
	put(f, "other/x", "x");
	set_ignore(f, "*.log\n!keep.log\nbuild\n!build/important\nother\n");
	run_step(f, &all, &l);
	assert_string_equal(names(&l),
			    "app/ app/build/ app/build/important app/keep.log app/src/ "
			    "app/src/#hash app/src/gen/ app/src/gen/g.c app/src/main.c app/src/x.tmp");
	expect_error(f, &ignored, OCB_ENOTFOUND, "not found in context 'ctx' (or excluded by .dockerignore)");
	run_step(f, &ex, &l);
	assert_string_equal(names(&l), "app/ app/keep.log app/main.c");
	/* An ignored directory is not reachable through a symlink to it. */
	{
		struct step via = {.src = {"via/x"}, .to = "/y"};
		struct step via_glob = {.src = {"v*/*"}, .to = "/y/"};
		assert_int_equal(symlinkat("other", f->ctx_fd, "via"), 0);
		expect_error(f, &via, OCB_ENOTFOUND, "copy source 'via/x' not found");
		expect_error(f, &via_glob, OCB_ENOTFOUND, "matches nothing");
	}
}

#define PASSWD "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"
#define GROUP  "root:x:0:\nstaff:x:50:app\n"

static void test_chmod_and_owners(void **state)
{
	struct fixture *f = *state;
	struct step chmod_step = {.src = {"d"}, .to = "/app/", .chmod = 0640};
	struct step stage = {.src = {"/d"}, .to = "/app/", .from_stage = true};
	struct step number = {.src = {"d/f"}, .to = "/f", .chown = "1234"};
	struct step pair = {.src = {"d/f"}, .to = "/f", .chown = "5:6"};
	struct step name = {.src = {"d/f"}, .to = "/f", .chown = "app"};
	struct step name_group = {.src = {"d/f"}, .to = "/x/f", .chown = "app:staff"};
	struct step unknown = {.src = {"d/f"}, .to = "/f", .chown = "nobody"};
	struct rlist l;
	char p[4096];

	mkd(f, f->ctx, "d");
	put(f, "d/f", "data");
	assert_int_equal(symlinkat("f", f->ctx_fd, "d/l"), 0);
	at(f, f->ctx, "d/f", p, sizeof(p));
	assert_int_equal(chown(p, 42, 43), 0);
	run_step(f, &chmod_step, &l);
	assert_int_equal(find(&l, "app/f")->mode, 0640);
	assert_int_equal(find(&l, "app/f")->uid, 0);
	assert_int_equal(find(&l, "app/l")->mode, 0777);
	run_step(f, &stage, &l); /* from a stage: owners kept */
	assert_int_equal(find(&l, "app/f")->uid, 42);
	assert_int_equal(find(&l, "app/f")->gid, 43);
	assert_int_equal(find(&l, "app/f")->mode, 0644);
	run_step(f, &number, &l);
	assert_int_equal(find(&l, "f")->uid, 1234);
	assert_int_equal(find(&l, "f")->gid, 1234);
	run_step(f, &pair, &l);
	assert_int_equal(find(&l, "f")->uid, 5);
	assert_int_equal(find(&l, "f")->gid, 6);
	mkd(f, f->dest, "etc");
	at(f, f->dest, "etc/passwd", p, sizeof(p));
	testutil_write_file(p, PASSWD, strlen(PASSWD));
	at(f, f->dest, "etc/group", p, sizeof(p));
	testutil_write_file(p, GROUP, strlen(GROUP));
	run_step(f, &name, &l);
	assert_int_equal(find(&l, "f")->uid, 1000);
	assert_int_equal(find(&l, "f")->gid, 1001);
	run_step(f, &name_group, &l);
	assert_int_equal(find(&l, "x/")->uid, 0); /* created parents stay root's */
	assert_int_equal(find(&l, "x/f")->uid, 1000);
	assert_int_equal(find(&l, "x/f")->gid, 50);
	expect_error(f, &unknown, OCB_ENOTFOUND, "recipe.toml:10:3: copy 'chown': user 'nobody' not found");
}

static void test_hardlinks_stay_hardlinks(void **state)
{
	struct fixture *f = *state;
	struct step s = {.src = {"d"}, .to = "/app/"};
	struct rlist l;
	char p[4096], q[4096];

	mkd(f, f->ctx, "d");
	put(f, "d/a", "same");
	at(f, f->ctx, "d/a", p, sizeof(p));
	at(f, f->ctx, "d/b", q, sizeof(q));
	assert_int_equal(link(p, q), 0);
	run_step(f, &s, &l);
	assert_string_equal(names(&l), "app/ app/a app/b");
	assert_false(l.v[1].hardlink);
	assert_true(l.v[2].hardlink);
	assert_string_equal(l.v[2].link, "app/a");
}

/* The destination is resolved through its own symlinks, inside it. */
static void test_destination_symlinks(void **state)
{
	struct fixture *f = *state;
	struct step s = {.src = {"a"}, .to = "/var/run/a"};
	struct step esc = {.src = {"a"}, .to = "/up/a"};
	struct rlist l;

	put(f, "a", "a");
	mkd(f, f->dest, "var");
	mkd(f, f->dest, "run");
	assert_int_equal(symlinkat("/run", f->dest_fd, "var/run"), 0);
	assert_int_equal(symlinkat("../../..", f->dest_fd, "up"), 0);
	run_step(f, &s, &l);
	assert_string_equal(names(&l), "run/ run/a");
	run_step(f, &esc, &l);
	assert_string_equal(names(&l), "a");
}

/* From a stage: absolute sources, ".." stops at the root; the later source
 * wins; an existing symlink named by `to` is replaced, not followed. */
static void test_stage_paths_and_overrides(void **state)
{
	struct fixture *f = *state;
	struct step stage = {.src = {"/../../a/../a/f"}, .to = "/f", .from_stage = true};
	struct step later = {.src = {"a", "b"}, .to = "/m/"};
	struct step replace = {.src = {"a/f"}, .to = "/etc/localtime"};
	struct step root = {.src = {"."}, .to = "/"};
	struct rlist l;

	mkd(f, f->ctx, "a");
	mkd(f, f->ctx, "b");
	put(f, "a/f", "from a");
	put(f, "b/f", "from b");
	put(f, "a/only", "a");
	run_step(f, &stage, &l);
	assert_string_equal(names(&l), "f");
	assert_string_equal(l.v[0].data, "from a");
	run_step(f, &later, &l);
	assert_string_equal(names(&l), "m/ m/f m/only");
	assert_string_equal(find(&l, "m/f")->data, "from b");
	mkd(f, f->dest, "etc");
	mkd(f, f->dest, "zone");
	assert_int_equal(symlinkat("/zone/UTC", f->dest_fd, "etc/localtime"), 0);
	run_step(f, &replace, &l);
	assert_string_equal(names(&l), "etc/ etc/localtime");
	assert_int_equal(find(&l, "etc/localtime")->type, AE_IFREG);
	run_step(f, &root, &l);
	assert_string_equal(names(&l), "a/ a/f a/only b/ b/f");
	/* A stage source with a trailing '/' follows a final symlink. */
	{
		struct step slash = {.src = {"/lnk/"}, .to = "/s/", .from_stage = true};
		struct step plain = {.src = {"/lnk"}, .to = "/s/", .from_stage = true};
		struct step loop = {.src = {"loop/x"}, .to = "/s/"};
		assert_int_equal(symlinkat("a", f->ctx_fd, "lnk"), 0);
		assert_int_equal(symlinkat("loop", f->ctx_fd, "loop"), 0);
		run_step(f, &slash, &l);
		assert_string_equal(names(&l), "s/ s/f s/only");
		run_step(f, &plain, &l);
		assert_string_equal(names(&l), "s/ s/lnk");
		expect_error(f, &loop, OCB_EINVAL, "too many symlinks");
	}
	put(f, "b/.wh.f", "would be a whiteout");
	expect_error(f, &root, OCB_EINVAL,
		     "recipe.toml:1:5: copy source: cannot copy 'b/.wh.f': names starting");
}

/* The layer applies with ocb's own extractor: contents, owners, modes,
 * links as planned. */
static void test_layer_extracts(void **state)
{
	struct fixture *f = *state;
	struct step s = {.src = {"d", "top.txt"}, .to = "/opt/app/", .chown = "321:654", .chmod = 0750};
	struct rlist l;
	struct stat a, b, lk, dir, parent;
	char p[4096], q[4096], buf[16] = {0};
	int root, fd;

	mkd(f, f->ctx, "d");
	put(f, "d/a", "same");
	put(f, "top.txt", "top");
	at(f, f->ctx, "d/a", p, sizeof(p));
	at(f, f->ctx, "d/b", q, sizeof(q));
	assert_int_equal(link(p, q), 0);
	assert_int_equal(symlinkat("a", f->ctx_fd, "d/l"), 0);
	run_step(f, &s, &l);
	at(f, f->dir, "rootfs", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	root = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	assert_ok(oci_extract_layer_blob(root, &f->bs, &last_layer.digest, OCI_COMPRESSION_AUTO,
					 &last_layer.diff_id, NULL, NULL, &test_err));
	assert_int_equal(fstatat(root, "opt/app/a", &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fstatat(root, "opt/app/b", &b, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fstatat(root, "opt/app/l", &lk, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fstatat(root, "opt/app", &dir, 0), 0);
	assert_int_equal(fstatat(root, "opt", &parent, 0), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_mode & 07777, 0750);
	assert_int_equal(a.st_uid, 321);
	assert_int_equal(a.st_gid, 654);
	assert_true(S_ISLNK(lk.st_mode));
	assert_int_equal(lk.st_uid, 321);
	/* The directory source d made opt/app (with chmod and chown); opt is a
	 * created parent: root's, 0755. */
	assert_int_equal(dir.st_mode & 07777, 0750);
	assert_int_equal(dir.st_uid, 321);
	assert_int_equal(parent.st_mode & 07777, 0755);
	assert_int_equal(parent.st_uid, 0);
	fd = openat(root, "opt/app/top.txt", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 3);
	assert_string_equal(buf, "top");
	close(fd);
	close(root);
}

static void digest_of(struct fixture *f, const struct step *s, struct copy_digest_cache *c,
		      struct oci_digest *d)
{
	struct copy_plan *p = NULL;

	assert_ok(plan_step(f, s, &p, &test_err));
	assert_ok(copy_plan_digest(p, c, d, &test_err));
	copy_plan_free(p);
}

static void test_digest(void **state)
{
	struct fixture *f = *state;
	struct step s = {.src = {"d"}, .to = "/app/"};
	struct step chmod_step = {.src = {"d"}, .to = "/app/", .chmod = 0600};
	struct step chown_step = {.src = {"d"}, .to = "/app/", .chown = "7"};
	struct step renamed = {.src = {"d"}, .to = "/srv/"};
	struct oci_digest d0, d1, d2;
	struct copy_digest_cache *cache = NULL;
	struct timespec ts[2] = {{1000, 0}, {1000, 0}};
	char p[4096];

	mkd(f, f->ctx, "d");
	put(f, "d/a", "content");
	assert_int_equal(symlinkat("a", f->ctx_fd, "d/l"), 0);
	assert_ok(copy_digest_cache_new(&cache, &test_err));
	digest_of(f, &s, cache, &d0);
	digest_of(f, &s, NULL, &d1);
	assert_string_equal(d0.str, d1.str);
	assert_int_equal(utimensat(f->ctx_fd, "d/a", ts, 0), 0); /* mtime only */
	digest_of(f, &s, cache, &d1);
	assert_string_equal(d0.str, d1.str);
	put(f, "d/a", "Content"); /* same size, other bytes */
	digest_of(f, &s, cache, &d1);
	assert_string_not_equal(d0.str, d1.str);
	digest_of(f, &chmod_step, cache, &d2);
	assert_string_not_equal(d1.str, d2.str);
	digest_of(f, &chown_step, cache, &d2);
	assert_string_not_equal(d1.str, d2.str);
	digest_of(f, &renamed, cache, &d2);
	assert_string_not_equal(d1.str, d2.str);
	at(f, f->ctx, "d/a", p, sizeof(p));
	assert_int_equal(chmod(p, 0755), 0);
	digest_of(f, &s, cache, &d2);
	assert_string_not_equal(d1.str, d2.str);
	/* An xattr the layer keeps changes the digest (when the fs takes them). */
	if (setxattr(p, "user.ocb-test", "1", 1, 0) == 0) {
		digest_of(f, &s, cache, &d0);
		assert_string_not_equal(d0.str, d2.str);
		assert_int_equal(removexattr(p, "user.ocb-test"), 0);
		digest_of(f, &s, cache, &d0);
		assert_string_equal(d0.str, d2.str);
		/* More names than the first listing buffer holds. */
		for (int i = 0; i < 40; i++) {
			char name[64];
			snprintf(name, sizeof(name), "user.a-rather-long-attribute-name-number-%02d", i);
			assert_int_equal(setxattr(p, name, "v", 1, 0), 0);
		}
		digest_of(f, &s, cache, &d0);
		assert_string_not_equal(d0.str, d2.str);
		digest_of(f, &s, NULL, &d1);
		assert_string_equal(d0.str, d1.str);
	}
	assert_int_equal(unlinkat(f->ctx_fd, "d/l", 0), 0);
	assert_int_equal(symlinkat("b", f->ctx_fd, "d/l"), 0);
	digest_of(f, &s, cache, &d1);
	assert_string_not_equal(d1.str, d2.str);
	copy_digest_cache_free(cache);
}

static void test_glob_matcher(void **state)
{
	static const struct {
		const char *pat, *name;
		bool match;
	} cases[] = {
	    {"*", "abc", true},
	    {"*", "", true},
	    {"a*c", "abbbc", true},
	    {"a*c", "abd", false},
	    {"?", "é", true},
	    {"??", "é", false},
	    {"[a-c]x", "bx", true},
	    {"[^a-c]x", "bx", false},
	    {"[^a-c]x", "dx", true},
	    {"\\*", "*", true},
	    {"\\*", "a", false},
	    {"*.txt", ".txt", true},
	    {"a*b*c*d", "aXbYcZd", true},
	    {"a*b*c*d", "aXbYcZ", false},
	    {"[\\]]", "]", true},
	    {"*x", "xxxx", true},
	};
	struct ocb_error err = OCB_ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (copy_glob_match(cases[i].pat, cases[i].name) != cases[i].match)
			fail_msg("'%s' vs '%s': expected %d", cases[i].pat, cases[i].name, cases[i].match);
	assert_int_equal(copy_glob_check("[a", &err), -1);
	assert_int_equal(copy_glob_check("a\\", &err), -1);
	assert_int_equal(copy_glob_check("[]", &err), -1);
	assert_int_equal(copy_glob_check("[-a]", &err), -1);
	assert_int_equal(copy_glob_check("[a-]", &err), -1);
	assert_int_equal(copy_glob_check("a[b-c]*?", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_file_to_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_into_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dir_contents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_glob_and_several, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinked_component_stays_inside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks_copied_as_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore_and_exclude, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chmod_and_owners, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hardlinks_stay_hardlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destination_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stage_paths_and_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layer_extracts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
	    cmocka_unit_test(test_glob_matcher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
