/* gzip back end: ISA-L igzip (3-4x faster than zlib at comparable ratios).
 *
 * Compression writes its own 10-byte RFC 1952 header (mtime 0, no name, OS
 * "unknown", the header Go's compress/gzip writes) so the output depends only
 * on the input bytes, then lets igzip write the deflate data and the trailer.
 * igzip's output depends on how the input is split between calls, so input
 * is handed to it in fixed GZIP_BLOCK-sized blocks whatever the callers'
 * write sizes (gathered in c->inbuf when they do not line up).
 *
 * Decompression verifies every member's CRC32 and ISIZE (ISAL_GZIP).
 * Multi-member streams are accepted, as gzip(1) and Go's gzip reader accept
 * them (eStargz layers are concatenated members); anything after a member
 * that is not another gzip member is trailing garbage and an error, as is a
 * stream that ends inside a member. */
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>

#include "oci/compress_impl.h"
#include "oci/banned.h"

#define GZIP_MAX_CHUNK (1u << 30) /* igzip counts output in uint32_t */
#define GZIP_BLOCK     (256u * 1024)

static const unsigned char gzip_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

static size_t level_buf_size(int level)
{
	switch (level) {
	case 1:
		return ISAL_DEF_LVL1_DEFAULT;
	case 2:
		return ISAL_DEF_LVL2_DEFAULT;
	default:
		return ISAL_DEF_LVL3_DEFAULT;
	}
}

int gzip_compressor_init(struct oci_compressor *c, int level, struct ocb_error *err)
{
	struct isal_zstream *zs;

	if (level == 0)
		level = 1;
	if (level < 1 || level > ISAL_DEF_MAX_LEVEL)
		return ocb_error_set(err, OCB_EINVAL, 0, "gzip level %d out of range 1-%d", level,
				     ISAL_DEF_MAX_LEVEL);
	zs = calloc(1, sizeof(*zs));
	c->impl = zs;
	c->impl_buf = malloc(level_buf_size(level));
	c->inbuf = malloc(GZIP_BLOCK);
	if (!zs || !c->impl_buf || !c->inbuf)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	isal_deflate_init(zs);
	zs->level = (uint32_t)level;
	zs->level_buf = c->impl_buf;
	zs->level_buf_size = (uint32_t)level_buf_size(level);
	zs->gzip_flag = IGZIP_GZIP_NO_HDR; /* our header, igzip's trailer */
	return c->sink(c->opaque, gzip_header, sizeof(gzip_header), err);
}

/* Feed one chunk (< 4 GiB) and drain the output; with end, finish the stream. */
static int gzip_deflate_chunk(struct oci_compressor *c, const unsigned char *data, uint32_t len, bool end,
			      struct ocb_error *err)
{
	struct isal_zstream *zs = c->impl;

	zs->next_in = (uint8_t *)data;
	zs->avail_in = len;
	zs->end_of_stream = end;
	do {
		zs->next_out = c->outbuf;
		zs->avail_out = COMPRESS_BUFSIZE;
		if (isal_deflate(zs) != COMP_OK)
			return ocb_error_set(err, OCB_EFAIL, 0, "gzip compression failed");
		if (compressor_emit(c, COMPRESS_BUFSIZE - zs->avail_out, err) < 0)
			return -1;
	} while (zs->avail_in > 0 || zs->avail_out == 0 || (end && zs->internal_state.state != ZSTATE_END));
	return 0;
}

int gzip_compress(struct oci_compressor *c, const void *data, size_t len, bool end, struct ocb_error *err)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t k;

		if (c->inlen == 0 && len >= GZIP_BLOCK) {
			if (gzip_deflate_chunk(c, p, GZIP_BLOCK, false, err) < 0)
				return -1;
			p += GZIP_BLOCK;
			len -= GZIP_BLOCK;
			continue;
		}
		k = GZIP_BLOCK - c->inlen < len ? GZIP_BLOCK - c->inlen : len;
		memcpy(c->inbuf + c->inlen, p, k);
		c->inlen += k;
		p += k;
		len -= k;
		if (c->inlen == GZIP_BLOCK) {
			c->inlen = 0;
			if (gzip_deflate_chunk(c, c->inbuf, GZIP_BLOCK, false, err) < 0)
				return -1;
		}
	}
	if (end)
		return gzip_deflate_chunk(c, c->inbuf, (uint32_t)c->inlen, true, err);
	return 0;
}

void gzip_compressor_free(struct oci_compressor *c)
{
	free(c->impl);
	free(c->impl_buf);
	free(c->inbuf);
}

static void gzip_member_start(struct inflate_state *st)
{
	isal_inflate_init(st);
	st->crc_flag = ISAL_GZIP;
}

int gzip_decompressor_init(struct oci_decompressor *d, struct ocb_error *err)
{
	struct inflate_state *st = malloc(sizeof(*st));

	if (!st)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	gzip_member_start(st);
	d->impl = st;
	return 0;
}

static int gzip_corrupt(int ret, struct ocb_error *err)
{
	if (ret == ISAL_INCORRECT_CHECKSUM)
		return ocb_error_set(err, OCB_EINVAL, 0, "corrupt gzip stream: checksum mismatch");
	return ocb_error_set(err, OCB_EINVAL, 0, "corrupt gzip stream (igzip error %d)", ret);
}

/* After a finished member: end of input, the start of another member, or
 * trailing garbage.  Returns 1 at the clean end, 0 to go on, -1 on error. */
static int gzip_next_member(struct oci_decompressor *d, struct ocb_error *err)
{
	if (decompressor_refill(d, err) < 0)
		return -1;
	if (d->inpos == d->inlen)
		return 1;
	if (d->inbuf[d->inpos] != 0x1f)
		return ocb_error_set(err, OCB_EINVAL, 0, "trailing garbage after gzip stream");
	gzip_member_start(d->impl);
	d->done = false;
	return 0;
}

/* One isal_inflate call on what is buffered; returns bytes produced. */
static ssize_t gzip_inflate_step(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err)
{
	struct inflate_state *st = d->impl;
	uint32_t out_len = len > GZIP_MAX_CHUNK ? GZIP_MAX_CHUNK : (uint32_t)len;
	int ret;

	st->next_in = d->inbuf + d->inpos;
	st->avail_in = (uint32_t)(d->inlen - d->inpos);
	st->next_out = buf;
	st->avail_out = out_len;
	d->started |= st->avail_in > 0;
	ret = isal_inflate(st);
	d->inpos = d->inlen - st->avail_in;
	if (ret < 0)
		return gzip_corrupt(ret, err);
	if (ret == ISAL_NEED_DICT)
		return ocb_error_set(err, OCB_EINVAL, 0, "corrupt gzip stream: needs a dictionary");
	d->done = st->block_state == ISAL_BLOCK_FINISH;
	return (ssize_t)(out_len - st->avail_out);
}

ssize_t gzip_decompress(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err)
{
	for (;;) {
		bool at_end;
		ssize_t n;

		if (d->done) {
			int r = gzip_next_member(d, err);
			if (r != 0)
				return r < 0 ? -1 : 0;
		}
		if (decompressor_refill(d, err) < 0)
			return -1;
		/* Even with no input left igzip may still hold output to flush. */
		at_end = d->inpos == d->inlen && d->eof;
		n = gzip_inflate_step(d, buf, len, err);
		if (n != 0)
			return n;
		if (!d->done && at_end)
			return ocb_error_set(err, OCB_EINVAL, 0,
					     d->started ? "truncated gzip stream" : "empty gzip stream");
	}
}

void gzip_decompressor_free(struct oci_decompressor *d)
{
	free(d->impl);
}
