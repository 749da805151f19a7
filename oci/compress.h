/* Layer compression: gzip (ISA-L igzip, RFC 1952 header with mtime 0 and no
 * name) and zstd (libzstd, multi-threaded), streaming in both directions. */
#ifndef OCB_COMPRESS_H
#define OCB_COMPRESS_H

#include <stddef.h>
#include <sys/types.h>

#include "oci/digest.h"
#include "oci/error.h"

enum oci_compression {
	OCI_COMPRESSION_NONE,
	OCI_COMPRESSION_GZIP,
	OCI_COMPRESSION_ZSTD,
	OCI_COMPRESSION_AUTO, /* decompressor only: detect from the magic bytes */
};

#define OCI_MEDIA_TYPE_LAYER	     "application/vnd.oci.image.layer.v1.tar"
#define OCI_MEDIA_TYPE_LAYER_GZIP    "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MEDIA_TYPE_LAYER_ZSTD    "application/vnd.oci.image.layer.v1.tar+zstd"
#define DOCKER_MEDIA_TYPE_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

const char *oci_compression_name(enum oci_compression c); /* "none", "gzip", "zstd" */
int oci_compression_parse(const char *name, enum oci_compression *out, struct ocb_error *err);
const char *oci_compression_media_type(enum oci_compression c);
/* Accepts OCI and Docker layer media types; OCB_EINVAL for others. */
int oci_compression_from_media_type(const char *media_type, enum oci_compression *out, struct ocb_error *err);

/* Compressed bytes are handed to a sink as they are produced. */
typedef int (*oci_sink_fn)(void *opaque, const void *data, size_t len, struct ocb_error *err);

struct oci_compressor;

/* level 0 picks the default for the algorithm (gzip: igzip level 1, range
 * 1-3; zstd: level 1, for speed, see compress_zstd.c; range 1-19).  The output depends only on
 * the input bytes, not on how they are split into writes. */
int oci_compressor_new(struct oci_compressor **out, enum oci_compression c, int level, oci_sink_fn sink,
		       void *opaque, struct ocb_error *err);
int oci_compressor_write(struct oci_compressor *c, const void *data, size_t len, struct ocb_error *err);
/* Flush the end of the stream to the sink. */
int oci_compressor_finish(struct oci_compressor *c, struct ocb_error *err);
void oci_compressor_free(struct oci_compressor *c);

struct oci_decompressor;

/* The codec a stream's first len bytes announce by their magic (gzip 1f 8b,
 * zstd 28 b5 2f fd): GZIP, ZSTD, or NONE; what AUTO picks.  Four bytes are
 * enough to tell. */
#define OCI_COMPRESSION_MAGIC_MAX 4
enum oci_compression oci_compression_detect(const void *buf, size_t len);

/* Read compressed bytes from fd.  If hasher is not NULL every compressed byte
 * read is fed to it (so a caller verifies a blob's digest while extracting;
 * read until 0 so the whole blob is hashed).  AUTO reads the first bytes here
 * to pick the codec (no magic: NONE).  Concatenated gzip members and zstd
 * frames are accepted (as gzip(1), zstd(1) and Go's readers do); every gzip
 * member's CRC32 and ISIZE are checked, zstd frame checksums when present.
 * Corrupt, truncated or empty compressed input and trailing garbage fail
 * with OCB_EINVAL. */
int oci_decompressor_new(struct oci_decompressor **out, enum oci_compression c, int fd,
			 struct oci_hasher *hasher, struct ocb_error *err);
/* Up to len decompressed bytes; 0 at the clean end of the stream; -1 on error
 * (a truncated or corrupt stream is an error, trailing garbage too). */
ssize_t oci_decompressor_read(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err);
void oci_decompressor_free(struct oci_decompressor *d);

#endif
