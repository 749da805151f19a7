/* --cache-to / --cache-from: the step cache as an OCI artifact in a registry
 * or a directory (builder/cache_transfer.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cache_impl.h"
#include "builder/cache_transfer.h"
#include "builder/cli_registry.h"
#include "oci/cleanup.h"
#include "oci/extract.h"
#include "oci/json.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "oci/banned.h"

#define INDEX_VERSION 1

struct endpoint {
	bool set;
	bool registry; /* registry:REF, else oci:DIR */
	struct oci_ref ref;
	char *dir;
	char *spec; /* for messages */
};

struct cache_transfer {
	pthread_mutex_t lock;
	bool tls_verify;
	struct endpoint from, to;

	/* the import, loaded on the first miss */
	bool loaded, load_failed;
	struct ocb_error load_err;
	json_t *records; /* key -> record object */
	struct oci_registry *reg;
	struct oci_layout layout;
	bool layout_open;

	/* the keys the build used */
	struct oci_digest *keys;
	size_t n_keys, cap_keys;
};

static int nomem(struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

static int endpoint_parse(const char *spec, const char *opt, struct endpoint *e, struct ocb_error *err)
{
	if (!spec)
		return 0;
	if (!(e->spec = strdup(spec)))
		return nomem(err);
	e->set = true;
	if (!strncmp(spec, "registry:", 9) && spec[9]) {
		e->registry = true;
		if (oci_ref_parse(spec + 9, &e->ref, err) < 0)
			return ocb_error_wrap(err, "%s '%s'", opt, spec);
		return 0;
	}
	if (!strncmp(spec, "oci:", 4) && spec[4])
		return (e->dir = strdup(spec + 4)) ? 0 : nomem(err);
	return ocb_error_set(err, OCB_EINVAL, 0, "%s '%s': expected registry:REF or oci:DIR", opt, spec);
}

static void endpoint_release(struct endpoint *e)
{
	oci_ref_release(&e->ref);
	free(e->dir);
	free(e->spec);
}

int cache_transfer_new(const char *from, const char *to, bool tls_verify, struct cache_transfer **out,
		       struct ocb_error *err)
{
	struct cache_transfer *t = calloc(1, sizeof(*t));

	if (!t)
		return nomem(err);
	pthread_mutex_init(&t->lock, NULL);
	t->tls_verify = tls_verify;
	if (endpoint_parse(from, "--cache-from", &t->from, err) < 0 ||
	    endpoint_parse(to, "--cache-to", &t->to, err) < 0) {
		cache_transfer_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void cache_transfer_free(struct cache_transfer *t)
{
	if (!t)
		return;
	endpoint_release(&t->from);
	endpoint_release(&t->to);
	json_decref(t->records);
	oci_registry_free(t->reg);
	if (t->layout_open)
		oci_layout_release(&t->layout);
	free(t->keys);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- import ---- */

/* The reference a registry source is asked for: its tag, else its digest. */
static const char *ref_reference(const struct oci_ref *r)
{
	return r->tag ? r->tag : r->digest.str;
}

/* Fetch blob d of the source into bs (verified). */
static int source_fetch(struct cache_transfer *t, const struct oci_descriptor *d, struct oci_blobstore *bs,
			struct ocb_error *err)
{
	if (t->from.registry)
		return oci_registry_fetch_blob(t->reg, t->from.ref.repository, d, bs, err);
	return oci_blobstore_copy(bs, &t->layout.bs, &d->digest, err);
}

/* The source's manifest; 0 with *buf NULL when the source has none yet. */
static int source_manifest(struct cache_transfer *t, char **buf, size_t *len, struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	int ret;

	*buf = NULL;
	if (t->from.registry) {
		if (cli_registry_open(t->from.ref.registry, t->tls_verify, NULL, NULL, &t->reg, err) < 0)
			return -1;
		ret = oci_registry_get_manifest(t->reg, t->from.ref.repository, ref_reference(&t->from.ref),
						buf, len, &d, err);
	} else {
		if (oci_layout_open(&t->layout, t->from.dir, false, err) < 0)
			return err->code == OCB_ENOTFOUND ? (ocb_error_clear(err), 0) : -1;
		t->layout_open = true;
		ret = oci_layout_lookup(&t->layout, CACHE_TRANSFER_REF_NAME, &d, NULL, err);
		if (ret == 0)
			ret = oci_layout_read_blob(&t->layout, &d, buf, len, err);
	}
	oci_descriptor_release(&d);
	if (ret < 0 && err->code == OCB_ENOTFOUND) {
		ocb_error_clear(err);
		return 0;
	}
	return ret;
}

/* records[] of the index into t->records (key -> record). */
static int index_parse(struct cache_transfer *t, const char *buf, size_t len, struct ocb_error *err)
{
	cleanup_json json_t *j = NULL;
	json_t *recs, *rec;
	size_t i;

	if (oci_json_load(buf, len, CACHE_TRANSFER_INDEX_MAX, "cache index", &j, err) < 0)
		return -1;
	if (json_integer_value(json_object_get(j, "version")) != INDEX_VERSION ||
	    !json_is_array(recs = json_object_get(j, "records")))
		return ocb_error_set(err, OCB_EINVAL, 0, "cache index: not version %d with records",
				     INDEX_VERSION);
	json_array_foreach(recs, i, rec)
	{
		const char *key = json_string_value(json_object_get(rec, "key"));
		struct oci_digest d;
		if (!json_is_object(rec) || !key || oci_digest_parse(key, &d, err) < 0)
			return ocb_error_set(err, OCB_EINVAL, 0, "cache index: record %zu has no valid key",
					     i);
		if (json_object_set(t->records, key, rec) < 0)
			return nomem(err);
	}
	return 0;
}

static int load(struct cache_transfer *t, struct build_cache *c, struct ocb_error *err)
{
	cleanup_free char *mbuf = NULL;
	cleanup_free char *ibuf = NULL;
	struct oci_manifest m = {0};
	size_t mlen = 0, ilen = 0;
	int ret = -1;

	if (!(t->records = json_object()))
		return nomem(err);
	if (source_manifest(t, &mbuf, &mlen, err) < 0)
		return -1;
	if (!mbuf)
		return 0; /* nothing exported there yet */
	if (oci_manifest_parse(mbuf, mlen, &m, err) < 0)
		return -1;
	if (!m.config.media_type || strcmp(m.config.media_type, CACHE_TRANSFER_CONFIG_TYPE) != 0) {
		ocb_error_set(err, OCB_EINVAL, 0, "not an ocb cache (config media type '%s')",
			      m.config.media_type ? m.config.media_type : "");
		goto out;
	}
	if (m.config.size < 0 || (uint64_t)m.config.size > CACHE_TRANSFER_INDEX_MAX) {
		ocb_error_set(err, OCB_ELIMIT, 0, "cache index of %lld bytes is too big",
			      (long long)m.config.size);
		goto out;
	}
	/* The index goes through the cache's blob store (prune removes it:
	 * no record names it). */
	if (source_fetch(t, &m.config, cache_blobstore(c), err) < 0 ||
	    oci_blobstore_read(cache_blobstore(c), &m.config.digest, CACHE_TRANSFER_INDEX_MAX, &ibuf, &ilen,
			       err) < 0 ||
	    index_parse(t, ibuf, ilen, err) < 0)
		goto out;
	ret = 0;
out:
	oci_manifest_release(&m);
	return ret;
}

/* Record object -> struct cache_record, checked like a record file. */
static int record_from_json(const json_t *rec, const struct oci_digest *key, struct cache_record *out,
			    struct ocb_error *err)
{
	cleanup_free char *buf = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);

	if (!buf)
		return nomem(err);
	return cache_record_decode(buf, strlen(buf), key, out, err);
}

/* Download the blob of record r (unless c has it) and store the record. */
static int install(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *key,
		   const struct cache_record *r, struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	int ret = -1;

	if (!r->empty_layer && !cache_blob_present(c, &r->digest, r->size)) {
		if (oci_descriptor_init(&d, r->media_type, &r->digest, (int64_t)r->size, err) < 0 ||
		    source_fetch(t, &d, cache_blobstore(c), err) < 0)
			goto out;
	}
	ret = cache_store(c, key, r, err);
out:
	oci_descriptor_release(&d);
	return ret;
}

/* Load the import once; a failed load fails every later call the same way
 * (parallel stages all ask). */
static int ensure_loaded(struct cache_transfer *t, struct build_cache *c, struct ocb_error *err)
{
	if (!t->loaded) {
		t->loaded = true;
		if (load(t, c, &t->load_err) < 0)
			t->load_failed = true;
	}
	if (!t->load_failed)
		return 0;
	if (err)
		*err = t->load_err;
	return -1;
}

/* Key's imported record into *out: 1, or 0 when the import lacks it. */
static int imported_record(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *key,
			   struct cache_record *out, struct ocb_error *err)
{
	const json_t *rec;

	if (ensure_loaded(t, c, err) < 0)
		return -1;
	if (!(rec = json_object_get(t->records, key->str)))
		return 0;
	return record_from_json(rec, key, out, err) < 0 ? -1 : 1;
}

int cache_transfer_lookup(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *key,
			  struct cache_record *out, struct ocb_error *err)
{
	int ret;

	if (!t || !t->from.set)
		return 0;
	pthread_mutex_lock(&t->lock);
	ret = imported_record(t, c, key, out, err);
	pthread_mutex_unlock(&t->lock);
	if (ret < 0)
		return ocb_error_wrap(err, "--cache-from '%s'", t->from.spec);
	return ret;
}

/* Install every imported record whose layer is d (there is one download). */
static int materialize(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *d,
		       struct ocb_error *err)
{
	const char *key_str;
	json_t *rec;

	if (!t->loaded || t->load_failed)
		return 0; /* nothing imported, nothing to fetch */
	json_object_foreach(t->records, key_str, rec)
	{
		const char *layer =
		    json_string_value(json_object_get(json_object_get(rec, "layer"), "digest"));
		struct cache_record r = {0};
		struct oci_digest key;
		int ret;
		if (!layer || strcmp(layer, d->str) != 0)
			continue;
		if (oci_digest_parse(key_str, &key, err) < 0 || record_from_json(rec, &key, &r, err) < 0)
			return -1;
		ret = install(t, c, &key, &r, err);
		cache_record_release(&r);
		if (ret < 0)
			return ocb_error_wrap(err, "layer '%s'", d->str);
	}
	return 0;
}

int cache_transfer_materialize(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *d,
			       struct ocb_error *err)
{
	int ret;

	if (!t || !t->from.set || oci_blobstore_has(cache_blobstore(c), d))
		return 0;
	pthread_mutex_lock(&t->lock);
	ret = materialize(t, c, d, err);
	pthread_mutex_unlock(&t->lock);
	if (ret < 0)
		return ocb_error_wrap(err, "--cache-from '%s'", t->from.spec);
	return 0;
}

/* ---- export ---- */

int cache_transfer_note(struct cache_transfer *t, const struct oci_digest *key, struct ocb_error *err)
{
	int ret = 0;

	if (!t || !t->to.set)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (t->n_keys == t->cap_keys) {
		size_t cap = t->cap_keys ? t->cap_keys * 2 : 32;
		struct oci_digest *k = realloc(t->keys, cap * sizeof(*k));
		if (!k) {
			ret = nomem(err);
			goto out;
		}
		t->keys = k;
		t->cap_keys = cap;
	}
	t->keys[t->n_keys++] = *key;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

struct artifact {
	json_t *records;
	struct oci_descriptor *layers;
	size_t n_layers;
};

static bool have_layer(const struct artifact *a, const struct oci_digest *d)
{
	for (size_t i = 0; i < a->n_layers; i++)
		if (oci_digest_equal(&a->layers[i].digest, d))
			return true;
	return false;
}

static bool have_record(const struct artifact *a, const struct oci_digest *key)
{
	size_t i;
	json_t *rec;

	json_array_foreach(a->records, i, rec)
	{
		if (!strcmp(json_string_value(json_object_get(rec, "key")), key->str))
			return true;
	}
	return false;
}

/* Add key's record (if c has it) and its blob to the artifact in dst. */
static int add_key(struct cache_transfer *t, struct build_cache *c, struct oci_layout *dst,
		   const struct oci_digest *key, struct artifact *a, struct ocb_error *err)
{
	struct cache_record r = {0};
	struct oci_descriptor d = {0};
	cleanup_free char *buf = NULL;
	json_t *j = NULL;
	size_t len = 0;
	int ret = -1;

	if (have_record(a, key))
		return 0;
	if (cache_lookup(c, key, &r, err) < 0) {
		int got;
		if (err->code != OCB_ENOTFOUND)
			return -1;
		ocb_error_clear(err);
		/* a hit from --cache-from whose layer nothing read: fetch it now */
		if ((got = t->from.set ? imported_record(t, c, key, &r, err) : 0) < 0)
			return -1;
		if (got == 0)
			return 0; /* a step that failed or never stored */
		ret = install(t, c, key, &r, err);
		cache_record_release(&r);
		if (ret < 0 || cache_lookup(c, key, &r, err) < 0)
			return -1;
		ret = -1;
	}
	if (cache_record_encode(key, &r, r.created, &buf, &len, err) < 0 ||
	    oci_json_load(buf, len, CACHE_RECORD_MAX, "cache record", &j, err) < 0)
		goto out;
	if (json_array_append_new(a->records, j) < 0) {
		nomem(err);
		goto out;
	}
	if (!r.empty_layer && !have_layer(a, &r.digest)) {
		if (cache_export_blob(c, &dst->bs, &r.digest, err) < 0 ||
		    oci_descriptor_init(&d, r.media_type, &r.digest, (int64_t)r.size, err) < 0 ||
		    oci_descriptor_array_push(&a->layers, &a->n_layers, &d, err) < 0)
			goto out;
	}
	ret = 0;
out:
	oci_descriptor_release(&d);
	cache_record_release(&r);
	return ret;
}

/* Write the artifact of t's keys into dst; *top its manifest. */
static int write_artifact(struct cache_transfer *t, struct build_cache *c, struct oci_layout *dst,
			  struct oci_descriptor *top, struct ocb_error *err)
{
	struct artifact a = {.records = json_array()};
	cleanup_json json_t *index = NULL;
	cleanup_free char *buf = NULL;
	struct oci_descriptor config = {0};
	struct oci_digest digest;
	int ret = -1;

	if (!a.records)
		return nomem(err);
	for (size_t i = 0; i < t->n_keys; i++)
		if (add_key(t, c, dst, &t->keys[i], &a, err) < 0)
			goto out;
	index = json_pack("{s:i, s:O}", "version", INDEX_VERSION, "records", a.records);
	if (!index || !(buf = json_dumps(index, JSON_COMPACT | JSON_SORT_KEYS))) {
		nomem(err);
		goto out;
	}
	if (oci_blobstore_put(&dst->bs, buf, strlen(buf), &digest, err) < 0 ||
	    oci_descriptor_init(&config, CACHE_TRANSFER_CONFIG_TYPE, &digest, (int64_t)strlen(buf), err) <
		0 ||
	    oci_layout_put_manifest(dst, &config, a.layers, a.n_layers, NULL, NULL, top, err) < 0)
		goto out;
	ret = 0;
out:
	oci_descriptor_release(&config);
	for (size_t i = 0; i < a.n_layers; i++)
		oci_descriptor_release(&a.layers[i]);
	free(a.layers);
	json_decref(a.records);
	return ret;
}

static int export_to_dir(struct cache_transfer *t, struct build_cache *c, struct ocb_error *err)
{
	struct oci_layout l = {0};
	struct oci_descriptor top = {0};
	int ret = -1;

	if (oci_layout_open(&l, t->to.dir, true, err) < 0)
		return -1;
	if (write_artifact(t, c, &l, &top, err) == 0 &&
	    oci_layout_set_ref(&l, CACHE_TRANSFER_REF_NAME, &top, err) == 0)
		ret = 0;
	oci_descriptor_release(&top);
	oci_layout_release(&l);
	return ret;
}

static int export_to_registry(struct cache_transfer *t, struct build_cache *c, const char *tmp_dir,
			      struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	struct oci_layout l = {0};
	struct oci_descriptor top = {0};
	int ret = -1;

	if (asprintf(&dir, "%s/cache-export-XXXXXX", tmp_dir) < 0) {
		dir = NULL;
		return nomem(err);
	}
	if (!mkdtemp(dir))
		return ocb_error_sys(err, "mkdtemp '%s'", dir);
	if (oci_layout_open(&l, dir, true, err) == 0) {
		if (write_artifact(t, c, &l, &top, err) == 0 &&
		    cli_registry_push(&l, &top, &t->to.ref, t->tls_verify, err) == 0)
			ret = 0;
		oci_layout_release(&l);
	}
	oci_descriptor_release(&top);
	oci_remove_tree_at(AT_FDCWD, dir, NULL);
	return ret;
}

int cache_transfer_export(struct cache_transfer *t, struct build_cache *c, const char *tmp_dir,
			  struct ocb_error *err)
{
	int ret;

	if (!t || !t->to.set)
		return 0;
	pthread_mutex_lock(&t->lock);
	ret = t->to.registry ? export_to_registry(t, c, tmp_dir, err) : export_to_dir(t, c, err);
	pthread_mutex_unlock(&t->lock);
	if (ret < 0)
		return ocb_error_wrap(err, "--cache-to '%s'", t->to.spec);
	return 0;
}
