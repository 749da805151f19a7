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

/* Where the uncompressed stream is hashed, to balance the two threads: the
 * parser thread's writes cost about as much as ISA-L's inflate, so for gzip it
 * hashes; zstd decompresses faster, so its thread hashes too; an uncompressed
 * blob's digest is its diff_id and is hashed once. */
enum diff_hash {
	DIFF_HASH_SAME,	    /* uncompressed: diff_id is the blob digest */
	DIFF_HASH_PRODUCER, /* in the read-ahead thread */
	DIFF_HASH_CONSUMER, /* in the parser thread */
};

struct blob_stream {
	struct oci_decompressor *dec;
	struct oci_hasher uncompressed;
	bool hash;
};

/* Runs in the read-ahead thread. */
static ssize_t blob_read(void *opaque, void *buf, size_t len, struct ocb_error *err)
{
	struct blob_stream *b = opaque;
	ssize_t n = oci_decompressor_read(b->dec, buf, len, err);

	if (n > 0 && b->hash)
		oci_hasher_update(&b->uncompressed, buf, (size_t)n);
	return n;
}

/* The codec from the magic bytes, as the decompressor's AUTO does. */
static enum diff_hash pick_diff_hash(int fd, enum oci_compression c)
{
	unsigned char m[4] = {0};

	if (c == OCI_COMPRESSION_AUTO) {
		ssize_t n = pread(fd, m, sizeof(m), 0);
		if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
			c = OCI_COMPRESSION_GZIP;
		else if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
			c = OCI_COMPRESSION_ZSTD;
		else
			c = OCI_COMPRESSION_NONE;
	}
	return c == OCI_COMPRESSION_NONE   ? DIFF_HASH_SAME
	       : c == OCI_COMPRESSION_GZIP ? DIFF_HASH_CONSUMER
					   : DIFF_HASH_PRODUCER;
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
	enum diff_hash where = pick_diff_hash(fd, c);
	struct oci_hasher compressed = {NULL};
	struct blob_stream b = {NULL, {NULL}, where == DIFF_HASH_PRODUCER};
	struct extract_input in = {.borrow = oci_readahead_borrow, .hash = where == DIFF_HASH_CONSUMER};
	struct oci_readahead *ra = NULL;
	struct oci_extract_stats st;
	struct oci_digest got;
	int rc = -1;

	if (oci_hasher_init(&compressed, err) < 0 || (b.hash && oci_hasher_init(&b.uncompressed, err) < 0))
		goto out;
	if (oci_decompressor_new(&b.dec, c, fd, &compressed, err) < 0)
		goto out;
	if (oci_readahead_new(&ra, blob_read, &b, err) < 0)
		goto out;
	in.opaque = ra;
	rc = extract_stream(rootfs_fd, &in, NULL, opts, &st, err);
	/* Joins the producer: the hashers are ours again. */
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
	if (where == DIFF_HASH_SAME)
		st.diff_id = got;
	else if (where == DIFF_HASH_PRODUCER)
		oci_hasher_final(&b.uncompressed, &st.diff_id);
	if (diff_id && extract_check_diff_id(&st.diff_id, diff_id, err) < 0) {
		ocb_error_wrap(err, "layer '%s'", digest->str);
		goto out;
	}
	if (stats)
		*stats = st;
	rc = 0;
out:
	oci_decompressor_free(b.dec);
	if (compressed.ctx)
		oci_hasher_release(&compressed);
	if (b.uncompressed.ctx)
		oci_hasher_release(&b.uncompressed);
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
