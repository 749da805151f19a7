/* zstd back end: libzstd streaming.
 *
 * Compression runs on ZSTD_WORKERS worker threads (ZSTD_c_nbWorkers):
 * libzstd's multi-threaded output does not depend on the number of workers,
 * so layers stay reproducible across machines.  Frames carry a content
 * checksum.  Decompression accepts concatenated frames (as zstd(1) does);
 * a stream that ends inside a frame is truncated and an error. */
#include <errno.h>
#include <stdlib.h>
#include <zstd.h>

#include "oci/cleanup.h"
#include "oci/compress_impl.h"
#include "oci/banned.h"

/* Level 1: on 2 cores a layer commit has about 4.5 core-seconds per GB to
 * reach 450 MB/s, and sha256 (twice), reading and writing take ~1.1 of them.
 * Measured on 1 GB of /usr/lib: level 1 costs 3.1-3.4 core-s/GB (ratio
 * 0.343, 33 MiB peak), level 2 3.7 (0.323), level 3 4.3 (0.309, and its
 * two workers' buffers push the process past 64 MiB). */
#define ZSTD_DEFAULT_LEVEL 1
#define ZSTD_WORKERS	   2

OCB_DEFINE_CLEANUP_FUNC(ZSTD_CCtx *, ZSTD_freeCCtx)

static int zstd_set(ZSTD_CCtx *cctx, ZSTD_cParameter p, int value, struct ocb_error *err)
{
	size_t r = ZSTD_CCtx_setParameter(cctx, p, value);

	if (ZSTD_isError(r))
		return ocb_error_set(err, OCB_EINVAL, 0, "zstd parameter %d=%d: %s", (int)p, value,
				     ZSTD_getErrorName(r));
	return 0;
}

int zstd_compressor_init(struct oci_compressor *c, int level, struct ocb_error *err)
{
	__attribute__((cleanup(ZSTD_freeCCtxp))) ZSTD_CCtx *cctx = NULL;

	if (level == 0)
		level = ZSTD_DEFAULT_LEVEL;
	if (level < 1 || level > ZSTD_maxCLevel())
		return ocb_error_set(err, OCB_EINVAL, 0, "zstd level %d out of range 1-%d", level,
				     ZSTD_maxCLevel());
	cctx = ZSTD_createCCtx();
	if (!cctx)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (zstd_set(cctx, ZSTD_c_compressionLevel, level, err) < 0 ||
	    zstd_set(cctx, ZSTD_c_checksumFlag, 1, err) < 0 ||
	    zstd_set(cctx, ZSTD_c_nbWorkers, ZSTD_WORKERS, err) < 0)
		return -1;
	c->impl = steal_pointer(&cctx);
	return 0;
}

int zstd_compress(struct oci_compressor *c, const void *data, size_t len, bool end, struct ocb_error *err)
{
	ZSTD_inBuffer in = {data, len, 0};
	ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
	size_t remaining;

	do {
		ZSTD_outBuffer out = {c->outbuf, COMPRESS_BUFSIZE, 0};
		remaining = ZSTD_compressStream2(c->impl, &out, &in, mode);
		if (ZSTD_isError(remaining))
			return ocb_error_set(err, OCB_EFAIL, 0, "zstd compression failed: %s",
					     ZSTD_getErrorName(remaining));
		if (compressor_emit(c, out.pos, err) < 0)
			return -1;
	} while (in.pos < in.size || (end && remaining != 0));
	return 0;
}

void zstd_compressor_free(struct oci_compressor *c)
{
	ZSTD_freeCCtx(c->impl);
}

int zstd_decompressor_init(struct oci_decompressor *d, struct ocb_error *err)
{
	d->impl = ZSTD_createDCtx();
	if (!d->impl)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

ssize_t zstd_decompress(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer out = {buf, len, 0};
		bool at_end;
		size_t r;

		if (decompressor_refill(d, err) < 0)
			return -1;
		at_end = d->inpos == d->inlen && d->eof;
		in = (ZSTD_inBuffer){d->inbuf, d->inlen, d->inpos};
		d->started |= in.pos < in.size;
		r = ZSTD_decompressStream(d->impl, &out, &in);
		if (ZSTD_isError(r))
			return ocb_error_set(err, OCB_EINVAL, 0, "corrupt zstd stream: %s",
					     ZSTD_getErrorName(r));
		/* 0: a frame is complete and flushed; more frames may follow.  A
		 * call that did nothing says nothing about the last frame. */
		if (in.pos != d->inpos || out.pos > 0)
			d->done = r == 0;
		d->inpos = in.pos;
		if (out.pos > 0)
			return (ssize_t)out.pos;
		if (at_end) {
			if (d->done && d->started)
				return 0;
			return ocb_error_set(err, OCB_EINVAL, 0,
					     d->started ? "truncated zstd stream" : "empty zstd stream");
		}
	}
}

void zstd_decompressor_free(struct oci_decompressor *d)
{
	ZSTD_freeDCtx(d->impl);
}
