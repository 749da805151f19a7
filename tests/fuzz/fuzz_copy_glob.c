/* libFuzzer target for copy steps' glob matcher (Go's filepath.Match for
 * one path element).  Input: pattern NUL name.  Besides crashes and
 * sanitizer reports, checks properties any correct matcher has:
 *   - a pattern without meta characters matches exactly itself;
 *   - the name with every ASCII byte escaped ('\x') is a valid pattern
 *     that matches the name (other bytes stay as they are: '\' escapes a
 *     whole UTF-8 character);
 *   - "*" followed by the escaped name matches the name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/copy_impl.h"
#include "oci/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *escaped(const char *s, const char *prefix)
{
	size_t n = strlen(s), p = strlen(prefix);
	char *e = malloc(p + 2 * n + 1), *q;

	if (!e)
		abort();
	memcpy(e, prefix, p);
	q = e + p;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x80)
			*q++ = '\\';
		*q++ = s[i];
	}
	*q = '\0';
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *pattern, *name, *e, *star;
	size_t plen;

	if (size > 4096)
		return 0;
	buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	pattern = buf;
	plen = strlen(pattern);
	name = buf + (plen < size ? plen + 1 : size);
	if (copy_glob_check(pattern, NULL) == 0) {
		bool m = copy_glob_match(pattern, name);
		if (!copy_glob_has_meta(pattern) && m != !strcmp(pattern, name))
			__builtin_trap();
	} else {
		(void)copy_glob_match(pattern, name);
	}
	e = escaped(name, "");
	star = escaped(name, "*");
	if (copy_glob_check(e, NULL) < 0 || !copy_glob_match(e, name) || !copy_glob_match(star, name))
		__builtin_trap();
	free(e);
	free(star);
	free(buf);
	return 0;
}
