/* --cache-to / --cache-from: the step cache as an OCI artifact in a registry
 * or a directory (builder/cache_transfer.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/cache_impl.h"
#include "builder/cache_transfer.h"
#include "builder/cli_registry.h"
#include "builder/private_dir.h"
#include "builder/progress.h"
#include "oci/cleanup.h"
#include "oci/extract.h"
#include "oci/json.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "oci/banned.h"

#define INDEX_VERSION 1

struct endpoint {
	bool registry; /* registry:REF, else oci:DIR */
	struct oci_ref ref;
	char *dir;
	char *spec; /* for messages */
};

/* A cache artifact: a --cache-from source, or the --cache-to destination
 * (read for the merge). */
struct source {
	struct endpoint e;
	bool found;		       /* it holds a cache */
	json_t *records;	       /* key -> record object */
	json_t *exported;	       /* key -> last export time (unix seconds) */
	struct oci_descriptor *layers; /* the manifest's */
	size_t n_layers;
	struct oci_registry *reg;
	struct oci_layout layout;
	bool layout_open;
};

struct cache_transfer {
	pthread_mutex_t lock;
	bool tls_verify;
	struct progress *progress;
	struct cache_transfer_keep keep;
	struct source from[CACHE_TRANSFER_FROM_MAX];
	size_t n_from;
	bool has_to;
	struct source to;

	/* the sources, loaded on the first miss */
	bool loaded, load_failed;
	struct ocb_error load_err;

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
	if (!(e->spec = strdup(spec)))
		return nomem(err);
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

static void source_release(struct source *s)
{
	oci_ref_release(&s->e.ref);
	free(s->e.dir);
	free(s->e.spec);
	json_decref(s->records);
	json_decref(s->exported);
	oci_descriptor_array_free(s->layers, s->n_layers);
	oci_registry_free(s->reg);
	if (s->layout_open)
		oci_layout_release(&s->layout);
}

int cache_transfer_new(const struct cache_transfer_options *o, struct cache_transfer **out,
		       struct ocb_error *err)
{
	struct cache_transfer *t = calloc(1, sizeof(*t));

	if (!t)
		return nomem(err);
	pthread_mutex_init(&t->lock, NULL);
	t->tls_verify = o->tls_verify;
	t->progress = o->progress;
	t->keep = o->keep ? *o->keep
			  : (struct cache_transfer_keep){.max_age = (int64_t)CACHE_TRANSFER_KEEP_DAYS * 86400,
							 .max_records = CACHE_TRANSFER_KEEP_RECORDS};
	if (o->n_from > CACHE_TRANSFER_FROM_MAX) {
		cache_transfer_free(t);
		return ocb_error_set(err, OCB_EINVAL, 0, "--cache-from: at most %d sources",
				     CACHE_TRANSFER_FROM_MAX);
	}
	t->n_from = o->n_from;
	t->has_to = o->to != NULL;
	for (size_t i = 0; i < o->n_from; i++)
		if (endpoint_parse(o->from[i], "--cache-from", &t->from[i].e, err) < 0)
			goto fail;
	if (t->has_to && endpoint_parse(o->to, "--cache-to", &t->to.e, err) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	cache_transfer_free(t);
	return -1;
}

void cache_transfer_free(struct cache_transfer *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_from; i++) /* unparsed ones are zero */
		source_release(&t->from[i]);
	source_release(&t->to);
	free(t->keys);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- reading a cache artifact ---- */

/* The reference a registry source is asked for: its tag, else its digest. */
static const char *ref_reference(const struct oci_ref *r)
{
	return r->tag ? r->tag : r->digest.str;
}

/* Fetch blob d of source s into bs (verified). */
static int source_fetch(struct source *s, const struct oci_descriptor *d, struct oci_blobstore *bs,
			struct ocb_error *err)
{
	if (s->e.registry)
		return oci_registry_fetch_blob(s->reg, s->e.ref.repository, d, bs, err);
	return oci_blobstore_copy(bs, &s->layout.bs, &d->digest, err);
}

/* The source's manifest; 0 with *buf NULL when the source has none yet (a
 * registry's "manifest unknown" or 404, a missing directory or name). */
static int source_manifest(struct cache_transfer *t, struct source *s, char **buf, size_t *len,
			   struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	int ret;

	*buf = NULL;
	if (s->e.registry) {
		if (!s->reg &&
		    cli_registry_open(s->e.ref.registry, t->tls_verify, NULL, NULL, &s->reg, err) < 0)
			return -1;
		ret = oci_registry_get_manifest(s->reg, s->e.ref.repository, ref_reference(&s->e.ref), buf,
						len, &d, err);
	} else {
		if (!s->layout_open) {
			if (oci_layout_open(&s->layout, s->e.dir, false, err) < 0)
				return err->code == OCB_ENOTFOUND ? (ocb_error_clear(err), 0) : -1;
			s->layout_open = true;
		}
		ret = oci_layout_lookup(&s->layout, CACHE_TRANSFER_REF_NAME, &d, NULL, err);
		if (ret == 0)
			ret = oci_layout_read_blob(&s->layout, &d, buf, len, err);
	}
	oci_descriptor_release(&d);
	if (ret < 0 && err->code == OCB_ENOTFOUND) {
		ocb_error_clear(err);
		return 0;
	}
	return ret;
}

/* The index's records[] into s->records (key -> record) and its optional
 * exported{} into s->exported. */
static int index_parse(struct source *s, const char *buf, size_t len, struct ocb_error *err)
{
	cleanup_json json_t *j = NULL;
	json_t *recs, *rec, *exported, *when;
	const char *key;
	size_t i;

	if (oci_json_load(buf, len, CACHE_TRANSFER_INDEX_MAX, "cache index", &j, err) < 0)
		return -1;
	if (json_integer_value(json_object_get(j, "version")) != INDEX_VERSION ||
	    !json_is_array(recs = json_object_get(j, "records")))
		return ocb_error_set(err, OCB_EINVAL, 0, "cache index: not version %d with records",
				     INDEX_VERSION);
	json_array_foreach(recs, i, rec)
	{
		struct oci_digest d;
		key = json_string_value(json_object_get(rec, "key"));
		if (!json_is_object(rec) || !key || oci_digest_parse(key, &d, err) < 0)
			return ocb_error_set(err, OCB_EINVAL, 0, "cache index: record %zu has no valid key",
					     i);
		if (json_object_set(s->records, key, rec) < 0)
			return nomem(err);
	}
	exported = json_object_get(j, "exported");
	if (exported && !json_is_object(exported))
		return ocb_error_set(err, OCB_EINVAL, 0, "cache index: exported is not an object");
	json_object_foreach(exported, key, when)
	{
		if (!json_is_integer(when))
			return ocb_error_set(err, OCB_EINVAL, 0, "cache index: exported '%s' is not a time",
					     key);
		if (json_object_set(s->exported, key, when) < 0)
			return nomem(err);
	}
	return 0;
}

/* Read source s: its records, export times and layers (nothing when it does
 * not exist yet: s->found stays false). */
static int load(struct cache_transfer *t, struct source *s, struct build_cache *c, struct ocb_error *err)
{
	cleanup_free char *mbuf = NULL;
	cleanup_free char *ibuf = NULL;
	struct oci_manifest m = {0};
	size_t mlen = 0, ilen = 0;
	int ret = -1;

	if (!(s->records = json_object()) || !(s->exported = json_object()))
		return nomem(err);
	if (source_manifest(t, s, &mbuf, &mlen, err) < 0)
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
	if (source_fetch(s, &m.config, cache_blobstore(c), err) < 0 ||
	    oci_blobstore_read(cache_blobstore(c), &m.config.digest, CACHE_TRANSFER_INDEX_MAX, &ibuf, &ilen,
			       err) < 0 ||
	    index_parse(s, ibuf, ilen, err) < 0)
		goto out;
	s->found = true;
	s->layers = m.layers;
	s->n_layers = m.n_layers;
	m.layers = NULL;
	m.n_layers = 0;
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

/* ---- import ---- */

/* Download the blob of record r from s (unless c has it) and store the
 * record. */
static int install(struct source *s, struct build_cache *c, const struct oci_digest *key,
		   const struct cache_record *r, struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	int ret = -1;

	if (!r->empty_layer && !cache_blob_present(c, &r->digest, r->size)) {
		if (oci_descriptor_init(&d, r->media_type, &r->digest, (int64_t)r->size, err) < 0 ||
		    source_fetch(s, &d, cache_blobstore(c), err) < 0)
			goto out;
	}
	ret = cache_store(c, key, r, err);
out:
	oci_descriptor_release(&d);
	return ret;
}

/* Load every source once; a failed load fails every later call the same way
 * (parallel stages all ask). */
static int ensure_loaded(struct cache_transfer *t, struct build_cache *c, struct ocb_error *err)
{
	for (size_t i = 0; !t->loaded && i < t->n_from; i++) {
		struct source *s = &t->from[i];
		if (load(t, s, c, &t->load_err) < 0) {
			ocb_error_wrap(&t->load_err, "--cache-from '%s'", s->e.spec);
			t->load_failed = true;
			break;
		}
		if (!s->found && t->progress)
			progress_info(t->progress,
				      "warning: --cache-from '%s': no cache there yet, importing nothing",
				      s->e.spec);
	}
	t->loaded = true;
	if (!t->load_failed)
		return 0;
	if (err)
		*err = t->load_err;
	return -1;
}

/* The first source (of the first n) whose index holds key, or NULL; *rec its
 * record. */
static struct source *source_with(struct cache_transfer *t, size_t n, const char *key, json_t **rec)
{
	for (size_t i = 0; i < n; i++)
		if ((*rec = json_object_get(t->from[i].records, key)))
			return &t->from[i];
	return NULL;
}

/* Key's imported record into *out: 1 (*from its source), or 0 when no
 * source has it. */
static int imported_record(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *key,
			   struct cache_record *out, struct source **from, struct ocb_error *err)
{
	json_t *rec = NULL;

	if (ensure_loaded(t, c, err) < 0)
		return -1;
	if (!(*from = source_with(t, t->n_from, key->str, &rec)))
		return 0;
	if (record_from_json(rec, key, out, err) < 0)
		return ocb_error_wrap(err, "--cache-from '%s'", (*from)->e.spec);
	return 1;
}

int cache_transfer_lookup(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *key,
			  struct cache_record *out, struct ocb_error *err)
{
	struct source *from = NULL;
	int ret;

	if (!t || !t->n_from)
		return 0;
	pthread_mutex_lock(&t->lock);
	ret = imported_record(t, c, key, out, &from, err);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Install the records of source i whose layer is d and that no earlier
 * source shadows (there is one download). */
static int materialize_from(struct cache_transfer *t, size_t i, struct build_cache *c,
			    const struct oci_digest *d, struct ocb_error *err)
{
	struct source *s = &t->from[i];
	const char *key_str;
	json_t *rec, *first;

	json_object_foreach(s->records, key_str, rec)
	{
		const char *layer =
		    json_string_value(json_object_get(json_object_get(rec, "layer"), "digest"));
		struct cache_record r = {0};
		struct oci_digest key;
		int ret;
		if (!layer || strcmp(layer, d->str) != 0 || source_with(t, i, key_str, &first))
			continue;
		if (oci_digest_parse(key_str, &key, err) < 0 || record_from_json(rec, &key, &r, err) < 0)
			return ocb_error_wrap(err, "--cache-from '%s'", s->e.spec);
		ret = install(s, c, &key, &r, err);
		cache_record_release(&r);
		if (ret < 0)
			return ocb_error_wrap(err, "--cache-from '%s': layer '%s'", s->e.spec, d->str);
	}
	return 0;
}

int cache_transfer_materialize(struct cache_transfer *t, struct build_cache *c, const struct oci_digest *d,
			       struct ocb_error *err)
{
	int ret = 0;

	if (!t || !t->n_from || oci_blobstore_has(cache_blobstore(c), d))
		return 0;
	pthread_mutex_lock(&t->lock);
	/* nothing imported (or the import failed): nothing to fetch */
	for (size_t i = 0; t->loaded && !t->load_failed && i < t->n_from && ret == 0; i++)
		ret = materialize_from(t, i, c, d, err);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* ---- export ---- */

int cache_transfer_note(struct cache_transfer *t, const struct oci_digest *key, struct ocb_error *err)
{
	int ret = 0;

	if (!t || !t->has_to)
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

/* The artifact being written. */
struct artifact {
	json_t *records;  /* [record] */
	json_t *exported; /* key -> last export time */
	struct oci_descriptor *layers;
	size_t n_layers;
};

static bool has_layer(const struct oci_descriptor *v, size_t n, const struct oci_digest *d)
{
	for (size_t i = 0; i < n; i++)
		if (oci_digest_equal(&v[i].digest, d))
			return true;
	return false;
}

/* Append record rec of key (exported at when) and its layer d (NULL: an
 * empty layer). */
static int artifact_add(struct artifact *a, const char *key, json_t *rec, int64_t when,
			const struct oci_descriptor *d, struct ocb_error *err)
{
	if (json_array_append(a->records, rec) < 0 ||
	    json_object_set_new(a->exported, key, json_integer(when)) < 0)
		return nomem(err);
	if (d && !has_layer(a->layers, a->n_layers, &d->digest))
		return oci_descriptor_array_push(&a->layers, &a->n_layers, d, err);
	return 0;
}

/* r (of key) as a record object. */
static int record_to_json(const struct oci_digest *key, const struct cache_record *r, json_t **out,
			  struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;

	if (cache_record_encode(key, r, r->created, &buf, &len, err) < 0)
		return -1;
	return oci_json_load(buf, len, CACHE_RECORD_MAX, "cache record", out, err);
}

/* Key's record for the export, with its blob in dst unless the destination
 * has it: 1, or 0 when neither c nor an import has key (a step that failed
 * or never stored). */
static int own_record(struct cache_transfer *t, struct build_cache *c, struct oci_layout *dst,
		      const struct oci_digest *key, struct cache_record *r, struct ocb_error *err)
{
	struct source *from = NULL;
	int got;

	if (cache_lookup(c, key, r, err) == 0)
		goto blob;
	if (err->code != OCB_ENOTFOUND)
		return -1;
	ocb_error_clear(err);
	/* a hit from --cache-from whose layer nothing read */
	if ((got = t->n_from ? imported_record(t, c, key, r, &from, err) : 0) <= 0)
		return got;
	if (r->empty_layer || has_layer(t->to.layers, t->to.n_layers, &r->digest))
		return 1; /* the destination has the blob: no download */
	got = install(from, c, key, r, err);
	cache_record_release(r);
	if (got < 0 || cache_lookup(c, key, r, err) < 0)
		return -1;
blob:
	if (r->empty_layer || has_layer(t->to.layers, t->to.n_layers, &r->digest))
		return 1;
	return cache_export_blob(c, &dst->bs, &r->digest, err) < 0 ? -1 : 1;
}

/* Add key's record (if there is one) to the artifact in dst. */
static int add_key(struct cache_transfer *t, struct build_cache *c, struct oci_layout *dst,
		   const struct oci_digest *key, int64_t now, struct artifact *a, struct ocb_error *err)
{
	struct cache_record r = {0};
	struct oci_descriptor d = {0};
	json_t *j = NULL;
	int ret;

	if (json_object_get(a->exported, key->str))
		return 0; /* a key noted twice */
	if ((ret = own_record(t, c, dst, key, &r, err)) <= 0)
		return ret;
	ret = -1;
	if (record_to_json(key, &r, &j, err) < 0 ||
	    (!r.empty_layer && oci_descriptor_init(&d, r.media_type, &r.digest, (int64_t)r.size, err) < 0) ||
	    artifact_add(a, key->str, j, now, r.empty_layer ? NULL : &d, err) < 0)
		goto out;
	ret = 0;
out:
	json_decref(j);
	oci_descriptor_release(&d);
	cache_record_release(&r);
	return ret;
}

/* A record of the destination the build did not produce. */
struct foreign {
	const char *key;
	json_t *rec;
	int64_t when;
};

static int foreign_newest_first(const void *a, const void *b)
{
	const struct foreign *x = a, *y = b;

	if (x->when != y->when)
		return x->when > y->when ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The destination's layer that foreign record f names: 1 with *d (NULL for
 * an empty layer), 0 when f is not one this ocb can use (another format
 * version, or its layer is not in the artifact): it is dropped. */
static int foreign_layer(const struct cache_transfer *t, const struct foreign *f,
			 const struct oci_descriptor **d)
{
	struct cache_record r = {0};
	struct oci_digest key;
	struct ocb_error ignored = {0};
	int ret = 0;

	*d = NULL;
	if (oci_digest_parse(f->key, &key, &ignored) < 0 || record_from_json(f->rec, &key, &r, &ignored) < 0)
		return 0;
	if (r.empty_layer)
		ret = 1;
	for (size_t i = 0; !ret && i < t->to.n_layers; i++)
		if (oci_digest_equal(&t->to.layers[i].digest, &r.digest)) {
			*d = &t->to.layers[i];
			ret = 1;
		}
	cache_record_release(&r);
	return ret;
}

/* The merge: add the destination's other records that the keep policy
 * keeps, newest first. */
static int add_foreign(struct cache_transfer *t, int64_t now, struct artifact *a, struct ocb_error *err)
{
	cleanup_free struct foreign *v = NULL;
	const char *key;
	json_t *rec;
	size_t n = 0;

	if (!t->to.found || !json_object_size(t->to.records))
		return 0;
	if (!(v = calloc(json_object_size(t->to.records), sizeof(*v))))
		return nomem(err);
	json_object_foreach(t->to.records, key, rec)
	{
		json_t *when = json_object_get(t->to.exported, key);
		if (json_object_get(a->exported, key))
			continue; /* this build's record replaces it */
		if (!when)	  /* exported by an ocb that kept no times */
			when = json_object_get(rec, "created");
		v[n++] = (struct foreign){.key = key, .rec = rec, .when = json_integer_value(when)};
	}
	qsort(v, n, sizeof(*v), foreign_newest_first);
	for (size_t i = 0; i < n && json_array_size(a->records) < t->keep.max_records; i++) {
		const struct oci_descriptor *d = NULL;
		if (now - v[i].when > t->keep.max_age)
			break; /* this and every older one */
		if (foreign_layer(t, &v[i], &d) && artifact_add(a, v[i].key, v[i].rec, v[i].when, d, err) < 0)
			return -1;
	}
	return 0;
}

/* Write the artifact of t's keys merged with the destination's records into
 * dst; *top its manifest. */
static int write_artifact(struct cache_transfer *t, struct build_cache *c, struct oci_layout *dst,
			  struct oci_descriptor *top, struct ocb_error *err)
{
	struct artifact a = {.records = json_array(), .exported = json_object()};
	cleanup_json json_t *index = NULL;
	cleanup_free char *buf = NULL;
	struct oci_descriptor config = {0};
	struct oci_digest digest;
	int64_t now = (int64_t)time(NULL);
	int ret = -1;

	if (!a.records || !a.exported) {
		nomem(err);
		goto out;
	}
	for (size_t i = 0; i < t->n_keys; i++)
		if (add_key(t, c, dst, &t->keys[i], now, &a, err) < 0)
			goto out;
	if (add_foreign(t, now, &a, err) < 0)
		goto out;
	index = json_pack("{s:i, s:O, s:O}", "version", INDEX_VERSION, "records", a.records, "exported",
			  a.exported);
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
	oci_descriptor_array_free(a.layers, a.n_layers);
	json_decref(a.records);
	json_decref(a.exported);
	return ret;
}

static int export_to_dir(struct cache_transfer *t, struct build_cache *c, struct ocb_error *err)
{
	struct oci_layout l = {0};
	struct oci_descriptor top = {0};
	int ret = -1;

	if (oci_layout_open(&l, t->to.e.dir, true, err) < 0)
		return -1;
	if (write_artifact(t, c, &l, &top, err) == 0 &&
	    oci_layout_set_ref(&l, CACHE_TRANSFER_REF_NAME, &top, err) == 0)
		ret = 0;
	oci_descriptor_release(&top);
	oci_layout_release(&l);
	return ret;
}

/* The artifact is written to a layout under tmp_dir and pushed: the blobs
 * the registry has (the merged records', the hits' it holds) are not in the
 * layout, and the push's HEAD finds them there. */
static int export_to_registry(struct cache_transfer *t, struct build_cache *c, const char *tmp_dir,
			      struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	struct oci_layout l = {0};
	struct oci_descriptor top = {0};
	int ret = -1;

	if (build_private_mkdtemp(tmp_dir, "cache-export", &dir, err) < 0)
		return -1;
	if (oci_layout_open(&l, dir, true, err) == 0) {
		if (write_artifact(t, c, &l, &top, err) == 0 &&
		    cli_registry_push(&l, &top, &t->to.e.ref, t->tls_verify, err) == 0)
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

	if (!t || !t->has_to)
		return 0;
	pthread_mutex_lock(&t->lock);
	/* read now: another build may have exported since this one started */
	ret = load(t, &t->to, c, err);
	if (ret == 0)
		ret = t->to.e.registry ? export_to_registry(t, c, tmp_dir, err) : export_to_dir(t, c, err);
	pthread_mutex_unlock(&t->lock);
	if (ret < 0)
		return ocb_error_wrap(err, "--cache-to '%s'", t->to.e.spec);
	return 0;
}
