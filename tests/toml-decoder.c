/* toml-test decoder: TOML on stdin, the tagged JSON form on stdout.
 *
 *   {"key": {"type": "integer", "value": "42"}, "arr": [...], "tab": {...}}
 *
 * Exit 0 on success; an invalid document exits 1 with its error on stderr. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "recipes/toml.h"
#include "oci/banned.h"

static json_t *tagged(const char *type, const char *value, size_t len)
{
	return json_pack("{s:s, s:s%}", "type", type, "value", value, len);
}

/* The shortest %g form that reads back as the same double. */
static void shortest_float(double d, char *buf, size_t size)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static json_t *scalar_to_json(const struct toml_value *v)
{
	char buf[64];

	switch (v->type) {
	case TOML_STRING:
		return tagged("string", v->u.str.ptr, v->u.str.len);
	case TOML_INTEGER:
		snprintf(buf, sizeof(buf), "%" PRId64, v->u.integer);
		break;
	case TOML_FLOAT:
		if (isnan(v->u.flt))
			snprintf(buf, sizeof(buf), "nan");
		else if (isinf(v->u.flt))
			snprintf(buf, sizeof(buf), "%sinf", v->u.flt < 0 ? "-" : "");
		else
			shortest_float(v->u.flt, buf, sizeof(buf));
		return tagged("float", buf, strlen(buf));
	case TOML_BOOL:
		return tagged("bool", v->u.boolean ? "true" : "false", v->u.boolean ? 4 : 5);
	default:
		return tagged(toml_type_name(v->type), v->u.dt.text, strlen(v->u.dt.text));
	}
	return tagged(toml_type_name(v->type), buf, strlen(buf));
}

static json_t *to_json(const struct toml_value *v)
{
	json_t *j;

	if (v->type == TOML_ARRAY) {
		j = json_array();
		for (size_t i = 0; j && i < v->u.arr.len; i++)
			if (json_array_append_new(j, to_json(v->u.arr.items[i])) < 0)
				goto fail;
		return j;
	}
	if (v->type == TOML_TABLE) {
		j = json_object();
		for (size_t i = 0; j && i < v->u.tab.len; i++) {
			const struct toml_kv *kv = &v->u.tab.items[i];
			if (json_object_setn_new(j, kv->key, kv->keylen, to_json(kv->value)) < 0)
				goto fail;
		}
		return j;
	}
	return scalar_to_json(v);
fail:
	json_decref(j);
	return NULL;
}

static char *read_stdin(size_t *len)
{
	size_t cap = 1 << 16;
	char *buf = malloc(cap);

	*len = 0;
	while (buf) {
		ssize_t n;
		if (*len == cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		n = read(0, buf + *len, cap - *len);
		if (n < 0) {
			perror("read");
			break;
		}
		if (n == 0)
			return buf;
		*len += (size_t)n;
	}
	free(buf);
	return NULL;
}

int main(void)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct toml_value *root = NULL;
	cleanup_free char *data = NULL;
	json_t *j;
	size_t len;

	data = read_stdin(&len);
	if (!data)
		return 2;
	if (toml_parse("<stdin>", data, len, &root, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	j = to_json(root);
	toml_free(root);
	if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		json_decref(j);
		fprintf(stderr, "cannot write JSON\n");
		return 2;
	}
	json_decref(j);
	putchar('\n');
	return 0;
}
