/* Cache keys: an unambiguous encoding of typed, length-prefixed fields,
 * hashed with sha256 (see cache.h for the fields a step feeds).
 *
 * Encoding: the header "ocb-cache-key" NUL, CACHE_FORMAT_VERSION as u64;
 * then per field a type byte, the name (u64 length + bytes) and the value:
 *   's' string: u64 length + bytes        'S' NULL string: nothing
 *   'v' vector: u64 count + strings       'V' NULL vector: nothing
 *   'u' u64, 'i' i64: 8 bytes little-endian
 *   'b' bool: one byte 0/1
 *   'd' digest: its string form           'D' NULL digest: nothing
 * Integers are little-endian whatever the host, so keys are portable. */
#include "builder/cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/banned.h"

#define KEY_MAGIC "ocb-cache-key"
#define KEY_MAX	  ((size_t)64 << 20) /* a bound against runaway input */

static void key_append(struct cache_key *k, const void *data, size_t len)
{
	if (k->failed)
		return;
	if (len > KEY_MAX - k->len) {
		k->failed = true;
		return;
	}
	if (k->len + len > k->cap) {
		size_t cap = k->cap ? k->cap : 256;
		unsigned char *p;

		while (cap < k->len + len)
			cap *= 2;
		p = realloc(k->buf, cap);
		if (!p) {
			k->failed = true;
			return;
		}
		k->buf = p;
		k->cap = cap;
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
}

static void key_u64(struct cache_key *k, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	key_append(k, b, sizeof(b));
}

static void key_bytes(struct cache_key *k, const char *s, size_t len)
{
	key_u64(k, len);
	key_append(k, s, len);
}

static void key_field(struct cache_key *k, char type, const char *field)
{
	key_append(k, &type, 1);
	key_bytes(k, field, strlen(field));
}

void cache_key_init(struct cache_key *k)
{
	memset(k, 0, sizeof(*k));
	key_append(k, KEY_MAGIC, sizeof(KEY_MAGIC)); /* with its NUL */
	key_u64(k, CACHE_FORMAT_VERSION);
}

void cache_key_add_str(struct cache_key *k, const char *field, const char *value)
{
	key_field(k, value ? 's' : 'S', field);
	if (value)
		key_bytes(k, value, strlen(value));
}

void cache_key_add_strn(struct cache_key *k, const char *field, char *const *v, size_t n)
{
	key_field(k, v ? 'v' : 'V', field);
	if (!v)
		return;
	key_u64(k, n);
	for (size_t i = 0; i < n; i++)
		key_bytes(k, v[i], strlen(v[i]));
}

void cache_key_add_strv(struct cache_key *k, const char *field, char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	cache_key_add_strn(k, field, v, n);
}

void cache_key_add_u64(struct cache_key *k, const char *field, uint64_t value)
{
	key_field(k, 'u', field);
	key_u64(k, value);
}

void cache_key_add_i64(struct cache_key *k, const char *field, int64_t value)
{
	key_field(k, 'i', field);
	key_u64(k, (uint64_t)value);
}

void cache_key_add_bool(struct cache_key *k, const char *field, bool value)
{
	unsigned char b = value ? 1 : 0;

	key_field(k, 'b', field);
	key_append(k, &b, 1);
}

void cache_key_add_digest(struct cache_key *k, const char *field, const struct oci_digest *d)
{
	key_field(k, d ? 'd' : 'D', field);
	if (d)
		key_bytes(k, d->str, strlen(d->str));
}

void cache_key_release(struct cache_key *k)
{
	free(k->buf);
	memset(k, 0, sizeof(*k));
}

int cache_key_final(struct cache_key *k, struct oci_digest *out, struct ocb_error *err)
{
	int rc;

	if (k->failed || !k->buf) {
		cache_key_release(k);
		return ocb_error_set(err, OCB_ELIMIT, ENOMEM,
				     "cache key: out of memory or larger than %zu bytes", KEY_MAX);
	}
	rc = oci_digest_buffer(k->buf, k->len, out, err);
	cache_key_release(k);
	return rc;
}
