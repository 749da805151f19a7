/* Loading recipes into the model: values, positions, expansion, defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "recipes/recipe.h"
#include "recipes/recipe_graph.h"

static const char *full_recipe =
    "version = 1\n"									/* 1 */
    "\n"										/* 2 */
    "[image]\n"										/* 3 */
    "name = \"dockerverse\"\n"								/* 4 */
    "tag = \"v${APP_VERSION}\"\n"							/* 5 */
    "platforms = [\"linux/amd64\", \"linux/aarch64\"]\n"				/* 6 */
    "target = \"runtime\"\n"								/* 7 */
    "\n"										/* 8 */
    "[args]\n"										/* 9 */
    "APP_VERSION = \"1.0.0\"\n"								/* 10 */
    "GO_VERSION = \"1.19\"\n"								/* 11 */
    "\n"										/* 12 */
    "[stages.backend]\n"								/* 13 */
    "from = \"golang:${GO_VERSION}\"\n"							/* 14 */
    "platform = \"build\"\n"								/* 15 */
    "workdir = \"/src\"\n"								/* 16 */
    "env = { CGO_ENABLED = \"0\", GOARCH = \"$TARGETARCH\", OUT = \"/out\" }\n"		/* 17 */
    "steps = [\n"									/* 18 */
    "  { copy = [\"backend/go.mod\", \"/backend/go.sum\"], to = \"./\" },\n"		/* 19 */
    "  { run = \"go mod download\", cache = [\"/root/go/pkg/mod\"] },\n"		/* 20 */
    "  { copy = \"backend/\", to = \"./\", exclude = [\"**/*_test.go\"] },\n"		/* 21 */
    "  { run = \"go build -o $OUT/server .\", env = { CGO = \"${CGO_ENABLED}x\" } },\n" /* 22 */
    "]\n"										/* 23 */
    "\n"										/* 24 */
    "[stages.docs]\n"									/* 25 */
    "from = \"scratch\"\n"								/* 26 */
    "\n"										/* 27 */
    "[stages.runtime]\n"								/* 28 */
    "from = \"debian:bookworm-slim\"\n"							/* 29 */
    "entrypoint = [\"/app/server\"]\n"							/* 30 */
    "cmd = \"serve --port 3001\"\n"							/* 31 */
    "user = \"app\"\n"									/* 32 */
    "workdir = \"/app\"\n"								/* 33 */
    "env = { NODE_ENV = \"production\", PORT = 3001 }\n"				/* 34 */
    "expose = [\"80/tcp\", 443, \"53/udp\"]\n"						/* 35 */
    "labels = { \"org.opencontainers.image.version\" = \"$APP_VERSION\" }\n"		/* 36 */
    "volumes = [\"/var/log/app\"]\n"							/* 37 */
    "stop_signal = \"term\"\n"								/* 38 */
    "healthcheck = { test = [\"CMD\", \"curl\", \"-f\", \"http://localhost/\"], interval = \"30s\", timeout "
    "= \"10s\", start_period = \"1m30s\", retries = 3 }\n" /* 39 */
    "\n"						   /* 40 */
    "[[stages.runtime.steps]]\n"			   /* 41 */
    "copy = [\"/out/server\"]\n"			   /* 42 */
    "from = \"backend\"\n"				   /* 43 */
    "to = \"/app/server\"\n"				   /* 44 */
    "chmod = \"0755\"\n"				   /* 45 */
    "chown = \"app:app\"\n"				   /* 46 */
    "\n"						   /* 47 */
    "[[stages.runtime.steps]]\n"			   /* 48 */
    "run = [\"useradd\", \"-r\", \"app\"]\n"		   /* 49 */
    "network = \"none\"\n"				   /* 50 */
    "secrets = [\"npmrc\"]\n"				   /* 51 */
    "user = \"root\"\n"					   /* 52 */
    "\n"						   /* 53 */
    "[[stages.runtime.steps]]\n"			   /* 54 */
    "copy = \"nginx.conf\"\n"				   /* 55 */
    "from = \"nginx:1.25\"\n"				   /* 56 */
    "to = \"/etc/nginx/nginx.conf\"\n"			   /* 57 */
    "chmod = 0o644\n";					   /* 58 */

static struct recipe *load(const char *text, const struct recipe_options *opts)
{
	struct recipe *r = NULL;
	if (recipe_load_string("recipe.toml", text, strlen(text), opts, &r, &test_err) < 0)
		fail_msg("load: %s", test_err.msg);
	return r;
}

static void assert_pos(struct recipe_pos p, unsigned line, unsigned col)
{
	if (p.line != line || p.col != col)
		fail_msg("position %u:%u, want %u:%u", p.line, p.col, line, col);
	assert_string_equal(p.file, "recipe.toml");
}

static void test_load_top_level(void **state)
{
	const char *args[] = {"APP_VERSION=2.0", "UNKNOWN=1"};
	struct recipe_options o = {args, 2, "linux/arm64", "linux/amd64", NULL};
	struct recipe *r = load(full_recipe, &o);

	assert_int_equal(r->version, 1);
	assert_pos(r->version_pos, 1, 11);
	assert_string_equal(r->image_name.value, "dockerverse");
	assert_string_equal(r->image_tag.value, "v2.0");
	assert_string_equal(r->image_tag.raw, "v${APP_VERSION}");
	assert_pos(r->image_tag.pos, 5, 7);
	assert_int_equal(r->platforms.len, 2);
	assert_string_equal(r->platforms.items[1].value, "linux/arm64");
	assert_string_equal(r->platforms.items[1].raw, "linux/aarch64");
	assert_int_equal(r->n_stages, 3);
	assert_int_equal(r->target_stage, 2);
	assert_int_equal(r->args.len, 2);
	assert_string_equal(r->args.items[0].value.value, "2.0");
	assert_int_equal(r->n_warnings, 1);
	assert_non_null(strstr(r->warnings[0], "'UNKNOWN'"));
	assert_string_equal(r->target_platform.str, "linux/arm64");
	assert_string_equal(r->build_platform.str, "linux/amd64");
	recipe_free(r);
}

static void test_load_build_stage(void **state)
{
	struct recipe_options o = {NULL, 0, "linux/arm64", "linux/amd64", NULL};
	struct recipe *r = load(full_recipe, &o);
	const struct recipe_stage *b = recipe_stage_find(r, "backend");

	assert_non_null(b);
	assert_string_equal(b->from.value, "golang:1.19");
	assert_pos(b->from.pos, 14, 8);
	assert_int_equal(b->base, RECIPE_BASE_IMAGE);
	assert_int_equal(b->platform_kind, RECIPE_PLATFORM_BUILD);
	assert_string_equal(b->resolved_platform.str, "linux/amd64");
	assert_string_equal(b->workdir.value, "/src");
	assert_null(b->user.value);
	assert_false(b->entrypoint.set);
	assert_int_equal(b->env.len, 3);
	assert_string_equal(b->env.items[1].key.value, "GOARCH");
	assert_string_equal(b->env.items[1].value.value, "arm64");
	assert_pos(b->env.items[1].key.pos, 17, 28);
	assert_int_equal(b->n_steps, 4);
	assert_int_equal(b->steps[0].kind, RECIPE_STEP_COPY);
	assert_int_equal(b->steps[0].copy.origin, RECIPE_COPY_CONTEXT);
	assert_string_equal(b->steps[0].copy.sources.items[1].value, "backend/go.sum");
	assert_string_equal(b->steps[0].copy.sources.items[1].raw, "/backend/go.sum");
	assert_pos(b->steps[0].copy.sources.items[1].pos, 19, 31);
	assert_string_equal(b->steps[1].cache.items[0].value, "/root/go/pkg/mod");
	assert_true(b->steps[1].run.shell);
	assert_string_equal(b->steps[1].run.argv.items[0].value, "/bin/sh");
	assert_string_equal(b->steps[1].run.argv.items[2].value, "go mod download");
	assert_string_equal(b->steps[2].copy.sources.items[0].value, "backend");
	assert_string_equal(b->steps[2].copy.exclude.items[0].value, "**/*_test.go");
	/* run strings are not expanded; step env sees the stage env */
	assert_string_equal(b->steps[3].run.argv.items[2].value, "go build -o $OUT/server .");
	assert_string_equal(b->steps[3].env.items[0].value.value, "0x");
	assert_int_equal(b->n_deps, 0);
	recipe_free(r);
}

static void test_load_runtime_stage(void **state)
{
	struct recipe *r = load(full_recipe, NULL);
	const struct recipe_stage *s = &r->stages[2];
	const struct recipe_step *st;

	assert_string_equal(s->name, "runtime");
	assert_pos(s->pos, 28, 1);
	assert_int_equal(s->platform_kind, RECIPE_PLATFORM_TARGET);
	assert_false(s->entrypoint.shell);
	assert_int_equal(s->entrypoint.argv.len, 1);
	assert_true(s->cmd.shell);
	assert_string_equal(s->cmd.argv.items[2].value, "serve --port 3001");
	assert_string_equal(s->user.value, "app");
	assert_string_equal(s->env.items[1].value.value, "3001");
	assert_int_equal(s->expose.len, 3);
	assert_int_equal(s->expose.items[1].port.first, 443);
	assert_string_equal(s->expose.items[2].port.proto, "udp");
	assert_string_equal(s->labels.items[0].value.value, "1.0.0");
	assert_string_equal(s->volumes.items[0].value, "/var/log/app");
	assert_string_equal(s->stop_signal.value, "SIGTERM");
	assert_int_equal(s->stop_signum, 15);
	assert_true(s->healthcheck.set);
	assert_int_equal(s->healthcheck.kind, RECIPE_HEALTH_CMD);
	assert_int_equal(s->healthcheck.test.len, 4);
	assert_int_equal(s->healthcheck.interval.ns, 30000000000LL);
	assert_int_equal(s->healthcheck.start_period.ns, 90000000000LL);
	assert_false(s->healthcheck.start_interval.set);
	assert_int_equal(s->healthcheck.retries, 3);
	assert_int_equal(s->n_steps, 3);
	st = &s->steps[0];
	assert_pos(st->pos, 41, 1);
	assert_int_equal(st->copy.origin, RECIPE_COPY_STAGE);
	assert_int_equal(st->copy.from_stage, 0);
	assert_string_equal(st->copy.sources.items[0].value, "/out/server");
	assert_int_equal(st->copy.chmod, 0755);
	assert_string_equal(st->copy.chown_user, "app");
	assert_string_equal(st->copy.chown_group, "app");
	st = &s->steps[1];
	assert_int_equal(st->kind, RECIPE_STEP_RUN);
	assert_false(st->run.shell);
	assert_int_equal(st->run.argv.len, 3);
	assert_int_equal(st->net, RECIPE_NETWORK_NONE);
	assert_string_equal(st->secrets.items[0].value, "npmrc");
	assert_string_equal(st->user.value, "root");
	st = &s->steps[2];
	assert_int_equal(st->copy.origin, RECIPE_COPY_IMAGE);
	assert_int_equal(st->copy.chmod, 0644);
	assert_null(st->copy.chown.value);
	assert_int_equal(s->n_deps, 1);
	assert_int_equal(s->deps[0].stage, 0);
	assert_pos(s->deps[0].pos, 43, 8);
	recipe_free(r);
}

static void test_step_env(void **state)
{
	const char *args[] = {"APP_VERSION=3"};
	struct recipe_options o = {args, 1, "linux/arm64", "linux/amd64", NULL};
	struct recipe *r = load(full_recipe, &o);
	const struct recipe_stage *b = &r->stages[0];
	char **env = NULL;
	char want[][32] = {"TARGETPLATFORM=linux/arm64",
			   "TARGETARCH=arm64",
			   "TARGETVARIANT=",
			   "BUILDARCH=amd64",
			   "APP_VERSION=3",
			   "GO_VERSION=1.19",
			   "CGO_ENABLED=0",
			   "GOARCH=arm64",
			   "CGO=0x"};
	size_t n = 0;

	assert_ok(recipe_step_env(r, b, &b->steps[3], NULL, &env, &test_err));
	for (char **p = env; *p; p++)
		n++;
	assert_int_equal(n, 8 + 2 + 3 + 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (char **p = env; *p && !found; p++)
			found = !strcmp(*p, want[i]);
		if (!found)
			fail_msg("'%s' not in the step environment", want[i]);
	}
	recipe_env_free(env);
	recipe_free(r);
}

static bool env_has(char **env, const char *kv)
{
	for (char **p = env; *p; p++)
		if (!strcmp(*p, kv))
			return true;
	return false;
}

static void test_env_with_base_image(void **state)
{
	static const char *text =
	    "version = 1\n"
	    "[args]\nHOME = \"/from-args\"\nV = \"1\"\n"
	    "[stages.s]\nfrom = \"x:1\"\n"
	    "env = { PATH = \"/app/bin:$PATH\", WHERE = \"$HOME/app\", B = \"${A:-none}\", A = \"a\" }\n"
	    "steps = [{ run = \"x\", env = { PATH = \"/step:$PATH\", V = \"v$V\" } }]\n";
	const char *base[] = {"PATH=/usr/bin:/bin", "HOME=/root", "junk", "A=from-base", NULL};
	struct recipe *r = load(text, NULL);
	const struct recipe_stage *s = &r->stages[0];
	char **env = NULL;
	size_t n = 0;

	/* The model alone cannot see the base image: $PATH is empty there. */
	assert_string_equal(s->env.items[0].value.value, "/app/bin:");
	assert_ok(recipe_stage_image_env(r, s, base, &env, &test_err));
	for (char **p = env; *p; p++)
		n++;
	assert_int_equal(n, 5);
	assert_true(env_has(env, "PATH=/app/bin:/usr/bin:/bin"));
	assert_true(env_has(env, "WHERE=/root/app")); /* the base's ENV beats [args] */
	assert_true(env_has(env, "B=from-base"));
	assert_true(env_has(env, "A=a"));
	assert_false(env_has(env, "V=1")); /* args are not in the image */
	recipe_env_free(env);

	assert_ok(recipe_step_env(r, s, &s->steps[0], base, &env, &test_err));
	assert_true(env_has(env, "PATH=/step:/app/bin:/usr/bin:/bin"));
	assert_true(env_has(env, "V=v1"));
	assert_true(env_has(env, "HOME=/root"));
	assert_true(env_has(env, "TARGETOS=linux"));
	recipe_env_free(env);

	assert_ok(recipe_stage_image_env(r, s, NULL, &env, &test_err));
	assert_true(env_has(env, "PATH=/app/bin:"));
	assert_true(env_has(env, "WHERE=/from-args/app"));
	recipe_env_free(env);
	recipe_free(r);
}

static void test_graph_waves(void **state)
{
	static const char *text =
	    "version = 1\n"
	    "[stages.a]\nfrom = \"alpine:3\"\n"
	    "[stages.b]\nfrom = \"alpine:3\"\n"
	    "[stages.unused]\nfrom = \"a\"\n"
	    "[stages.c]\nfrom = \"a\"\nsteps = [{ copy = \"/x\", from = \"b\", to = \"/x\" }]\n"
	    "[stages.d]\nfrom = \"scratch\"\n"
	    "[stages.final]\nfrom = \"c\"\n"
	    "steps = [{ copy = \"/y\", from = \"d\", to = \"/y\" }, { copy = \"/z\", from = \"b\", to = "
	    "\"/z\" }]\n";
	struct recipe *r = load(text, NULL);
	struct recipe_graph g;
	size_t first, count;

	assert_int_equal(r->target_stage, 5);
	assert_ok(recipe_graph_build(r, r->target_stage, &g, &test_err));
	assert_int_equal(g.n_waves, 3);
	assert_int_equal(g.n_order, 5);
	assert_int_equal(g.wave[2], RECIPE_NO_WAVE);
	recipe_graph_wave(&g, 0, &first, &count);
	assert_int_equal(count, 3); /* a, b, d */
	assert_string_equal(r->stages[g.order[first]].name, "a");
	assert_string_equal(r->stages[g.order[first + 1]].name, "b");
	assert_string_equal(r->stages[g.order[first + 2]].name, "d");
	recipe_graph_wave(&g, 1, &first, &count);
	assert_int_equal(count, 1);
	assert_string_equal(r->stages[g.order[first]].name, "c");
	recipe_graph_wave(&g, 2, &first, &count);
	assert_int_equal(count, 1);
	assert_string_equal(r->stages[g.order[first]].name, "final");
	recipe_graph_release(&g);

	/* another target: only what it needs */
	assert_ok(recipe_graph_build(r, 2, &g, &test_err));
	assert_int_equal(g.n_order, 2);
	assert_int_equal(g.n_waves, 2);
	recipe_graph_release(&g);
	recipe_free(r);
}

static void test_build_arg_from_environment(void **state)
{
	static const char *text =
	    "version = 1\n[args]\nA = \"a\"\nB = \"b\"\n[stages.s]\nfrom = \"x:$A-$B\"\n";
	const char *args[] = {"A", "B", "UNSET_TOO"};
	struct recipe_options o = {args, 3, NULL, NULL, NULL};
	struct recipe *r;

	setenv("A", "from-env", 1);
	unsetenv("B");
	unsetenv("UNSET_TOO");
	r = load(text, &o);
	assert_string_equal(r->stages[0].from.value, "x:from-env-b");
	assert_int_equal(r->n_warnings, 0);
	unsetenv("A");
	recipe_free(r);
}

static void test_target_override_and_defaults(void **state)
{
	static const char *text =
	    "version = 1\n[stages.one]\nfrom = \"scratch\"\n[stages.two]\nfrom = \"one\"\n";
	struct recipe_options o = {NULL, 0, NULL, NULL, "one"};
	struct recipe *r = load(text, &o);

	assert_int_equal(r->target_stage, 0);
	assert_int_equal(r->stages[1].base, RECIPE_BASE_STAGE);
	assert_int_equal(r->stages[1].base_stage, 0);
	assert_int_equal(r->stages[0].base, RECIPE_BASE_SCRATCH);
	assert_null(r->image_name.value);
	assert_false(r->platforms.set);
	assert_int_equal(r->stages[0].n_steps, 0);
	recipe_free(r);
}

static void test_load_file(void **state)
{
	char *dir = testutil_mkdtemp();
	char path[4096];
	struct recipe *r = NULL;
	struct ocb_error err = OCB_ERROR_INIT;

	snprintf(path, sizeof(path), "%s/recipe.toml", dir);
	testutil_write_file(path, full_recipe, strlen(full_recipe));
	assert_ok(recipe_load_file(path, NULL, &r, &test_err));
	assert_string_equal(r->stages[0].from.pos.file, path);
	recipe_free(r);
	snprintf(path, sizeof(path), "%s/missing.toml", dir);
	assert_int_equal(recipe_load_file(path, NULL, &r, &err), -1);
	assert_int_equal(ocb_error_exit_code(&err), 2);
	testutil_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_top_level),
	    cmocka_unit_test(test_load_build_stage),
	    cmocka_unit_test(test_load_runtime_stage),
	    cmocka_unit_test(test_step_env),
	    cmocka_unit_test(test_env_with_base_image),
	    cmocka_unit_test(test_graph_waves),
	    cmocka_unit_test(test_build_arg_from_environment),
	    cmocka_unit_test(test_target_override_and_defaults),
	    cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
