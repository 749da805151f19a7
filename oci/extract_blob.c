/* Layer blobs: open from the blob store, decompress in a read-ahead thread,
 * extract; the blob digest and the diff_id are checked at the end (the
 * extractor drains the stream, so every byte was hashed).
 *
 * Who hashes what, so that two cores share the work evenly (profiled on
 * 1 GB of /usr/lib, scripts/bench-layer):
 * - uncompressed blob: the read-ahead thread reads and hashes it (that one
 *   digest is both the blob digest and the diff_id); the parser writes.
 * - zstd: the read-ahead thread reads, hashes and decompresses (zstd is
 *   fast); the parser hashes the uncompressed stream and writes.
 * - gzip: inflate alone is 1.3 s of the 1.45 s that 700 MB/s allows on our
 *   2-core machines, so the read-ahead thread only inflates.  The parser
 *   hashes the uncompressed stream and the compressed bytes too: it reads
 *   the blob a second time, from the page cache, trailing just behind the
 *   decompressor (blob_trail below), so that work fills the parser's waits
 *   instead of coming at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/blobstore.h"
#include "oci/cleanup.h"
#include "oci/compress.h"
#include "oci/extract_internal.h"
#include "oci/readahead.h"
#include "oci/banned.h"

#define TRAIL_BUF_SIZE ((size_t)1 << 20)

/* The parser's side of a compressed blob: the compressed bytes hashed so far
 * (`hashed`), and how far the decompressor has read (`read_pos`, published
 * by the read-ahead thread). */
struct blob_trail {
	int fd;
	struct oci_decompressor *dec;
	struct oci_readahead *ra;
	bool trail; /* hash the compressed bytes here (false: the decompressor does) */
	struct oci_hasher hasher;
	unsigned char *buf;
	uint64_t hashed;
	_Atomic uint64_t read_pos;
};

/* Runs in the read-ahead thread: read and decompress (and hash, when the
 * decompressor has the hasher), then publish the blob offset reached. */
static ssize_t blob_read(void *opaque, void *buf, size_t len, struct ocb_error *err)
{
	struct blob_trail *t = opaque;
	ssize_t n = oci_decompressor_read(t->dec, buf, len, err);
	off_t pos;

	if (t->trail && n > 0 && (pos = lseek(t->fd, 0, SEEK_CUR)) > 0)
		atomic_store_explicit(&t->read_pos, (uint64_t)pos, memory_order_relaxed);
	return n;
}

/* Hash the blob from t->hashed up to `upto` (UINT64_MAX: to its end). */
static int trail_hash(struct blob_trail *t, uint64_t upto, struct ocb_error *err)
{
	while (t->hashed < upto) {
		uint64_t want = upto - t->hashed < TRAIL_BUF_SIZE ? upto - t->hashed : TRAIL_BUF_SIZE;
		ssize_t n = pread(t->fd, t->buf, (size_t)want, (off_t)t->hashed);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ocb_error_sys(err, "cannot read the layer blob");
		if (n == 0)
			break;
		oci_hasher_update(&t->hasher, t->buf, (size_t)n);
		t->hashed += (uint64_t)n;
	}
	return 0;
}

/* The parser's input: the read-ahead ring's next chunk, after catching the
 * compressed hash up with the decompressor. */
static ssize_t blob_borrow(void *opaque, const void **buf, struct ocb_error *err)
{
	struct blob_trail *t = opaque;

	if (t->trail && trail_hash(t, atomic_load_explicit(&t->read_pos, memory_order_relaxed), err) < 0)
		return -1;
	return oci_readahead_borrow(t->ra, buf, err);
}

/* The blob's codec: the caller's, or from the magic bytes as the
 * decompressor's AUTO picks it. */
static enum oci_compression blob_codec(int fd, enum oci_compression c)
{
	unsigned char m[OCI_COMPRESSION_MAGIC_MAX];
	ssize_t n;

	if (c != OCI_COMPRESSION_AUTO)
		return c;
	n = pread(fd, m, sizeof(m), 0);
	return oci_compression_detect(m, n > 0 ? (size_t)n : 0);
}

/* After a failed extraction: when the blob does not match its digest, that
 * is the cause to report (a flipped byte shows first as a corrupt stream). */
static void prefer_digest_error(const struct oci_blobstore *bs, const struct oci_digest *digest,
				struct ocb_error *err)
{
	struct ocb_error verr = OCB_ERROR_INIT;

	if (err && err->code != OCB_EDIGEST && oci_blobstore_verify(bs, digest, &verr) < 0 &&
	    verr.code == OCB_EDIGEST)
		*err = verr;
}

static int extract_blob_fd(int rootfs_fd, int fd, enum oci_compression c, const struct oci_digest *digest,
			   const struct oci_digest *diff_id, const struct oci_extract_opts *opts,
			   struct oci_extract_stats *stats, struct ocb_error *err)
{
	enum oci_compression codec = blob_codec(fd, c);
	bool plain = codec == OCI_COMPRESSION_NONE;
	struct blob_trail t = {.fd = fd, .trail = codec == OCI_COMPRESSION_GZIP};
	struct extract_input in = {.borrow = blob_borrow, .opaque = &t, .hash = !plain};
	struct oci_extract_stats st;
	struct oci_digest got;
	int rc = -1;

	if (oci_hasher_init(&t.hasher, err) < 0)
		goto out;
	if (t.trail && !(t.buf = malloc(TRAIL_BUF_SIZE))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	if (oci_decompressor_new(&t.dec, c, fd, t.trail ? NULL : &t.hasher, err) < 0)
		goto out;
	if (oci_readahead_new(&t.ra, blob_read, &t, err) < 0)
		goto out;
	rc = extract_stream(rootfs_fd, &in, NULL, opts, &st, err);
	/* Joins the producer: the decompressor (and its hasher) are ours again. */
	oci_readahead_free(t.ra);
	if (rc < 0)
		goto out;
	rc = -1;
	/* The rest of the blob, past what the decompressor had read when the
	 * parser last looked (and anything after the compressed stream). */
	if (t.trail && trail_hash(&t, UINT64_MAX, err) < 0)
		goto out;
	oci_hasher_final(&t.hasher, &got);
	if (!oci_digest_equal(&got, digest)) {
		ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s' does not match its digest (content is '%s')",
			      digest->str, got.str);
		goto out;
	}
	if (plain)
		st.diff_id = got;
	if (diff_id && extract_check_diff_id(&st.diff_id, diff_id, err) < 0) {
		ocb_error_wrap(err, "layer '%s'", digest->str);
		goto out;
	}
	if (stats)
		*stats = st;
	rc = 0;
out:
	oci_decompressor_free(t.dec);
	if (t.hasher.ctx)
		oci_hasher_release(&t.hasher);
	free(t.buf);
	return rc;
}

int oci_extract_layer_blob(int rootfs_fd, const struct oci_blobstore *bs, const struct oci_digest *digest,
			   enum oci_compression c, const struct oci_digest *diff_id,
			   const struct oci_extract_opts *opts, struct oci_extract_stats *stats,
			   struct ocb_error *err)
{
	struct oci_extract_opts named = {0};
	cleanup_close int fd = -1;

	if (oci_blobstore_open_blob(bs, digest, &fd, NULL, err) < 0)
		return -1;
	if (opts)
		named = *opts;
	if (!named.name)
		named.name = digest->str;
	if (extract_blob_fd(rootfs_fd, fd, c, digest, diff_id, &named, stats, err) < 0) {
		prefer_digest_error(bs, digest, err);
		return -1;
	}
	return 0;
}

struct layer_fill {
	const struct oci_blobstore *bs;
	const struct oci_digest *digest, *diff_id;
	enum oci_compression c;
	const struct oci_extract_opts *opts;
	struct oci_extract_stats *stats;
};

static int fill_layer(int dirfd, void *opaque, struct ocb_error *err)
{
	struct layer_fill *f = opaque;

	return oci_extract_layer_blob(dirfd, f->bs, f->digest, f->c, f->diff_id, f->opts, f->stats, err);
}

int oci_extract_layer_to_new_dir(int parent_fd, const char *final_name, const struct oci_blobstore *bs,
				 const struct oci_digest *digest, enum oci_compression c,
				 const struct oci_digest *diff_id, const struct oci_extract_opts *opts,
				 struct oci_extract_stats *stats, struct ocb_error *err)
{
	struct layer_fill f = {bs, digest, diff_id, c, opts, stats};

	return oci_extract_into_new_dir(parent_fd, final_name, fill_layer, &f, opts ? opts->flags : 0, err);
}
