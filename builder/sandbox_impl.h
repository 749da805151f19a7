/* Sandbox internals shared by sandbox_*.c (not for other modules).
 *
 * The parent turns a sandbox_config into a sandbox_plan (sandbox_plan.c,
 * sandbox_dev.c): every allocation is made and every host path checked up
 * front, so that the clone()d child only executes the plan (sandbox_setup.c,
 * sandbox_init.c) with async-signal-safe calls.  The child opens the host
 * paths again itself: overlayfs and bind mounts refuse a source whose mount
 * belongs to another mount namespace, which an fd opened by the parent does. */
#ifndef OCB_SANDBOX_IMPL_H
#define OCB_SANDBOX_IMPL_H

#include <limits.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "builder/passwd.h"
#include "builder/sandbox.h"
#include "builder/sbuf.h"

enum sandbox_op_kind {
	SANDBOX_OP_MOUNT,      /* mount a fresh `fstype` (data, flags) on directory dest */
	SANDBOX_OP_BIND,       /* bind host path src on dest (a file with SANDBOX_OPF_FILE) */
	SANDBOX_OP_SYMLINK,    /* symlink dest -> target */
	SANDBOX_OP_MKDIR,      /* mkdir dest (mode) */
	SANDBOX_OP_MASK,       /* hide dest if present: /dev/null over a file, empty ro tmpfs over a dir */
	SANDBOX_OP_REMOUNT_RO, /* make dest read-only if present (bind onto itself, remount) */
	SANDBOX_OP_FILE_DATA,  /* a file holding `data`, bind-mounted on dest (staged in /dev's tmpfs) */
};

/* SANDBOX_OP_* options. */
#define SANDBOX_OPF_FILE     0x1u /* dest is a file mount point, not a directory */
#define SANDBOX_OPF_OPTIONAL 0x2u /* skip when dest is a dangling symlink */
#define SANDBOX_OPF_STUB     0x4u /* dest lives in the rootfs: record what we create for it */
/* BIND of a whole host tree, read-only (nosuid, nodev, noexec) down to every
 * submount, on an ordinary directory only (like MOUNT): the rootless /sys. */
#define SANDBOX_OPF_TREE_RO 0x8u

struct sandbox_op {
	enum sandbox_op_kind kind;
	unsigned int opts;
	const char *dest;    /* absolute path inside the new root */
	const char *target;  /* SYMLINK target */
	const char *fstype;  /* MOUNT */
	const char *data;    /* MOUNT options; FILE_DATA contents */
	unsigned long flags; /* MS_* for MOUNT; MS_RDONLY etc. applied by remount for BIND */
	const char *src;     /* BIND, MASK: the host path */
	int src_fd;	     /* child: a detached clone of it (open_tree) */
	mode_t mode;	     /* MKDIR */
};

struct sandbox_plan {
	struct sandbox_op *ops;
	size_t n_ops, cap_ops;
	char **strings; /* owned strings the ops point into */
	size_t n_strings, cap_strings;

	/* Overlay dirs: the lowers (topmost first), then upper, then work; the
	 * child opens them into dir_fds and writes the mount options, naming
	 * each dir by its fd number relative to /proc/self/fd, into
	 * overlay_data (a page: the kernel's limit). */
	const char **dirs;
	size_t n_dirs;
	int *dir_fds;
	char *overlay_data;
	size_t overlay_size;
	int upper_fd; /* child: dir_fds[n_dirs - 2], for copy-up checks */

	bool new_net;
	/* In ocb's rootless user namespace (builder/rootless.h): the overlay
	 * takes `userxattr`; sysfs needs a network namespace of our own. */
	bool userns;
	bool force_chroot; /* sandbox_config.force_chroot */
	const char *hostname;
	const char *user;
	const char *cwd;
	char *const *argv; /* NULL-terminated */
	/* env: the caller's entries, then room for PATH and HOME, then NULL.
	 * The child fills the extra slots (HOME needs the rootfs's passwd). */
	char **envp;
	size_t n_env;
	bool env_has_path, env_has_home;
	char home_entry[PATH_MAX + 8];

	/* The step's seccomp filter (sandbox_seccomp.c), NULL = unconfined. */
	struct sock_filter *seccomp;
	unsigned short seccomp_len;

	int output_fd; /* the write end the step gets as stdout/stderr, -1 = /dev/null */
	int info_fd;   /* write end of the child -> parent message pipe */
};

int sandbox_plan_build(const struct sandbox_config *cfg, struct sandbox_plan *plan, struct ocb_error *err);
void sandbox_plan_release(struct sandbox_plan *plan);
/* Append an op; the plan copies dest/target/data into its own strings. */
int sandbox_plan_add(struct sandbox_plan *plan, const struct sandbox_op *op, struct ocb_error *err);
/* Check that host path exists (a directory with O_DIRECTORY in flags, else
 * a regular file or a character device); its plan-owned copy or NULL. */
const char *sandbox_plan_source(struct sandbox_plan *plan, const char *path, int flags,
				struct ocb_error *err);
/* The minimal /dev (sandbox_dev.c). */
int sandbox_plan_add_dev(struct sandbox_plan *plan, struct ocb_error *err);

/* Child -> parent messages, one write() each (smaller than PIPE_BUF, so
 * atomic even with init and the step's process writing). */
enum sandbox_msg_type {
	SANDBOX_MSG_ERROR = 1, /* setup or exec failed: text + errnum (+ value = ocb code) */
	SANDBOX_MSG_CREATED,   /* we created text (value 1 = directory) for a mount point */
	SANDBOX_MSG_COPIEDUP,  /* directory text was copied up only to hold a mount point */
	SANDBOX_MSG_STATUS,    /* the step's wait status in value */
};

#define SANDBOX_MSG_TEXT 2048

struct sandbox_msg {
	int type;
	int errnum;
	int value;
	char text[SANDBOX_MSG_TEXT];
};

/* Child side: send a message (async-signal-safe). */
void sandbox_send(int info_fd, int type, int errnum, int value, const char *text);
/* Send an ERROR whose text is the list of strings, ended by SANDBOX_END,
 * joined; always returns -1. */
#define SANDBOX_END ((const char *)NULL)
int sandbox_fail(int info_fd, int code, int errnum, ...) __attribute__((sentinel));

/* sandbox_seccomp.c: compile the default filter into plan->seccomp (parent);
 * install it in the calling process (child: async-signal-safe, needs
 * CAP_SYS_ADMIN as it does not set no_new_privs; -1 with errno). */
int sandbox_seccomp_build(struct sandbox_plan *plan, struct ocb_error *err);
int sandbox_seccomp_load(const struct sandbox_plan *plan);

/* sandbox_setup.c: in the child, in the new namespaces: make mounts private,
 * open the host paths, mount the overlay, pivot_root, run the ops, close the
 * host fds.  Errors are sent; -1. */
int sandbox_setup_root(struct sandbox_plan *plan);
/* Create the missing directories of absolute path `path` inside the root,
 * recording stubs when `stub`; an O_PATH fd of the directory or -1 (errno). */
int sandbox_mkdir_p(const struct sandbox_plan *plan, const char *path, bool stub);

/* sandbox_init.c: PID 1 of the sandbox; never returns. */
__attribute__((noreturn)) void sandbox_init_main(struct sandbox_plan *plan);

/* Close every fd >= 3 except `keep` (-1 for none); async-signal-safe. */
void sandbox_close_fds_except(int keep);

#endif
