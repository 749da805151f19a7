/* Deterministic tar headers (see tar.h). */
#include "oci/tar.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/banned.h"

/* ustar field offsets and sizes (POSIX.1-2001). */
#define F_NAME	   0, 100
#define F_MODE	   100, 8
#define F_UID	   108, 8
#define F_GID	   116, 8
#define F_SIZE	   124, 12
#define F_MTIME	   136, 12
#define F_CHKSUM   148, 8
#define F_TYPE	   156
#define F_LINKNAME 157, 100
#define F_MAGIC	   257, 8
#define F_DEVMAJOR 329, 8
#define F_DEVMINOR 337, 8

#define MAX_OCTAL_8  07777777ull
#define MAX_OCTAL_12 077777777777ull
#define PAX_DIR	     "PaxHeaders.0/"

void tar_buf_release(struct tar_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int buf_reserve(struct tar_buf *b, size_t more, struct ocb_error *err)
{
	size_t want;
	unsigned char *p;

	if (more > SIZE_MAX / 2 - b->len)
		return ocb_error_set(err, OCB_ELIMIT, 0, "tar header too large");
	want = b->len + more;
	if (want <= b->cap)
		return 0;
	if (want < 2 * b->cap)
		want = 2 * b->cap;
	p = realloc(b->data, want);
	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	b->data = p;
	b->cap = want;
	return 0;
}

static int buf_append(struct tar_buf *b, const void *data, size_t len, struct ocb_error *err)
{
	if (buf_reserve(b, len, err) < 0)
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static bool fits_octal(uint64_t v, size_t width)
{
	return width == 12 ? v <= MAX_OCTAL_12 : v <= MAX_OCTAL_8;
}

/* Zero-padded octal, NUL-terminated, filling the field; v must fit. */
static void put_octal(unsigned char *hdr, size_t off, size_t width, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)(width - 1), v);
	memcpy(hdr + off, tmp, width); /* copies the NUL too */
}

static void put_string(unsigned char *hdr, size_t off, size_t width, const char *s)
{
	size_t n = strlen(s);

	memcpy(hdr + off, s, n < width ? n : width);
}

static size_t decimal_digits(size_t n)
{
	size_t d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* One "LEN key=value\n" record, LEN counting the whole record. */
static int pax_record(struct tar_buf *b, const char *key, const void *value, size_t vlen,
		      struct ocb_error *err)
{
	size_t klen = strlen(key), base = klen + vlen + 3; /* ' ', '=', '\n' */
	size_t total = base + decimal_digits(base);
	char lenbuf[32];
	int n;

	if (decimal_digits(total) != decimal_digits(base))
		total = base + decimal_digits(total);
	n = snprintf(lenbuf, sizeof(lenbuf), "%zu ", total);
	if (buf_append(b, lenbuf, (size_t)n, err) < 0 || buf_append(b, key, klen, err) < 0 ||
	    buf_append(b, "=", 1, err) < 0 || buf_append(b, value, vlen, err) < 0)
		return -1;
	return buf_append(b, "\n", 1, err);
}

static int pax_number(struct tar_buf *b, const char *key, uint64_t v, struct ocb_error *err)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);

	return pax_record(b, key, num, (size_t)n, err);
}

static int pax_xattrs(struct tar_buf *b, const struct tar_entry *e, struct ocb_error *err)
{
	for (size_t i = 0; i < e->n_xattrs; i++) {
		const struct tar_xattr *x = &e->xattrs[i];
		char *key = NULL;
		int rc;

		if (!*x->name || strchr(x->name, '='))
			return ocb_error_set(err, OCB_EINVAL, 0, "entry '%s': bad xattr name '%s'", e->name,
					     x->name);
		if (asprintf(&key, "SCHILY.xattr.%s", x->name) < 0)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		rc = pax_record(b, key, x->value, x->len, err);
		free(key);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static uint64_t entry_mtime(const struct tar_entry *e)
{
	return e->mtime < 0 ? 0 : (uint64_t)e->mtime;
}

/* The PAX records e needs, in a fixed order. */
static int pax_records(const struct tar_entry *e, struct tar_buf *b, struct ocb_error *err)
{
	if (strlen(e->name) > 100 && pax_record(b, "path", e->name, strlen(e->name), err) < 0)
		return -1;
	if (e->linkname && strlen(e->linkname) > 100 &&
	    pax_record(b, "linkpath", e->linkname, strlen(e->linkname), err) < 0)
		return -1;
	if (!fits_octal(e->size, 12) && pax_number(b, "size", e->size, err) < 0)
		return -1;
	if (!fits_octal(e->uid, 8) && pax_number(b, "uid", e->uid, err) < 0)
		return -1;
	if (!fits_octal(e->gid, 8) && pax_number(b, "gid", e->gid, err) < 0)
		return -1;
	if (!fits_octal(entry_mtime(e), 12) && pax_number(b, "mtime", entry_mtime(e), err) < 0)
		return -1;
	return pax_xattrs(b, e, err);
}

static void finish_checksum(unsigned char *hdr)
{
	unsigned int sum = 0;
	char tmp[8];

	memset(hdr + 148, ' ', 8);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += hdr[i];
	snprintf(tmp, sizeof(tmp), "%06o", sum);
	memcpy(hdr + 148, tmp, 7); /* six digits, NUL; the space stays */
}

/* One ustar block; fields that do not fit are written as their maximum
 * (the PAX record before it carries the real value). */
static void ustar_block(unsigned char *hdr, const struct tar_entry *e, const char *name, char type,
			uint64_t size)
{
	uint64_t mtime = entry_mtime(e);

	memset(hdr, 0, TAR_BLOCK);
	put_string(hdr, F_NAME, name);
	put_octal(hdr, F_MODE, e->mode & 07777);
	put_octal(hdr, F_UID, fits_octal(e->uid, 8) ? e->uid : MAX_OCTAL_8);
	put_octal(hdr, F_GID, fits_octal(e->gid, 8) ? e->gid : MAX_OCTAL_8);
	put_octal(hdr, F_SIZE, fits_octal(size, 12) ? size : MAX_OCTAL_12);
	put_octal(hdr, F_MTIME, fits_octal(mtime, 12) ? mtime : MAX_OCTAL_12);
	hdr[F_TYPE] = (unsigned char)type;
	if (e->linkname)
		put_string(hdr, F_LINKNAME, e->linkname);
	memcpy(hdr + 257,
	       "ustar\0"
	       "00",
	       8);
	put_octal(hdr, F_DEVMAJOR, e->devmajor);
	put_octal(hdr, F_DEVMINOR, e->devminor);
	finish_checksum(hdr);
}

/* "PaxHeaders.0/<base name>" (Go's archive/tar does the same), cut to fit. */
static void pax_header_name(const char *name, char *out, size_t size)
{
	size_t len = strlen(name);
	const char *base;

	while (len > 1 && name[len - 1] == '/')
		len--;
	base = name + len;
	while (base > name && base[-1] != '/')
		base--;
	snprintf(out, size, PAX_DIR "%.*s", (int)(name + len - base), base);
}

static int pax_header(const struct tar_entry *e, struct tar_buf *records, struct tar_buf *out,
		      struct ocb_error *err)
{
	struct tar_entry pax = {.mode = 0644};
	unsigned char hdr[TAR_BLOCK];
	char name[101];
	size_t pad = tar_padding(records->len);

	pax_header_name(e->name, name, sizeof(name));
	ustar_block(hdr, &pax, name, 'x', records->len);
	if (buf_reserve(out, TAR_BLOCK + records->len + pad, err) < 0)
		return -1;
	buf_append(out, hdr, TAR_BLOCK, err);
	buf_append(out, records->data, records->len, err);
	memset(out->data + out->len, 0, pad);
	out->len += pad;
	return 0;
}

static int check_entry(const struct tar_entry *e, struct ocb_error *err)
{
	if (!e->name || !*e->name)
		return ocb_error_set(err, OCB_EINVAL, 0, "tar entry without a name");
	if (!fits_octal(e->devmajor, 8) || !fits_octal(e->devminor, 8))
		return ocb_error_set(err, OCB_ELIMIT, 0, "entry '%s': device number too large for tar",
				     e->name);
	return 0;
}

int tar_encode_header(const struct tar_entry *e, struct tar_buf *out, struct ocb_error *err)
{
	struct tar_buf records = {0};
	unsigned char hdr[TAR_BLOCK];
	uint64_t size = e->type == TAR_REG ? e->size : 0;
	int ret = -1;

	if (check_entry(e, err) < 0)
		return -1;
	if (pax_records(e, &records, err) < 0)
		goto out;
	if (records.len > 0 && pax_header(e, &records, out, err) < 0)
		goto out;
	ustar_block(hdr, e, e->name, (char)e->type, size);
	ret = buf_append(out, hdr, TAR_BLOCK, err);
out:
	tar_buf_release(&records);
	return ret;
}
