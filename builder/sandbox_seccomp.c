/* The step's default seccomp filter (docs/security.md, "System calls").
 *
 * A deny-list modelled on Docker's default profile: the system calls Docker
 * refuses to a container without CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_TIME
 * and friends fail with EPERM (clone3 with ENOSYS, so that glibc falls back
 * to clone, whose flags the filter can see).  Everything else is allowed,
 * which keeps qemu-user (binfmt: the filter sees the host syscalls qemu makes
 * for an arm64 step) and whatever a build runs working.
 *
 * libseccomp allocates, so the parent compiles the filter to classic BPF
 * (sandbox_seccomp_build) and the step's process only hands that program to
 * the kernel (sandbox_seccomp_load), an async-signal-safe raw syscall. */
#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "builder/sandbox_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

OCB_DEFINE_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release)

/* Refused outright.  Names libseccomp does not know, or that an
 * architecture lacks (vm86 on x86_64), are skipped for it. */
static const char *const denied[] = {
    /* kernel modules, kexec, the machine */
    "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "syslog", "vhangup",
    "sethostname", "setdomainname", "iopl", "ioperm",
    /* the keyring is not namespaced */
    "add_key", "keyctl", "request_key",
    /* kernel attack surface Docker keeps out of containers */
    "bpf", "perf_event_open", "userfaultfd", "fanotify_init", "lookup_dcookie", "open_by_handle_at",
    "quotactl", "quotactl_fd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    /* clocks: the host's */
    "settimeofday", "stime", "clock_settime", "clock_settime64",
    /* other namespaces and mounts */
    "setns", "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
    "move_mount", "open_tree", "mount_setattr",
    /* other processes (CAP_SYS_PTRACE in Docker's profile) */
    "kcmp", "pidfd_getfd", "process_madvise",
    /* obsolete */
    "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "vm86", "vm86old"};

/* ptrace and process_vm_* could bypass seccomp before Linux 4.8; Docker
 * allows them from 4.8 on, so do we. */
static const char *const denied_before_4_8[] = {"ptrace", "process_vm_readv", "process_vm_writev"};

/* Docker's clone mask: a new namespace of any kind.  CLONE_NEWTIME last:
 * it is no clone() flag (those bits are the exit signal there), only an
 * unshare() one. */
static const unsigned long ns_flags[] = {CLONE_NEWNS,	CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
					 CLONE_NEWUSER, CLONE_NEWPID,	 CLONE_NEWNET, CLONE_NEWTIME};

/* personality() values Docker allows: PER_LINUX, PER_LINUX32, UNAME26,
 * UNAME26|PER_LINUX32 and 0xffffffff (query). */
#define PERSONA_OK_BITS 0x20008u

static int rule_fail(struct ocb_error *err, int rc, const char *name)
{
	return ocb_error_set(err, OCB_EFAIL, -rc, "seccomp rule for '%s'", name);
}

/* Refuse `name` with errnum (nothing when this libseccomp predates it). */
static int deny(scmp_filter_ctx ctx, const char *name, int errnum, struct ocb_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR)
		return 0;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(errnum), nr, 0);
	return rc < 0 ? rule_fail(err, rc, name) : 0;
}

/* The kernel's major.minor is at least maj.min (unknown: assume old). */
static bool kernel_at_least(int maj, int min)
{
	struct utsname u;
	char *end;
	long a, b = 0;

	if (uname(&u) < 0)
		return false;
	a = strtol(u.release, &end, 10);
	if (*end == '.')
		b = strtol(end + 1, NULL, 10);
	return a > maj || (a == maj && b >= min);
}

/* Deny `name` when argument `arg` has any of the namespace flags: one rule
 * per flag, since libseccomp tests (arg & mask) == value, not != 0. */
static int deny_ns_flags(scmp_filter_ctx ctx, const char *name, unsigned int arg, size_t n_flags,
			 struct ocb_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);

	for (size_t i = 0; i < n_flags; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
					  SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));

		if (rc < 0)
			return rule_fail(err, rc, name);
	}
	return 0;
}

static int deny_namespaces(scmp_filter_ctx ctx, struct ocb_error *err)
{
	size_t n = sizeof(ns_flags) / sizeof(ns_flags[0]);
#if defined(__s390__) || defined(__s390x__)
	unsigned int clone_flags_arg = 1; /* clone(stack, flags, ...) there */
#else
	unsigned int clone_flags_arg = 0;
#endif

	/* clone3 passes its flags in memory, which seccomp cannot read. */
	if (deny(ctx, "clone3", ENOSYS, err) < 0)
		return -1;
	return deny_ns_flags(ctx, "clone", clone_flags_arg, n - 1, err) < 0 ||
		       deny_ns_flags(ctx, "unshare", 0, n, err) < 0
		   ? -1
		   : 0;
}

/* Only one comparison per argument and rule, and rules only add up: so
 * refuse a value with bit 31 clear and a bit outside PERSONA_OK_BITS, or
 * with bit 31 set and any other bit clear (everything but the query). */
static int deny_personalities(scmp_filter_ctx ctx, struct ocb_error *err)
{
	const uint64_t top = 1u << 31;

	for (unsigned int bit = 0; bit < 31; bit++) {
		uint64_t b = 1u << bit;
		int rc = 0;

		if (!(b & PERSONA_OK_BITS))
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, top | b, b));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, top | b, top));
		if (rc < 0)
			return rule_fail(err, rc, "personality");
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, struct ocb_error *err)
{
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (deny(ctx, denied[i], EPERM, err) < 0)
			return -1;
	if (!kernel_at_least(4, 8))
		for (size_t i = 0; i < sizeof(denied_before_4_8) / sizeof(denied_before_4_8[0]); i++)
			if (deny(ctx, denied_before_4_8[i], EPERM, err) < 0)
				return -1;
	return deny_namespaces(ctx, err) < 0 || deny_personalities(ctx, err) < 0 ? -1 : 0;
}

/* Does libseccomp keep a rule on socket(2)'s family as one?  On x86, s390
 * and ppc it also turns it into socketcall(SYS_SOCKET, args), whose
 * arguments are in memory: the family test is dropped there and the rule
 * would refuse every socket of a libc that uses socketcall (32-bit glibc). */
static bool socket_is_direct(uint32_t arch)
{
	return arch == SCMP_ARCH_X86_64 || arch == SCMP_ARCH_X32 || arch == SCMP_ARCH_AARCH64 ||
	       arch == SCMP_ARCH_ARM || arch == SCMP_ARCH_RISCV64;
}

/* AF_VSOCK sockets, refused by Docker's profile: inside a VM (Firecracker,
 * many CI runners) they reach the hypervisor's host services, and vsock is
 * kernel attack surface (CVE-2024-50264).  Only where the family can be
 * seen: a 32-bit x86 caller still gets one through socketcall(2), as under
 * Docker. */
static int deny_vsock(scmp_filter_ctx ctx, struct ocb_error *err)
{
	int rc =
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_VSOCK));

	return rc < 0 ? rule_fail(err, rc, "socket") : 0;
}

static int add_arch(scmp_filter_ctx ctx, uint32_t arch, struct ocb_error *err)
{
	int rc = seccomp_arch_add(ctx, arch);

	if (rc < 0 && rc != -EEXIST)
		return ocb_error_set(err, OCB_EFAIL, -rc, "seccomp: add a compat architecture");
	return 0;
}

/* The native ABI plus the compat ones its kernel may run (Docker's table),
 * so that a 32-bit binary (or int $0x80 from a 64-bit one) meets the same
 * rules; any other ABI kills the process.  A rule covers the architectures
 * present when it is added (seccomp_arch_add(3)), so the AF_VSOCK rule goes
 * in before the ones socket_is_direct() refuses are added. */
static int add_arches(scmp_filter_ctx ctx, struct ocb_error *err)
{
	uint32_t native = seccomp_arch_native(), compat[2] = {0, 0};

	switch (native) {
	case SCMP_ARCH_X86_64:
		compat[0] = SCMP_ARCH_X86;
		compat[1] = SCMP_ARCH_X32;
		break;
	case SCMP_ARCH_AARCH64:
		compat[0] = SCMP_ARCH_ARM;
		break;
	case SCMP_ARCH_S390X:
		compat[0] = SCMP_ARCH_S390;
		break;
	default:
		break;
	}
	for (size_t i = 0; i < 2 && compat[i]; i++)
		if (socket_is_direct(compat[i]) && add_arch(ctx, compat[i], err) < 0)
			return -1;
	if (socket_is_direct(native) && deny_vsock(ctx, err) < 0)
		return -1;
	for (size_t i = 0; i < 2 && compat[i]; i++)
		if (!socket_is_direct(compat[i]) && add_arch(ctx, compat[i], err) < 0)
			return -1;
	/* Refused where libseccomp finds no kernel support (or under
	 * valgrind): the default then, SCMP_ACT_KILL, kills the thread. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	return 0;
}

/* Write ctx's BPF program to a memfd and read it back into plan. */
static int export_bpf(scmp_filter_ctx ctx, struct sandbox_plan *plan, struct ocb_error *err)
{
	cleanup_close int fd = memfd_create("ocb-seccomp", MFD_CLOEXEC);
	cleanup_free struct sock_filter *prog = NULL;
	struct stat st;
	int rc;

	if (fd < 0)
		return ocb_error_sys(err, "seccomp: memfd_create");
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0)
		return ocb_error_set(err, OCB_EFAIL, -rc, "seccomp: export the filter");
	if (fstat(fd, &st) < 0)
		return ocb_error_sys(err, "seccomp: fstat");
	if (st.st_size <= 0 || st.st_size % (off_t)sizeof(*prog) ||
	    st.st_size / (off_t)sizeof(*prog) > BPF_MAXINSNS)
		return ocb_error_set(err, OCB_ELIMIT, 0, "seccomp: a filter of %lld bytes",
				     (long long)st.st_size);
	if (!(prog = malloc((size_t)st.st_size)))
		return ocb_error_sys(err, "out of memory");
	if (pread(fd, prog, (size_t)st.st_size, 0) != st.st_size)
		return ocb_error_sys(err, "seccomp: read the filter back");
	plan->seccomp_len = (unsigned short)(st.st_size / (off_t)sizeof(*prog));
	plan->seccomp = steal_pointer(&prog);
	return 0;
}

int sandbox_seccomp_build(struct sandbox_plan *plan, struct ocb_error *err)
{
	__attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx)
		return ocb_error_set(err, OCB_EENV, 0,
				     "seccomp: libseccomp does not support this architecture "
				     "(--security-opt seccomp=unconfined runs without a filter)");
	/* A binary tree of syscall numbers instead of a linear scan: every
	 * syscall of the step runs the filter.  Older libseccomp: linear. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (add_arches(ctx, err) < 0 || add_rules(ctx, err) < 0 || export_bpf(ctx, plan, err) < 0)
		return ocb_error_wrap(err, "build the seccomp filter");
	return 0;
}

int sandbox_seccomp_load(const struct sandbox_plan *plan)
{
	struct sock_fprog prog = {.len = plan->seccomp_len, .filter = plan->seccomp};

	if (!plan->seccomp)
		return 0;
	/* Without no_new_privs (setuid binaries keep working, as under
	 * Docker) the kernel wants CAP_SYS_ADMIN: the caller still has it.
	 * SPEC_ALLOW: no forced speculative-store-bypass mitigation, the
	 * kernel's own default for seccomp since 5.16 (it costs builds a lot
	 * on older kernels); EINVAL from a kernel without the flag: retry. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}
