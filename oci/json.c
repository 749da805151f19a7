#include "oci/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/strv.h"
#include "oci/banned.h"

static int nomem(struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

static int bad_type(struct ocb_error *err, const char *key, const char *want)
{
	return ocb_error_set(err, OCB_EINVAL, 0, "field '%s' must be %s", key, want);
}

int oci_json_load(const char *buf, size_t len, size_t max, const char *what, json_t **out,
		  struct ocb_error *err)
{
	json_error_t jerr;
	json_t *j;

	if (len > max)
		return ocb_error_set(err, OCB_ELIMIT, 0, "%s: %zu bytes, more than the limit of %zu", what,
				     len, max);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return ocb_error_set(err, OCB_EINVAL, 0, "%s: invalid JSON at line %d column %d: %s", what,
				     jerr.line, jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return ocb_error_set(err, OCB_EINVAL, 0, "%s: not a JSON object", what);
	}
	*out = j;
	return 0;
}

int oci_json_dump(const json_t *j, char **buf, size_t *len, struct ocb_error *err)
{
	char *s = json_dumps(j, OCI_JSON_FLAGS);

	if (!s)
		return nomem(err);
	*buf = s;
	*len = strlen(s);
	return 0;
}

/* The field's value, or NULL when absent or null. */
static json_t *field(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

int oci_json_get_string(const json_t *obj, const char *key, char **out, struct ocb_error *err)
{
	json_t *v = field(obj, key);
	char *s;

	if (!v) {
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return bad_type(err, key, "a string");
	s = strdup(json_string_value(v));
	if (!s)
		return nomem(err);
	*out = s;
	return 0;
}

int oci_json_get_strv(const json_t *obj, const char *key, char ***out, struct ocb_error *err)
{
	json_t *v = field(obj, key), *item;
	char **strv = NULL;
	size_t i;

	if (!v) {
		*out = NULL;
		return 0;
	}
	if (!json_is_array(v))
		return bad_type(err, key, "an array of strings");
	strv = calloc(1, sizeof(char *));
	if (!strv)
		return nomem(err);
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item)) {
			oci_strv_free(strv);
			return bad_type(err, key, "an array of strings");
		}
		if (oci_strv_push(&strv, json_string_value(item), err) < 0) {
			oci_strv_free(strv);
			return -1;
		}
	}
	*out = strv;
	return 0;
}

int oci_json_get_int(const json_t *obj, const char *key, int64_t *out, bool *present, struct ocb_error *err)
{
	json_t *v = field(obj, key);

	if (!v) {
		*out = 0;
		if (present)
			*present = false;
		return 0;
	}
	if (!json_is_integer(v))
		return bad_type(err, key, "an integer");
	*out = (int64_t)json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}

int oci_json_get_bool(const json_t *obj, const char *key, bool *out, struct ocb_error *err)
{
	json_t *v = field(obj, key);

	if (v && !json_is_boolean(v))
		return bad_type(err, key, "a boolean");
	*out = v ? json_is_true(v) : false;
	return 0;
}

int oci_json_get_object(const json_t *obj, const char *key, json_t **out, struct ocb_error *err)
{
	json_t *v = field(obj, key);

	if (v && !json_is_object(v))
		return bad_type(err, key, "an object");
	*out = v;
	return 0;
}

int oci_json_get_array(const json_t *obj, const char *key, json_t **out, struct ocb_error *err)
{
	json_t *v = field(obj, key);

	if (v && !json_is_array(v))
		return bad_type(err, key, "an array");
	*out = v;
	return 0;
}

int oci_json_get_string_map(const json_t *obj, const char *key, json_t **out, struct ocb_error *err)
{
	json_t *v, *val;
	const char *k;

	if (oci_json_get_object(obj, key, &v, err) < 0)
		return -1;
	if (!v) {
		*out = NULL;
		return 0;
	}
	json_object_foreach(v, k, val)
	{
		if (!json_is_string(val))
			return bad_type(err, key, "an object of strings");
	}
	*out = json_deep_copy(v);
	if (!*out)
		return nomem(err);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_json_get_key_set(const json_t *obj, const char *key, char ***out, struct ocb_error *err)
{
	json_t *v, *val;
	const char *k;
	char **strv;

	if (oci_json_get_object(obj, key, &v, err) < 0)
		return -1;
	if (!v) {
		*out = NULL;
		return 0;
	}
	strv = calloc(1, sizeof(char *));
	if (!strv)
		return nomem(err);
	json_object_foreach(v, k, val)
	{
		if (!json_is_object(val) && !json_is_null(val)) {
			oci_strv_free(strv);
			return bad_type(err, key, "an object of empty objects");
		}
		if (oci_strv_push(&strv, k, err) < 0) {
			oci_strv_free(strv);
			return -1;
		}
	}
	qsort(strv, oci_strv_len(strv), sizeof(char *), cmp_str);
	*out = strv;
	return 0;
}

void oci_json_set(json_t *obj, const char *key, json_t *val, bool *ok)
{
	if (!val || json_object_set_new(obj, key, val) < 0)
		*ok = false;
}

void oci_json_set_string(json_t *obj, const char *key, const char *s, bool *ok)
{
	if (!s)
		json_object_del(obj, key);
	else
		oci_json_set(obj, key, json_string(s), ok);
}

static json_t *strv_array(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v[i]; i++) {
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

void oci_json_set_strv(json_t *obj, const char *key, char *const *v, bool *ok)
{
	if (!v)
		json_object_del(obj, key);
	else
		oci_json_set(obj, key, strv_array(v), ok);
}

void oci_json_set_key_set(json_t *obj, const char *key, char *const *v, bool *ok)
{
	json_t *set;

	if (!v) {
		json_object_del(obj, key);
		return;
	}
	set = json_object();
	for (size_t i = 0; set && v[i]; i++)
		oci_json_set(set, v[i], json_object(), ok);
	oci_json_set(obj, key, set, ok);
}

void oci_json_set_map(json_t *obj, const char *key, const json_t *map, bool *ok)
{
	if (!map || json_object_size(map) == 0)
		json_object_del(obj, key);
	else
		oci_json_set(obj, key, json_deep_copy(map), ok);
}

int oci_string_map_set(json_t **map, const char *key, const char *value, struct ocb_error *err)
{
	if (!*map) {
		*map = json_object();
		if (!*map)
			return nomem(err);
	}
	if (json_object_set_new(*map, key, json_string(value)) < 0)
		return nomem(err);
	return 0;
}

const char *oci_string_map_get(const json_t *map, const char *key)
{
	return json_string_value(json_object_get(map, key));
}
