/* Content-addressed blob store (see blobstore.h).
 *
 * Temp files live in <root>/blobs/sha256 itself as ".tmp-<random>" so the
 * final renameat() never crosses a file system and a crash leaves nothing a
 * reader mistakes for a blob (names that are not 64 hex characters are not
 * blobs). */
#include "oci/blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/fdio.h"
#include "oci/banned.h"

#define BLOBS_DIR	"blobs/sha256"
#define LAYOUT_FILE	"oci-layout"
#define LAYOUT_CONTENT	"{\"imageLayoutVersion\":\"1.0.0\"}"
#define TMP_NAME_MAX	OCI_TMP_NAME_MAX
#define COPY_BUFSIZE	(1 << 17)
#define WRITEBACK_CHUNK (8u << 20)

struct oci_blob_writer {
	struct oci_blobstore *bs;
	int fd;
	char tmpname[TMP_NAME_MAX];
	struct oci_hasher hasher;
	uint64_t size;
	uint64_t flushed; /* bytes handed to writeback so far */
};

static int mkdir_p(const char *path, struct ocb_error *err)
{
	cleanup_free char *copy = strdup(path);

	if (!copy)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return ocb_error_sys(err, "cannot create directory '%s'", copy);
		*p = '/';
	}
	if (mkdir(copy, 0755) < 0 && errno != EEXIST)
		return ocb_error_sys(err, "cannot create directory '%s'", copy);
	return 0;
}

/* Write oci-layout atomically unless it is already there. */
static int ensure_layout_file(int root_fd, struct ocb_error *err)
{
	char tmp[TMP_NAME_MAX];
	cleanup_close int fd = -1;

	if (faccessat(root_fd, LAYOUT_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	fd = oci_tmpfile_at(root_fd, tmp, err);
	if (fd < 0)
		return -1;
	if (oci_write_all(fd, LAYOUT_CONTENT, sizeof(LAYOUT_CONTENT) - 1) < 0 || fsync(fd) < 0) {
		ocb_error_sys(err, "cannot write '%s'", LAYOUT_FILE);
		unlinkat(root_fd, tmp, 0);
		return -1;
	}
	/* RENAME_NOREPLACE: a concurrent creator's file is just as good. */
	if (renameat2(root_fd, tmp, root_fd, LAYOUT_FILE, RENAME_NOREPLACE) < 0) {
		int saved = errno;
		unlinkat(root_fd, tmp, 0);
		if (saved != EEXIST) {
			errno = saved;
			return ocb_error_sys(err, "cannot create '%s'", LAYOUT_FILE);
		}
	}
	if (fsync(root_fd) < 0)
		return ocb_error_sys(err, "fsync");
	return 0;
}

static int create_store(const char *root, struct ocb_error *err)
{
	cleanup_free char *blobs = NULL;

	if (asprintf(&blobs, "%s/" BLOBS_DIR, root) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return mkdir_p(blobs, err);
}

int oci_blobstore_open(struct oci_blobstore *bs, const char *root, bool create, struct ocb_error *err)
{
	cleanup_close int root_fd = -1;
	cleanup_close int blobs_fd = -1;
	char *path;

	if (create && create_store(root, err) < 0)
		return ocb_error_wrap(err, "blob store '%s'", root);
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return ocb_error_sys(err, "cannot open blob store '%s'", root);
	blobs_fd = openat(root_fd, BLOBS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (blobs_fd < 0)
		return ocb_error_sys(err, "cannot open blob store '%s'", root);
	if (create && ensure_layout_file(root_fd, err) < 0)
		return ocb_error_wrap(err, "blob store '%s'", root);
	path = strdup(root);
	if (!path)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	bs->root_fd = steal_fd(&root_fd);
	bs->blobs_fd = steal_fd(&blobs_fd);
	bs->path = path;
	return 0;
}

/* A zeroed struct (path NULL) was never opened: nothing to release. */
void oci_blobstore_release(struct oci_blobstore *bs)
{
	if (!bs || !bs->path)
		return;
	if (bs->blobs_fd >= 0)
		close(bs->blobs_fd);
	if (bs->root_fd >= 0)
		close(bs->root_fd);
	free(bs->path);
	bs->root_fd = bs->blobs_fd = -1;
	bs->path = NULL;
}

bool oci_blobstore_has(const struct oci_blobstore *bs, const struct oci_digest *d)
{
	struct stat st;

	if (!oci_digest_is_valid(d->str))
		return false;
	return fstatat(bs->blobs_fd, oci_digest_hex(d), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int oci_blobstore_open_blob(const struct oci_blobstore *bs, const struct oci_digest *d, int *fd,
			    uint64_t *size, struct ocb_error *err)
{
	cleanup_close int f = -1;
	struct stat st;

	if (!oci_digest_is_valid(d->str))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid digest '%.80s'", d->str);
	/* O_NONBLOCK: a FIFO in a hostile layout is refused below, not waited
	 * on (it changes nothing for a regular file). */
	f = openat(bs->blobs_fd, oci_digest_hex(d), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (f < 0) {
		if (errno == ENOENT)
			return ocb_error_set(err, OCB_ENOTFOUND, ENOENT, "blob '%s' not found", d->str);
		return ocb_error_sys(err, "cannot open blob '%s'", d->str);
	}
	if (fstat(f, &st) < 0)
		return ocb_error_sys(err, "cannot stat blob '%s'", d->str);
	if (!S_ISREG(st.st_mode))
		return ocb_error_set(err, OCB_EINVAL, 0, "blob '%s' is not a regular file", d->str);
	*fd = steal_fd(&f);
	if (size)
		*size = (uint64_t)st.st_size;
	return 0;
}

static int digest_mismatch(const struct oci_digest *want, const struct oci_digest *got, struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s': content has digest '%s'", want->str, got->str);
}

int oci_blobstore_verify(const struct oci_blobstore *bs, const struct oci_digest *d, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	struct oci_digest got;

	if (oci_blobstore_open_blob(bs, d, &fd, NULL, err) < 0)
		return -1;
	if (oci_digest_fd(fd, &got, NULL, err) < 0)
		return ocb_error_wrap(err, "blob '%s'", d->str);
	if (!oci_digest_equal(d, &got))
		return digest_mismatch(d, &got, err);
	return 0;
}

/* Read exactly len bytes (the blob's size at open); a short file is an error. */
static int read_exact(int fd, char *buf, size_t len, const struct oci_digest *d, struct ocb_error *err)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, buf + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ocb_error_sys(err, "cannot read blob '%s'", d->str);
		}
		if (n == 0)
			return ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s' is truncated", d->str);
		off += (size_t)n;
	}
	return 0;
}

int oci_blobstore_read(const struct oci_blobstore *bs, const struct oci_digest *d, size_t max, char **buf,
		       size_t *len, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *data = NULL;
	struct oci_digest got;
	uint64_t size;

	if (oci_blobstore_open_blob(bs, d, &fd, &size, err) < 0)
		return -1;
	if (size > max)
		return ocb_error_set(err, OCB_ELIMIT, 0, "blob '%s' is larger than %zu bytes", d->str, max);
	data = malloc((size_t)size + 1);
	if (!data)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (read_exact(fd, data, (size_t)size, d, err) < 0)
		return -1;
	data[size] = '\0';
	if (oci_digest_buffer(data, (size_t)size, &got, err) < 0)
		return -1;
	if (!oci_digest_equal(d, &got))
		return digest_mismatch(d, &got, err);
	*buf = steal_pointer(&data);
	*len = (size_t)size;
	return 0;
}

int oci_blobstore_put(struct oci_blobstore *bs, const void *data, size_t len, struct oci_digest *out,
		      struct ocb_error *err)
{
	struct oci_blob_writer *w;

	if (oci_blob_writer_open(bs, &w, err) < 0)
		return -1;
	if (oci_blob_writer_write(w, data, len, err) < 0) {
		oci_blob_writer_abort(w);
		return -1;
	}
	return oci_blob_writer_commit(w, NULL, -1, out, NULL, err);
}

/* Stream fd into w; w is not freed here. */
static int writer_copy_fd(struct oci_blob_writer *w, int fd, struct ocb_error *err)
{
	cleanup_free char *buf = malloc(COPY_BUFSIZE);

	if (!buf)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = read(fd, buf, COPY_BUFSIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ocb_error_sys(err, "read");
		}
		if (n == 0)
			return 0;
		if (oci_blob_writer_write(w, buf, (size_t)n, err) < 0)
			return -1;
	}
}

int oci_blobstore_copy(struct oci_blobstore *dst, const struct oci_blobstore *src, const struct oci_digest *d,
		       struct ocb_error *err)
{
	cleanup_close int fd = -1;
	struct oci_blob_writer *w;
	uint64_t size;

	if (oci_blobstore_has(dst, d))
		return 0;
	if (oci_blobstore_open_blob(src, d, &fd, &size, err) < 0)
		return -1;
	if (oci_blob_writer_open(dst, &w, err) < 0)
		return -1;
	if (writer_copy_fd(w, fd, err) < 0) {
		oci_blob_writer_abort(w);
		return ocb_error_wrap(err, "cannot copy blob '%s'", d->str);
	}
	return oci_blob_writer_commit(w, d, (int64_t)size, NULL, NULL, err);
}

int oci_blobstore_remove(struct oci_blobstore *bs, const struct oci_digest *d, struct ocb_error *err)
{
	if (!oci_digest_is_valid(d->str))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid digest '%.80s'", d->str);
	if (unlinkat(bs->blobs_fd, oci_digest_hex(d), 0) < 0) {
		if (errno == ENOENT)
			return ocb_error_set(err, OCB_ENOTFOUND, ENOENT, "blob '%s' not found", d->str);
		return ocb_error_sys(err, "cannot remove blob '%s'", d->str);
	}
	return 0;
}

int oci_blob_writer_open(struct oci_blobstore *bs, struct oci_blob_writer **out, struct ocb_error *err)
{
	struct oci_blob_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	w->bs = bs;
	if (oci_hasher_init(&w->hasher, err) < 0) {
		free(w);
		return -1;
	}
	w->fd = oci_tmpfile_at(bs->blobs_fd, w->tmpname, err);
	if (w->fd < 0) {
		oci_hasher_release(&w->hasher);
		free(w);
		return ocb_error_wrap(err, "blob store '%s'", bs->path);
	}
	*out = w;
	return 0;
}

/* Start writeback of every full chunk as it is written, so the fsync at
 * commit waits for the last few MiB rather than the whole blob, and large
 * blobs do not pile up as dirty page cache.  Advisory: errors show at fsync. */
static void writer_start_writeback(struct oci_blob_writer *w)
{
	while (w->size - w->flushed >= WRITEBACK_CHUNK) {
		sync_file_range(w->fd, (off_t)w->flushed, WRITEBACK_CHUNK, SYNC_FILE_RANGE_WRITE);
		w->flushed += WRITEBACK_CHUNK;
	}
}

int oci_blob_writer_write(struct oci_blob_writer *w, const void *data, size_t len, struct ocb_error *err)
{
	if (oci_write_all(w->fd, data, len) < 0)
		return ocb_error_sys(err, "cannot write blob in '%s'", w->bs->path);
	oci_hasher_update(&w->hasher, data, len);
	w->size += len;
	writer_start_writeback(w);
	return 0;
}

static int writer_check(struct oci_blob_writer *w, const struct oci_digest *got,
			const struct oci_digest *expected, int64_t expected_size, struct ocb_error *err)
{
	if (expected && !oci_digest_equal(expected, got))
		return digest_mismatch(expected, got, err);
	if (expected_size >= 0 && (uint64_t)expected_size != w->size)
		return ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s': size %llu, expected %lld",
				     expected ? expected->str : got->str, (unsigned long long)w->size,
				     (long long)expected_size);
	return 0;
}

/* Move the verified temp file to its content address (or drop it when the
 * blob is already there), then make the rename durable. */
static int writer_install(struct oci_blob_writer *w, const struct oci_digest *d, struct ocb_error *err)
{
	int blobs_fd = w->bs->blobs_fd;

	if (oci_blobstore_has(w->bs, d)) {
		unlinkat(blobs_fd, w->tmpname, 0);
		return 0;
	}
	if (renameat(blobs_fd, w->tmpname, blobs_fd, oci_digest_hex(d)) < 0)
		return ocb_error_sys(err, "cannot store blob '%s'", d->str);
	if (fsync(blobs_fd) < 0)
		return ocb_error_sys(err, "cannot store blob '%s': fsync", d->str);
	return 0;
}

int oci_blob_writer_commit(struct oci_blob_writer *w, const struct oci_digest *expected,
			   int64_t expected_size, struct oci_digest *out, uint64_t *size,
			   struct ocb_error *err)
{
	struct oci_digest got;
	uint64_t total = w->size;
	int ret = -1;

	oci_hasher_final(&w->hasher, &got);
	if (writer_check(w, &got, expected, expected_size, err) < 0)
		goto out;
	if (fsync(w->fd) < 0) {
		ocb_error_sys(err, "cannot store blob '%s': fsync", got.str);
		goto out;
	}
	if (writer_install(w, &got, err) < 0)
		goto out;
	if (out)
		*out = got;
	if (size)
		*size = total;
	ret = 0;
out:
	if (ret < 0)
		oci_blob_writer_abort(w);
	else {
		close(w->fd);
		oci_hasher_release(&w->hasher);
		free(w);
	}
	return ret;
}

void oci_blob_writer_abort(struct oci_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlinkat(w->bs->blobs_fd, w->tmpname, 0);
	}
	oci_hasher_release(&w->hasher);
	free(w);
}
