#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/digest.h"

static const char *empty_sha = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void test_digest_buffer_known_values(void **state)
{
	struct oci_digest d;

	assert_ok(oci_digest_buffer("", 0, &d, &test_err));
	assert_string_equal(d.str, empty_sha);
	assert_ok(oci_digest_buffer("abc", 3, &d, &test_err));
	assert_string_equal(d.str, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(oci_digest_hex(&d),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_digest_streaming_equals_oneshot(void **state)
{
	static char data[100000];
	struct oci_hasher h;
	struct oci_digest a, b;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	assert_ok(oci_digest_buffer(data, sizeof(data), &a, &test_err));
	assert_ok(oci_hasher_init(&h, &test_err));
	for (size_t off = 0; off < sizeof(data); off += 333)
		oci_hasher_update(&h, data + off, off + 333 > sizeof(data) ? sizeof(data) - off : 333);
	oci_hasher_final(&h, &b);
	oci_hasher_release(&h);
	assert_true(oci_digest_equal(&a, &b));
}

static void test_digest_parse_strict(void **state)
{
	struct oci_digest d;
	const char *bad[] = {
	    "",
	    "sha256:",
	    "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
	    "sha256:../../../../etc/passwd0000000000000000000000000000000000000000",
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85/",
	    " sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	};

	assert_ok(oci_digest_parse(empty_sha, &d, &test_err));
	assert_string_equal(d.str, empty_sha);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		assert_int_equal(oci_digest_parse(bad[i], &d, &err), -1);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_non_null(strstr(err.msg, "invalid digest"));
	}
	assert_false(oci_digest_is_valid(NULL));
}

static void test_digest_fd(void **state)
{
	char *dir = testutil_mkdtemp();
	char path[4096];
	struct oci_digest d;
	uint64_t size = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	testutil_write_file(path, "abc", 3);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_ok(oci_digest_fd(fd, &d, &size, &test_err));
	close(fd);
	assert_int_equal(size, 3);
	assert_string_equal(d.str, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	testutil_rmtree(dir);
	free(dir);
}

static void test_error_wrap_keeps_code(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	char buf[4096];

	assert_int_equal(ocb_error_set(&err, OCB_EDIGEST, 0, "blob '%s' does not match", "x"), -1);
	assert_int_equal(ocb_error_wrap(&err, "layer %d", 2), -1);
	assert_string_equal(err.msg, "layer 2: blob 'x' does not match");
	assert_int_equal(err.code, OCB_EDIGEST);
	errno = ENOENT;
	ocb_error_sys(&err, "open '%s'", "/nope");
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_string_equal(ocb_error_format(&err, buf, sizeof(buf)),
			    "open '/nope': No such file or directory");
	assert_int_equal(ocb_error_exit_code(&err), 2);
	err.code = OCB_EENV;
	assert_int_equal(ocb_error_exit_code(&err), 3);
	/* Corrupt, hostile or oversized input is an input error too. */
	err.code = OCB_EDIGEST;
	assert_int_equal(ocb_error_exit_code(&err), 2);
	err.code = OCB_EUNSAFE;
	assert_int_equal(ocb_error_exit_code(&err), 2);
	err.code = OCB_ELIMIT;
	assert_int_equal(ocb_error_exit_code(&err), 2);
	err.code = OCB_EBUILD;
	assert_int_equal(ocb_error_exit_code(&err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digest_buffer_known_values),
	    cmocka_unit_test(test_digest_streaming_equals_oneshot),
	    cmocka_unit_test(test_digest_parse_strict),
	    cmocka_unit_test(test_digest_fd),
	    cmocka_unit_test(test_error_wrap_keeps_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
