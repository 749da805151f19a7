/* builder/cache_transfer.c through directories (oci:DIR): what is exported,
 * the lazy import (a hit without its blob until materialized), several
 * sources (the first that has a key wins, its blob comes from there), a
 * missing source, a source that is not an ocb cache, malformed specs, the
 * merging export and its keep policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "builder/cache.h"
#include "builder/cache_transfer.h"
#include "oci/blobstore.h"
#include "oci/json.h"
#include "oci/layout.h"

#define LAYER_TYPE "application/vnd.oci.image.layer.v1.tar+gzip"

struct fixture {
	char *tmp;
	char *spec; /* "oci:<tmp>/shared" */
	struct build_cache *a, *b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *da = NULL, *db = NULL;

	f->tmp = testutil_mkdtemp();
	if (asprintf(&da, "%s/a", f->tmp) < 0 || asprintf(&db, "%s/b", f->tmp) < 0 ||
	    asprintf(&f->spec, "oci:%s/shared", f->tmp) < 0)
		return -1;
	assert_ok(cache_open(&f->a, da, &test_err));
	assert_ok(cache_open(&f->b, db, &test_err));
	free(da);
	free(db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cache_close(f->a);
	cache_close(f->b);
	testutil_rmtree(f->tmp);
	free(f->tmp);
	free(f->spec);
	free(f);
	return 0;
}

static struct oci_digest key_of(const char *s)
{
	struct cache_key k;
	struct oci_digest out;

	cache_key_init(&k);
	cache_key_add_str(&k, "test", s);
	assert_ok(cache_key_final(&k, &out, &test_err));
	return out;
}

/* key -> a fresh blob holding text (or an empty layer when text is NULL). */
static struct oci_digest store(struct build_cache *c, const char *key, const char *text)
{
	struct oci_digest k = key_of(key), blob = {0};
	struct cache_record r = {.empty_layer = !text, .created_by = "RUN test"};

	if (text) {
		assert_ok(oci_blobstore_put(cache_blobstore(c), text, strlen(text), &blob, &test_err));
		r.media_type = LAYER_TYPE;
		r.digest = blob;
		r.size = strlen(text);
		r.diff_id = blob;
		r.tar_size = strlen(text);
	}
	assert_ok(cache_store(c, &k, &r, &test_err));
	return blob;
}

/* A transfer from (NULL or one spec) to (or NULL). */
static int transfer(const char *from, const char *to, struct cache_transfer **t)
{
	struct cache_transfer_options o = {
	    .from = &from, .n_from = from != NULL, .to = to, .tls_verify = true};

	return cache_transfer_new(&o, t, &test_err);
}

/* Export keys of c to spec under keep (NULL: the default policy). */
static void export_to(struct fixture *f, struct build_cache *c, const char *spec, const char *const *keys,
		      const struct cache_transfer_keep *keep)
{
	struct cache_transfer_options o = {.to = spec, .tls_verify = true, .keep = keep};
	struct cache_transfer *t = NULL;

	assert_ok(cache_transfer_new(&o, &t, &test_err));
	for (size_t i = 0; keys[i]; i++) {
		struct oci_digest k = key_of(keys[i]);
		assert_ok(cache_transfer_note(t, &k, &test_err));
	}
	assert_ok(cache_transfer_export(t, c, f->tmp, &test_err));
	cache_transfer_free(t);
}

static void export_keys(struct fixture *f, const char *const *keys)
{
	export_to(f, f->a, f->spec, keys, NULL);
}

/* "oci:<tmp>/name" */
static char *spec_of(struct fixture *f, const char *name)
{
	char *s = NULL;

	if (asprintf(&s, "oci:%s/%s", f->tmp, name) < 0)
		fail_msg("asprintf");
	return s;
}

/* Does the cache exported to spec hold key? */
static bool exported_has(const char *spec, const char *key)
{
	struct cache_transfer *t = NULL;
	struct cache_transfer_options o = {.from = &spec, .n_from = 1, .tls_verify = true};
	struct cache_record r = {0};
	struct oci_digest k = key_of(key);
	char *dir = testutil_mkdtemp(), *cdir = NULL;
	struct build_cache *c = NULL;
	int got;

	if (asprintf(&cdir, "%s/c", dir) < 0)
		fail_msg("asprintf");
	assert_ok(cache_open(&c, cdir, &test_err));
	assert_ok(cache_transfer_new(&o, &t, &test_err));
	got = cache_transfer_lookup(t, c, &k, &r, &test_err);
	assert_int_not_equal(got, -1);
	cache_record_release(&r);
	cache_transfer_free(t);
	cache_close(c);
	testutil_rmtree(dir);
	free(dir);
	free(cdir);
	return got == 1;
}

/* Rewrite the index exported to dir: every record last exported at when. */
static void age_export(const char *dir, int64_t when)
{
	struct oci_layout l = {0};
	struct oci_descriptor d = {0}, config = {0}, top = {0};
	struct oci_manifest m = {0};
	char *buf = NULL, *out = NULL;
	size_t len = 0;
	json_t *index = NULL, *v;
	const char *key;
	struct oci_digest digest;

	assert_ok(oci_layout_open(&l, dir, false, &test_err));
	assert_ok(oci_layout_lookup(&l, CACHE_TRANSFER_REF_NAME, &d, NULL, &test_err));
	assert_ok(oci_layout_read_blob(&l, &d, &buf, &len, &test_err));
	assert_ok(oci_manifest_parse(buf, len, &m, &test_err));
	free(buf);
	assert_ok(oci_layout_read_blob(&l, &m.config, &buf, &len, &test_err));
	assert_ok(oci_json_load(buf, len, CACHE_TRANSFER_INDEX_MAX, "index", &index, &test_err));
	json_object_foreach(json_object_get(index, "exported"), key, v)
	{
		json_integer_set(v, when);
	}
	out = json_dumps(index, JSON_COMPACT | JSON_SORT_KEYS);
	assert_ok(oci_blobstore_put(&l.bs, out, strlen(out), &digest, &test_err));
	assert_ok(oci_descriptor_init(&config, CACHE_TRANSFER_CONFIG_TYPE, &digest, (int64_t)strlen(out),
				      &test_err));
	assert_ok(oci_layout_put_manifest(&l, &config, m.layers, m.n_layers, NULL, NULL, &top, &test_err));
	assert_ok(oci_layout_set_ref(&l, CACHE_TRANSFER_REF_NAME, &top, &test_err));
	free(buf);
	free(out);
	json_decref(index);
	oci_manifest_release(&m);
	oci_descriptor_release(&d);
	oci_descriptor_release(&config);
	oci_descriptor_release(&top);
	oci_layout_release(&l);
}

static void test_round_trip_is_lazy(void **state)
{
	struct fixture *f = *state;
	const char *const keys[] = {"layer", "empty", "layer", "never-stored", NULL};
	struct cache_transfer *t = NULL;
	struct cache_record r = {0};
	struct oci_digest blob = store(f->a, "layer", "layer bytes");
	struct oci_digest k;

	store(f->a, "empty", NULL);
	store(f->a, "not-noted", "other bytes");
	export_keys(f, keys);

	assert_ok(transfer(f->spec, NULL, &t));
	/* a hit at once, the blob not downloaded yet */
	k = key_of("layer");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 1);
	assert_string_equal(r.digest.str, blob.str);
	assert_string_equal(r.created_by, "RUN test");
	cache_record_release(&r);
	assert_false(oci_blobstore_has(cache_blobstore(f->b), &blob));
	assert_int_equal(cache_lookup(f->b, &k, &r, &test_err), -1);
	/* read: downloaded and recorded locally */
	assert_ok(cache_transfer_materialize(t, f->b, &blob, &test_err));
	assert_true(oci_blobstore_has(cache_blobstore(f->b), &blob));
	assert_ok(cache_lookup(f->b, &k, &r, &test_err));
	assert_string_equal(r.digest.str, blob.str);
	cache_record_release(&r);

	k = key_of("empty");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 1);
	assert_true(r.empty_layer);
	cache_record_release(&r);
	k = key_of("not-noted");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 0);
	k = key_of("never-stored");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 0);
	cache_transfer_free(t);
}

static void test_export_holds_each_blob_once(void **state)
{
	struct fixture *f = *state;
	const char *const keys[] = {"one", "two", NULL};
	struct oci_layout l = {0};
	struct oci_descriptor d = {0};
	char *dir = NULL, *buf = NULL;
	size_t len = 0;

	store(f->a, "one", "same bytes");
	store(f->a, "two", "same bytes");
	export_keys(f, keys);
	if (asprintf(&dir, "%s/shared", f->tmp) < 0)
		fail_msg("asprintf");
	assert_ok(oci_layout_open(&l, dir, false, &test_err));
	assert_ok(oci_layout_lookup(&l, CACHE_TRANSFER_REF_NAME, &d, NULL, &test_err));
	assert_ok(oci_layout_read_blob(&l, &d, &buf, &len, &test_err));
	assert_non_null(strstr(buf, CACHE_TRANSFER_CONFIG_TYPE));
	assert_non_null(strstr(buf, LAYER_TYPE));
	assert_null(strstr(strstr(buf, LAYER_TYPE) + 1, LAYER_TYPE)); /* one layer for both records */
	free(buf);
	free(dir);
	oci_descriptor_release(&d);
	oci_layout_release(&l);
}

static void test_missing_source_imports_nothing(void **state)
{
	struct fixture *f = *state;
	struct cache_transfer *t = NULL;
	struct cache_record r = {0};
	struct oci_digest k = key_of("x");

	assert_ok(transfer(f->spec, NULL, &t));
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 0);
	assert_ok(cache_transfer_materialize(t, f->b, &k, &test_err));
	cache_transfer_free(t);
}

static void test_not_a_cache(void **state)
{
	struct fixture *f = *state;
	struct cache_transfer *t = NULL;
	struct cache_record r = {0};
	struct oci_layout l = {0};
	struct oci_descriptor d = {0};
	struct oci_digest k = key_of("x");

	assert_ok(oci_layout_open(&l, f->spec + 4, true, &test_err));
	testutil_make_image(&l, "linux/amd64", "hi", &d);
	assert_ok(oci_layout_set_ref(&l, CACHE_TRANSFER_REF_NAME, &d, &test_err));
	assert_ok(transfer(f->spec, NULL, &t));
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	assert_non_null(strstr(test_err.msg, "not an ocb cache"));
	/* loaded once: a second lookup fails the same way, a read fetches nothing */
	ocb_error_clear(&test_err);
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), -1);
	assert_non_null(strstr(test_err.msg, "not an ocb cache"));
	assert_ok(cache_transfer_materialize(t, f->b, &k, &test_err));
	cache_transfer_free(t);
	oci_descriptor_release(&d);
	oci_layout_release(&l);
}

static void test_specs(void **state)
{
	struct cache_transfer *t = NULL;
	struct oci_digest k = key_of("x");
	struct cache_record r = {0};
	struct fixture *f = *state;

	assert_int_equal(transfer("s3:bucket", NULL, &t), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	assert_int_equal(transfer(NULL, "oci:", &t), -1);
	assert_int_equal(transfer("registry:Not Valid", NULL, &t), -1);
	/* neither: a transfer that does nothing */
	assert_ok(transfer(NULL, NULL, &t));
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 0);
	assert_ok(cache_transfer_note(t, &k, &test_err));
	assert_ok(cache_transfer_export(t, f->b, f->tmp, &test_err));
	cache_transfer_free(t);
}

/* Two sources, each with another stage's records: both hit; a key both hold
 * comes from the first; a layer is downloaded from the source whose record
 * names it. */
static void test_several_sources(void **state)
{
	struct fixture *f = *state;
	const char *const one[] = {"stage1", "both", NULL};
	const char *const two[] = {"stage2", "both", NULL};
	char *s1 = spec_of(f, "s1"), *s2 = spec_of(f, "s2");
	const char *from[] = {s1, s2};
	struct cache_transfer_options o = {.from = from, .n_from = 2, .tls_verify = true};
	struct cache_transfer *t = NULL;
	struct cache_record r = {0};
	struct oci_digest b1, b2, both1, both2, k;

	b1 = store(f->a, "stage1", "stage one");
	both1 = store(f->a, "both", "both, first source");
	export_to(f, f->a, s1, one, NULL);
	b2 = store(f->a, "stage2", "stage two");
	both2 = store(f->a, "both", "both, second source");
	export_to(f, f->a, s2, two, NULL);

	assert_ok(cache_transfer_new(&o, &t, &test_err));
	k = key_of("stage1");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 1);
	assert_string_equal(r.digest.str, b1.str);
	cache_record_release(&r);
	k = key_of("stage2");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 1);
	assert_string_equal(r.digest.str, b2.str);
	cache_record_release(&r);
	k = key_of("both");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 1);
	assert_string_equal(r.digest.str, both1.str);
	cache_record_release(&r);

	/* stage2's layer only the second source has */
	assert_ok(cache_transfer_materialize(t, f->b, &b2, &test_err));
	assert_true(oci_blobstore_has(cache_blobstore(f->b), &b2));
	k = key_of("stage2");
	assert_ok(cache_lookup(f->b, &k, &r, &test_err));
	cache_record_release(&r);
	/* the second source's record of "both" is shadowed: nothing to fetch */
	assert_ok(cache_transfer_materialize(t, f->b, &both2, &test_err));
	assert_false(oci_blobstore_has(cache_blobstore(f->b), &both2));
	assert_ok(cache_transfer_materialize(t, f->b, &both1, &test_err));
	k = key_of("both");
	assert_ok(cache_lookup(f->b, &k, &r, &test_err));
	assert_string_equal(r.digest.str, both1.str);
	cache_record_release(&r);
	cache_transfer_free(t);
	free(s1);
	free(s2);
}

/* A missing source among others imports nothing; the others still hit. */
static void test_missing_source_among_others(void **state)
{
	struct fixture *f = *state;
	const char *const keys[] = {"layer", NULL};
	char *missing = spec_of(f, "missing");
	const char *from[] = {missing, f->spec};
	struct cache_transfer_options o = {.from = from, .n_from = 2, .tls_verify = true};
	struct cache_transfer *t = NULL;
	struct cache_record r = {0};
	struct oci_digest k = key_of("layer");

	store(f->a, "layer", "layer bytes");
	export_keys(f, keys);
	assert_ok(cache_transfer_new(&o, &t, &test_err));
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 1);
	cache_record_release(&r);
	cache_transfer_free(t);
	free(missing);
}

static void test_too_many_sources(void **state)
{
	struct fixture *f = *state;
	const char *from[CACHE_TRANSFER_FROM_MAX + 1];
	struct cache_transfer_options o = {
	    .from = from, .n_from = CACHE_TRANSFER_FROM_MAX, .tls_verify = true};
	struct cache_transfer *t = NULL;

	for (size_t i = 0; i <= CACHE_TRANSFER_FROM_MAX; i++)
		from[i] = f->spec;
	assert_ok(cache_transfer_new(&o, &t, &test_err));
	cache_transfer_free(t);
	o.n_from++;
	assert_int_equal(cache_transfer_new(&o, &t, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	/* a bad one among good ones */
	from[3] = "oci:";
	o.n_from = 5;
	assert_int_equal(cache_transfer_new(&o, &t, &test_err), -1);
}

/* Two builds exporting to the same place keep each other's records; a
 * build's own record replaces the old one of its key. */
static void test_export_merges(void **state)
{
	struct fixture *f = *state;
	const char *const first[] = {"app1", "shared", NULL};
	const char *const second[] = {"app2", "shared", NULL};
	struct cache_transfer *t = NULL;
	struct cache_record r = {0};
	struct oci_digest k = key_of("shared"), fresh;

	store(f->a, "app1", "app one");
	store(f->a, "shared", "shared, old");
	export_keys(f, first);
	store(f->b, "app2", "app two");
	fresh = store(f->b, "shared", "shared, new");
	export_to(f, f->b, f->spec, second, NULL);

	assert_true(exported_has(f->spec, "app1"));
	assert_true(exported_has(f->spec, "app2"));
	assert_ok(transfer(f->spec, NULL, &t));
	assert_int_equal(cache_transfer_lookup(t, f->a, &k, &r, &test_err), 1);
	assert_string_equal(r.digest.str, fresh.str);
	cache_record_release(&r);
	/* app1's layer came along in the merged artifact */
	k = key_of("app1");
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 1);
	assert_ok(cache_transfer_materialize(t, f->b, &r.digest, &test_err));
	assert_true(oci_blobstore_has(cache_blobstore(f->b), &r.digest));
	cache_record_release(&r);
	cache_transfer_free(t);
}

/* The keep policy: records not this build's and exported longer ago than
 * max_age go; of the rest, the newest fill the index up to max_records. */
static void test_export_keep_policy(void **state)
{
	struct fixture *f = *state;
	const char *const old[] = {"old1", "old2", NULL};
	const char *const mid[] = {"mid1", "mid2", NULL};
	const char *const now[] = {"now", NULL};
	const struct cache_transfer_keep keep = {.max_age = 3600, .max_records = 3};
	char *dir = NULL;

	if (asprintf(&dir, "%s/shared", f->tmp) < 0)
		fail_msg("asprintf");
	store(f->a, "old1", "o1");
	store(f->a, "old2", NULL);
	store(f->a, "mid1", "m1");
	store(f->a, "mid2", "m2");
	store(f->a, "now", "n");
	export_to(f, f->a, f->spec, old, &keep);
	age_export(dir, (int64_t)time(NULL) - 7200); /* beyond max_age */
	export_to(f, f->a, f->spec, mid, &keep);
	assert_true(exported_has(f->spec, "mid1"));
	assert_false(exported_has(f->spec, "old1"));
	assert_false(exported_has(f->spec, "old2"));
	age_export(dir, (int64_t)time(NULL) - 60);
	/* within max_age, but only 2 of the 3 records are left for them */
	export_to(f, f->a, f->spec, now,
		  &(const struct cache_transfer_keep){.max_age = 3600, .max_records = 2});
	assert_true(exported_has(f->spec, "now"));
	assert_int_equal(exported_has(f->spec, "mid1") + exported_has(f->spec, "mid2"), 1);
	/* the default policy keeps what this test exported a minute ago */
	export_to(f, f->a, f->spec, mid, NULL);
	assert_true(exported_has(f->spec, "now"));
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip_is_lazy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_holds_each_blob_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_source_imports_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_specs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_several_sources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_source_among_others, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_sources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_merges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_keep_policy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
