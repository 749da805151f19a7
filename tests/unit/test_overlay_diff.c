/* overlay_diff: hand-built upper dirs, then real ones from the sandbox, then
 * the layer written from a diff. */
#include <archive.h>
#include <archive_entry.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include "sandbox_fixture.h"
#include "builder/overlay_diff.h"
#include "oci/layer.h"
#include "oci/banned.h"

static int setup(void **state)
{
	*state = sbx_new();
	return 0;
}

static int teardown(void **state)
{
	sbx_free(*state);
	return 0;
}

static const char *kind_name(enum overlay_change_kind k)
{
	static const char *const names[] = {"file", "dir", "symlink", "hardlink", "whiteout", "opaque"};

	return names[k];
}

/* The diff as "kind path[->link]" lines. */
static char *render(const struct overlay_diff *d)
{
	static char buf[8192];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		const struct overlay_change *c = &d->changes[i];

		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %s%s%s\n", kind_name(c->kind),
					c->path, c->link ? "->" : "", c->link ? c->link : "");
		assert_true(len < sizeof(buf));
	}
	return buf;
}

static void test_hand_built_upper(void **state)
{
	struct sbx *s = *state;
	const char *skip[] = {"proc", "etc/resolv.conf", NULL};
	struct overlay_diff_options opts = {.skip = skip};
	struct overlay_diff d;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char p[4096], q[4096];
	int fd;

	sbx_mkdir(s->upper, "a", 0755);
	sbx_write(s->upper, "a/x", "x");
	sbx_mkdir(s->upper, "etc", 0755);
	sbx_write(s->upper, "etc/resolv.conf", "");
	sbx_write(s->upper, "etc/keep", "k");
	sbx_mkdir(s->upper, "proc", 0755);
	sbx_write(s->upper, "proc/x", "");
	sbx_path(p, sizeof(p), s->upper, "gone");
	assert_int_equal(mknod(p, S_IFCHR | 0, makedev(0, 0)), 0);
	sbx_path(p, sizeof(p), s->upper, "f");
	assert_int_equal(mkfifo(p, 0600), 0);
	sbx_write(s->upper, "h1", "same");
	sbx_path(p, sizeof(p), s->upper, "h1");
	sbx_path(q, sizeof(q), s->upper, "h2");
	assert_int_equal(link(p, q), 0);
	sbx_path(p, sizeof(p), s->upper, "l");
	assert_int_equal(symlink("a/x", p), 0);
	sbx_mkdir(s->upper, "o", 0755);
	sbx_path(p, sizeof(p), s->upper, "o");
	assert_int_equal(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
	sbx_write(s->upper, "o/new", "n");
	sbx_mkdir(s->upper, "a-b", 0755); /* "a-b/" sorts before "a/" */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", s->upper);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);

	assert_ok(overlay_diff_compute(s->upper, &opts, &d, &test_err));
	assert_string_equal(render(&d), "dir a-b\n"
					"dir a\n"
					"file a/x\n"
					"dir etc\n"
					"file etc/keep\n"
					"file f\n"
					"whiteout gone\n"
					"file h1\n"
					"hardlink h2->h1\n"
					"symlink l->a/x\n"
					"dir o\n"
					"opaque o\n"
					"file o/new\n");
	assert_true(S_ISFIFO(d.changes[5].st.st_mode));
	fd = overlay_diff_open(&d, &d.changes[2], &test_err);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, p, 8), 1);
	close(fd);
	assert_int_equal(overlay_diff_open(&d, &d.changes[3], &test_err), -1); /* a dir */
	overlay_diff_release(&d);
}

static void test_redirect_is_refused(void **state)
{
	struct sbx *s = *state;
	struct overlay_diff d;
	char p[4096];

	sbx_mkdir(s->upper, "moved", 0755);
	sbx_path(p, sizeof(p), s->upper, "moved");
	assert_int_equal(setxattr(p, "trusted.overlay.redirect", "/orig", 5, 0), 0);
	assert_int_equal(overlay_diff_compute(s->upper, NULL, &d, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	assert_non_null(strstr(test_err.msg, "redirect"));
}

/* A step in the sandbox that adds, changes, deletes and replaces, with a
 * cache and a secret mounted; the upper dir it leaves, diffed with the
 * sandbox's mount targets skipped. */
static void run_step(struct sbx *s, struct overlay_diff *d)
{
	struct sandbox_mount m[2] = {{SANDBOX_MOUNT_CACHE, NULL, "/root/.cache"},
				     {SANDBOX_MOUNT_SECRET, NULL, "token"}};
	struct sandbox_config cfg = sbx_config(
	    s, "echo new >/new && echo more >>/etc/group && rm /bin/false && rm -rf /data && "
	       "mkdir /data && touch /data/b && echo c >/root/.cache/c && cat /run/secrets/token && "
	       "cat /etc/resolv.conf >/dev/null");
	char cache[4096], secret[4096];
	char **targets = NULL;

	sbx_mkdir(s->lower, "data", 0755);
	sbx_write(s->lower, "data/a", "a");
	sbx_path(cache, sizeof(cache), s->dir, "cache");
	sbx_mkdir(s->dir, "cache", 0755);
	sbx_path(secret, sizeof(secret), s->dir, "secret");
	testutil_write_file(secret, "TOPSECRET", 9);
	m[0].source = cache;
	m[1].source = secret;
	cfg.mounts = m;
	cfg.n_mounts = 2;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_int_equal(s->res.exit_code, 0);
	assert_string_equal(s->out, "TOPSECRET");
	assert_ok(sandbox_mount_targets(&cfg, &targets, &test_err));
	assert_ok(overlay_diff_compute(s->upper, &(struct overlay_diff_options){(const char *const *)targets},
				       d, &test_err));
	sandbox_free_strv(targets);
}

static void test_sandbox_step_diff(void **state)
{
	struct sbx *s = *state;
	struct overlay_diff d;

	run_step(s, &d);
	/* No /proc, /dev, /sys, /etc/resolv.conf, /etc/hosts, /run/secrets or
	 * /root/.cache: only what the step did. */
	assert_string_equal(render(&d), "dir bin\n"
					"whiteout bin/false\n"
					"dir data\n"
					"opaque data\n"
					"file data/b\n"
					"dir etc\n"
					"file etc/group\n"
					"file new\n");
	overlay_diff_release(&d);
}

static void test_diff_into_layer(void **state)
{
	struct sbx *s = *state;
	struct oci_layer_options lo = {.compression = OCI_COMPRESSION_NONE};
	struct oci_layer_writer *w = NULL;
	struct oci_layer_desc desc;
	struct oci_blobstore bs;
	struct overlay_diff d;
	struct archive *a;
	struct archive_entry *e;
	char store[4096], names[2048] = "", *blob = NULL;
	size_t len = 0;
	uint64_t size;
	int fd;

	run_step(s, &d);
	sbx_path(store, sizeof(store), s->dir, "store");
	assert_ok(oci_blobstore_open(&bs, store, true, &test_err));
	assert_ok(oci_layer_writer_new(&w, &bs, &lo, &test_err));
	assert_ok(overlay_diff_write_layer(&d, w, &test_err));
	assert_ok(oci_layer_writer_commit(w, &desc, &test_err));
	overlay_diff_release(&d);

	assert_ok(oci_blobstore_open_blob(&bs, &desc.digest, &fd, &size, &test_err));
	a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s\n", archive_entry_pathname(e));
	archive_read_free(a);
	close(fd);
	assert_string_equal(names, "bin/\n"
				   "bin/.wh.false\n"
				   "data/\n"
				   "data/.wh..wh..opq\n"
				   "data/b\n"
				   "etc/\n"
				   "etc/group\n"
				   "new\n");
	/* The secret's bytes are in no blob. */
	assert_ok(oci_blobstore_read(&bs, &desc.digest, 1 << 20, &blob, &len, &test_err));
	assert_null(memmem(blob, len, "TOPSECRET", 9));
	free(blob);
	oci_blobstore_release(&bs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hand_built_upper, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redirect_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sandbox_step_diff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diff_into_layer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
