/* Rendering the result of `ocb check`: the resolved recipe and its stage
 * graph per platform, as text or as a JSON document (docs/ocb-check.md). */
#ifndef OCB_CHECK_RENDER_H
#define OCB_CHECK_RENDER_H

#include <stdio.h>

#include "recipes/recipe.h"
#include "recipes/recipe_graph.h"
#include "recipes/recipe_ignore.h"

struct check_platform {
	struct recipe *recipe; /* loaded for this target platform */
	struct recipe_graph graph;
};

/* The build context: its directory and its ignore file (checked, not walked). */
struct check_context {
	const char *dir;
	const struct recipe_ignore *ignore;
};

int check_render_text(FILE *out, const struct check_context *ctx, const struct check_platform *p, size_t n,
		      struct ocb_error *err);
int check_render_json(FILE *out, const struct check_context *ctx, const struct check_platform *p, size_t n,
		      struct ocb_error *err);

#endif
