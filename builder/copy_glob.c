/* Glob matching of one path element with Go's filepath.Match semantics
 * (what Docker and BuildKit use for COPY sources): '*' any run of
 * characters, '?' one character (a UTF-8 sequence counts as one), "[...]"
 * a class of characters and ranges, "[^...]" its complement, '\' escapes
 * the next character.  A class may not be empty and '-' or ']' must be
 * escaped at the start of a class item. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "builder/copy_impl.h"
#include "oci/banned.h"

bool copy_glob_has_meta(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

/* One UTF-8 character (an invalid byte counts as one) from *s. */
static uint32_t next_rune(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;

	if (n <= 0) {
		*s += 1;
		return c;
	}
	c &= 0x3f >> n;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s += 1;
			return p[0];
		}
		c = (c << 6) | (p[i] & 0x3f);
	}
	*s += n + 1;
	return c;
}

/* A class item character: '\' escapes; an unescaped '-' or ']' or the end
 * is malformed (Go's getEsc). */
static bool class_char(const char **p, uint32_t *c)
{
	if (**p == '\0' || **p == '-' || **p == ']')
		return false;
	if (**p == '\\') {
		(*p)++;
		if (**p == '\0')
			return false;
	}
	*c = next_rune(p);
	return true;
}

/* Match c against the class starting after '['; *p ends after ']'.
 * -1 when malformed. */
static int class_match(const char **p, uint32_t c)
{
	bool negate = false, matched = false;
	int n = 0;

	if (**p == '^') {
		negate = true;
		(*p)++;
	}
	for (;;) {
		uint32_t lo, hi;

		if (**p == ']' && n > 0) {
			(*p)++;
			break;
		}
		if (!class_char(p, &lo))
			return -1;
		hi = lo;
		if (**p == '-') {
			(*p)++;
			if (!class_char(p, &hi))
				return -1;
		}
		if (lo <= c && c <= hi)
			matched = true;
		n++;
	}
	return matched != negate;
}

/* One pattern item (not '*') against one character of *name: 1 when it
 * matches (both advanced), 0 when not, -1 when malformed. */
static int item_match(const char **pat, const char **name)
{
	const char *p = *pat, *n = *name;
	uint32_t c = next_rune(&n);
	int r = 1;

	if (*p == '?') {
		p++;
	} else if (*p == '[') {
		p++;
		r = class_match(&p, c);
	} else {
		if (*p == '\\' && !*++p)
			return -1;
		r = next_rune(&p) == c;
	}
	if (r == 1) {
		*pat = p;
		*name = n;
	}
	return r;
}

/* The classic single-backtrack matcher: with no '/' to stop a '*', going
 * back to the last '*' is enough, so matching is O(pattern x name). */
static int match_iter(const char *pat, const char *name)
{
	const char *star_p = NULL, *star_n = NULL;

	while (*pat || *name) {
		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			star_p = pat;
			star_n = name;
			continue;
		}
		if (*pat && *name) {
			int r = item_match(&pat, &name);
			if (r < 0)
				return -1;
			if (r == 1)
				continue;
		}
		if (!star_p || !*star_n)
			return 0;
		next_rune(&star_n);
		pat = star_p;
		name = star_n;
	}
	return 1;
}

int copy_glob_check(const char *pattern, struct ocb_error *err)
{
	const char *p = pattern;

	while (*p) {
		if (*p == '\\') {
			if (!*++p)
				goto bad;
			next_rune(&p);
		} else if (*p == '[') {
			p++;
			if (class_match(&p, 0) < 0)
				goto bad;
		} else {
			next_rune(&p);
		}
	}
	return 0;
bad:
	return ocb_error_set(err, OCB_EINVAL, 0, "invalid pattern '%s'", pattern);
}

bool copy_glob_match(const char *pattern, const char *name)
{
	return match_iter(pattern, name) == 1;
}
