/* Loading one step of a stage: { run = ... } or { copy = ..., to = ... }. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipes/recipe_ignore.h"
#include "recipes/recipe_load.h"
#include "oci/banned.h"

#define SECRET_ID_MAX 255

static const char *const step_keys[] = {"run", "copy",	  "to",	  "from",    "chmod", "chown",	 "exclude",
					"env", "workdir", "user", "network", "cache", "secrets", NULL};
static const char *const run_only_keys[] = {"env", "user", "network", "cache", "secrets", NULL};
static const char *const copy_only_keys[] = {"to", "from", "chmod", "chown", "exclude", NULL};

static int step_kind_keys(struct recipe_loader *ld, const struct toml_value *t, const char *const *wrong,
			  const char *kind)
{
	for (size_t i = 0; wrong[i]; i++) {
		const struct toml_kv *kv = toml_table_get_kv(t, wrong[i]);
		if (kv)
			return recipe_errorf(ld, kv->key_pos, "'%s' does not apply to a %s step", kv->key,
					     kind);
	}
	return 0;
}

static int step_network(struct recipe_loader *ld, const struct toml_value *t, struct recipe_step *step)
{
	if (recipe_read_str(ld, t, "network", NULL, &step->network) < 0)
		return -1;
	if (!step->network.value || !strcmp(step->network.value, "default"))
		step->net = RECIPE_NETWORK_DEFAULT;
	else if (!strcmp(step->network.value, "none"))
		step->net = RECIPE_NETWORK_NONE;
	else if (!strcmp(step->network.value, "host"))
		step->net = RECIPE_NETWORK_HOST;
	else
		return recipe_errorf(ld, recipe_tpos(step->network.pos),
				     "'network' must be \"default\", \"none\" or \"host\", got \"%s\"",
				     step->network.value);
	return 0;
}

static int step_cache(struct recipe_loader *ld, const struct toml_value *t, const struct recipe_vars *scope,
		      struct recipe_step *step)
{
	if (recipe_read_strv(ld, t, "cache", scope, false, &step->cache) < 0)
		return -1;
	for (size_t i = 0; i < step->cache.len; i++) {
		const struct recipe_str *s = &step->cache.items[i];
		if (s->value[0] != '/')
			return recipe_errorf(ld, recipe_tpos(s->pos), "cache path '%s' must be absolute",
					     s->value);
		if (!strcmp(s->value, "/"))
			return recipe_errorf(ld, recipe_tpos(s->pos),
					     "cache path '/' would hide the whole root");
	}
	return 0;
}

static int step_secrets(struct recipe_loader *ld, const struct toml_value *t, struct recipe_step *step)
{
	if (recipe_read_strv(ld, t, "secrets", NULL, false, &step->secrets) < 0)
		return -1;
	for (size_t i = 0; i < step->secrets.len; i++) {
		const struct recipe_str *s = &step->secrets.items[i];
		size_t n = strlen(s->value);
		bool ok = n > 0 && n <= SECRET_ID_MAX && strcmp(s->value, ".") && strcmp(s->value, "..");
		for (size_t j = 0; ok && j < n; j++) {
			char c = s->value[j];
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			     c == '.' || c == '_' || c == '-';
		}
		if (!ok)
			return recipe_errorf(ld, recipe_tpos(s->pos),
					     "invalid secret id '%s' (letters, digits, '.', '_', '-')",
					     s->value);
	}
	return 0;
}

static int step_run(struct recipe_loader *ld, const struct toml_value *t, const struct recipe_vars *scope,
		    struct recipe_step *step)
{
	step->kind = RECIPE_STEP_RUN;
	if (step_kind_keys(ld, t, copy_only_keys, "run") < 0 || recipe_read_cmd(ld, t, "run", &step->run) < 0)
		return -1;
	if (!step->run.argv.len)
		return recipe_errorf(ld, recipe_tpos(step->run.pos), "'run' is an empty array");
	if (recipe_read_str(ld, t, "user", scope, &step->user) < 0 || step_network(ld, t, step) < 0 ||
	    step_cache(ld, t, scope, step) < 0 || step_secrets(ld, t, step) < 0)
		return -1;
	if (step->user.value && !*step->user.value)
		return recipe_errorf(ld, recipe_tpos(step->user.pos), "'user' is empty");
	return 0;
}

static int copy_chmod(struct recipe_loader *ld, const struct toml_value *t, struct recipe_copy *c)
{
	const struct toml_value *v = toml_table_get(t, "chmod");
	long mode = 0;

	if (!v)
		return 0;
	if (v->type == TOML_INTEGER) {
		mode = v->u.integer >= 0 && v->u.integer <= 07777 ? (long)v->u.integer : -1;
	} else if (v->type == TOML_STRING) {
		const char *s = v->u.str.ptr;
		size_t n = strlen(s);
		if (n < 1 || n > 4 || n != v->u.str.len)
			mode = -1;
		for (size_t i = 0; mode >= 0 && i < n; i++)
			mode = s[i] >= '0' && s[i] <= '7' ? mode * 8 + (s[i] - '0') : -1;
	} else {
		mode = -1;
	}
	if (mode < 0)
		return recipe_errorf(ld, v->pos, "'chmod' must be an octal mode like \"0644\" (0 to 7777)");
	c->chmod_set = true;
	c->chmod = (uint32_t)mode;
	c->chmod_pos = recipe_pos_at(ld, v->pos);
	return 0;
}

static int copy_chown(struct recipe_loader *ld, const struct toml_value *t, const struct recipe_vars *scope,
		      struct recipe_copy *c)
{
	const char *colon;

	if (recipe_read_str(ld, t, "chown", scope, &c->chown) < 0)
		return -1;
	if (!c->chown.value)
		return 0;
	colon = strchr(c->chown.value, ':');
	if (!*c->chown.value || colon == c->chown.value || (colon && (!colon[1] || strchr(colon + 1, ':'))))
		return recipe_errorf(ld, recipe_tpos(c->chown.pos),
				     "'chown' must be \"user\" or \"user:group\" (names or ids), got \"%s\"",
				     c->chown.value);
	c->chown_user =
	    colon ? strndup(c->chown.value, (size_t)(colon - c->chown.value)) : strdup(c->chown.value);
	if (!c->chown_user || (colon && !(c->chown_group = strdup(colon + 1))))
		return ocb_error_sys(ld->err, "out of memory");
	return 0;
}

static int copy_exclude(struct recipe_loader *ld, const struct toml_value *t, const struct recipe_vars *scope,
			struct recipe_copy *c)
{
	if (recipe_read_strv(ld, t, "exclude", scope, false, &c->exclude) < 0)
		return -1;
	for (size_t i = 0; i < c->exclude.len; i++) {
		const struct recipe_str *s = &c->exclude.items[i];
		struct recipe_ignore *ig = NULL;
		if (recipe_ignore_from_list("exclude", (const char *const *)&s->value, 1, &ig, ld->err) < 0)
			return recipe_errorf(ld, recipe_tpos(s->pos), "invalid exclude pattern '%s'",
					     s->value);
		recipe_ignore_free(ig);
	}
	return 0;
}

static int step_copy(struct recipe_loader *ld, const struct toml_value *t, const struct recipe_vars *scope,
		     struct recipe_step *step)
{
	struct recipe_copy *c = &step->copy;

	step->kind = RECIPE_STEP_COPY;
	if (step_kind_keys(ld, t, run_only_keys, "copy") < 0 ||
	    recipe_read_strv(ld, t, "copy", scope, true, &c->sources) < 0)
		return -1;
	if (!c->sources.len)
		return recipe_errorf(ld, recipe_tpos(c->sources.pos), "'copy' needs at least one source");
	for (size_t i = 0; i < c->sources.len; i++)
		if (!*c->sources.items[i].value)
			return recipe_errorf(ld, recipe_tpos(c->sources.items[i].pos),
					     "'copy' source is empty");
	if (!toml_table_get(t, "to"))
		return recipe_errorf(ld, t->pos, "a copy step needs 'to' (the destination path)");
	if (recipe_read_str(ld, t, "to", scope, &c->to) < 0 ||
	    recipe_read_str(ld, t, "from", scope, &c->from) < 0 || copy_chmod(ld, t, c) < 0 ||
	    copy_chown(ld, t, scope, c) < 0 || copy_exclude(ld, t, scope, c) < 0)
		return -1;
	if (!*c->to.value)
		return recipe_errorf(ld, recipe_tpos(c->to.pos), "'to' is empty");
	if (c->from.value && !*c->from.value)
		return recipe_errorf(ld, recipe_tpos(c->from.pos), "'from' is empty");
	return 0;
}

int recipe_load_step(struct recipe_loader *ld, const struct recipe_stage *st, const struct toml_value *v,
		     const struct recipe_vars *stage_scope, struct recipe_step *step)
{
	struct recipe_vars scope = RECIPE_VARS_INIT;
	const struct toml_kv *run, *copy;
	char where[256];
	int rc = -1;

	step->pos = recipe_pos_at(ld, v->pos);
	if (v->type != TOML_TABLE)
		return recipe_errorf(ld, v->pos,
				     "a step must be a table like { run = \"...\" } or { copy = \"...\", to "
				     "= \"...\" }, got %s",
				     toml_type_name(v->type));
	snprintf(where, sizeof(where), "step %zu of [stages.%s]", step->index + 1, st->name);
	if (recipe_check_keys(ld, v, step_keys, where) < 0)
		return -1;
	run = toml_table_get_kv(v, "run");
	copy = toml_table_get_kv(v, "copy");
	if (run && copy)
		return recipe_errorf(ld, copy->key_pos, "a step is either 'run' or 'copy', not both");
	if (!run && !copy)
		return recipe_errorf(ld, v->pos, "%s has neither 'run' nor 'copy'", where);
	/* The step's env is seen by its own fields; the stage's env by all. */
	if (recipe_read_map(ld, v, "env", stage_scope, false, &scope, &step->env) < 0 ||
	    recipe_read_str(ld, v, "workdir", &scope, &step->workdir) < 0)
		goto out;
	if (step->workdir.value && !*step->workdir.value) {
		recipe_errorf(ld, recipe_tpos(step->workdir.pos), "'workdir' is empty");
		goto out;
	}
	rc = run ? step_run(ld, v, &scope, step) : step_copy(ld, v, &scope, step);
out:
	recipe_vars_release(&scope);
	return rc;
}
