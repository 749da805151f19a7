#include "recipes/recipe_vars.h"

#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

static struct recipe_var *vars_find_local(const struct recipe_vars *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->len; i++)
		if (strlen(v->items[i].name) == len && !memcmp(v->items[i].name, name, len))
			return &v->items[i];
	return NULL;
}

int recipe_vars_set(struct recipe_vars *v, const char *name, const char *value, struct ocb_error *err)
{
	struct recipe_var *found = vars_find_local(v, name, strlen(name));
	char *n, *val = strdup(value);
	struct recipe_var *items;

	if (!val)
		return ocb_error_sys(err, "out of memory");
	if (found) {
		free(found->value);
		found->value = val;
		return 0;
	}
	n = strdup(name);
	items = n ? realloc(v->items, (v->len + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(n);
		free(val);
		return ocb_error_sys(err, "out of memory");
	}
	v->items = items;
	v->items[v->len].name = n;
	v->items[v->len].value = val;
	v->len++;
	return 0;
}

const char *recipe_vars_get(const struct recipe_vars *v, const char *name, size_t len)
{
	for (; v; v = v->parent) {
		struct recipe_var *found = vars_find_local(v, name, len);
		if (found)
			return found->value;
	}
	return NULL;
}

void recipe_vars_release(struct recipe_vars *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->len; i++) {
		free(v->items[i].name);
		free(v->items[i].value);
	}
	free(v->items);
	v->items = NULL;
	v->len = 0;
}
