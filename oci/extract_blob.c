/* Layer blobs: open from the blob store, decompress and hash in a read-ahead
 * thread, extract; the blob digest and the diff_id are checked at the end
 * (the extractor drains the stream, so every byte was hashed). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/blobstore.h"
#include "oci/cleanup.h"
#include "oci/compress.h"
#include "oci/extract_internal.h"
#include "oci/readahead.h"
#include "oci/banned.h"

/* Runs in the read-ahead thread: read, decompress and hash the compressed
 * bytes (the decompressor feeds its hasher).  The parser thread hashes the
 * uncompressed stream: profiled on 1 GB of /usr/lib, that splits the work
 * about evenly for both codecs (inflate or zstd + one sha256 there, writes +
 * one sha256 here). */
static ssize_t blob_read(void *opaque, void *buf, size_t len, struct ocb_error *err)
{
	return oci_decompressor_read(opaque, buf, len, err);
}

/* An uncompressed blob is its own diff_id: hash it once.  The codec comes
 * from the magic bytes as the decompressor's AUTO picks it. */
static bool blob_is_plain_tar(int fd, enum oci_compression c)
{
	unsigned char m[4] = {0};
	ssize_t n;

	if (c != OCI_COMPRESSION_AUTO)
		return c == OCI_COMPRESSION_NONE;
	n = pread(fd, m, sizeof(m), 0);
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return false;
	return !(n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd);
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
	bool plain = blob_is_plain_tar(fd, c);
	struct oci_hasher compressed = {NULL};
	struct oci_decompressor *dec = NULL;
	struct extract_input in = {.borrow = oci_readahead_borrow, .hash = !plain};
	struct oci_readahead *ra = NULL;
	struct oci_extract_stats st;
	struct oci_digest got;
	int rc = -1;

	if (oci_hasher_init(&compressed, err) < 0)
		goto out;
	if (oci_decompressor_new(&dec, c, fd, &compressed, err) < 0)
		goto out;
	if (oci_readahead_new(&ra, blob_read, dec, err) < 0)
		goto out;
	in.opaque = ra;
	rc = extract_stream(rootfs_fd, &in, NULL, opts, &st, err);
	/* Joins the producer: the decompressor and its hasher are ours again. */
	oci_readahead_free(ra);
	if (rc < 0)
		goto out;
	rc = -1;
	oci_hasher_final(&compressed, &got);
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
	oci_decompressor_free(dec);
	if (compressed.ctx)
		oci_hasher_release(&compressed);
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
