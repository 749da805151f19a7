/* PID 1 of the sandbox and the step's process.  Both are clone()d from a
 * process that may have threads, so everything here is async-signal-safe:
 * raw syscalls for the credential changes (glibc's setuid() would try to
 * signal the parent's threads) and for forking (glibc's fork() takes malloc
 * locks that another thread may have held at clone time). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builder/sandbox_impl.h"
#include "oci/banned.h"

/* Docker's default capability set for a build step. */
static const int default_caps[] = {
    CAP_CHOWN,	 CAP_DAC_OVERRIDE,     CAP_FOWNER,  CAP_FSETID,	    CAP_KILL,  CAP_SETGID,	CAP_SETUID,
    CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_MKNOD, CAP_AUDIT_WRITE, CAP_SETFCAP,
};

static void close_range_or_loop(unsigned int lo, unsigned int hi)
{
	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	if (hi > 65535)
		hi = 65535;
	for (unsigned int fd = lo; fd <= hi; fd++)
		close((int)fd);
}

/* Close every fd >= 3 that is not in keep[] (which this sorts). */
static void close_fds_keeping(int *keep, size_t n)
{
	unsigned int next = 3;

	for (size_t i = 1; i < n; i++) /* insertion sort: n is small */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)next)
			continue;
		close_range_or_loop(next, (unsigned int)keep[i] - 1);
		next = (unsigned int)keep[i] + 1;
	}
	close_range_or_loop(next, ~0U);
}

void sandbox_close_fds_except(int keep)
{
	int k[1] = {keep};

	close_fds_keeping(k, keep >= 0 ? 1 : 0);
}

static __attribute__((noreturn)) void die(void)
{
	_exit(1);
}

static int loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	int saved = errno;
	close(s);
	errno = saved;
	return rc;
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	unsigned long long keep = 0;

	for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
		keep |= 1ULL << default_caps[i];
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			return -1;
		}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (unsigned int)keep;
	data[1].effective = data[1].permitted = (unsigned int)(keep >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

static const char *env_lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* execvp() with the step's own PATH, without malloc.  Returns the errno to
 * report. */
static int exec_command(char *const *argv, char *const *envp)
{
	const char *file = argv[0], *path;
	char buf[PATH_MAX];
	int saved = ENOENT;
	bool eacces = false;

	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	path = env_lookup(envp, "PATH");
	if (!path)
		path = SANDBOX_DEFAULT_PATH;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		struct sbuf sb;

		sbuf_init(&sb, buf, sizeof(buf));
		if (end == p) {
			sbuf_add(&sb, ".");
		} else {
			char dir[PATH_MAX];
			size_t n = (size_t)(end - p) < sizeof(dir) ? (size_t)(end - p) : sizeof(dir) - 1;

			memcpy(dir, p, n);
			dir[n] = '\0';
			sbuf_add(&sb, dir);
		}
		sbuf_add(&sb, "/");
		sbuf_add(&sb, file);
		if (sbuf_ok(&sb)) {
			execve(buf, argv, envp);
			if (errno == EACCES)
				eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
				 errno != ETIMEDOUT)
				return errno;
		}
		if (!*end)
			break;
		p = end;
	}
	return eacces ? EACCES : saved;
}

/* Make fd >= 3 so dup2() onto 0..2 cannot clobber it. */
static int high_fd(int fd)
{
	int n;

	if (fd < 0 || fd > 2)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return n;
}

static int setup_stdio(int out_fd)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	null_fd = high_fd(null_fd);
	if (null_fd < 0)
		return -1;
	if (out_fd < 0)
		out_fd = null_fd;
	if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		return -1;
	return 0;
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The step's process: seccomp, credentials, cwd, fds, exec. */
static __attribute__((noreturn)) void worker_main(struct sandbox_plan *plan, const struct passwd_user *pu)
{
	int info = high_fd(plan->info_fd), out = high_fd(plan->output_fd);

	reset_signals();
	setsid();
	if (info < 0 || (plan->output_fd >= 0 && out < 0) || setup_stdio(out) < 0)
		die();
	/* The filter goes on last with CAP_SYS_ADMIN (the kernel wants it
	 * without no_new_privs); all that follows (capset, prctl, set*id,
	 * chdir, close_range, execve) is allowed by it. */
	if (sandbox_seccomp_load(plan) < 0) {
		sandbox_fail(info, OCB_EENV, errno,
			     "install the seccomp filter (--security-opt seccomp=unconfined runs without)",
			     SANDBOX_END);
		die();
	}
	if (drop_capabilities() < 0) {
		sandbox_fail(info, OCB_EFAIL, errno, "drop capabilities", SANDBOX_END);
		die();
	}
	if (syscall(SYS_setgroups, pu->n_groups, pu->groups) < 0 ||
	    syscall(SYS_setresgid, pu->gid, pu->gid, pu->gid) < 0 ||
	    syscall(SYS_setresuid, pu->uid, pu->uid, pu->uid) < 0) {
		sandbox_fail(info, OCB_EFAIL, errno, "switch to user '", plan->user ? plan->user : "root",
			     "'", SANDBOX_END);
		die();
	}
	if (chdir(plan->cwd) < 0) {
		sandbox_fail(info, OCB_EBUILD, errno, "workdir '", plan->cwd, "'", SANDBOX_END);
		die();
	}
	umask(022);
	sandbox_close_fds_except(info);
	int e = exec_command(plan->argv, plan->envp);
	sandbox_fail(info, OCB_EBUILD, e, "exec '", plan->argv[0], "'", SANDBOX_END);
	_exit(127);
}

static void fill_env(struct sandbox_plan *plan, const struct passwd_user *pu)
{
	size_t n = plan->n_env;

	if (!plan->env_has_path)
		plan->envp[n++] = (char *)"PATH=" SANDBOX_DEFAULT_PATH;
	if (!plan->env_has_home) {
		struct sbuf sb;

		sbuf_init(&sb, plan->home_entry, sizeof(plan->home_entry));
		sbuf_add(&sb, "HOME=");
		sbuf_add(&sb, pu->home);
		plan->envp[n++] = plan->home_entry;
	}
	plan->envp[n] = NULL;
}

/* Signals init handles: SIGCHLD, and the ones it forwards to the step. */
static const int init_signals[] = {SIGCHLD, SIGTERM, SIGINT,   SIGHUP,	SIGQUIT,
				   SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT};

static void noop_handler(int sig)
{
	(void)sig;
}

/* A PID namespace's init gets no signal whose handler is SIG_DFL, not even
 * SIGCHLD: install handlers, keep the signals blocked and sigwaitinfo()
 * them. */
static void init_signal_set(sigset_t *set)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop_handler;
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(init_signals) / sizeof(init_signals[0]); i++) {
		sigaddset(set, init_signals[i]);
		sigaction(init_signals[i], &sa, NULL);
	}
}

/* Reap everything; forward signals to the step; report its status. */
static __attribute__((noreturn)) void reap_loop(int info_fd, pid_t worker, const sigset_t *set)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(worker, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t p = waitpid(-1, &status, WNOHANG);

			if (p <= 0)
				break;
			if (p == worker) {
				sandbox_send(info_fd, SANDBOX_MSG_STATUS, 0, status, "");
				_exit(0); /* the kernel kills what is left in the namespace */
			}
		}
	}
}

/* Died before PR_SET_PDEATHSIG took effect?  Then nobody reads the pipe. */
static bool parent_gone(int info_fd)
{
	struct pollfd pfd = {.fd = info_fd, .events = POLLOUT};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR);
}

void sandbox_init_main(struct sandbox_plan *plan)
{
	int keep[2];
	size_t n = 0;
	struct passwd_user pu;
	char msg[512];
	sigset_t all, handled;
	pid_t worker;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (parent_gone(plan->info_fd))
		die();
	umask(0);
	/* Drop fds inherited from the rest of ocb (other sandboxes' pipes). */
	keep[n++] = plan->info_fd;
	if (plan->output_fd >= 0)
		keep[n++] = plan->output_fd;
	close_fds_keeping(keep, n);

	if (sandbox_setup_root(plan) < 0)
		die();
	if (sethostname(plan->hostname, strlen(plan->hostname)) < 0) {
		sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "sethostname '", plan->hostname, "'",
			     SANDBOX_END);
		die();
	}
	if (plan->new_net && loopback_up() < 0) {
		sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "bring up the loopback interface", SANDBOX_END);
		die();
	}
	if (passwd_resolve(AT_FDCWD, plan->user, &pu, msg, sizeof(msg)) < 0) {
		sandbox_fail(plan->info_fd, errno == EINVAL || errno == ENOENT ? OCB_EINVAL : OCB_EFAIL,
			     errno == ENOENT || errno == EINVAL ? 0 : errno, msg, SANDBOX_END);
		die();
	}
	fill_env(plan, &pu);
	/* Keep the step (even as root) out of init's /proc entries and fds. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	init_signal_set(&handled);
	worker = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (worker < 0) {
		sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "fork the step", SANDBOX_END);
		die();
	}
	if (worker == 0)
		worker_main(plan, &pu);
	if (plan->output_fd >= 0)
		close(plan->output_fd);
	close(0);
	close(1);
	close(2);
	reap_loop(plan->info_fd, worker, &handled);
}
