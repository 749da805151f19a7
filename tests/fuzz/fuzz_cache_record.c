/* libFuzzer target for cache records (builder/cache_record.c): the JSON a
 * restored cache directory may hold.  Besides crashes and sanitizer reports,
 * checks that an accepted record survives encode -> decode unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cache_impl.h"
#include "oci/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_round_trip(const struct cache_record *r)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct cache_record back = {0};
	char *buf = NULL;
	size_t len;
	struct oci_digest key;

	if (oci_digest_buffer("k", 1, &key, &err) < 0)
		abort();
	if (cache_record_encode(&key, r, r->created, &buf, &len, &err) < 0)
		return; /* e.g. a size beyond INT64_MAX cannot be encoded */
	if (cache_record_decode(buf, len, &key, &back, &err) < 0)
		abort();
	bool meta_same = (!back.meta && !r->meta) || (back.meta && r->meta && json_equal(back.meta, r->meta));

	if (!meta_same || back.empty_layer != r->empty_layer || back.created != r->created ||
	    !same_str(back.created_by, r->created_by) || !same_str(back.media_type, r->media_type) ||
	    (!r->empty_layer && (strcmp(back.digest.str, r->digest.str) || back.size != r->size ||
				 strcmp(back.diff_id.str, r->diff_id.str) || back.tar_size != r->tar_size)))
		abort();
	cache_record_release(&back);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct cache_record r = {0};

	if (size > CACHE_RECORD_MAX)
		return 0;
	if (cache_record_decode((const char *)data, size, NULL, &r, &err) == 0) {
		check_round_trip(&r);
		cache_record_release(&r);
	}
	return 0;
}
