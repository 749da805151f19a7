/* .ocbignore / .dockerignore patterns with Docker's semantics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "recipes/recipe_ignore.h"

static struct recipe_ignore *parse(const char *text)
{
	struct recipe_ignore *ig = NULL;
	if (recipe_ignore_parse(".ocbignore", text, strlen(text), &ig, &test_err) < 0)
		fail_msg("parse: %s", test_err.msg);
	return ig;
}

struct expectation {
	const char *path;
	bool excluded;
};

static void check(const char *text, const struct expectation *e, size_t n)
{
	struct recipe_ignore *ig = parse(text);
	for (size_t i = 0; i < n; i++)
		if (recipe_ignore_match(ig, e[i].path) != e[i].excluded)
			fail_msg("patterns [%s]: '%s' should be %s", text, e[i].path,
				 e[i].excluded ? "excluded" : "included");
	recipe_ignore_free(ig);
}

#define CHECK(text, ...)                                                                                     \
	do {                                                                                                 \
		const struct expectation e_[] = {__VA_ARGS__};                                               \
		check(text, e_, sizeof(e_) / sizeof(e_[0]));                                                 \
	} while (0)

/* The example of Docker's .dockerignore documentation. */
static void test_docker_documented_example(void **state)
{
	CHECK("# comment\n*/temp*\n*/*/temp*\ntemp?\n", {"somedir/temporary.txt", true},
	      {"somedir/temp", true}, {"somedir/subdir/temporary.txt", true}, {"tempa", true},
	      {"tempb", true}, {"temp", false}, {"temporary.txt", false}, {"tempab", false},
	      {"a/b/c/temp", false}, {"# comment", false});
	CHECK("**/*.go\n", {"main.go", true}, {"a/b/c.go", true}, {"a/b/c.go.txt", false}, {"go", false});
}

static void test_docker_exceptions(void **state)
{
	/* "*.md / !README.md": every markdown file but README.md */
	CHECK("*.md\n!README.md\n", {"a.md", true}, {"README.md", false}, {"docs/a.md", false});
	/* "No markdown files except README files other than README-secret.md" */
	CHECK("*.md\n!README*.md\nREADME-secret.md\n", {"CHANGES.md", true}, {"README.md", false},
	      {"README-public.md", false}, {"README-secret.md", true});
	/* The order reversed: every README file is included, README-secret.md too. */
	CHECK("*.md\nREADME-secret.md\n!README*.md\n", {"CHANGES.md", true}, {"README-secret.md", false});
}

static void test_parent_directories(void **state)
{
	CHECK("build\n", {"build", true}, {"build/out/bin", true}, {"src/build", false}, {"builder", false});
	CHECK("node_modules/\n", {"node_modules", true}, {"node_modules/x/y.js", true});
	CHECK("dir\n!dir/keep\n", {"dir/a", true}, {"dir/keep", false}, {"dir/keep/sub", false});
}

static void test_double_star(void **state)
{
	CHECK("**\n", {"a", true}, {"a/b/c", true});
	CHECK("**/foo\n", {"foo", true}, {"a/foo", true}, {"a/b/foo/c", true}, {"afoo", false});
	CHECK("a/**/b\n", {"a/b", true}, {"a/x/b", true}, {"a/x/y/b", true}, {"a/xb", false});
	CHECK("dir/**\n", {"dir/a", true}, {"dir/a/b", true}, {"dir", false}, {"dirx/a", false});
	CHECK("**/*.log\n!**/keep.log\n", {"x.log", true}, {"a/b/x.log", true}, {"a/keep.log", false});
}

static void test_pattern_normalisation(void **state)
{
	CHECK("/abs\n", {"abs", true});
	CHECK("./rel/x\n", {"rel/x", true}, {"rel", false});
	CHECK("a/../b\n", {"b", true}, {"a", false});
	CHECK("   spaced.txt  \n", {"spaced.txt", true});
	CHECK("\xef\xbb\xbf"
	      "bom\r\n",
	      {"bom", true});
	CHECK(" # not a comment after space\n#real comment\n", {"# not a comment after space", true});
	CHECK("\n\n\n", {"anything", false});
}

static void test_glob_syntax(void **state)
{
	CHECK("file?.txt\n", {"file1.txt", true}, {"file.txt", false}, {"file/.txt", false});
	CHECK("[a-c]*.c\n", {"a.c", true}, {"cat.c", true}, {"d.c", false}, {"-.c", false});
	CHECK("[^a-c]*.c\n", {"d.c", true}, {"a.c", false});
	CHECK("\\*.txt\n", {"*.txt", true}, {"a.txt", false});
	CHECK("*\n", {"a", true}, {"a/b", true});
	CHECK("a*b*c*d\n", {"abcd", true}, {"axxbxxcxxd", true}, {"a/b/c/d", false});
	CHECK("[]]x\n", {"]x", true});
}

static void test_bad_patterns(void **state)
{
	const char *bad[] = {"ok\n[abc\n", "!\n", "x\\", "[z-a]\n", "[\\"};
	const char *where[] = {
	    ".ocbignore:2:", ".ocbignore:1:", ".ocbignore:1:", ".ocbignore:1:", ".ocbignore:1:"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		struct recipe_ignore *ig = NULL;
		assert_int_equal(recipe_ignore_parse(".ocbignore", bad[i], strlen(bad[i]), &ig, &err), -1);
		assert_null(ig);
		assert_int_equal(err.code, OCB_EINVAL);
		if (strncmp(err.msg, where[i], strlen(where[i])) != 0)
			fail_msg("'%s': message '%s' does not start with '%s'", bad[i], err.msg, where[i]);
	}
}

static void test_from_list(void **state)
{
	const char *pats[] = {"**/*_test.go", "  ", "!keep_test.go", "testdata"};
	const char *bad[] = {"ok", "[x"};
	struct recipe_ignore *ig = NULL;
	struct ocb_error err = OCB_ERROR_INIT;

	assert_ok(recipe_ignore_from_list("exclude", pats, 4, &ig, &test_err));
	assert_int_equal(recipe_ignore_count(ig), 3);
	assert_true(recipe_ignore_match(ig, "pkg/a_test.go"));
	assert_false(recipe_ignore_match(ig, "keep_test.go"));
	assert_true(recipe_ignore_match(ig, "testdata/x"));
	assert_false(recipe_ignore_match(ig, "main.go"));
	recipe_ignore_free(ig);
	assert_int_equal(recipe_ignore_from_list("exclude", bad, 2, &ig, &err), -1);
	assert_string_equal(err.msg, "exclude:2: invalid pattern '[x'");
}

static void test_pathological_is_fast(void **state)
{
	char path[4000];
	/* Backtracking without memo would take exponential time here. */
	struct recipe_ignore *ig = parse("**/a*a*a*a*a*a*a*a*a*a*a*a*b\n");
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_false(recipe_ignore_match(ig, path));
	recipe_ignore_free(ig);
}

static void test_load_prefers_ocbignore(void **state)
{
	char *dir = testutil_mkdtemp();
	char path[4096];
	struct recipe_ignore *ig = NULL;

	assert_ok(recipe_ignore_load(dir, &ig, &test_err));
	assert_null(recipe_ignore_source(ig));
	assert_false(recipe_ignore_match(ig, "x"));
	recipe_ignore_free(ig);

	snprintf(path, sizeof(path), "%s/.dockerignore", dir);
	testutil_write_file(path, "docker\n", 7);
	assert_ok(recipe_ignore_load(dir, &ig, &test_err));
	assert_string_equal(recipe_ignore_source(ig), ".dockerignore");
	assert_true(recipe_ignore_match(ig, "docker"));
	assert_false(recipe_ignore_has_exceptions(ig));
	recipe_ignore_free(ig);

	snprintf(path, sizeof(path), "%s/.ocbignore", dir);
	testutil_write_file(path, "ocb\n!ocb/keep\n", 14);
	assert_ok(recipe_ignore_load(dir, &ig, &test_err));
	assert_string_equal(recipe_ignore_source(ig), ".ocbignore");
	assert_true(recipe_ignore_match(ig, "ocb"));
	assert_false(recipe_ignore_match(ig, "docker"));
	assert_true(recipe_ignore_has_exceptions(ig));
	assert_int_equal(recipe_ignore_count(ig), 2);
	recipe_ignore_free(ig);

	/* A bad pattern names the file with its directory. */
	testutil_write_file(path, "ok\n[bad\n", 8);
	struct ocb_error err = OCB_ERROR_INIT;
	char want[4200];
	assert_int_equal(recipe_ignore_load(dir, &ig, &err), -1);
	snprintf(want, sizeof(want), "%s/.ocbignore:2: invalid pattern '[bad'", dir);
	assert_string_equal(err.msg, want);
	assert_int_equal(err.code, OCB_EINVAL);

	/* A directory named .ocbignore is an error, not silently skipped. */
	remove(path);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(recipe_ignore_load(dir, &ig, &test_err), -1);
	testutil_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_documented_example),
	    cmocka_unit_test(test_docker_exceptions),
	    cmocka_unit_test(test_parent_directories),
	    cmocka_unit_test(test_double_star),
	    cmocka_unit_test(test_pattern_normalisation),
	    cmocka_unit_test(test_glob_syntax),
	    cmocka_unit_test(test_bad_patterns),
	    cmocka_unit_test(test_from_list),
	    cmocka_unit_test(test_pathological_is_fast),
	    cmocka_unit_test(test_load_prefers_ocbignore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
