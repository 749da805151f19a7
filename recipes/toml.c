/* The TOML document: tables and their keys, [headers], [[arrays of tables]],
 * dotted keys, inline tables, and every rule about what may be defined, extended
 * or redefined (TOML 1.0.0).  Also the public entry points. */
#include "recipes/toml_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

/* Tables with at least this many keys get a hash index. */
#define INDEX_MIN 8

static uint64_t hash_key(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static void index_put(struct toml_node *node, size_t item)
{
	const struct toml_kv *kv = &node->v.u.tab.items[item];
	size_t mask = node->index_cap - 1;
	size_t slot = (size_t)hash_key(kv->key, kv->keylen) & mask;

	while (node->index[slot])
		slot = (slot + 1) & mask;
	node->index[slot] = (uint32_t)(item + 1);
}

static int index_rebuild(struct toml_parser *p, struct toml_node *node)
{
	size_t cap = 16;

	while (cap < node->v.u.tab.len * 4)
		cap *= 2;
	free(node->index);
	node->index = calloc(cap, sizeof(*node->index));
	if (!node->index) {
		node->index_cap = 0;
		return toml_fail_nomem(p);
	}
	node->index_cap = cap;
	for (size_t i = 0; i < node->v.u.tab.len; i++)
		index_put(node, i);
	return 0;
}

static struct toml_kv *table_find(const struct toml_value *t, const char *key, size_t n)
{
	const struct toml_node *node = toml_node_of(t);

	if (node->index) {
		size_t mask = node->index_cap - 1;
		for (size_t slot = (size_t)hash_key(key, n) & mask; node->index[slot];
		     slot = (slot + 1) & mask) {
			struct toml_kv *kv = &t->u.tab.items[node->index[slot] - 1];
			if (kv->keylen == n && memcmp(kv->key, key, n) == 0)
				return kv;
		}
		return NULL;
	}
	for (size_t i = 0; i < t->u.tab.len; i++) {
		struct toml_kv *kv = &t->u.tab.items[i];
		if (kv->keylen == n && memcmp(kv->key, key, n) == 0)
			return kv;
	}
	return NULL;
}

/* Adds key -> value (copying the key); on failure the value is freed.  Returns
 * the new entry, which stays valid until the next insertion. */
static struct toml_kv *table_add(struct toml_parser *p, struct toml_value *t, const struct toml_keypart *key,
				 struct toml_value *value)
{
	struct toml_node *node = toml_node_of(t);
	struct toml_kv *kv;
	char *copy = malloc(key->n + 1);

	if (!copy)
		goto nomem;
	memcpy(copy, key->s, key->n);
	copy[key->n] = '\0';
	if (t->u.tab.len == node->cap) {
		size_t cap = node->cap ? node->cap * 2 : 4;
		struct toml_kv *items = reallocarray(t->u.tab.items, cap, sizeof(*items));
		if (!items)
			goto nomem;
		t->u.tab.items = items;
		node->cap = cap;
	}
	kv = &t->u.tab.items[t->u.tab.len++];
	*kv = (struct toml_kv){copy, key->n, key->pos, value};
	if (t->u.tab.len >= INDEX_MIN) {
		if (t->u.tab.len * 2 > node->index_cap) {
			if (index_rebuild(p, node) < 0)
				return NULL; /* the entry is in the table: freed with it */
		} else {
			index_put(node, t->u.tab.len - 1);
		}
	}
	return kv;
nomem:
	free(copy);
	toml_free(value);
	toml_fail_nomem(p);
	return NULL;
}

/* A new empty table under t at `key`, flagged as `flags`, and the path
 * stepped into it. */
static struct toml_value *table_add_table(struct toml_parser *p, struct toml_value *t,
					  const struct toml_keypart *key, struct toml_pos pos, unsigned flags)
{
	struct toml_value *sub = toml_node_new(p, TOML_TABLE, pos, toml_node_of(t)->depth + 1);
	struct toml_kv *kv;

	if (!sub || !(kv = table_add(p, t, key, sub)))
		return NULL;
	toml_node_of(sub)->flags = flags;
	toml_path_push_key(p, kv->key, kv->keylen);
	return sub;
}

/* "a string", "an integer", ... for messages. */
static void describe_value(const struct toml_value *v, char *buf, size_t size)
{
	const char *name = toml_type_name(v->type);

	snprintf(buf, size, "%s %s", strchr("aeiou", name[0]) ? "an" : "a", name);
}

/* " in table [a.b]" for the first `len` steps of the path, "" for the root. */
static void format_table_suffix(const struct toml_parser *p, size_t len, char *buf, size_t size)
{
	char path[512];

	if (len == 0) {
		buf[0] = '\0';
		return;
	}
	toml_format_path(p, len, path, sizeof(path));
	snprintf(buf, size, " in table [%s]", path);
}

/* "<before>[a.b]<after>" naming the table at the current path. */
static int fail_at_path(struct toml_parser *p, struct toml_pos pos, const char *before, const char *after)
{
	char path[512];

	toml_format_path(p, p->path_len, path, sizeof(path));
	return toml_fail(p, pos, "%s[%s]%s", before, path, after);
}

static int fail_not_a_table(struct toml_parser *p, struct toml_pos pos, const struct toml_value *v)
{
	char what[48], path[512];

	describe_value(v, what, sizeof(what));
	toml_format_path(p, p->path_len, path, sizeof(path));
	return toml_fail(p, pos, "key '%s' already holds %s (line %u), it cannot be used as a table", path,
			 what, v->pos.line);
}

/* Walks one step of a [header] that is not its last part: into a table, or
 * into the last table of an array of tables, creating implicit tables. */
static struct toml_value *header_step(struct toml_parser *p, struct toml_value *t,
				      const struct toml_keypart *part)
{
	struct toml_kv *kv = table_find(t, part->s, part->n);
	struct toml_value *v;

	if (!kv) {
		return table_add_table(p, t, part, part->pos, TOML_F_IMPLICIT);
	}
	v = kv->value;
	toml_path_push_key(p, kv->key, kv->keylen);
	if (v->type == TOML_TABLE) {
		if (toml_node_of(v)->flags & TOML_F_INLINE) {
			fail_at_path(p, part->pos, "inline table ", " cannot be extended by a table header");
			return NULL;
		}
		return v;
	}
	if (v->type == TOML_ARRAY && (toml_node_of(v)->flags & TOML_F_AOT)) {
		toml_path_push_index(p, v->u.arr.len - 1);
		return v->u.arr.items[v->u.arr.len - 1];
	}
	fail_not_a_table(p, part->pos, v);
	return NULL;
}

/* [[a.b]]: append a new table to the array of tables at a.b. */
static struct toml_value *header_append(struct toml_parser *p, struct toml_value *t,
					const struct toml_keypart *part, struct toml_pos pos)
{
	struct toml_kv *kv = table_find(t, part->s, part->n);
	struct toml_value *arr, *elem;

	if (kv) {
		arr = kv->value;
		toml_path_push_key(p, kv->key, kv->keylen);
		if (arr->type == TOML_ARRAY && !(toml_node_of(arr)->flags & TOML_F_AOT)) {
			fail_at_path(p, part->pos, "cannot append to static array ", " with [[...]]");
			return NULL;
		}
		if (arr->type == TOML_TABLE) {
			fail_at_path(p, part->pos, "table ",
				     " is already a table, it cannot become an array of tables");
			return NULL;
		}
		if (arr->type != TOML_ARRAY) {
			fail_not_a_table(p, part->pos, arr);
			return NULL;
		}
	} else {
		arr = toml_node_new(p, TOML_ARRAY, pos, toml_node_of(t)->depth + 1);
		if (!arr || !(kv = table_add(p, t, part, arr)))
			return NULL;
		toml_node_of(arr)->flags = TOML_F_AOT;
		toml_path_push_key(p, kv->key, kv->keylen);
	}
	elem = toml_node_new(p, TOML_TABLE, pos, toml_node_of(arr)->depth + 1);
	if (!elem)
		return NULL;
	if (toml_array_append(p, arr, elem) < 0) {
		toml_free(elem);
		return NULL;
	}
	toml_node_of(elem)->flags = TOML_F_DEFINED;
	toml_path_push_index(p, arr->u.arr.len - 1);
	return elem;
}

/* [a.b]: define the table a.b (which may exist only implicitly so far). */
static struct toml_value *header_define(struct toml_parser *p, struct toml_value *t,
					const struct toml_keypart *part, struct toml_pos pos)
{
	struct toml_kv *kv = table_find(t, part->s, part->n);
	struct toml_value *v;
	struct toml_node *node;
	char line[48];

	if (!kv) {
		return table_add_table(p, t, part, pos, TOML_F_DEFINED);
	}
	v = kv->value;
	toml_path_push_key(p, kv->key, kv->keylen);
	if (v->type == TOML_ARRAY && (toml_node_of(v)->flags & TOML_F_AOT)) {
		fail_at_path(p, part->pos, "table ", " is already an array of tables ([[...]])");
		return NULL;
	}
	if (v->type != TOML_TABLE) {
		fail_not_a_table(p, part->pos, v);
		return NULL;
	}
	node = toml_node_of(v);
	snprintf(line, sizeof(line), " is defined twice (first at line %u)", v->pos.line);
	if (node->flags & TOML_F_INLINE)
		fail_at_path(p, part->pos, "table ", " is already defined as an inline table");
	else if (node->flags & TOML_F_DEFINED)
		fail_at_path(p, part->pos, "table ", line);
	else if (node->flags & TOML_F_DOTTED)
		fail_at_path(p, part->pos, "table ", " is already defined by dotted keys");
	else {
		node->flags |= TOML_F_DEFINED;
		v->pos = pos;
		return v;
	}
	return NULL;
}

static int parse_header_key(struct toml_parser *p, bool aot, struct toml_key *key)
{
	char what[32];

	toml_advance_n(p, aot ? 2 : 1);
	toml_skip_ws(p);
	if (toml_parse_key(p, key) < 0)
		return -1;
	if (toml_peek(p) != ']' || (aot && toml_peek_at(p, 1) != ']'))
		return toml_fail(p, toml_here(p), "expected '%s' to close the table header, found %s",
				 aot ? "]]" : "]", toml_describe_char(p, what, sizeof(what)));
	toml_advance_n(p, aot ? 2 : 1);
	return toml_expect_end_of_line(p, "the table header");
}

/* [a.b.c] or [[a.b.c]]: returns the table that following keys go into. */
static int parse_header(struct toml_parser *p, struct toml_value *root, struct toml_value **current)
{
	struct toml_pos pos = toml_here(p);
	bool aot = toml_peek_at(p, 1) == '[';
	struct toml_key key;
	struct toml_value *t = root;
	int rc = -1;

	p->path_len = 0;
	if (parse_header_key(p, aot, &key) < 0)
		goto out;
	for (size_t i = 0; t && i + 1 < key.len; i++)
		t = header_step(p, t, &key.parts[i]);
	if (!t)
		goto out;
	t = aot ? header_append(p, t, &key.parts[key.len - 1], pos)
		: header_define(p, t, &key.parts[key.len - 1], pos);
	if (!t)
		goto out;
	*current = t;
	rc = 0;
out:
	toml_key_release(&key);
	return rc;
}

/* One step of a dotted key a.b.c = v (not its last part): into a table that
 * only dotted keys or headers' parents created, or a new one. */
static struct toml_value *dotted_step(struct toml_parser *p, struct toml_value *t,
				      const struct toml_keypart *part)
{
	struct toml_kv *kv = table_find(t, part->s, part->n);
	struct toml_value *v;
	struct toml_node *node;

	if (!kv) {
		return table_add_table(p, t, part, part->pos, TOML_F_DOTTED);
	}
	v = kv->value;
	toml_path_push_key(p, kv->key, kv->keylen);
	if (v->type != TOML_TABLE) {
		fail_not_a_table(p, part->pos, v);
		return NULL;
	}
	node = toml_node_of(v);
	if (node->flags & TOML_F_INLINE) {
		fail_at_path(p, part->pos, "inline table ", " cannot be extended by dotted keys");
		return NULL;
	}
	if (node->flags & TOML_F_DEFINED) {
		fail_at_path(p, part->pos, "table ",
			     " is defined by a table header, dotted keys cannot extend it");
		return NULL;
	}
	/* An implicit table extended by dotted keys can no longer get a header. */
	node->flags |= TOML_F_DOTTED;
	return v;
}

/* key = value, into table t (the current section, or an inline table). */
static int parse_keyval(struct toml_parser *p, struct toml_value *t)
{
	size_t base = p->path_len;
	const struct toml_keypart *last;
	struct toml_value *value;
	struct toml_key key;
	char what[32], quoted[256], where[600];
	int rc = -1;

	if (toml_parse_key(p, &key) < 0)
		goto out;
	if (toml_peek(p) != '=') {
		toml_fail(p, toml_here(p), "expected '=' after the key, found %s",
			  toml_describe_char(p, what, sizeof(what)));
		goto out;
	}
	toml_advance(p);
	toml_skip_ws(p);
	for (size_t i = 0; t && i + 1 < key.len; i++)
		t = dotted_step(p, t, &key.parts[i]);
	if (!t)
		goto out;
	last = &key.parts[key.len - 1];
	if (table_find(t, last->s, last->n)) {
		toml_quote_key(last->s, last->n, quoted, sizeof(quoted));
		format_table_suffix(p, p->path_len, where, sizeof(where));
		toml_fail(p, last->pos, "duplicate key %s%s", quoted, where);
		goto out;
	}
	toml_path_push_key(p, last->s, last->n);
	if (toml_parse_value(p, toml_node_of(t)->depth + 1, &value) < 0)
		goto out;
	if (!table_add(p, t, last, value))
		goto out;
	rc = 0;
out:
	p->path_len = base;
	toml_key_release(&key);
	return rc;
}

int toml_parse_inline_table(struct toml_parser *p, uint32_t depth, struct toml_value **out)
{
	struct toml_value *t = toml_node_new(p, TOML_TABLE, toml_here(p), depth);
	char what[32];

	if (!t)
		return -1;
	toml_advance(p); /* { */
	toml_skip_ws(p);
	if (toml_peek(p) != '}') {
		for (;;) {
			toml_skip_ws(p);
			if (parse_keyval(p, t) < 0)
				goto fail;
			toml_skip_ws(p);
			if (toml_peek(p) == '}')
				break;
			if (toml_peek(p) != ',') {
				toml_fail(p, toml_here(p),
					  "expected ',' or '}' in the inline table, found %s%s",
					  toml_describe_char(p, what, sizeof(what)),
					  toml_at_newline(p) ? " (inline tables must fit on one line)" : "");
				goto fail;
			}
			toml_advance(p);
			toml_skip_ws(p);
			if (toml_peek(p) == '}') {
				toml_fail(p, toml_here(p),
					  "trailing comma in an inline table is not allowed");
				goto fail;
			}
		}
	}
	toml_advance(p); /* } */
	toml_node_of(t)->flags = TOML_F_INLINE | TOML_F_DEFINED;
	*out = t;
	return 0;
fail:
	toml_free(t);
	return -1;
}

static int parse_document(struct toml_parser *p, struct toml_value *root)
{
	struct toml_value *current = root;

	for (;;) {
		toml_skip_ws(p);
		if (toml_peek(p) < 0)
			return 0;
		if (toml_peek(p) == '#' || toml_at_newline(p)) {
			if (toml_expect_end_of_line(p, "a comment") < 0)
				return -1;
		} else if (toml_peek(p) == '[') {
			if (parse_header(p, root, &current) < 0)
				return -1;
		} else {
			if (parse_keyval(p, current) < 0 || toml_expect_end_of_line(p, "the value") < 0)
				return -1;
		}
	}
}

int toml_parse(const char *filename, const char *data, size_t len, struct toml_value **root,
	       struct ocb_error *err)
{
	struct toml_parser *p;
	struct toml_value *doc = NULL;
	int rc = -1;

	if (!filename)
		filename = "<input>";
	if (len > TOML_MAX_INPUT)
		return ocb_error_set(err, OCB_ELIMIT, 0, "%s: document is larger than %u MiB", filename,
				     TOML_MAX_INPUT >> 20);
	/* The parser holds the path stack: keep it off the caller's stack. */
	p = calloc(1, sizeof(*p));
	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "%s: out of memory", filename);
	*p = (struct toml_parser){
	    .filename = filename,
	    .start = (const unsigned char *)data,
	    .cur = (const unsigned char *)data,
	    .end = (const unsigned char *)data + len,
	    .line = 1,
	    .col = 1,
	    .err = err,
	    .c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0),
	};
	/* A byte order mark is allowed at the very start only. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		p->cur += 3;
	if (toml_check_encoding(p) < 0)
		goto out;
	doc = toml_node_new(p, TOML_TABLE, toml_here(p), 0);
	if (!doc)
		goto out;
	toml_node_of(doc)->flags = TOML_F_DEFINED;
	if (parse_document(p, doc) < 0)
		goto out;
	*root = steal_pointer(&doc);
	rc = 0;
out:
	toml_free(doc);
	if (p->c_locale != (locale_t)0)
		freelocale(p->c_locale);
	free(p);
	return rc;
}

/* Reads the whole file, at most one byte past the size limit so that
 * toml_parse reports an oversized document. */
static int read_bounded(int fd, const char *path, char **out, size_t *outlen, struct ocb_error *err)
{
	const size_t max = TOML_MAX_INPUT + 1;
	cleanup_free char *buf = NULL;
	size_t len = 0, cap = 4096;
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0)
		cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max;
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *bigger;
			if (cap == max)
				break;
			cap = cap > max / 2 ? max : cap * 2;
			bigger = realloc(buf, cap);
			if (!bigger)
				return ocb_error_set(err, OCB_EFAIL, ENOMEM, "%s: out of memory", path);
			buf = bigger;
		} else if (!buf && !(buf = malloc(cap))) {
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "%s: out of memory", path);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ocb_error_sys(err, "read '%s'", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = steal_pointer(&buf);
	*outlen = len;
	return 0;
}

int toml_parse_file(const char *path, struct toml_value **root, struct ocb_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	cleanup_free char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return ocb_error_sys(err, "open '%s'", path);
	if (read_bounded(fd, path, &buf, &len, err) < 0)
		return -1;
	return toml_parse(path, buf, len, root, err);
}

void toml_free(struct toml_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case TOML_STRING:
		free(v->u.str.ptr);
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		free(v->u.dt.text);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->u.arr.len; i++)
			toml_free(v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case TOML_TABLE:
		for (size_t i = 0; i < v->u.tab.len; i++) {
			free(v->u.tab.items[i].key);
			toml_free(v->u.tab.items[i].value);
		}
		free(v->u.tab.items);
		free(toml_node_of(v)->index);
		break;
	default:
		break;
	}
	free(v);
}

const struct toml_kv *toml_table_get_kv(const struct toml_value *table, const char *key)
{
	if (!table || table->type != TOML_TABLE || !key)
		return NULL;
	return table_find(table, key, strlen(key));
}

const struct toml_value *toml_table_get(const struct toml_value *table, const char *key)
{
	const struct toml_kv *kv = toml_table_get_kv(table, key);
	return kv ? kv->value : NULL;
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_DATETIME:
		return "datetime";
	case TOML_DATETIME_LOCAL:
		return "datetime-local";
	case TOML_DATE_LOCAL:
		return "date-local";
	case TOML_TIME_LOCAL:
		return "time-local";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "unknown";
}
