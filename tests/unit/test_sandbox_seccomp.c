/* The sandbox's default seccomp filter (builder/sandbox_seccomp.c): what it
 * refuses inside a step, what it leaves alone, and seccomp_unconfined.  The
 * system calls are made by tests/unit/seccomp_probe.c, a static binary the
 * Makefile builds next to this test.  Needs root, as `make check` runs here.
 * (test_sandbox.c's arm64 step runs under the filter too.) */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/socket.h>

#include "sandbox_fixture.h"
#include "builder/sandbox_impl.h"
#include "oci/banned.h"

/* The checks every step gets, and what the filter makes of them. */
#define CHECKS                                                                                               \
	"personality persona_query persona_linux32 clone3 fork clone_newuser unshare_newuser unshare_newns " \
	"setns mount keyctl bpf io_uring ptrace vsock unix_socket"
#define CONFINED                                                                                             \
	"personality=EPERM\npersona_query=ok\npersona_linux32=ok\nclone3=ENOSYS\nfork=ok\n"                  \
	"clone_newuser=EPERM\nunshare_newuser=EPERM\nunshare_newns=EPERM\nsetns=EPERM\nmount=EPERM\n"        \
	"keyctl=EPERM\nbpf=EPERM\nio_uring=EPERM\nptrace=ok\nvsock=EPERM\nunix_socket=ok\n"

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

/* Root in the step: the namespace, keyring, bpf, io_uring, mount calls,
 * AF_VSOCK sockets (in a VM: the hypervisor's services) and odd
 * personalities fail with EPERM, clone3 with ENOSYS (glibc then uses
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
		sbx_sh(s, "seccomp_probe x32_personality x32_vsock");
		assert_string_equal(s->out, "x32_personality=EPERM\nx32_vsock=EPERM\n");
		return;
	}
	sbx_sh(s, "seccomp_probe i386_personality x32_personality x32_vsock");
	assert_string_equal(s->out, "i386_personality=EPERM\nx32_personality=EPERM\nx32_vsock=EPERM\n");
	/* The AF_VSOCK rule must not leak into i386's socketcall(2), whose
	 * arguments seccomp cannot see (libseccomp turns a rule on socket
	 * into one on socketcall(SYS_SOCKET) there): 32-bit glibc creates
	 * every socket that way.  Neither is the direct i386 socket(2)
	 * refused (a 32-bit caller gets AF_VSOCK through socketcall anyway,
	 * as under Docker). */
	sbx_sh(s, "seccomp_probe i386_socketcall_unix i386_socket_unix");
	assert_string_equal(s->out, "i386_socketcall_unix=ok\ni386_socket_unix=ok\n");
#endif
}

/* What the compiled filter decides for one system call: a classic BPF
 * interpreter for the instructions libseccomp emits, so that every rule can
 * be checked on every ABI without making the (dangerous) calls. */
static uint32_t filter_decides(const struct sandbox_plan *plan, uint32_t arch, int nr, uint64_t a0)
{
	struct seccomp_data d = {.nr = nr, .arch = arch, .args = {a0}};
	uint32_t acc = 0, x = 0, mem[BPF_MEMWORDS] = {0};

	for (unsigned pc = 0; pc < plan->seccomp_len; pc++) {
		const struct sock_filter *i = &plan->seccomp[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(i->k + 4 <= sizeof(d));
			memcpy(&acc, (const char *)&d + i->k, 4);
			break;
		case BPF_LD | BPF_MEM:
			acc = mem[i->k % BPF_MEMWORDS];
			break;
		case BPF_ST:
			mem[i->k % BPF_MEMWORDS] = acc;
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[i->k % BPF_MEMWORDS];
			break;
		case BPF_MISC | BPF_TAX:
			x = acc;
			break;
		case BPF_MISC | BPF_TXA:
			acc = x;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			acc &= i->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += acc == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += acc > i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += acc >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += acc & i->k ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("BPF opcode %#x not interpreted", i->code);
		}
	}
	fail_msg("the filter ran off its end");
	return 0;
}

#define DENY(e) (SECCOMP_RET_ERRNO | (e))

/* The ABIs of an x86_64 host: the audit arch seccomp sees, libseccomp's. */
static const struct {
	uint32_t audit, scmp;
	const char *name;
} abis[] = {
    {AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64, "x86_64"},
    {AUDIT_ARCH_I386, SCMP_ARCH_X86, "i386"},
    {AUDIT_ARCH_X86_64, SCMP_ARCH_X32, "x32"}, /* same audit arch, the x32 bit on nr */
};

/* A call by name on ABI i (skipped where that ABI lacks it). */
static void expect(const struct sandbox_plan *plan, size_t i, const char *name, uint64_t a0, uint32_t want)
{
	int nr = seccomp_syscall_resolve_name_arch(abis[i].scmp, name);
	uint32_t got;

	if (nr < 0)
		return;
	got = filter_decides(plan, abis[i].audit, nr, a0);
	if (got != want)
		fail_msg("%s %s(%#llx): filter returns %#x, expected %#x", abis[i].name, name,
			 (unsigned long long)a0, got, want);
}

/* The list docs/sandbox.md gives, refused on every x86 ABI, x32 numbers
 * (0x40000000 | n, with their own numbers for some calls) included; what
 * Docker allows stays allowed; another ABI is killed. */
static void test_filter_table(void **state)
{
	static const char *const refused[] = {"init_module",
					      "finit_module",
					      "delete_module",
					      "kexec_load",
					      "kexec_file_load",
					      "reboot",
					      "swapon",
					      "swapoff",
					      "acct",
					      "syslog",
					      "vhangup",
					      "sethostname",
					      "setdomainname",
					      "iopl",
					      "ioperm",
					      "add_key",
					      "keyctl",
					      "request_key",
					      "bpf",
					      "perf_event_open",
					      "userfaultfd",
					      "fanotify_init",
					      "io_uring_setup",
					      "io_uring_enter",
					      "io_uring_register",
					      "open_by_handle_at",
					      "lookup_dcookie",
					      "quotactl",
					      "quotactl_fd",
					      "settimeofday",
					      "stime",
					      "clock_settime",
					      "clock_settime64",
					      "setns",
					      "mount",
					      "umount",
					      "umount2",
					      "pivot_root",
					      "fsopen",
					      "fsconfig",
					      "fsmount",
					      "fspick",
					      "open_tree",
					      "move_mount",
					      "mount_setattr",
					      "kcmp",
					      "pidfd_getfd",
					      "process_madvise",
					      "nfsservctl",
					      "uselib",
					      "ustat",
					      "sysfs",
					      "_sysctl",
					      "vm86",
					      "vm86old"};
	static const char *const allowed[] = {
	    "read",  "write",  "openat", "execve", "ioctl", "ptrace", "name_to_handle_at",
	    "mbind", "chroot", "seccomp"};
	struct sandbox_plan plan = {0};

	(void)state;
#if !defined(__x86_64__)
	skip();
#endif
	assert_ok(sandbox_seccomp_build(&plan, &test_err));
	for (size_t i = 0; i < sizeof(abis) / sizeof(abis[0]); i++) {
		for (size_t j = 0; j < sizeof(refused) / sizeof(refused[0]); j++)
			expect(&plan, i, refused[j], 0, DENY(EPERM));
		for (size_t j = 0; j < sizeof(allowed) / sizeof(allowed[0]); j++)
			expect(&plan, i, allowed[j], 0, SECCOMP_RET_ALLOW);
		expect(&plan, i, "clone3", 0, DENY(ENOSYS));
		expect(&plan, i, "clone", SIGCHLD, SECCOMP_RET_ALLOW);
		expect(&plan, i, "clone", CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, SECCOMP_RET_ALLOW);
		expect(&plan, i, "clone", CLONE_NEWUSER | SIGCHLD, DENY(EPERM));
		expect(&plan, i, "clone", CLONE_NEWNET | CLONE_VM, DENY(EPERM));
		/* flags are 32 bits to the kernel: the upper half is ignored */
		expect(&plan, i, "clone", (1ULL << 32) | CLONE_NEWPID, DENY(EPERM));
		expect(&plan, i, "unshare", CLONE_FILES, SECCOMP_RET_ALLOW);
		expect(&plan, i, "unshare", CLONE_NEWUSER, DENY(EPERM));
		expect(&plan, i, "unshare", 0x80 /* CLONE_NEWTIME */, DENY(EPERM));
		expect(&plan, i, "personality", 0x0008 /* PER_LINUX32 */, SECCOMP_RET_ALLOW);
		expect(&plan, i, "personality", 0x20008 /* UNAME26 | PER_LINUX32 */, SECCOMP_RET_ALLOW);
		expect(&plan, i, "personality", 0xffffffff, SECCOMP_RET_ALLOW);
		expect(&plan, i, "personality", 0x0040000 /* ADDR_NO_RANDOMIZE */, DENY(EPERM));
		expect(&plan, i, "personality", 0xfffffffe, DENY(EPERM));
	}
	/* AF_VSOCK: 64-bit and x32 callers; i386's socket is left alone
	 * (its socketcall twin would lose the family test). */
	expect(&plan, 0, "socket", AF_VSOCK, DENY(EPERM));
	expect(&plan, 2, "socket", AF_VSOCK, DENY(EPERM));
	expect(&plan, 0, "socket", AF_INET, SECCOMP_RET_ALLOW);
	assert_int_equal(filter_decides(&plan, AUDIT_ARCH_I386, 102 /* socketcall */, 1 /* SYS_SOCKET */),
			 SECCOMP_RET_ALLOW);
	assert_int_equal(filter_decides(&plan, AUDIT_ARCH_AARCH64, 0, 0), SECCOMP_RET_KILL_PROCESS);
	sandbox_plan_release(&plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_filter_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_applies_to_users, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unconfined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compat_abis, setup, teardown),
	    cmocka_unit_test(test_filter_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
