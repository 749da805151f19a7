/* The sandbox's mount plan as data (bubblewrap's SetupOp): built in the
 * parent, where allocating and opening host paths is fine and errors can be
 * precise; executed by the child (sandbox_setup.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/rootless.h"
#include "builder/sandbox_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

static int grow(void **arr, size_t *cap, size_t n, size_t elem, struct ocb_error *err)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(*arr, ncap, elem);
	if (!p)
		return ocb_error_sys(err, "out of memory");
	*arr = p;
	*cap = ncap;
	return 0;
}

static const char *plan_strdup(struct sandbox_plan *plan, const char *s, struct ocb_error *err)
{
	char *copy;

	if (!s)
		return NULL;
	if (grow((void **)&plan->strings, &plan->cap_strings, plan->n_strings, sizeof(char *), err) < 0)
		return NULL;
	copy = strdup(s);
	if (!copy) {
		ocb_error_sys(err, "out of memory");
		return NULL;
	}
	plan->strings[plan->n_strings++] = copy;
	return copy;
}

int sandbox_plan_add(struct sandbox_plan *plan, const struct sandbox_op *op, struct ocb_error *err)
{
	struct sandbox_op copy = *op;

	if (grow((void **)&plan->ops, &plan->cap_ops, plan->n_ops, sizeof(*plan->ops), err) < 0)
		return -1;
	copy.src_fd = -1;
	if ((op->dest && !(copy.dest = plan_strdup(plan, op->dest, err))) ||
	    (op->src && !(copy.src = plan_strdup(plan, op->src, err))) ||
	    (op->target && !(copy.target = plan_strdup(plan, op->target, err))) ||
	    (op->data && !(copy.data = plan_strdup(plan, op->data, err))))
		return -1;
	plan->ops[plan->n_ops++] = copy;
	return 0;
}

const char *sandbox_plan_source(struct sandbox_plan *plan, const char *path, int flags, struct ocb_error *err)
{
	cleanup_close int fd = open(path, O_PATH | O_CLOEXEC | flags);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return ocb_error_sys(err, "open '%s'", path), NULL;
	if (!(flags & O_DIRECTORY) && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s' is not a regular file", path), NULL;
	return plan_strdup(plan, path, err);
}

void sandbox_plan_release(struct sandbox_plan *plan)
{
	for (size_t i = 0; i < plan->n_strings; i++)
		free(plan->strings[i]);
	free(plan->strings);
	free(plan->dirs);
	free(plan->dir_fds);
	free(plan->ops);
	free(plan->overlay_data);
	free((void *)plan->argv);
	free(plan->envp);
	free(plan->seccomp);
	memset(plan, 0, sizeof(*plan));
	plan->upper_fd = plan->output_fd = plan->info_fd = -1;
}

/* An absolute, normalised path inside the sandbox: "/a/b", no "." or ".."
 * components, no empty ones, not "/" itself. */
static bool inner_path_ok(const char *p)
{
	if (!p || p[0] != '/' || !p[1] || strlen(p) >= PATH_MAX)
		return false;
	for (const char *c = p + 1; *c;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (*c == '/')
			c++;
		if (!*c && c[-1] == '/')
			return false;
	}
	return true;
}

/* Paths the sandbox owns: a cache may not be mounted inside them. */
static bool under_system_mount(const char *p)
{
	static const char *const sys[] = {"/proc", "/sys", "/dev"};

	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		size_t n = strlen(sys[i]);

		if (!strncmp(p, sys[i], n) && (p[n] == '/' || !p[n]))
			return true;
	}
	return false;
}

static bool secret_id_ok(const char *id)
{
	return id && *id && strlen(id) < 256 && !strchr(id, '/') && strcmp(id, ".") && strcmp(id, "..");
}

static int add_overlay(const struct sandbox_config *cfg, struct sandbox_plan *plan, struct ocb_error *err)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t n = cfg->n_lowerdirs;

	if (n == 0 || !cfg->lowerdirs)
		return ocb_error_set(err, OCB_EINVAL, 0, "no lower dir (use an empty directory for scratch)");
	if (n > SANDBOX_MAX_LOWERS)
		return ocb_error_set(err, OCB_ELIMIT, 0, "%zu lower dirs: overlayfs stacks at most %d", n,
				     SANDBOX_MAX_LOWERS);
	if (!cfg->upperdir || !cfg->overlay_workdir)
		return ocb_error_set(err, OCB_EINVAL, 0, "upper dir and overlay work dir are required");
	plan->dirs = calloc(n + 2, sizeof(*plan->dirs));
	plan->dir_fds = calloc(n + 2, sizeof(*plan->dir_fds));
	/* Each dir is an fd number in the options: at most 5 digits and a
	 * separator, so the list fits in a page whatever the paths are. */
	plan->overlay_size = page > 0 ? (size_t)page : 4096;
	plan->overlay_data = calloc(1, plan->overlay_size);
	if (!plan->dirs || !plan->dir_fds || !plan->overlay_data)
		return ocb_error_sys(err, "out of memory");
	for (size_t i = 0; i < n + 2; i++) {
		const char *what = i < n ? "lower dir" : i == n ? "upper dir" : "overlay work dir";
		const char *path = i < n ? cfg->lowerdirs[i] : i == n ? cfg->upperdir : cfg->overlay_workdir;

		plan->dir_fds[i] = -1;
		if (!path || path[0] != '/')
			return ocb_error_set(err, OCB_EINVAL, 0, "%s '%s' is not an absolute path", what,
					     path ? path : "");
		plan->dirs[i] = sandbox_plan_source(plan, path, O_DIRECTORY, err);
		if (!plan->dirs[i])
			return ocb_error_wrap(err, "%s", what);
		plan->n_dirs = i + 1;
	}
	return 0;
}

/* A fresh sysfs, read-only.  In a user namespace the kernel allows that
 * only with a network namespace the user namespace owns; sharing the host's
 * network, the step gets the host's /sys bound read-only instead (podman's
 * rootless way). */
static int add_sys(struct sandbox_plan *plan, unsigned long nosuid, struct ocb_error *err)
{
	if (plan->userns && !plan->new_net) {
		if (!sandbox_plan_source(plan, "/sys", O_DIRECTORY, err))
			return -1;
		return sandbox_plan_add(plan,
					&(struct sandbox_op){.kind = SANDBOX_OP_BIND,
							     .opts = SANDBOX_OPF_STUB | SANDBOX_OPF_TREE_RO,
							     .dest = "/sys",
							     .src = "/sys"},
					err);
	}
	return sandbox_plan_add(plan,
				&(struct sandbox_op){.kind = SANDBOX_OP_MOUNT,
						     .opts = SANDBOX_OPF_STUB,
						     .dest = "/sys",
						     .fstype = "sysfs",
						     .flags = nosuid | MS_RDONLY},
				err);
}

static int add_proc_sys(struct sandbox_plan *plan, struct ocb_error *err)
{
	/* Docker's masked and read-only paths: with the step's capabilities
	 * reduced it cannot undo them. */
	static const char *const masked[] = {
	    "/proc/acpi",	"/proc/asound",	     "/proc/kcore",	  "/proc/keys", "/proc/latency_stats",
	    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"};
	static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					       "/proc/sysrq-trigger"};
	const unsigned long nosuid = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (sandbox_plan_add(plan,
			     &(struct sandbox_op){.kind = SANDBOX_OP_MOUNT,
						  .opts = SANDBOX_OPF_STUB,
						  .dest = "/proc",
						  .fstype = "proc",
						  .flags = nosuid},
			     err) < 0 ||
	    add_sys(plan, nosuid, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
		if (sandbox_plan_add(
			plan,
			&(struct sandbox_op){.kind = SANDBOX_OP_MASK, .dest = masked[i], .src = "/dev/null"},
			err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++)
		if (sandbox_plan_add(plan,
				     &(struct sandbox_op){.kind = SANDBOX_OP_REMOUNT_RO, .dest = readonly[i]},
				     err) < 0)
			return -1;
	return 0;
}

static int add_bind(struct sandbox_plan *plan, const char *src, const char *dest, unsigned int opts,
		    unsigned long flags, struct ocb_error *err)
{
	if (!sandbox_plan_source(plan, src, (opts & SANDBOX_OPF_FILE) ? 0 : O_DIRECTORY, err))
		return -1;
	return sandbox_plan_add(plan,
				&(struct sandbox_op){.kind = SANDBOX_OP_BIND,
						     .opts = opts | SANDBOX_OPF_STUB,
						     .dest = dest,
						     .flags = flags,
						     .src = src},
				err);
}

#define HOSTS_MAX (1 << 20)

/* The host's /etc/hosts plus a line for the sandbox's hostname, so that tools
 * resolving their own host name (sudo, Java's getLocalHost()) work, as they
 * do under Docker and BuildKit. */
static int add_hosts(struct sandbox_plan *plan, unsigned long flags, struct ocb_error *err)
{
	cleanup_close int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
	cleanup_free char *host = NULL, *text = NULL;
	size_t len = 0;
	ssize_t n;

	if (fd < 0 && errno != ENOENT)
		return ocb_error_sys(err, "open '/etc/hosts'");
	host = calloc(1, HOSTS_MAX + 1);
	if (!host)
		return ocb_error_sys(err, "out of memory");
	while (fd >= 0 && len < HOSTS_MAX && (n = read(fd, host + len, HOSTS_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ocb_error_sys(err, "read '/etc/hosts'");
		len += (size_t)n;
	}
	if (len == HOSTS_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "'/etc/hosts' is larger than %d bytes", HOSTS_MAX);
	if (asprintf(&text, "%s%s127.0.0.1\t%s\n", host, len && host[len - 1] != '\n' ? "\n" : "",
		     plan->hostname) < 0) {
		text = NULL;
		return ocb_error_sys(err, "out of memory");
	}
	return sandbox_plan_add(
	    plan,
	    &(struct sandbox_op){.kind = SANDBOX_OP_FILE_DATA,
				 .opts = SANDBOX_OPF_FILE | SANDBOX_OPF_OPTIONAL | SANDBOX_OPF_STUB,
				 .dest = "/etc/hosts",
				 .data = text,
				 .flags = flags},
	    err);
}

static int add_host_files(struct sandbox_plan *plan, struct ocb_error *err)
{
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

	/* A host without resolv.conf gives the step none. */
	if (access("/etc/resolv.conf", F_OK) == 0 &&
	    add_bind(plan, "/etc/resolv.conf", "/etc/resolv.conf", SANDBOX_OPF_FILE | SANDBOX_OPF_OPTIONAL,
		     ro, err) < 0)
		return -1;
	return add_hosts(plan, ro, err);
}

static int add_user_mounts(const struct sandbox_config *cfg, struct sandbox_plan *plan, struct ocb_error *err)
{
	if (cfg->n_mounts > SANDBOX_MAX_MOUNTS)
		return ocb_error_set(err, OCB_ELIMIT, 0, "%zu mounts: at most %d", cfg->n_mounts,
				     SANDBOX_MAX_MOUNTS);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct sandbox_mount *m = &cfg->mounts[i];
		cleanup_free char *dest = NULL;

		if (!m->source)
			return ocb_error_set(err, OCB_EINVAL, 0, "mount %zu: no source", i);
		if (m->kind == SANDBOX_MOUNT_SECRET) {
			if (!secret_id_ok(m->target))
				return ocb_error_set(err, OCB_EINVAL, 0, "secret id '%s' is not a file name",
						     m->target ? m->target : "");
			if (asprintf(&dest, "/run/secrets/%s", m->target) < 0)
				return ocb_error_sys(err, "out of memory");
			if (add_bind(plan, m->source, dest, SANDBOX_OPF_FILE,
				     MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
				return ocb_error_wrap(err, "secret '%s'", m->target);
		} else if (m->kind == SANDBOX_MOUNT_CACHE) {
			if (!inner_path_ok(m->target) || under_system_mount(m->target))
				return ocb_error_set(
				    err, OCB_EINVAL, 0,
				    "cache target '%s' is not a normalised absolute path outside "
				    "/proc, /sys and /dev",
				    m->target ? m->target : "");
			/* nodev, nosuid: the step may mknod in the cache (no
			 * device cgroup) and the cache outlives the build. */
			if (add_bind(plan, m->source, m->target, 0, MS_NOSUID | MS_NODEV, err) < 0)
				return ocb_error_wrap(err, "cache '%s'", m->target);
		} else {
			return ocb_error_set(err, OCB_EINVAL, 0, "mount %zu: unknown kind %d", i,
					     (int)m->kind);
		}
	}
	return 0;
}

static int add_command(const struct sandbox_config *cfg, struct sandbox_plan *plan, struct ocb_error *err)
{
	size_t n = 0;
	const char **argv;

	if (cfg->argv) {
		while (cfg->argv[n])
			n++;
		if (n == 0 || !*cfg->argv[0])
			return ocb_error_set(err, OCB_EINVAL, 0, "empty command");
		argv = calloc(n + 1, sizeof(*argv));
		if (!argv)
			return ocb_error_sys(err, "out of memory");
		memcpy(argv, cfg->argv, n * sizeof(*argv));
	} else if (cfg->shell) {
		argv = calloc(4, sizeof(*argv));
		if (!argv)
			return ocb_error_sys(err, "out of memory");
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = cfg->shell;
	} else {
		return ocb_error_set(err, OCB_EINVAL, 0, "no command");
	}
	plan->argv = (char *const *)argv;

	for (n = 0; cfg->env && cfg->env[n]; n++) {
		if (!strchr(cfg->env[n], '='))
			return ocb_error_set(err, OCB_EINVAL, 0, "env entry '%s' has no '='", cfg->env[n]);
		if (!strncmp(cfg->env[n], "PATH=", 5))
			plan->env_has_path = true;
		if (!strncmp(cfg->env[n], "HOME=", 5))
			plan->env_has_home = true;
	}
	plan->envp = calloc(n + 3, sizeof(char *));
	if (!plan->envp)
		return ocb_error_sys(err, "out of memory");
	if (n)
		memcpy(plan->envp, cfg->env, n * sizeof(char *));
	plan->n_env = n;
	return 0;
}

int sandbox_plan_build(const struct sandbox_config *cfg, struct sandbox_plan *plan, struct ocb_error *err)
{
	memset(plan, 0, sizeof(*plan));
	plan->upper_fd = plan->output_fd = plan->info_fd = -1;
	plan->new_net = cfg->network == SANDBOX_NET_NONE;
	plan->userns = rootless_active();
	plan->hostname = cfg->hostname && *cfg->hostname ? cfg->hostname : SANDBOX_DEFAULT_HOSTNAME;
	plan->user = cfg->user;
	plan->cwd = cfg->cwd ? cfg->cwd : "/";
	plan->force_chroot = cfg->force_chroot;
	if (strlen(plan->hostname) > 64)
		return ocb_error_set(err, OCB_EINVAL, 0, "hostname '%s' is longer than 64 bytes",
				     plan->hostname);
	if (strcmp(plan->cwd, "/") && !inner_path_ok(plan->cwd))
		return ocb_error_set(err, OCB_EINVAL, 0, "workdir '%s' is not a normalised absolute path",
				     plan->cwd);
	if (add_command(cfg, plan, err) < 0 || add_overlay(cfg, plan, err) < 0 ||
	    add_proc_sys(plan, err) < 0 || sandbox_plan_add_dev(plan, err) < 0 ||
	    add_host_files(plan, err) < 0 || add_user_mounts(cfg, plan, err) < 0 ||
	    (!cfg->seccomp_unconfined && sandbox_seccomp_build(plan, err) < 0))
		return -1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sandbox_free_strv(char **strv)
{
	for (size_t i = 0; strv && strv[i]; i++)
		free(strv[i]);
	free(strv);
}

int sandbox_mount_targets(const struct sandbox_config *cfg, char ***targets, struct ocb_error *err)
{
	static const char *const fixed[] = {"proc", "sys", "dev", "etc/resolv.conf", "etc/hosts"};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	char **v = calloc(nfixed + cfg->n_mounts + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return ocb_error_sys(err, "out of memory");
	for (size_t i = 0; i < nfixed; i++)
		if (!(v[n++] = strdup(fixed[i])))
			goto oom;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct sandbox_mount *m = &cfg->mounts[i];

		if (m->kind == SANDBOX_MOUNT_SECRET) {
			if (asprintf(&v[n], "run/secrets/%s", m->target ? m->target : "") < 0) {
				v[n] = NULL;
				goto oom;
			}
		} else if (!(v[n] = strdup(m->target && m->target[0] == '/' ? m->target + 1 : ""))) {
			goto oom;
		}
		n++;
	}
	qsort(v, n, sizeof(char *), cmp_str);
	*targets = v;
	return 0;
oom:
	sandbox_free_strv(v);
	return ocb_error_sys(err, "out of memory");
}
