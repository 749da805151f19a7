/* TOML strings: basic "..." with escapes, literal '...', and their
 * multi-line forms """...""" and '''...''' (line-ending backslash, up to two
 * quotes next to the closing delimiter, CRLF read as LF). */
#include "recipes/toml_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/banned.h"

int toml_buf_add(struct toml_parser *p, struct toml_buf *b, const void *data, size_t n)
{
	if (n >= SIZE_MAX - b->len)
		return toml_fail_nomem(p);
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *s;
		while (cap < b->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
		s = realloc(b->s, cap);
		if (!s)
			return toml_fail_nomem(p);
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int buf_add_codepoint(struct toml_parser *p, struct toml_buf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return toml_buf_add(p, b, u, n);
}

bool toml_at_string(const struct toml_parser *p)
{
	int c = toml_peek(p);
	return c == '"' || c == '\'';
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \uXXXX or \UXXXXXXXX: the cursor is on the 'u' or 'U'. */
static int parse_unicode_escape(struct toml_parser *p, struct toml_buf *b, struct toml_pos pos)
{
	char letter = (char)toml_peek(p);
	size_t digits = letter == 'u' ? 4 : 8;
	uint32_t cp = 0;

	toml_advance(p);
	for (size_t i = 0; i < digits; i++) {
		int h = hex_value(toml_peek(p));
		if (h < 0)
			return toml_fail(p, pos, "escape \\%c needs %zu hexadecimal digits", letter, digits);
		cp = (cp << 4) | (uint32_t)h;
		toml_advance(p);
	}
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return toml_fail(p, pos, "escape \\%c%0*X is not a Unicode scalar value", letter, (int)digits,
				 (unsigned)cp);
	return buf_add_codepoint(p, b, cp);
}

/* A backslash followed by blanks then a line end: the line end and all the
 * blanks and line ends after it vanish. */
static int skip_line_ending_backslash(struct toml_parser *p, struct toml_pos pos)
{
	toml_skip_ws(p);
	if (!toml_at_newline(p))
		return toml_fail(p, pos, "a line-ending backslash must be followed only by blanks");
	while (toml_at_newline(p) || toml_peek(p) == ' ' || toml_peek(p) == '\t') {
		if (toml_at_newline(p))
			toml_skip_newline(p);
		else
			toml_advance(p);
	}
	return 0;
}

/* The cursor is on the backslash. */
static int parse_escape(struct toml_parser *p, struct toml_buf *b, bool multiline)
{
	struct toml_pos pos = toml_here(p);
	char what[32];
	char out;
	int c;

	toml_advance(p);
	c = toml_peek(p);
	switch (c) {
	case 'b':
		out = '\b';
		break;
	case 't':
		out = '\t';
		break;
	case 'n':
		out = '\n';
		break;
	case 'f':
		out = '\f';
		break;
	case 'r':
		out = '\r';
		break;
	case '"':
		out = '"';
		break;
	case '\\':
		out = '\\';
		break;
	case 'u':
	case 'U':
		return parse_unicode_escape(p, b, pos);
	default:
		if (multiline && (c == ' ' || c == '\t' || toml_at_newline(p)))
			return skip_line_ending_backslash(p, pos);
		if (c > 0x20 && c < 0x7F)
			return toml_fail(p, pos, "invalid escape sequence \\%c", c);
		return toml_fail(p, pos, "invalid escape sequence: backslash followed by %s",
				 toml_describe_char(p, what, sizeof(what)));
	}
	toml_advance(p);
	return toml_buf_add(p, b, &out, 1);
}

/* Copies the character at the cursor (1 to 4 bytes) and moves past it. */
static int copy_char(struct toml_parser *p, struct toml_buf *b)
{
	const unsigned char *begin = p->cur;

	toml_advance(p);
	while (p->cur < p->end && (*p->cur & 0xC0) == 0x80)
		toml_advance(p);
	return toml_buf_add(p, b, begin, (size_t)(p->cur - begin));
}

/* In a multi-line string at a quote: a run of fewer than three is content, a
 * run of three to five closes the string (the extra ones are content), more
 * is an error.  Returns 1 when the string is closed. */
static int multiline_quote_run(struct toml_parser *p, struct toml_buf *b, char q)
{
	struct toml_pos pos = toml_here(p);
	size_t run = 0;

	while (toml_peek_at(p, run) == q)
		run++;
	if (run > 5)
		return toml_fail(p, pos, "too many quotes (%zu) at the end of a multi-line string", run);
	toml_advance_n(p, run);
	if (toml_buf_add(p, b, (char[2]){q, q}, run < 3 ? run : run - 3) < 0)
		return -1;
	return run >= 3;
}

static int parse_multiline(struct toml_parser *p, struct toml_buf *b, char q, struct toml_pos start)
{
	toml_advance_n(p, 3);
	/* A newline right after the opening delimiter is trimmed. */
	if (toml_at_newline(p))
		toml_skip_newline(p);
	for (;;) {
		int c = toml_peek(p), rc;

		if (c < 0)
			return toml_fail(p, start, "multi-line string has no closing %c%c%c", q, q, q);
		if (c == q) {
			rc = multiline_quote_run(p, b, q);
			if (rc != 0)
				return rc < 0 ? -1 : 0;
		} else if (c == '\\' && q == '"') {
			if (parse_escape(p, b, true) < 0)
				return -1;
		} else if (toml_at_newline(p)) {
			toml_skip_newline(p);
			if (toml_buf_add(p, b, "\n", 1) < 0)
				return -1;
		} else if (copy_char(p, b) < 0) {
			return -1;
		}
	}
}

static int parse_single_line(struct toml_parser *p, struct toml_buf *b, char q, struct toml_pos start)
{
	toml_advance(p);
	for (;;) {
		int c = toml_peek(p);

		if (c < 0 || toml_at_newline(p))
			return toml_fail(p, start, "string has no closing quote on its line");
		if (c == q) {
			toml_advance(p);
			return 0;
		}
		if (c == '\\' && q == '"') {
			if (parse_escape(p, b, false) < 0)
				return -1;
		} else if (copy_char(p, b) < 0) {
			return -1;
		}
	}
}

/* The cursor is on the opening quote.  On success *out is a NUL-terminated
 * malloc'd string of *outlen bytes (which may include NULs from \u0000). */
int toml_parse_string(struct toml_parser *p, bool allow_multiline, char **out, size_t *outlen)
{
	struct toml_pos start = toml_here(p);
	char q = (char)toml_peek(p);
	bool multiline = toml_peek_at(p, 1) == q && toml_peek_at(p, 2) == q;
	struct toml_buf b = {0};
	int rc;

	if (multiline && !allow_multiline)
		return toml_fail(p, start, "a key cannot be a multi-line string");
	if (toml_buf_add(p, &b, "", 0) < 0)
		return -1;
	if (multiline)
		rc = parse_multiline(p, &b, q, start);
	else
		rc = parse_single_line(p, &b, q, start);
	if (rc < 0) {
		free(b.s);
		return -1;
	}
	*out = b.s;
	*outlen = b.len;
	return 0;
}
