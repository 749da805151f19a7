/* Internals shared by the cache_*.c files (not for the builder). */
#ifndef OCB_CACHE_IMPL_H
#define OCB_CACHE_IMPL_H

#include <stdbool.h>
#include <dirent.h>
#include <stddef.h>
#include <sys/stat.h>

#include "builder/cache.h"
#include "oci/fdio.h"

#define CACHE_RECORD_MAX   ((size_t)1 << 20) /* a record with its meta */
#define CACHE_TMP_NAME_MAX OCI_TMP_NAME_MAX

struct build_cache {
	char *path; /* absolute, for messages and mount host paths */
	int dir_fd;
	int keys_fd;
	int tmp_fd;
	int mounts_fd;
	int lock_fd;
	struct oci_blobstore bs;
};

/* ---- cache_record.c ---- */

/* The record file's bytes for key -> r (created: now). */
int cache_record_encode(const struct oci_digest *key, const struct cache_record *r, int64_t created,
			char **buf, size_t *len, struct ocb_error *err);
/* Parse a record file; OCB_EINVAL when malformed, of another format version
 * or for another key. */
int cache_record_decode(const char *buf, size_t len, const struct oci_digest *key, struct cache_record *out,
			struct ocb_error *err);

/* ---- cache_fs.c ---- */

/* "<hex[0:2]>/<hex>.json" for key, relative to keys/. */
void cache_record_relpath(const struct oci_digest *key, char *buf, size_t size);
/* Read a record file at keys/relpath: the bytes, and its (dev, ino, mtime). */
int cache_record_read(struct build_cache *c, const char *relpath, char **buf, size_t *len, struct stat *st,
		      struct ocb_error *err);
/* Remove keys/relpath if it is still the file st describes (a concurrent
 * writer's newer record stays). */
void cache_record_drop(struct build_cache *c, const char *relpath, const struct stat *st);
/* True when blob d is a regular file of exactly size bytes. */
bool cache_blob_present(struct build_cache *c, const struct oci_digest *d, uint64_t size);
/* A new temp file in dirfd named ".tmp-<random>" (O_WRONLY, O_EXCL). */
/* Remove the temp files a killed process left (only when nobody else holds
 * the cache). */
void cache_remove_temps(struct build_cache *c);
int cache_fsync_dir(int dirfd, const char *what, struct ocb_error *err);
/* Bytes of the regular files below dirfd (apparent sizes); *files counts them. */
uint64_t cache_tree_size(int dirfd, uint64_t *files);
/* opendir of dirfd/name ("." for dirfd itself) without following a symlink;
 * NULL with errno on failure. */
DIR *cache_opendir_at(int dirfd, const char *name);
/* rm -rf of dirfd/name, staying on dirfd's side of every symlink. */
int cache_remove_tree(int dirfd, const char *name, struct ocb_error *err);

#endif
