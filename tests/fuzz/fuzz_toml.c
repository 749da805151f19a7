/* libFuzzer target for the TOML parser: parse, walk, free.  Any crash, leak,
 * hang or sanitizer report is a bug; rejected input is fine. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "recipes/toml.h"
#include "oci/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every value so the sanitizers see the whole tree; the depth is
 * bounded by the parser. */
static size_t walk(const struct toml_value *v)
{
	size_t n = 1;

	switch (v->type) {
	case TOML_STRING:
		n += v->u.str.len + (v->u.str.ptr[v->u.str.len] == '\0');
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		n += strlen(v->u.dt.text);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->u.arr.len; i++)
			n += walk(v->u.arr.items[i]);
		break;
	case TOML_TABLE:
		for (size_t i = 0; i < v->u.tab.len; i++) {
			const struct toml_kv *kv = &v->u.tab.items[i];
			n += walk(kv->value) + kv->keylen;
			if (toml_table_get_kv(v, kv->key) == NULL &&
			    memchr(kv->key, '\0', kv->keylen) == NULL)
				__builtin_trap(); /* a key that cannot be found again */
		}
		break;
	default:
		break;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct toml_value *root = NULL;

	if (toml_parse("fuzz.toml", (const char *)data, size, &root, &err) == 0) {
		walk(root);
		toml_free(root);
	} else if (strncmp(err.msg, "fuzz.toml", 9) != 0 && err.code == OCB_EINVAL) {
		__builtin_trap(); /* every syntax error names the file */
	}
	return 0;
}
