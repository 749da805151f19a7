/* Collection in the local store: the snapshots and blobs no image named in
 * index.json uses, under the store lock held exclusive (store_lock.h), so
 * nothing a running build, import, load or pull uses or has not named yet is
 * taken.  Used by `ocb prune` and `ocb rmi`; never during a build (snapshots
 * are the next build's speed cache). */
#ifndef OCB_STORE_GC_H
#define OCB_STORE_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "oci/error.h"

struct oci_layout;

struct store_gc_result {
	uint64_t snapshots, snapshot_bytes;
	uint64_t blobs, blob_bytes;
};

/* Take the store lock exclusive (polling up to timeout_ms: OCB_EENV when
 * others still hold it, nothing removed), then collect the snapshots (all of
 * them with all_snapshots) and the blobs no index.json entry reaches. */
int store_gc(const struct oci_layout *store, bool all_snapshots, int timeout_ms, struct store_gc_result *res,
	     struct ocb_error *err);

#endif
