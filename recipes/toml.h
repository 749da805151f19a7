/* A TOML 1.0.0 parser.  No global state; every value keeps its source position
 * so the recipe layer can point at it in errors. */
#ifndef OCB_TOML_H
#define OCB_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,	     /* offset date-time: 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,     /* 1979-05-27 */
	TOML_TIME_LOCAL,     /* 07:32:00 */
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_pos {
	uint32_t line; /* 1-based */
	uint32_t col;  /* 1-based, in characters (code points) */
};

struct toml_value;

struct toml_kv {
	char *key; /* NUL-terminated; keylen excludes the NUL (keys may hold \u0000) */
	size_t keylen;
	struct toml_pos key_pos;
	struct toml_value *value;
};

struct toml_value {
	enum toml_type type;
	struct toml_pos pos; /* where the value (or the table header) starts */
	union {
		struct {
			char *ptr; /* UTF-8, NUL-terminated; len excludes the NUL */
			size_t len;
		} str;
		int64_t integer;
		double flt;
		bool boolean;
		/* Date/time values keep their normalised text (RFC 3339 form,
		 * 'T' separator, uppercase 'Z') and their fields. */
		struct {
			char *text;
			int year, month, day;
			int hour, minute, second;
			uint32_t nanosecond;
			int offset_minutes; /* TOML_DATETIME only; 0 for Z */
		} dt;
		struct {
			struct toml_value **items;
			size_t len;
		} arr;
		struct {
			struct toml_kv *items; /* in document order */
			size_t len;
		} tab;
	} u;
};

/* Parse a whole document.  `filename` is used in error messages:
 * "recipe.toml:12:9: duplicate key "from" in table [stages.backend]".
 * On success *root is a TOML_TABLE owned by the caller (toml_free). */
int toml_parse(const char *filename, const char *data, size_t len, struct toml_value **root,
	       struct ocb_error *err);
int toml_parse_file(const char *path, struct toml_value **root, struct ocb_error *err);
void toml_free(struct toml_value *v);

/* Lookup in a table by key (NULL when absent or v is not a table). */
const struct toml_value *toml_table_get(const struct toml_value *table, const char *key);
const struct toml_kv *toml_table_get_kv(const struct toml_value *table, const char *key);
/* "string", "integer", "float", "boolean", "datetime", "datetime-local",
 * "date-local", "time-local", "array", "table" (the toml-test type names). */
const char *toml_type_name(enum toml_type type);

#endif
