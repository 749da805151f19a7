/* OCI whiteouts: `.wh.NAME` hides NAME of lower layers, `.wh..wh..opq` hides
 * every lower entry of its directory.  Applied to a single rootfs they remove
 * lower content; with OCI_EXTRACT_OVERLAY_WHITEOUTS they are kept in
 * overlayfs form for a per-layer lower directory.
 *
 * Paths this layer wrote (x->written, closed under parents) survive: the
 * spec says whiteouts apply to lower layers only, and a writer may put the
 * opaque marker after entries of the same directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/extract_internal.h"
#include "oci/banned.h"

#define WH	  ".wh."
#define WH_LEN	  (sizeof(WH) - 1)
#define WH_META	  ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* Join dir and name into buf; OCB_ELIMIT when too long. */
static int join(char *buf, size_t size, const char *dir, const char *name, struct ocb_error *err)
{
	int n = *dir ? snprintf(buf, size, "%s/%s", dir, name) : snprintf(buf, size, "%s", name);

	if (n < 0 || (size_t)n >= size)
		return ocb_error_set(err, OCB_ELIMIT, 0, "name too long");
	return 0;
}

/* Remove every entry under the directory fd (consumed) whose path (under
 * prefix) this layer did not write; descend into the ones it did. */
static int prune(struct extractor *x, int fd, const char *prefix, unsigned depth, struct ocb_error *err)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(fd);
		return ocb_error_sys(err, "cannot read directory '%s'", prefix);
	}
	if (depth == 0) {
		closedir(d);
		return ocb_error_set(err, OCB_ELIMIT, 0, "directory tree too deep at '%s'", prefix);
	}
	for (;;) {
		char child[PATH_MAX];
		int cfd;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = ocb_error_sys(err, "cannot read directory '%s'", prefix);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (join(child, sizeof(child), prefix, de->d_name, err) < 0) {
			rc = -1;
			break;
		}
		if (!oci_pathset_has(&x->written, child, strlen(child))) {
			if (extract_remove_at(dirfd(d), de->d_name, EXTRACT_REMOVE_MAX_DEPTH, err) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			if (errno == ENOTDIR || errno == ELOOP)
				continue;
			rc = ocb_error_sys(err, "cannot open directory '%s'", child);
			break;
		}
		if (prune(x, cfd, child, depth - 1, err) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	x->cache_valid = false;
	return rc;
}

/* Hide the lower content of directory dir: open it in the root (following
 * in-root symlinks, as any parent) and prune it. */
static int apply_opaque(struct extractor *x, const char *dir, struct ocb_error *err)
{
	int fd = extract_open_in_root(x->root_fd, dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0; /* nothing below to hide */
		return ocb_error_sys(err, "cannot open directory '%s'", dir);
	}
	return prune(x, fd, dir, EXTRACT_PRUNE_MAX_DEPTH, err);
}

/* Hide lower NAME in dir: remove it, or when this layer wrote it, prune it. */
static int apply_whiteout(struct extractor *x, const char *dir, const char *name, struct ocb_error *err)
{
	char full[PATH_MAX];
	cleanup_close int dfd = -1;
	int fd;

	if (join(full, sizeof(full), dir, name, err) < 0)
		return -1;
	dfd = extract_open_in_root(x->root_fd, dir, O_PATH | O_DIRECTORY);
	if (dfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return ocb_error_sys(err, "cannot open directory '%s'", dir);
	}
	if (!oci_pathset_has(&x->written, full, strlen(full))) {
		x->cache_valid = false;
		return extract_remove_at(dfd, name, EXTRACT_REMOVE_MAX_DEPTH, err);
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0; /* this layer's own non-directory: nothing lower */
	return prune(x, fd, full, EXTRACT_PRUNE_MAX_DEPTH, err);
}

static int overlay_whiteout(struct extractor *x, const char *dir, const char *name, struct ocb_error *err)
{
	int dfd;

	if (extract_parent(x, dir, &dfd, err) < 0)
		return -1;
	if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) == 0)
		return 0;
	if (errno == EEXIST) {
		if (extract_replace(x, dfd, name, err) < 0)
			return -1;
		if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) == 0)
			return 0;
	}
	if (errno == EPERM)
		return ocb_error_set(err, OCB_EENV, errno, "an overlay whiteout needs CAP_MKNOD");
	return ocb_error_sys(err, "cannot make whiteout '%s'", name);
}

static int overlay_opaque(struct extractor *x, const char *dir, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	int dfd;

	/* The directory itself may not have an entry yet: make it. */
	if (extract_parent(x, dir, &dfd, err) < 0)
		return -1;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ocb_error_sys(err, "cannot open directory '%s'", dir);
	if (fsetxattr(fd,
		      (x->flags & OCI_EXTRACT_OVERLAY_USERXATTR) ? "user.overlay.opaque"
								 : "trusted.overlay.opaque",
		      "y", 1, 0) < 0) {
		if (errno == EPERM)
			return ocb_error_set(err, OCB_EENV, errno,
					     "an opaque overlay directory needs CAP_SYS_ADMIN");
		return ocb_error_sys(err, "cannot mark '%s' opaque", dir);
	}
	return 0;
}

int extract_whiteout(struct extractor *x, const char *dir, const char *base, struct ocb_error *err)
{
	bool overlay = x->flags & OCI_EXTRACT_OVERLAY_WHITEOUTS;
	const char *name = base + WH_LEN;

	x->stats.whiteouts++;
	if (!strcmp(base, WH_OPAQUE)) {
		if (overlay)
			return overlay_opaque(x, dir, err);
		return x->track ? apply_opaque(x, dir, err) : 0;
	}
	if (!strncmp(base, WH_META, sizeof(WH_META) - 1))
		return 0; /* aufs metadata (.wh..wh.plnk, ...): not content */
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return ocb_error_set(err, OCB_EUNSAFE, 0, "whiteout names no file of its directory");
	if (overlay)
		return overlay_whiteout(x, dir, name, err);
	return x->track ? apply_whiteout(x, dir, name, err) : 0;
}
