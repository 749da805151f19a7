/* TOML values: nodes, arrays, and the scalars that are written as one token
 * (integers, floats, booleans, date-times); strings live in toml_string.c and
 * inline tables in toml.c. */
#include "recipes/toml_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

/* Longest token quoted back in an error message. */
#define TOKEN_SHOWN 64
#define SHOWN(n)    ((int)((n) < TOKEN_SHOWN ? (n) : TOKEN_SHOWN))

struct toml_value *toml_node_new(struct toml_parser *p, enum toml_type type, struct toml_pos pos,
				 uint32_t depth)
{
	bool container = type == TOML_ARRAY || type == TOML_TABLE;
	struct toml_node *n;

	if (container && depth > TOML_MAX_DEPTH) {
		toml_fail(p, pos, "tables and arrays nest deeper than %d levels", TOML_MAX_DEPTH);
		return NULL;
	}
	/* Scalars are most of a document: they get no node fields. */
	n = calloc(1, container ? sizeof(struct toml_node) : sizeof(struct toml_value));
	if (!n) {
		toml_fail_nomem(p);
		return NULL;
	}
	n->v.type = type;
	n->v.pos = pos;
	if (container)
		n->depth = depth;
	return &n->v;
}

int toml_array_append(struct toml_parser *p, struct toml_value *arr, struct toml_value *item)
{
	struct toml_node *n = toml_node_of(arr);

	if (arr->u.arr.len == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4;
		struct toml_value **items = reallocarray(arr->u.arr.items, cap, sizeof(*items));
		if (!items)
			return toml_fail_nomem(p);
		arr->u.arr.items = items;
		n->cap = cap;
	}
	arr->u.arr.items[arr->u.arr.len++] = item;
	return 0;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_digit_in_base(int c, int base)
{
	switch (base) {
	case 2:
		return c == '0' || c == '1';
	case 8:
		return c >= '0' && c <= '7';
	case 16:
		return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	default:
		return is_digit(c);
	}
}

/* Digits with single underscores between them, from t[*i]; returns how many
 * digits were read, or -1 for a misplaced underscore. */
static int scan_digits(const char *t, size_t n, size_t *i, int base)
{
	int count = 0;

	while (*i < n) {
		if (is_digit_in_base(t[*i], base)) {
			count++;
			(*i)++;
		} else if (t[*i] == '_') {
			if (count == 0 || *i + 1 >= n || !is_digit_in_base(t[*i + 1], base))
				return -1;
			(*i)++;
		} else {
			break;
		}
	}
	return count;
}

static int digit_value(char c)
{
	if (is_digit(c))
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

static int parse_integer(struct toml_parser *p, const char *t, size_t n, struct toml_pos pos, int64_t *out)
{
	size_t i = 0, start;
	bool neg = false, sign = false;
	uint64_t v = 0, limit;
	int base = 10, count;

	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		sign = true;
		i = 1;
	}
	if (n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
		base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
		if (sign)
			return toml_fail(p, pos,
					 "invalid integer '%.*s': only decimal integers may have a sign",
					 SHOWN(n), t);
		i += 2;
	} else if (n - i > 1 && t[i] == '0' && (t[i + 1] == 'X' || t[i + 1] == 'O' || t[i + 1] == 'B')) {
		return toml_fail(p, pos, "invalid integer '%.*s': prefixes are lowercase (0x, 0o, 0b)",
				 SHOWN(n), t);
	} else if (n - i > 1 && t[i] == '0') {
		return toml_fail(p, pos, "invalid integer '%.*s': leading zeros are not allowed", SHOWN(n),
				 t);
	}
	start = i;
	count = scan_digits(t, n, &i, base);
	if (count <= 0 || i != n)
		return toml_fail(p, pos, "invalid integer '%.*s'", SHOWN(n), t);
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (i = start; i < n; i++) {
		uint64_t d;
		if (t[i] == '_')
			continue;
		d = (uint64_t)digit_value(t[i]);
		if (v > (limit - d) / (uint64_t)base)
			return toml_fail(p, pos, "integer '%.*s' does not fit in 64 bits", SHOWN(n), t);
		v = v * (uint64_t)base + d;
	}
	/* -2^63 has no positive counterpart: negate in unsigned arithmetic. */
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_special_float(const char *t, size_t n, double *out)
{
	const char *w = t;
	double sign = 1.0;

	if (t[0] == '+' || t[0] == '-') {
		sign = t[0] == '-' ? -1.0 : 1.0;
		w++;
		n--;
	}
	if (n == 3 && memcmp(w, "inf", 3) == 0)
		*out = copysign(INFINITY, sign);
	else if (n == 3 && memcmp(w, "nan", 3) == 0)
		*out = copysign(NAN, sign);
	else
		return -1;
	return 0;
}

/* float = [sign] dec-int ( frac [exp] / exp ), with the underscore rules of
 * integers in every digit group; leading zeros are allowed in the exponent. */
static int parse_float(struct toml_parser *p, const char *t, size_t n, struct toml_pos pos, double *out)
{
	cleanup_free char *buf = NULL;
	size_t i = 0, o = 0;
	char *end;
	double d;

	if (parse_special_float(t, n, out) == 0)
		return 0;
	if (t[i] == '+' || t[i] == '-')
		i++;
	if (i + 1 < n && t[i] == '0' && (is_digit(t[i + 1]) || t[i + 1] == '_'))
		return toml_fail(p, pos, "invalid float '%.*s': leading zeros are not allowed", SHOWN(n), t);
	if (scan_digits(t, n, &i, 10) <= 0)
		goto invalid;
	if (i < n && t[i] == '.') {
		i++;
		if (scan_digits(t, n, &i, 10) <= 0)
			goto invalid;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (scan_digits(t, n, &i, 10) <= 0)
			goto invalid;
	}
	if (i != n)
		goto invalid;
	buf = malloc(n + 1);
	if (!buf)
		return toml_fail_nomem(p);
	for (i = 0; i < n; i++)
		if (t[i] != '_')
			buf[o++] = t[i];
	buf[o] = '\0';
	errno = 0;
	d = p->c_locale != (locale_t)0 ? strtod_l(buf, &end, p->c_locale) : strtod(buf, &end);
	if (*end != '\0')
		goto invalid;
	if (errno == ERANGE && isinf(d))
		return toml_fail(p, pos, "float '%.*s' is out of range", SHOWN(n), t);
	*out = d;
	return 0;
invalid:
	return toml_fail(p, pos, "invalid float '%.*s'", SHOWN(n), t);
}

/* Exactly `count` digits at t into *out. */
static bool fixed_digits(const char *t, size_t count, int *out)
{
	int v = 0;

	for (size_t i = 0; i < count; i++) {
		if (!is_digit(t[i]))
			return false;
		v = v * 10 + (t[i] - '0');
	}
	*out = v;
	return true;
}

static bool looks_like_date(const char *t, size_t n)
{
	int dummy;
	return n >= 5 && fixed_digits(t, 4, &dummy) && t[4] == '-';
}

static bool looks_like_time(const char *t, size_t n)
{
	int dummy;
	return n >= 3 && fixed_digits(t, 2, &dummy) && t[2] == ':';
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

struct datetime_parse {
	const char *t;
	size_t n, i;
	struct toml_value *v;
	char text[64];
	size_t tlen;
};

static void text_add(struct datetime_parse *d, const char *s, size_t n)
{
	if (d->tlen + n < sizeof(d->text)) {
		memcpy(d->text + d->tlen, s, n);
		d->tlen += n;
		d->text[d->tlen] = '\0';
	}
}

static const char *parse_date_part(struct datetime_parse *d)
{
	const char *t = d->t;
	int y, m, day;

	if (d->n < 10 || !fixed_digits(t, 4, &y) || t[4] != '-' || !fixed_digits(t + 5, 2, &m) ||
	    t[7] != '-' || !fixed_digits(t + 8, 2, &day))
		return "expected YYYY-MM-DD";
	if (m < 1 || m > 12)
		return "month out of range";
	if (day < 1 || day > days_in_month(y, m))
		return "day out of range for its month";
	d->v->u.dt.year = y;
	d->v->u.dt.month = m;
	d->v->u.dt.day = day;
	text_add(d, t, 10);
	d->i = 10;
	return NULL;
}

static const char *parse_fraction(struct datetime_parse *d)
{
	const char *t = d->t;
	size_t begin = ++d->i, digits;
	uint32_t ns = 0;

	while (d->i < d->n && is_digit(t[d->i]))
		d->i++;
	digits = d->i - begin;
	if (digits == 0)
		return "expected digits after the decimal point";
	/* More precision than nanoseconds is truncated, as the spec asks. */
	if (digits > 9)
		digits = 9;
	for (size_t k = 0; k < 9; k++)
		ns = ns * 10 + (k < digits ? (uint32_t)(t[begin + k] - '0') : 0);
	d->v->u.dt.nanosecond = ns;
	text_add(d, ".", 1);
	text_add(d, t + begin, digits);
	return NULL;
}

static const char *parse_time_part(struct datetime_parse *d)
{
	const char *t = d->t + d->i;
	int h, m, s;

	if (d->n - d->i < 8 || !fixed_digits(t, 2, &h) || t[2] != ':' || !fixed_digits(t + 3, 2, &m) ||
	    t[5] != ':' || !fixed_digits(t + 6, 2, &s))
		return "expected HH:MM:SS";
	if (h > 23)
		return "hour out of range";
	if (m > 59)
		return "minute out of range";
	if (s > 60) /* 60 is a leap second */
		return "second out of range";
	d->v->u.dt.hour = h;
	d->v->u.dt.minute = m;
	d->v->u.dt.second = s;
	text_add(d, t, 8);
	d->i += 8;
	if (d->i < d->n && d->t[d->i] == '.')
		return parse_fraction(d);
	return NULL;
}

static const char *parse_offset_part(struct datetime_parse *d)
{
	const char *t = d->t + d->i;
	int h, m;

	if (t[0] == 'Z' || t[0] == 'z') {
		text_add(d, "Z", 1);
		d->i++;
		return NULL;
	}
	if (d->n - d->i < 6 || (t[0] != '+' && t[0] != '-') || !fixed_digits(t + 1, 2, &h) || t[3] != ':' ||
	    !fixed_digits(t + 4, 2, &m))
		return "expected Z or an offset +HH:MM";
	if (h > 23 || m > 59)
		return "offset out of range";
	d->v->u.dt.offset_minutes = (t[0] == '-' ? -1 : 1) * (h * 60 + m);
	text_add(d, t, 6);
	d->i += 6;
	return NULL;
}

/* full-date [ (T|t|space) partial-time [offset] ] or partial-time alone. */
static const char *parse_datetime_fields(struct datetime_parse *d)
{
	const char *why;
	bool has_date = looks_like_date(d->t, d->n);

	d->v->type = TOML_TIME_LOCAL;
	if (has_date) {
		if ((why = parse_date_part(d)))
			return why;
		d->v->type = TOML_DATE_LOCAL;
		if (d->i == d->n)
			return NULL;
		if (d->t[d->i] != 'T' && d->t[d->i] != 't' && d->t[d->i] != ' ')
			return "expected T between the date and the time";
		text_add(d, "T", 1);
		d->i++;
		d->v->type = TOML_DATETIME_LOCAL;
	}
	if ((why = parse_time_part(d)))
		return why;
	if (has_date && d->i < d->n) {
		if ((why = parse_offset_part(d)))
			return why;
		d->v->type = TOML_DATETIME;
	}
	return d->i == d->n ? NULL : "unexpected characters at the end";
}

static int parse_datetime(struct toml_parser *p, const char *t, size_t n, struct toml_value *v)
{
	struct datetime_parse d = {.t = t, .n = n, .v = v};
	const char *why = parse_datetime_fields(&d);

	if (why) {
		v->type = TOML_STRING; /* nothing to free yet */
		return toml_fail(p, v->pos, "invalid date-time '%.*s': %s", SHOWN(n), t, why);
	}
	v->u.dt.text = strdup(d.text);
	if (!v->u.dt.text) {
		v->type = TOML_STRING;
		return toml_fail_nomem(p);
	}
	return 0;
}

static bool is_token_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '+' ||
	       c == '-' || c == '.' || c == ':';
}

/* A scalar written without quotes runs until a delimiter; a date followed by
 * a space and a time is one token ("1979-05-27 07:32:00"). */
static size_t scan_token(struct toml_parser *p)
{
	const unsigned char *begin = p->cur;

	while (is_token_char(toml_peek(p)))
		toml_advance(p);
	if (p->cur - begin == 10 && looks_like_date((const char *)begin, 10) && toml_peek(p) == ' ' &&
	    is_digit(toml_peek_at(p, 1)) && is_digit(toml_peek_at(p, 2)) && toml_peek_at(p, 3) == ':') {
		toml_advance(p);
		while (is_token_char(toml_peek(p)))
			toml_advance(p);
	}
	return (size_t)(p->cur - begin);
}

static bool has_radix_prefix(const char *t, size_t n)
{
	size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
	return n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b');
}

static int parse_scalar_token(struct toml_parser *p, struct toml_value *v)
{
	const char *t = (const char *)p->cur;
	size_t n = scan_token(p);
	double special;
	char what[32];

	if (n == 0)
		return toml_fail(p, v->pos, "expected a value, found %s",
				 toml_describe_char(p, what, sizeof(what)));
	if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 5 && memcmp(t, "false", 5) == 0)) {
		v->type = TOML_BOOL;
		v->u.boolean = n == 4;
		return 0;
	}
	if (parse_special_float(t, n, &special) == 0) {
		v->type = TOML_FLOAT;
		v->u.flt = special;
		return 0;
	}
	if (looks_like_date(t, n) || looks_like_time(t, n))
		return parse_datetime(p, t, n, v);
	if (!is_digit(t[0]) && !((t[0] == '+' || t[0] == '-') && n > 1 && is_digit(t[1])))
		return toml_fail(p, v->pos, "invalid value '%.*s'%s", SHOWN(n), t,
				 is_digit(t[0]) || !is_token_char(t[0]) || t[0] == '+' || t[0] == '-' ||
					 t[0] == '.'
				     ? ""
				     : " (strings need quotes)");
	if (!has_radix_prefix(t, n) && (memchr(t, '.', n) || memchr(t, 'e', n) || memchr(t, 'E', n))) {
		v->type = TOML_FLOAT;
		return parse_float(p, t, n, v->pos, &v->u.flt);
	}
	v->type = TOML_INTEGER;
	return parse_integer(p, t, n, v->pos, &v->u.integer);
}

static int parse_array(struct toml_parser *p, uint32_t depth, struct toml_value *arr)
{
	char what[32];
	int rc = -1;

	toml_advance(p); /* [ */
	toml_path_push_index(p, 0);
	for (;;) {
		struct toml_value *item;

		toml_skip_ws_comments_newlines(p);
		if (toml_peek(p) == ']')
			break;
		if (p->path_len <= TOML_PATH_MAX)
			p->path[p->path_len - 1].n = arr->u.arr.len;
		if (toml_parse_value(p, depth + 1, &item) < 0)
			goto out;
		if (toml_array_append(p, arr, item) < 0) {
			toml_free(item);
			goto out;
		}
		toml_skip_ws_comments_newlines(p);
		if (toml_peek(p) == ']')
			break;
		if (toml_peek(p) != ',') {
			toml_fail(p, toml_here(p), "expected ',' or ']' in the array, found %s",
				  toml_describe_char(p, what, sizeof(what)));
			goto out;
		}
		toml_advance(p);
	}
	toml_advance(p); /* ] */
	rc = 0;
out:
	p->path_len--;
	return rc;
}

int toml_parse_value(struct toml_parser *p, uint32_t depth, struct toml_value **out)
{
	struct toml_pos pos = toml_here(p);
	struct toml_value *v;
	int c = toml_peek(p), rc;

	if (c == '{')
		return toml_parse_inline_table(p, depth, out);
	v = toml_node_new(p, c == '[' ? TOML_ARRAY : TOML_STRING, pos, depth);
	if (!v)
		return -1;
	if (c == '[')
		rc = parse_array(p, depth, v);
	else if (toml_at_string(p))
		rc = toml_parse_string(p, true, &v->u.str.ptr, &v->u.str.len);
	else
		rc = parse_scalar_token(p, v);
	if (rc < 0) {
		toml_free(v);
		return -1;
	}
	*out = v;
	return 0;
}
