#include "builder/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/private_dir.h"
#include "builder/store_lock.h"
#include "oci/cleanup.h"
#include "oci/compress.h"
#include "oci/extract.h"
#include "oci/banned.h"

/* Lock the store (shared, or exclusive within timeout_ms when timeout_ms >=
 * 0), then open (creating) root/snapshots. */
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
	return 0;
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
	struct oci_extract_opts opts = {.flags = OCI_EXTRACT_OVERLAY_WHITEOUTS, .name = digest->str};
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
