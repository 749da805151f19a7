/* A static helper that test_sandbox_seccomp.c copies into the sandbox's
 * rootfs: for each check named on the command line it makes one system call
 * in a child process and prints "NAME=ok", "NAME=EPERM", "NAME=ENOSYS",
 * "NAME=errno N" or "NAME=signal N".  Busybox has no unshare, keyctl or
 * io_uring, and no way to make a 32-bit call from a 64-bit binary. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/banned.h"

#define X32_BIT		 0x40000000L
#define I386_PERSONALITY 136 /* arch/x86/entry/syscalls/syscall_32.tbl */
#define I386_SOCKETCALL	 102
#define I386_SOCKET	 359
#define SYS_SOCKET_CALL	 1 /* socketcall's number for socket() */

/* A personality Docker refuses: harmless for the probe's child. */
#define ODD_PERSONA ADDR_NO_RANDOMIZE

#if defined(__x86_64__)
/* The i386 ABI from a 64-bit process: the kernel (and seccomp) sees
 * AUDIT_ARCH_I386 and the 32-bit syscall numbers, as for a -m32 binary. */
static long i386_syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return (int)ret < 0 && (int)ret > -4096 ? (errno = -(int)ret, -1) : ret;
}

/* socketcall(SYS_SOCKET, {family, SOCK_STREAM, 0}) as a 32-bit glibc makes
 * it: the arguments in memory, at an address the i386 ABI can pass. */
static long i386_socketcall(int family)
{
	unsigned int *args =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (args == MAP_FAILED)
		return -1;
	args[0] = (unsigned int)family;
	args[1] = SOCK_STREAM;
	args[2] = 0;
	return i386_syscall3(I386_SOCKETCALL, SYS_SOCKET_CALL, (long)(unsigned long)args, 0);
}
#endif

/* The check's system call: >= 0 is success, -1 with errno otherwise. */
static long run_check(const char *name)
{
	if (!strcmp(name, "personality"))
		return personality(PER_LINUX | ODD_PERSONA);
	if (!strcmp(name, "persona_query"))
		return personality(0xffffffff);
	if (!strcmp(name, "persona_linux32"))
		return personality(PER_LINUX32);
	if (!strcmp(name, "clone3"))
		return syscall(SYS_clone3, NULL, 0);
	if (!strcmp(name, "fork")) {
		long p = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (p == 0)
			_exit(0);
		return p;
	}
	if (!strcmp(name, "clone_newuser")) {
		long p = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (p == 0)
			_exit(0);
		return p;
	}
	if (!strcmp(name, "unshare_newuser"))
		return unshare(CLONE_NEWUSER);
	if (!strcmp(name, "unshare_newns"))
		return unshare(CLONE_NEWNS);
	if (!strcmp(name, "setns"))
		return setns(0, 0);
	if (!strcmp(name, "mount"))
		return mount("none", "/nonexistent-ocb-probe", "tmpfs", 0, NULL); /* harmless anywhere */
	if (!strcmp(name, "keyctl"))
		return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
	if (!strcmp(name, "bpf"))
		return syscall(SYS_bpf, -1, NULL, 0);
	if (!strcmp(name, "io_uring"))
		return syscall(SYS_io_uring_setup, 1, NULL);
	if (!strcmp(name, "ptrace"))
		return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	if (!strcmp(name, "vsock"))
		return socket(AF_VSOCK, SOCK_STREAM, 0);
	if (!strcmp(name, "unix_socket"))
		return socket(AF_UNIX, SOCK_STREAM, 0);
#if defined(__x86_64__)
	if (!strcmp(name, "i386_personality"))
		return i386_syscall3(I386_PERSONALITY, PER_LINUX | ODD_PERSONA, 0, 0);
	if (!strcmp(name, "i386_socket_unix"))
		return i386_syscall3(I386_SOCKET, AF_UNIX, SOCK_STREAM, 0);
	if (!strcmp(name, "i386_socketcall_unix"))
		return i386_socketcall(AF_UNIX);
	if (!strcmp(name, "x32_vsock"))
		return syscall(X32_BIT | SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
	if (!strcmp(name, "x32_personality"))
		return syscall(X32_BIT | SYS_personality, PER_LINUX | ODD_PERSONA);
#endif
	errno = EINVAL;
	return -2;
}

static void report(const char *name, int status)
{
	if (WIFSIGNALED(status))
		printf("%s=signal %d\n", name, WTERMSIG(status));
	else if (WEXITSTATUS(status) == 0)
		printf("%s=ok\n", name);
	else if (WEXITSTATUS(status) == EPERM)
		printf("%s=EPERM\n", name);
	else if (WEXITSTATUS(status) == ENOSYS)
		printf("%s=ENOSYS\n", name);
	else if (WEXITSTATUS(status) == 255)
		printf("%s=unknown check\n", name);
	else
		printf("%s=errno %d\n", name, WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			long r = run_check(argv[i]);

			_exit(r == -2 ? 255 : r < 0 ? (errno & 0xff) : 0);
		}
		if (waitpid(pid, &status, 0) < 0)
			return 1;
		report(argv[i], status);
	}
	return 0;
}
