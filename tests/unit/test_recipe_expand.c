/* Variable expansion and variable scopes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "recipes/recipe_expand.h"

static struct recipe_vars outer = RECIPE_VARS_INIT, inner = RECIPE_VARS_INIT;

static int setup(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	if (recipe_vars_set(&outer, "TARGETARCH", "arm64", &err) < 0 ||
	    recipe_vars_set(&outer, "EMPTY", "", &err) < 0 ||
	    recipe_vars_set(&outer, "NAME", "outer", &err) < 0 ||
	    recipe_vars_set(&inner, "NAME", "inner", &err) < 0 ||
	    recipe_vars_set(&inner, "V", "1.2", &err) < 0)
		return -1;
	inner.parent = &outer;
	return 0;
}

static int teardown(void **state)
{
	recipe_vars_release(&inner);
	recipe_vars_release(&outer);
	return 0;
}

static void expect(const char *in, const char *want)
{
	char *out = NULL;
	if (recipe_expand(in, &inner, &out, &test_err) < 0)
		fail_msg("expanding '%s': %s", in, test_err.msg);
	if (strcmp(out, want) != 0)
		fail_msg("'%s' expanded to '%s', want '%s'", in, out, want);
	free(out);
}

static void test_expand_forms(void **state)
{
	expect("", "");
	expect("plain text", "plain text");
	expect("$TARGETARCH", "arm64");
	expect("${TARGETARCH}", "arm64");
	expect("go-$TARGETARCH.tar", "go-arm64.tar");
	expect("${TARGETARCH}64", "arm6464");
	expect("$TARGETARCH64", "");
	expect("$NAME", "inner");
	expect("${UNDEFINED}|$UNDEFINED|", "||");
	expect("${UNDEFINED:-def}", "def");
	expect("${EMPTY:-def}", "def");
	expect("${EMPTY-def}", "");
	expect("${UNDEFINED-def}", "def");
	expect("${V:-def}", "1.2");
	expect("${V:+alt}", "alt");
	expect("${EMPTY:+alt}", "");
	expect("${EMPTY+alt}", "alt");
	expect("${UNDEFINED+alt}", "");
	expect("${UNDEFINED:-${V}-x}", "1.2-x");
	expect("${UNDEFINED:-${ALSO:-deep}}", "deep");
	expect("${V:?must be set}", "1.2");
	expect("${V:-${UNDEFINED:?not evaluated}}", "1.2");
	expect("${UNDEFINED:-a b/c:d}", "a b/c:d");
}

static void test_expand_literals(void **state)
{
	expect("$$", "$");
	expect("$$HOME", "$HOME");
	expect("\\$HOME", "$HOME");
	expect("a\\b", "a\\b");
	expect("trailing\\", "trailing\\");
	expect("$", "$");
	expect("cost: 5$", "cost: 5$");
	expect("$1 $@ $-", "$1 $@ $-");
	expect("${UNDEFINED:-\\}}", "\\}");
	expect("${UNDEFINED:-$$}", "$");
}

static void test_expand_errors(void **state)
{
	static const struct {
		const char *in, *msg;
		enum ocb_code code;
	} cases[] = {
	    {"${", "unterminated '${'", OCB_EINVAL},
	    {"${NAME", "unterminated '${'", OCB_EINVAL},
	    {"${NAME:-x", "unterminated '${'", OCB_EINVAL},
	    {"${}", "empty '${}'", OCB_EINVAL},
	    {"${1}", "expected a variable name", OCB_EINVAL},
	    {"${NAME/a/b}", "unsupported modifier", OCB_EINVAL},
	    {"${NAME:x}", "unsupported modifier", OCB_EINVAL},
	    {"${UNDEFINED:?set it}", "variable 'UNDEFINED' is undefined or empty: set it", OCB_EINVAL},
	    {"${EMPTY?}", "", OCB_OK},
	    {"${UNDEFINED?}", "variable 'UNDEFINED' is undefined: required", OCB_EINVAL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		char *out = NULL;
		int rc = recipe_expand(cases[i].in, &inner, &out, &err);
		if (cases[i].code == OCB_OK) {
			assert_int_equal(rc, 0);
			free(out);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_null(out);
		assert_int_equal(err.code, cases[i].code);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].in, err.msg, cases[i].msg);
	}
}

static void test_expand_limits(void **state)
{
	struct recipe_vars big = RECIPE_VARS_INIT;
	struct ocb_error err = OCB_ERROR_INIT;
	char *val = malloc(300000), *out = NULL, deep[200];
	size_t n = 0;

	memset(val, 'x', 299999);
	val[299999] = '\0';
	assert_ok(recipe_vars_set(&big, "X", val, &test_err));
	assert_int_equal(recipe_expand("$X$X$X$X", &big, &out, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "${U:-");
	snprintf(deep + n, sizeof(deep) - n, "x");
	assert_int_equal(recipe_expand(deep, &big, &out, &err), -1);
	assert_null(out);
	recipe_vars_release(&big);
	free(val);
}

static void test_vars_replace_and_scope(void **state)
{
	struct recipe_vars v = RECIPE_VARS_INIT;

	assert_ok(recipe_vars_set(&v, "A", "1", &test_err));
	assert_ok(recipe_vars_set(&v, "A", "2", &test_err));
	assert_int_equal(v.len, 1);
	assert_string_equal(recipe_vars_get(&v, "A", 1), "2");
	assert_null(recipe_vars_get(&v, "AB", 2));
	v.parent = &outer;
	assert_string_equal(recipe_vars_get(&v, "TARGETARCH", 10), "arm64");
	recipe_vars_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expand_forms),	   cmocka_unit_test(test_expand_literals),
	    cmocka_unit_test(test_expand_errors),	   cmocka_unit_test(test_expand_limits),
	    cmocka_unit_test(test_vars_replace_and_scope),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
