/* The uncompressed tar stream as libarchive sees it: read (copying into our
 * buffer) or borrowed (zero-copy from a read-ahead ring), hashed, counted,
 * bounded, and its last block kept to check the end-of-archive marker. */
#include <archive.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/extract_internal.h"
#include "oci/banned.h"

#define TRAILER_MAX (UINT64_C(16) << 20) /* bytes allowed after the end marker */

int tar_source_init(struct tar_source *s, const struct extract_input *in, uint64_t max, struct ocb_error *err)
{
	memset(s, 0, sizeof(*s));
	s->in = *in;
	s->max = max;
	if (!in->borrow) {
		s->buf = malloc(TAR_SOURCE_BUF_SIZE);
		if (!s->buf)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if (in->hash && oci_hasher_init(&s->hasher, err) < 0)
		return -1;
	return 0;
}

void tar_source_release(struct tar_source *s)
{
	if (s->hasher.ctx)
		oci_hasher_release(&s->hasher);
	free(s->buf);
	s->buf = NULL;
}

static int source_account(struct tar_source *s, const unsigned char *data, size_t n)
{
	if (n > s->max - s->total)
		return ocb_error_set(&s->err, OCB_ELIMIT, 0, "tar stream larger than %llu bytes",
				     (unsigned long long)s->max);
	if (s->in.hash)
		oci_hasher_update(&s->hasher, data, n);
	s->total += n;
	if (n >= TAR_BLOCK) {
		memcpy(s->tail, data + n - TAR_BLOCK, TAR_BLOCK);
	} else {
		memmove(s->tail, s->tail + n, TAR_BLOCK - n);
		memcpy(s->tail + TAR_BLOCK - n, data, n);
	}
	return 0;
}

/* Next chunk of the stream: n > 0 bytes, 0 at the end, -1 with s->err. */
static ssize_t source_fill(struct tar_source *s)
{
	ssize_t n;

	if (s->eof)
		return 0;
	if (s->failed)
		return -1;
	if (s->in.borrow) {
		const void *p = NULL;
		n = s->in.borrow(s->in.opaque, &p, &s->err);
		if (n > 0)
			s->cur = p; /* at the end cur stays the last chunk */
	} else {
		n = s->in.read(s->in.opaque, s->buf, TAR_SOURCE_BUF_SIZE, &s->err);
		s->cur = s->buf;
	}
	if (n < 0 || (n > 0 && source_account(s, s->cur, (size_t)n) < 0)) {
		s->failed = true;
		return -1;
	}
	if (n == 0)
		s->eof = true;
	else
		s->last = (size_t)n;
	return n;
}

la_ssize_t tar_source_read_cb(struct archive *a, void *opaque, const void **out)
{
	struct tar_source *s = opaque;
	ssize_t n = source_fill(s);

	if (n < 0) {
		archive_set_error(a, EIO, "read failed");
		return ARCHIVE_FATAL;
	}
	*out = s->cur;
	return n;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* After libarchive's end of archive: require the end marker (libarchive also
 * accepts a stream that simply stops at an entry boundary, i.e. a truncated
 * one), then read the rest so the whole stream is hashed; it must be zeros. */
int tar_source_finish(struct tar_source *s, struct archive *a, struct ocb_error *err)
{
	uint64_t consumed = (uint64_t)archive_filter_bytes(a, 0);
	uint64_t trailer = 0;
	ssize_t n;

	/* Ending at the stream's end without a marker leaves the last block
	 * non-zero; a marker was consumed otherwise. */
	if (consumed == s->total && s->eof && (s->total == 0 || !all_zero(s->tail, TAR_BLOCK)))
		return ocb_error_set(err, OCB_EINVAL, 0, "truncated tar (no end-of-archive marker)");
	/* Bytes libarchive read ahead without consuming (hashed already) are
	 * the end of the last chunk, but for at most a block it copied from
	 * the one before: check what is still in the chunk, then drain.  (A
	 * borrowed chunk given back at the end stays readable: only the
	 * producer rewrites chunks, and it has stopped.) */
	if (s->total - consumed <= s->last &&
	    !all_zero(s->cur + s->last - (s->total - consumed), s->total - consumed))
		return ocb_error_set(err, OCB_EINVAL, 0, "data after the end of the archive");
	while ((n = source_fill(s)) > 0) {
		trailer += (uint64_t)n;
		if (trailer > TRAILER_MAX)
			return ocb_error_set(err, OCB_ELIMIT, 0,
					     "more than %llu bytes after the end of the archive",
					     (unsigned long long)TRAILER_MAX);
		if (!all_zero(s->cur, (size_t)n))
			return ocb_error_set(err, OCB_EINVAL, 0, "data after the end of the archive");
	}
	if (n < 0) {
		*err = s->err;
		return -1;
	}
	return 0;
}
