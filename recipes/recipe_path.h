/* Slash-separated path cleaning (Go's path.Clean) and the context-source rule. */
#ifndef OCB_RECIPE_PATH_H
#define OCB_RECIPE_PATH_H

#include "oci/error.h"

/* Lexically clean path: collapse "//", drop "." elements, resolve ".." against
 * the element before it ("/.." is "/"), drop a trailing '/'.  "" -> ".". */
int recipe_path_clean(const char *path, char **out, struct ocb_error *err);

/* A copy source in the build context, as Docker reads it: a leading '/' means
 * the context root, the path is cleaned, and a path that climbs out of the
 * context ("../x", "a/../../x") is OCB_EUNSAFE.  *out is relative ("." for the
 * root itself). */
int recipe_path_context_source(const char *src, char **out, struct ocb_error *err);

#endif
