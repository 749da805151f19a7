/* ocb check RECIPE: load and validate a recipe for each platform, print the
 * resolved stage graph (docs/ocb-check.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/check_render.h"
#include "builder/cli.h"
#include "oci/cleanup.h"
#include "recipes/recipe.h"
#include "oci/banned.h"

struct check_args {
	char **build_args; /* "K=V" */
	size_t n_build_args;
	const char *arch, *platforms, *target, *format, *recipe, *context;
};

static void check_usage(FILE *out)
{
	fprintf(out, "usage: ocb check [RECIPE] [--build-arg K=V]... [--arch amd64|arm64|all]\n"
		     "                 [--platform linux/arm64,...] [--target STAGE] [--context DIR]\n"
		     "                 [--format text|json]\n"
		     "\n"
		     "Validate a recipe (default ./recipe.toml) and print its stage graph.\n"
		     "Exit status: 0 valid, 2 invalid recipe or usage error.\n");
}

static void check_args_release(struct check_args *a)
{
	for (size_t i = 0; i < a->n_build_args; i++)
		free(a->build_args[i]);
	free(a->build_args);
}

/* "K=V", or "K" whose value the loader takes from the environment. */
static int add_build_arg(struct check_args *a, const char *arg, struct ocb_error *err)
{
	char **l, *kv = strdup(arg);

	if (!kv)
		return ocb_error_sys(err, "out of memory");
	l = realloc(a->build_args, (a->n_build_args + 1) * sizeof(*l));
	if (!l) {
		free(kv);
		return ocb_error_sys(err, "out of memory");
	}
	l[a->n_build_args++] = kv;
	a->build_args = l;
	return 0;
}

/* 1 when --help was asked for. */
static int check_parse_args(int argc, char **argv, struct check_args *a, struct ocb_error *err)
{
	static const struct option longopts[] = {
	    {"build-arg", required_argument, NULL, 'b'},
	    {"arch", required_argument, NULL, 'a'},
	    {"platform", required_argument, NULL, 'p'},
	    {"target", required_argument, NULL, 't'},
	    {"format", required_argument, NULL, 'f'},
	    {"context", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	a->format = "text";
	optind = 0; /* GNU getopt: start afresh */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (add_build_arg(a, optarg, err) < 0)
				return -1;
			break;
		case 'a':
			a->arch = optarg;
			break;
		case 'p':
			a->platforms = optarg;
			break;
		case 't':
			a->target = optarg;
			break;
		case 'f':
			a->format = optarg;
			break;
		case 'c':
			a->context = optarg;
			break;
		case 'h':
			return 1;
		default:
			return cli_usage_error(err, "check", "unknown or incomplete option '%s'",
					       argv[optind - 1]);
		}
	}
	if (strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0)
		return cli_usage_error(err, "check", "--format '%s': expected text or json", a->format);
	if (argc - optind > 1)
		return cli_usage_error(err, "check", "one recipe at a time");
	a->recipe = optind < argc ? argv[optind] : "recipe.toml";
	return 0;
}

static int check_platforms(const struct check_args *a, const struct toml_value *root,
			   struct recipe_platform **plats, size_t *n, struct recipe **first,
			   struct ocb_error *err)
{
	struct recipe_options o = {(const char *const *)a->build_args, a->n_build_args, NULL, NULL,
				   a->target};
	cleanup_free const char **names = NULL;
	struct recipe *r = NULL;
	int rc;

	/* A first load for the host finds [image].platforms (and any error). */
	if (recipe_load_toml(root, a->recipe, &o, &r, err) < 0)
		return -1;
	names = calloc(r->platforms.len + 1, sizeof(*names));
	if (!names) {
		recipe_free(r);
		return ocb_error_sys(err, "out of memory");
	}
	for (size_t i = 0; i < r->platforms.len; i++)
		names[i] = r->platforms.items[i].value;
	rc = recipe_platforms_select(a->platforms, a->arch, names, r->platforms.len, plats, n, err);
	if (rc < 0)
		err->code = OCB_EINVAL;
	*first = r;
	return rc;
}

/* The context's ignore file is checked too: a bad pattern would fail the build. */
static int check_context_load(const struct check_args *a, char **dir, struct recipe_ignore **ig,
			      struct ocb_error *err)
{
	const char *slash = strrchr(a->recipe, '/');

	if (a->context)
		*dir = strdup(a->context);
	else if (slash)
		*dir = strndup(a->recipe, slash == a->recipe ? 1 : (size_t)(slash - a->recipe));
	else
		*dir = strdup(".");
	if (!*dir)
		return ocb_error_sys(err, "out of memory");
	if (recipe_ignore_load(*dir, ig, err) < 0) {
		if (err->code == OCB_ELIMIT)
			err->code = OCB_EINVAL;
		return -1;
	}
	return 0;
}

static int check_run(const struct check_args *a, struct ocb_error *err)
{
	struct toml_value *root = NULL;
	struct recipe *first = NULL;
	cleanup_free struct recipe_platform *plats = NULL;
	struct check_platform *res = NULL;
	struct recipe_ignore *ig = NULL;
	cleanup_free char *ctxdir = NULL;
	struct check_context ctx;
	size_t n = 0, done = 0;
	int rc = -1;

	if (toml_parse_file(a->recipe, &root, err) < 0) {
		if (err->code == OCB_ELIMIT)
			err->code = OCB_EINVAL;
		return -1;
	}
	if (check_platforms(a, root, &plats, &n, &first, err) < 0)
		goto out;
	res = calloc(n, sizeof(*res));
	if (!res) {
		ocb_error_sys(err, "out of memory");
		goto out;
	}
	for (; done < n; done++) {
		struct recipe_options o = {(const char *const *)a->build_args, a->n_build_args,
					   plats[done].str, NULL, a->target};
		if (recipe_load_toml(root, a->recipe, &o, &res[done].recipe, err) < 0)
			goto out;
		if (recipe_graph_build(res[done].recipe, res[done].recipe->target_stage, &res[done].graph,
				       err) < 0) {
			recipe_free(res[done].recipe);
			goto out;
		}
	}
	if (check_context_load(a, &ctxdir, &ig, err) < 0)
		goto out;
	ctx.dir = ctxdir;
	ctx.ignore = ig;
	for (size_t i = 0; i < first->n_warnings; i++)
		fprintf(stderr, "ocb: warning: %s\n", first->warnings[i]);
	rc = !strcmp(a->format, "json") ? check_render_json(stdout, &ctx, res, n, err)
					: check_render_text(stdout, &ctx, res, n, err);
out:
	for (size_t i = 0; i < done; i++) {
		recipe_graph_release(&res[i].graph);
		recipe_free(res[i].recipe);
	}
	free(res);
	recipe_ignore_free(ig);
	recipe_free(first);
	toml_free(root);
	return rc;
}

int cmd_check(int argc, char **argv, struct ocb_error *err)
{
	struct check_args a = {0};
	int rc = check_parse_args(argc, argv, &a, err);

	if (rc == 1) {
		check_usage(stdout);
		rc = 0;
	} else if (rc == 0) {
		rc = check_run(&a, err);
	}
	check_args_release(&a);
	return rc;
}
