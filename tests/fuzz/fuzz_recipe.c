/* libFuzzer target for the recipe layer: load a recipe from arbitrary bytes
 * (TOML, model, expansion, resolution), then build its graph, render both
 * environments and match an ignore file made of the same bytes.  Any crash,
 * leak, hang or sanitizer report is a bug; a rejected recipe is fine. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "recipes/recipe.h"
#include "recipes/recipe_graph.h"
#include "recipes/recipe_ignore.h"
#include "oci/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct recipe *r)
{
	static const char *const base[] = {"PATH=/usr/bin:/bin", "HOME=/root", NULL};
	struct ocb_error err = OCB_ERROR_INIT;
	struct recipe_graph g;

	if (recipe_graph_build(r, r->target_stage, &g, &err) == 0)
		recipe_graph_release(&g);
	for (size_t i = 0; i < r->n_stages; i++) {
		const struct recipe_stage *st = &r->stages[i];
		char **env = NULL;
		if (recipe_stage_image_env(r, st, base, &env, &err) == 0)
			recipe_env_free(env);
		for (size_t j = 0; j < st->n_steps; j++)
			if (recipe_step_env(r, st, &st->steps[j], base, &env, &err) == 0)
				recipe_env_free(env);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const build_args[] = {"VERSION=9", "UNDECLARED=1"};
	struct recipe_options opts = {build_args, 2, "linux/arm64", "linux/amd64", NULL};
	struct ocb_error err = OCB_ERROR_INIT;
	struct recipe_ignore *ig = NULL;
	struct recipe *r = NULL;

	if (recipe_load_string("fuzz.toml", (const char *)data, size, &opts, &r, &err) == 0) {
		exercise(r);
		recipe_free(r);
	}
	if (recipe_ignore_parse(".ocbignore", (const char *)data, size, &ig, &err) == 0) {
		recipe_ignore_match(ig, "a/b/c.go");
		recipe_ignore_match(ig, "node_modules/x/y.js");
		recipe_ignore_free(ig);
	}
	return 0;
}
