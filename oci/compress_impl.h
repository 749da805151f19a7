/* Internal to oci/compress*.c: the state shared by the codec back ends.
 * Not for use outside the compression module. */
#ifndef OCB_COMPRESS_IMPL_H
#define OCB_COMPRESS_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/compress.h"

#define COMPRESS_BUFSIZE (256 * 1024)

struct oci_compressor {
	enum oci_compression algo;
	oci_sink_fn sink;
	void *opaque;
	unsigned char *outbuf; /* COMPRESS_BUFSIZE bytes */
	void *impl;	       /* isal_zstream or ZSTD_CCtx */
	void *impl_buf;	       /* isal level buffer */
	unsigned char *inbuf;  /* gzip: input gathered into fixed blocks */
	size_t inlen;
	bool finished;
};

struct oci_decompressor {
	enum oci_compression algo;
	int fd;
	struct oci_hasher *hasher;
	unsigned char *inbuf; /* COMPRESS_BUFSIZE bytes: inbuf[inpos..inlen) unread */
	size_t inpos, inlen;
	bool eof;     /* fd reached its end */
	bool done;    /* gzip: member finished; zstd: frame finished */
	bool started; /* at least one member or frame was begun */
	void *impl;   /* inflate_state or ZSTD_DCtx */
};

/* Hand outbuf[0..len) to the sink. */
int compressor_emit(struct oci_compressor *c, size_t len, struct ocb_error *err);
/* Read more compressed bytes when inbuf is used up (sets eof at the end). */
int decompressor_refill(struct oci_decompressor *d, struct ocb_error *err);

int gzip_compressor_init(struct oci_compressor *c, int level, struct ocb_error *err);
int gzip_compress(struct oci_compressor *c, const void *data, size_t len, bool end, struct ocb_error *err);
void gzip_compressor_free(struct oci_compressor *c);
int gzip_decompressor_init(struct oci_decompressor *d, struct ocb_error *err);
ssize_t gzip_decompress(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err);
void gzip_decompressor_free(struct oci_decompressor *d);

int zstd_compressor_init(struct oci_compressor *c, int level, struct ocb_error *err);
int zstd_compress(struct oci_compressor *c, const void *data, size_t len, bool end, struct ocb_error *err);
void zstd_compressor_free(struct oci_compressor *c);
int zstd_decompressor_init(struct oci_decompressor *d, struct ocb_error *err);
ssize_t zstd_decompress(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err);
void zstd_decompressor_free(struct oci_decompressor *d);

#endif
