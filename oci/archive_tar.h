/* Internal to the archive writers/readers: a deterministic tar writer on top
 * of libarchive, and safe name checks for tars read from untrusted input. */
#ifndef OCB_ARCHIVE_TAR_H
#define OCB_ARCHIVE_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

struct archive;

struct oci_tar_out {
	struct archive *a;
	int dir_fd;	/* the target's directory */
	int fd;		/* the temp file */
	char *tmp_name; /* in dir_fd */
	char *name;	/* final name in dir_fd */
	char *path;	/* for messages */
	int64_t mtime;
};

/* Start writing path (through a temp file beside it). */
int oci_tar_out_open(struct oci_tar_out *t, const char *path, int64_t mtime, struct ocb_error *err);
int oci_tar_out_dir(struct oci_tar_out *t, const char *name, struct ocb_error *err);
int oci_tar_out_buffer(struct oci_tar_out *t, const char *name, const void *data, size_t len,
		       struct ocb_error *err);
/* A file of size bytes whose contents follow with oci_tar_out_data. */
int oci_tar_out_begin(struct oci_tar_out *t, const char *name, int64_t size, struct ocb_error *err);
int oci_tar_out_data(struct oci_tar_out *t, const void *data, size_t len, struct ocb_error *err);
/* Finish the tar, fsync, rename over path. */
int oci_tar_out_commit(struct oci_tar_out *t, struct ocb_error *err);
/* Drop the temp file (after a failure; no-op after commit). */
void oci_tar_out_abort(struct oci_tar_out *t);

/* Open path for reading as a tar (gzip/zstd/xz filters allowed). */
int oci_tar_in_open(struct archive **out, const char *path, struct ocb_error *err);
/* The current member's data, at most max bytes (OCB_ELIMIT beyond), NUL-terminated. */
int oci_tar_in_read_small(struct archive *a, const char *name, size_t max, char **buf, size_t *len,
			  struct ocb_error *err);
/* Stream the current member into bs.  expected (may be NULL) and
 * expected_size (-1: unknown) are checked; *digest and *size (may be NULL)
 * get what was stored. */
struct oci_blobstore;
struct oci_digest;
int oci_tar_in_to_blob(struct archive *a, const char *name, struct oci_blobstore *bs,
		       const struct oci_digest *expected, int64_t expected_size, struct oci_digest *digest,
		       uint64_t *size, struct ocb_error *err);
/* A tar member name made relative and checked: no absolute names, no ".."
 * component, no empty components except a trailing '/'; "./" prefixes are
 * dropped and a trailing '/' removed.  *out is malloc'd. */
int oci_tar_clean_name(const char *name, char **out, struct ocb_error *err);

#endif
