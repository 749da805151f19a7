/* The environments of a stage's image and of its run steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipes/recipe.h"
#include "recipes/recipe_expand.h"
#include "recipes/recipe_vars.h"
#include "oci/banned.h"

struct env_list {
	char **items; /* "KEY=VALUE", NULL-terminated when len > 0 */
	size_t len;
};

static char **env_find(const struct env_list *e, const char *key, size_t klen)
{
	for (size_t i = 0; i < e->len; i++)
		if (!strncmp(e->items[i], key, klen) && e->items[i][klen] == '=')
			return &e->items[i];
	return NULL;
}

static int env_put_kv(struct env_list *e, char *kv, size_t klen, struct ocb_error *err)
{
	char **slot = env_find(e, kv, klen), **items;

	if (slot) {
		free(*slot);
		*slot = kv;
		return 0;
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

static int env_put(struct env_list *e, const char *key, const char *value, struct ocb_error *err)
{
	char *kv;

	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return ocb_error_sys(err, "out of memory");
	return env_put_kv(e, kv, strlen(key), err);
}

/* Entries of a "KEY=VALUE" array; one without '=' is skipped. */
static int env_put_all(struct env_list *e, const char *const *list, struct ocb_error *err)
{
	for (; list && *list; list++) {
		const char *eq = strchr(*list, '=');
		char *kv;
		if (!eq || eq == *list)
			continue;
		kv = strdup(*list);
		if (!kv || env_put_kv(e, kv, (size_t)(eq - *list), err) < 0)
			return kv ? -1 : ocb_error_sys(err, "out of memory");
	}
	return 0;
}

/* Lookup for expansion: the list being built, then [args] and the platform variables. */
struct env_scope {
	const struct env_list *local;
	const struct env_list *image;
	const struct recipe_vars *args;
};

static const char *env_scope_lookup(void *ctx, const char *name, size_t len)
{
	const struct env_scope *s = ctx;
	const struct env_list *lists[] = {s->local, s->image};

	for (size_t i = 0; i < 2; i++) {
		char **kv = lists[i] ? env_find(lists[i], name, len) : NULL;
		if (kv)
			return *kv + len + 1;
	}
	return recipe_vars_get(s->args, name, len);
}

static int platform_vars(struct env_list *e, struct recipe_vars *v, const char *prefix,
			 const struct recipe_platform *p, struct ocb_error *err)
{
	const char *names[] = {"PLATFORM", "OS", "ARCH", "VARIANT"};
	const char *values[] = {p->str, p->os, p->arch, p->variant};

	for (size_t i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		if ((e && env_put(e, name, values[i], err) < 0) ||
		    (v && recipe_vars_set(v, name, values[i], err) < 0))
			return -1;
	}
	return 0;
}

/* The platform variables and [args], as a list (when e) and as a scope. */
static int recipe_scope(const struct recipe *r, struct env_list *e, struct recipe_vars *platform,
			struct recipe_vars *args, struct ocb_error *err)
{
	args->parent = platform;
	if (platform_vars(e, platform, "TARGET", &r->target_platform, err) < 0 ||
	    platform_vars(e, platform, "BUILD", &r->build_platform, err) < 0)
		return -1;
	for (size_t i = 0; i < r->args.len; i++) {
		const char *k = r->args.items[i].key.value, *v = r->args.items[i].value.value;
		if ((e && env_put(e, k, v, err) < 0) || recipe_vars_set(args, k, v, err) < 0)
			return -1;
	}
	return 0;
}

/* Apply map m onto *local, each value expanded from its raw text. */
static int env_apply(struct env_list *local, const struct env_list *image, const struct recipe_vars *args,
		     const struct recipe_map *m, struct ocb_error *err)
{
	struct env_scope scope = {local, image, args};

	for (size_t i = 0; i < m->len; i++) {
		char *val;
		int rc;
		if (recipe_expand_fn(m->items[i].value.raw, env_scope_lookup, &scope, &val, err) < 0)
			return -1;
		rc = env_put(local, m->items[i].key.value, val, err);
		free(val);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int stage_image_env(const struct recipe *r, const struct recipe_stage *stage,
			   const char *const *base_env, const struct recipe_vars *args, struct env_list *out,
			   struct ocb_error *err)
{
	if (env_put_all(out, base_env, err) < 0)
		return -1;
	return env_apply(out, NULL, args, &stage->env, err);
}

int recipe_stage_image_env(const struct recipe *r, const struct recipe_stage *stage,
			   const char *const *base_env, char ***envp, struct ocb_error *err)
{
	struct recipe_vars platform = RECIPE_VARS_INIT, args = RECIPE_VARS_INIT;
	struct env_list e = {0};
	int rc = -1;

	if (recipe_scope(r, NULL, &platform, &args, err) < 0 ||
	    stage_image_env(r, stage, base_env, &args, &e, err) < 0)
		goto out;
	if (!e.items && !(e.items = calloc(1, sizeof(*e.items)))) {
		ocb_error_sys(err, "out of memory");
		goto out;
	}
	*envp = e.items;
	e.items = NULL;
	rc = 0;
out:
	recipe_env_free(e.items);
	recipe_vars_release(&args);
	recipe_vars_release(&platform);
	return rc;
}

int recipe_step_env(const struct recipe *r, const struct recipe_stage *stage, const struct recipe_step *step,
		    const char *const *base_env, char ***envp, struct ocb_error *err)
{
	struct recipe_vars platform = RECIPE_VARS_INIT, args = RECIPE_VARS_INIT;
	struct env_list e = {0}, image = {0}, local = {0};
	int rc = -1;

	if (recipe_scope(r, &e, &platform, &args, err) < 0 ||
	    stage_image_env(r, stage, base_env, &args, &image, err) < 0 ||
	    env_put_all(&e, (const char *const *)image.items, err) < 0 ||
	    (step && env_apply(&local, &image, &args, &step->env, err) < 0) ||
	    env_put_all(&e, (const char *const *)local.items, err) < 0)
		goto out;
	*envp = e.items;
	e.items = NULL;
	rc = 0;
out:
	recipe_env_free(e.items);
	recipe_env_free(image.items);
	recipe_env_free(local.items);
	recipe_vars_release(&args);
	recipe_vars_release(&platform);
	return rc;
}

void recipe_env_free(char **envp)
{
	if (!envp)
		return;
	for (char **p = envp; *p; p++)
		free(*p);
	free(envp);
}
