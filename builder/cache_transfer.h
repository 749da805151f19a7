/* Sharing the step cache through a registry or a directory (--cache-to,
 * --cache-from; docs/cache.md "Sharing the cache").
 *
 * The export is an OCI artifact: an image manifest whose config blob
 * (CACHE_TRANSFER_CONFIG_TYPE) is the index of the build's cache records
 *
 *   {"version":1,"records":[<record as in keys/>, ...]}
 *
 * and whose layers are the blobs those records name.  It is pushed to
 * registry:REF, or written to the OCI layout oci:DIR under the name
 * CACHE_TRANSFER_REF_NAME.
 *
 * The import is lazy: the first local miss loads the index (the manifest and
 * the config blob); a miss whose key the index holds is a hit at once, and
 * its layer is downloaded (into the local cache, its record stored there)
 * only when something reads it: the image's own layers when it is committed,
 * the layers below a step that runs, a stage a copy reads from.  A build
 * that also exports (--cache-to) downloads the layers of every hit it
 * re-exports.  A source that does not exist yet (the first CI run) imports
 * nothing. */
#ifndef OCB_CACHE_TRANSFER_H
#define OCB_CACHE_TRANSFER_H

#include <stdbool.h>

#include "builder/cache.h"
#include "oci/digest.h"
#include "oci/error.h"

#define CACHE_TRANSFER_CONFIG_TYPE "application/vnd.ocb.cache.config.v1+json"
#define CACHE_TRANSFER_REF_NAME	   "ocb-cache"
#define CACHE_TRANSFER_INDEX_MAX   ((size_t)64 << 20)

struct cache_transfer;

/* from and to are "registry:REF" or "oci:DIR" (either may be NULL); no I/O.
 * A malformed one is OCB_EINVAL. */
int cache_transfer_new(const char *from, const char *to, bool tls_verify, struct cache_transfer **out,
		       struct ocb_error *err);
void cache_transfer_free(struct cache_transfer *t);

/* A local miss of key: 1 with *out the imported record when the import has
 * key (its layer is not downloaded: call cache_transfer_materialize before
 * reading it), 0 when it has not (or there is no --cache-from).  The first
 * call loads the import.  Thread-safe. */
int cache_transfer_lookup(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *key,
			  struct cache_record *out, struct ocb_error *err);
/* Before reading layer blob d from c: when c lacks it and an imported record
 * names it, download it and store those records into c.  Thread-safe. */
int cache_transfer_materialize(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *d,
			       struct ocb_error *err);
/* Remember that the build used key (exported by cache_transfer_export).
 * Thread-safe. */
int cache_transfer_note(struct cache_transfer *t, const struct oci_digest *key, struct ocb_error *err);
/* --cache-to: export the records of the noted keys that c holds, with their
 * blobs.  tmp_dir holds the artifact's layout while it is pushed to a
 * registry.  Nothing to do without --cache-to. */
int cache_transfer_export(struct cache_transfer *t, struct build_cache *c, const char *tmp_dir,
			  struct ocb_error *err);

#endif
