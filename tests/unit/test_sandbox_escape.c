/* The sandbox against a hostile rootfs and a hostile step: device nodes and
 * magic links must not give the step (or the image) a way out onto the host.
 * Needs root, as `make check` runs here. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_device_nodes_do_not_open, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
