/* Rootless mode: enter a user namespace mapped with newuidmap/newgidmap
 * (see rootless.h and docs/rootless.md). */
#include "builder/rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sched.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

static bool active;
static char why[512];
static volatile pid_t child_pid;

bool rootless_active(void)
{
	return active;
}

bool rootless_real_root(void)
{
	return geteuid() == 0 && !active;
}

const char *rootless_unavailable(void)
{
	return why[0] ? why : NULL;
}

const char *rootless_overlay_xattr(const char *name)
{
	static const char *const names[][3] = {
	    {"opaque", "trusted.overlay.opaque", "user.overlay.opaque"},
	    {"redirect", "trusted.overlay.redirect", "user.overlay.redirect"},
	    {"metacopy", "trusted.overlay.metacopy", "user.overlay.metacopy"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i][0]))
			return names[i][active ? 2 : 1];
	return NULL;
}

/* A decimal id or count below 2^32, digits only. */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end = NULL;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out <= UINT32_MAX;
}

/* "OWNER:START:COUNT" split at every ':' (an empty field stays a field, as
 * newuidmap reads the file); false unless exactly three, none empty. */
static bool split_line(char *line, char *fields[3])
{
	size_t k = 0;
	char *f;

	while ((f = strsep(&line, ":"))) {
		if (k == 3 || !*f)
			return false;
		fields[k++] = f;
	}
	return k == 3;
}

/* A range newuidmap and the kernel would accept next to the caller's own
 * id mapped to 0: ids START..START+COUNT-1 outside and 1..COUNT inside all
 * valid (below 2^32 - 1), and not `own` (the kernel refuses overlapping
 * maps). */
static bool range_usable(unsigned long start, unsigned long count, unsigned long own)
{
	return count > 0 && count < UINT32_MAX && count <= UINT32_MAX - start &&
	       !(own >= start && own - start < count);
}

int rootless_subid_range(const char *file, const char *name, unsigned long id, unsigned long own,
			 unsigned long *start, unsigned long *count, struct ocb_error *err)
{
	cleanup_fclose FILE *f = fopen(file, "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return errno == ENOENT ? 0 : ocb_error_sys(err, "open '%s'", file);
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *fields[3];
		unsigned long owner, s, c;

		if (n && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!split_line(line, fields))
			continue;
		if (strcmp(fields[0], name ? name : "") != 0 && !(parse_id(fields[0], &owner) && owner == id))
			continue;
		if (!parse_id(fields[1], &s) || !parse_id(fields[2], &c) || !range_usable(s, c, own))
			continue;
		*start = s;
		*count = c;
		return 1;
	}
	if (ferror(f))
		return ocb_error_sys(err, "read '%s'", file);
	return 0;
}

static int unavailable(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int unavailable(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return 0;
}

/* An executable `prog` on $PATH or in the usual system directories. */
static bool find_program(const char *prog, char *out, size_t size)
{
	const char *path = getenv("PATH");
	cleanup_free char *dirs = NULL;
	char *save = NULL, *p;

	if (asprintf(&dirs, "%s:/usr/bin:/usr/sbin:/bin:/sbin", path ? path : "") < 0) {
		dirs = NULL;
		return false;
	}
	for (p = strtok_r(dirs, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		int n = snprintf(out, size, "%s/%s", p, prog);

		if (*p == '/' && n > 0 && (size_t)n < size && access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* prog PID 0 OWN 1 START COUNT: the caller's own id to 0, its range to
 * 1..COUNT.  Returns the exit status (0 ok). */
static int run_map(const char *prog, pid_t pid, unsigned long own, unsigned long start, unsigned long count)
{
	char args[5][32];
	pid_t p;
	int st;

	snprintf(args[0], sizeof(args[0]), "%d", (int)pid);
	snprintf(args[1], sizeof(args[1]), "%lu", own);
	snprintf(args[2], sizeof(args[2]), "%lu", start);
	snprintf(args[3], sizeof(args[3]), "%lu", count);
	p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		execl(prog, prog, args[0], "0", args[1], "1", "1", args[2], args[3], (char *)NULL);
		_exit(127);
	}
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool rootless_forwards(int sig, const siginfo_t *si)
{
	return !((sig == SIGINT || sig == SIGQUIT) && si->si_code == SI_KERNEL);
}

static void forward(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (child_pid > 0 && rootless_forwards(sig, si))
		kill(child_pid, sig);
}

/* The parent's part once the child runs the command: pass signals on,
 * report how it ended. */
static int wait_child(pid_t pid)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa = {.sa_sigaction = forward, .sa_flags = SA_SIGINFO};
	int st;

	child_pid = pid;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The child: unshare, tell the parent, wait for the maps, become root. */
static int child_enter(int ready_w, int go_r, pid_t parent)
{
	int e = 0;
	char c = 0;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		e = errno;
	if (write(ready_w, &e, sizeof(e)) != (ssize_t)sizeof(e) || e)
		_exit(125);
	close(ready_w);
	if (read(go_r, &c, 1) != 1 || c != 'g')
		_exit(125); /* the parent could not map us and goes on itself */
	close(go_r);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(125);
	if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
		return -1;
	/* Nothing this process mounts reaches the caller's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	active = true;
	return 0;
}

static int map_child(pid_t pid, int ready_r, int go_w, const unsigned long range[2][2],
		     const char prog[2][PATH_MAX])
{
	int e = -1, rc;

	if (read(ready_r, &e, sizeof(e)) != (ssize_t)sizeof(e))
		return unavailable("the user namespace helper died");
	if (e)
		return unavailable(
		    "cannot create a user namespace (%s): are unprivileged user namespaces "
		    "allowed (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, "
		    "AppArmor's kernel.apparmor_restrict_unprivileged_userns)?",
		    strerror(e));
	rc = run_map(prog[0], pid, getuid(), range[0][0], range[0][1]);
	if (rc != 0)
		return unavailable("'%s %d 0 %lu 1 1 %lu %lu' failed (status %d): check /etc/subuid and that "
				   "newuidmap is setuid root",
				   prog[0], (int)pid, (unsigned long)getuid(), range[0][0], range[0][1], rc);
	rc = run_map(prog[1], pid, getgid(), range[1][0], range[1][1]);
	if (rc != 0)
		return unavailable("'%s %d 0 %lu 1 1 %lu %lu' failed (status %d): check /etc/subgid and that "
				   "newgidmap is setuid root",
				   prog[1], (int)pid, (unsigned long)getgid(), range[1][0], range[1][1], rc);
	if (write(go_w, "g", 1) != 1)
		return unavailable("the user namespace helper died");
	return 1;
}

/* Fill the ranges and programs, or say why rootless mode is unavailable
 * (returns 0 then). */
static int prerequisites(unsigned long range[2][2], char prog[2][PATH_MAX], struct ocb_error *err)
{
	static const char *const files[2] = {"/etc/subuid", "/etc/subgid"};
	static const char *const progs[2] = {"newuidmap", "newgidmap"};
	const unsigned long ids[1] = {getuid()};
	struct passwd *pw = getpwuid(getuid());
	const char *name = pw ? pw->pw_name : NULL;

	for (int i = 0; i < 2; i++) {
		/* Both files name the user (or its uid), not a group. */
		int rc = rootless_subid_range(files[i], name, ids[0], i ? getgid() : getuid(), &range[i][0],
					      &range[i][1], err);

		if (rc < 0)
			return -1;
		if (rc == 0)
			return unavailable("user '%s' (uid %lu) has no subordinate id range in %s: as root, "
					   "run 'usermod --add-subuids 100000-165535 --add-subgids "
					   "100000-165535 %s' (or add '%s:100000:65536' to /etc/subuid and "
					   "/etc/subgid)",
					   name ? name : "?", ids[0], files[i], name ? name : "USER",
					   name ? name : "USER");
		if (!find_program(progs[i], prog[i], PATH_MAX))
			return unavailable("%s not found: install the setuid newuidmap and newgidmap "
					   "(Debian/Ubuntu: apt-get install uidmap; Fedora: shadow-utils)",
					   progs[i]);
	}
	return 1;
}

int rootless_enter(int *exit_code, struct ocb_error *err)
{
	unsigned long range[2][2];
	char prog[2][PATH_MAX];
	int ready[2] = {-1, -1}, go[2] = {-1, -1};
	pid_t parent = getpid(), pid;
	int rc;

	if (geteuid() == 0 || active)
		return 0;
	rc = prerequisites(range, prog, err);
	if (rc <= 0)
		return rc;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
		rc = ocb_error_sys(err, "pipe");
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = ocb_error_sys(err, "fork");
		goto out;
	}
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (child_enter(ready[1], go[0], parent) < 0)
			return ocb_error_sys(err, "become root of the user namespace");
		return 0;
	}
	close(ready[1]);
	close(go[0]);
	ready[1] = go[0] = -1;
	rc = map_child(pid, ready[0], go[1], (const unsigned long(*)[2])range, (const char(*)[PATH_MAX])prog);
	close(go[1]);
	go[1] = -1;
	if (rc == 1)
		*exit_code = wait_child(pid);
	else
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
out:
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
	return rc;
}
