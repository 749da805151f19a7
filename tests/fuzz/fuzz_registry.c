/* libFuzzer target for what a registry (or a Docker config) says to the
 * client: WWW-Authenticate challenges, Range headers, Location values and
 * base64 auth entries.  The first byte picks the parser.  Invariants: a parsed
 * bearer challenge has a realm; a Range gives an offset > 0; a resolved
 * Location is http(s); base64 round-trips what it decodes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/registry_impl.h"
#include "oci/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_challenge(const char *s)
{
	struct oci_registry_challenge c;

	if (oci_registry_parse_challenge(s, &c, NULL) < 0)
		return;
	if (c.kind == REG_AUTH_BEARER && (!c.realm || !*c.realm))
		abort();
	oci_registry_challenge_release(&c);
}

static void check_range(const char *s)
{
	uint64_t next = 0;

	if (oci_registry_parse_range(s, &next, NULL) == 0 && next == 0)
		abort();
}

static void check_location(const char *s)
{
	char *out = NULL;

	if (oci_registry_resolve_location("https://registry.example:5000/v2/a/blobs/uploads/", s, &out,
					  NULL) < 0)
		return;
	if (strncmp(out, "http://", 7) && strncmp(out, "https://", 8))
		abort();
	free(out);
}

static void check_base64(const char *s)
{
	char *raw = NULL, *again = NULL;
	size_t len = 0;

	if (oci_registry_base64_decode(s, &raw, &len, NULL) < 0)
		return;
	if (oci_registry_base64_encode(raw, len, &again, NULL) < 0)
		abort();
	/* padding bits may differ; decoding the re-encoding must give the same bytes */
	free(raw);
	raw = NULL;
	{
		char *raw2 = NULL;
		size_t len2 = 0;
		if (oci_registry_base64_decode(again, &raw2, &len2, NULL) < 0 || len2 != len)
			abort();
		free(raw2);
	}
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 8192)
		return 0;
	if (!(s = malloc(size)))
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		check_challenge(s);
		break;
	case 1:
		check_range(s);
		break;
	case 2:
		check_location(s);
		break;
	default:
		check_base64(s);
		break;
	}
	free(s);
	return 0;
}
