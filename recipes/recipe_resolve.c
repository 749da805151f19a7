/* Cross references between stages: what each 'from' and copy 'from' names
 * (a stage, scratch or an image), the copy sources of the build context, the
 * target, and cycles.
 *
 * Naming rules (docs/recipe.md):
 *   - a stage 'from' equal to a stage name is that stage; "scratch" is the
 *     empty base; anything else is an image reference, except a bare word
 *     (no '/', ':', '.', '@') that is one or two edits from a stage name,
 *     which is reported as a misspelt stage;
 *   - a copy 'from' equal to a stage name is that stage; one with '/', ':',
 *     '.' or '@' is an image; any other bare word is an unknown stage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "recipes/recipe_load.h"
#include "recipes/recipe_path.h"
#include "oci/banned.h"

static bool looks_like_image(const char *s)
{
	return strpbrk(s, "/:.@") != NULL;
}

static int stage_index(const struct recipe *r, const char *name, size_t *idx)
{
	for (size_t i = 0; i < r->n_stages; i++) {
		if (!strcmp(r->stages[i].name, name)) {
			*idx = i;
			return 0;
		}
	}
	return -1;
}

/* "a, b, c" (truncated when long) and the closest name to word. */
static const char *stage_names(const struct recipe *r, const char *word, char *buf, size_t size)
{
	const char *cands[64];
	size_t off = 0, n = r->n_stages < 64 ? r->n_stages : 64;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n_stages && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", r->stages[i].name);
	for (size_t i = 0; i < n; i++)
		cands[i] = r->stages[i].name;
	return recipe_hint(word, cands, n);
}

static int unknown_stage(struct recipe_loader *ld, struct recipe_pos pos, const char *what, const char *name)
{
	char names[512], hint[200] = "";
	const char *h = stage_names(ld->r, name, names, sizeof(names));

	if (h)
		snprintf(hint, sizeof(hint), "did you mean '%s'? ", h);
	if (!pos.line)
		return ocb_error_set(ld->err, OCB_EINVAL, 0, "%s: unknown stage '%s' (%sstages: %s)", what,
				     name, hint, names);
	return recipe_errorf(ld, recipe_tpos(pos), "%s: unknown stage '%s' (%sstages: %s)", what, name, hint,
			     names);
}

static int add_dep(struct recipe_loader *ld, struct recipe_stage *st, size_t stage, struct recipe_pos pos)
{
	struct recipe_dep *d;

	for (size_t i = 0; i < st->n_deps; i++)
		if (st->deps[i].stage == stage)
			return 0;
	d = realloc(st->deps, (st->n_deps + 1) * sizeof(*d));
	if (!d)
		return ocb_error_sys(ld->err, "out of memory");
	st->deps = d;
	st->deps[st->n_deps].stage = stage;
	st->deps[st->n_deps].pos = pos;
	st->n_deps++;
	return 0;
}

static int resolve_base(struct recipe_loader *ld, struct recipe_stage *st)
{
	const char *from = st->from.value;
	char names[512];

	if (!strcmp(from, "scratch")) {
		st->base = RECIPE_BASE_SCRATCH;
		return 0;
	}
	if (stage_index(ld->r, from, &st->base_stage) == 0) {
		st->base = RECIPE_BASE_STAGE;
		return add_dep(ld, st, st->base_stage, st->from.pos);
	}
	if (!looks_like_image(from) && stage_names(ld->r, from, names, sizeof(names)))
		return recipe_errorf(
		    ld, recipe_tpos(st->from.pos),
		    "'from': unknown stage '%s' (did you mean '%s'? write '%s:latest' for an image)", from,
		    stage_names(ld->r, from, names, sizeof(names)), from);
	st->base = RECIPE_BASE_IMAGE;
	return 0;
}

static int context_sources(struct recipe_loader *ld, struct recipe_copy *c)
{
	for (size_t i = 0; i < c->sources.len; i++) {
		struct recipe_str *s = &c->sources.items[i];
		char *clean;
		if (recipe_path_context_source(s->value, &clean, ld->err) < 0)
			return recipe_error_at(ld, recipe_tpos(s->pos));
		if (s->value != s->raw)
			free(s->value);
		s->value = clean;
	}
	return 0;
}

static int resolve_copy(struct recipe_loader *ld, struct recipe_stage *st, struct recipe_copy *c)
{
	const char *from = c->from.value;

	if (!from) {
		c->origin = RECIPE_COPY_CONTEXT;
		return context_sources(ld, c);
	}
	if (stage_index(ld->r, from, &c->from_stage) == 0) {
		c->origin = RECIPE_COPY_STAGE;
		return add_dep(ld, st, c->from_stage, c->from.pos);
	}
	if (!looks_like_image(from))
		return unknown_stage(ld, c->from.pos, "copy 'from'", from);
	c->origin = RECIPE_COPY_IMAGE;
	return 0;
}

/* Depth-first search; state 1 = on the current path, 2 = done. */
static int find_cycle(struct recipe_loader *ld, size_t s, unsigned char *state, size_t *path, size_t depth)
{
	const struct recipe_stage *st = &ld->r->stages[s];

	state[s] = 1;
	path[depth] = s;
	for (size_t i = 0; i < st->n_deps; i++) {
		size_t d = st->deps[i].stage;
		if (state[d] == 1) {
			char msg[1024];
			size_t off = 0, start = 0;
			while (path[start] != d)
				start++;
			for (size_t k = start; k <= depth && off < sizeof(msg); k++)
				off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s -> ",
							ld->r->stages[path[k]].name);
			if (off < sizeof(msg))
				snprintf(msg + off, sizeof(msg) - off, "%s", ld->r->stages[d].name);
			return recipe_errorf(ld, recipe_tpos(st->deps[i].pos), "stage cycle: %s", msg);
		}
		if (state[d] == 0 && find_cycle(ld, d, state, path, depth + 1) < 0)
			return -1;
	}
	state[s] = 2;
	return 0;
}

static int check_cycles(struct recipe_loader *ld)
{
	size_t n = ld->r->n_stages;
	cleanup_free unsigned char *state = calloc(n, 1);
	cleanup_free size_t *path = calloc(n, sizeof(*path));

	if (!state || !path)
		return ocb_error_sys(ld->err, "out of memory");
	for (size_t s = 0; s < n; s++)
		if (!state[s] && find_cycle(ld, s, state, path, 0) < 0)
			return -1;
	return 0;
}

static int resolve_target(struct recipe_loader *ld)
{
	struct recipe *r = ld->r;

	if (!r->target.value) {
		r->target_stage = r->n_stages - 1;
		return 0;
	}
	if (stage_index(r, r->target.value, &r->target_stage) == 0)
		return 0;
	return unknown_stage(ld, r->target.pos, "target", r->target.value);
}

int recipe_resolve(struct recipe_loader *ld, const struct toml_value *root)
{
	struct recipe *r = ld->r;

	for (size_t s = 0; s < r->n_stages; s++) {
		struct recipe_stage *st = &r->stages[s];
		if (resolve_base(ld, st) < 0)
			return -1;
		for (size_t i = 0; i < st->n_steps; i++)
			if (st->steps[i].kind == RECIPE_STEP_COPY &&
			    resolve_copy(ld, st, &st->steps[i].copy) < 0)
				return -1;
	}
	return resolve_target(ld) < 0 || check_cycles(ld) < 0 ? -1 : 0;
}
