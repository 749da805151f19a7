/* builder/cache_transfer.c through a directory (oci:DIR): what is exported,
 * the lazy import (a hit without its blob until materialized), a missing
 * source, a source that is not an ocb cache, malformed specs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "builder/cache.h"
#include "builder/cache_transfer.h"
#include "oci/blobstore.h"
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

static void export_keys(struct fixture *f, const char *const *keys)
{
	struct cache_transfer *t = NULL;

	assert_ok(cache_transfer_new(NULL, f->spec, true, &t, &test_err));
	for (size_t i = 0; keys[i]; i++) {
		struct oci_digest k = key_of(keys[i]);
		assert_ok(cache_transfer_note(t, &k, &test_err));
	}
	assert_ok(cache_transfer_export(t, f->a, f->tmp, &test_err));
	cache_transfer_free(t);
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

	assert_ok(cache_transfer_new(f->spec, NULL, true, &t, &test_err));
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

	assert_ok(cache_transfer_new(f->spec, NULL, true, &t, &test_err));
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
	assert_ok(cache_transfer_new(f->spec, NULL, true, &t, &test_err));
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

	assert_int_equal(cache_transfer_new("s3:bucket", NULL, true, &t, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
	assert_int_equal(cache_transfer_new(NULL, "oci:", true, &t, &test_err), -1);
	assert_int_equal(cache_transfer_new("registry:Not Valid", NULL, true, &t, &test_err), -1);
	/* neither: a transfer that does nothing */
	assert_ok(cache_transfer_new(NULL, NULL, true, &t, &test_err));
	assert_int_equal(cache_transfer_lookup(t, f->b, &k, &r, &test_err), 0);
	assert_ok(cache_transfer_note(t, &k, &test_err));
	assert_ok(cache_transfer_export(t, f->b, f->tmp, &test_err));
	cache_transfer_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip_is_lazy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_holds_each_blob_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_source_imports_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_specs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
