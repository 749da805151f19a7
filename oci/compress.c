/* Layer compression front end: names, media types, and dispatch to the gzip
 * (compress_gzip.c) and zstd (compress_zstd.c) back ends.  NONE is a
 * passthrough handled here. */
#include "oci/compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/compress_impl.h"
#include "oci/banned.h"

static const char gzip_magic[] = {0x1f, (char)0x8b};
static const char zstd_magic[] = {0x28, (char)0xb5, 0x2f, (char)0xfd};
_Static_assert(sizeof(zstd_magic) == OCI_COMPRESSION_MAGIC_MAX, "the longest magic");

const char *oci_compression_name(enum oci_compression c)
{
	switch (c) {
	case OCI_COMPRESSION_NONE:
		return "none";
	case OCI_COMPRESSION_GZIP:
		return "gzip";
	case OCI_COMPRESSION_ZSTD:
		return "zstd";
	case OCI_COMPRESSION_AUTO:
		return "auto";
	}
	return "unknown";
}

int oci_compression_parse(const char *name, enum oci_compression *out, struct ocb_error *err)
{
	static const enum oci_compression all[] = {OCI_COMPRESSION_NONE, OCI_COMPRESSION_GZIP,
						   OCI_COMPRESSION_ZSTD};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (name && !strcmp(name, oci_compression_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	return ocb_error_set(err, OCB_EINVAL, 0, "unknown compression '%s' (use none, gzip or zstd)",
			     name ? name : "(null)");
}

const char *oci_compression_media_type(enum oci_compression c)
{
	switch (c) {
	case OCI_COMPRESSION_NONE:
		return OCI_MEDIA_TYPE_LAYER;
	case OCI_COMPRESSION_GZIP:
		return OCI_MEDIA_TYPE_LAYER_GZIP;
	case OCI_COMPRESSION_ZSTD:
		return OCI_MEDIA_TYPE_LAYER_ZSTD;
	case OCI_COMPRESSION_AUTO:
		break;
	}
	return NULL;
}

int oci_compression_from_media_type(const char *media_type, enum oci_compression *out, struct ocb_error *err)
{
	static const struct {
		const char *media_type;
		enum oci_compression c;
	} known[] = {
	    {OCI_MEDIA_TYPE_LAYER, OCI_COMPRESSION_NONE},
	    {OCI_MEDIA_TYPE_LAYER_GZIP, OCI_COMPRESSION_GZIP},
	    {OCI_MEDIA_TYPE_LAYER_ZSTD, OCI_COMPRESSION_ZSTD},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar", OCI_COMPRESSION_NONE},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", OCI_COMPRESSION_GZIP},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", OCI_COMPRESSION_ZSTD},
	    {"application/vnd.docker.image.rootfs.diff.tar", OCI_COMPRESSION_NONE},
	    {DOCKER_MEDIA_TYPE_LAYER_GZIP, OCI_COMPRESSION_GZIP},
	    {"application/vnd.docker.image.rootfs.diff.tar.zstd", OCI_COMPRESSION_ZSTD},
	    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", OCI_COMPRESSION_GZIP},
	};

	for (size_t i = 0; media_type && i < sizeof(known) / sizeof(known[0]); i++) {
		if (!strcmp(media_type, known[i].media_type)) {
			*out = known[i].c;
			return 0;
		}
	}
	return ocb_error_set(err, OCB_EINVAL, 0, "unsupported layer media type '%.200s'",
			     media_type ? media_type : "(null)");
}

int compressor_emit(struct oci_compressor *c, size_t len, struct ocb_error *err)
{
	if (len == 0)
		return 0;
	return c->sink(c->opaque, c->outbuf, len, err);
}

int oci_compressor_new(struct oci_compressor **out, enum oci_compression algo, int level, oci_sink_fn sink,
		       void *opaque, struct ocb_error *err)
{
	struct oci_compressor *c = calloc(1, sizeof(*c));
	int rc = 0;

	if (!c || !(c->outbuf = malloc(COMPRESS_BUFSIZE))) {
		free(c);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	c->algo = algo;
	c->sink = sink;
	c->opaque = opaque;
	if (algo == OCI_COMPRESSION_GZIP)
		rc = gzip_compressor_init(c, level, err);
	else if (algo == OCI_COMPRESSION_ZSTD)
		rc = zstd_compressor_init(c, level, err);
	else if (algo != OCI_COMPRESSION_NONE)
		rc = ocb_error_set(err, OCB_EINVAL, 0, "cannot compress with '%s'",
				   oci_compression_name(algo));
	if (rc < 0) {
		oci_compressor_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static int compressor_run(struct oci_compressor *c, const void *data, size_t len, bool end,
			  struct ocb_error *err)
{
	if (c->finished)
		return ocb_error_set(err, OCB_EINVAL, 0, "%s stream already finished",
				     oci_compression_name(c->algo));
	c->finished = end;
	switch (c->algo) {
	case OCI_COMPRESSION_GZIP:
		return gzip_compress(c, data, len, end, err);
	case OCI_COMPRESSION_ZSTD:
		return zstd_compress(c, data, len, end, err);
	default:
		return len ? c->sink(c->opaque, data, len, err) : 0;
	}
}

int oci_compressor_write(struct oci_compressor *c, const void *data, size_t len, struct ocb_error *err)
{
	return compressor_run(c, data, len, false, err);
}

int oci_compressor_finish(struct oci_compressor *c, struct ocb_error *err)
{
	return compressor_run(c, NULL, 0, true, err);
}

void oci_compressor_free(struct oci_compressor *c)
{
	if (!c)
		return;
	if (c->algo == OCI_COMPRESSION_GZIP)
		gzip_compressor_free(c);
	else if (c->algo == OCI_COMPRESSION_ZSTD)
		zstd_compressor_free(c);
	free(c->outbuf);
	free(c);
}

int decompressor_refill(struct oci_decompressor *d, struct ocb_error *err)
{
	ssize_t n;

	if (d->inpos < d->inlen || d->eof)
		return 0;
	do
		n = read(d->fd, d->inbuf, COMPRESS_BUFSIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ocb_error_sys(err, "cannot read compressed stream");
	if (d->hasher)
		oci_hasher_update(d->hasher, d->inbuf, (size_t)n);
	d->inpos = 0;
	d->inlen = (size_t)n;
	d->eof = n == 0;
	return 0;
}

/* Read until inbuf holds want bytes or the input ends (for magic detection). */
static int decompressor_fill(struct oci_decompressor *d, size_t want, struct ocb_error *err)
{
	while (d->inlen < want && !d->eof) {
		ssize_t n = read(d->fd, d->inbuf + d->inlen, COMPRESS_BUFSIZE - d->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ocb_error_sys(err, "cannot read compressed stream");
		if (d->hasher)
			oci_hasher_update(d->hasher, d->inbuf + d->inlen, (size_t)n);
		d->inlen += (size_t)n;
		d->eof = n == 0;
	}
	return 0;
}

enum oci_compression oci_compression_detect(const void *buf, size_t len)
{
	if (len >= sizeof(gzip_magic) && !memcmp(buf, gzip_magic, sizeof(gzip_magic)))
		return OCI_COMPRESSION_GZIP;
	if (len >= sizeof(zstd_magic) && !memcmp(buf, zstd_magic, sizeof(zstd_magic)))
		return OCI_COMPRESSION_ZSTD;
	return OCI_COMPRESSION_NONE;
}

static int detect_compression(struct oci_decompressor *d, struct ocb_error *err)
{
	if (decompressor_fill(d, OCI_COMPRESSION_MAGIC_MAX, err) < 0)
		return -1;
	d->algo = oci_compression_detect(d->inbuf, d->inlen);
	return 0;
}

static int decompressor_init_codec(struct oci_decompressor *d, struct ocb_error *err)
{
	if (d->algo == OCI_COMPRESSION_AUTO && detect_compression(d, err) < 0)
		return -1;
	if (d->algo == OCI_COMPRESSION_GZIP)
		return gzip_decompressor_init(d, err);
	if (d->algo == OCI_COMPRESSION_ZSTD)
		return zstd_decompressor_init(d, err);
	return 0;
}

int oci_decompressor_new(struct oci_decompressor **out, enum oci_compression c, int fd,
			 struct oci_hasher *hasher, struct ocb_error *err)
{
	struct oci_decompressor *d = calloc(1, sizeof(*d));

	if (!d || !(d->inbuf = calloc(1, COMPRESS_BUFSIZE))) {
		free(d);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	d->algo = c;
	d->fd = fd;
	d->hasher = hasher;
	if (decompressor_init_codec(d, err) < 0) {
		oci_decompressor_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

/* NONE: serve what is buffered, then read straight into the caller's buffer. */
static ssize_t passthrough_read(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err)
{
	ssize_t n;

	if (d->inpos < d->inlen) {
		size_t k = d->inlen - d->inpos < len ? d->inlen - d->inpos : len;
		memcpy(buf, d->inbuf + d->inpos, k);
		d->inpos += k;
		return (ssize_t)k;
	}
	if (d->eof)
		return 0;
	do
		n = read(d->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ocb_error_sys(err, "cannot read layer stream");
	if (d->hasher)
		oci_hasher_update(d->hasher, buf, (size_t)n);
	d->eof = n == 0;
	return n;
}

ssize_t oci_decompressor_read(struct oci_decompressor *d, void *buf, size_t len, struct ocb_error *err)
{
	if (len == 0)
		return 0;
	switch (d->algo) {
	case OCI_COMPRESSION_GZIP:
		return gzip_decompress(d, buf, len, err);
	case OCI_COMPRESSION_ZSTD:
		return zstd_decompress(d, buf, len, err);
	default:
		return passthrough_read(d, buf, len, err);
	}
}

void oci_decompressor_free(struct oci_decompressor *d)
{
	if (!d)
		return;
	if (d->algo == OCI_COMPRESSION_GZIP)
		gzip_decompressor_free(d);
	else if (d->algo == OCI_COMPRESSION_ZSTD)
		zstd_decompressor_free(d);
	free(d->inbuf);
	free(d);
}
