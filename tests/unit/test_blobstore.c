#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/blobstore.h"

static const char *abc_sha = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

struct fixture {
	char *dir;
	char *root;
	struct oci_blobstore bs;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = testutil_mkdtemp();
	if (asprintf(&f->root, "%s/store/nested", f->dir) < 0)
		return -1;
	assert_ok(oci_blobstore_open(&f->bs, f->root, true, &test_err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	oci_blobstore_release(&f->bs);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f->root);
	free(f);
	return 0;
}

static char *blob_path(struct fixture *f, const struct oci_digest *d)
{
	char *p = NULL;

	if (asprintf(&p, "%s/blobs/sha256/%s", f->root, oci_digest_hex(d)) < 0)
		fail_msg("asprintf");
	return p;
}

/* Number of entries in blobs/sha256 (temp files included). */
static int count_blob_dir(struct fixture *f)
{
	char *p = NULL;
	DIR *dir;
	struct dirent *de;
	int n = 0;

	assert_true(asprintf(&p, "%s/blobs/sha256", f->root) > 0);
	dir = opendir(p);
	assert_non_null(dir);
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(dir);
	free(p);
	return n;
}

static void test_create_writes_layout_file(void **state)
{
	struct fixture *f = *state;
	char buf[128] = {0};
	char *p = NULL;
	int fd;

	assert_true(asprintf(&p, "%s/oci-layout", f->root) > 0);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "{\"imageLayoutVersion\":\"1.0.0\"}");
	/* Reopening with create keeps an existing oci-layout. */
	testutil_write_file(p, "{\"imageLayoutVersion\":\"1.0.0\" }", 31);
	struct oci_blobstore again;
	assert_ok(oci_blobstore_open(&again, f->root, true, &test_err));
	oci_blobstore_release(&again);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 31);
	close(fd);
	free(p);
}

static void test_open_missing_store(void **state)
{
	struct fixture *f = *state;
	struct oci_blobstore bs = {0};
	struct ocb_error err = OCB_ERROR_INIT;
	char *p = NULL;

	assert_true(asprintf(&p, "%s/nope", f->dir) > 0);
	assert_int_equal(oci_blobstore_open(&bs, p, false, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nope"));
	oci_blobstore_release(&bs); /* zeroed struct: no-op */
	free(p);
}

static void test_put_read_has(void **state)
{
	struct fixture *f = *state;
	struct oci_digest d, d2;
	char *buf = NULL;
	size_t len = 0;

	assert_ok(oci_blobstore_put(&f->bs, "abc", 3, &d, &test_err));
	assert_string_equal(d.str, abc_sha);
	assert_true(oci_blobstore_has(&f->bs, &d));
	assert_ok(oci_blobstore_read(&f->bs, &d, 3, &buf, &len, &test_err));
	assert_int_equal(len, 3);
	assert_string_equal(buf, "abc");
	free(buf);
	/* An existing blob is success, and leaves no temp file behind. */
	assert_ok(oci_blobstore_put(&f->bs, "abc", 3, &d2, &test_err));
	assert_true(oci_digest_equal(&d, &d2));
	assert_int_equal(count_blob_dir(f), 1);
	assert_ok(oci_blobstore_verify(&f->bs, &d, &test_err));
}

static void test_read_limit(void **state)
{
	struct fixture *f = *state;
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_digest d;
	char *buf = NULL;
	size_t len = 0;

	assert_ok(oci_blobstore_put(&f->bs, "abc", 3, &d, &test_err));
	assert_int_equal(oci_blobstore_read(&f->bs, &d, 2, &buf, &len, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	assert_null(buf);
}

static void test_missing_blob(void **state)
{
	struct fixture *f = *state;
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_digest d;
	char *buf = NULL;
	size_t len;

	assert_ok(oci_digest_parse(abc_sha, &d, &test_err));
	assert_false(oci_blobstore_has(&f->bs, &d));
	assert_int_equal(oci_blobstore_read(&f->bs, &d, 100, &buf, &len, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_non_null(strstr(err.msg, abc_sha));
	ocb_error_clear(&err);
	assert_int_equal(oci_blobstore_remove(&f->bs, &d, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
}

static void test_corrupt_blob_detected(void **state)
{
	struct fixture *f = *state;
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_digest d;
	char *buf = NULL, *p;
	size_t len;

	assert_ok(oci_blobstore_put(&f->bs, "abc", 3, &d, &test_err));
	p = blob_path(f, &d);
	chmod(p, 0644);
	testutil_write_file(p, "abd", 3); /* one flipped byte */
	free(p);
	assert_int_equal(oci_blobstore_read(&f->bs, &d, 100, &buf, &len, &err), -1);
	assert_int_equal(err.code, OCB_EDIGEST);
	assert_non_null(strstr(err.msg, abc_sha));
	assert_null(buf);
	ocb_error_clear(&err);
	assert_int_equal(oci_blobstore_verify(&f->bs, &d, &err), -1);
	assert_int_equal(err.code, OCB_EDIGEST);
	assert_non_null(strstr(err.msg, abc_sha));
}

static void test_writer_expected_digest(void **state)
{
	struct fixture *f = *state;
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_blob_writer *w;
	struct oci_digest want, got;
	uint64_t size = 0;

	assert_ok(oci_digest_parse(abc_sha, &want, &test_err));
	/* Wrong content: refused, nothing stored, no temp file left. */
	assert_ok(oci_blob_writer_open(&f->bs, &w, &test_err));
	assert_ok(oci_blob_writer_write(w, "abd", 3, &test_err));
	assert_int_equal(oci_blob_writer_commit(w, &want, 3, &got, &size, &err), -1);
	assert_int_equal(err.code, OCB_EDIGEST);
	assert_non_null(strstr(err.msg, abc_sha));
	assert_int_equal(count_blob_dir(f), 0);
	/* Right content, wrong size. */
	ocb_error_clear(&err);
	assert_ok(oci_blob_writer_open(&f->bs, &w, &test_err));
	assert_ok(oci_blob_writer_write(w, "abc", 3, &test_err));
	assert_int_equal(oci_blob_writer_commit(w, &want, 4, &got, &size, &err), -1);
	assert_int_equal(err.code, OCB_EDIGEST);
	assert_int_equal(count_blob_dir(f), 0);
	/* Streamed in pieces, verified. */
	assert_ok(oci_blob_writer_open(&f->bs, &w, &test_err));
	assert_ok(oci_blob_writer_write(w, "a", 1, &test_err));
	assert_ok(oci_blob_writer_write(w, "bc", 2, &test_err));
	assert_ok(oci_blob_writer_commit(w, &want, 3, &got, &size, &test_err));
	assert_string_equal(got.str, abc_sha);
	assert_int_equal(size, 3);
	assert_int_equal(count_blob_dir(f), 1);
}

static void test_writer_abort(void **state)
{
	struct fixture *f = *state;
	struct oci_blob_writer *w;

	assert_ok(oci_blob_writer_open(&f->bs, &w, &test_err));
	assert_ok(oci_blob_writer_write(w, "xyz", 3, &test_err));
	assert_int_equal(count_blob_dir(f), 1);
	oci_blob_writer_abort(w);
	assert_int_equal(count_blob_dir(f), 0);
	oci_blob_writer_abort(NULL);
}

static void test_copy_and_remove(void **state)
{
	struct fixture *f = *state;
	struct oci_blobstore other;
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_digest d;
	char *p = NULL;
	static char big[300000];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 31 + (i >> 9));
	assert_true(asprintf(&p, "%s/other", f->dir) > 0);
	assert_ok(oci_blobstore_open(&other, p, true, &test_err));
	assert_ok(oci_blobstore_put(&f->bs, big, sizeof(big), &d, &test_err));
	assert_ok(oci_blobstore_copy(&other, &f->bs, &d, &test_err));
	assert_ok(oci_blobstore_verify(&other, &d, &test_err));
	assert_ok(oci_blobstore_copy(&other, &f->bs, &d, &test_err)); /* already there */
	assert_ok(oci_blobstore_remove(&other, &d, &test_err));
	assert_false(oci_blobstore_has(&other, &d));
	/* A corrupt source is refused on the way. */
	char *bp = blob_path(f, &d);
	big[1000] ^= 1;
	testutil_write_file(bp, big, sizeof(big));
	free(bp);
	assert_int_equal(oci_blobstore_copy(&other, &f->bs, &d, &err), -1);
	assert_int_equal(err.code, OCB_EDIGEST);
	assert_false(oci_blobstore_has(&other, &d));
	oci_blobstore_release(&other);
	free(p);
}

static void test_invalid_digest_rejected(void **state)
{
	struct fixture *f = *state;
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_digest d;
	int fd = -1;
	uint64_t size;

	memset(&d, 0, sizeof(d));
	snprintf(d.str, sizeof(d.str), "sha256:../../../../etc/passwd");
	assert_false(oci_blobstore_has(&f->bs, &d));
	assert_int_equal(oci_blobstore_open_blob(&f->bs, &d, &fd, &size, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_int_equal(fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_writes_layout_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_missing_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_read_has, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_blob, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_blob_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_expected_digest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_and_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_digest_rejected, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
