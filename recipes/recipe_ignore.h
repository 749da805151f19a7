/* Build-context exclusions: .ocbignore, or .dockerignore when there is no
 * .ocbignore, with Docker's semantics (moby/patternmatcher):
 *
 *   - one pattern a line; a line starting with '#' is a comment; surrounding
 *     whitespace is trimmed; empty lines are skipped;
 *   - patterns are relative to the context root: they are cleaned like a path
 *     (so "./a", "a/" and "/a" all mean "a"; a trailing '/' does not restrict
 *     the pattern to directories);
 *   - '*' matches any run of characters but '/', '?' one character but '/',
 *     "[a-z]" / "[^a-z]" a class, '\' escapes the next character, "**" any
 *     number of directories (including none: "**" + "/x" matches "x" and
 *     "a/b/x"), and "**" at the end matches everything below;
 *   - a pattern excludes a path when it matches the path or any of its parent
 *     directories ("build" excludes "build/out/x");
 *   - '!' re-includes what it matches; the last pattern that matches decides.
 */
#ifndef OCB_RECIPE_IGNORE_H
#define OCB_RECIPE_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/error.h"

struct recipe_ignore;

/* Read context_dir/.ocbignore, else context_dir/.dockerignore; with neither,
 * *out matches nothing.  A bad pattern is OCB_EINVAL "DIR/.ocbignore:3: ...". */
int recipe_ignore_load(const char *context_dir, struct recipe_ignore **out, struct ocb_error *err);
/* Parse ignore-file text (filename is for messages). */
int recipe_ignore_parse(const char *filename, const char *data, size_t len, struct recipe_ignore **out,
			struct ocb_error *err);
/* From a list of patterns (a copy step's 'exclude'); name is for messages
 * ("exclude:2: invalid pattern ..."), counting patterns from 1. */
int recipe_ignore_from_list(const char *name, const char *const *patterns, size_t n,
			    struct recipe_ignore **out, struct ocb_error *err);
/* True when relpath (relative to the context root, '/'-separated, cleaned, no
 * leading "./") is excluded from the context. */
bool recipe_ignore_match(const struct recipe_ignore *ig, const char *relpath);
/* True when some '!' pattern exists: a context walker must then look inside
 * excluded directories, since one of their entries may be re-included. */
bool recipe_ignore_has_exceptions(const struct recipe_ignore *ig);
/* The file the patterns came from (".ocbignore", ".dockerignore"), or NULL. */
const char *recipe_ignore_source(const struct recipe_ignore *ig);
size_t recipe_ignore_count(const struct recipe_ignore *ig);
void recipe_ignore_free(struct recipe_ignore *ig);

#endif
