/* User resolution from a rootfs's /etc/passwd and /etc/group (builder/passwd.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/passwd.h"
#include "oci/banned.h"

struct fx {
	char *dir;
	int fd;
};

static void write_rel(struct fx *f, const char *rel, const char *text)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
	testutil_write_file(p, text, strlen(text));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[4096];

	f->dir = testutil_mkdtemp();
	snprintf(p, sizeof(p), "%s/etc", f->dir);
	mkdir(p, 0755);
	write_rel(f, "etc/passwd",
		  "# comment\n"
		  "root:x:0:0:root:/root:/bin/sh\n"
		  "+nis\n"
		  "broken:x:notanumber:1::/:/bin/sh\n"
		  "app:x:1000:1000:app:/home/app:/bin/sh\n"
		  "nohome:x:1001:1001\n"
		  "svc:x:999:999::/srv:/bin/false"); /* no final newline */
	write_rel(f, "etc/group",
		  "root:x:0:\n"
		  "app:x:1000:\n"
		  "staff:x:50:app,svc\n"
		  "audio:x:29:svc,app\n"
		  "wheel:x:10:root\n");
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->fd);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct passwd_user resolve_ok(struct fx *f, const char *spec)
{
	struct passwd_user u;
	char msg[256];

	if (passwd_resolve(f->fd, spec, &u, msg, sizeof(msg)) < 0)
		fail_msg("resolve '%s': %s", spec, msg);
	return u;
}

static void test_default_is_root(void **state)
{
	struct passwd_user u = resolve_ok(*state, NULL);

	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.home, "/root");
	assert_int_equal(u.n_groups, 1); /* wheel */
	assert_int_equal(u.groups[0], 10);
}

static void test_name_with_supplementary_groups(void **state)
{
	struct passwd_user u = resolve_ok(*state, "app");

	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	assert_string_equal(u.home, "/home/app");
	assert_int_equal(u.n_groups, 2);
	assert_int_equal(u.groups[0], 50);
	assert_int_equal(u.groups[1], 29);
}

static void test_last_line_without_newline(void **state)
{
	struct passwd_user u = resolve_ok(*state, "svc");

	assert_int_equal(u.uid, 999);
	assert_string_equal(u.home, "/srv");
}

static void test_numeric_forms(void **state)
{
	struct passwd_user u = resolve_ok(*state, "1000");

	assert_int_equal(u.gid, 1000); /* from passwd */
	assert_string_equal(u.home, "/home/app");
	u = resolve_ok(*state, "4242");
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.home, "/");
	assert_int_equal(u.n_groups, 0);
	u = resolve_ok(*state, "4242:77");
	assert_int_equal(u.gid, 77);
	u = resolve_ok(*state, "1001");
	assert_string_equal(u.home, "/"); /* entry without a home field */
}

static void test_explicit_group(void **state)
{
	struct passwd_user u = resolve_ok(*state, "app:staff");

	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 50);
	assert_int_equal(u.n_groups, 0); /* explicit group: no supplementary ones (runc) */
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct passwd_user u;
	char msg[256];

	assert_int_equal(passwd_resolve(f->fd, "bob", &u, msg, sizeof(msg)), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(msg, "user 'bob' not found in /etc/passwd");
	assert_int_equal(passwd_resolve(f->fd, "app:nogroup", &u, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "group 'nogroup' not found in /etc/group");
	assert_int_equal(passwd_resolve(f->fd, "broken", &u, msg, sizeof(msg)), -1);
	assert_int_equal(passwd_resolve(f->fd, "app:", &u, msg, sizeof(msg)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(passwd_resolve(f->fd, "4294967295", &u, msg, sizeof(msg)), -1);
	assert_int_equal(errno, ENOENT); /* not an id: looked up as a name */
}

static void test_no_passwd_file(void **state)
{
	struct fx *f = *state;
	struct passwd_user u;
	char p[4096], msg[256];

	snprintf(p, sizeof(p), "%s/etc/passwd", f->dir);
	unlink(p);
	u = resolve_ok(f, "123:45"); /* numeric ids need no passwd entry */
	assert_int_equal(u.uid, 123);
	assert_int_equal(u.gid, 45);
	assert_int_equal(passwd_resolve(f->fd, "app", &u, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "user 'app': the image has no /etc/passwd");
}

/* The image is untrusted: a FIFO as /etc/passwd is an error, not a hang. */
static void test_passwd_not_a_regular_file(void **state)
{
	struct fx *f = *state;
	struct passwd_user u;
	char p[4096], msg[256];

	snprintf(p, sizeof(p), "%s/etc/passwd", f->dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(passwd_resolve(f->fd, "app", &u, msg, sizeof(msg)), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(msg, "/etc/passwd is not a regular file");
}

/* The rootfs is untrusted: an /etc/passwd symlink, absolute or a magic link,
 * resolves inside the root, never to a host file (a leaked home or id). */
static void test_passwd_symlink_stays_in_root(void **state)
{
	struct fx *f = *state;
	static const char line[] = "app:x:4242:4242::/leaked:/bin/sh\n";
	struct passwd_user u = {0};
	char p[4096], host[4096], magic[64], msg[256];
	int hfd;

	snprintf(host, sizeof(host), "%s.host-passwd", f->dir);
	testutil_write_file(host, line, strlen(line));
	snprintf(p, sizeof(p), "%s/etc/passwd", f->dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(host, p), 0);
	assert_int_equal(passwd_resolve(f->fd, "app", &u, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "user 'app': the image has no /etc/passwd");
	/* The same through /proc/self/fd (the sandbox's own /proc). */
	hfd = open(host, O_RDONLY | O_CLOEXEC);
	assert_true(hfd >= 0);
	snprintf(magic, sizeof(magic), "/proc/self/fd/%d", hfd);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(magic, p), 0);
	assert_int_equal(passwd_resolve(f->fd, "app", &u, msg, sizeof(msg)), -1);
	assert_int_not_equal(u.uid, 4242);
	/* An in-root absolute symlink still works. */
	snprintf(p, sizeof(p), "%s/etc/passwd", f->dir);
	assert_int_equal(unlink(p), 0);
	write_rel(f, "etc/passwd.real", "app:x:1000:1000:app:/home/app:/bin/sh\n");
	assert_int_equal(symlink("/etc/passwd.real", p), 0);
	assert_int_equal(resolve_ok(f, "app").uid, 1000);
	close(hfd);
	unlink(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_is_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_with_supplementary_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_line_without_newline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_numeric_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_explicit_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_passwd_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_passwd_not_a_regular_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_passwd_symlink_stays_in_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
