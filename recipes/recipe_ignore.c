#include "recipes/recipe_ignore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "recipes/recipe_path.h"
#include "oci/banned.h"

#define IGNORE_FILE_MAX	       (1024 * 1024)
#define IGNORE_PATTERNS_MAX    10000
#define IGNORE_PATTERN_LEN_MAX 4096

enum glob_tok {
	GLOB_LIT,   /* one byte */
	GLOB_ANY,   /* '?': one byte but '/' */
	GLOB_CLASS, /* [...] */
	GLOB_STAR,  /* '*': [^/]* */
	GLOB_DIRS,  /* "**" inside: (.* /)? */
	GLOB_REST,  /* "**" at the end: .* */
};

struct glob_token {
	enum glob_tok kind;
	unsigned char c;
	bool negate;	       /* GLOB_CLASS */
	unsigned char *ranges; /* GLOB_CLASS: pairs lo,hi */
	size_t nranges;
};

struct ignore_pattern {
	char *text; /* as cleaned, without '!' */
	bool exclusion;
	struct glob_token *toks;
	size_t ntoks;
};

struct recipe_ignore {
	char *source;
	struct ignore_pattern *pats;
	size_t len;
	bool has_exceptions;
};

static void pattern_release(struct ignore_pattern *p)
{
	for (size_t i = 0; i < p->ntoks; i++)
		free(p->toks[i].ranges);
	free(p->toks);
	free(p->text);
}

void recipe_ignore_free(struct recipe_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->len; i++)
		pattern_release(&ig->pats[i]);
	free(ig->pats);
	free(ig->source);
	free(ig);
}

/* A class body after '[', up to its ']'. */
static int glob_class(const char **pp, struct glob_token *t)
{
	const char *p = *pp;
	size_t cap = 0;

	t->kind = GLOB_CLASS;
	if (*p == '^') {
		t->negate = true;
		p++;
	}
	for (bool first = true; *p != ']' || first; first = false) {
		unsigned char lo, hi;
		if (!*p)
			return -1;
		if (*p == '\\' && !*++p)
			return -1;
		lo = hi = (unsigned char)*p++;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && !*++p)
				return -1;
			hi = (unsigned char)*p++;
			if (hi < lo)
				return -1;
		}
		if (t->nranges * 2 + 2 > cap) {
			unsigned char *r;
			cap = cap ? cap * 2 : 8;
			r = realloc(t->ranges, cap);
			if (!r)
				return -1;
			t->ranges = r;
		}
		t->ranges[t->nranges * 2] = lo;
		t->ranges[t->nranges * 2 + 1] = hi;
		t->nranges++;
	}
	*pp = p + 1;
	return 0;
}

static int glob_compile(const char *pat, struct ignore_pattern *out)
{
	size_t cap = strlen(pat) + 1;
	const char *p = pat;

	out->toks = calloc(cap, sizeof(*out->toks));
	if (!out->toks)
		return -1;
	while (*p) {
		struct glob_token *t = &out->toks[out->ntoks++];
		if (*p == '*' && p[1] == '*') {
			p += 2;
			while (*p == '*')
				p++;
			if (*p == '/')
				p++;
			t->kind = *p ? GLOB_DIRS : GLOB_REST;
		} else if (*p == '*') {
			t->kind = GLOB_STAR;
			p++;
		} else if (*p == '?') {
			t->kind = GLOB_ANY;
			p++;
		} else if (*p == '[') {
			p++;
			if (glob_class(&p, t) < 0)
				return -1;
		} else {
			if (*p == '\\' && !*++p)
				return -1;
			t->kind = GLOB_LIT;
			t->c = (unsigned char)*p++;
		}
	}
	return 0;
}

static bool class_has(const struct glob_token *t, unsigned char c)
{
	bool in = false;

	for (size_t i = 0; i < t->nranges && !in; i++)
		in = c >= t->ranges[2 * i] && c <= t->ranges[2 * i + 1];
	return in != t->negate;
}

struct glob_match {
	const struct ignore_pattern *pat;
	const char *s;
	size_t slen;
	uint8_t *failed; /* memo of (token, offset) pairs known not to match; may be NULL */
};

static bool glob_at(struct glob_match *m, size_t ti, size_t si)
{
	const struct glob_token *t;
	size_t bit = ti * (m->slen + 1) + si;
	bool ok = false;

	if (ti == m->pat->ntoks)
		return si == m->slen;
	if (m->failed && (m->failed[bit / 8] & (1u << (bit % 8))))
		return false;
	t = &m->pat->toks[ti];
	switch (t->kind) {
	case GLOB_LIT:
		ok = si < m->slen && (unsigned char)m->s[si] == t->c && glob_at(m, ti + 1, si + 1);
		break;
	case GLOB_ANY:
		ok = si < m->slen && m->s[si] != '/' && glob_at(m, ti + 1, si + 1);
		break;
	case GLOB_CLASS:
		ok = si < m->slen && m->s[si] != '/' && class_has(t, (unsigned char)m->s[si]) &&
		     glob_at(m, ti + 1, si + 1);
		break;
	case GLOB_STAR:
		for (size_t k = si; !ok; k++) {
			ok = glob_at(m, ti + 1, k);
			if (k == m->slen || m->s[k] == '/')
				break;
		}
		break;
	case GLOB_DIRS:
		ok = glob_at(m, ti + 1, si);
		for (size_t k = si; !ok && k < m->slen; k++)
			if (m->s[k] == '/')
				ok = glob_at(m, ti + 1, k + 1);
		break;
	case GLOB_REST:
		ok = true;
		break;
	}
	if (!ok && m->failed)
		m->failed[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return ok;
}

static bool glob_match(const struct ignore_pattern *pat, const char *s, size_t slen)
{
	uint8_t stackmemo[2048];
	size_t bits = (pat->ntoks + 1) * (slen + 1);
	struct glob_match m = {pat, s, slen, NULL};
	bool ok;

	if (bits / 8 + 1 <= sizeof(stackmemo)) {
		memset(stackmemo, 0, bits / 8 + 1);
		m.failed = stackmemo;
	} else {
		m.failed = calloc(bits / 8 + 1, 1); /* NULL: correct, only slower */
	}
	ok = glob_at(&m, 0, 0);
	if (m.failed != stackmemo)
		free(m.failed);
	return ok;
}

/* The pattern matches the path or one of its parent directories. */
static bool pattern_matches(const struct ignore_pattern *pat, const char *path)
{
	size_t len = strlen(path);

	if (glob_match(pat, path, len))
		return true;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/' && glob_match(pat, path, i))
			return true;
	return false;
}

bool recipe_ignore_match(const struct recipe_ignore *ig, const char *relpath)
{
	bool matched = false;

	if (!ig)
		return false;
	for (size_t i = 0; i < ig->len; i++) {
		const struct ignore_pattern *p = &ig->pats[i];
		/* An exclusion pattern can only change an excluded path and vice versa. */
		if (p->exclusion != matched)
			continue;
		if (pattern_matches(p, relpath))
			matched = !p->exclusion;
	}
	return matched;
}

bool recipe_ignore_has_exceptions(const struct recipe_ignore *ig)
{
	return ig && ig->has_exceptions;
}

const char *recipe_ignore_source(const struct recipe_ignore *ig)
{
	return ig ? ig->source : NULL;
}

size_t recipe_ignore_count(const struct recipe_ignore *ig)
{
	return ig ? ig->len : 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int ignore_add(struct recipe_ignore *ig, const char *filename, size_t lineno, const char *line,
		      size_t len, struct ocb_error *err)
{
	struct ignore_pattern pat = {0};
	cleanup_free char *raw = NULL;
	struct ignore_pattern *pats;

	if (len && line[0] == '!') {
		pat.exclusion = true;
		line++;
		len--;
		trim(&line, &len);
		if (!len)
			return ocb_error_set(err, OCB_EINVAL, 0, "%s:%zu: illegal exclusion pattern '!'",
					     filename, lineno);
	}
	if (len > IGNORE_PATTERN_LEN_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "%s:%zu: pattern longer than %d bytes", filename,
				     lineno, IGNORE_PATTERN_LEN_MAX);
	if (ig->len >= IGNORE_PATTERNS_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "%s: more than %d patterns", filename,
				     IGNORE_PATTERNS_MAX);
	raw = strndup(line, len);
	if (!raw || recipe_path_clean(raw, &pat.text, err) < 0)
		return raw ? -1 : ocb_error_sys(err, "out of memory");
	if (pat.text[0] == '/' && pat.text[1]) /* "/a" is "a"; "/" stays */
		memmove(pat.text, pat.text + 1, strlen(pat.text));
	if (glob_compile(pat.text, &pat) < 0) {
		ocb_error_set(err, OCB_EINVAL, 0, "%s:%zu: invalid pattern '%s'", filename, lineno, raw);
		pattern_release(&pat);
		return -1;
	}
	pats = realloc(ig->pats, (ig->len + 1) * sizeof(*pats));
	if (!pats) {
		pattern_release(&pat);
		return ocb_error_sys(err, "out of memory");
	}
	ig->pats = pats;
	ig->pats[ig->len++] = pat;
	ig->has_exceptions |= pat.exclusion;
	return 0;
}

int recipe_ignore_parse(const char *filename, const char *data, size_t len, struct recipe_ignore **out,
			struct ocb_error *err)
{
	struct recipe_ignore *ig = calloc(1, sizeof(*ig));
	size_t lineno = 0;
	const char *p = data, *end = data + len;

	if (!ig || !(ig->source = strdup(filename))) {
		free(ig);
		return ocb_error_sys(err, "out of memory");
	}
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p;
		size_t n = (size_t)((nl ? nl : end) - p);
		p = nl ? nl + 1 : end;
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		if (n && line[0] == '#')
			continue;
		trim(&line, &n);
		if (!n)
			continue;
		if (memchr(line, '\0', n)) {
			recipe_ignore_free(ig);
			return ocb_error_set(err, OCB_EINVAL, 0, "%s:%zu: NUL byte in pattern", filename,
					     lineno);
		}
		if (ignore_add(ig, filename, lineno, line, n, err) < 0) {
			recipe_ignore_free(ig);
			return -1;
		}
	}
	*out = ig;
	return 0;
}

int recipe_ignore_from_list(const char *name, const char *const *patterns, size_t n,
			    struct recipe_ignore **out, struct ocb_error *err)
{
	struct recipe_ignore *ig = calloc(1, sizeof(*ig));

	if (!ig || !(ig->source = strdup(name))) {
		free(ig);
		return ocb_error_sys(err, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const char *line = patterns[i];
		size_t len = strlen(line);
		trim(&line, &len);
		if (len && ignore_add(ig, name, i + 1, line, len, err) < 0) {
			recipe_ignore_free(ig);
			return -1;
		}
	}
	*out = ig;
	return 0;
}

/* Read name in dirfd: 0, 1 when it does not exist, or -1. */
static int ignore_read(int dirfd, const char *name, char **data, size_t *len, struct ocb_error *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return errno == ENOENT ? 1 : ocb_error_sys(err, "open '%s'", name);
	if (fstat(fd, &st) < 0)
		return ocb_error_sys(err, "stat '%s'", name);
	if (!S_ISREG(st.st_mode) || st.st_size > IGNORE_FILE_MAX)
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s' is not a regular file of at most %d bytes",
				     name, IGNORE_FILE_MAX);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return ocb_error_sys(err, "out of memory");
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ocb_error_sys(err, "read '%s'", name);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*data = steal_pointer(&buf);
	*len = got;
	return 0;
}

/* Parse the ignore file name of context_dir: messages show "DIR/NAME:LINE",
 * recipe_ignore_source() gives NAME. */
static int ignore_parse_in(const char *context_dir, const char *name, const char *data, size_t len,
			   struct recipe_ignore **out, struct ocb_error *err)
{
	cleanup_free char *shown = NULL;
	struct recipe_ignore *ig = NULL;
	char *source = strdup(name);

	if (!source || asprintf(&shown, "%s/%s", context_dir, name) < 0) {
		free(source);
		return ocb_error_sys(err, "out of memory");
	}
	if (recipe_ignore_parse(shown, data, len, &ig, err) < 0) {
		free(source);
		return -1;
	}
	free(ig->source);
	ig->source = source;
	*out = ig;
	return 0;
}

int recipe_ignore_load(const char *context_dir, struct recipe_ignore **out, struct ocb_error *err)
{
	static const char *const names[] = {".ocbignore", ".dockerignore"};
	cleanup_close int dirfd = open(context_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct recipe_ignore *ig;

	if (dirfd < 0)
		return ocb_error_sys(err, "open build context '%s'", context_dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cleanup_free char *data = NULL;
		size_t len = 0;
		int rc = ignore_read(dirfd, names[i], &data, &len, err);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		return ignore_parse_in(context_dir, names[i], data, len, out, err);
	}
	ig = calloc(1, sizeof(*ig));
	if (!ig)
		return ocb_error_sys(err, "out of memory");
	*out = ig;
	return 0;
}
