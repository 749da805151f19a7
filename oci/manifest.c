/* Image manifests: OCI image-spec 1.1, and Docker v2 schema 2 when reading. */
#include "oci/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/banned.h"

#define MANIFEST_LAYERS_MAX ((size_t)10000)

int oci_check_schema(const json_t *doc, enum oci_media_kind want, char **media_type, struct ocb_error *err)
{
	cleanup_free char *mt = NULL;
	int64_t version = 0;
	bool present = false;

	if (oci_json_get_int(doc, "schemaVersion", &version, &present, err) < 0)
		return -1;
	if (!present || version != 2)
		return ocb_error_set(err, OCB_EINVAL, 0, "'schemaVersion' must be 2");
	if (oci_json_get_string(doc, "mediaType", &mt, err) < 0)
		return -1;
	if (mt && oci_media_kind(mt) != want)
		return ocb_error_set(err, OCB_EINVAL, 0, "unexpected media type '%.100s'", mt);
	*media_type = steal_pointer(&mt);
	return 0;
}

void oci_manifest_release(struct oci_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	oci_descriptor_release(&m->config);
	oci_descriptor_array_free(m->layers, m->n_layers);
	json_decref(m->annotations);
	memset(m, 0, sizeof(*m));
}

int oci_manifest_parse(const char *buf, size_t len, struct oci_manifest *out, struct ocb_error *err)
{
	cleanup_json json_t *doc = NULL;
	struct oci_manifest m = {0};
	json_t *config;

	if (oci_json_load(buf, len, OCI_JSON_MAX, "manifest", &doc, err) < 0)
		return -1;
	if (oci_check_schema(doc, OCI_KIND_MANIFEST, &m.media_type, err) < 0 ||
	    oci_json_get_object(doc, "config", &config, err) < 0)
		goto fail;
	if (!config) {
		ocb_error_set(err, OCB_EINVAL, 0, "missing 'config'");
		goto fail;
	}
	if (oci_descriptor_from_json(config, &m.config, err) < 0) {
		ocb_error_wrap(err, "config");
		goto fail;
	}
	if (oci_descriptor_array_from_json(doc, "layers", MANIFEST_LAYERS_MAX, &m.layers, &m.n_layers, err) <
		0 ||
	    oci_json_get_string_map(doc, "annotations", &m.annotations, err) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	oci_manifest_release(&m);
	return ocb_error_wrap(err, "manifest");
}

int oci_manifest_serialize(const struct oci_manifest *m, char **buf, size_t *len, struct ocb_error *err)
{
	cleanup_json json_t *doc = json_object();
	bool ok = doc != NULL;

	if (doc) {
		oci_json_set(doc, "layers", oci_descriptor_array_to_json(m->layers, m->n_layers), &ok);
		oci_json_set(doc, "schemaVersion", json_integer(2), &ok);
		oci_json_set_string(doc, "mediaType", m->media_type ? m->media_type : OCI_MEDIA_TYPE_MANIFEST,
				    &ok);
		oci_json_set(doc, "config", oci_descriptor_to_json(&m->config), &ok);
		oci_json_set_map(doc, "annotations", m->annotations, &ok);
	}
	if (!ok)
		return ocb_error_set(err, OCB_EFAIL, 0,
				     "manifest: cannot encode (out of memory or invalid UTF-8)");
	return oci_json_dump(doc, buf, len, err);
}

int oci_manifest_add_layer(struct oci_manifest *m, const struct oci_descriptor *layer, struct ocb_error *err)
{
	return oci_descriptor_array_push(&m->layers, &m->n_layers, layer, err);
}
