/* The sandbox against a hostile rootfs and a hostile step: device nodes and
 * magic links must not give the step (or the image) a way out onto the host.
 * Needs root, as `make check` runs here. */
#include <dirent.h>
#include <errno.h>
#include <sys/sysmacros.h>

#include "sandbox_fixture.h"
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

static void add_applet(struct sbx *s, const char *name)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/bin/%s", s->lower, name);
	assert_int_equal(symlink("busybox", p), 0);
}

/* Docker keeps CAP_MKNOD and relies on the device cgroup; the sandbox has no
 * device cgroup, so no mount the step can write to (nor the image's own
 * content) may honour device nodes: otherwise `mknod /tmp/sda b 8 0` is the
 * host's disk.  The bind-mounted /dev nodes keep working. */
static void test_device_nodes_do_not_open(void **state)
{
	struct sbx *s = *state;
	struct sandbox_mount m = {SANDBOX_MOUNT_CACHE, NULL, "/cache"};
	struct sandbox_config cfg;
	char p[4096], cache[4096];

	add_applet(s, "mknod");
	/* A node that came with the image (1:3 is /dev/null: harmless if
	 * the test fails). */
	sbx_path(p, sizeof(p), s->lower, "imgnode");
	assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
	sbx_path(cache, sizeof(cache), s->dir, "cache");
	sbx_mkdir(s->dir, "cache", 0755);
	m.source = cache;
	cfg = sbx_config(s, "for f in /imgnode /tmp/n /dev/n /cache/n; do "
			    "test -e $f || mknod $f c 1 3 || echo mknod-failed; "
			    "if echo x 2>/dev/null >$f; then echo open:$f; else echo denied:$f; fi; done; "
			    "echo x >/dev/null && echo null-ok");
	cfg.mounts = &m;
	cfg.n_mounts = 1;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out,
			    "denied:/imgnode\ndenied:/tmp/n\ndenied:/dev/n\ndenied:/cache/n\nnull-ok\n");
	assert_int_equal(s->res.exit_code, 0);
}

/* Whether name exists directly in dir. */
static bool has_entry(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;

	sbx_path(p, sizeof(p), dir, name);
	return lstat(p, &st) == 0;
}

/* Mount points are made while the sandbox still holds the host's overlay
 * dirs open: an image symlink to /proc/self/fd/N must not lead the sandbox
 * to create a mount point (or mount) in one of them. */
static void test_magic_link_mount_points(void **state)
{
	struct sbx *s = *state;
	struct sandbox_mount m[8];
	char cache[4096], link[64], p[4096], target[64];
	struct sandbox_config cfg;
	int rc;

	sbx_path(cache, sizeof(cache), s->dir, "cache");
	sbx_mkdir(s->dir, "cache", 0755);
	for (int i = 0; i < 8; i++) {
		snprintf(link, sizeof(link), "m%d", i + 3);
		snprintf(target, sizeof(target), "/proc/self/fd/%d", i + 3);
		sbx_path(p, sizeof(p), s->lower, link);
		assert_int_equal(symlink(target, p), 0);
		m[i] = (struct sandbox_mount){SANDBOX_MOUNT_CACHE, cache, NULL};
	}
	m[0].target = "/m3/stub";
	m[1].target = "/m4/stub";
	m[2].target = "/m5/stub";
	m[3].target = "/m6/stub";
	m[4].target = "/m7/stub";
	m[5].target = "/m8/stub";
	m[6].target = "/m9/stub";
	m[7].target = "/m10/stub";
	cfg = sbx_config(s, "true");
	cfg.mounts = m;
	cfg.n_mounts = 8;
	rc = sandbox_run(&cfg, &s->res, &test_err);
	/* Nothing was created in any host directory the sandbox had open. */
	assert_false(has_entry(s->lower, "stub"));
	assert_false(has_entry(s->upper, "stub"));
	assert_false(has_entry(s->work, "stub"));
	assert_false(has_entry(cache, "stub"));
	assert_false(has_entry(s->dir, "stub"));
	/* And the run is refused, naming the symlink it would not follow. */
	assert_int_equal(rc, -1);
	assert_int_equal(test_err.errnum, ELOOP);
}

/* The same through the parent of a file mount point: /etc a magic link. */
static void test_magic_link_file_mount_point(void **state)
{
	struct sbx *s = *state;
	char p[4096], q[4096], target[64];
	struct sandbox_config cfg;

	if (access("/etc/resolv.conf", F_OK) < 0 && access("/etc/hosts", F_OK) < 0)
		skip();
	sbx_path(p, sizeof(p), s->lower, "etc");
	sbx_path(q, sizeof(q), s->lower, "etc.real");
	assert_int_equal(rename(p, q), 0);
	for (int fd = 3; fd < 11; fd++) {
		snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
		assert_int_equal(unlink(p) == 0 || errno == ENOENT, 1);
		assert_int_equal(symlink(target, p), 0);
		cfg = sbx_config(s, "true");
		(void)sandbox_run(&cfg, &s->res, &test_err);
		assert_false(has_entry(s->lower, "resolv.conf"));
		assert_false(has_entry(s->lower, "hosts"));
		assert_false(has_entry(s->upper, "resolv.conf"));
		assert_false(has_entry(s->upper, "hosts"));
		assert_false(has_entry(s->work, "resolv.conf"));
		assert_false(has_entry(s->work, "hosts"));
		sbx_fresh_upper(s);
	}
}

/* /proc, /sys and /dev must be ordinary directories in the image (runc's
 * rule).  A symlink to "/" stacked the fresh proc over the root: invisible
 * at /proc, so the masks and read-only remounts (done by path) missed it,
 * yet reachable as "/.." with /proc/sys writable (core_pattern: the host). */
static void test_system_mount_point_symlinks(void **state)
{
	static const char *const cases[][2] = {
	    {"proc", "/"}, {"proc", "."}, {"proc", "sys"}, {"sys", "/"}, {"dev", "/"}, {"dev", "etc"},
	};
	struct sbx *s = *state;
	struct sandbox_config cfg;
	char p[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbx_path(p, sizeof(p), s->lower, cases[i][0]);
		if (!strcmp(cases[i][0], "dev"))
			assert_int_equal(unlink(p) == 0 || errno == ENOENT, 1);
		assert_int_equal(symlink(cases[i][1], p), 0);
		cfg = sbx_config(s,
				 "echo probe 2>/dev/null >/../sys/kernel/hostname && echo WROTE; "
				 "echo probe 2>/dev/null >/proc/sys/kernel/hostname && echo WROTE; echo ran");
		assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
		assert_null(strstr(s->out, "WROTE"));
		assert_non_null(strstr(test_err.msg, cases[i][0]));
		assert_int_equal(test_err.code, OCB_EUNSAFE);
		assert_int_equal(unlink(p), 0);
		sbx_fresh_upper(s);
	}
	/* Ordinary directories (or none) are fine, and /proc/sys stays read-only. */
	sbx_mkdir(s->lower, "proc", 0555);
	cfg = sbx_config(s, "echo probe 2>/dev/null >/proc/sys/kernel/hostname && echo WROTE; echo ran");
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "ran\n");
}

/* mkdir -p */
static void mkdir_p(const char *path)
{
	char buf[9000];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *c = buf + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		assert_int_equal(mkdir(buf, 0755) == 0 || errno == EEXIST, 1);
		*c = '/';
	}
	assert_int_equal(mkdir(buf, 0755) == 0 || errno == EEXIST, 1);
}

/* Ordinary symlinks in the image resolve inside the new root, however many
 * "..": a workdir, a cache target and resolv.conf aimed at a host directory
 * create nothing there (dangling inside the root, they are refused or, for
 * the optional resolv.conf, skipped). */
static void test_dotdot_symlinks_stay_inside(void **state)
{
	struct sbx *s = *state;
	struct sandbox_mount m = {SANDBOX_MOUNT_CACHE, NULL, "/c/stub"};
	char p[9000], host[4096], target[4200], cache[4096];
	struct sandbox_config cfg;

	sbx_path(host, sizeof(host), s->dir, "host");
	sbx_mkdir(s->dir, "host", 0755);
	sbx_path(cache, sizeof(cache), s->dir, "cache");
	sbx_mkdir(s->dir, "cache", 0755);
	m.source = cache;
	snprintf(target, sizeof(target), "../../../../../../../..%s", host);
	sbx_path(p, sizeof(p), s->lower, "w");
	assert_int_equal(symlink(target, p), 0);
	sbx_path(p, sizeof(p), s->lower, "c");
	assert_int_equal(symlink(host, p), 0);
	snprintf(target, sizeof(target), "../../../../../../../..%s/resolv.conf", host);
	sbx_path(p, sizeof(p), s->lower, "etc/resolv.conf");
	assert_int_equal(symlink(target, p), 0);

	cfg = sbx_config(s, "true");
	cfg.cwd = "/w/sub";
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_non_null(strstr(test_err.msg, "/w/sub"));
	cfg = sbx_config(s, "true");
	cfg.mounts = &m;
	cfg.n_mounts = 1;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_non_null(strstr(test_err.msg, "/c/stub"));
	cfg = sbx_config(s, "test -L /etc/resolv.conf && echo skipped");
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "skipped\n");
	/* Nothing appeared in the host directory. */
	assert_int_equal(access(host, F_OK), 0);
	sbx_path(p, sizeof(p), host, "sub");
	assert_int_equal(access(p, F_OK), -1);
	sbx_path(p, sizeof(p), host, "stub");
	assert_int_equal(access(p, F_OK), -1);
	sbx_path(p, sizeof(p), host, "resolv.conf");
	assert_int_equal(access(p, F_OK), -1);
	/* Once the path exists inside the root, the same symlinks lead there. */
	snprintf(p, sizeof(p), "%s%s", s->lower, host);
	mkdir_p(p);
	cfg = sbx_config(s, "touch made-here && echo ok");
	cfg.cwd = "/w/sub";
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "ok\n");
	snprintf(p, sizeof(p), "%s%s/sub/made-here", s->upper, host);
	assert_int_equal(access(p, F_OK), 0);
	sbx_path(p, sizeof(p), host, "sub");
	assert_int_equal(access(p, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_system_mount_point_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dotdot_symlinks_stay_inside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_device_nodes_do_not_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_magic_link_mount_points, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_magic_link_file_mount_point, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
