/* A scope of variables for expansion: name -> value, falling back to a
 * parent scope (step env -> stage env -> [args] -> platform variables). */
#ifndef OCB_RECIPE_VARS_H
#define OCB_RECIPE_VARS_H

#include <stddef.h>

#include "oci/error.h"

struct recipe_var {
	char *name;
	char *value;
};

struct recipe_vars {
	struct recipe_var *items; /* in the order first set */
	size_t len;
	const struct recipe_vars *parent; /* not owned; may be NULL */
};

#define RECIPE_VARS_INIT                                                                                     \
	{                                                                                                    \
		NULL, 0, NULL                                                                                \
	}

/* Set (or replace) name in this scope. */
int recipe_vars_set(struct recipe_vars *v, const char *name, const char *value, struct ocb_error *err);
/* Value of the first len bytes of name in this scope or a parent; NULL when undefined. */
const char *recipe_vars_get(const struct recipe_vars *v, const char *name, size_t len);
void recipe_vars_release(struct recipe_vars *v);

#endif
