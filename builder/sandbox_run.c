/* The parent side of a sandboxed step: clone init into new namespaces,
 * stream the step's output, collect init's messages, wait, and take the
 * mount-point stubs out of the upper dir again. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder/rootless.h"
#include "builder/sandbox_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

/* Inits of the sandboxes running in this process, for sandbox_kill_all(). */
#define MAX_RUNNING 256
static pid_t running[MAX_RUNNING];

static void register_init(pid_t pid)
{
	for (size_t i = 0; i < MAX_RUNNING; i++) {
		pid_t expected = 0;

		if (__atomic_compare_exchange_n(&running[i], &expected, pid, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return;
	}
}

static void unregister_init(pid_t pid)
{
	for (size_t i = 0; i < MAX_RUNNING; i++) {
		pid_t expected = pid;

		if (__atomic_compare_exchange_n(&running[i], &expected, 0, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return;
	}
}

void sandbox_kill_all(void)
{
	for (size_t i = 0; i < MAX_RUNNING; i++) {
		pid_t pid = __atomic_load_n(&running[i], __ATOMIC_SEQ_CST);

		if (pid > 0)
			kill(pid, SIGKILL);
	}
}

struct stub {
	char *path; /* inside the root, leading '/' */
	bool is_dir, copied_up;
};

struct run_state {
	pid_t init;
	bool have_error, have_status, output_failed;
	struct sandbox_msg error;
	int status;
	struct ocb_error output_err;
	struct stub *stubs;
	size_t n_stubs, cap_stubs;
};

static void note_stub(struct run_state *st, const struct sandbox_msg *msg)
{
	struct stub *s;

	if (st->n_stubs == st->cap_stubs) {
		size_t ncap = st->cap_stubs ? st->cap_stubs * 2 : 16;

		s = reallocarray(st->stubs, ncap, sizeof(*s));
		if (!s)
			return; /* the stub stays in the upper dir; the diff skips it */
		st->stubs = s;
		st->cap_stubs = ncap;
	}
	s = &st->stubs[st->n_stubs];
	s->path = strndup(msg->text, sizeof(msg->text));
	if (!s->path)
		return;
	s->is_dir = msg->type == SANDBOX_MSG_COPIEDUP || msg->value;
	s->copied_up = msg->type == SANDBOX_MSG_COPIEDUP;
	st->n_stubs++;
}

static void handle_msg(struct run_state *st, const struct sandbox_msg *msg)
{
	switch (msg->type) {
	case SANDBOX_MSG_ERROR:
		if (!st->have_error) { /* the first error is the cause */
			st->error = *msg;
			st->have_error = true;
		}
		break;
	case SANDBOX_MSG_CREATED:
	case SANDBOX_MSG_COPIEDUP:
		note_stub(st, msg);
		break;
	case SANDBOX_MSG_STATUS:
		st->status = msg->value;
		st->have_status = true;
		break;
	}
}

/* Read one message; 1 got one, 0 EOF, -1 error. */
static int read_msg(int fd, struct sandbox_msg *msg)
{
	size_t got = 0;

	while (got < sizeof(*msg)) {
		ssize_t n = read(fd, (char *)msg + got, sizeof(*msg) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 && got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	msg->text[sizeof(msg->text) - 1] = '\0';
	return 1;
}

static void forward_output(const struct sandbox_config *cfg, struct run_state *st, const char *buf, size_t n)
{
	if (st->output_failed)
		return;
	if (cfg->output(cfg->output_ctx, buf, n, &st->output_err) < 0) {
		st->output_failed = true;
		kill(st->init, SIGKILL);
	}
}

/* Until init and the step have closed both pipes. */
static void pump(const struct sandbox_config *cfg, struct run_state *st, int info_fd, int out_fd)
{
	struct pollfd pfd[2] = {{.fd = info_fd, .events = POLLIN}, {.fd = out_fd, .events = POLLIN}};
	char buf[65536];

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			kill(st->init, SIGKILL);
			break;
		}
		if (pfd[1].fd >= 0 && pfd[1].revents) {
			ssize_t n = read(pfd[1].fd, buf, sizeof(buf));

			if (n > 0)
				forward_output(cfg, st, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				pfd[1].fd = -1;
		}
		if (pfd[0].fd >= 0 && pfd[0].revents) {
			struct sandbox_msg msg;

			if (read_msg(pfd[0].fd, &msg) > 0)
				handle_msg(st, &msg);
			else
				pfd[0].fd = -1;
		}
	}
}

/* Open the directory containing `path` under root_fd without following any
 * symlink (the step may have planted some); sets *name. */
static int open_parent_nofollow(int root_fd, const char *path, const char **name)
{
	char comp[NAME_MAX + 1];
	const char *p = path + strspn(path, "/");
	int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);

	for (;;) {
		size_t n = strcspn(p, "/");
		int nfd;

		if (!p[n]) {
			*name = p;
			return fd;
		}
		if (n == 0 || n > NAME_MAX)
			break;
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
		if (fd < 0)
			return -1;
		p += n + 1;
	}
	close(fd);
	return -1;
}

static bool is_opaque(int dir_fd, const char *name)
{
	cleanup_close int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char v[4];

	return fd < 0 || fgetxattr(fd, rootless_overlay_xattr("opaque"), v, sizeof(v)) >= 0;
}

/* Take what the sandbox created for its mount points out of the upper dir:
 * files still empty stubs, directories still empty and not opaque.  What
 * cannot go stays (and overlay_diff's skip list hides it). */
static void remove_stubs(int upper_fd, struct run_state *st)
{
	/* Created entries children first, then the copied-up directories. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = st->n_stubs; i-- > 0;) {
			const struct stub *s = &st->stubs[i];
			const char *name;
			struct stat sb;
			cleanup_close int dfd = -1;

			if (s->copied_up != (pass == 1))
				continue;
			dfd = open_parent_nofollow(upper_fd, s->path, &name);
			if (dfd < 0 || fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (s->is_dir && S_ISDIR(sb.st_mode) && !is_opaque(dfd, name))
				unlinkat(dfd, name, AT_REMOVEDIR); /* fails if not empty: kept */
			else if (!s->is_dir && S_ISREG(sb.st_mode) && sb.st_size == 0)
				unlinkat(dfd, name, 0);
		}
	}
}

static void release_state(struct run_state *st)
{
	for (size_t i = 0; i < st->n_stubs; i++)
		free(st->stubs[i].path);
	free(st->stubs);
}

static int report(const struct run_state *st, int wstatus, struct sandbox_result *result,
		  struct ocb_error *err)
{
	if (st->output_failed) {
		*err = st->output_err;
		return ocb_error_wrap(err, "step output");
	}
	if (st->have_error) {
		int code = st->error.value > 0 ? st->error.value : OCB_EFAIL;

		return ocb_error_set(err, (enum ocb_code)code, st->error.errnum, "%s%s", st->error.text,
				     st->error.errnum == ENOEXEC
					 ? " (a binary for another architecture? see scripts/setup-binfmt)"
					 : "");
	}
	if (!st->have_status) {
		if (WIFSIGNALED(wstatus))
			return ocb_error_set(err, OCB_EFAIL, 0, "sandbox killed by signal %d",
					     WTERMSIG(wstatus));
		return ocb_error_set(err, OCB_EFAIL, 0, "sandbox init failed without a message");
	}
	result->exit_code = WIFEXITED(st->status) ? WEXITSTATUS(st->status) : 128 + WTERMSIG(st->status);
	result->signal = WIFSIGNALED(st->status) ? WTERMSIG(st->status) : 0;
	return 0;
}

static int start_init(struct sandbox_plan *plan, pid_t *pid, struct ocb_error *err)
{
	long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	long p;

	if (plan->new_net)
		flags |= CLONE_NEWNET;
	/* A raw clone without a stack: fork semantics (bubblewrap, crun). */
	p = syscall(SYS_clone, flags, 0, 0, 0, 0);
	if (p < 0) {
		if (errno == EPERM || errno == EINVAL || errno == ENOSPC || errno == EUSERS)
			return ocb_error_set(err, OCB_EENV, errno, "create the sandbox's namespaces");
		return ocb_error_sys(err, "clone the sandbox");
	}
	if (p == 0)
		sandbox_init_main(plan);
	*pid = (pid_t)p;
	return 0;
}

int sandbox_run(const struct sandbox_config *cfg, struct sandbox_result *result, struct ocb_error *err)
{
	struct sandbox_plan plan;
	struct run_state st;
	int info[2] = {-1, -1}, out[2] = {-1, -1};
	int rc = -1, wstatus = 0;
	cleanup_close int upper_fd = -1;

	memset(&st, 0, sizeof(st));
	if (geteuid() != 0)
		return ocb_error_set(err, OCB_EENV, 0,
				     "run steps: the sandbox needs root, or the rootless user namespace "
				     "(%s)",
				     rootless_unavailable() ? rootless_unavailable()
							    : "see docs/rootless.md");
	if (sandbox_plan_build(cfg, &plan, err) < 0)
		goto out;
	upper_fd = open(cfg->upperdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (upper_fd < 0) {
		ocb_error_sys(err, "open upper dir '%s'", cfg->upperdir);
		goto out;
	}
	if (pipe2(info, O_CLOEXEC) < 0 || (cfg->output && pipe2(out, O_CLOEXEC) < 0)) {
		ocb_error_sys(err, "pipe");
		goto out;
	}
	plan.info_fd = info[1];
	plan.output_fd = cfg->output ? out[1] : cfg->output_fd;
	if (start_init(&plan, &st.init, err) < 0)
		goto out;
	register_init(st.init);
	close(info[1]);
	info[1] = -1;
	if (out[1] >= 0) {
		close(out[1]);
		out[1] = -1;
	}
	pump(cfg, &st, info[0], out[0]);
	while (waitpid(st.init, &wstatus, 0) < 0 && errno == EINTR)
		;
	unregister_init(st.init);
	remove_stubs(upper_fd, &st);
	rc = report(&st, wstatus, result, err);
out:
	for (size_t i = 0; i < 2; i++) {
		if (info[i] >= 0)
			close(info[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	release_state(&st);
	sandbox_plan_release(&plan);
	return rc;
}
