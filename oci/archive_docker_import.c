/* docker-archive import (`docker save` output, untrusted).
 *
 * One pass over the tar: every regular member except the small metadata
 * files streams into the store as a blob (so its sha256 is known without a
 * temp copy), links are remembered by name, manifest.json is kept in memory.
 * Then each manifest.json entry is checked: its config is read back from the
 * store and parsed, each layer member must hash to the config's diff_id in
 * order (docker layers are uncompressed, so blob digest == diff_id), and an
 * OCI manifest with uncompressed OCI layers is written.  Members the
 * manifests do not name are left for the store's garbage collection. */
#include "oci/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/archive_tar.h"
#include "oci/cleanup.h"
#include "oci/compress.h"
#include "oci/json.h"
#include "oci/banned.h"

#define COPY_BUFSIZE   (1 << 17)
#define LINK_DEPTH_MAX 8
#define IMAGES_MAX     1000

struct member {
	char *name;
	char *link; /* cleaned target name, or NULL for a stored file */
	struct oci_digest digest;
	int64_t size;
};

struct members {
	struct member *v;
	size_t n;
	char *manifest;
	size_t manifest_len;
};

static void members_release(struct members *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].link);
	}
	free(m->v);
	free(m->manifest);
}

static struct member *members_add(struct members *m, char *name, struct ocb_error *err)
{
	struct member *v;

	if (m->n >= OCI_ARCHIVE_ENTRIES_MAX) {
		ocb_error_set(err, OCB_ELIMIT, 0, "more than %d members", OCI_ARCHIVE_ENTRIES_MAX);
		return NULL;
	}
	v = realloc(m->v, (m->n + 1) * sizeof(*v));
	if (!v) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		return NULL;
	}
	m->v = v;
	memset(&v[m->n], 0, sizeof(v[0]));
	v[m->n].name = name;
	return &v[m->n++];
}

/* The last member of that name (a later member replaces an earlier one, as
 * when tar extracts). */
static const struct member *members_find(const struct members *m, const char *name)
{
	for (size_t i = m->n; i-- > 0;)
		if (strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

/* Follow links to a stored file. */
static const struct member *members_resolve(const struct members *m, const char *name, struct ocb_error *err)
{
	const struct member *mem = NULL;

	for (int depth = 0; depth <= LINK_DEPTH_MAX; depth++) {
		mem = members_find(m, name);
		if (!mem) {
			ocb_error_set(err, OCB_EINVAL, 0, "missing member '%.200s'", name);
			return NULL;
		}
		if (!mem->link)
			return mem;
		name = mem->link;
	}
	ocb_error_set(err, OCB_EUNSAFE, 0, "member '%.200s': too many levels of links", name);
	return NULL;
}

/* A symlink target, relative to the link's directory, as a clean member
 * name; escaping the archive root is refused. */
static int symlink_target(const char *link, const char *target, char **out, struct ocb_error *err)
{
	cleanup_free char *joined = NULL;
	cleanup_free char *copy = NULL;
	const char *slash = strrchr(link, '/');
	char *save = NULL, *tok, *res;
	size_t used = 0;

	if (target[0] == '/')
		return ocb_error_set(err, OCB_EUNSAFE, 0, "member '%.200s' links outside the archive", link);
	if (asprintf(&joined, "%.*s%s%s", slash ? (int)(slash - link) : 0, link, slash ? "/" : "", target) <
	    0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	res = calloc(1, strlen(joined) + 1);
	copy = strdup(joined);
	if (!res || !copy) {
		free(res);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			char *up;
			if (used == 0) {
				free(res);
				return ocb_error_set(err, OCB_EUNSAFE, 0,
						     "member '%.200s' links outside the archive", link);
			}
			up = strrchr(res, '/');
			used = up ? (size_t)(up - res) : 0;
			res[used] = '\0';
			continue;
		}
		used += (size_t)snprintf(res + used, strlen(joined) + 1 - used, "%s%s", used ? "/" : "", tok);
	}
	*out = res;
	return 0;
}

static int store_member(struct archive *a, struct oci_layout *store, struct member *mem,
			struct ocb_error *err)
{
	uint64_t size;

	if (oci_tar_in_to_blob(a, mem->name, &store->bs, NULL, -1, &mem->digest, &size, err) < 0)
		return -1;
	mem->size = (int64_t)size;
	return 0;
}

/* Legacy and OCI metadata that no manifest.json entry names as a blob. */
static bool is_metadata(const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	return !strcmp(base, "VERSION") || !strcmp(base, "json") || !strcmp(name, "repositories") ||
	       !strcmp(name, "index.json") || !strcmp(name, "oci-layout");
}

static int read_member(struct archive *a, struct archive_entry *e, struct oci_layout *store,
		       struct members *m, struct ocb_error *err)
{
	char *name = NULL;
	mode_t type = archive_entry_filetype(e);
	struct member *mem;

	if (oci_tar_clean_name(archive_entry_pathname(e), &name, err) < 0)
		return -1;
	if (type == AE_IFDIR || (type == AE_IFREG && !archive_entry_hardlink(e) && is_metadata(name))) {
		free(name);
		return 0;
	}
	if (type == AE_IFREG && !archive_entry_hardlink(e) && !strcmp(name, "manifest.json")) {
		free(name);
		free(m->manifest);
		m->manifest = NULL;
		return oci_tar_in_read_small(a, "manifest.json", OCI_JSON_MAX, &m->manifest, &m->manifest_len,
					     err);
	}
	mem = members_add(m, name, err);
	if (!mem) {
		free(name);
		return -1;
	}
	if (archive_entry_hardlink(e))
		return oci_tar_clean_name(archive_entry_hardlink(e), &mem->link, err);
	if (type == AE_IFLNK)
		return symlink_target(mem->name, archive_entry_symlink(e), &mem->link, err);
	if (type != AE_IFREG)
		return ocb_error_set(err, OCB_EUNSAFE, 0, "member '%.200s' is not a file, directory or link",
				     name);
	return store_member(a, store, mem, err);
}

static int read_members(const char *path, struct oci_layout *store, struct members *m, struct ocb_error *err)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	int r, ret = -1;

	if (oci_tar_in_open(&a, path, err) < 0)
		return -1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK)
		if (read_member(a, e, store, m, err) < 0)
			goto out;
	if (r != ARCHIVE_EOF) {
		ocb_error_set(err, OCB_EINVAL, 0, "corrupt tar: %s", archive_error_string(a));
		goto out;
	}
	if (!m->manifest) {
		ocb_error_set(err, OCB_EINVAL, 0, "not a docker archive: no manifest.json");
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	return ret;
}

static int string_field(const json_t *item, const char *key, const char **out, struct ocb_error *err)
{
	const json_t *v = json_object_get(item, key);

	if (!json_is_string(v))
		return ocb_error_set(err, OCB_EINVAL, 0, "manifest.json: '%s' must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static int load_config(struct oci_layout *store, const struct members *m, const char *name,
		       struct oci_descriptor *desc, struct oci_image_config *config, struct ocb_error *err)
{
	const struct member *mem = members_resolve(m, name, err);
	cleanup_free char *buf = NULL;
	size_t len;

	if (!mem)
		return -1;
	if (oci_blobstore_read(&store->bs, &mem->digest, OCI_JSON_MAX, &buf, &len, err) < 0 ||
	    oci_config_parse(buf, len, config, err) < 0)
		return ocb_error_wrap(err, "config '%.200s'", name);
	return oci_descriptor_init(desc, OCI_MEDIA_TYPE_CONFIG, &mem->digest, mem->size, err);
}

static int load_layers(const struct members *m, const json_t *layers, const struct oci_image_config *config,
		       struct oci_descriptor **out, struct ocb_error *err)
{
	size_t n = json_array_size(layers);
	struct oci_descriptor *v;

	if (!json_is_array(layers))
		return ocb_error_set(err, OCB_EINVAL, 0, "manifest.json: 'Layers' must be an array");
	if (n != config->n_diff_ids)
		return ocb_error_set(err, OCB_EINVAL, 0, "%zu layers but the config has %zu diff_ids", n,
				     config->n_diff_ids);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(layers, i));
		const struct member *mem = name ? members_resolve(m, name, err) : NULL;
		if (!name)
			ocb_error_set(err, OCB_EINVAL, 0, "manifest.json: 'Layers' must hold strings");
		if (mem && !oci_digest_equal(&mem->digest, &config->diff_ids[i]))
			ocb_error_set(err, OCB_EDIGEST, 0,
				      "layer '%.200s' is '%s', the config says diff_id '%s'", name,
				      mem->digest.str, config->diff_ids[i].str);
		if (!mem || !oci_digest_equal(&mem->digest, &config->diff_ids[i]) ||
		    oci_descriptor_init(&v[i], OCI_MEDIA_TYPE_LAYER, &mem->digest, mem->size, err) < 0) {
			oci_descriptor_array_free(v, i);
			return -1;
		}
	}
	*out = v;
	return 0;
}

static int add_loaded(struct oci_loaded **v, size_t *n, const char *name, const struct oci_descriptor *d,
		      struct ocb_error *err)
{
	struct oci_loaded *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[0]));
	if (name && !(nv[*n].name = strdup(name)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_descriptor_copy(&nv[*n].desc, d, err) < 0) {
		free(nv[*n].name);
		return -1;
	}
	(*n)++;
	return 0;
}

static int import_image(struct oci_layout *store, const struct members *m, const json_t *item,
			struct oci_loaded **out, size_t *n_out, struct ocb_error *err)
{
	struct oci_image_config config = {0};
	struct oci_descriptor cdesc = {0}, mdesc = {0};
	struct oci_descriptor *layers = NULL;
	const json_t *tags = json_object_get(item, "RepoTags");
	const char *config_name = NULL;
	int ret = -1;

	if (!json_is_object(item))
		return ocb_error_set(err, OCB_EINVAL, 0, "manifest.json: entries must be objects");
	if (tags && !json_is_null(tags) && !json_is_array(tags))
		return ocb_error_set(err, OCB_EINVAL, 0, "manifest.json: 'RepoTags' must be an array");
	if (string_field(item, "Config", &config_name, err) < 0 ||
	    load_config(store, m, config_name, &cdesc, &config, err) < 0 ||
	    load_layers(m, json_object_get(item, "Layers"), &config, &layers, err) < 0)
		goto out;
	if (oci_layout_put_manifest(store, &cdesc, layers, config.n_diff_ids, NULL, &config.platform, &mdesc,
				    err) < 0)
		goto out;
	if (json_array_size(tags) == 0) {
		ret = add_loaded(out, n_out, NULL, &mdesc, err);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(tags); i++) {
		const char *tag = json_string_value(json_array_get(tags, i));
		if (!tag) {
			ocb_error_set(err, OCB_EINVAL, 0, "manifest.json: 'RepoTags' must hold strings");
			goto out;
		}
		if (add_loaded(out, n_out, tag, &mdesc, err) < 0)
			goto out;
	}
	ret = 0;
out:
	oci_descriptor_array_free(layers, config.n_diff_ids);
	oci_descriptor_release(&cdesc);
	oci_descriptor_release(&mdesc);
	oci_config_release(&config);
	return ret;
}

void oci_loaded_free(struct oci_loaded *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		oci_descriptor_release(&v[i].desc);
	}
	free(v);
}

int oci_archive_import_docker(struct oci_layout *store, const char *path, struct oci_loaded **out,
			      size_t *n_out, struct ocb_error *err)
{
	struct members m = {0};
	struct oci_loaded *loaded = NULL;
	size_t n_loaded = 0;
	json_error_t jerr;
	json_t *list = NULL;
	int ret = -1;

	if (read_members(path, store, &m, err) < 0)
		goto out;
	list = json_loadb(m.manifest, m.manifest_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > IMAGES_MAX) {
		ocb_error_set(err, OCB_EINVAL, 0, "manifest.json: want a list of 1 to %d images%s%s",
			      IMAGES_MAX, list ? "" : ": ", list ? "" : jerr.text);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		if (import_image(store, &m, json_array_get(list, i), &loaded, &n_loaded, err) < 0) {
			ocb_error_wrap(err, "image %zu", i);
			goto out;
		}
	}
	*out = loaded;
	*n_out = n_loaded;
	loaded = NULL;
	n_loaded = 0;
	ret = 0;
out:
	if (ret < 0)
		ocb_error_wrap(err, "docker archive '%s'", path);
	json_decref(list);
	oci_loaded_free(loaded, n_loaded);
	members_release(&m);
	return ret;
}
