#include "oci/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/json.h"
#include "oci/banned.h"

#define MEDIA_TYPE_MAX 255

static const struct {
	const char *media_type;
	enum oci_media_kind kind;
} media_kinds[] = {
    {OCI_MEDIA_TYPE_MANIFEST, OCI_KIND_MANIFEST},
    {DOCKER_MEDIA_TYPE_MANIFEST, OCI_KIND_MANIFEST},
    {OCI_MEDIA_TYPE_INDEX, OCI_KIND_INDEX},
    {DOCKER_MEDIA_TYPE_MANIFEST_LIST, OCI_KIND_INDEX},
    {OCI_MEDIA_TYPE_CONFIG, OCI_KIND_CONFIG},
    {DOCKER_MEDIA_TYPE_CONFIG, OCI_KIND_CONFIG},
    {"application/vnd.oci.image.layer.v1.tar", OCI_KIND_LAYER},
    {"application/vnd.oci.image.layer.v1.tar+gzip", OCI_KIND_LAYER},
    {"application/vnd.oci.image.layer.v1.tar+zstd", OCI_KIND_LAYER},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_KIND_LAYER},
    {"application/vnd.docker.image.rootfs.diff.tar", OCI_KIND_LAYER},
};

enum oci_media_kind oci_media_kind(const char *media_type)
{
	for (size_t i = 0; media_type && i < sizeof(media_kinds) / sizeof(media_kinds[0]); i++)
		if (strcmp(media_type, media_kinds[i].media_type) == 0)
			return media_kinds[i].kind;
	return OCI_KIND_OTHER;
}

/* type "/" subtype, printable ASCII without spaces (RFC 6838, loosely). */
static bool media_type_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MEDIA_TYPE_MAX || !strchr(s, '/'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return false;
	return true;
}

int oci_descriptor_from_json(const json_t *j, struct oci_descriptor *out, struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	json_t *platform = NULL;
	char *digest = NULL;
	bool has_size = false;

	if (!json_is_object(j))
		return ocb_error_set(err, OCB_EINVAL, 0, "descriptor: not an object");
	if (oci_json_get_string(j, "mediaType", &d.media_type, err) < 0 ||
	    oci_json_get_string(j, "digest", &digest, err) < 0 ||
	    oci_json_get_int(j, "size", &d.size, &has_size, err) < 0 ||
	    oci_json_get_string_map(j, "annotations", &d.annotations, err) < 0 ||
	    oci_json_get_object(j, "platform", &platform, err) < 0)
		goto fail;
	if (!d.media_type || !media_type_ok(d.media_type)) {
		ocb_error_set(err, OCB_EINVAL, 0, "missing or invalid 'mediaType'");
		goto fail;
	}
	if (!digest) {
		ocb_error_set(err, OCB_EINVAL, 0, "missing 'digest'");
		goto fail;
	}
	if (oci_digest_parse(digest, &d.digest, err) < 0)
		goto fail;
	if (!has_size || d.size < 0) {
		ocb_error_set(err, OCB_EINVAL, 0, "missing or negative 'size'");
		goto fail;
	}
	if (platform) {
		d.platform = calloc(1, sizeof(*d.platform));
		if (!d.platform) {
			ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			goto fail;
		}
		if (oci_platform_from_json(platform, d.platform, err) < 0)
			goto fail;
	}
	free(digest);
	*out = d;
	return 0;
fail:
	free(digest);
	oci_descriptor_release(&d);
	return ocb_error_wrap(err, "descriptor");
}

json_t *oci_descriptor_to_json(const struct oci_descriptor *d)
{
	json_t *j = json_object();
	bool ok = j != NULL;

	if (!j)
		return NULL;
	oci_json_set_string(j, "mediaType", d->media_type, &ok);
	oci_json_set_string(j, "digest", d->digest.str, &ok);
	oci_json_set(j, "size", json_integer(d->size), &ok);
	oci_json_set_map(j, "annotations", d->annotations, &ok);
	if (d->platform)
		oci_json_set(j, "platform", oci_platform_to_json(d->platform), &ok);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int oci_descriptor_init(struct oci_descriptor *d, const char *media_type, const struct oci_digest *digest,
			int64_t size, struct ocb_error *err)
{
	char *mt = strdup(media_type);

	if (!mt)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	memset(d, 0, sizeof(*d));
	d->media_type = mt;
	d->digest = *digest;
	d->size = size;
	return 0;
}

int oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src, struct ocb_error *err)
{
	struct oci_descriptor d = {0};

	if (oci_descriptor_init(&d, src->media_type, &src->digest, src->size, err) < 0)
		return -1;
	if (src->annotations && !(d.annotations = json_deep_copy(src->annotations)))
		goto nomem;
	if (src->platform) {
		d.platform = calloc(1, sizeof(*d.platform));
		if (!d.platform)
			goto nomem;
		if (oci_platform_copy(d.platform, src->platform, err) < 0) {
			oci_descriptor_release(&d);
			return -1;
		}
	}
	*dst = d;
	return 0;
nomem:
	oci_descriptor_release(&d);
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

void oci_descriptor_release(struct oci_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	json_decref(d->annotations);
	if (d->platform) {
		oci_platform_release(d->platform);
		free(d->platform);
	}
	memset(d, 0, sizeof(*d));
}

int oci_descriptor_array_from_json(const json_t *doc, const char *key, size_t max,
				   struct oci_descriptor **out, size_t *n_out, struct ocb_error *err)
{
	struct oci_descriptor *v;
	json_t *list, *item;
	size_t i, n = 0;

	if (oci_json_get_array(doc, key, &list, err) < 0)
		return -1;
	if (!list)
		return ocb_error_set(err, OCB_EINVAL, 0, "missing '%s'", key);
	if (json_array_size(list) > max)
		return ocb_error_set(err, OCB_ELIMIT, 0, "'%s': more than %zu entries", key, max);
	v = calloc(json_array_size(list) + 1, sizeof(*v));
	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	json_array_foreach(list, i, item)
	{
		if (oci_descriptor_from_json(item, &v[i], err) < 0) {
			oci_descriptor_array_free(v, n);
			return ocb_error_wrap(err, "%s[%zu]", key, i);
		}
		n++;
	}
	*out = v;
	*n_out = n;
	return 0;
}

json_t *oci_descriptor_array_to_json(const struct oci_descriptor *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, oci_descriptor_to_json(&v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int oci_descriptor_array_push(struct oci_descriptor **v, size_t *n, const struct oci_descriptor *d,
			      struct ocb_error *err)
{
	struct oci_descriptor *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*v = nv;
	if (oci_descriptor_copy(&nv[*n], d, err) < 0)
		return -1;
	(*n)++;
	return 0;
}

void oci_descriptor_array_free(struct oci_descriptor *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		oci_descriptor_release(&v[i]);
	free(v);
}
