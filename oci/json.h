/* jansson helpers shared by the image config, manifest, index and layout code:
 * bounded loading, canonical output, and type-checked field access.
 *
 * Canonical output is JSON_COMPACT | JSON_SORT_KEYS: the same document always
 * gives the same bytes, so the same digest. */
#ifndef OCB_JSON_H
#define OCB_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/cleanup.h"
#include "oci/error.h"

/* jansson >= 2.14 provides json_decrefp (its json_auto_t uses it). */
#define cleanup_json __attribute__((cleanup(json_decrefp)))

#define OCI_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
#define OCI_JSON_MAX   ((size_t)4 << 20) /* manifests, indexes, configs */

/* Parse buf (not necessarily NUL-terminated) as a JSON object of at most max
 * bytes; duplicate keys are rejected.  what names the document in errors. */
int oci_json_load(const char *buf, size_t len, size_t max, const char *what, json_t **out,
		  struct ocb_error *err);
/* Canonical bytes of j (NUL-terminated; *len excludes the NUL). */
int oci_json_dump(const json_t *j, char **buf, size_t *len, struct ocb_error *err);

/* Field getters.  An absent or null field gives NULL / false present; a field
 * of the wrong type is OCB_EINVAL naming the key. */
int oci_json_get_string(const json_t *obj, const char *key, char **out, struct ocb_error *err);
int oci_json_get_strv(const json_t *obj, const char *key, char ***out, struct ocb_error *err);
int oci_json_get_int(const json_t *obj, const char *key, int64_t *out, bool *present, struct ocb_error *err);
int oci_json_get_bool(const json_t *obj, const char *key, bool *out, struct ocb_error *err);
/* An object whose values are all strings (labels, annotations): a new reference. */
int oci_json_get_string_map(const json_t *obj, const char *key, json_t **out, struct ocb_error *err);
/* An object used as a set ({"80/tcp": {}}): its keys, sorted. */
int oci_json_get_key_set(const json_t *obj, const char *key, char ***out, struct ocb_error *err);
/* An object field (or NULL when absent/null); borrowed. */
int oci_json_get_object(const json_t *obj, const char *key, json_t **out, struct ocb_error *err);
int oci_json_get_array(const json_t *obj, const char *key, json_t **out, struct ocb_error *err);

/* Builders.  They never fail partway silently: every setter takes *ok and
 * clears it on allocation failure, so a caller checks once at the end. */
void oci_json_set(json_t *obj, const char *key, json_t *val, bool *ok);
/* Set key to a string, or delete the key when s is NULL. */
void oci_json_set_string(json_t *obj, const char *key, const char *s, bool *ok);
/* Set key to an array of strings, or delete it when v is NULL. */
void oci_json_set_strv(json_t *obj, const char *key, char *const *v, bool *ok);
/* Set key to {"a": {}, ...}, or delete it when v is NULL. */
void oci_json_set_key_set(json_t *obj, const char *key, char *const *v, bool *ok);
/* Set key to a copy of map (an object), or delete it when map is NULL or empty. */
void oci_json_set_map(json_t *obj, const char *key, const json_t *map, bool *ok);

/* A string map (labels, annotations): set key=value, creating *map. */
int oci_string_map_set(json_t **map, const char *key, const char *value, struct ocb_error *err);
/* The value of key or NULL. */
const char *oci_string_map_get(const json_t *map, const char *key);

#endif
