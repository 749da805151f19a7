/* Variable expansion as a shell user expects (and as Docker does in FROM,
 * COPY, WORKDIR, ENV, LABEL...):
 *
 *   $NAME  ${NAME}           the value, or "" when NAME is undefined
 *   ${NAME:-word}            word when NAME is undefined or empty
 *   ${NAME-word}             word when NAME is undefined
 *   ${NAME:+word}            word when NAME is set and not empty, else ""
 *   ${NAME+word}             word when NAME is set, else ""
 *   ${NAME:?message}         an error with message when NAME is undefined or empty
 *   ${NAME?message}          an error with message when NAME is undefined
 *   $$  and  \$              a literal '$'
 *
 * NAME is [A-Za-z_][A-Za-z0-9_]*.  word is itself expanded.  A '$' not
 * followed by a name, '{' or '$' is kept as it is; a backslash not followed
 * by '$' is kept as it is. */
#ifndef OCB_RECIPE_EXPAND_H
#define OCB_RECIPE_EXPAND_H

#include <stddef.h>

#include "oci/error.h"
#include "recipes/recipe_vars.h"

/* Returns the value of the len-byte variable name, or NULL when undefined. */
typedef const char *(*recipe_lookup_fn)(void *ctx, const char *name, size_t len);

/* Expand s into a new string *out (the caller frees).  Errors are OCB_EINVAL
 * ("unterminated '${'", "bad substitution", a ${X:?msg}) or OCB_ELIMIT when
 * the result would pass 1 MiB. */
int recipe_expand_fn(const char *s, recipe_lookup_fn lookup, void *ctx, char **out, struct ocb_error *err);
/* The same with a scope of variables. */
int recipe_expand(const char *s, const struct recipe_vars *vars, char **out, struct ocb_error *err);

#endif
