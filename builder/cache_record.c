/* Cache records as JSON: one small canonical document per key.
 *
 *   {"version": 1, "key": "sha256:...", "created": 1700000000,
 *    "layer": {"mediaType": ..., "digest": ..., "size": ...},   (absent when empty)
 *    "diffID": ..., "tarSize": ..., "emptyLayer": false,
 *    "createdBy": "RUN ...", "meta": {...}}
 *
 * No paths: a cache directory can move. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder/cache_impl.h"
#include "oci/json.h"
#include "oci/layer.h"
#include "oci/banned.h"

static int nomem(struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

int cache_record_set_layer(struct cache_record *r, const struct oci_layer_desc *d, struct ocb_error *err)
{
	char *mt = strdup(d->media_type);

	if (!mt)
		return nomem(err);
	free(r->media_type);
	r->media_type = mt;
	r->empty_layer = false;
	r->digest = d->digest;
	r->size = d->size;
	r->diff_id = d->diff_id;
	r->tar_size = d->tar_size;
	return 0;
}

void cache_record_release(struct cache_record *r)
{
	if (!r)
		return;
	free(r->media_type);
	free(r->created_by);
	if (r->meta)
		json_decref(r->meta);
	memset(r, 0, sizeof(*r));
}

static json_t *layer_to_json(const struct cache_record *r, bool *ok)
{
	json_t *l = json_object();

	if (!l) {
		*ok = false;
		return NULL;
	}
	oci_json_set_string(l, "mediaType", r->media_type, ok);
	oci_json_set_string(l, "digest", r->digest.str, ok);
	oci_json_set(l, "size", json_integer((json_int_t)r->size), ok);
	return l;
}

int cache_record_encode(const struct oci_digest *key, const struct cache_record *r, int64_t created,
			char **buf, size_t *len, struct ocb_error *err)
{
	cleanup_json json_t *j = json_object();
	bool ok = j != NULL;

	if (!ok)
		return nomem(err);
	if (!r->empty_layer &&
	    (!r->media_type || !oci_digest_is_valid(r->digest.str) || !oci_digest_is_valid(r->diff_id.str) ||
	     r->size > INT64_MAX || r->tar_size > INT64_MAX))
		return ocb_error_set(err, OCB_EINVAL, 0, "cache key '%s': record without a valid layer",
				     key->str);
	if (r->meta && !json_is_object(r->meta))
		return ocb_error_set(err, OCB_EINVAL, 0, "cache key '%s': meta is not an object", key->str);
	oci_json_set(j, "version", json_integer(CACHE_FORMAT_VERSION), &ok);
	oci_json_set_string(j, "key", key->str, &ok);
	oci_json_set(j, "created", json_integer(created), &ok);
	oci_json_set(j, "emptyLayer", json_boolean(r->empty_layer), &ok);
	if (!r->empty_layer) {
		oci_json_set(j, "layer", layer_to_json(r, &ok), &ok);
		oci_json_set_string(j, "diffID", r->diff_id.str, &ok);
		oci_json_set(j, "tarSize", json_integer((json_int_t)r->tar_size), &ok);
	}
	oci_json_set_string(j, "createdBy", r->created_by, &ok);
	if (r->meta)
		oci_json_set(j, "meta", json_deep_copy(r->meta), &ok);
	if (!ok)
		return nomem(err);
	return oci_json_dump(j, buf, len, err);
}

/* A required non-negative integer field. */
static int get_u64(const json_t *j, const char *key, uint64_t *out, struct ocb_error *err)
{
	int64_t v;
	bool present = false;

	if (oci_json_get_int(j, key, &v, &present, err) < 0)
		return -1;
	if (!present || v < 0)
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s' missing or negative", key);
	*out = (uint64_t)v;
	return 0;
}

static int get_digest(const json_t *j, const char *key, struct oci_digest *out, struct ocb_error *err)
{
	cleanup_free char *s = NULL;

	if (oci_json_get_string(j, key, &s, err) < 0)
		return -1;
	if (!s)
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s' missing", key);
	return oci_digest_parse(s, out, err);
}

static int decode_layer(const json_t *j, struct cache_record *r, struct ocb_error *err)
{
	json_t *l = NULL;

	if (oci_json_get_object(j, "layer", &l, err) < 0)
		return -1;
	if (!l)
		return ocb_error_set(err, OCB_EINVAL, 0, "'layer' missing");
	if (oci_json_get_string(l, "mediaType", &r->media_type, err) < 0)
		return -1;
	if (!r->media_type)
		return ocb_error_set(err, OCB_EINVAL, 0, "'mediaType' missing");
	if (get_digest(l, "digest", &r->digest, err) < 0 || get_u64(l, "size", &r->size, err) < 0 ||
	    get_digest(j, "diffID", &r->diff_id, err) < 0 || get_u64(j, "tarSize", &r->tar_size, err) < 0)
		return -1;
	return 0;
}

static int decode_fields(const json_t *j, const struct oci_digest *key, struct cache_record *r,
			 struct ocb_error *err)
{
	struct oci_digest k;
	uint64_t version, created;
	json_t *meta = NULL;

	if (get_u64(j, "version", &version, err) < 0)
		return -1;
	if (version != CACHE_FORMAT_VERSION)
		return ocb_error_set(err, OCB_EINVAL, 0, "format version %llu, not %d",
				     (unsigned long long)version, CACHE_FORMAT_VERSION);
	if (get_digest(j, "key", &k, err) < 0)
		return -1;
	if (key && !oci_digest_equal(&k, key))
		return ocb_error_set(err, OCB_EINVAL, 0, "the record is for key '%s'", k.str);
	if (get_u64(j, "created", &created, err) < 0 || created > INT64_MAX)
		return -1;
	r->created = (int64_t)created;
	if (oci_json_get_bool(j, "emptyLayer", &r->empty_layer, err) < 0)
		return -1;
	if (!r->empty_layer && decode_layer(j, r, err) < 0)
		return -1;
	if (oci_json_get_string(j, "createdBy", &r->created_by, err) < 0 ||
	    oci_json_get_object(j, "meta", &meta, err) < 0)
		return -1;
	if (meta)
		r->meta = json_incref(meta);
	return 0;
}

int cache_record_decode(const char *buf, size_t len, const struct oci_digest *key, struct cache_record *out,
			struct ocb_error *err)
{
	cleanup_json json_t *j = NULL;
	struct cache_record r = {0};

	if (oci_json_load(buf, len, CACHE_RECORD_MAX, "cache record", &j, err) < 0)
		return -1;
	if (decode_fields(j, key, &r, err) < 0) {
		cache_record_release(&r);
		return ocb_error_wrap(err, "cache record");
	}
	*out = r;
	return 0;
}
