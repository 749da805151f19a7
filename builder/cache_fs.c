/* File-level helpers of the cache: record files, temp files, blob checks,
 * tree sizes and removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/cache_impl.h"
#include "builder/tree_size.h"
#include "oci/cleanup.h"
#include "oci/fdio.h"
#include "oci/banned.h"

#define TMP_PREFIX	 OCI_TMP_PREFIX
#define REMOVE_DEPTH_MAX 256

void cache_record_relpath(const struct oci_digest *key, char *buf, size_t size)
{
	const char *hex = oci_digest_hex(key);

	snprintf(buf, size, "%.2s/%s.json", hex, hex);
}

int cache_record_read(struct build_cache *c, const char *relpath, char **buf, size_t *len, struct stat *st,
		      struct ocb_error *err)
{
	cleanup_close int fd = openat(c->keys_fd, relpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	cleanup_free char *data = NULL;
	struct stat s;
	ssize_t n;

	if (fd < 0)
		return ocb_error_sys(err, "cache record '%s'", relpath);
	if (fstat(fd, &s) < 0)
		return ocb_error_sys(err, "cache record '%s'", relpath);
	if (!S_ISREG(s.st_mode) || (uint64_t)s.st_size > CACHE_RECORD_MAX)
		return ocb_error_set(err, OCB_EINVAL, 0,
				     "cache record '%s': not a regular file of at most %zu bytes", relpath,
				     CACHE_RECORD_MAX);
	data = malloc((size_t)s.st_size + 1);
	if (!data)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	n = oci_read_full(fd, data, (size_t)s.st_size);
	if (n < 0)
		return ocb_error_sys(err, "cache record '%s'", relpath);
	data[n] = '\0';
	*buf = steal_pointer(&data);
	*len = (size_t)n;
	*st = s;
	return 0;
}

void cache_record_drop(struct build_cache *c, const char *relpath, const struct stat *st)
{
	struct stat now;

	if (fstatat(c->keys_fd, relpath, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino)
		unlinkat(c->keys_fd, relpath, 0);
}

bool cache_blob_present(struct build_cache *c, const struct oci_digest *d, uint64_t size)
{
	struct stat st;

	return oci_digest_is_valid(d->str) &&
	       fstatat(c->bs.blobs_fd, oci_digest_hex(d), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

/* Unlink the entries of dirfd whose names start with prefix (every entry
 * when prefix is NULL). */
static void remove_matching(int dirfd, const char *prefix)
{
	DIR *d = cache_opendir_at(dirfd, ".");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!prefix || !strncmp(de->d_name, prefix, strlen(prefix)))
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

void cache_remove_temps(struct build_cache *c)
{
	remove_matching(c->tmp_fd, NULL);
	remove_matching(c->bs.blobs_fd, TMP_PREFIX);
}

int cache_fsync_dir(int dirfd, const char *what, struct ocb_error *err)
{
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return ocb_error_sys(err, "cannot sync '%s'", what);
	return 0;
}

DIR *cache_opendir_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

uint64_t cache_tree_size(int dirfd, uint64_t *files)
{
	return tree_size_at(dirfd, ".", files);
}

static int remove_tree(int parent, const char *name, int depth, struct ocb_error *err)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return ocb_error_sys(err, "cannot remove '%s'", name);
	if (depth > REMOVE_DEPTH_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "'%s': directories nested too deep", name);
	d = cache_opendir_at(parent, name);
	if (!d)
		return ocb_error_sys(err, "cannot open '%s'", name);
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = remove_tree(dirfd(d), de->d_name, depth + 1, err);
	}
	closedir(d);
	if (rc < 0)
		return ocb_error_wrap(err, "'%s'", name);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ocb_error_sys(err, "cannot remove '%s'", name);
	return 0;
}

int cache_remove_tree(int dirfd, const char *name, struct ocb_error *err)
{
	return remove_tree(dirfd, name, 0, err);
}
