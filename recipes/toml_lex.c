/* The TOML scanner: the cursor and its line:column, errors, the encoding
 * pre-check, whitespace, comments and keys. */
#include "recipes/toml_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/banned.h"

int toml_fail(struct toml_parser *p, struct toml_pos pos, const char *fmt, ...)
{
	char msg[OCB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ocb_error_set(p->err, OCB_EINVAL, 0, "%s:%u:%u: %s", p->filename, pos.line, pos.col, msg);
}

int toml_fail_nomem(struct toml_parser *p)
{
	return ocb_error_set(p->err, OCB_EFAIL, ENOMEM, "%s: out of memory", p->filename);
}

struct toml_pos toml_here(const struct toml_parser *p)
{
	return (struct toml_pos){p->line, p->col};
}

int toml_peek(const struct toml_parser *p)
{
	return p->cur < p->end ? *p->cur : -1;
}

int toml_peek_at(const struct toml_parser *p, size_t k)
{
	return (size_t)(p->end - p->cur) > k ? p->cur[k] : -1;
}

/* Columns count code points: only bytes that start a character move on.  The
 * input is known to be valid UTF-8 (toml_check_encoding ran first). */
void toml_advance(struct toml_parser *p)
{
	unsigned char c;

	if (p->cur >= p->end)
		return;
	c = *p->cur++;
	if (c == '\n') {
		p->line++;
		p->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		p->col++;
	}
}

void toml_advance_n(struct toml_parser *p, size_t n)
{
	while (n-- > 0)
		toml_advance(p);
}

/* LF or CRLF (a bare CR was refused by the encoding check). */
bool toml_at_newline(const struct toml_parser *p)
{
	int c = toml_peek(p);
	return c == '\n' || (c == '\r' && toml_peek_at(p, 1) == '\n');
}

void toml_skip_newline(struct toml_parser *p)
{
	if (toml_peek(p) == '\r')
		toml_advance(p);
	toml_advance(p);
}

void toml_skip_ws(struct toml_parser *p)
{
	while (p->cur < p->end && (*p->cur == ' ' || *p->cur == '\t'))
		toml_advance(p);
}

/* Control characters were refused document-wide, so a comment is simply
 * everything up to the end of the line. */
void toml_skip_comment(struct toml_parser *p)
{
	if (toml_peek(p) != '#')
		return;
	while (p->cur < p->end && !toml_at_newline(p))
		toml_advance(p);
}

void toml_skip_ws_comments_newlines(struct toml_parser *p)
{
	for (;;) {
		toml_skip_ws(p);
		toml_skip_comment(p);
		if (!toml_at_newline(p))
			return;
		toml_skip_newline(p);
	}
}

const char *toml_describe_char(const struct toml_parser *p, char *buf, size_t size)
{
	int c = toml_peek(p);

	if (c < 0)
		snprintf(buf, size, "end of file");
	else if (toml_at_newline(p))
		snprintf(buf, size, "end of line");
	else if (c > 0x20 && c < 0x7F)
		snprintf(buf, size, "'%c'", c);
	else if (c == ' ')
		snprintf(buf, size, "a space");
	else if (c == '\t')
		snprintf(buf, size, "a tab");
	else {
		/* Valid UTF-8 (checked up front): decode for the message. */
		uint32_t cp = (uint32_t)c;
		size_t extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
		cp &= extra == 3 ? 0x07 : extra == 2 ? 0x0F : extra == 1 ? 0x1F : 0x7F;
		for (size_t i = 1; i <= extra; i++)
			cp = (cp << 6) | ((uint32_t)toml_peek_at(p, i) & 0x3F);
		snprintf(buf, size, "U+%04X", (unsigned)cp);
	}
	return buf;
}

/* After a key/value pair or a table header only a comment may follow. */
int toml_expect_end_of_line(struct toml_parser *p, const char *after)
{
	char what[32];

	toml_skip_ws(p);
	toml_skip_comment(p);
	if (toml_peek(p) < 0)
		return 0;
	if (toml_at_newline(p)) {
		toml_skip_newline(p);
		return 0;
	}
	return toml_fail(p, toml_here(p), "expected the end of the line after %s, found %s", after,
			 toml_describe_char(p, what, sizeof(what)));
}

/* Length of the UTF-8 sequence starting at s (at most n bytes available), or
 * 0 when it is malformed, overlong, a surrogate or beyond U+10FFFF. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* > U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* One pass over the whole document before parsing: valid UTF-8, and no
 * control character other than tab and line ends anywhere (TOML forbids them
 * in strings, comments and between tokens alike), and no bare CR. */
int toml_check_encoding(struct toml_parser *p)
{
	struct toml_parser scan = *p;

	while (scan.cur < scan.end) {
		unsigned char c = *scan.cur;
		size_t len = utf8_sequence_length(scan.cur, (size_t)(scan.end - scan.cur));

		if (len == 0)
			return toml_fail(p, toml_here(&scan), "invalid UTF-8 byte 0x%02x", c);
		if (c == '\r' && toml_peek_at(&scan, 1) != '\n')
			return toml_fail(p, toml_here(&scan), "carriage return not followed by a line feed");
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
			return toml_fail(p, toml_here(&scan), "control character U+%04X is not allowed", c);
		scan.cur += len;
		if (c == '\n') {
			scan.line++;
			scan.col = 1;
		} else {
			scan.col++;
		}
	}
	return 0;
}

static bool is_bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

static int key_add_part(struct toml_parser *p, struct toml_key *key, char *s, size_t n, struct toml_pos pos)
{
	if (key->len == key->cap) {
		size_t cap = key->cap ? key->cap * 2 : 4;
		struct toml_keypart *parts = reallocarray(key->parts, cap, sizeof(*parts));
		if (!parts) {
			free(s);
			return toml_fail_nomem(p);
		}
		key->parts = parts;
		key->cap = cap;
	}
	key->parts[key->len++] = (struct toml_keypart){s, n, pos};
	return 0;
}

static int parse_simple_key(struct toml_parser *p, struct toml_key *key)
{
	struct toml_pos pos = toml_here(p);
	const unsigned char *begin = p->cur;
	char what[32];
	char *s;
	size_t n;

	if (toml_at_string(p)) {
		if (toml_parse_string(p, false, &s, &n) < 0)
			return -1;
		return key_add_part(p, key, s, n, pos);
	}
	while (is_bare_key_char(toml_peek(p)))
		toml_advance(p);
	n = (size_t)(p->cur - begin);
	if (n == 0)
		return toml_fail(p, pos, "expected a key, found %s",
				 toml_describe_char(p, what, sizeof(what)));
	s = strndup((const char *)begin, n);
	if (!s)
		return toml_fail_nomem(p);
	return key_add_part(p, key, s, n, pos);
}

/* key = simple-key *( ws "." ws simple-key ); the cursor is on its first
 * character and ends after its last one (trailing blanks are left). */
int toml_parse_key(struct toml_parser *p, struct toml_key *key)
{
	*key = (struct toml_key){.pos = toml_here(p)};
	for (;;) {
		if (key->len == TOML_MAX_DEPTH)
			return toml_fail(p, toml_here(p), "key has more than %d parts", TOML_MAX_DEPTH);
		if (parse_simple_key(p, key) < 0)
			return -1;
		toml_skip_ws(p);
		if (toml_peek(p) != '.')
			return 0;
		toml_advance(p);
		toml_skip_ws(p);
	}
}

void toml_key_release(struct toml_key *key)
{
	for (size_t i = 0; i < key->len; i++)
		free(key->parts[i].s);
	free(key->parts);
	*key = (struct toml_key){0};
}

void toml_path_push_key(struct toml_parser *p, const char *s, size_t n)
{
	if (p->path_len < TOML_PATH_MAX)
		p->path[p->path_len] = (struct toml_pathcomp){s, n};
	p->path_len++;
}

void toml_path_push_index(struct toml_parser *p, size_t index)
{
	toml_path_push_key(p, NULL, index);
}

/* "..." with the escapes a TOML basic string would need. */
void toml_quote_key(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	if (size < 8) {
		if (size)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (size_t i = 0; i < n && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			o += (size_t)snprintf(buf + o, size - o, "\\u%04X", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

static bool key_is_bare(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_bare_key_char((unsigned char)s[i]))
			return false;
	return true;
}

/* The first len steps of the current path in TOML syntax: a.b."c d"[2].e */
void toml_format_path(const struct toml_parser *p, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < len && i < TOML_PATH_MAX && o + 1 < size; i++) {
		const struct toml_pathcomp *c = &p->path[i];
		if (!c->s) {
			o += (size_t)snprintf(buf + o, size - o, "[%zu]", c->n);
		} else {
			if (i > 0)
				o += (size_t)snprintf(buf + o, size - o, ".");
			if (o + 1 >= size)
				break;
			if (key_is_bare(c->s, c->n))
				o += (size_t)snprintf(buf + o, size - o, "%.*s", (int)c->n, c->s);
			else
				toml_quote_key(c->s, c->n, buf + o, size - o);
			o = strlen(buf);
		}
	}
	if (o >= size)
		buf[size - 1] = '\0';
}
