/* Snapshots: extracted layers, one directory per diff_id, under
 * $OCB_ROOT/snapshots/<diff_id hex>, each a valid overlayfs lower dir
 * (whiteouts kept as 0/0 character devices, opaque directories marked with
 * trusted.overlay.opaque, or user.overlay.opaque in a rootless store: one
 * convention per store, recorded in $OCB_ROOT/overlay-xattrs and checked by
 * snapshot_dir_open, OCB_EENV on a mismatch), shared by every build on the
 * store.
 *
 * A snapshot appears by rename only (extraction into a temp sibling, or a run
 * step's overlay upper dir once its layer is written), so a directory with a
 * final name is always complete.  Two builds racing to make the same snapshot
 * both succeed: the second rename finds the name taken (OCB_EEXIST), drops
 * its own copy and uses the winner's (the same content by diff_id).
 *
 * Collection (snapshot_gc.c): snapshot_dir_open holds the store lock shared
 * (builder/store_lock.h) until snapshot_dir_release, so a build keeps every
 * snapshot it uses as a lower dir or copy source, or is about to publish, for
 * its whole run; a collector opens with snapshot_dir_open_exclusive.  A
 * snapshot is removed by renaming it to ".gc-<hex>" first: its final name
 * only ever names a complete tree, and a crash leaves a ".gc-" leftover the
 * next collection removes. */
#ifndef OCB_SNAPSHOT_H
#define OCB_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "oci/blobstore.h"
#include "oci/digest.h"
#include "oci/error.h"

struct snapshot_dir {
	int fd;	     /* $OCB_ROOT/snapshots */
	int lock_fd; /* the store lock, shared or exclusive */
	char *path;  /* for the sandbox's lower dirs */
};

/* Take the store lock shared (waiting while a collection runs), then open
 * (creating) root/snapshots.  On failure sd is still safe to release. */
int snapshot_dir_open(struct snapshot_dir *sd, const char *root, struct ocb_error *err);
/* The same with the store lock exclusive, for a collection: OCB_EENV when
 * another process still holds it after timeout_ms (0: one try). */
int snapshot_dir_open_exclusive(struct snapshot_dir *sd, const char *root, int timeout_ms,
				struct ocb_error *err);
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

/* ---- collection (builder/snapshot_gc.c) ---- */

struct oci_layout;

struct snapshot_gc_result {
	uint64_t removed; /* snapshots */
	uint64_t bytes;	  /* apparent bytes of their regular files, and of leftovers */
};

/* With sd opened exclusive: remove every snapshot whose diff_id is not in the
 * rootfs of an image index.json reaches (every snapshot with all), and what a
 * killed build or collection left (".tmp-*", ".gc-*").  An image that cannot
 * be read aborts the collection before anything is removed. */
int snapshot_gc(struct snapshot_dir *sd, const struct oci_layout *store, bool all,
		struct snapshot_gc_result *res, struct ocb_error *err);

#endif
