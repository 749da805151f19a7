/* Every kind of recipe mistake: one error, OCB_EINVAL, naming file:line:col. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "recipes/recipe.h"

#define V "version = 1\n"
#define S "[stages.a]\nfrom = \"alpine:3\"\n"

static const struct {
	const char *text;
	const char *want; /* the whole message */
} cases[] = {
    /* version */
    {"[stages.a]\nfrom = \"x:1\"\n", "recipe.toml:1:1: missing 'version' (add 'version = 1' at the top)"},
    {"version = 2\n" S, "recipe.toml:1:11: unsupported recipe version 2 (this ocb reads version 1)"},
    {"version = \"1\"\n" S, "recipe.toml:1:11: 'version' must be an integer, got string"},
    /* unknown keys, with hints */
    {V S "entrypont = [\"/x\"]\n",
     "recipe.toml:4:1: unknown key 'entrypont' in [stages.a] (did you mean 'entrypoint'?)"},
    {V "verison = 1\n" S,
     "recipe.toml:2:1: unknown key 'verison' in the top level of the recipe (did you mean 'version'?)"},
    {V "[image]\nnmae = \"x\"\n" S, "recipe.toml:3:1: unknown key 'nmae' in [image] (did you mean 'name'?)"},
    {V S "steps = [{ run = \"x\", netwrok = \"none\" }]\n",
     "recipe.toml:4:23: unknown key 'netwrok' in step 1 of [stages.a] (did you mean 'network'?)"},
    {V S "zzz = 1\n", "recipe.toml:4:1: unknown key 'zzz' in [stages.a]"},
    {V S "healthcheck = { test = \"true\", intreval = \"1s\" }\n",
     "recipe.toml:4:32: unknown key 'intreval' in the healthcheck of [stages.a] (did you mean 'interval'?)"},
    {V S "run = \"make\"\n",
     "recipe.toml:4:1: 'run' is a step key, not a key of [stages.a] (write steps = [{ run = ... }])"},
    /* wrong types */
    {V S "expose = 80\n", "recipe.toml:4:10: 'expose' must be an array of strings, got integer"},
    {V S "expose = [true]\n", "recipe.toml:4:11: 'expose' must be an array of strings, got boolean in it"},
    {V S "workdir = 5\n", "recipe.toml:4:11: 'workdir' must be a string, got integer"},
    {V S "env = { A = [1] }\n", "recipe.toml:4:13: 'env.A' must be a string, got array"},
    {V S "env = { A = 1.5 }\n", "recipe.toml:4:13: 'env.A' must be a string, got float (quote it)"},
    {V S "cmd = 3\n",
     "recipe.toml:4:7: 'cmd' must be a string (shell form) or an array of strings, got integer"},
    {V S "steps = { run = \"x\" }\n", "recipe.toml:4:9: 'steps' must be an array of tables, got table"},
    {V S "steps = [\"make\"]\n", "recipe.toml:4:10: a step must be a table like { run = \"...\" } or { copy "
				 "= \"...\", to = \"...\" }, got string"},
    {V "stages = 1\n", "recipe.toml:2:10: 'stages' must be a table of stages, got integer"},
    /* stages and references */
    {V "[stages.a]\nworkdir = \"/\"\n",
     "recipe.toml:2:1: stage 'a' has no 'from' (use from = \"scratch\" for an empty base)"},
    {V "[image]\nname = \"x\"\n", "recipe.toml:1:1: the recipe has no stages (add a [stages.NAME] table)"},
    {V S "steps = [{ copy = \"x\", from = \"bulid\", to = \"/\" }]\n",
     "recipe.toml:4:31: copy 'from': unknown stage 'bulid' (stages: a)"},
    {V S "[stages.build]\nfrom = \"a\"\nsteps = [{ copy = \"x\", from = \"buidl\", to = \"/\" }]\n",
     "recipe.toml:6:31: copy 'from': unknown stage 'buidl' (did you mean 'build'? stages: a, build)"},
    {V "[stages.backend]\nfrom = \"x:1\"\n[stages.b]\nfrom = \"backnd\"\n",
     "recipe.toml:5:8: 'from': unknown stage 'backnd' (did you mean 'backend'? write 'backnd:latest' for an "
     "image)"},
    {V "[image]\ntarget = \"nope\"\n" S, "recipe.toml:3:10: target: unknown stage 'nope' (stages: a)"},
    {V "[stages.a]\nfrom = \"b\"\n[stages.b]\nfrom = \"a\"\n", "recipe.toml:5:8: stage cycle: a -> b -> a"},
    {V "[stages.a]\nfrom = \"x:1\"\nsteps = [{ copy = \"/f\", from = \"a\", to = \"/f\" }]\n",
     "recipe.toml:4:32: stage cycle: a -> a"},
    {V "[stages.scratch]\nfrom = \"x:1\"\n",
     "recipe.toml:2:9: 'scratch' is reserved for the empty base and cannot name a stage"},
    {V "[stages.\"a b\"]\nfrom = \"x:1\"\n", "recipe.toml:2:9: invalid stage name 'a b' (letters, digits, "
					     "'_', '-', '.'; starting with a letter or digit)"},
    /* values that do not parse */
    {V S "healthcheck = { test = \"true\", interval = \"30\" }\n",
     "recipe.toml:4:43: 'interval': invalid duration '30': missing unit (use e.g. \"30s\", \"1m30s\", "
     "\"500ms\")"},
    {V S "healthcheck = { test = \"true\", timeout = \"10us\" }\n",
     "recipe.toml:4:42: 'timeout' must be 0 or at least 1ms"},
    {V S "healthcheck = { test = [\"CMD-SHELLL\", \"x\"] }\n",
     "recipe.toml:4:25: 'test' must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", got \"CMD-SHELLL\""},
    {V S "healthcheck = { interval = \"1s\" }\n", "recipe.toml:4:15: 'healthcheck' needs a 'test' (e.g. test "
						  "= [\"CMD\", \"curl\", \"-f\", \"http://localhost/\"])"},
    {V S "stop_signal = \"SIGTREM\"\n",
     "recipe.toml:4:15: invalid signal 'SIGTREM' (use a name like \"SIGTERM\" or a number 1-64)"},
    {V S "expose = [\"80/tcp\", \"8o\"]\n", "recipe.toml:4:21: invalid port '8o': expected a port number "
					    "1-65535 (use e.g. \"80\", \"80/tcp\", \"53/udp\", "
					    "\"8000-8010/tcp\")"},
    {V "[image]\nplatforms = [\"linux/arm65\"]\n" S,
     "recipe.toml:3:14: invalid platform 'linux/arm65': unknown architecture (use e.g. \"linux/amd64\", "
     "\"linux/arm64\")"},
    {V "[stages.a]\nfrom = \"x:1\"\nplatform = \"bulid\"\n",
     "recipe.toml:4:12: 'platform' is \"build\", \"target\" or a platform: invalid platform 'bulid': "
     "expected os/arch "
     "(use e.g. \"linux/amd64\", \"linux/arm64\")"},
    {V S "steps = [{ run = \"x\", network = \"bridge\" }]\n",
     "recipe.toml:4:33: 'network' must be \"default\", \"none\" or \"host\", got \"bridge\""},
    {V S "steps = [{ copy = \"x\", to = \"/\", chmod = \"0855\" }]\n",
     "recipe.toml:4:42: 'chmod' must be an octal mode like \"0644\" (0 to 7777)"},
    {V S "steps = [{ copy = \"x\", to = \"/\", chown = \"a:b:c\" }]\n",
     "recipe.toml:4:42: 'chown' must be \"user\" or \"user:group\" (names or ids), got \"a:b:c\""},
    {V S "steps = [{ run = \"x\", cache = [\"var/cache\"] }]\n",
     "recipe.toml:4:32: cache path 'var/cache' must be absolute"},
    {V S "steps = [{ run = \"x\", secrets = [\"../id\"] }]\n",
     "recipe.toml:4:34: invalid secret id '../id' (letters, digits, '.', '_', '-')"},
    {V S "from = \"${X\"\n", NULL}, /* duplicate key: the TOML parser's error */
    {V "[stages.a]\nfrom = \"${BASE\"\n",
     "recipe.toml:3:8: 'from': bad variable reference in '${BASE': unterminated '${'"},
    /* context escapes */
    {V S "steps = [{ copy = [\"ok\", \"../secret\"], to = \"/\" }]\n",
     "recipe.toml:4:26: copy source '../secret' is outside the build context"},
    {V S "steps = [{ copy = \"a/../../b\", to = \"/\" }]\n",
     "recipe.toml:4:19: copy source 'a/../../b' is outside the build context"},
    /* step shape */
    {V S "steps = [{ run = \"x\", copy = \"y\" }]\n",
     "recipe.toml:4:23: a step is either 'run' or 'copy', not both"},
    {V S "steps = [{ workdir = \"/x\" }]\n",
     "recipe.toml:4:10: step 1 of [stages.a] has neither 'run' nor 'copy'"},
    {V S "steps = [{ copy = \"x\" }]\n", "recipe.toml:4:10: a copy step needs 'to' (the destination path)"},
    {V S "steps = [{ run = \"x\", to = \"/\" }]\n", "recipe.toml:4:23: 'to' does not apply to a run step"},
    {V S "steps = [{ copy = \"x\", to = \"/\", network = \"none\" }]\n",
     "recipe.toml:4:34: 'network' does not apply to a copy step"},
    {V S "steps = [{ run = [] }]\n", "recipe.toml:4:18: 'run' is an empty array"},
    {V S "steps = [{ run = \"\" }]\n", "recipe.toml:4:18: 'run' is an empty string"},
    {V S "volumes = [\"data\"]\n", "recipe.toml:4:12: 'volumes' path 'data' must be absolute"},
    {V "[args]\n\"A-B\" = \"1\"\n" S,
     "recipe.toml:3:1: arg name 'A-B' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)"},
    /* TOML syntax errors come through with their position */
    {V S "from = \"twice:1\"\n", NULL},
};

static void test_recipe_errors(void **state)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		struct recipe *r = NULL;
		int rc =
		    recipe_load_string("recipe.toml", cases[i].text, strlen(cases[i].text), NULL, &r, &err);
		if (rc == 0)
			fail_msg("case %zu loaded but should fail:\n%s", i, cases[i].text);
		assert_null(r);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_int_equal(ocb_error_exit_code(&err), 2);
		if (!cases[i].want) {
			assert_int_equal(strncmp(err.msg, "recipe.toml:4:1: ", 17), 0);
			continue;
		}
		if (strcmp(err.msg, cases[i].want) != 0) {
			print_error("case %zu:\n%s\ngot:  %s\nwant: %s\n", i, cases[i].text, err.msg,
				    cases[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_limits(void **state)
{
	size_t cap = 2100 * 40 + 64, off = 0;
	char *text = malloc(cap);
	struct ocb_error err = OCB_ERROR_INIT;
	struct recipe *r = NULL;

	off += (size_t)snprintf(text + off, cap - off, "version = 1\n");
	for (int i = 0; i < 1100; i++)
		off += (size_t)snprintf(text + off, cap - off, "[stages.s%d]\nfrom = \"scratch\"\n", i);
	assert_int_equal(recipe_load_string("recipe.toml", text, off, NULL, &r, &err), -1);
	assert_string_equal(err.msg, "recipe.toml:2050:9: too many stages (at most 1024)");
	/* a 1 MB arg, referenced 70 times: more than 64 MiB in all */
	free(text);
	cap = 1000000 + 4096;
	text = malloc(cap);
	off = (size_t)snprintf(text, cap, "version = 1\n[args]\nBIG = \"");
	memset(text + off, 'x', 1000000);
	off += 1000000;
	off += (size_t)snprintf(text + off, cap - off, "\"\n[stages.a]\nfrom = \"scratch\"\nlabels = { ");
	for (int i = 0; i < 70; i++)
		off += (size_t)snprintf(text + off, cap - off, "%sl%d = \"$BIG\"", i ? ", " : "", i);
	off += (size_t)snprintf(text + off, cap - off, " }\n");
	assert_int_equal(recipe_load_string("recipe.toml", text, off, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "produces more than 64 MiB"));
	assert_int_equal(err.code, OCB_EINVAL);
	free(text);
}

static void test_build_arg_syntax(void **state)
{
	const char *args[] = {"=VALUE"};
	struct recipe_options o = {args, 1, NULL, NULL, NULL};
	struct ocb_error err = OCB_ERROR_INIT;
	struct recipe *r = NULL;
	const char *text = V S;

	assert_int_equal(recipe_load_string("recipe.toml", text, strlen(text), &o, &r, &err), -1);
	assert_string_equal(err.msg, "--build-arg '=VALUE': expected KEY=VALUE");
	assert_int_equal(err.code, OCB_EINVAL);
}

static void test_target_option_unknown(void **state)
{
	struct recipe_options o = {NULL, 0, NULL, NULL, "nope"};
	struct ocb_error err = OCB_ERROR_INIT;
	struct recipe *r = NULL;
	const char *text = V S;

	assert_int_equal(recipe_load_string("recipe.toml", text, strlen(text), &o, &r, &err), -1);
	assert_string_equal(err.msg, "target: unknown stage 'nope' (stages: a)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recipe_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_build_arg_syntax),
	    cmocka_unit_test(test_target_option_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
