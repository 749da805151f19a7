/* Image indexes: OCI image-spec 1.1, and Docker manifest lists when reading.
 * Also the shape of an OCI layout's index.json. */
#include "oci/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/banned.h"

#define INDEX_MANIFESTS_MAX ((size_t)100000)

void oci_index_release(struct oci_index *x)
{
	if (!x)
		return;
	free(x->media_type);
	oci_descriptor_array_free(x->manifests, x->n_manifests);
	json_decref(x->annotations);
	memset(x, 0, sizeof(*x));
}

int oci_index_parse(const char *buf, size_t len, struct oci_index *out, struct ocb_error *err)
{
	cleanup_json json_t *doc = NULL;
	struct oci_index x = {0};

	if (oci_json_load(buf, len, OCI_JSON_MAX, "index", &doc, err) < 0)
		return -1;
	if (oci_check_schema(doc, OCI_KIND_INDEX, &x.media_type, err) < 0 ||
	    oci_descriptor_array_from_json(doc, "manifests", INDEX_MANIFESTS_MAX, &x.manifests,
					   &x.n_manifests, err) < 0 ||
	    oci_json_get_string_map(doc, "annotations", &x.annotations, err) < 0) {
		oci_index_release(&x);
		return ocb_error_wrap(err, "index");
	}
	*out = x;
	return 0;
}

int oci_index_serialize(const struct oci_index *x, char **buf, size_t *len, struct ocb_error *err)
{
	cleanup_json json_t *doc = json_object();
	bool ok = doc != NULL;

	if (doc) {
		oci_json_set(doc, "manifests", oci_descriptor_array_to_json(x->manifests, x->n_manifests),
			     &ok);
		oci_json_set(doc, "schemaVersion", json_integer(2), &ok);
		oci_json_set_string(doc, "mediaType", x->media_type ? x->media_type : OCI_MEDIA_TYPE_INDEX,
				    &ok);
		oci_json_set_map(doc, "annotations", x->annotations, &ok);
	}
	if (!ok)
		return ocb_error_set(err, OCB_EFAIL, 0,
				     "index: cannot encode (out of memory or invalid UTF-8)");
	return oci_json_dump(doc, buf, len, err);
}

int oci_index_add(struct oci_index *x, const struct oci_descriptor *d, struct ocb_error *err)
{
	if (x->n_manifests >= INDEX_MANIFESTS_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "index: more than %zu manifests",
				     INDEX_MANIFESTS_MAX);
	return oci_descriptor_array_push(&x->manifests, &x->n_manifests, d, err);
}

void oci_index_remove(struct oci_index *x, size_t i)
{
	if (i >= x->n_manifests)
		return;
	oci_descriptor_release(&x->manifests[i]);
	memmove(&x->manifests[i], &x->manifests[i + 1], (x->n_manifests - i - 1) * sizeof(x->manifests[0]));
	x->n_manifests--;
}

ssize_t oci_index_find_platform(const struct oci_index *x, const struct oci_platform *p,
				struct ocb_error *err)
{
	cleanup_free char *want = oci_platform_format(p);

	for (size_t i = 0; i < x->n_manifests; i++) {
		const struct oci_descriptor *d = &x->manifests[i];
		if (d->platform && oci_media_kind(d->media_type) == OCI_KIND_MANIFEST &&
		    oci_platform_match(p, d->platform))
			return (ssize_t)i;
	}
	ocb_error_set(err, OCB_ENOTFOUND, 0, "no manifest for platform '%s' in the index", want ? want : "?");
	return -1;
}
