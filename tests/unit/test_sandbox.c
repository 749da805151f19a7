/* The sandbox (builder/sandbox.h), end to end over a busybox rootfs.  Needs
 * root, as `make check` runs here. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

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

/* Number of entries in the upper dir (0 = the step changed nothing). */
static int upper_entries(struct sbx *s)
{
	DIR *d = opendir(s->upper);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool upper_has(struct sbx *s, const char *rel)
{
	char p[4096];
	struct stat st;

	sbx_path(p, sizeof(p), s->upper, rel);
	return lstat(p, &st) == 0;
}

static void test_output_and_exit_code(void **state)
{
	struct sbx *s = *state;

	sbx_sh(s, "echo out; echo err >&2; exit 3");
	assert_string_equal(s->out, "out\nerr\n");
	assert_int_equal(s->res.exit_code, 3);
	assert_int_equal(s->res.signal, 0);
}

static void test_killed_by_signal(void **state)
{
	struct sbx *s = *state;

	sbx_sh(s, "kill -9 $$");
	assert_int_equal(s->res.signal, SIGKILL);
	assert_int_equal(s->res.exit_code, 128 + SIGKILL);
}

static void test_noop_step_leaves_upper_empty(void **state)
{
	struct sbx *s = *state;

	/* /proc, /sys, /dev, /etc/resolv.conf, /etc/hosts were all created as
	 * mount points in the upper dir; none may remain. */
	sbx_sh(s, "test -d /proc/self && test -c /dev/null && cat /etc/hosts >/dev/null");
	assert_int_equal(s->res.exit_code, 0);
	if (upper_entries(s) != 0)
		fail_msg("upper dir not empty after a no-op step (proc? %d etc? %d dev? %d)",
			 upper_has(s, "proc"), upper_has(s, "etc"), upper_has(s, "dev"));
}

static void test_pid1_is_init(void **state)
{
	struct sbx *s = *state;
	long max = 0;
	char *p;

	sbx_sh(s, "echo $$; ls /proc | grep '^[0-9]*$'");
	assert_int_equal(s->res.exit_code, 0);
	/* The step is PID 2 (init is 1); /proc holds only the sandbox's pids. */
	assert_true(!strncmp(s->out, "2\n", 2));
	p = s->out + 2;
	assert_true(!strncmp(p, "1\n", 2));
	while (*p) {
		long v = strtol(p, &p, 10);

		if (v > max)
			max = v;
		while (*p == '\n')
			p++;
	}
	assert_true(max <= 5);
}

static void test_hostname(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "hostname");
	char host[256];

	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, SANDBOX_DEFAULT_HOSTNAME "\n");
	cfg = sbx_config(s, "hostname; grep buildbox /etc/hosts");
	cfg.hostname = "buildbox";
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "buildbox\n127.0.0.1\tbuildbox\n");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_not_equal(host, "buildbox");
}

static void test_network_none_has_only_lo(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "ls /sys/class/net; cat /sys/class/net/lo/flags");

	cfg.network = SANDBOX_NET_NONE;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_int_equal(s->res.exit_code, 0);
	/* lo, and its flags with IFF_UP (0x1) and IFF_LOOPBACK (0x8) */
	assert_string_equal(s->out, "lo\n0x9\n");
}

static void test_user_from_rootfs_passwd(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "id -u; id -g; id -G; echo $HOME");

	cfg.user = "app";
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "1000\n1000\n1000 50\n/home/app\n");

	cfg = sbx_config(s, "id -u; id -g; echo $HOME");
	cfg.user = "4321:50";
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "4321\n50\n/\n");
}

static void test_unknown_user_fails(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "true");

	cfg.user = "bob";
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	assert_non_null(strstr(test_err.msg, "user 'bob' not found in /etc/passwd"));
}

static void test_dev(void **state)
{
	struct sbx *s = *state;

	sbx_sh(s, "echo x >/dev/null && test -c /dev/zero && test -c /dev/full && test -d /dev/shm && "
		  "touch /dev/shm/x && test -c /dev/pts/ptmx && test -L /dev/ptmx && test -L /dev/stdout && "
		  "head -c 7 /dev/urandom | wc -c && ls /dev | wc -l");
	assert_int_equal(s->res.exit_code, 0);
	assert_string_equal(s->out, "7\n13\n");
}

static void test_resolv_conf_and_hosts(void **state)
{
	struct sbx *s = *state;
	char want[8192] = {0};
	int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_true(read(fd, want, sizeof(want) - 1) >= 0);
	close(fd);
	sbx_sh(s,
	       "cat /etc/hosts; test -r /etc/resolv.conf && echo ok; { echo x >>/etc/hosts; } 2>/dev/null || "
	       "echo ro; ls -a /dev | grep -c ocb || true");
	assert_int_equal(s->res.exit_code, 0);
	/* The host's hosts file, then the sandbox's own name (and the file
	 * staged in /dev to get there is gone). */
	assert_true(!strncmp(s->out, want, strlen(want)));
	assert_string_equal(s->out + strlen(want), "127.0.0.1\t" SANDBOX_DEFAULT_HOSTNAME "\nok\nro\n0\n");
	assert_false(upper_has(s, "etc/hosts"));
	assert_false(upper_has(s, "etc/resolv.conf"));
}

static void test_odd_mount_points_in_image(void **state)
{
	struct sbx *s = *state;
	struct sandbox_mount m = {SANDBOX_MOUNT_SECRET, "/etc/hosts", "x"};
	struct sandbox_config cfg;
	char p[4096];

	/* resolv.conf a directory, hosts a dangling symlink: both left alone. */
	sbx_mkdir(s->lower, "etc/resolv.conf", 0755);
	sbx_path(p, sizeof(p), s->lower, "etc/hosts");
	assert_int_equal(symlink("/nowhere/hosts", p), 0);
	sbx_sh(s, "test -d /etc/resolv.conf && test -L /etc/hosts && echo fine");
	assert_string_equal(s->out, "fine\n");
	assert_int_equal(upper_entries(s), 0);
	/* A secret whose mount point is a directory in the image is an error. */
	sbx_mkdir(s->lower, "run", 0755);
	sbx_mkdir(s->lower, "run/secrets", 0755);
	sbx_mkdir(s->lower, "run/secrets/x", 0755);
	cfg = sbx_config(s, "true");
	cfg.mounts = &m;
	cfg.n_mounts = 1;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_non_null(strstr(test_err.msg, "/run/secrets/x"));
	assert_int_equal(test_err.errnum, EISDIR);
}

static void test_output_fd_and_null(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "echo to-fd; echo err-to-fd >&2");
	char p[4096], buf[64] = {0};
	int fd;

	sbx_path(p, sizeof(p), s->dir, "log");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	cfg.output = NULL;
	cfg.output_fd = fd;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	close(fd);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "to-fd\nerr-to-fd\n");
	cfg = sbx_config(s, "echo gone; exit 4");
	cfg.output = NULL; /* and no fd: /dev/null */
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_int_equal(s->res.exit_code, 4);
	assert_string_equal(s->out, "");
}

struct thread_arg {
	struct sbx *s;
	int id, failures;
};

static void *thread_steps(void *p)
{
	struct thread_arg *a = p;
	char cmd[64], want[64];

	for (int i = 0; i < 5; i++) {
		struct sandbox_config cfg;
		struct ocb_error e = OCB_ERROR_INIT;

		snprintf(cmd, sizeof(cmd), "echo %d-%d", a->id, i);
		snprintf(want, sizeof(want), "%d-%d\n", a->id, i);
		cfg = sbx_config(a->s, cmd);
		if (sandbox_run(&cfg, &a->s->res, &e) < 0 || strcmp(a->s->out, want))
			a->failures++;
	}
	return NULL;
}

/* The builder runs independent stages at once: sandboxes started from
 * several threads must neither hang on each other's pipes nor mix output. */
static void test_parallel_threads(void **state)
{
	struct thread_arg a[3];
	pthread_t t[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		a[i] = (struct thread_arg){sbx_new(), i, 0};
		assert_int_equal(pthread_create(&t[i], NULL, thread_steps, &a[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].failures, 0);
		sbx_free(a[i].s);
	}
}

/* Root in the step has Docker's default capabilities: no CAP_SYS_ADMIN to
 * undo the sandbox's mounts; the masked /proc files are empty. */
static void test_capabilities_and_masks(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg;

	sbx_sh(s,
	       "grep -E '^Cap(Eff|Bnd)' /proc/self/status; umount /etc/hosts 2>/dev/null || echo no-umount; "
	       "mount -t tmpfs t /tmp 2>/dev/null || echo no-mount; { test -e /proc/timer_list && wc -c "
	       "</proc/timer_list || echo 0; }; "
	       "{ echo 1 >/proc/sys/kernel/domainname; } 2>/dev/null || echo ro-sys");
	assert_string_equal(s->out, "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n"
				    "no-umount\nno-mount\n0\nro-sys\n");
	cfg = sbx_config(s, "grep -E '^Cap(Eff|Prm)' /proc/self/status");
	cfg.user = "app";
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n");
}

/* The chroot fallback (an initramfs root refuses pivot_root): the step sees
 * the image as with pivot_root, but without CAP_SYS_CHROOT, the capability
 * the classic escape (a second chroot, then "..") needs; with pivot_root it
 * keeps Docker's set, chroot included. */
static void test_chroot_fallback_drops_sys_chroot(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg;
	const char *probe = "grep -E '^CapBnd' /proc/self/status; head -n 1 /etc/passwd; "
			    "busybox chroot / /bin/true 2>/dev/null && echo chroot-ok || echo chroot-refused";

	cfg = sbx_config(s, probe);
	cfg.force_chroot = true;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_int_equal(s->res.exit_code, 0);
	assert_string_equal(s->out,
			    "CapBnd:\t00000000a80025fb\nroot:x:0:0:root:/root:/bin/sh\nchroot-refused\n");
	sbx_sh(s, probe);
	assert_string_equal(s->out, "CapBnd:\t00000000a80425fb\nroot:x:0:0:root:/root:/bin/sh\nchroot-ok\n");
}

static void test_cache_mount(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg =
	    sbx_config(s, "echo hit >>/root/.cache/pkg/log && cat /root/.cache/pkg/log");
	struct sandbox_mount m = {SANDBOX_MOUNT_CACHE, NULL, "/root/.cache/pkg"};
	char cache[4096], log[4096];

	sbx_path(cache, sizeof(cache), s->dir, "cache");
	sbx_mkdir(s->dir, "cache", 0755);
	m.source = cache;
	cfg.mounts = &m;
	cfg.n_mounts = 1;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "hit\n");
	s->out_len = 0;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "hit\nhit\n");
	sbx_path(log, sizeof(log), cache, "log");
	assert_true(access(log, F_OK) == 0);
	assert_int_equal(upper_entries(s), 0);
}

static void test_secret(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg =
	    sbx_config(s, "cat /run/secrets/token; echo x >/run/secrets/token || echo ro");
	struct sandbox_mount m = {SANDBOX_MOUNT_SECRET, NULL, "token"};
	char secret[4096];

	sbx_path(secret, sizeof(secret), s->dir, "secret");
	testutil_write_file(secret, "s3cr3t\n", 7);
	m.source = secret;
	cfg.mounts = &m;
	cfg.n_mounts = 1;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_non_null(strstr(s->out, "s3cr3t\n"));
	assert_non_null(strstr(s->out, "ro\n"));
	assert_int_equal(upper_entries(s), 0);
}

static void test_fds_closed(void **state)
{
	struct sbx *s = *state;
	int leak = open("/", O_RDONLY); /* deliberately without O_CLOEXEC */

	assert_true(leak >= 0);
	sbx_sh(s, "ls /proc/self/fd | tr '\\n' ' '");
	close(leak);
	/* 0 1 2 and the directory ls itself is reading */
	assert_string_equal(s->out, "0 1 2 3 ");
}

static void test_exec_errors(void **state)
{
	struct sbx *s = *state;
	const char *argv1[] = {"/bin/nope", NULL};
	const char *argv2[] = {"nope", "arg", NULL};
	const char *argv3[] = {"echo", "exec", "form", NULL};
	struct sandbox_config cfg = sbx_config(s, NULL);

	cfg.argv = argv1;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EBUILD);
	assert_int_equal(test_err.errnum, ENOENT);
	assert_string_equal(test_err.msg, "exec '/bin/nope'");
	cfg.argv = argv2;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_string_equal(test_err.msg, "exec 'nope'");
	cfg.argv = argv3; /* found through PATH */
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "exec form\n");
}

static void test_exec_format_error_hints_binfmt(void **state)
{
	struct sbx *s = *state;
	const char *argv[] = {"/garbage", NULL};
	struct sandbox_config cfg = sbx_config(s, NULL);
	char p[4096];

	sbx_write(s->lower, "garbage", "\x01\x02 not an executable format");
	sbx_path(p, sizeof(p), s->lower, "garbage");
	assert_int_equal(chmod(p, 0755), 0);
	cfg.argv = argv;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_int_equal(test_err.errnum, ENOEXEC);
	assert_non_null(strstr(test_err.msg, "exec '/garbage'"));
	assert_non_null(strstr(test_err.msg, "scripts/setup-binfmt"));
}

/* Lower dirs topmost first, as extracted snapshots: the top one's files win,
 * its whiteouts and opaque dirs hide the bottom's.  Many lowers: the mount
 * options name them by fd, so path lengths do not matter. */
static void test_lower_order_and_many_lowers(void **state)
{
	struct sbx *s = *state;
	const char *lowers[130];
	char *paths[130];
	struct sandbox_config cfg;
	char p[4096];

	for (int i = 0; i < 129; i++) {
		assert_true(
		    asprintf(&paths[i], "%s/snapshot-with-a-rather-long-name-sha256:%064d", s->dir, i) > 0);
		assert_int_equal(mkdir(paths[i], 0755), 0);
		lowers[i] = paths[i];
	}
	lowers[129] = s->lower; /* the busybox base at the bottom */
	sbx_write(s->lower, "x", "bottom");
	sbx_write(s->lower, "y", "bottom");
	sbx_mkdir(s->lower, "d", 0755);
	sbx_write(s->lower, "d/old", "");
	sbx_write(paths[0], "x", "top");
	sbx_path(p, sizeof(p), paths[0], "y");
	assert_int_equal(mknod(p, S_IFCHR | 0, makedev(0, 0)), 0);
	sbx_mkdir(paths[0], "d", 0755);
	sbx_path(p, sizeof(p), paths[0], "d");
	assert_int_equal(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
	sbx_write(paths[0], "d/new", "");
	cfg = sbx_config(s, "cat /x; echo; test -e /y || echo no-y; ls /d");
	cfg.lowerdirs = lowers;
	cfg.n_lowerdirs = 130;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "top\nno-y\nnew\n");
	for (int i = 0; i < 129; i++)
		free(paths[i]);
}

static void test_env_and_workdir(void **state)
{
	struct sbx *s = *state;
	const char *env[] = {"FOO=bar", NULL};
	struct sandbox_config cfg = sbx_config(s, "echo $FOO $PATH $HOME; pwd");

	cfg.env = env;
	cfg.cwd = "/work/dir";
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "bar " SANDBOX_DEFAULT_PATH " /root\n/work/dir\n");
	/* The workdir is part of the step's result, like Docker's WORKDIR. */
	assert_true(upper_has(s, "work/dir"));
}

/* A cache below a workdir that had to be created: the cache's mount point
 * goes, the workdir stays. */
static void test_workdir_with_cache_below(void **state)
{
	struct sbx *s = *state;
	struct sandbox_mount m = {SANDBOX_MOUNT_CACHE, NULL, "/app/node_modules"};
	struct sandbox_config cfg = sbx_config(s, "pwd; touch node_modules/x");

	m.source = s->work; /* any directory */
	cfg.cwd = "/app";
	cfg.mounts = &m;
	cfg.n_mounts = 1;
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "/app\n");
	assert_true(upper_has(s, "app"));
	assert_false(upper_has(s, "app/node_modules"));
}

static void test_changes_reach_upper(void **state)
{
	struct sbx *s = *state;
	char p[4096], v[4] = {0};
	struct stat st;

	sbx_mkdir(s->lower, "data", 0755);
	sbx_write(s->lower, "data/a", "a");
	sbx_sh(s,
	       "echo new >/new && echo more >>/etc/group && rm /bin/false && rm -rf /data && mkdir /data && "
	       "touch /data/b");
	assert_int_equal(s->res.exit_code, 0);
	assert_true(upper_has(s, "new"));
	assert_true(upper_has(s, "etc/group"));
	sbx_path(p, sizeof(p), s->upper, "bin/false");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == 0); /* overlay whiteout */
	sbx_path(p, sizeof(p), s->upper, "data");
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v) - 1), 1);
	assert_string_equal(v, "y");
}

static char *read_mountinfo(void)
{
	static char buf[1 << 16];
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return strdup(buf);
}

/* Compared in a private copy of the caller's mount namespace, so that other
 * programs mounting on this machine meanwhile cannot disturb the test. */
static void test_nothing_left_mounted(void **state)
{
	struct sbx *s = *state;
	struct sandbox_mount m[2] = {{SANDBOX_MOUNT_CACHE, NULL, "/var/cache/x"},
				     {SANDBOX_MOUNT_SECRET, "/etc/hostname", "h"}};
	struct sandbox_config cfg = sbx_config(s, "cat /proc/self/mountinfo | wc -l");
	int status;
	pid_t pid;

	m[0].source = s->work; /* any directory */
	cfg.mounts = m;
	cfg.n_mounts = access("/etc/hostname", R_OK) == 0 ? 2 : 1;
	cfg.output_fd = open(s->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	cfg.output = NULL;
	assert_true(cfg.output_fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ocb_error e = OCB_ERROR_INIT;
		char *before, *after;

		/* Shared within the private copy: a mount the sandbox let escape
		 * would propagate back here. */
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0)
			_exit(2);
		before = read_mountinfo();
		if (sandbox_run(&cfg, &s->res, &e) < 0)
			_exit(3);
		after = read_mountinfo();
		_exit(strcmp(before, after) ? 4 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(pread(cfg.output_fd, s->out, sizeof(s->out) - 1, 0) > 0, 1);
	close(cfg.output_fd);
	assert_true(strtol(s->out, NULL, 10) > 10); /* the sandbox did have its mounts */
}

/* ocb killed with SIGKILL mid-step: init's PR_SET_PDEATHSIG takes the
 * whole sandbox down.  The step holds the write end of a pipe as its stdout;
 * EOF on the read end means every process that had it is gone.  (The poll
 * timeout only bounds a failure; nothing waits on time to synchronise.) */
static void test_parent_death_kills_sandbox(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "echo ready; sleep 1000 & exec sleep 1000");
	struct pollfd pfd;
	char buf[16];
	int pipefd[2], status;
	pid_t pid;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	cfg.output = NULL;
	cfg.output_fd = pipefd[1];
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ocb_error e = OCB_ERROR_INIT;

		close(pipefd[0]);
		sandbox_run(&cfg, &s->res, &e);
		_exit(1);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], buf, 6), 6); /* "ready\n": the step runs */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	pfd = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 20000), 1);
	assert_int_equal(read(pipefd[0], buf, sizeof(buf)), 0); /* EOF: all gone */
	close(pipefd[0]);
}

static int abort_output(void *ctx, const char *buf, size_t len, struct ocb_error *err)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return ocb_error_set(err, OCB_EFAIL, 0, "enough");
}

static void test_output_callback_stops_step(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "echo hi; exec sleep 1000");

	cfg.output = abort_output;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_string_equal(test_err.msg, "step output: enough");
}

static int kill_all_output(void *ctx, const char *buf, size_t len, struct ocb_error *err)
{
	(void)ctx;
	(void)buf;
	(void)len;
	(void)err;
	sandbox_kill_all();
	return 0;
}

static void test_kill_all(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "echo hi; exec sleep 1000");

	cfg.output = kill_all_output;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_non_null(strstr(test_err.msg, "killed by signal 9"));
}

static void test_bad_config(void **state)
{
	struct sbx *s = *state;
	struct sandbox_mount m = {SANDBOX_MOUNT_CACHE, "/tmp", "/proc/x"};
	struct sandbox_config cfg = sbx_config(s, "true");

	cfg.mounts = &m;
	cfg.n_mounts = 1;
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	m.kind = SANDBOX_MOUNT_SECRET;
	m.target = "../x";
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	cfg = sbx_config(s, "true");
	cfg.cwd = "relative";
	assert_int_equal(sandbox_run(&cfg, &s->res, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
}

static void test_not_root_is_env_error(void **state)
{
	struct sbx *s = *state;
	struct sandbox_config cfg = sbx_config(s, "true");
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct ocb_error e = OCB_ERROR_INIT;

		if (setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		_exit(sandbox_run(&cfg, &s->res, &e) == -1 && e.code == OCB_EENV && strstr(e.msg, "root")
			  ? 0
			  : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* An arm64 step through qemu-user via binfmt_misc (F flag: no qemu in the
 * image), under the seccomp filter, which sees qemu's x86_64 system calls:
 * qemu starts, forks and runs a pipe.  Needs scripts/setup-binfmt and the arm64 busybox tests/lib.sh
 * caches; skipped without them (the integration tests set both up). */
static void test_foreign_arch_step(void **state)
{
	struct sbx *s = *state;
	const char *arm_busybox = "/var/cache/ocb-tests/busybox-arm64";
	struct ocb_error e = OCB_ERROR_INIT;
	char root[4096];
	struct sandbox_config cfg;

	if (access(arm_busybox, R_OK) < 0 || sandbox_check_binfmt("arm64", &e) < 0) {
		print_message("skipped: %s\n", e.msg[0] ? e.msg : "no arm64 busybox");
		skip();
	}
	sbx_path(root, sizeof(root), s->dir, "arm64");
	sbx_make_rootfs_from(root, arm_busybox);
	cfg = sbx_config(s, "uname -m; (echo sub) | cat; grep '^Seccomp:' /proc/self/status");
	cfg.lowerdirs = (const char *const[]){root};
	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
	assert_string_equal(s->out, "aarch64\nsub\nSeccomp:\t2\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_output_and_exit_code, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_by_signal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noop_step_leaves_upper_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pid1_is_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_network_none_has_only_lo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_from_rootfs_passwd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_user_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dev, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolv_conf_and_hosts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_mount, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fds_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_and_workdir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_reach_upper, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nothing_left_mounted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_callback_stops_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kill_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_root_is_env_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_arch_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_odd_mount_points_in_image, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_fd_and_null, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parallel_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chroot_fallback_drops_sys_chroot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capabilities_and_masks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parent_death_kills_sandbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_format_error_hints_binfmt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lower_order_and_many_lowers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_workdir_with_cache_below, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
