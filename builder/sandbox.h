/* The sandbox that runs one `run` step (issue 4, "Execution").
 *
 * sandbox_run() mounts an overlay (the caller's snapshot directories as lower
 * dirs, a fresh upper dir) and runs one command in it, in new mount, PID, UTS
 * and IPC namespaces (plus a network namespace with only loopback for
 * SANDBOX_NET_NONE).  Inside:
 *
 *   /            the overlay; pivot_root into it, the host root detached
 *   /proc        a fresh proc of the new PID namespace (kcore, keys, sysrq...
 *                masked, /proc/sys and friends read-only, like Docker)
 *   /sys         read-only sysfs
 *   /dev         tmpfs: null zero full random urandom tty bind-mounted from
 *                the host (bubblewrap's way: mknod is refused in some setups),
 *                pts (newinstance) + ptmx, shm, fd/stdin/stdout/stderr links
 *   /etc/resolv.conf               the host's, read-only
 *   /etc/hosts                     the host's plus "127.0.0.1 HOSTNAME", read-only
 *   /run/secrets/ID                a secret file, read-only
 *   cache targets                  a host directory, read-write
 *
 * The step runs as the user resolved from the rootfs's own /etc/passwd and
 * /etc/group (never the host's NSS), with Docker's default capability set,
 * under a seccomp filter that refuses what Docker's default profile refuses
 * (EPERM; no no_new_privs, so setuid binaries work), stdin /dev/null,
 * stdout+stderr one stream to the caller, every other fd closed.  PID 1 in
 * the sandbox is a small init (the clone()d child) that reaps, forwards
 * SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the step and reports the
 * step's wait status; when the step exits, init exits and the kernel kills
 * whatever the step left behind.  Init has PR_SET_PDEATHSIG SIGKILL, so an
 * ocb that dies takes the sandbox with it (caveat: the death signal follows
 * the *thread* that called sandbox_run(); call it from a thread that lives
 * until it returns, which a synchronous call does by nature).
 *
 * Mount points and the layer.  The sandbox must create a mount point that the
 * rootfs lacks (/proc, /sys, /dev, /etc/resolv.conf, /etc/hosts,
 * /run/secrets/ID, a cache target and their missing parents) inside the
 * merged view, i.e. in the upper dir.  It records every entry it created, and
 * every existing directory that was copied up only to hold one of them, and
 * after the run removes them from the upper dir again (files only if still
 * empty stubs, directories only if empty and not opaque) — BuildKit's
 * "mount stubs" cleanup.  So after sandbox_run() returns the upper dir holds
 * exactly what the step changed, and can serve both as the layer source and
 * as the next step's lower snapshot.  Writes through the mounts never reach
 * the upper dir (they land in the tmpfs, the host cache dir, or fail on the
 * read-only binds).  overlay_diff.h also skips sandbox_mount_targets() as a
 * safety net.  Known imprecision: if the step changed only the metadata of a
 * directory that was copied up for a stub (chmod /etc, nothing else in /etc),
 * that change is dropped with the stub.  The working directory, when absent,
 * is created (owned by root, mode 0755) and IS part of the layer, like
 * Docker's WORKDIR.
 *
 * Privilege: needs root (CAP_SYS_ADMIN in the initial user namespace); when
 * not root sandbox_run() fails with OCB_EENV.  User namespaces (rootless) are
 * not implemented yet.
 *
 * Threads: the child does only async-signal-safe work between clone() and
 * execve() (no malloc, no stdio), so sandbox_run() may be called from several
 * threads at once.  Each call is synchronous. */
#ifndef OCB_SANDBOX_H
#define OCB_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/error.h"

enum sandbox_network {
	SANDBOX_NET_DEFAULT = 0, /* share the host's network namespace (Docker build's default) */
	SANDBOX_NET_NONE,	 /* a new network namespace with only `lo`, up */
	SANDBOX_NET_HOST,	 /* the host's network namespace (same as default today) */
};

enum sandbox_mount_kind {
	SANDBOX_MOUNT_CACHE,  /* host directory `source` bind-mounted read-write at `target` */
	SANDBOX_MOUNT_SECRET, /* host file `source` bind-mounted read-only at /run/secrets/`target` */
};

struct sandbox_mount {
	enum sandbox_mount_kind kind;
	const char *source; /* host path: a directory (cache) or a regular file (secret) */
	const char *target; /* cache: absolute path inside; secret: the ID (no '/') */
};

/* Receives the step's combined stdout/stderr as it comes.  Return -1 with err
 * set to stop the step (it is killed and sandbox_run() returns that error). */
typedef int (*sandbox_output_fn)(void *ctx, const char *buf, size_t len, struct ocb_error *err);

/* All strings are borrowed for the duration of sandbox_run().  Start from
 * SANDBOX_CONFIG_INIT. */
struct sandbox_config {
	/* Overlay: lower dirs topmost first (at least one: an empty directory for
	 * `scratch`), a fresh empty upper dir and an empty overlay work dir on the
	 * same filesystem as the upper dir.  At most SANDBOX_MAX_LOWERS. */
	const char *const *lowerdirs;
	size_t n_lowerdirs;
	const char *upperdir;
	const char *overlay_workdir;

	/* The command: argv (exec form, NULL-terminated; argv[0] searched in
	 * the step's PATH when it has no '/') or, when argv is NULL, `shell`
	 * run as /bin/sh -c SHELL. */
	const char *const *argv;
	const char *shell;

	/* "KEY=VALUE" strings, NULL-terminated, or NULL.  PATH (the Docker
	 * default below) and HOME (from the user's passwd entry; /root for uid 0
	 * without one, else /) are added when absent. */
	const char *const *env;
	const char *cwd;      /* absolute; NULL = "/"; created if absent */
	const char *user;     /* "name", "uid", "uid:gid", "name:group"; NULL or "" = root */
	const char *hostname; /* NULL = SANDBOX_DEFAULT_HOSTNAME */
	enum sandbox_network network;

	const struct sandbox_mount *mounts; /* applied in order: parents before children */
	size_t n_mounts;

	/* Run without the default seccomp filter (`--security-opt
	 * seccomp=unconfined`); see docs/security.md. */
	bool seccomp_unconfined;

	/* Tests only: enter the root by the chroot fallback (see enter_root in
	 * sandbox_setup.c) even where pivot_root would work, so that path is
	 * exercised on machines whose root is not an initramfs. */
	bool force_chroot;

	/* Output: the callback if set, else output_fd (dup'ed as the step's
	 * stdout and stderr, e.g. a log file), else /dev/null. */
	sandbox_output_fn output;
	void *output_ctx;
	int output_fd;
};

#define SANDBOX_DEFAULT_PATH	 "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SANDBOX_DEFAULT_HOSTNAME "ocb"
#define SANDBOX_MAX_LOWERS	 500 /* overlayfs' own stacking limit */
#define SANDBOX_MAX_MOUNTS	 64
#define SANDBOX_CONFIG_INIT                                                                                  \
	{                                                                                                    \
		.output_fd = -1                                                                              \
	}

/* How the step ended: exited with exit_code (signal 0), or killed by
 * `signal` (exit_code then 128 + signal, the shell's convention). */
struct sandbox_result {
	int exit_code;
	int signal;
};

/* Run the step; on 0 *result says how it ended (a non-zero exit code is a
 * result, not an error).  Fails with -1 when the sandbox could not be set up
 * or the command could not be started, with the message naming what failed
 * ("exec 'foo': No such file or directory", "user 'bob' not found in
 * /etc/passwd"); codes: OCB_EENV (not root, kernel refused namespaces),
 * OCB_EINVAL (bad config, unknown user), OCB_ELIMIT (too many lower dirs or
 * mounts), OCB_EBUILD (the command could not be executed), OCB_EFAIL
 * otherwise. */
int sandbox_run(const struct sandbox_config *cfg, struct sandbox_result *result, struct ocb_error *err);

/* SIGKILL every sandbox currently running in this process (their init, hence
 * their whole PID namespace).  Async-signal-safe: call it from a SIGINT or
 * SIGTERM handler; the sandbox_run() calls then return an error. */
void sandbox_kill_all(void);

/* The paths (relative to the rootfs, no leading '/', sorted) where cfg puts
 * mounts: proc, sys, dev, etc/resolv.conf, etc/hosts, run/secrets/ID..., the
 * cache targets.  NULL-terminated; free with sandbox_free_strv().  Feed them
 * to overlay_diff's skip list. */
int sandbox_mount_targets(const struct sandbox_config *cfg, char ***targets, struct ocb_error *err);
void sandbox_free_strv(char **strv);

/* Can this host run binaries of `arch` ("arm64"/"aarch64", "amd64"/"x86_64",
 * "arm", "ppc64le", "s390x", "riscv64", "386"; a "linux/" prefix is fine) in
 * a sandbox?  0 for the host's
 * own arch; otherwise the binfmt_misc entry qemu-ARCH must exist, be enabled
 * and have the F (fix binary) flag, since the interpreter is not in the rootfs.
 * OCB_EENV naming scripts/setup-binfmt when not; OCB_EINVAL for an unknown
 * arch. */
int sandbox_check_binfmt(const char *arch, struct ocb_error *err);
/* The same against binfmt_misc mounted at dir (for tests). */
int sandbox_check_binfmt_at(const char *dir, const char *arch, struct ocb_error *err);

#endif
