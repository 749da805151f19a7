/* sha256 content digests: streaming hashing (OpenSSL EVP) and strict parsing.
 * A digest string is exactly "sha256:" + 64 lowercase hex characters; anything
 * else is rejected before it can reach a path or a URL. */
#ifndef OCB_DIGEST_H
#define OCB_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

#define OCI_DIGEST_ALGO	   "sha256"
#define OCI_DIGEST_HEX_LEN 64
#define OCI_DIGEST_STR_LEN (sizeof(OCI_DIGEST_ALGO ":") - 1 + OCI_DIGEST_HEX_LEN)

struct oci_digest {
	char str[OCI_DIGEST_STR_LEN + 1]; /* "sha256:<hex>" */
};

/* True when s is a well-formed sha256 digest string. */
bool oci_digest_is_valid(const char *s);
/* Parse s into *out; OCB_EINVAL naming the string when malformed. */
int oci_digest_parse(const char *s, struct oci_digest *out, struct ocb_error *err);
/* The 64 hex characters (points into d). */
static inline const char *oci_digest_hex(const struct oci_digest *d)
{
	return d->str + sizeof(OCI_DIGEST_ALGO ":") - 1;
}
bool oci_digest_equal(const struct oci_digest *a, const struct oci_digest *b);

/* Streaming hasher. */
struct oci_hasher {
	void *ctx; /* EVP_MD_CTX */
};

int oci_hasher_init(struct oci_hasher *h, struct ocb_error *err);
void oci_hasher_update(struct oci_hasher *h, const void *data, size_t len);
/* Finish into *out; the hasher is reset and can be reused. */
void oci_hasher_final(struct oci_hasher *h, struct oci_digest *out);
void oci_hasher_release(struct oci_hasher *h);

int oci_digest_buffer(const void *data, size_t len, struct oci_digest *out, struct ocb_error *err);
/* Hash fd from its current offset to EOF; *size (if not NULL) gets the byte count. */
int oci_digest_fd(int fd, struct oci_digest *out, uint64_t *size, struct ocb_error *err);

#endif
