/* Snapshots: extracted layers, one directory per diff_id, under
 * $OCB_ROOT/snapshots/<diff_id hex>, each a valid overlayfs lower dir
 * (whiteouts kept as 0/0 character devices, opaque directories marked with
 * trusted.overlay.opaque), shared by every build on the store.
 *
 * A snapshot appears by rename only (extraction into a temp sibling, or a run
 * step's overlay upper dir once its layer is written), so a directory with a
 * final name is always complete.  Two builds racing to make the same snapshot
 * both succeed: the second rename finds the name taken (OCB_EEXIST), drops
 * its own copy and uses the winner's (the same content by diff_id). */
#ifndef OCB_SNAPSHOT_H
#define OCB_SNAPSHOT_H

#include <stdbool.h>

#include "oci/blobstore.h"
#include "oci/digest.h"
#include "oci/error.h"

struct snapshot_dir {
	int fd;	    /* $OCB_ROOT/snapshots */
	char *path; /* for the sandbox's lower dirs */
};

/* Open (creating) root/snapshots. */
int snapshot_dir_open(struct snapshot_dir *sd, const char *root, struct ocb_error *err);
void snapshot_dir_release(struct snapshot_dir *sd);

bool snapshot_exists(const struct snapshot_dir *sd, const struct oci_digest *diff_id);
/* "<path>/<hex>"; malloc'd, NULL on ENOMEM. */
char *snapshot_path(const struct snapshot_dir *sd, const struct oci_digest *diff_id);

/* Make sure the snapshot of diff_id exists: extract blob `digest` of bs
 * (media_type says its compression) when it does not.  *extracted (may be
 * NULL) says whether this call did the work. */
int snapshot_ensure(struct snapshot_dir *sd, const struct oci_blobstore *bs, const char *media_type,
		    const struct oci_digest *digest, const struct oci_digest *diff_id, bool *extracted,
		    struct ocb_error *err);

/* Publish directory `dir` (on the same file system, e.g. an overlay upper
 * dir after its layer was written) as the snapshot of diff_id.  When the
 * snapshot exists already, dir is removed instead. */
int snapshot_publish(struct snapshot_dir *sd, const char *dir, const struct oci_digest *diff_id,
		     struct ocb_error *err);

#endif
