/* Executing the mount plan in the child, in its new mount namespace.
 * Async-signal-safe only: this runs between clone() and execve().
 *
 * Order: make every mount private, mount the overlay over BASE (cwd
 * /proc/self/fd so the plan's fds name the dirs), pivot_root into it and
 * detach the host root, then run the ops with paths resolved inside the new
 * root (so a symlink in the image cannot point a mount outside it). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "builder/sandbox_impl.h"
#include "oci/banned.h"

/* Where the overlay is mounted before pivot_root; hidden from the host by
 * the private mount namespace, and every input is an fd, so what was there
 * does not matter (bubblewrap uses /tmp the same way). */
#define BASE "/tmp"

static void fd_path(char *buf, size_t size, int fd)
{
	struct sbuf sb;

	sbuf_init(&sb, buf, size);
	sbuf_add(&sb, "/proc/self/fd/");
	sbuf_add_uint(&sb, (unsigned long)fd);
}

/* The path of directory fd inside the root ("" for the root itself), via
 * /proc/self/fd; -1 if unknown or too long. */
static int dir_path(int fd, bool is_root, char *buf, size_t size)
{
	char link[32];
	ssize_t n;

	if (is_root) {
		buf[0] = '\0';
		return 0;
	}
	fd_path(link, sizeof(link), fd);
	n = readlink(link, buf, size - 1);
	if (n <= 0 || (size_t)n >= size - 1 || buf[0] != '/')
		return -1;
	buf[n] = '\0';
	if (n == 1)
		buf[0] = '\0';
	return 0;
}

/* Before creating `name` in directory dfd: if the directory is not in the
 * upper dir yet, creating an entry copies it up; report it so the parent can
 * take it out again.  Then report the created entry. */
static void note_stub(const struct sandbox_plan *plan, int dfd, bool is_root, const char *name, bool is_dir,
		      bool before)
{
	char dir[PATH_MAX], text[SANDBOX_MSG_TEXT];
	struct sbuf sb;
	struct stat st;

	if (dir_path(dfd, is_root, dir, sizeof(dir)) < 0)
		return;
	if (before) {
		if (!dir[0] || fstatat(plan->upper_fd, dir + 1, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return;
		sbuf_init(&sb, text, sizeof(text));
		sbuf_add(&sb, dir);
		if (sbuf_ok(&sb))
			sandbox_send(plan->info_fd, SANDBOX_MSG_COPIEDUP, 0, 1, text);
		return;
	}
	sbuf_init(&sb, text, sizeof(text));
	sbuf_add(&sb, dir);
	sbuf_add(&sb, "/");
	sbuf_add(&sb, name);
	if (sbuf_ok(&sb)) /* never act on a truncated path */
		sandbox_send(plan->info_fd, SANDBOX_MSG_CREATED, 0, is_dir, text);
}

/* openat() that refuses magic links (/proc/self/fd/N, /proc/self/cwd...):
 * while the ops run, the sandbox still holds the host's overlay dirs and
 * bind sources open, and an image symlink to /proc/self/fd/3 would otherwise
 * lead a mount point (and the mount) into one of them, on the host.  Plain
 * symlinks still resolve, inside the new root. */
static int open_resolve(int dfd, const char *name, int flags, unsigned long long resolve)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .resolve = resolve,
	};

	return (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
}

static int open_nomagic(int dfd, const char *name, int flags)
{
	return open_resolve(dfd, name, flags, RESOLVE_NO_MAGICLINKS);
}

/* Copy the next component of *p into comp; 0 at the end, -1 if too long. */
static int next_component(const char **p, char *comp, size_t size)
{
	size_t n;

	while (**p == '/')
		(*p)++;
	n = strcspn(*p, "/");
	if (n == 0)
		return 0;
	if (n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(comp, *p, n);
	comp[n] = '\0';
	*p += n;
	return 1;
}

/* sandbox_mkdir_p() with the openat2 resolve flags for each component. */
static int mkdir_p_resolve(const struct sandbox_plan *plan, const char *path, bool stub,
			   unsigned long long resolve)
{
	char comp[NAME_MAX + 1];
	bool is_root = true;
	int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int rc;

	while (dfd >= 0 && (rc = next_component(&path, comp, sizeof(comp))) > 0) {
		int nfd = open_resolve(dfd, comp, O_PATH | O_DIRECTORY, resolve);

		if (nfd < 0 && errno == ENOENT) {
			struct stat st;

			if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0)
				goto fail; /* a dangling symlink: ENOENT */
			if (stub)
				note_stub(plan, dfd, is_root, comp, true, true);
			if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST)
				goto fail;
			if (stub)
				note_stub(plan, dfd, is_root, comp, true, false);
			nfd = open_resolve(dfd, comp, O_PATH | O_DIRECTORY, resolve);
		}
		if (nfd < 0)
			goto fail;
		close(dfd);
		dfd = nfd;
		is_root = false;
	}
	if (dfd >= 0 && rc < 0)
		goto fail;
	return dfd;
fail:;
	int saved = errno;
	close(dfd);
	errno = saved;
	return -1;
}

int sandbox_mkdir_p(const struct sandbox_plan *plan, const char *path, bool stub)
{
	return mkdir_p_resolve(plan, path, stub, RESOLVE_NO_MAGICLINKS);
}

/* Split "/a/b/name" into its directory ("/a/b", "/" for "/name") and name. */
static int split_dest(const char *dest, char *dir, size_t size, const char **name)
{
	const char *slash = strrchr(dest, '/');
	size_t n = slash ? (size_t)(slash - dest) : 0;

	if (!slash || !slash[1] || n + 2 > size) {
		errno = EINVAL;
		return -1;
	}
	memcpy(dir, dest, n);
	dir[n ? n : 1] = '\0';
	if (!n)
		dir[0] = '/';
	*name = slash + 1;
	return 0;
}

/* Make sure the file mount point op->dest exists; 1 ready, 0 skip (an
 * optional dest that is a dangling symlink or a directory), -1 error. */
static int file_mountpoint(const struct sandbox_plan *plan, const struct sandbox_op *op)
{
	bool stub = op->opts & SANDBOX_OPF_STUB;
	char dir[PATH_MAX];
	const char *name;
	struct stat st;
	int dfd, fd, rc = 1;

	if (split_dest(op->dest, dir, sizeof(dir), &name) < 0)
		return -1;
	dfd = sandbox_mkdir_p(plan, dir, stub);
	if (dfd < 0)
		return -1;
	fd = open_nomagic(dfd, name, O_PATH);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			errno = EISDIR; /* an image's odd resolv.conf dir: skipped if optional */
			rc = (op->opts & SANDBOX_OPF_OPTIONAL) ? 0 : -1;
		}
		close(fd);
	} else if (errno != ENOENT) {
		rc = -1;
	} else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = (op->opts & SANDBOX_OPF_OPTIONAL) ? 0 : -1; /* dangling symlink */
		errno = ENOENT;
	} else {
		bool is_root = !strcmp(dir, "/");

		if (stub)
			note_stub(plan, dfd, is_root, name, false, true);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			rc = -1;
		} else {
			close(fd);
			if (stub)
				note_stub(plan, dfd, is_root, name, false, false);
		}
	}
	int saved = errno;
	close(dfd);
	errno = saved;
	return rc;
}

static int remount(const char *dest, unsigned long flags)
{
	return mount(NULL, dest, NULL, MS_BIND | MS_REMOUNT | flags, NULL);
}

static int op_fail(const struct sandbox_plan *plan, const char *what, const struct sandbox_op *op)
{
	return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, what, " '", op->dest, "'", SANDBOX_END);
}

static int run_bind(const struct sandbox_plan *plan, const struct sandbox_op *op)
{
	int fd, rc;

	if (op->opts & SANDBOX_OPF_FILE) {
		rc = file_mountpoint(plan, op);
		if (rc <= 0)
			return rc == 0 ? 0 : op_fail(plan, "create mount point", op);
	} else {
		/* A whole host tree only on an ordinary directory, as MOUNT. */
		fd = mkdir_p_resolve(plan, op->dest, op->opts & SANDBOX_OPF_STUB,
				     (op->opts & SANDBOX_OPF_TREE_RO) ? RESOLVE_NO_SYMLINKS
								      : RESOLVE_NO_MAGICLINKS);
		if (fd < 0 && errno == ELOOP && (op->opts & SANDBOX_OPF_TREE_RO))
			return sandbox_fail(plan->info_fd, OCB_EUNSAFE, errno, "bind mount on '", op->dest,
					    "': a symlink in the image (it needs an ordinary directory)",
					    SANDBOX_END);
		if (fd < 0)
			return op_fail(plan, "create mount point", op);
		close(fd);
	}
	if (move_mount(op->src_fd, "", AT_FDCWD, op->dest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return op_fail(plan, "bind mount on", op);
	if (op->flags && remount(op->dest, op->flags) < 0)
		return op_fail(plan, "remount", op);
	return 0;
}

/* Where FILE_DATA files are written before being bind-mounted: the
 * sandbox's own /dev tmpfs, already mounted; unlinked right after. */
#define STAGE "/dev/.ocb-file"

static int run_file_data(const struct sandbox_plan *plan, const struct sandbox_op *op)
{
	size_t len = strlen(op->data), off = 0;
	int rc = file_mountpoint(plan, op);
	int fd;

	if (rc <= 0)
		return rc == 0 ? 0 : op_fail(plan, "create mount point", op);
	fd = open(STAGE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return op_fail(plan, "stage the contents of", op);
	while (off < len) {
		ssize_t n = write(fd, op->data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return op_fail(plan, "stage the contents of", op);
		}
		off += (size_t)n;
	}
	close(fd);
	rc = mount(STAGE, op->dest, NULL, MS_BIND, NULL);
	int saved = errno;
	unlink(STAGE);
	errno = saved;
	if (rc < 0)
		return op_fail(plan, "bind mount on", op);
	if (op->flags && remount(op->dest, op->flags) < 0)
		return op_fail(plan, "remount", op);
	return 0;
}

static int run_op(const struct sandbox_plan *plan, const struct sandbox_op *op)
{
	const unsigned long nosuid = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	struct stat st;
	int fd;

	switch (op->kind) {
	case SANDBOX_OP_MOUNT:
		/* proc, sysfs and the /dev tmpfs only on ordinary directories
		 * (runc's rule): an image's `/proc -> /` stacked proc over the
		 * root, where the masks (applied by path) missed it and "/.."
		 * reached it, /proc/sys writable. */
		fd = mkdir_p_resolve(plan, op->dest, op->opts & SANDBOX_OPF_STUB, RESOLVE_NO_SYMLINKS);
		if (fd < 0 && errno == ELOOP)
			return sandbox_fail(
			    plan->info_fd, OCB_EUNSAFE, errno, "mount ", op->fstype, " on '", op->dest,
			    "': a symlink in the image (it needs an ordinary directory)", SANDBOX_END);
		if (fd < 0)
			return op_fail(plan, "create mount point", op);
		close(fd);
		if (op->src_fd >= 0) { /* made by open_sources() */
			if (move_mount(op->src_fd, "", AT_FDCWD, op->dest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
				return op_fail(plan, "mount on", op);
			return 0;
		}
		if (mount(op->fstype, op->dest, op->fstype, op->flags, op->data) < 0)
			return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "mount ", op->fstype, " on '",
					    op->dest, "'", SANDBOX_END);
		return 0;
	case SANDBOX_OP_BIND:
		return run_bind(plan, op);
	case SANDBOX_OP_FILE_DATA:
		return run_file_data(plan, op);
	case SANDBOX_OP_SYMLINK:
		if (symlink(op->target, op->dest) < 0)
			return op_fail(plan, "symlink", op);
		return 0;
	case SANDBOX_OP_MKDIR:
		if (mkdir(op->dest, op->mode) < 0 && errno != EEXIST)
			return op_fail(plan, "mkdir", op);
		return 0;
	case SANDBOX_OP_MASK:
		if (lstat(op->dest, &st) < 0 || S_ISLNK(st.st_mode))
			return 0;
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", op->dest, "tmpfs", MS_RDONLY | nosuid, "size=0") < 0)
				return op_fail(plan, "mask", op);
			return 0;
		}
		if (move_mount(op->src_fd, "", AT_FDCWD, op->dest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return op_fail(plan, "mask", op);
		return 0;
	case SANDBOX_OP_REMOUNT_RO:
		if (lstat(op->dest, &st) < 0 || S_ISLNK(st.st_mode))
			return 0;
		if (mount(op->dest, op->dest, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    remount(op->dest, MS_RDONLY | nosuid) < 0)
			return op_fail(plan, "make read-only", op);
		return 0;
	}
	errno = EINVAL;
	return op_fail(plan, "unknown op for", op);
}

/* pivot_root(".", ".") (runc's trick: no put_old directory needed inside the
 * image), then detach the old root stacked on top.  Where pivot_root is
 * refused (the host root is an initramfs), move the mount and chroot; the
 * host's tree then stays above the overlay, where a second chroot with the
 * working directory left outside (then "..") would reach it, so the step
 * loses CAP_SYS_CHROOT: dropped from the bounding set here, it is gone from
 * every process the step execs (Docker's set keeps it otherwise). */
static int enter_root(const struct sandbox_plan *plan)
{
	if (chdir(BASE) < 0)
		return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "chdir into the overlay", SANDBOX_END);
	if (!plan->force_chroot && syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "detach the host root",
					    SANDBOX_END);
	} else if (plan->force_chroot || errno == EINVAL) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
			return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "move into the overlay",
					    SANDBOX_END);
		if (prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT, 0, 0, 0) < 0)
			return sandbox_fail(plan->info_fd, OCB_EFAIL, errno,
					    "drop CAP_SYS_CHROOT in the chroot fallback", SANDBOX_END);
	} else {
		return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "pivot_root into the overlay",
				    SANDBOX_END);
	}
	if (chdir("/") < 0)
		return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "chdir /", SANDBOX_END);
	return 0;
}

/* Every mount of a detached tree read-only, nosuid, nodev, noexec (one
 * mount_setattr; a remount would reach only the top mount). */
static int tree_read_only(int fd)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					      MOUNT_ATTR_NOEXEC};

	return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
}

/* A detached proc or sysfs mount, made while the host's are still visible:
 * in a user namespace the kernel allows one only when this mount namespace
 * shows a full one already (mount_too_revealing), and after pivot_root none
 * is left.  Attached later by run_op() with move_mount(). */
static int detached_mount(const struct sandbox_op *op)
{
	unsigned int attr = 0;
	int fs, mnt;

	if (op->flags & MS_NOSUID)
		attr |= MOUNT_ATTR_NOSUID;
	if (op->flags & MS_NODEV)
		attr |= MOUNT_ATTR_NODEV;
	if (op->flags & MS_NOEXEC)
		attr |= MOUNT_ATTR_NOEXEC;
	if (op->flags & MS_RDONLY)
		attr |= MOUNT_ATTR_RDONLY;
	fs = fsopen(op->fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close(fs);
		return -1;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attr);
	close(fs);
	return mnt;
}

/* Open the host paths in this mount namespace and write the overlay options
 * with the fds' numbers. */
static int open_sources(struct sandbox_plan *plan)
{
	size_t n_lower = plan->n_dirs - 2;
	struct sbuf sb;

	for (size_t i = 0; i < plan->n_dirs; i++) {
		plan->dir_fds[i] = open(plan->dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (plan->dir_fds[i] < 0)
			return sandbox_fail(plan->info_fd, OCB_EFAIL, errno, "open '", plan->dirs[i], "'",
					    SANDBOX_END);
	}
	plan->upper_fd = plan->dir_fds[n_lower];
	sbuf_init(&sb, plan->overlay_data, plan->overlay_size);
	sbuf_add(&sb, "lowerdir=");
	for (size_t i = 0; i < n_lower; i++) {
		if (i)
			sbuf_add(&sb, ":");
		sbuf_add_uint(&sb, (unsigned long)plan->dir_fds[i]);
	}
	sbuf_add(&sb, ",upperdir=");
	sbuf_add_uint(&sb, (unsigned long)plan->upper_fd);
	sbuf_add(&sb, ",workdir=");
	sbuf_add_uint(&sb, (unsigned long)plan->dir_fds[n_lower + 1]);
	/* Whole files and whole directories in the upper dir, for overlay_diff
	 * (Docker's overlay2 mounts the same way). */
	/* In a user namespace: `userxattr` (user.overlay.* instead of
	 * trusted.overlay.*), with which the kernel wants redirect_dir=nofollow. */
	if (plan->userns)
		sbuf_add(&sb, ",userxattr,redirect_dir=nofollow,metacopy=off,index=off");
	else
		sbuf_add(&sb, ",redirect_dir=off,metacopy=off,index=off");
	if (!sbuf_ok(&sb))
		return sandbox_fail(plan->info_fd, OCB_ELIMIT, 0, "overlay options exceed a page",
				    SANDBOX_END);
	for (size_t i = 0; i < plan->n_ops; i++) {
		struct sandbox_op *op = &plan->ops[i];

		if (plan->userns && op->kind == SANDBOX_OP_MOUNT &&
		    (!strcmp(op->fstype, "proc") || !strcmp(op->fstype, "sysfs"))) {
			op->src_fd = detached_mount(op);
			if (op->src_fd < 0)
				return sandbox_fail(plan->info_fd, OCB_EENV, errno, "mount ", op->fstype,
						    " in the user namespace", SANDBOX_END);
			continue;
		}
		if (!op->src)
			continue;
		/* A detached copy of the bind mount, attached after pivot_root
		 * (when the host's tree is gone) with move_mount(). */
		op->src_fd = open_tree(AT_FDCWD, op->src,
				       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					   (op->opts & SANDBOX_OPF_FILE ? 0 : AT_RECURSIVE));
		if (op->src_fd < 0)
			return sandbox_fail(plan->info_fd, OCB_EENV, errno, "open_tree '", op->src, "'",
					    SANDBOX_END);
		if ((op->opts & SANDBOX_OPF_TREE_RO) && tree_read_only(op->src_fd) < 0)
			return sandbox_fail(plan->info_fd, OCB_EENV, errno, "make '", op->src, "' read-only",
					    SANDBOX_END);
	}
	return 0;
}

static void close_sources(struct sandbox_plan *plan)
{
	for (size_t i = 0; i < plan->n_dirs; i++)
		if (plan->dir_fds[i] >= 0)
			close(plan->dir_fds[i]);
	for (size_t i = 0; i < plan->n_ops; i++)
		if (plan->ops[i].src_fd >= 0)
			close(plan->ops[i].src_fd);
	plan->upper_fd = -1;
}

int sandbox_setup_root(struct sandbox_plan *plan)
{
	int fd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sandbox_fail(plan->info_fd, OCB_EENV, errno, "make the mounts private", SANDBOX_END);
	if (open_sources(plan) < 0)
		return -1;
	if (chdir("/proc/self/fd") < 0)
		return sandbox_fail(plan->info_fd, OCB_EENV, errno, "chdir /proc/self/fd", SANDBOX_END);
	/* nodev: the step keeps CAP_MKNOD (Docker's set) but there is no device
	 * cgroup, so a node it makes, or one that came with the image, must
	 * not open (`mknod /tmp/sda b 8 0` would be the host's disk). */
	if (mount("overlay", BASE, "overlay", MS_NODEV, plan->overlay_data) < 0)
		return sandbox_fail(plan->info_fd, OCB_EENV, errno, "mount overlay (", plan->overlay_data,
				    ")", SANDBOX_END);
	if (enter_root(plan) < 0)
		return -1;
	/* The workdir first: it belongs to the layer (Docker's WORKDIR), so a
	 * mount point below it must not make it a stub to remove. */
	fd = sandbox_mkdir_p(plan, plan->cwd, false);
	if (fd < 0)
		return sandbox_fail(plan->info_fd, OCB_EBUILD, errno, "create workdir '", plan->cwd, "'",
				    SANDBOX_END);
	close(fd);
	for (size_t i = 0; i < plan->n_ops; i++)
		if (run_op(plan, &plan->ops[i]) < 0)
			return -1;
	close_sources(plan);
	return 0;
}
