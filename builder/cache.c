/* The step cache store: open/lock, lookup, store, export (see cache.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/cache_impl.h"
#include "builder/cli_store.h"
#include "builder/rootless.h"
#include "builder/store_lock.h"
#include "oci/cleanup.h"
#include "oci/fdio.h"
#include "oci/banned.h"

int cache_dir_default(const char *cli_dir, char **out, struct ocb_error *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	cleanup_free char *root = NULL;
	char *path = NULL;
	int n;

	if (cli_dir && *cli_dir)
		n = asprintf(&path, "%s", cli_dir);
	else if (rootless_real_root()) {
		if (cli_store_root(&root, err) < 0)
			return -1;
		n = asprintf(&path, "%s/cache", root);
	} else if (xdg && *xdg)
		n = asprintf(&path, "%s/ocb", xdg);
	else if (home && *home)
		n = asprintf(&path, "%s/.cache/ocb", home);
	else
		return ocb_error_set(err, OCB_EENV, 0, "cannot place the cache: use --cache-dir or set HOME");
	if (n < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*out = path;
	return 0;
}

static void cache_free(struct build_cache *c)
{
	int *fds[] = {&c->dir_fd, &c->keys_fd, &c->tmp_fd, &c->mounts_fd, &c->lock_fd};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	oci_blobstore_release(&c->bs);
	free(c->path);
	free(c);
}

void cache_close(struct build_cache *c)
{
	if (c)
		cache_free(c); /* closing lock_fd drops the flock */
}

static int open_subdir(struct build_cache *c, const char *name, mode_t mode, int *fd, struct ocb_error *err)
{
	if (mkdirat(c->dir_fd, name, mode) < 0 && errno != EEXIST)
		return ocb_error_sys(err, "cache '%s': cannot create '%s'", c->path, name);
	*fd = openat(c->dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return ocb_error_sys(err, "cache '%s': cannot open '%s'", c->path, name);
	return 0;
}

/* Make the directories and open everything; no lock yet. */
static int cache_new(struct build_cache **out, const char *dir, struct ocb_error *err)
{
	struct build_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	c->dir_fd = c->keys_fd = c->tmp_fd = c->mounts_fd = c->lock_fd = -1;
	if (oci_blobstore_open(&c->bs, dir, true, err) < 0)
		goto fail;
	c->path = realpath(dir, NULL);
	if (!c->path) {
		ocb_error_sys(err, "cache '%s'", dir);
		goto fail;
	}
	c->dir_fd = open(c->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0) {
		ocb_error_sys(err, "cannot open cache '%s'", c->path);
		goto fail;
	}
	/* mounts/ holds what steps made as root (setuid files, devices): 0700,
	 * checked again when a mount is used (cache_mount.c). */
	if (open_subdir(c, "keys", 0755, &c->keys_fd, err) < 0 ||
	    open_subdir(c, "tmp", 0755, &c->tmp_fd, err) < 0 ||
	    open_subdir(c, "mounts", 0700, &c->mounts_fd, err) < 0)
		goto fail;
	c->lock_fd = openat(c->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (c->lock_fd < 0 && (errno == EROFS || errno == EACCES)) /* a read-only cache still hits */
		c->lock_fd = openat(c->dir_fd, "lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (c->lock_fd < 0) {
		ocb_error_sys(err, "cache '%s': cannot open its lock", c->path);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cache_free(c);
	return -1;
}

static int flock_retry(int fd, int op)
{
	int rc;

	while ((rc = flock(fd, op)) < 0 && errno == EINTR)
		;
	return rc;
}

int cache_open(struct build_cache **out, const char *dir, struct ocb_error *err)
{
	struct build_cache *c;

	if (cache_new(&c, dir, err) < 0)
		return -1;
	/* Alone with the cache: what a killed process left can go. */
	if (flock_retry(c->lock_fd, LOCK_EX | LOCK_NB) == 0)
		cache_remove_temps(c);
	else if (errno != EWOULDBLOCK)
		goto fail;
	/* Converts the exclusive lock (or waits for a prune to finish). */
	if (flock_retry(c->lock_fd, LOCK_SH) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	ocb_error_sys(err, "cannot lock cache '%s'", c->path);
	cache_free(c);
	return -1;
}

int cache_open_exclusive(struct build_cache **out, const char *dir, int timeout_ms, struct ocb_error *err)
{
	struct build_cache *c;
	int rc;

	if (cache_new(&c, dir, err) < 0)
		return -1;
	rc = flock_wait_exclusive(c->lock_fd, timeout_ms);
	if (rc < 0) {
		ocb_error_sys(err, "cannot lock cache '%s'", c->path);
		goto fail;
	}
	if (rc > 0) {
		ocb_error_set(
		    err, OCB_EENV, 0,
		    "cache '%s' is in use by a running build (waited %d ms); try again when it finishes",
		    c->path, timeout_ms);
		goto fail;
	}
	cache_remove_temps(c);
	*out = c;
	return 0;
fail:
	cache_free(c);
	return -1;
}

const char *cache_path(const struct build_cache *c)
{
	return c->path;
}

struct oci_blobstore *cache_blobstore(struct build_cache *c)
{
	return &c->bs;
}

/* A record that cannot be used is a miss, and is removed. */
static int lookup_miss(struct build_cache *c, const struct oci_digest *key, const char *rel,
		       const struct stat *st, const char *why, struct ocb_error *err)
{
	cache_record_drop(c, rel, st);
	return ocb_error_set(err, OCB_ENOTFOUND, 0, "cache key '%s': %s", key->str, why);
}

int cache_lookup(struct build_cache *c, const struct oci_digest *key, struct cache_record *out,
		 struct ocb_error *err)
{
	struct ocb_error ignored = OCB_ERROR_INIT;
	cleanup_free char *buf = NULL;
	struct cache_record r = {0};
	char rel[OCI_DIGEST_HEX_LEN * 2];
	struct stat st;
	size_t len;

	if (!oci_digest_is_valid(key->str))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid cache key '%.80s'", key->str);
	cache_record_relpath(key, rel, sizeof(rel));
	if (cache_record_read(c, rel, &buf, &len, &st, err) < 0) {
		if (err && err->code == OCB_ENOTFOUND)
			return ocb_error_set(err, OCB_ENOTFOUND, 0, "cache key '%s' not found", key->str);
		if (err && err->code == OCB_EINVAL) /* not a regular file, too large: prune removes it */
			return ocb_error_set(err, OCB_ENOTFOUND, 0, "cache key '%s': unusable record",
					     key->str);
		return -1;
	}
	if (cache_record_decode(buf, len, key, &r, &ignored) < 0)
		return lookup_miss(c, key, rel, &st, "unreadable record", err);
	if (!r.empty_layer && !cache_blob_present(c, &r.digest, r.size)) {
		cache_record_release(&r);
		return lookup_miss(c, key, rel, &st, "layer blob missing", err);
	}
	/* LRU for prune; a read-only cache still hits. */
	utimensat(c->keys_fd, rel, NULL, AT_SYMLINK_NOFOLLOW);
	r.last_used = (int64_t)time(NULL);
	*out = r;
	return 0;
}

/* keys/<xx>/, created (and made durable) on first use. */
static int open_fanout(struct build_cache *c, const char *rel, struct ocb_error *err)
{
	char sub[3] = {rel[0], rel[1], '\0'};
	int fd;

	if (mkdirat(c->keys_fd, sub, 0755) == 0) {
		if (cache_fsync_dir(c->keys_fd, "keys", err) < 0)
			return -1;
	} else if (errno != EEXIST)
		return ocb_error_sys(err, "cache '%s': cannot create 'keys/%s'", c->path, sub);
	fd = openat(c->keys_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ocb_error_sys(err, "cache '%s': cannot open 'keys/%s'", c->path, sub);
	return fd;
}

/* Write buf to tmp/, fsync, rename to keys/rel, fsync keys/<xx>. */
static int write_record(struct build_cache *c, const char *rel, const char *buf, size_t len,
			struct ocb_error *err)
{
	char tmp[CACHE_TMP_NAME_MAX];
	cleanup_close int fd = -1;
	cleanup_close int sub = -1;

	fd = oci_tmpfile_at(c->tmp_fd, tmp, err);
	if (fd < 0)
		return ocb_error_wrap(err, "cache '%s'", c->path);
	if (oci_write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		ocb_error_sys(err, "cache '%s': cannot write a record", c->path);
		goto fail;
	}
	sub = open_fanout(c, rel, err);
	if (sub < 0)
		goto fail;
	if (renameat(c->tmp_fd, tmp, c->keys_fd, rel) < 0) {
		ocb_error_sys(err, "cache '%s': cannot install record 'keys/%s'", c->path, rel);
		goto fail;
	}
	return cache_fsync_dir(sub, rel, err);
fail:
	unlinkat(c->tmp_fd, tmp, 0);
	return -1;
}

int cache_store(struct build_cache *c, const struct oci_digest *key, const struct cache_record *r,
		struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	char rel[OCI_DIGEST_HEX_LEN * 2];
	size_t len;

	if (!oci_digest_is_valid(key->str))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid cache key '%.80s'", key->str);
	if (!r->empty_layer && !cache_blob_present(c, &r->digest, r->size))
		return ocb_error_set(
		    err, OCB_ENOTFOUND, 0,
		    "cache key '%s': blob '%s' of %llu bytes is not in the cache's blob store", key->str,
		    r->digest.str, (unsigned long long)r->size);
	if (cache_record_encode(key, r, (int64_t)time(NULL), &buf, &len, err) < 0)
		return -1;
	cache_record_relpath(key, rel, sizeof(rel));
	return write_record(c, rel, buf, len, err);
}

int cache_export_blob(struct build_cache *c, struct oci_blobstore *dst, const struct oci_digest *d,
		      struct ocb_error *err)
{
	if (!oci_digest_is_valid(d->str))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid digest '%.80s'", d->str);
	if (oci_blobstore_has(dst, d))
		return 0;
	if (linkat(c->bs.blobs_fd, oci_digest_hex(d), dst->blobs_fd, oci_digest_hex(d), 0) == 0)
		return cache_fsync_dir(dst->blobs_fd, dst->path, err);
	if (errno == EEXIST)
		return 0;
	if (errno == ENOENT)
		return ocb_error_set(err, OCB_ENOTFOUND, ENOENT, "blob '%s' is not in cache '%s'", d->str,
				     c->path);
	/* EXDEV, EPERM (protected hardlinks), EMLINK...: copy, verified. */
	if (oci_blobstore_copy(dst, &c->bs, d, err) < 0)
		return ocb_error_wrap(err, "cache '%s'", c->path);
	return 0;
}
