/* Snapshot and blob collection under the store lock (see store_gc.h). */
#include "builder/store_gc.h"

#include "builder/snapshot.h"
#include "oci/layout.h"
#include "oci/banned.h"

int store_gc(const struct oci_layout *store, bool all_snapshots, int timeout_ms, struct store_gc_result *res,
	     struct ocb_error *err)
{
	struct snapshot_dir sd = {.fd = -1, .lock_fd = -1};
	struct snapshot_gc_result s = {0};
	struct store_gc_result r = {0};
	int ret = -1;

	if (snapshot_dir_open_exclusive(&sd, store->path, timeout_ms, err) < 0)
		goto out;
	if (snapshot_gc(&sd, store, all_snapshots, &s, err) < 0)
		goto out;
	r.snapshots = s.removed;
	r.snapshot_bytes = s.bytes;
	/* Alone with the store: no grace for blobs written a moment ago, every
	 * writer that has not named its blobs yet holds the lock. */
	if (oci_layout_gc(store, 0, &r.blobs, &r.blob_bytes, err) < 0)
		goto out;
	ret = 0;
out:
	snapshot_dir_release(&sd);
	if (res)
		*res = r;
	return ret;
}
