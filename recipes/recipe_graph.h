/* The stage graph of a loaded recipe: which stages a target needs (through
 * 'from' and copy 'from'), an order to build them in, and the waves of
 * stages that can be built at the same time. */
#ifndef OCB_RECIPE_GRAPH_H
#define OCB_RECIPE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "recipes/recipe.h"

#define RECIPE_NO_WAVE ((size_t)-1)

struct recipe_graph {
	size_t target; /* stage index */
	size_t *order; /* the needed stages: by wave, then in document order */
	size_t n_order;
	size_t *wave; /* per stage (n_stages entries): 0-based wave, RECIPE_NO_WAVE if not needed */
	size_t n_waves;
};

/* The graph for building stage target (recipe_load has already refused
 * cycles; one found here anyway is OCB_EINVAL). */
int recipe_graph_build(const struct recipe *r, size_t target, struct recipe_graph *g, struct ocb_error *err);
/* The stages of wave w (indexes into order): order[*first .. *first + *count). */
void recipe_graph_wave(const struct recipe_graph *g, size_t w, size_t *first, size_t *count);
void recipe_graph_release(struct recipe_graph *g);

#endif
