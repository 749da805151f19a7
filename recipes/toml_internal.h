/* Internals shared by the TOML parser's files (not part of the public API).
 *
 *   toml_lex.c     cursor, positions, errors, UTF-8 pre-check, whitespace, keys
 *   toml_string.c  the four string forms and their escapes
 *   toml_value.c   scalars (numbers, booleans, date-times) and arrays
 *   toml.c         the tree: tables, headers, dotted keys, redefinition rules, API */
#ifndef OCB_TOML_INTERNAL_H
#define OCB_TOML_INTERNAL_H

#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recipes/toml.h"

/* Containers may nest this deep (tables, arrays, array elements), which bounds
 * the recursion of the parser, of toml_free and of every tree walker. */
#define TOML_MAX_DEPTH 128
/* Documents larger than this are refused (recipes are small). */
#define TOML_MAX_INPUT (16u << 20)
/* Slots in the parser's path stack: one per container level plus slack. */
#define TOML_PATH_MAX (2 * TOML_MAX_DEPTH + 8)

/* How a table came to exist; decides what may later extend or redefine it. */
enum {
	TOML_F_IMPLICIT = 1 << 0, /* parent of a [header], may be defined later once */
	TOML_F_DEFINED = 1 << 1,  /* defined by [header] or as a [[header]] element */
	TOML_F_DOTTED = 1 << 2,	  /* created (or extended) by a dotted key */
	TOML_F_INLINE = 1 << 3,	  /* inline table (or inside one): immutable once closed */
	TOML_F_AOT = 1 << 4,	  /* array created by [[header]] (not a static array) */
};

/* Arrays and tables are allocated as nodes; the public struct comes first so
 * a struct toml_value * is also the node's address.  Scalars are allocated as
 * a bare struct toml_value: never call toml_node_of() on one. */
struct toml_node {
	struct toml_value v;
	unsigned flags;
	uint32_t depth;	 /* root table 0, each container level + 1 */
	size_t cap;	 /* allocated items (arrays, tables) */
	uint32_t *index; /* tables: open-addressing hash of item positions + 1 */
	size_t index_cap;
};

static inline struct toml_node *toml_node_of(const struct toml_value *v)
{
	return (struct toml_node *)v;
}

/* One step of the path from the root, for naming tables in messages. */
struct toml_pathcomp {
	const char *s; /* key, or NULL for an array index */
	size_t n;      /* key length, or the index */
};

struct toml_parser {
	const char *filename;
	const unsigned char *start, *cur, *end;
	uint32_t line, col; /* of the byte at cur */
	struct ocb_error *err;
	locale_t c_locale; /* for strtod_l, (locale_t)0 when unavailable */
	struct toml_pathcomp path[TOML_PATH_MAX];
	size_t path_len;
};

struct toml_keypart {
	char *s;
	size_t n;
	struct toml_pos pos;
};

/* A possibly dotted key as written: a.b."c d" */
struct toml_key {
	struct toml_keypart *parts;
	size_t len, cap;
	struct toml_pos pos; /* of the first part */
};

/* A growable byte buffer for decoded strings. */
struct toml_buf {
	char *s;
	size_t len, cap;
};

/* toml_lex.c */
int toml_fail(struct toml_parser *p, struct toml_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int toml_fail_nomem(struct toml_parser *p);
struct toml_pos toml_here(const struct toml_parser *p);
int toml_peek(const struct toml_parser *p);
int toml_peek_at(const struct toml_parser *p, size_t k);
void toml_advance(struct toml_parser *p);
void toml_advance_n(struct toml_parser *p, size_t n);
bool toml_at_newline(const struct toml_parser *p);
void toml_skip_newline(struct toml_parser *p);
void toml_skip_ws(struct toml_parser *p);
void toml_skip_comment(struct toml_parser *p);
void toml_skip_ws_comments_newlines(struct toml_parser *p);
int toml_expect_end_of_line(struct toml_parser *p, const char *after);
int toml_check_encoding(struct toml_parser *p);
int toml_parse_key(struct toml_parser *p, struct toml_key *key);
void toml_key_release(struct toml_key *key);
const char *toml_describe_char(const struct toml_parser *p, char *buf, size_t size);
void toml_path_push_key(struct toml_parser *p, const char *s, size_t n);
void toml_path_push_index(struct toml_parser *p, size_t index);
void toml_format_path(const struct toml_parser *p, size_t len, char *buf, size_t size);
void toml_quote_key(const char *s, size_t n, char *buf, size_t size);

/* toml_string.c */
int toml_buf_add(struct toml_parser *p, struct toml_buf *b, const void *data, size_t n);
bool toml_at_string(const struct toml_parser *p);
int toml_parse_string(struct toml_parser *p, bool allow_multiline, char **out, size_t *outlen);

/* toml_value.c */
struct toml_value *toml_node_new(struct toml_parser *p, enum toml_type type, struct toml_pos pos,
				 uint32_t depth);
int toml_array_append(struct toml_parser *p, struct toml_value *arr, struct toml_value *item);
int toml_parse_value(struct toml_parser *p, uint32_t depth, struct toml_value **out);

/* toml.c */
int toml_parse_inline_table(struct toml_parser *p, uint32_t depth, struct toml_value **out);

#endif
