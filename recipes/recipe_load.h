/* Internal to recipes/: the loader's state and the typed, positioned field
 * readers shared by recipe_load*.c. */
#ifndef OCB_RECIPE_LOAD_H
#define OCB_RECIPE_LOAD_H

#include <stdarg.h>

#include "recipes/recipe.h"
#include "recipes/recipe_vars.h"

/* Bounds on what one recipe may ask for. */
#define RECIPE_STAGES_MAX    1024
#define RECIPE_STEPS_MAX     10000
#define RECIPE_EXPANSION_MAX (64u << 20) /* bytes produced by expansion, in all */

struct recipe_loader {
	struct recipe *r;
	const struct recipe_options *opts;
	struct recipe_vars platform_vars; /* TARGETARCH... */
	struct recipe_vars args;	  /* [args] after --build-arg; parent: platform_vars */
	struct ocb_error *err;
	size_t expanded; /* bytes produced by expansion so far */
};

struct recipe_pos recipe_pos_at(const struct recipe_loader *ld, struct toml_pos p);
struct toml_pos recipe_tpos(struct recipe_pos p);
/* Set an OCB_EINVAL "FILE:LINE:COL: message" error; returns -1. */
int recipe_errorf(struct recipe_loader *ld, struct toml_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the error already in ld->err with "FILE:LINE:COL" and make it OCB_EINVAL. */
int recipe_error_at(struct recipe_loader *ld, struct toml_pos pos);

/* Reject keys of table not in allowed (NULL-terminated), with a "did you
 * mean" hint; misplaced names the keys that belong elsewhere and where. */
int recipe_check_keys(struct recipe_loader *ld, const struct toml_value *table, const char *const *allowed,
		      const char *where);

/* The readers: the key absent leaves *out untouched (zeroed by the caller).
 * scope NULL: the value is not expanded (value == raw). */
int recipe_read_str(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		    const struct recipe_vars *scope, struct recipe_str *out);
int recipe_str_from(struct recipe_loader *ld, const struct toml_value *v, const char *what,
		    const struct recipe_vars *scope, struct recipe_str *out);
/* Arrays of strings; a plain string is a one-item array when allow_string. */
int recipe_read_strv(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		     const struct recipe_vars *scope, bool allow_string, struct recipe_strv *out);
/* A table of scalars (strings; integers, floats and booleans are converted
 * to text).  With scope_out, each value is expanded in a scope that sees the
 * keys before it, and scope_out ends up holding them all. */
int recipe_read_map(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		    const struct recipe_vars *scope, bool expand_keys, struct recipe_vars *scope_out,
		    struct recipe_map *out);
int recipe_read_cmd(struct recipe_loader *ld, const struct toml_value *table, const char *key,
		    struct recipe_cmd *out);
int recipe_read_duration(struct recipe_loader *ld, const struct toml_value *table, const char *key,
			 struct recipe_duration *out);

/* Stage and step loading (recipe_load_stage.c, recipe_load_step.c). */
int recipe_load_stage(struct recipe_loader *ld, const struct toml_kv *kv, struct recipe_stage *st);
int recipe_load_step(struct recipe_loader *ld, const struct recipe_stage *st, const struct toml_value *v,
		     const struct recipe_vars *stage_scope, struct recipe_step *step);
/* Cross references (recipe_resolve.c): bases, copy origins, deps, target, cycles. */
int recipe_resolve(struct recipe_loader *ld, const struct toml_value *root);

/* Free the contents of model pieces (recipe_free.c). */
void recipe_str_release(struct recipe_str *s);
void recipe_strv_release(struct recipe_strv *v);
void recipe_map_release(struct recipe_map *m);
void recipe_stage_release(struct recipe_stage *st);
void recipe_step_release(struct recipe_step *step);

/* Edit distance for "did you mean" (recipe_hint.c): the candidate closest to
 * word within a small distance, or NULL. */
const char *recipe_hint(const char *word, const char *const *candidates, size_t n);

#endif
