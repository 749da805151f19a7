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
 * The import is lazy: the first local miss loads every source's index (its
 * manifest and config blob); a miss whose key an index holds is a hit at
 * once (the local cache first, then the sources in command-line order: the
 * first that has the key wins), and its layer is downloaded from the source
 * that had the record (into the local cache, its record stored there) only
 * when something reads it: the image's own layers when it is committed, the
 * layers below a step that runs, a stage a copy reads from.  A build that
 * also exports (--cache-to) downloads the layers of every hit it re-exports,
 * unless the destination already holds them.  A source that does not exist
 * yet (the first CI run) imports nothing, with a warning.
 *
 * The export merges: the destination's records that this build did not
 * produce are kept when they were last exported within the keep policy
 * (struct cache_transfer_keep), the build's own records replace any of the
 * same key.  The index records each key's last export time in an optional
 * "exported" object {key: unix seconds} (older ocb versions ignore it). */
#ifndef OCB_CACHE_TRANSFER_H
#define OCB_CACHE_TRANSFER_H

#include <stdbool.h>

#include "builder/cache.h"
#include "oci/digest.h"
#include "oci/error.h"

#define CACHE_TRANSFER_CONFIG_TYPE "application/vnd.ocb.cache.config.v1+json"
#define CACHE_TRANSFER_REF_NAME	   "ocb-cache"
#define CACHE_TRANSFER_INDEX_MAX   ((size_t)64 << 20)
/* --cache-from may be given this many times. */
#define CACHE_TRANSFER_FROM_MAX 8
/* The default keep policy of a merging export (docs/registry.md). */
#define CACHE_TRANSFER_KEEP_DAYS    7
#define CACHE_TRANSFER_KEEP_RECORDS 4096

struct cache_transfer;
struct progress;

/* What an export keeps of the destination's records that the build did not
 * produce: those last exported at most max_age seconds ago, newest first,
 * while the index holds fewer than max_records (the build's own records
 * count, and are always kept). */
struct cache_transfer_keep {
	int64_t max_age;
	size_t max_records;
};

struct cache_transfer_options {
	const char *const *from; /* n_from "registry:REF" or "oci:DIR" */
	size_t n_from;		 /* at most CACHE_TRANSFER_FROM_MAX */
	const char *to;		 /* or NULL */
	bool tls_verify;
	struct progress *progress;		/* warnings (a missing source), or NULL */
	const struct cache_transfer_keep *keep; /* NULL: the defaults above */
};

/* No I/O.  A malformed spec, or too many sources, is OCB_EINVAL. */
int cache_transfer_new(const struct cache_transfer_options *o, struct cache_transfer **out,
		       struct ocb_error *err);
void cache_transfer_free(struct cache_transfer *t);

/* A local miss of key: 1 with *out the record of the first source that has
 * key (its layer is not downloaded: call cache_transfer_materialize before
 * reading it), 0 when none has (or there is no --cache-from).  The first
 * call loads every source; a source that fails to load (not an ocb cache,
 * refused credentials, ...) fails this and every later call, naming it.
 * Thread-safe. */
int cache_transfer_lookup(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *key,
			  struct cache_record *out, struct ocb_error *err);
/* Before reading layer blob d from c: when c lacks it and imported records
 * name it, download it from the source of the first and store those records
 * (each key's from the first source that has it) into c.  Thread-safe. */
int cache_transfer_materialize(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *d,
			       struct ocb_error *err);
/* Remember that the build used key (exported by cache_transfer_export).
 * Thread-safe. */
int cache_transfer_note(struct cache_transfer *t, const struct oci_digest *key, struct ocb_error *err);
/* --cache-to: export the records of the noted keys that c holds (or an
 * import has), with their blobs, merged with the destination's records that
 * the keep policy keeps.  A destination that is not an ocb cache is refused.
 * tmp_dir holds the artifact's layout while it is pushed to a registry.
 * Nothing to do without --cache-to. */
int cache_transfer_export(struct cache_transfer *t, struct build_cache *c, const char *tmp_dir,
			  struct ocb_error *err);

#endif
