#include "oci/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/banned.h"

#define ALGO_PREFIX	OCI_DIGEST_ALGO ":"
#define ALGO_PREFIX_LEN (sizeof(ALGO_PREFIX) - 1)

bool oci_digest_is_valid(const char *s)
{
	if (!s || strncmp(s, ALGO_PREFIX, ALGO_PREFIX_LEN) != 0)
		return false;
	s += ALGO_PREFIX_LEN;
	for (size_t i = 0; i < OCI_DIGEST_HEX_LEN; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[OCI_DIGEST_HEX_LEN] == '\0';
}

int oci_digest_parse(const char *s, struct oci_digest *out, struct ocb_error *err)
{
	if (!oci_digest_is_valid(s))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid digest '%.80s'", s ? s : "(null)");
	memcpy(out->str, s, OCI_DIGEST_STR_LEN + 1);
	return 0;
}

bool oci_digest_equal(const struct oci_digest *a, const struct oci_digest *b)
{
	return memcmp(a->str, b->str, OCI_DIGEST_STR_LEN) == 0;
}

int oci_hasher_init(struct oci_hasher *h, struct ocb_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		h->ctx = NULL;
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "cannot initialise sha256");
	}
	h->ctx = ctx;
	return 0;
}

void oci_hasher_update(struct oci_hasher *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void oci_hasher_final(struct oci_hasher *h, struct oci_digest *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *p = out->str;

	EVP_DigestFinal_ex(h->ctx, md, &mdlen);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
	memcpy(p, ALGO_PREFIX, ALGO_PREFIX_LEN);
	p += ALGO_PREFIX_LEN;
	for (unsigned int i = 0; i < mdlen; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 0xf];
	}
	*p = '\0';
}

void oci_hasher_release(struct oci_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int oci_digest_buffer(const void *data, size_t len, struct oci_digest *out, struct ocb_error *err)
{
	struct oci_hasher h;

	if (oci_hasher_init(&h, err) < 0)
		return -1;
	oci_hasher_update(&h, data, len);
	oci_hasher_final(&h, out);
	oci_hasher_release(&h);
	return 0;
}

int oci_digest_fd(int fd, struct oci_digest *out, uint64_t *size, struct ocb_error *err)
{
	static const size_t bufsize = 1 << 17;
	struct oci_hasher h;
	uint64_t total = 0;
	char *buf;
	int ret = -1;

	buf = malloc(bufsize);
	if (!buf)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_hasher_init(&h, err) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, bufsize);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ocb_error_sys(err, "read");
			goto out_hasher;
		}
		if (n == 0)
			break;
		oci_hasher_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	oci_hasher_final(&h, out);
	if (size)
		*size = total;
	ret = 0;
out_hasher:
	oci_hasher_release(&h);
out:
	free(buf);
	return ret;
}
