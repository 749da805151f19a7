/* NULL-terminated string vectors (char **), as used for Env, Cmd, Entrypoint.
 * A NULL vector means "absent"; a vector holding only NULL is "empty". */
#ifndef OCB_STRV_H
#define OCB_STRV_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/error.h"

size_t oci_strv_len(char *const *v);
void oci_strv_free(char **v);
/* Append a copy of s, creating the vector when *v is NULL. */
int oci_strv_push(char ***v, const char *s, struct ocb_error *err);
/* Deep copy; a NULL src gives *out = NULL. */
int oci_strv_copy(char ***out, char *const *src, struct ocb_error *err);
bool oci_strv_contains(char *const *v, const char *s);
bool oci_strv_equal(char *const *a, char *const *b);

#endif
