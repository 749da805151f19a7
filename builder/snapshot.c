#include "builder/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/private_dir.h"
#include "builder/rootless.h"
#include "builder/store_lock.h"
#include "oci/cleanup.h"
#include "oci/compress.h"
#include "oci/extract.h"
#include "oci/fdio.h"
#include "oci/banned.h"

#define FORMAT_FILE "overlay-xattrs"

/* The convention of root/FORMAT_FILE: "trusted" or "user"; "" when missing.
 * Opened without following a symlink or blocking on a fifo, and read only
 * when it is a regular file. */
static int read_format(int root_fd, char *buf, size_t size, struct ocb_error *err)
{
	cleanup_close int fd = openat(root_fd, FORMAT_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno != ELOOP)
		return ocb_error_sys(err, "open '%s'", FORMAT_FILE);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return ocb_error_set(err, OCB_EENV, 0, "'%s' in the store is not a regular file",
				     FORMAT_FILE);
	n = read(fd, buf, size - 1);
	if (n < 0)
		return ocb_error_sys(err, "read '%s'", FORMAT_FILE);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Write `want` as the store's convention unless another process or thread
 * got there first (then *buf holds theirs).  The temp file has a random name:
 * the platforms of one multi-platform build open the store at once, from
 * threads of one process. */
static int write_format(int root_fd, const char *want, char *buf, size_t size, struct ocb_error *err)
{
	char tmp[OCI_TMP_NAME_MAX];
	int fd, rc;

	fd = oci_tmpfile_at(root_fd, tmp, err);
	if (fd < 0)
		return ocb_error_wrap(err, "store marker '%s'", FORMAT_FILE);
	rc = oci_write_all(fd, want, strlen(want)) < 0 || oci_write_all(fd, "\n", 1) < 0 ? -1 : 0;
	if (close(fd) < 0 || rc < 0) {
		ocb_error_sys(err, "write '%s'", tmp);
		(void)unlinkat(root_fd, tmp, 0);
		return -1;
	}
	rc = renameat2(root_fd, tmp, root_fd, FORMAT_FILE, RENAME_NOREPLACE);
	if (rc < 0 && errno != EEXIST) {
		ocb_error_sys(err, "rename '%s'", tmp);
		(void)unlinkat(root_fd, tmp, 0);
		return -1;
	}
	(void)unlinkat(root_fd, tmp, 0);
	if (rc == 0) {
		snprintf(buf, size, "%s", want);
		return 0;
	}
	return read_format(root_fd, buf, size, err);
}

static bool dir_is_empty(int fd)
{
	cleanup_close int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	bool empty = true;

	if (!d)
		return false;
	dup_fd = -1; /* the DIR owns it */
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

/* Snapshots carry the overlay xattrs under trusted.overlay.* (made as root)
 * or user.overlay.* (rootless, overlayfs' userxattr): one convention per
 * store, recorded in root/overlay-xattrs and checked, since the other
 * overlay mount would silently ignore opaque markers.  A store from before
 * the file with snapshots in it was made as root.  A process that is
 * neither root nor rootless makes no snapshots and is not checked. */
static int check_format(const char *root, int snapshots_fd, struct ocb_error *err)
{
	const char *want = rootless_active() ? "user" : "trusted";
	cleanup_close int root_fd = -1;
	char have[32];

	if (geteuid() != 0)
		return 0;
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return ocb_error_sys(err, "open '%s'", root);
	if (read_format(root_fd, have, sizeof(have), err) < 0)
		return -1;
	if (!have[0] &&
	    write_format(root_fd, dir_is_empty(snapshots_fd) ? want : "trusted", have, sizeof(have), err) < 0)
		return -1;
	if (strcmp(have, want) != 0)
		return ocb_error_set(err, OCB_EENV, 0,
				     "store '%s' holds snapshots with %s.overlay.* xattrs (%s), this process "
				     "uses %s.overlay.*: use another store (OCB_ROOT) for %s builds",
				     root, have, strcmp(have, "user") ? "made as root" : "rootless", want,
				     rootless_active() ? "rootless" : "root");
	return 0;
}

/* Lock the store (shared, or exclusive within timeout_ms when timeout_ms >=
 * 0), then open (creating) root/snapshots and check its convention. */
static int dir_open(struct snapshot_dir *sd, const char *root, int timeout_ms, struct ocb_error *err)
{
	cleanup_free char *path = NULL;

	sd->fd = sd->lock_fd = -1;
	sd->path = NULL;
	if ((timeout_ms < 0 ? store_lock_shared(root, &sd->lock_fd, err)
			    : store_lock_exclusive(root, timeout_ms, &sd->lock_fd, err)) < 0)
		return -1;
	if (asprintf(&path, "%s/snapshots", root) < 0) {
		path = NULL;
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if (build_private_dir(path, err) < 0)
		return -1;
	sd->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sd->fd < 0)
		return ocb_error_sys(err, "open '%s'", path);
	sd->path = steal_pointer(&path);
	return check_format(root, sd->fd, err);
}

int snapshot_dir_open(struct snapshot_dir *sd, const char *root, struct ocb_error *err)
{
	return dir_open(sd, root, -1, err);
}

int snapshot_dir_open_exclusive(struct snapshot_dir *sd, const char *root, int timeout_ms,
				struct ocb_error *err)
{
	return dir_open(sd, root, timeout_ms < 0 ? 0 : timeout_ms, err);
}

void snapshot_dir_release(struct snapshot_dir *sd)
{
	if (sd->fd >= 0)
		close(sd->fd);
	sd->fd = -1;
	store_lock_release(sd->lock_fd); /* after the last use of the snapshots */
	sd->lock_fd = -1;
	free(sd->path);
	sd->path = NULL;
}

bool snapshot_exists(const struct snapshot_dir *sd, const struct oci_digest *diff_id)
{
	struct stat st;

	return fstatat(sd->fd, oci_digest_hex(diff_id), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

char *snapshot_path(const struct snapshot_dir *sd, const struct oci_digest *diff_id)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", sd->path, oci_digest_hex(diff_id)) < 0)
		return NULL;
	return p;
}

int snapshot_ensure(struct snapshot_dir *sd, const struct oci_blobstore *bs, const char *media_type,
		    const struct oci_digest *digest, const struct oci_digest *diff_id, bool *extracted,
		    struct ocb_error *err)
{
	struct oci_extract_opts opts = {.flags = OCI_EXTRACT_OVERLAY_WHITEOUTS |
						 (rootless_active() ? OCI_EXTRACT_OVERLAY_USERXATTR : 0),
					.name = digest->str};
	enum oci_compression c = OCI_COMPRESSION_AUTO;
	struct ocb_error ignored = OCB_ERROR_INIT;

	if (extracted)
		*extracted = false;
	if (snapshot_exists(sd, diff_id))
		return 0;
	if (media_type && oci_compression_from_media_type(media_type, &c, &ignored) < 0)
		c = OCI_COMPRESSION_AUTO;
	if (oci_extract_layer_to_new_dir(sd->fd, oci_digest_hex(diff_id), bs, digest, c, diff_id, &opts, NULL,
					 err) < 0) {
		if (err && err->code == OCB_EEXIST) {
			ocb_error_clear(err);
			return 0; /* another build made it first */
		}
		return ocb_error_wrap(err, "snapshot of layer '%s'", digest->str);
	}
	if (extracted)
		*extracted = true;
	return 0;
}

int snapshot_publish(struct snapshot_dir *sd, const char *dir, const struct oci_digest *diff_id,
		     struct ocb_error *err)
{
	const char *hex = oci_digest_hex(diff_id);

	if (renameat2(AT_FDCWD, dir, sd->fd, hex, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY)
		return ocb_error_sys(err, "rename '%s' to snapshot '%s'", dir, hex);
	/* Someone else published the same diff_id: theirs is as good. */
	if (oci_remove_tree_at(AT_FDCWD, dir, err) < 0)
		return ocb_error_wrap(err, "remove '%s'", dir);
	return 0;
}
