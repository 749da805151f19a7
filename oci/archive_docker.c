/* docker-archive export: the `docker save` format that `docker load`
 * (Docker 20.10) and `podman load` read:
 *
 *   <diff-id-hex>/layer.tar   one uncompressed layer per directory
 *   <config-hex>.json         the image config, byte for byte
 *   manifest.json             [{"Config", "RepoTags", "Layers"}]
 *   repositories              {"repo": {"tag": "<top layer dir>"}}
 *
 * Layers are decompressed from the layout while they stream into the tar.
 * A tar header needs the size first, so each layer is read twice: once to
 * count (and check the blob digest and the diff_id), once to copy.  Memory
 * stays flat whatever the layer size. */
#include "oci/archive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/archive_tar.h"
#include "oci/cleanup.h"
#include "oci/compress.h"
#include "oci/json.h"
#include "oci/ref.h"
#include "oci/banned.h"

#define LAYER_BUFSIZE (1 << 17)

/* One pass over a layer: decompress, hash both sides, count; copy to t when
 * it is not NULL.  Both digests are checked. */
static int layer_pass(const struct oci_layout *src, const struct oci_descriptor *layer,
		      const struct oci_digest *diff_id, struct oci_tar_out *t, uint64_t *usize,
		      struct ocb_error *err)
{
	cleanup_free char *buf = malloc(LAYER_BUFSIZE);
	cleanup_close int fd = -1;
	struct oci_decompressor *dec = NULL;
	struct oci_hasher hc = {0}, hu = {0};
	enum oci_compression c;
	struct oci_digest got_c, got_u;
	uint64_t total = 0, size;
	int ret = -1;

	if (!buf)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_compression_from_media_type(layer->media_type, &c, NULL) < 0)
		c = OCI_COMPRESSION_AUTO;
	if (oci_blobstore_open_blob(&src->bs, &layer->digest, &fd, &size, err) < 0)
		return -1;
	if (oci_hasher_init(&hc, err) < 0 || oci_hasher_init(&hu, err) < 0 ||
	    oci_decompressor_new(&dec, c, fd, &hc, err) < 0)
		goto out;
	for (;;) {
		ssize_t n = oci_decompressor_read(dec, buf, LAYER_BUFSIZE, err);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		oci_hasher_update(&hu, buf, (size_t)n);
		total += (uint64_t)n;
		if (t && (total > *usize || oci_tar_out_data(t, buf, (size_t)n, err) < 0)) {
			if (total > *usize)
				ocb_error_set(err, OCB_EDIGEST, 0, "layer changed while it was read");
			goto out;
		}
	}
	oci_hasher_final(&hc, &got_c);
	oci_hasher_final(&hu, &got_u);
	if (!oci_digest_equal(&got_c, &layer->digest)) {
		ocb_error_set(err, OCB_EDIGEST, 0, "blob does not match its digest (got '%s')", got_c.str);
		goto out;
	}
	if (!oci_digest_equal(&got_u, diff_id)) {
		ocb_error_set(err, OCB_EDIGEST, 0, "uncompressed content '%s' does not match diff_id '%s'",
			      got_u.str, diff_id->str);
		goto out;
	}
	if (t && total != *usize) {
		ocb_error_set(err, OCB_EDIGEST, 0, "layer changed while it was read");
		goto out;
	}
	*usize = total;
	ret = 0;
out:
	if (ret < 0)
		ocb_error_wrap(err, "layer '%s'", layer->digest.str);
	oci_decompressor_free(dec);
	oci_hasher_release(&hc);
	oci_hasher_release(&hu);
	return ret;
}

enum entry_kind { ENTRY_DIR, ENTRY_BUFFER, ENTRY_LAYER };

struct entry {
	char *name;
	enum entry_kind kind;
	const char *data; /* ENTRY_BUFFER (borrowed) */
	size_t len;
	size_t layer; /* ENTRY_LAYER: index into the manifest's layers */
};

struct entries {
	struct entry *v;
	size_t n;
};

static int add_entry(struct entries *es, enum entry_kind kind, const char *data, size_t len, size_t layer,
		     struct ocb_error *err, const char *fmt, const char *arg)
{
	struct entry *v = realloc(es->v, (es->n + 1) * sizeof(*v));

	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	es->v = v;
	memset(&v[es->n], 0, sizeof(v[0]));
	if (asprintf(&v[es->n].name, fmt, arg) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	v[es->n].kind = kind;
	v[es->n].data = data;
	v[es->n].len = len;
	v[es->n].layer = layer;
	es->n++;
	return 0;
}

static void entries_release(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		free(es->v[i].name);
	free(es->v);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* manifest.json: one image. */
static int manifest_json(const struct oci_image *img, char *const *repo_tags, char **buf, size_t *len,
			 struct ocb_error *err)
{
	cleanup_json json_t *list = json_array();
	json_t *item = json_object(), *layers = json_array(), *tags = json_array();
	cleanup_free char *config = NULL;
	bool ok = list && item && layers && tags;

	for (size_t i = 0; ok && i < img->config.n_diff_ids; i++) {
		cleanup_free char *p = NULL;
		if (asprintf(&p, "%s/layer.tar", oci_digest_hex(&img->config.diff_ids[i])) < 0 ||
		    json_array_append_new(layers, json_string(p)) < 0)
			ok = false;
	}
	for (size_t i = 0; ok && repo_tags && repo_tags[i]; i++)
		if (json_array_append_new(tags, json_string(repo_tags[i])) < 0)
			ok = false;
	if (ok && asprintf(&config, "%s.json", oci_digest_hex(&img->manifest.config.digest)) < 0)
		ok = false;
	if (ok) {
		oci_json_set(item, "Config", json_string(config), &ok);
		oci_json_set(item, "RepoTags", tags, &ok);
		oci_json_set(item, "Layers", layers, &ok);
		tags = layers = NULL;
		if (json_array_append_new(list, item) < 0)
			ok = false;
		item = NULL;
	}
	json_decref(item);
	json_decref(layers);
	json_decref(tags);
	if (!ok)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "cannot encode manifest.json");
	return oci_json_dump(list, buf, len, err);
}

/* repositories: {"busybox": {"latest": "<top layer dir>"}}; NULL without tags. */
static int repositories_json(const struct oci_image *img, char *const *repo_tags, char **buf, size_t *len,
			     struct ocb_error *err)
{
	cleanup_json json_t *repos = json_object();
	const char *top;

	*buf = NULL;
	*len = 0;
	if (!repos)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (!repo_tags || !repo_tags[0] || img->config.n_diff_ids == 0)
		return 0;
	top = oci_digest_hex(&img->config.diff_ids[img->config.n_diff_ids - 1]);
	for (size_t i = 0; repo_tags[i]; i++) {
		struct oci_ref ref;
		cleanup_free char *fam = NULL;
		char *colon;
		json_t *tags;

		if (oci_ref_parse(repo_tags[i], &ref, err) < 0)
			return -1;
		fam = oci_ref_familiar_name(&ref);
		oci_ref_release(&ref);
		if (!fam)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		colon = strrchr(fam, ':');
		if (!colon || strchr(colon, '/') || strchr(fam, '@'))
			continue;
		*colon = '\0';
		tags = json_object_get(repos, fam);
		if (!tags) {
			tags = json_object();
			if (!tags || json_object_set_new(repos, fam, tags) < 0)
				return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
		if (json_object_set_new(tags, colon + 1, json_string(top)) < 0)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	return oci_json_dump(repos, buf, len, err);
}

/* Entries of the tar, sorted by name, each layer directory once. */
static int plan_entries(const struct oci_image *img, const char *config, size_t config_len,
			const char *manifest, size_t manifest_len, const char *repos, size_t repos_len,
			struct entries *es, struct ocb_error *err)
{
	cleanup_free char *cfgname = NULL;

	for (size_t i = 0; i < img->config.n_diff_ids; i++) {
		const char *hex = oci_digest_hex(&img->config.diff_ids[i]);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = oci_digest_equal(&img->config.diff_ids[j], &img->config.diff_ids[i]);
		if (seen)
			continue;
		if (add_entry(es, ENTRY_DIR, NULL, 0, 0, err, "%s/", hex) < 0 ||
		    add_entry(es, ENTRY_LAYER, NULL, 0, i, err, "%s/layer.tar", hex) < 0)
			return -1;
	}
	if (add_entry(es, ENTRY_BUFFER, config, config_len, 0, err, "%s.json",
		      oci_digest_hex(&img->manifest.config.digest)) < 0 ||
	    add_entry(es, ENTRY_BUFFER, manifest, manifest_len, 0, err, "%s", "manifest.json") < 0)
		return -1;
	if (repos && add_entry(es, ENTRY_BUFFER, repos, repos_len, 0, err, "%s", "repositories") < 0)
		return -1;
	qsort(es->v, es->n, sizeof(es->v[0]), cmp_entry);
	return 0;
}

static int write_entry(struct oci_tar_out *t, const struct oci_layout *src, const struct oci_image *img,
		       const struct entry *e, struct ocb_error *err)
{
	const struct oci_descriptor *layer;
	const struct oci_digest *diff_id;
	uint64_t usize = 0;

	switch (e->kind) {
	case ENTRY_DIR:
		return oci_tar_out_dir(t, e->name, err);
	case ENTRY_BUFFER:
		return oci_tar_out_buffer(t, e->name, e->data, e->len, err);
	case ENTRY_LAYER:
		layer = &img->manifest.layers[e->layer];
		diff_id = &img->config.diff_ids[e->layer];
		if (layer_pass(src, layer, diff_id, NULL, &usize, err) < 0 ||
		    oci_tar_out_begin(t, e->name, (int64_t)usize, err) < 0 ||
		    layer_pass(src, layer, diff_id, t, &usize, err) < 0)
			return -1;
		return 0;
	}
	return 0;
}

int oci_archive_write_docker(const struct oci_layout *src, const struct oci_image *img,
			     char *const *repo_tags, int64_t mtime, const char *path, struct ocb_error *err)
{
	cleanup_free char *config = NULL;
	cleanup_free char *manifest = NULL;
	cleanup_free char *repos = NULL;
	size_t config_len, manifest_len, repos_len;
	struct entries es = {0};
	struct oci_tar_out t;
	int ret = -1;

	if (img->manifest.n_layers != img->config.n_diff_ids) {
		ocb_error_set(err, OCB_EINVAL, 0, "image has %zu layers but %zu diff_ids",
			      img->manifest.n_layers, img->config.n_diff_ids);
		goto out;
	}
	if (oci_layout_read_blob(src, &img->manifest.config, &config, &config_len, err) < 0 ||
	    manifest_json(img, repo_tags, &manifest, &manifest_len, err) < 0 ||
	    repositories_json(img, repo_tags, &repos, &repos_len, err) < 0 ||
	    plan_entries(img, config, config_len, manifest, manifest_len, repos, repos_len, &es, err) < 0)
		goto out;
	if (oci_tar_out_open(&t, path, mtime, err) < 0)
		goto out;
	for (size_t i = 0; i < es.n; i++) {
		if (write_entry(&t, src, img, &es.v[i], err) < 0) {
			oci_tar_out_abort(&t);
			goto out;
		}
	}
	ret = oci_tar_out_commit(&t, err);
out:
	entries_release(&es);
	if (ret < 0)
		ocb_error_wrap(err, "docker archive '%s'", path);
	return ret;
}
