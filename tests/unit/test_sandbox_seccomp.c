/* The sandbox's default seccomp filter (builder/sandbox_seccomp.c): what it
 * refuses inside a step, what it leaves alone, and seccomp_unconfined.  The
 * system calls are made by tests/unit/seccomp_probe.c, a static binary the
 * Makefile builds next to this test.  Needs root, as `make check` runs here.
 * (test_sandbox.c's arm64 step runs under the filter too.) */
#include <errno.h>
#include <libgen.h>
#include <limits.h>

#include "sandbox_fixture.h"
#include "oci/banned.h"

/* The checks every step gets, and what the filter makes of them. */
#define CHECKS                                                                                               \
	"personality persona_query persona_linux32 clone3 fork clone_newuser unshare_newuser unshare_newns " \
	"setns mount keyctl bpf io_uring ptrace"
#define CONFINED                                                                                             \
	"personality=EPERM\npersona_query=ok\npersona_linux32=ok\nclone3=ENOSYS\nfork=ok\n"                  \
	"clone_newuser=EPERM\nunshare_newuser=EPERM\nunshare_newns=EPERM\nsetns=EPERM\nmount=EPERM\n"        \
	"keyctl=EPERM\nbpf=EPERM\nio_uring=EPERM\nptrace=ok\n"

static int setup(void **state)
{
	struct sbx *s = sbx_new();
	char exe[PATH_MAX], probe[PATH_MAX + 32], dest[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		fail_msg("readlink /proc/self/exe");
	exe[n] = '\0';
	/* built by make next to this test */
	snprintf(probe, sizeof(probe), "%s/seccomp_probe", dirname(exe));
	sbx_path(dest, sizeof(dest), s->lower, "bin/seccomp_probe");
	sbx_copy_file(probe, dest, 0755);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	sbx_free(*state);
	return 0;
}

/* Root in the step: the namespace, keyring, bpf, io_uring, mount calls and
 * odd personalities fail with EPERM, clone3 with ENOSYS (glibc then uses
 * clone); fork, the allowed personalities and ptrace work.  No
 * no_new_privs, so setuid binaries keep their power. */
static void test_default_filter_refuses(void **state)
{
	struct sbx *s = *state;

	sbx_sh(s, "seccomp_probe " CHECKS "; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status");
	assert_string_equal(s->out, CONFINED "NoNewPrivs:\t0\nSeccomp:\t2\n");
	assert_int_equal(s->res.exit_code, 0);
}

/* The same for a user without capabilities (the filter is loaded before the
 * step drops them). */
static void test_filter_applies_to_users(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "seccomp_probe " CHECKS "; grep -E "
						  "'^(NoNewPrivs|Seccomp):' /proc/self/status");

	cfg.user = "app";
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, CONFINED "NoNewPrivs:\t0\nSeccomp:\t2\n");
}

/* seccomp_unconfined: no filter; the calls reach the kernel again (mount
 * gets as far as looking up its missing target). */
static void test_unconfined(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "seccomp_probe personality clone3 mount; grep "
						  "'^Seccomp:' /proc/self/status");

	cfg.seccomp_unconfined = true;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "personality=ok\nclone3=errno 22\nmount=errno 2\nSeccomp:\t0\n");
}

/* The compat ABIs meet the same rules: a 32-bit call (int $0x80, what a
 * -m32 binary does, seen by seccomp as AUDIT_ARCH_I386 with i386 numbers)
 * and an x32 call (the x32 bit on the syscall number).  The i386 part needs
 * a kernel with IA32 emulation: checked unconfined first. */
static void test_compat_abis(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg;

#if !defined(__x86_64__)
	(void)s;
	(void)cfg;
	skip();
#else
	cfg = sbx_config(s, "seccomp_probe i386_personality x32_personality");
	cfg.seccomp_unconfined = true;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	if (strncmp(s->out, "i386_personality=ok\n", 20)) {
		print_message("no IA32 emulation (%s): only x32 checked\n", s->out);
		sbx_sh(s, "seccomp_probe x32_personality");
		assert_string_equal(s->out, "x32_personality=EPERM\n");
		return;
	}
	sbx_sh(s, "seccomp_probe i386_personality x32_personality");
	assert_string_equal(s->out, "i386_personality=EPERM\nx32_personality=EPERM\n");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_filter_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_applies_to_users, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unconfined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compat_abis, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
