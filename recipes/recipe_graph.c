#include "recipes/recipe_graph.h"

#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

/* wave(s) = 0 without deps, else 1 + the largest wave of its deps. */
static int graph_wave(const struct recipe *r, size_t s, size_t *wave, unsigned char *visiting,
		      struct ocb_error *err)
{
	const struct recipe_stage *st = &r->stages[s];
	size_t w = 0;

	if (wave[s] != RECIPE_NO_WAVE)
		return 0;
	if (visiting[s])
		return ocb_error_set(err, OCB_EINVAL, 0, "stage cycle through '%s'", st->name);
	visiting[s] = 1;
	for (size_t i = 0; i < st->n_deps; i++) {
		size_t d = st->deps[i].stage;
		if (graph_wave(r, d, wave, visiting, err) < 0)
			return -1;
		if (wave[d] + 1 > w)
			w = wave[d] + 1;
	}
	visiting[s] = 0;
	wave[s] = w;
	return 0;
}

int recipe_graph_build(const struct recipe *r, size_t target, struct recipe_graph *g, struct ocb_error *err)
{
	struct recipe_graph res = {0};
	cleanup_free unsigned char *visiting = NULL;

	if (target >= r->n_stages)
		return ocb_error_set(err, OCB_EINVAL, 0, "no stage %zu in the recipe", target);
	visiting = calloc(r->n_stages, 1);
	res.target = target;
	res.wave = malloc(r->n_stages * sizeof(*res.wave));
	res.order = malloc(r->n_stages * sizeof(*res.order));
	if (!visiting || !res.wave || !res.order) {
		recipe_graph_release(&res);
		return ocb_error_sys(err, "out of memory");
	}
	for (size_t i = 0; i < r->n_stages; i++)
		res.wave[i] = RECIPE_NO_WAVE;
	if (graph_wave(r, target, res.wave, visiting, err) < 0) {
		recipe_graph_release(&res);
		return -1;
	}
	res.n_waves = res.wave[target] + 1;
	for (size_t w = 0; w < res.n_waves; w++)
		for (size_t i = 0; i < r->n_stages; i++)
			if (res.wave[i] == w)
				res.order[res.n_order++] = i;
	*g = res;
	return 0;
}

void recipe_graph_wave(const struct recipe_graph *g, size_t w, size_t *first, size_t *count)
{
	size_t i = 0, n = 0;

	while (i < g->n_order && g->wave[g->order[i]] < w)
		i++;
	while (i + n < g->n_order && g->wave[g->order[i + n]] == w)
		n++;
	*first = i;
	*count = n;
}

void recipe_graph_release(struct recipe_graph *g)
{
	if (!g)
		return;
	free(g->order);
	free(g->wave);
	g->order = g->wave = NULL;
	g->n_order = g->n_waves = 0;
}
