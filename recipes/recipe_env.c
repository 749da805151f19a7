/* The environment of a run step, from the recipe's side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipes/recipe.h"
#include "oci/banned.h"

struct env_list {
	char **items; /* "KEY=VALUE" */
	size_t len;
};

static int env_put(struct env_list *e, const char *key, const char *value, struct ocb_error *err)
{
	size_t klen = strlen(key);
	char *kv, **items;

	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return ocb_error_sys(err, "out of memory");
	for (size_t i = 0; i < e->len; i++) {
		if (!strncmp(e->items[i], key, klen) && e->items[i][klen] == '=') {
			free(e->items[i]);
			e->items[i] = kv;
			return 0;
		}
	}
	items = realloc(e->items, (e->len + 2) * sizeof(*items));
	if (!items) {
		free(kv);
		return ocb_error_sys(err, "out of memory");
	}
	e->items = items;
	e->items[e->len++] = kv;
	e->items[e->len] = NULL;
	return 0;
}

static int env_platform(struct env_list *e, const char *prefix, const struct recipe_platform *p,
			struct ocb_error *err)
{
	const char *names[] = {"PLATFORM", "OS", "ARCH", "VARIANT"};
	const char *values[] = {p->str, p->os, p->arch, p->variant};

	for (size_t i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		if (env_put(e, name, values[i], err) < 0)
			return -1;
	}
	return 0;
}

static int env_map(struct env_list *e, const struct recipe_map *m, struct ocb_error *err)
{
	for (size_t i = 0; i < m->len; i++)
		if (env_put(e, m->items[i].key.value, m->items[i].value.value, err) < 0)
			return -1;
	return 0;
}

int recipe_step_env(const struct recipe *r, const struct recipe_stage *stage, const struct recipe_step *step,
		    char ***envp, struct ocb_error *err)
{
	struct env_list e = {0};

	if (env_platform(&e, "TARGET", &r->target_platform, err) < 0 ||
	    env_platform(&e, "BUILD", &r->build_platform, err) < 0 || env_map(&e, &r->args, err) < 0 ||
	    env_map(&e, &stage->env, err) < 0 || (step && env_map(&e, &step->env, err) < 0)) {
		recipe_env_free(e.items);
		return -1;
	}
	*envp = e.items;
	return 0;
}

void recipe_env_free(char **envp)
{
	if (!envp)
		return;
	for (char **p = envp; *p; p++)
		free(*p);
	free(envp);
}
