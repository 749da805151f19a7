#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "oci/ref.h"

#define DIG "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct good_case {
	const char *in;
	const char *full;
	const char *familiar;
	const char *local;
};

static void test_ref_normalises_like_docker(void **state)
{
	static const struct good_case cases[] = {
	    {"debian", "docker.io/library/debian:latest", "debian:latest", "docker.io/library/debian:latest"},
	    {"debian:bookworm-slim", "docker.io/library/debian:bookworm-slim", "debian:bookworm-slim",
	     "docker.io/library/debian:bookworm-slim"},
	    {"user/repo", "docker.io/user/repo:latest", "user/repo:latest", "docker.io/user/repo:latest"},
	    {"docker.io/debian", "docker.io/library/debian:latest", "debian:latest",
	     "docker.io/library/debian:latest"},
	    {"index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36",
	     "docker.io/library/busybox:1.36"},
	    {"localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest",
	     "localhost:5000/x:latest"},
	    {"localhost/x:1", "localhost/x:1", "localhost/x:1", "localhost/x:1"},
	    {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000",
	     "docker.io/library/localhost:5000"},
	    {"quay.io/a/b/c:v1.2_3", "quay.io/a/b/c:v1.2_3", "quay.io/a/b/c:v1.2_3", "quay.io/a/b/c:v1.2_3"},
	    {"Registry/app", "Registry/app:latest", "Registry/app:latest", "Registry/app:latest"},
	    {"127.0.0.1:5000/a.b_c__d---e:T", "127.0.0.1:5000/a.b_c__d---e:T",
	     "127.0.0.1:5000/a.b_c__d---e:T", "127.0.0.1:5000/a.b_c__d---e:T"},
	    {"debian@" DIG, "docker.io/library/debian@" DIG, "debian@" DIG, "docker.io/library/debian@" DIG},
	    {"debian:12@" DIG, "docker.io/library/debian:12@" DIG, "debian:12@" DIG,
	     "docker.io/library/debian:12"},
	    {"my-registry.example.com:443/team/app:_x", "my-registry.example.com:443/team/app:_x",
	     "my-registry.example.com:443/team/app:_x", "my-registry.example.com:443/team/app:_x"},
	    {"docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest",
	     "docker.io/library/a/b:latest"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_ref r;
		char *full, *fam, *local;

		assert_ok(oci_ref_parse(cases[i].in, &r, &test_err));
		full = oci_ref_full_name(&r);
		fam = oci_ref_familiar_name(&r);
		local = oci_ref_local_name(&r);
		assert_string_equal(full, cases[i].full);
		assert_string_equal(fam, cases[i].familiar);
		assert_string_equal(local, cases[i].local);
		free(full);
		free(fam);
		free(local);
		oci_ref_release(&r);
	}
}

static void test_ref_parts(void **state)
{
	struct oci_ref r;
	char *repo;

	assert_ok(oci_ref_parse("localhost:5000/ns/app:v2@" DIG, &r, &test_err));
	assert_string_equal(r.registry, "localhost:5000");
	assert_string_equal(r.repository, "ns/app");
	assert_string_equal(r.tag, "v2");
	assert_true(r.has_digest);
	assert_string_equal(r.digest.str, DIG);
	repo = oci_ref_repo_name(&r);
	assert_string_equal(repo, "localhost:5000/ns/app");
	free(repo);
	oci_ref_release(&r);

	assert_ok(oci_ref_parse("alpine@" DIG, &r, &test_err));
	assert_null(r.tag);
	oci_ref_release(&r);
}

static void test_ref_rejects(void **state)
{
	char long_tag[200], long_name[300];
	const char *bad[] = {
	    "",
	    "Debian",
	    "debian:",
	    ":latest",
	    "debian:-x",
	    "debian:.x",
	    "debian:a b",
	    "debian@sha256:abc",
	    "debian@sha512:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "debian@",
	    "@" DIG,
	    "a//b",
	    "/a",
	    "a/",
	    "a..b",
	    "a._b",
	    "_a",
	    "a_",
	    "a___b",
	    "-a",
	    "a-",
	    "user/Repo",
	    "localhost:/x",
	    "localhost:port/x",
	    "-bad.io/x",
	    "bad-.io/x",
	    "reg..io/x",
	    "reg.io:123456/x",
	    "a b",
	    "a\n",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "x:1:2",
	    "x/../y",
	    long_tag,
	    long_name,
	};

	memset(long_tag, 0, sizeof(long_tag));
	memcpy(long_tag, "x:", 2);
	memset(long_tag + 2, 't', 129);
	memset(long_name, 0, sizeof(long_name));
	memset(long_name, 'a', 250);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		struct oci_ref r = {0};

		if (oci_ref_parse(bad[i], &r, &err) == 0)
			fail_msg("accepted bad reference '%s'", bad[i]);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_non_null(strstr(err.msg, "invalid image reference"));
		assert_null(r.registry);
	}
}

static void test_ref_tag_limits(void **state)
{
	char tag[130];

	memset(tag, 'a', sizeof(tag));
	tag[128] = '\0';
	assert_true(oci_ref_tag_is_valid(tag));
	tag[128] = 'a';
	tag[129] = '\0';
	assert_false(oci_ref_tag_is_valid(tag));
	assert_true(oci_ref_tag_is_valid("_"));
	assert_true(oci_ref_tag_is_valid("1.0-rc.1_x"));
	assert_false(oci_ref_tag_is_valid("1/0"));
	assert_false(oci_ref_tag_is_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ref_normalises_like_docker),
	    cmocka_unit_test(test_ref_parts),
	    cmocka_unit_test(test_ref_rejects),
	    cmocka_unit_test(test_ref_tag_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
