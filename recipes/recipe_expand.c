#include "recipes/recipe_expand.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

#define EXPAND_MAX	 (1024 * 1024)
#define EXPAND_DEPTH_MAX 32

struct expander {
	const char *input; /* the whole string, for messages */
	recipe_lookup_fn lookup;
	void *ctx;
	struct ocb_error *err;
	int depth;
};

struct outbuf {
	char *buf;
	size_t len, cap;
};

static int out_append(struct expander *x, struct outbuf *o, const char *s, size_t n)
{
	if (!o) /* an unevaluated word: parse only */
		return 0;
	if (n > EXPAND_MAX - o->len)
		return ocb_error_set(x->err, OCB_ELIMIT, 0, "expansion of '%.80s' is larger than %d bytes",
				     x->input, EXPAND_MAX);
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		char *b;
		while (cap < o->len + n + 1)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b)
			return ocb_error_sys(x->err, "out of memory");
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static int expand_bad(struct expander *x, const char *why)
{
	return ocb_error_set(x->err, OCB_EINVAL, 0, "bad variable reference in '%s': %s", x->input, why);
}

static int expand_text(struct expander *x, const char **pp, bool in_braces, struct outbuf *o);

/* ${NAME<op>word} after the "${"; *pp ends past the closing '}'. */
static int expand_braced(struct expander *x, const char **pp, struct outbuf *o)
{
	const char *p = *pp, *name = p, *val;
	size_t len;
	char op[3] = "";
	struct outbuf word = {0};
	bool use_word = false, is_set, nonempty;
	int rc = -1;

	if (!name_start(*p))
		return expand_bad(x, *p == '}' ? "empty '${}'"
				     : !*p     ? "unterminated '${'"
					       : "expected a variable name after '${'");
	while (name_char(*p))
		p++;
	len = (size_t)(p - name);
	val = o ? x->lookup(x->ctx, name, len) : NULL;
	is_set = val != NULL;
	nonempty = val && *val;
	if (*p == '}') {
		*pp = p + 1;
		return val ? out_append(x, o, val, strlen(val)) : 0;
	}
	if (*p == ':')
		op[0] = *p++;
	if (*p != '-' && *p != '+' && *p != '?')
		return expand_bad(x, *p ? "unsupported modifier (use :-, -, :+, +, :? or ?)"
					: "unterminated '${'");
	op[strlen(op)] = *p++;
	switch (op[strlen(op) - 1]) {
	case '-':
		use_word = op[0] == ':' ? !nonempty : !is_set;
		break;
	case '+':
		use_word = op[0] == ':' ? nonempty : is_set;
		break;
	case '?':
		use_word = op[0] == ':' ? !nonempty : !is_set;
		break;
	}
	if (!o)
		use_word = false;
	x->depth++;
	if (x->depth > EXPAND_DEPTH_MAX) {
		ocb_error_set(x->err, OCB_ELIMIT, 0, "variable references in '%.80s' nest too deep",
			      x->input);
		goto out;
	}
	if (expand_text(x, &p, true, use_word ? &word : NULL) < 0)
		goto out;
	x->depth--;
	if (op[strlen(op) - 1] == '?' && use_word) {
		ocb_error_set(x->err, OCB_EINVAL, 0, "variable '%.*s' %s: %s", (int)len, name,
			      op[0] == ':' ? "is undefined or empty" : "is undefined",
			      word.buf && *word.buf ? word.buf : "required");
		goto out;
	}
	if (op[strlen(op) - 1] == '?' || !use_word)
		rc = op[strlen(op) - 1] == '+' || !val ? 0 : out_append(x, o, val, strlen(val));
	else
		rc = word.buf ? out_append(x, o, word.buf, word.len) : 0;
	*pp = p;
out:
	free(word.buf);
	return rc;
}

/* Expand from *pp to the end (or to the '}' closing a word when in_braces). */
static int expand_text(struct expander *x, const char **pp, bool in_braces, struct outbuf *o)
{
	const char *p = *pp;

	while (*p) {
		const char *lit = p;
		while (*p && *p != '$' && *p != '\\' && !(in_braces && *p == '}'))
			p++;
		if (out_append(x, o, lit, (size_t)(p - lit)) < 0)
			return -1;
		if (!*p)
			break;
		if (*p == '}') {
			*pp = p + 1;
			return 0;
		}
		if (*p == '\\') {
			if (p[1] == '$') {
				if (out_append(x, o, "$", 1) < 0)
					return -1;
				p += 2;
			} else {
				if (out_append(x, o, p, p[1] ? 2 : 1) < 0)
					return -1;
				p += p[1] ? 2 : 1;
			}
			continue;
		}
		/* *p == '$' */
		if (p[1] == '$') {
			if (out_append(x, o, "$", 1) < 0)
				return -1;
			p += 2;
		} else if (p[1] == '{') {
			p += 2;
			if (expand_braced(x, &p, o) < 0)
				return -1;
		} else if (name_start(p[1])) {
			const char *name = ++p, *val;
			while (name_char(*p))
				p++;
			val = o ? x->lookup(x->ctx, name, (size_t)(p - name)) : NULL;
			if (val && out_append(x, o, val, strlen(val)) < 0)
				return -1;
		} else {
			if (out_append(x, o, "$", 1) < 0)
				return -1;
			p++;
		}
	}
	if (in_braces)
		return expand_bad(x, "unterminated '${'");
	*pp = p;
	return 0;
}

int recipe_expand_fn(const char *s, recipe_lookup_fn lookup, void *ctx, char **out, struct ocb_error *err)
{
	struct expander x = {s, lookup, ctx, err, 0};
	struct outbuf o = {0};
	const char *p = s;

	if (out_append(&x, &o, "", 0) < 0 || expand_text(&x, &p, false, &o) < 0) {
		free(o.buf);
		return -1;
	}
	if (!o.buf) {
		o.buf = strdup("");
		if (!o.buf)
			return ocb_error_sys(err, "out of memory");
	}
	*out = o.buf;
	return 0;
}

static const char *vars_lookup(void *ctx, const char *name, size_t len)
{
	return recipe_vars_get(ctx, name, len);
}

int recipe_expand(const char *s, const struct recipe_vars *vars, char **out, struct ocb_error *err)
{
	return recipe_expand_fn(s, vars_lookup, (void *)vars, out, err);
}
