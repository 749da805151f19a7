/* Planning a build: the platforms to build, the recipe loaded for one target platform, the stage
 * graph of the target, every base resolved before anything runs. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "builder/sandbox.h"
#include "oci/cleanup.h"
#include "recipes/recipe_platform.h"
#include "oci/banned.h"

/* A recipe that cannot be read or parsed is a usage error (exit 2). */
static int parse_recipe_file(const char *path, struct toml_value **root, struct ocb_error *err)
{
	if (toml_parse_file(path, root, err) < 0) {
		if (err->code == OCB_ELIMIT || err->code == OCB_EFAIL)
			err->code = err->errnum ? OCB_EINVAL : err->code;
		return -1;
	}
	return 0;
}

int build_select_platforms(const struct build_options *o, struct recipe_platform **out, size_t *n,
			   struct ocb_error *err)
{
	struct recipe_options ro = {o->build_args, o->n_build_args, NULL, NULL, o->target};
	cleanup_free const char **names = NULL;
	struct toml_value *root = NULL;
	struct recipe *r = NULL;
	int rc = -1;

	if (parse_recipe_file(o->recipe_path, &root, err) < 0)
		return -1;
	if (recipe_load_toml(root, o->recipe_path, &ro, &r, err) < 0)
		goto out;
	if (!(names = calloc(r->platforms.len + 1, sizeof(*names)))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->platforms.len; i++)
		names[i] = r->platforms.items[i].value;
	if (recipe_platforms_select(o->platform_list, o->arch, names, r->platforms.len, out, n, err) < 0) {
		err->code = OCB_EINVAL;
		goto out;
	}
	rc = 0;
out:
	recipe_free(r);
	toml_free(root);
	return rc;
}

/* The recipe, loaded for b->platform_str. */
static int load_recipe(struct build *b, struct ocb_error *err)
{
	const struct build_options *o = b->opts;
	struct recipe_options ro = {o->build_args, o->n_build_args, b->platform_str, NULL, o->target};
	struct toml_value *root = NULL;
	int rc;

	if (parse_recipe_file(o->recipe_path, &root, err) < 0)
		return -1;
	rc = recipe_load_toml(root, o->recipe_path, &ro, &b->recipe, err);
	toml_free(root);
	if (rc == 0)
		rc = oci_platform_parse(b->recipe->target_platform.str, &b->platform, err);
	return rc;
}

/* Run steps for a foreign architecture need binfmt_misc + qemu. */
static int check_arches(struct build *b, struct ocb_error *err)
{
	struct recipe_platform host;

	if (recipe_platform_host(&host, err) < 0)
		return -1;
	for (size_t i = 0; i < b->graph.n_order; i++) {
		const struct recipe_stage *st = &b->recipe->stages[b->graph.order[i]];
		bool runs = false;
		for (size_t k = 0; k < st->n_steps; k++)
			runs |= st->steps[k].kind == RECIPE_STEP_RUN;
		if (runs && strcmp(st->resolved_platform.arch, host.arch) != 0 &&
		    sandbox_check_binfmt(st->resolved_platform.arch, err) < 0)
			return ocb_error_wrap(err, "stage '%s' runs commands for %s", st->name,
					      st->resolved_platform.str);
	}
	return 0;
}

static int default_context(struct build *b, struct ocb_error *err)
{
	cleanup_free char *copy = strdup(b->opts->recipe_path);

	if (!copy)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	b->context = strdup(b->opts->context_dir ? b->opts->context_dir : dirname(copy));
	if (!b->context)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

int build_plan(struct build *b, struct ocb_error *err)
{
	size_t n;

	if (load_recipe(b, err) < 0)
		return -1;
	for (size_t i = 0; i < b->recipe->n_warnings; i++)
		fprintf(stderr, "ocb: warning: %s\n", b->recipe->warnings[i]);
	if (recipe_graph_build(b->recipe, b->recipe->target_stage, &b->graph, err) < 0 ||
	    check_arches(b, err) < 0 || default_context(b, err) < 0 || build_copy_init(b, err) < 0)
		return -1;
	n = b->recipe->n_stages;
	b->bases = calloc(n, sizeof(*b->bases));
	b->result = calloc(n, sizeof(*b->result));
	b->stage_done = calloc(n, sizeof(*b->stage_done));
	if (!b->bases || !b->result || !b->stage_done)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < b->graph.n_order; i++) {
		size_t s = b->graph.order[i];
		if (b->recipe->stages[s].base != RECIPE_BASE_STAGE && build_resolve_base(b, s, err) < 0)
			return -1;
	}
	return 0;
}
