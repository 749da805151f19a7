/* Sizes on the command line ("10GB", "512MiB") and in listings. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "builder/cache.h"
#include "oci/banned.h"

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1000ULL},
    {"kb", 1000ULL},
    {"kib", 1ULL << 10},
    {"m", 1000ULL * 1000},
    {"mb", 1000ULL * 1000},
    {"mib", 1ULL << 20},
    {"g", 1000ULL * 1000 * 1000},
    {"gb", 1000ULL * 1000 * 1000},
    {"gib", 1ULL << 30},
    {"t", 1000ULL * 1000 * 1000 * 1000},
    {"tb", 1000ULL * 1000 * 1000 * 1000},
    {"tib", 1ULL << 40},
    {"ki", 1ULL << 10},
    {"mi", 1ULL << 20},
    {"gi", 1ULL << 30},
    {"ti", 1ULL << 40},
};

static int bad_size(const char *s, struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EINVAL, 0, "invalid size '%s' (use e.g. 10GB, 512MiB, 1.5G)", s);
}

int cache_parse_size(const char *s, uint64_t *out, struct ocb_error *err)
{
	const char *p = s;
	uint64_t whole = 0, frac = 0, scale = 1, mult = 0;
	bool digits = false;

	for (; isdigit((unsigned char)*p); p++, digits = true) {
		if (whole > (UINT64_MAX - 9) / 10)
			return bad_size(s, err);
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits = true) {
			if (scale >= 1000000000ULL)
				continue; /* beyond a byte of precision for any unit */
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(p, units[i].name))
			mult = units[i].mult;
	if (!digits || !mult || whole > UINT64_MAX / mult)
		return bad_size(s, err);
	/* frac / scale of a unit: frac < 10^9 and mult <= 2^40, so the
	 * product fits in 128 bits and the quotient is below mult. */
	uint64_t extra = (uint64_t)((unsigned __int128)frac * mult / scale);
	if (whole * mult > UINT64_MAX - extra)
		return bad_size(s, err);
	*out = whole * mult + extra;
	return 0;
}

void cache_format_size(uint64_t n, char *buf, size_t size)
{
	static const char *names[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < sizeof(names) / sizeof(names[0])) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.3g%s" : "%.0f%s", v, names[u]);
}
