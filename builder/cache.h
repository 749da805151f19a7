/* The step cache: cache keys, a directory of layer blobs and key records,
 * and persistent cache-mount directories (docs/cache.md).
 *
 * Layout of a cache directory (relocatable: nothing inside names a path
 * outside it, so `cp -a` or a CI cache restore keeps every hit):
 *
 *   blobs/sha256/<hex>            layer blobs (an oci_blobstore)
 *   keys/<hex[0:2]>/<hex>.json    one record per cache key (struct cache_record)
 *   mounts/<hex>/                 persistent cache mounts, hex = sha256(id NUL path)
 *   tmp/                          records being written (temp, fsync, rename)
 *   lock                          flock: shared for a build, exclusive for prune
 *
 * Crash safety: the builder writes the blob (fsynced by the blob writer)
 * before it calls cache_store(), which writes the record to tmp/, fsyncs it
 * and renames it into keys/.  A SIGKILL at any point leaves the old state or
 * the new one; leftovers in tmp/ and blob temp files are removed by the next
 * process that finds itself alone with the cache, and by prune.
 *
 * Concurrency: cache_open() holds a shared flock on `lock` until
 * cache_close(); prune holds it exclusive, so it never deletes under a
 * running build.  Two builds storing the same key both write valid records;
 * the last rename wins. */
#ifndef OCB_CACHE_H
#define OCB_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "oci/blobstore.h"
#include "oci/digest.h"
#include "oci/error.h"

/* Part of every key and record: bump it when the meaning of a key or the
 * record format changes, and every old entry stops matching. */
#define CACHE_FORMAT_VERSION 1

/* ---- keys (builder/cache_key.c) ----
 *
 * A key is the sha256 of a sequence of typed, length-prefixed fields (type
 * byte, name, value), after a header holding CACHE_FORMAT_VERSION.  Every
 * field is self-delimiting, so fields in another order, a value split across
 * two fields, or a NULL string versus "" all give different keys.
 *
 * What the builder feeds, in a fixed order, with these field names:
 *
 *   run step
 *     "parent"     cache_key_add_strv: the diff_ids of every layer below the
 *                  step, base image layers first (empty layers are skipped)
 *     "kind"       "run"
 *     "argv" or "shell"  the exec form as a strv, or the shell string
 *     "env"        the step's full environment as KEY=VALUE strings, in the
 *                  order given to the process
 *     "workdir", "user", "network" ("default" / "none" / "host")
 *     "platform"   the target platform, normalised ("linux/arm64/v8")
 *     "cache"      the cache-mount target paths (strv)
 *     "secrets"    the secret IDs (strv) -- NEVER a secret's content or path
 *     "seccomp_unconfined"  true, only with --security-opt seccomp=unconfined
 *     "compression" and "epoch": what changes the stored blob's bytes
 *                  (e.g. "gzip", and SOURCE_DATE_EPOCH or -1)
 *   copy step
 *     "parent", "kind" = "copy", "sources" (cache_key_add_digest: the
 *     content digest of the sources after exclusions, from the copy module,
 *     or the from-stage's result digest as "from"), "to", "chmod", "chown"
 *     (NULL when unset), "compression", "epoch".
 *
 * Anything else that changes the layer must be added too: a field left out
 * means a stale hit. */
struct cache_key {
	unsigned char *buf; /* the encoded fields; hashed at final */
	size_t len, cap;
	bool failed; /* an allocation failed: final reports it */
};

void cache_key_init(struct cache_key *k);
/* value NULL is a distinct "unset" value, not "". */
void cache_key_add_str(struct cache_key *k, const char *field, const char *value);
/* A NULL-terminated vector; v NULL is distinct from an empty vector. */
void cache_key_add_strv(struct cache_key *k, const char *field, char *const *v);
/* n strings (for vectors that are not NULL-terminated). */
void cache_key_add_strn(struct cache_key *k, const char *field, char *const *v, size_t n);
void cache_key_add_u64(struct cache_key *k, const char *field, uint64_t value);
void cache_key_add_i64(struct cache_key *k, const char *field, int64_t value);
void cache_key_add_bool(struct cache_key *k, const char *field, bool value);
/* d NULL is "unset". */
void cache_key_add_digest(struct cache_key *k, const char *field, const struct oci_digest *d);
/* The key; releases k in every case. */
int cache_key_final(struct cache_key *k, struct oci_digest *out, struct ocb_error *err);
/* Drop an unfinished key (final does this itself). */
void cache_key_release(struct cache_key *k);

/* ---- records ---- */

struct cache_record {
	bool empty_layer;	   /* the step changed no file: no blob, no diff_id */
	char *media_type;	   /* the layer's media type (compressed form) */
	struct oci_digest digest;  /* the blob in the cache's blobstore */
	uint64_t size;		   /* the blob's size */
	struct oci_digest diff_id; /* the uncompressed tar's digest */
	uint64_t tar_size;
	char *created_by;  /* history text, e.g. "RUN /bin/sh -c make" */
	json_t *meta;	   /* opaque object for the builder (config changes), or NULL */
	int64_t created;   /* unix seconds, set by cache_store */
	int64_t last_used; /* unix seconds (the record's mtime), set by lookup/list */
};

struct oci_layer_desc;
/* Fill the layer fields of r from a layer writer's result (copies media_type). */
int cache_record_set_layer(struct cache_record *r, const struct oci_layer_desc *d, struct ocb_error *err);
/* Free the contents (r itself is the caller's). */
void cache_record_release(struct cache_record *r);

/* ---- the store (builder/cache.c) ---- */

struct build_cache;

/* The cache directory: cli_dir when given (--cache-dir), else as root
 * $OCB_ROOT/cache (default /var/lib/ocb/cache), else $XDG_CACHE_HOME/ocb
 * (~/.cache/ocb).  *out is malloc'd. */
int cache_dir_default(const char *cli_dir, char **out, struct ocb_error *err);

/* Open (creating) the cache at dir and hold a shared lock on it until
 * cache_close; waits while a prune holds it. */
int cache_open(struct build_cache **out, const char *dir, struct ocb_error *err);
/* The same with the lock exclusive (prune): fails with OCB_EENV naming the
 * cache when other processes still hold it after timeout_ms (0: at once). */
int cache_open_exclusive(struct build_cache **out, const char *dir, int timeout_ms, struct ocb_error *err);
void cache_close(struct build_cache *c);
const char *cache_path(const struct build_cache *c);

/* The blob store layers go into: the builder writes a step's layer here, then
 * calls cache_store. */
struct oci_blobstore *cache_blobstore(struct build_cache *c);

/* 0 and *out filled on a hit (touching the record: LRU for prune);
 * OCB_ENOTFOUND on a miss.  A record whose blob is missing or has the wrong
 * size is a miss and is removed.  Only existence and size are checked (a
 * stat): whoever reads the blob verifies its digest. */
int cache_lookup(struct build_cache *c, const struct oci_digest *key, struct cache_record *out,
		 struct ocb_error *err);
/* Record key -> r.  Unless r->empty_layer, r->digest must already be in
 * cache_blobstore(c) with size r->size (OCB_ENOTFOUND / OCB_EINVAL).
 * r->created and r->last_used are ignored (now). */
int cache_store(struct build_cache *c, const struct oci_digest *key, const struct cache_record *r,
		struct ocb_error *err);
/* Put blob d into dst: a hard link when on the same file system, else a
 * verified copy.  Already present in dst is success. */
int cache_export_blob(struct build_cache *c, struct oci_blobstore *dst, const struct oci_digest *d,
		      struct ocb_error *err);

/* ---- persistent cache mounts (builder/cache_mount.c) ----
 *
 * mounts/<sha256(id NUL path) hex>, created on demand (mode 0755), with an
 * exclusive flock held through *lock_fd while a step uses it: a second build
 * using the same mount waits.  id is the stage name (or an explicit id).  A
 * step with several mounts must acquire them in sorted path order (no
 * deadlock between builds).  *host_dir is malloc'd. */
int cache_mount_acquire(struct build_cache *c, const char *id, const char *path, char **host_dir,
			int *lock_fd, struct ocb_error *err);
void cache_mount_release(int lock_fd);

/* ---- listing and pruning (builder/cache_prune.c) ---- */

struct cache_entry {
	struct oci_digest key;
	struct cache_record rec;
};

/* Every valid record, most recently used first.  Free with cache_entries_free. */
int cache_list(struct build_cache *c, struct cache_entry **out, size_t *n, struct ocb_error *err);
void cache_entries_free(struct cache_entry *e, size_t n);

struct cache_usage {
	uint64_t records;
	uint64_t blobs, blob_bytes;   /* every file in blobs/sha256 */
	uint64_t mounts, mount_bytes; /* apparent sizes of the files under mounts/ */
};

int cache_du(struct build_cache *c, struct cache_usage *out, struct ocb_error *err);

struct cache_prune_opts {
	bool keep_storage_set; /* else: remove every record */
	uint64_t keep_storage; /* bytes of blobs to keep (LRU records go first) */
	bool mounts;	       /* also remove the cache-mount directories */
};

struct cache_prune_result {
	uint64_t records_removed;
	uint64_t blobs_removed;
	uint64_t bytes_freed; /* blobs and mounts */
};

/* Needs cache_open_exclusive.  Removes least-recently-used records until the
 * blobs their remaining records use fit in keep_storage (every record when
 * !keep_storage_set), then every blob no record references, broken records
 * and temp files; with opts->mounts the mount directories too. */
int cache_prune(struct build_cache *c, const struct cache_prune_opts *opts, struct cache_prune_result *res,
		struct ocb_error *err);

/* ---- sizes (builder/cache_size.c) ---- */

/* "10GB", "512MiB", "1.5G", "100": k/M/G/T with an optional B are powers of
 * 1000, Ki/Mi/Gi/Ti powers of 1024. */
int cache_parse_size(const char *s, uint64_t *out, struct ocb_error *err);
/* "1.23 GB" style (powers of 1000) into buf. */
void cache_format_size(uint64_t n, char *buf, size_t size);

#endif
