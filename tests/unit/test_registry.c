/* The registry client's pure parts: WWW-Authenticate challenges, Location
 * resolution, origins, Range headers, the retry policy, local hosts. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "oci/registry_impl.h"

static void test_challenge_bearer(void **state)
{
	struct oci_registry_challenge c;

	assert_ok(oci_registry_parse_challenge(
	    "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	    "scope=\"repository:samalba/my-app:pull,push\"",
	    &c, &test_err));
	assert_int_equal(c.kind, REG_AUTH_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:samalba/my-app:pull,push");
	oci_registry_challenge_release(&c);

	/* spaces, unquoted values, escapes, unknown params, case */
	assert_ok(
	    oci_registry_parse_challenge("bearer  realm=http://127.0.0.1:1/t , error=\"invalid_token\", "
					 "service=\"a \\\"b\\\"\"",
					 &c, &test_err));
	assert_int_equal(c.kind, REG_AUTH_BEARER);
	assert_string_equal(c.realm, "http://127.0.0.1:1/t");
	assert_string_equal(c.service, "a \"b\"");
	assert_null(c.scope);
	oci_registry_challenge_release(&c);
}

static void test_challenge_basic_and_bad(void **state)
{
	struct oci_registry_challenge c;
	struct ocb_error err = OCB_ERROR_INIT;

	assert_ok(oci_registry_parse_challenge("Basic realm=\"Registry Realm\"", &c, &test_err));
	assert_int_equal(c.kind, REG_AUTH_BASIC);
	assert_string_equal(c.realm, "Registry Realm");
	oci_registry_challenge_release(&c);

	assert_int_equal(oci_registry_parse_challenge("Negotiate abc", &c, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_int_equal(oci_registry_parse_challenge("Bearer service=\"x\"", &c, &err), -1); /* no realm */
	assert_int_equal(oci_registry_parse_challenge("Bearer realm=\"unterminated", &c, &err), -1);
	assert_int_equal(oci_registry_parse_challenge("Bearer realm", &c, &err), -1);
	assert_int_equal(oci_registry_parse_challenge(NULL, &c, &err), -1);
	assert_int_equal(oci_registry_parse_challenge("", &c, &err), -1);
}

static void check_location(const char *base, const char *loc, const char *want)
{
	char *out = NULL;

	assert_ok(oci_registry_resolve_location(base, loc, &out, &test_err));
	assert_string_equal(out, want);
	free(out);
}

static void test_location(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	char *out = NULL;

	check_location("http://127.0.0.1:5000/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u1?_state=x",
		       "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=x");
	check_location("https://r.example/v2/a/blobs/uploads/", "u2",
		       "https://r.example/v2/a/blobs/uploads/u2");
	check_location("https://r.example/v2/a/blobs/uploads/u1", "https://other.example/x?y=1",
		       "https://other.example/x?y=1");
	check_location("https://r.example/v2/a/", "//cdn.example/blob", "https://cdn.example/blob");
	assert_int_equal(
	    oci_registry_resolve_location("https://r.example/", "file:///etc/passwd", &out, &err), -1);
	assert_null(out);
	assert_int_equal(
	    oci_registry_resolve_location("https://r.example/", "ftp://x/y?sig=SECRET", &out, &err), -1);
	assert_null(strstr(err.msg, "SECRET")); /* signatures in queries stay out of messages */
	assert_non_null(strstr(err.msg, "ftp://x/y"));
}

static void test_same_origin(void **state)
{
	assert_true(oci_registry_same_origin("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/x?y"));
	assert_true(oci_registry_same_origin("https://R.example/v2/", "https://r.example:443/"));
	assert_false(oci_registry_same_origin("http://127.0.0.1:5000/", "http://127.0.0.2:5000/"));
	assert_false(oci_registry_same_origin("http://127.0.0.1:5000/", "http://127.0.0.1:5001/"));
	assert_false(oci_registry_same_origin("http://r.example/", "https://r.example/"));
	assert_false(oci_registry_same_origin("not a url", "http://r.example/"));
}

static void test_range(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	uint64_t next = 7;

	assert_ok(oci_registry_parse_range("0-1234", &next, &test_err));
	assert_int_equal(next, 1235);
	assert_ok(oci_registry_parse_range("bytes=0-0", &next, &test_err));
	assert_int_equal(next, 1);
	next = 7;
	assert_int_equal(oci_registry_parse_range("5-10", &next, &err), -1);
	assert_int_equal(oci_registry_parse_range("0-", &next, &err), -1);
	assert_int_equal(oci_registry_parse_range("0-12x", &next, &err), -1);
	assert_int_equal(oci_registry_parse_range("0--1", &next, &err), -1);
	assert_int_equal(oci_registry_parse_range("0-18446744073709551615", &next, &err), -1);
	assert_int_equal(next, 7);
}

static void test_retry_policy(void **state)
{
	long d = -1, prev = 0;

	/* 5xx and 429 retry with growing delays; 4xx does not */
	for (int a = 1; a < REG_MAX_ATTEMPTS; a++) {
		assert_true(oci_registry_retry_policy(a, 503, 0, NULL, &d));
		assert_true(d > prev);
		prev = d;
	}
	assert_false(oci_registry_retry_policy(REG_MAX_ATTEMPTS, 503, 0, NULL, &d));
	assert_false(oci_registry_retry_policy(1, 404, 0, NULL, &d));
	assert_false(oci_registry_retry_policy(1, 401, 0, NULL, &d));
	assert_true(oci_registry_retry_policy(1, 500, 0, NULL, &d));
	/* Retry-After is honoured, a long one gives up */
	assert_true(oci_registry_retry_policy(1, 429, 0, "2", &d));
	assert_int_equal(d, 2000);
	assert_false(oci_registry_retry_policy(1, 429, 0, "3600", &d));
	assert_true(oci_registry_retry_policy(1, 429, 0, "Wed, 21 Oct 2015 07:28:00 GMT", &d));
	assert_true(d > 0 && d < 10000);
	/* transport failures: resets retry, TLS and DNS failures do not */
	assert_true(oci_registry_retry_policy(1, 0, CURLE_RECV_ERROR, NULL, &d));
	assert_true(oci_registry_retry_policy(1, 0, CURLE_PARTIAL_FILE, NULL, &d));
	assert_true(oci_registry_retry_policy(1, 0, CURLE_COULDNT_CONNECT, NULL, &d));
	assert_false(oci_registry_retry_policy(1, 0, CURLE_PEER_FAILED_VERIFICATION, NULL, &d));
	assert_false(oci_registry_retry_policy(1, 0, CURLE_COULDNT_RESOLVE_HOST, NULL, &d));
}

static void test_local_hosts(void **state)
{
	assert_true(oci_registry_host_is_local("localhost"));
	assert_true(oci_registry_host_is_local("localhost:5000"));
	assert_true(oci_registry_host_is_local("127.0.0.1:5000"));
	assert_true(oci_registry_host_is_local("127.1.2.3"));
	assert_true(oci_registry_host_is_local("[::1]:5000"));
	assert_false(oci_registry_host_is_local("127.example.com"));
	assert_false(oci_registry_host_is_local("localhost.example.com"));
	assert_false(oci_registry_host_is_local("10.0.0.1:5000"));
	assert_false(oci_registry_host_is_local("docker.io"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_challenge_bearer),
	    cmocka_unit_test(test_challenge_basic_and_bad),
	    cmocka_unit_test(test_location),
	    cmocka_unit_test(test_same_origin),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_retry_policy),
	    cmocka_unit_test(test_local_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
