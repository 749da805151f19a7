#include "recipes/recipe_duration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "oci/banned.h"

struct duration_unit {
	const char *name;
	int64_t ns;
};

/* Longest names first so "ms" is not read as "m". */
static const struct duration_unit units[] = {
    {"ns", 1},		 {"us", 1000},	    {"\xc2\xb5s", 1000}, /* µs, U+00B5 */
    {"\xce\xbcs", 1000},					 /* μs, U+03BC */
    {"ms", 1000000},	 {"s", 1000000000}, {"m", 60LL * 1000000000}, {"h", 3600LL * 1000000000},
};

static const struct duration_unit *duration_unit_at(const char *p, size_t *len)
{
	const struct duration_unit *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);
		if (n > best_len && !strncmp(p, units[i].name, n)) {
			best = &units[i];
			best_len = n;
		}
	}
	*len = best_len;
	return best;
}

static int duration_invalid(const char *s, const char *why, struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EINVAL, 0,
			     "invalid duration '%s': %s (use e.g. \"30s\", \"1m30s\", \"500ms\")", s, why);
}

/* One "<int>[.<frac>]<unit>" term, added to *total. */
static int duration_term(const char *s, const char **pp, int64_t *total, struct ocb_error *err)
{
	const char *p = *pp;
	uint64_t whole = 0, frac = 0, scale = 1;
	bool digits = false;
	const struct duration_unit *u;
	size_t ulen;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (whole > (UINT64_MAX - 9) / 10)
			return duration_invalid(s, "too large", err);
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (scale > UINT64_MAX / 100)
				continue; /* beyond nanosecond precision anyway */
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	if (!digits)
		return duration_invalid(s, "expected a number", err);
	u = duration_unit_at(p, &ulen);
	if (!u)
		return duration_invalid(s, *p ? "unknown unit" : "missing unit", err);
	if (whole > (uint64_t)INT64_MAX / (uint64_t)u->ns)
		return duration_invalid(s, "too large", err);
	whole *= (uint64_t)u->ns;
	/* frac/scale of a unit, in ns: computed in long double to stay in range. */
	whole += (uint64_t)((long double)frac * (long double)u->ns / (long double)scale);
	if (whole > (uint64_t)INT64_MAX || (uint64_t)*total > (uint64_t)INT64_MAX - whole)
		return duration_invalid(s, "too large", err);
	*total += (int64_t)whole;
	*pp = p + ulen;
	return 0;
}

int recipe_duration_parse(const char *s, int64_t *ns, struct ocb_error *err)
{
	const char *p = s;
	int64_t total = 0;

	if (!*s)
		return duration_invalid(s, "empty", err);
	if (*p == '-')
		return duration_invalid(s, "negative", err);
	if (*p == '+')
		p++;
	if (!strcmp(p, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*p)
		return duration_invalid(s, "expected a number", err);
	while (*p) {
		if (duration_term(s, &p, &total, err) < 0)
			return -1;
	}
	*ns = total;
	return 0;
}

const char *recipe_duration_format(int64_t ns, char *buf, size_t size)
{
	int64_t h, m, s, rest;
	size_t off = 0;

	if (ns == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	if (ns < 1000000000) {
		if (ns % 1000000 == 0)
			snprintf(buf, size, "%lldms", (long long)(ns / 1000000));
		else if (ns % 1000 == 0)
			snprintf(buf, size, "%lldus", (long long)(ns / 1000));
		else
			snprintf(buf, size, "%lldns", (long long)ns);
		return buf;
	}
	h = ns / 3600000000000LL;
	m = ns / 60000000000LL % 60;
	s = ns / 1000000000LL % 60;
	rest = ns % 1000000000LL;
	buf[0] = '\0';
	if (h && off < size)
		off += (size_t)snprintf(buf + off, size - off, "%lldh", (long long)h);
	if ((h || m) && off < size)
		off += (size_t)snprintf(buf + off, size - off, "%lldm", (long long)m);
	if (off < size) {
		if (rest) {
			char frac[16];
			int n = snprintf(frac, sizeof(frac), "%09lld", (long long)rest);
			while (n > 0 && frac[n - 1] == '0')
				frac[--n] = '\0';
			snprintf(buf + off, size - off, "%lld.%ss", (long long)s, frac);
		} else {
			snprintf(buf + off, size - off, "%llds", (long long)s);
		}
	}
	return buf;
}
