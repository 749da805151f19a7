/* The small value parsers of recipes/: durations, signals, ports, platforms,
 * context paths. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "recipes/recipe_duration.h"
#include "recipes/recipe_path.h"
#include "recipes/recipe_platform.h"
#include "recipes/recipe_port.h"
#include "recipes/recipe_signal.h"

static void test_duration_good(void **state)
{
	static const struct {
		const char *s;
		int64_t ns;
	} cases[] = {
	    {"0", 0},
	    {"30s", 30000000000LL},
	    {"1m30s", 90000000000LL},
	    {"500ms", 500000000LL},
	    {"1h", 3600000000000LL},
	    {"2m", 120000000000LL},
	    {"10us", 10000},
	    {"10\xc2\xb5s", 10000},
	    {"7ns", 7},
	    {"1.5s", 1500000000LL},
	    {".5m", 30000000000LL},
	    {"1h2m3s4ms5us6ns", 3723004005006LL},
	    {"+5s", 5000000000LL},
	    {"2562047h47m16.854775807s", INT64_MAX},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ns = -1;
		assert_ok(recipe_duration_parse(cases[i].s, &ns, &test_err));
		assert_int_equal(ns, cases[i].ns);
	}
}

static void test_duration_bad(void **state)
{
	const char *bad[] = {"",
			     "30",
			     "s",
			     "-1s",
			     "1x",
			     "1 s",
			     "1.s.",
			     "3d",
			     "2562047h47m16.854775808s",
			     "99999999999999999999h",
			     "1s ",
			     "."};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		int64_t ns = 42;
		assert_int_equal(recipe_duration_parse(bad[i], &ns, &err), -1);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_non_null(strstr(err.msg, "invalid duration"));
		assert_int_equal(ns, 42);
	}
}

static void test_duration_format(void **state)
{
	char buf[64];
	assert_string_equal(recipe_duration_format(90000000000LL, buf, sizeof(buf)), "1m30s");
	assert_string_equal(recipe_duration_format(500000000LL, buf, sizeof(buf)), "500ms");
	assert_string_equal(recipe_duration_format(3600000000000LL, buf, sizeof(buf)), "1h0m0s");
	assert_string_equal(recipe_duration_format(1500000000LL, buf, sizeof(buf)), "1.5s");
	assert_string_equal(recipe_duration_format(0, buf, sizeof(buf)), "0s");
	assert_string_equal(recipe_duration_format(10000, buf, sizeof(buf)), "10us");
}

static void test_signal(void **state)
{
	static const struct {
		const char *s;
		int num;
		const char *canon;
	} cases[] = {
	    {"SIGTERM", 15, "SIGTERM"},
	    {"TERM", 15, "SIGTERM"},
	    {"sigkill", 9, "SIGKILL"},
	    {"quit", 3, "SIGQUIT"},
	    {"9", 9, "9"},
	    {"SIGRTMIN+3", 37, "SIGRTMIN+3"},
	    {"RTMAX-1", 63, "SIGRTMAX-1"},
	    {"SIGWINCH", 28, "SIGWINCH"},
	    {"64", 64, "64"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char canon[32];
		int num = 0;
		assert_ok(recipe_signal_parse(cases[i].s, &num, canon, sizeof(canon), &test_err));
		assert_int_equal(num, cases[i].num);
		assert_string_equal(canon, cases[i].canon);
	}
	const char *bad[] = {"", "0", "65", "SIGFOO", "SIG", "TERM ", "RTMIN+31", "RTMAX-31x", "-1", "1000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		int num = 0;
		assert_int_equal(recipe_signal_parse(bad[i], &num, NULL, 0, &err), -1);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_non_null(strstr(err.msg, "invalid signal"));
	}
}

static void test_port(void **state)
{
	struct recipe_port p;

	assert_ok(recipe_port_parse("80", &p, &test_err));
	assert_int_equal(p.first, 80);
	assert_int_equal(p.last, 80);
	assert_string_equal(p.proto, "tcp");
	assert_ok(recipe_port_parse("53/udp", &p, &test_err));
	assert_string_equal(p.proto, "udp");
	assert_ok(recipe_port_parse("8000-8010/TCP", &p, &test_err));
	assert_int_equal(p.first, 8000);
	assert_int_equal(p.last, 8010);
	assert_string_equal(p.proto, "tcp");
	char buf[32];
	assert_string_equal(recipe_port_format(&p, buf, sizeof(buf)), "8000-8010/tcp");
	assert_ok(recipe_port_parse("65535/sctp", &p, &test_err));
	assert_string_equal(recipe_port_format(&p, buf, sizeof(buf)), "65535/sctp");
	assert_string_equal(p.proto, "sctp");
	const char *bad[] = {"",      "0",   "65536", "80/", "80/icmp", "tcp",
			     "80-70", "80-", "-80",   " 80", "80 ",	"8o"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		assert_int_equal(recipe_port_parse(bad[i], &p, &err), -1);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_non_null(strstr(err.msg, "invalid port"));
	}
}

static void test_platform(void **state)
{
	static const struct {
		const char *s, *str, *arch, *variant;
	} cases[] = {
	    {"linux/amd64", "linux/amd64", "amd64", ""},    {"linux/x86_64", "linux/amd64", "amd64", ""},
	    {"linux/arm64", "linux/arm64", "arm64", ""},    {"linux/aarch64", "linux/arm64", "arm64", ""},
	    {"linux/arm64/v8", "linux/arm64", "arm64", ""}, {"linux/arm", "linux/arm/v7", "arm", "v7"},
	    {"linux/arm/v6", "linux/arm/v6", "arm", "v6"},  {"linux/riscv64", "linux/riscv64", "riscv64", ""},
	};
	struct recipe_platform p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ok(recipe_platform_parse(cases[i].s, &p, &test_err));
		assert_string_equal(p.str, cases[i].str);
		assert_string_equal(p.os, "linux");
		assert_string_equal(p.arch, cases[i].arch);
		assert_string_equal(p.variant, cases[i].variant);
	}
	const char *bad[] = {"",
			     "linux",
			     "linux/",
			     "windows/amd64",
			     "linux/arm65",
			     "linux/arm64/v7",
			     "linux/amd64/",
			     "linux/arm/v7/x",
			     "/amd64"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		assert_int_equal(recipe_platform_parse(bad[i], &p, &err), -1);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_non_null(strstr(err.msg, "invalid platform"));
	}
	assert_ok(recipe_platform_host(&p, &test_err));
	assert_string_equal(p.os, "linux");
}

static void test_platforms_select(void **state)
{
	const char *recipe[] = {"linux/arm64", "linux/amd64"};
	struct recipe_platform *p = NULL, host;
	size_t n = 0;

	assert_ok(recipe_platforms_select("linux/arm/v7,linux/x86_64", NULL, recipe, 2, &p, &n, &test_err));
	assert_int_equal(n, 2);
	assert_string_equal(p[0].str, "linux/arm/v7");
	assert_string_equal(p[1].str, "linux/amd64");
	free(p);
	assert_ok(recipe_platforms_select(NULL, "all", recipe, 2, &p, &n, &test_err));
	assert_int_equal(n, 2);
	assert_string_equal(p[0].str, "linux/amd64");
	assert_string_equal(p[1].str, "linux/arm64");
	free(p);
	assert_ok(recipe_platforms_select(NULL, "arm64", recipe, 2, &p, &n, &test_err));
	assert_int_equal(n, 1);
	assert_string_equal(p[0].str, "linux/arm64");
	free(p);
	assert_ok(recipe_platforms_select(NULL, NULL, recipe, 2, &p, &n, &test_err));
	assert_int_equal(n, 2);
	assert_string_equal(p[0].str, "linux/arm64");
	free(p);
	assert_ok(recipe_platforms_select(NULL, NULL, NULL, 0, &p, &n, &test_err));
	assert_int_equal(n, 1);
	assert_ok(recipe_platform_host(&host, &test_err));
	assert_string_equal(p[0].str, host.str);
	free(p);

	const char *bad_lists[] = {"linux/amd64,linux/x86_64", "", ",", "linux/sparc"};
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		p = NULL;
		assert_int_equal(recipe_platforms_select(bad_lists[i], NULL, NULL, 0, &p, &n, &err), -1);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_null(p);
	}
	struct ocb_error err = OCB_ERROR_INIT;
	assert_int_equal(recipe_platforms_select("linux/amd64", "arm64", NULL, 0, &p, &n, &err), -1);
	assert_string_equal(err.msg, "--arch and --platform cannot be used together");
	assert_int_equal(recipe_platforms_select(NULL, "x86", NULL, 0, &p, &n, &err), -1);
	assert_string_equal(err.msg, "--arch 'x86': expected amd64, arm64 or all");
}

static void test_path_clean(void **state)
{
	static const char *cases[][2] = {
	    {"", "."},
	    {".", "."},
	    {"a/b", "a/b"},
	    {"a//b/", "a/b"},
	    {"./a/./b", "a/b"},
	    {"a/../b", "b"},
	    {"../a", "../a"},
	    {"a/../../b", "../b"},
	    {"/", "/"},
	    {"/..", "/"},
	    {"/a/../..", "/"},
	    {"//a//", "/a"},
	    {"a/b/../../..", ".."},
	    {"..", ".."},
	    {"../../x/..", "../.."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		assert_ok(recipe_path_clean(cases[i][0], &out, &test_err));
		assert_string_equal(out, cases[i][1]);
		free(out);
	}
}

static void test_path_context_source(void **state)
{
	static const char *good[][2] = {
	    {"backend/", "backend"},
	    {"/etc/nginx.conf", "etc/nginx.conf"},
	    {"./", "."},
	    {"/", "."},
	    {"a/../b", "b"},
	    {"*.go", "*.go"},
	    {"a/..", "."},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *out = NULL;
		assert_ok(recipe_path_context_source(good[i][0], &out, &test_err));
		assert_string_equal(out, good[i][1]);
		free(out);
	}
	const char *bad[] = {"..", "../x", "a/../../x", "/../x", "./..", "a/b/../../../c"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		char *out = NULL;
		assert_int_equal(recipe_path_context_source(bad[i], &out, &err), -1);
		assert_int_equal(err.code, OCB_EUNSAFE);
		assert_non_null(strstr(err.msg, "outside the build context"));
		assert_null(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_good),
	    cmocka_unit_test(test_duration_bad),
	    cmocka_unit_test(test_duration_format),
	    cmocka_unit_test(test_signal),
	    cmocka_unit_test(test_port),
	    cmocka_unit_test(test_platform),
	    cmocka_unit_test(test_platforms_select),
	    cmocka_unit_test(test_path_clean),
	    cmocka_unit_test(test_path_context_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
