/* Loading a recipe: the top level ([image], [args], version, stages) and the
 * platform variables; stages and steps are in recipe_load_stage.c and
 * recipe_load_step.c, cross references in recipe_resolve.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "recipes/recipe_load.h"
#include "oci/banned.h"

static const char *const top_keys[] = {"version", "image", "args", "stages", NULL};
static const char *const image_keys[] = {"name", "tag", "platforms", "target", NULL};

static int warn(struct recipe_loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(struct recipe_loader *ld, const char *fmt, ...)
{
	struct recipe *r = ld->r;
	char **w = realloc(r->warnings, (r->n_warnings + 1) * sizeof(*w));
	va_list ap;
	int n;

	if (!w)
		return ocb_error_sys(ld->err, "out of memory");
	r->warnings = w;
	va_start(ap, fmt);
	n = vasprintf(&w[r->n_warnings], fmt, ap);
	va_end(ap);
	if (n < 0)
		return ocb_error_sys(ld->err, "out of memory");
	r->n_warnings++;
	return 0;
}

static int platform_vars(struct recipe_loader *ld, const char *prefix, const struct recipe_platform *p)
{
	const char *names[] = {"PLATFORM", "OS", "ARCH", "VARIANT"};
	const char *values[] = {p->str, p->os, p->arch, p->variant};

	for (size_t i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		if (recipe_vars_set(&ld->platform_vars, name, values[i], ld->err) < 0)
			return -1;
	}
	return 0;
}

static int load_platforms(struct recipe_loader *ld)
{
	const struct recipe_options *o = ld->opts;
	struct recipe *r = ld->r;

	if (o->target_platform ? recipe_platform_parse(o->target_platform, &r->target_platform, ld->err)
			       : recipe_platform_host(&r->target_platform, ld->err))
		return ocb_error_wrap(ld->err, "target platform");
	if (o->build_platform ? recipe_platform_parse(o->build_platform, &r->build_platform, ld->err)
			      : recipe_platform_host(&r->build_platform, ld->err))
		return ocb_error_wrap(ld->err, "build platform");
	return platform_vars(ld, "TARGET", &r->target_platform) < 0 ||
		       platform_vars(ld, "BUILD", &r->build_platform) < 0
		   ? -1
		   : 0;
}

static int load_version(struct recipe_loader *ld, const struct toml_value *root)
{
	const struct toml_value *v = toml_table_get(root, "version");

	if (!v)
		return recipe_errorf(ld, root->pos, "missing 'version' (add 'version = %d' at the top)",
				     RECIPE_VERSION);
	if (v->type != TOML_INTEGER)
		return recipe_errorf(ld, v->pos, "'version' must be an integer, got %s",
				     toml_type_name(v->type));
	if (v->u.integer != RECIPE_VERSION)
		return recipe_errorf(ld, v->pos,
				     "unsupported recipe version %lld (this ocb reads version %d)",
				     (long long)v->u.integer, RECIPE_VERSION);
	ld->r->version = v->u.integer;
	ld->r->version_pos = recipe_pos_at(ld, v->pos);
	return 0;
}

static bool var_name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

/* --build-arg KEY=VALUE replaces the [args] default; --build-arg KEY takes
 * KEY's value from the environment and is skipped when KEY is unset there
 * (Docker's rules).  An undeclared KEY is a warning and is not passed on. */
static int apply_build_arg(struct recipe_loader *ld, const char *kv)
{
	const char *eq = strchr(kv, '='), *value;
	struct recipe_map *args = &ld->r->args;
	cleanup_free char *key = NULL;
	char *val;

	if (eq == kv || !*kv)
		return ocb_error_set(ld->err, OCB_EINVAL, 0, "--build-arg '%s': expected KEY=VALUE", kv);
	key = eq ? strndup(kv, (size_t)(eq - kv)) : strdup(kv);
	if (!key)
		return ocb_error_sys(ld->err, "out of memory");
	value = eq ? eq + 1 : getenv(key);
	if (!value)
		return 0;
	for (size_t i = 0; i < args->len; i++) {
		struct recipe_str *v = &args->items[i].value;
		if (strcmp(args->items[i].key.value, key) != 0)
			continue;
		val = strdup(value);
		if (!val)
			return ocb_error_sys(ld->err, "out of memory");
		recipe_str_release(v);
		v->value = v->raw = val;
		return recipe_vars_set(&ld->args, key, val, ld->err);
	}
	return warn(ld, "build-arg '%s' is not declared in [args] and is ignored", key);
}

static int load_args(struct recipe_loader *ld, const struct toml_value *root)
{
	const struct toml_value *v = toml_table_get(root, "args");
	struct recipe_map *args = &ld->r->args;

	/* [args] values are literal: they are the variables, not users of them. */
	if (recipe_read_map(ld, root, "args", NULL, false, NULL, args) < 0)
		return -1;
	for (size_t i = 0; i < args->len; i++) {
		const struct recipe_kv *kv = &args->items[i];
		struct toml_pos pos = v->u.tab.items[i].key_pos;
		if (!var_name_ok(kv->key.value))
			return recipe_errorf(
			    ld, pos, "arg name '%s' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
			    kv->key.value);
		if (recipe_vars_set(&ld->args, kv->key.value, kv->value.value, ld->err) < 0)
			return -1;
	}
	for (size_t i = 0; i < ld->opts->n_build_args; i++)
		if (apply_build_arg(ld, ld->opts->build_args[i]) < 0)
			return -1;
	return 0;
}

static int load_image(struct recipe_loader *ld, const struct toml_value *root)
{
	const struct toml_value *img = toml_table_get(root, "image");
	struct recipe *r = ld->r;

	if (!img)
		return 0;
	if (img->type != TOML_TABLE)
		return recipe_errorf(ld, img->pos, "'image' must be a table, got %s",
				     toml_type_name(img->type));
	if (recipe_check_keys(ld, img, image_keys, "[image]") < 0 ||
	    recipe_read_str(ld, img, "name", &ld->args, &r->image_name) < 0 ||
	    recipe_read_str(ld, img, "tag", &ld->args, &r->image_tag) < 0 ||
	    recipe_read_str(ld, img, "target", NULL, &r->target) < 0 ||
	    recipe_read_strv(ld, img, "platforms", NULL, false, &r->platforms) < 0)
		return -1;
	if (r->image_name.value && !*r->image_name.value)
		return recipe_errorf(ld, toml_table_get(img, "name")->pos, "'name' is empty");
	if (r->image_tag.value && !*r->image_tag.value)
		return recipe_errorf(ld, toml_table_get(img, "tag")->pos, "'tag' is empty");
	for (size_t i = 0; i < r->platforms.len; i++) {
		struct recipe_str *s = &r->platforms.items[i];
		struct toml_pos pos = recipe_tpos(s->pos);
		struct recipe_platform p;
		char *norm;
		if (recipe_platform_parse(s->raw, &p, ld->err) < 0)
			return recipe_error_at(ld, pos);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->platforms.items[j].value, p.str))
				return recipe_errorf(ld, pos, "platform '%s' is listed twice", p.str);
		norm = strdup(p.str);
		if (!norm)
			return ocb_error_sys(ld->err, "out of memory");
		s->value = norm;
	}
	return 0;
}

static int target_override(struct recipe_loader *ld)
{
	struct recipe_str *t = &ld->r->target;

	if (!ld->opts->target)
		return 0;
	recipe_str_release(t);
	t->raw = strdup(ld->opts->target);
	if (!t->raw)
		return ocb_error_sys(ld->err, "out of memory");
	t->value = t->raw;
	t->pos = (struct recipe_pos){NULL, 0, 0}; /* the command line */
	return 0;
}

static int load_stages(struct recipe_loader *ld, const struct toml_value *root)
{
	const struct toml_value *stages = toml_table_get(root, "stages");
	struct recipe *r = ld->r;

	if (!stages)
		return recipe_errorf(ld, root->pos, "the recipe has no stages (add a [stages.NAME] table)");
	if (stages->type != TOML_TABLE)
		return recipe_errorf(ld, stages->pos, "'stages' must be a table of stages, got %s",
				     toml_type_name(stages->type));
	if (!stages->u.tab.len)
		return recipe_errorf(ld, stages->pos, "the recipe has no stages (add a [stages.NAME] table)");
	if (stages->u.tab.len > RECIPE_STAGES_MAX)
		return recipe_errorf(ld, stages->u.tab.items[RECIPE_STAGES_MAX].key_pos,
				     "too many stages (at most %d)", RECIPE_STAGES_MAX);
	r->stages = calloc(stages->u.tab.len, sizeof(*r->stages));
	if (!r->stages)
		return ocb_error_sys(ld->err, "out of memory");
	for (size_t i = 0; i < stages->u.tab.len; i++) {
		r->n_stages++;
		r->stages[i].index = i;
		if (recipe_load_stage(ld, &stages->u.tab.items[i], &r->stages[i]) < 0)
			return -1;
	}
	return 0;
}

int recipe_load_toml(const struct toml_value *root, const char *file, const struct recipe_options *opts,
		     struct recipe **out, struct ocb_error *err)
{
	static const struct recipe_options no_opts = {0};
	struct recipe_loader ld = {0};
	int rc = -1;

	ld.err = err;
	ld.opts = opts ? opts : &no_opts;
	ld.args.parent = &ld.platform_vars;
	ld.r = calloc(1, sizeof(*ld.r));
	if (!ld.r || !(ld.r->file = strdup(file))) {
		ocb_error_sys(err, "out of memory");
		goto out;
	}
	if (root->type != TOML_TABLE) {
		recipe_errorf(&ld, root->pos, "a recipe is a TOML table");
		goto out;
	}
	if (load_platforms(&ld) < 0 ||
	    recipe_check_keys(&ld, root, top_keys, "the top level of the recipe") < 0 ||
	    load_version(&ld, root) < 0 || load_args(&ld, root) < 0 || load_image(&ld, root) < 0 ||
	    target_override(&ld) < 0 || load_stages(&ld, root) < 0 || recipe_resolve(&ld, root) < 0)
		goto out;
	*out = steal_pointer(&ld.r);
	rc = 0;
out:
	recipe_free(ld.r);
	recipe_vars_release(&ld.args);
	recipe_vars_release(&ld.platform_vars);
	return rc;
}

int recipe_load_string(const char *file, const char *data, size_t len, const struct recipe_options *opts,
		       struct recipe **out, struct ocb_error *err)
{
	struct toml_value *root = NULL;
	int rc;

	if (toml_parse(file, data, len, &root, err) < 0) {
		if (err)
			err->code = OCB_EINVAL;
		return -1;
	}
	rc = recipe_load_toml(root, file, opts, out, err);
	toml_free(root);
	return rc;
}

int recipe_load_file(const char *path, const struct recipe_options *opts, struct recipe **out,
		     struct ocb_error *err)
{
	struct toml_value *root = NULL;
	int rc;

	if (toml_parse_file(path, &root, err) < 0) {
		if (err && err->code != OCB_ENOTFOUND && err->errnum == 0)
			err->code = OCB_EINVAL;
		return -1;
	}
	rc = recipe_load_toml(root, path, opts, out, err);
	toml_free(root);
	return rc;
}

const struct recipe_stage *recipe_stage_find(const struct recipe *r, const char *name)
{
	for (size_t i = 0; i < r->n_stages; i++)
		if (!strcmp(r->stages[i].name, name))
			return &r->stages[i];
	return NULL;
}
