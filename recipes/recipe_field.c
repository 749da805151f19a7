/* Typed readers of recipe fields: each checks the TOML type, keeps the
 * position and expands variables, with errors that point at the value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "recipes/recipe_duration.h"
#include "recipes/recipe_expand.h"
#include "recipes/recipe_load.h"
#include "oci/banned.h"

struct recipe_pos recipe_pos_at(const struct recipe_loader *ld, struct toml_pos p)
{
	struct recipe_pos pos = {ld->r->file, p.line, p.col};
	return pos;
}

struct toml_pos recipe_tpos(struct recipe_pos p)
{
	struct toml_pos t = {p.line, p.col};
	return t;
}

int recipe_errorf(struct recipe_loader *ld, struct toml_pos pos, const char *fmt, ...)
{
	char msg[OCB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ocb_error_set(ld->err, OCB_EINVAL, 0, "%s:%u:%u: %s", ld->r->file, pos.line, pos.col, msg);
}

int recipe_error_at(struct recipe_loader *ld, struct toml_pos pos)
{
	ocb_error_wrap(ld->err, "%s:%u:%u", ld->r->file, pos.line, pos.col);
	if (ld->err)
		ld->err->code = OCB_EINVAL;
	return -1;
}

int recipe_check_keys(struct recipe_loader *ld, const struct toml_value *table, const char *const *allowed,
		      const char *where)
{
	size_t n = 0;

	while (allowed[n])
		n++;
	for (size_t i = 0; i < table->u.tab.len; i++) {
		const struct toml_kv *kv = &table->u.tab.items[i];
		const char *hint;
		size_t j;

		for (j = 0; j < n; j++)
			if (kv->keylen == strlen(allowed[j]) && !strcmp(kv->key, allowed[j]))
				break;
		if (j < n)
			continue;
		hint = recipe_hint(kv->key, allowed, n);
		if (hint)
			return recipe_errorf(ld, kv->key_pos, "unknown key '%s' in %s (did you mean '%s'?)",
					     kv->key, where, hint);
		return recipe_errorf(ld, kv->key_pos, "unknown key '%s' in %s", kv->key, where);
	}
	return 0;
}

/* Expand (or copy) text into out->value. */
static int str_expand(struct recipe_loader *ld, struct toml_pos pos, const char *what,
		      const struct recipe_vars *scope, struct recipe_str *out)
{
	if (!scope) {
		out->value = out->raw;
		return 0;
	}
	if (recipe_expand(out->raw, scope, &out->value, ld->err) < 0) {
		ocb_error_wrap(ld->err, "'%s'", what);
		return recipe_error_at(ld, pos);
	}
	ld->expanded += strlen(out->value);
	if (ld->expanded > RECIPE_EXPANSION_MAX)
		return recipe_errorf(ld, pos, "variable expansion in the recipe produces more than %u MiB",
				     RECIPE_EXPANSION_MAX >> 20);
	return 0;
}

static int str_set(struct recipe_loader *ld, struct toml_pos pos, const char *what, const char *text,
		   size_t len, const struct recipe_vars *scope, struct recipe_str *out)
{
	struct recipe_str s = {NULL, NULL, recipe_pos_at(ld, pos)};

	if (strlen(text) != len)
		return recipe_errorf(ld, pos, "'%s' contains a NUL character", what);
	s.raw = strdup(text);
	if (!s.raw)
		return ocb_error_sys(ld->err, "out of memory");
	if (str_expand(ld, pos, what, scope, &s) < 0) {
		recipe_str_release(&s);
		return -1;
	}
	*out = s;
	return 0;
}

int recipe_str_from(struct recipe_loader *ld, const struct toml_value *v, const char *what,
		    const struct recipe_vars *scope, struct recipe_str *out)
{
	if (v->type != TOML_STRING)
		return recipe_errorf(ld, v->pos, "'%s' must be a string, got %s", what,
				     toml_type_name(v->type));
	return str_set(ld, v->pos, what, v->u.str.ptr, v->u.str.len, scope, out);
}

int recipe_read_str(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		    const struct recipe_vars *scope, struct recipe_str *out)
{
	const struct toml_value *v = toml_table_get(table, key);

	return v ? recipe_str_from(ld, v, key, scope, out) : 0;
}

static int strv_push(struct recipe_loader *ld, struct recipe_strv *out, struct recipe_str s)
{
	struct recipe_str *items = realloc(out->items, (out->len + 1) * sizeof(*items));

	if (!items) {
		recipe_str_release(&s);
		return ocb_error_sys(ld->err, "out of memory");
	}
	out->items = items;
	out->items[out->len++] = s;
	return 0;
}

int recipe_read_strv(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		     const struct recipe_vars *scope, bool allow_string, struct recipe_strv *out)
{
	const struct toml_value *v = toml_table_get(table, key);
	struct recipe_strv res = {0};

	if (!v)
		return 0;
	res.set = true;
	res.pos = recipe_pos_at(ld, v->pos);
	if (v->type == TOML_STRING && allow_string) {
		struct recipe_str s;
		if (recipe_str_from(ld, v, key, scope, &s) < 0 || strv_push(ld, &res, s) < 0)
			goto fail;
		*out = res;
		return 0;
	}
	if (v->type != TOML_ARRAY)
		return recipe_errorf(ld, v->pos, "'%s' must be %san array of strings, got %s", key,
				     allow_string ? "a string or " : "", toml_type_name(v->type));
	for (size_t i = 0; i < v->u.arr.len; i++) {
		const struct toml_value *item = v->u.arr.items[i];
		struct recipe_str s;
		if (item->type != TOML_STRING) {
			recipe_errorf(ld, item->pos, "'%s' must be an array of strings, got %s in it", key,
				      toml_type_name(item->type));
			goto fail;
		}
		if (recipe_str_from(ld, item, key, scope, &s) < 0 || strv_push(ld, &res, s) < 0)
			goto fail;
	}
	*out = res;
	return 0;
fail:
	recipe_strv_release(&res);
	return -1;
}

/* The text of a scalar map value: strings as they are, integers and booleans
 * spelled out; floats are refused since TOML would lose how they were written. */
static int map_value_text(struct recipe_loader *ld, const char *what, const struct toml_kv *kv, char **text,
			  size_t *len)
{
	const struct toml_value *v = kv->value;

	switch (v->type) {
	case TOML_STRING:
		*text = strdup(v->u.str.ptr);
		*len = v->u.str.len;
		break;
	case TOML_INTEGER:
		if (asprintf(text, "%lld", (long long)v->u.integer) < 0)
			*text = NULL;
		*len = *text ? strlen(*text) : 0;
		break;
	case TOML_BOOL:
		*text = strdup(v->u.boolean ? "true" : "false");
		*len = v->u.boolean ? 4 : 5;
		break;
	case TOML_FLOAT:
		return recipe_errorf(ld, v->pos, "'%s.%s' must be a string, got float (quote it)", what,
				     kv->key);
	default:
		return recipe_errorf(ld, v->pos, "'%s.%s' must be a string, got %s", what, kv->key,
				     toml_type_name(v->type));
	}
	if (!*text)
		return ocb_error_sys(ld->err, "out of memory");
	return 0;
}

static int map_entry(struct recipe_loader *ld, const char *key, const struct toml_kv *kv,
		     const struct recipe_vars *scope, bool expand_keys, struct recipe_vars *scope_out,
		     struct recipe_kv *out)
{
	struct recipe_kv e = {{0}, {0}};
	cleanup_free char *text = NULL;
	size_t len = 0;

	if (str_set(ld, kv->key_pos, key, kv->key, kv->keylen, expand_keys ? scope : NULL, &e.key) < 0)
		return -1;
	if (!*e.key.value) {
		recipe_str_release(&e.key);
		return recipe_errorf(ld, kv->key_pos, "'%s' has an empty key", key);
	}
	if (map_value_text(ld, key, kv, &text, &len) < 0 ||
	    str_set(ld, kv->value->pos, key, text, len, scope_out ? scope_out : scope, &e.value) < 0) {
		recipe_str_release(&e.key);
		return -1;
	}
	if (scope_out && recipe_vars_set(scope_out, e.key.value, e.value.value, ld->err) < 0) {
		recipe_str_release(&e.key);
		recipe_str_release(&e.value);
		return -1;
	}
	*out = e;
	return 0;
}

int recipe_read_map(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		    const struct recipe_vars *scope, bool expand_keys, struct recipe_vars *scope_out,
		    struct recipe_map *out)
{
	const struct toml_value *v = toml_table_get(table, key);
	struct recipe_map res = {0};

	if (scope_out)
		scope_out->parent = scope;
	if (!v)
		return 0;
	if (v->type != TOML_TABLE)
		return recipe_errorf(ld, v->pos, "'%s' must be a table of strings, got %s", key,
				     toml_type_name(v->type));
	res.set = true;
	res.pos = recipe_pos_at(ld, v->pos);
	res.items = calloc(v->u.tab.len ? v->u.tab.len : 1, sizeof(*res.items));
	if (!res.items)
		return ocb_error_sys(ld->err, "out of memory");
	for (size_t i = 0; i < v->u.tab.len; i++) {
		if (map_entry(ld, key, &v->u.tab.items[i], scope, expand_keys, scope_out, &res.items[i]) <
		    0) {
			recipe_map_release(&res);
			return -1;
		}
		res.len++;
	}
	*out = res;
	return 0;
}

static int cmd_shell(struct recipe_loader *ld, const struct toml_value *v, const char *key,
		     struct recipe_cmd *res)
{
	static const char *const sh[] = {"/bin/sh", "-c"};
	struct recipe_str s;

	if (!v->u.str.len)
		return recipe_errorf(ld, v->pos, "'%s' is an empty string", key);
	res->shell = true;
	for (size_t i = 0; i < 2; i++) {
		struct recipe_str w = {strdup(sh[i]), NULL, recipe_pos_at(ld, v->pos)};
		if (!w.value)
			return ocb_error_sys(ld->err, "out of memory");
		w.raw = w.value;
		if (strv_push(ld, &res->argv, w) < 0)
			return -1;
	}
	if (recipe_str_from(ld, v, key, NULL, &s) < 0)
		return -1;
	return strv_push(ld, &res->argv, s);
}

int recipe_read_cmd(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		    struct recipe_cmd *out)
{
	const struct toml_value *v = toml_table_get(table, key);
	struct recipe_cmd res = {0};

	if (!v)
		return 0;
	res.set = true;
	res.pos = recipe_pos_at(ld, v->pos);
	res.argv.set = true;
	res.argv.pos = res.pos;
	if (v->type == TOML_STRING) {
		if (cmd_shell(ld, v, key, &res) < 0)
			goto fail;
	} else if (v->type == TOML_ARRAY) {
		recipe_strv_release(&res.argv);
		if (recipe_read_strv(ld, table, key, NULL, false, &res.argv) < 0)
			goto fail;
	} else {
		return recipe_errorf(ld, v->pos,
				     "'%s' must be a string (shell form) or an array of strings, got %s", key,
				     toml_type_name(v->type));
	}
	*out = res;
	return 0;
fail:
	recipe_strv_release(&res.argv);
	return -1;
}

int recipe_read_duration(struct recipe_loader *ld, const struct toml_value *table, const char *key,
			 struct recipe_duration *out)
{
	const struct toml_value *v = toml_table_get(table, key);
	int64_t ns;

	if (!v)
		return 0;
	if (v->type != TOML_STRING)
		return recipe_errorf(ld, v->pos, "'%s' must be a duration string like \"30s\", got %s", key,
				     toml_type_name(v->type));
	if (recipe_duration_parse(v->u.str.ptr, &ns, ld->err) < 0) {
		ocb_error_wrap(ld->err, "'%s'", key);
		return recipe_error_at(ld, v->pos);
	}
	out->set = true;
	out->ns = ns;
	out->pos = recipe_pos_at(ld, v->pos);
	return 0;
}
