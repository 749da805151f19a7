/* Content-addressed blob store: <root>/blobs/sha256/<hex>, as in an OCI layout.
 *
 * Writes go to a temp file inside the store, are fsynced, verified against the
 * expected digest and size, renamed into place, and the directory is fsynced
 * (libgit2's filebuf, containerd's content store).  An existing blob is success.
 * Reads of small blobs verify the digest; large blobs are verified by whoever
 * streams them (the extractor hashes while it reads). */
#ifndef OCB_BLOBSTORE_H
#define OCB_BLOBSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/digest.h"
#include "oci/error.h"

struct oci_blobstore {
	int root_fd;  /* the layout root */
	int blobs_fd; /* <root>/blobs/sha256 */
	char *path;   /* the layout root path, for messages */
};

/* Open (and with create, make) the store at root. */
int oci_blobstore_open(struct oci_blobstore *bs, const char *root, bool create, struct ocb_error *err);
void oci_blobstore_release(struct oci_blobstore *bs);

bool oci_blobstore_has(const struct oci_blobstore *bs, const struct oci_digest *d);
/* Open a blob read-only (O_CLOEXEC); *size gets its size.  Not verified. */
int oci_blobstore_open_blob(const struct oci_blobstore *bs, const struct oci_digest *d, int *fd,
			    uint64_t *size, struct ocb_error *err);
/* Re-hash a blob; OCB_EDIGEST naming the blob on mismatch. */
int oci_blobstore_verify(const struct oci_blobstore *bs, const struct oci_digest *d, struct ocb_error *err);
/* Read a whole blob (at most max bytes, else OCB_ELIMIT), verified.  *buf is
 * NUL-terminated and owned by the caller. */
int oci_blobstore_read(const struct oci_blobstore *bs, const struct oci_digest *d, size_t max, char **buf,
		       size_t *len, struct ocb_error *err);
/* Store a buffer; *out gets its digest. */
int oci_blobstore_put(struct oci_blobstore *bs, const void *data, size_t len, struct oci_digest *out,
		      struct ocb_error *err);
/* Copy a blob from another store (verified on the way). */
int oci_blobstore_copy(struct oci_blobstore *dst, const struct oci_blobstore *src, const struct oci_digest *d,
		       struct ocb_error *err);
int oci_blobstore_remove(struct oci_blobstore *bs, const struct oci_digest *d, struct ocb_error *err);

/* Streaming writer: hash while writing; commit verifies and renames. */
struct oci_blob_writer;

int oci_blob_writer_open(struct oci_blobstore *bs, struct oci_blob_writer **w, struct ocb_error *err);
int oci_blob_writer_write(struct oci_blob_writer *w, const void *data, size_t len, struct ocb_error *err);
/* expected may be NULL and expected_size -1 when unknown.  On success *out and *size
 * (either may be NULL) get the digest and size.  Frees w in every case. */
int oci_blob_writer_commit(struct oci_blob_writer *w, const struct oci_digest *expected,
			   int64_t expected_size, struct oci_digest *out, uint64_t *size,
			   struct ocb_error *err);
/* Drop the temp file and free w (NULL is fine). */
void oci_blob_writer_abort(struct oci_blob_writer *w);

#endif
