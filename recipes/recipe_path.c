#include "recipes/recipe_path.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

int recipe_path_clean(const char *path, char **out, struct ocb_error *err)
{
	size_t n = strlen(path);
	bool rooted = n > 0 && path[0] == '/';
	cleanup_free char *buf = malloc(n + 2);
	size_t w = 0, r = 0, dotdot = 0; /* dotdot: where ".." may back up to */

	if (!buf)
		return ocb_error_sys(err, "out of memory");
	if (rooted) {
		buf[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && buf[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					buf[w++] = '/';
				buf[w++] = '.';
				buf[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				buf[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				buf[w++] = path[r];
		}
	}
	if (w == 0)
		buf[w++] = '.';
	buf[w] = '\0';
	*out = steal_pointer(&buf);
	return 0;
}

int recipe_path_context_source(const char *src, char **out, struct ocb_error *err)
{
	cleanup_free char *clean = NULL;
	const char *rel = src;

	/* Relative to the context root first, so "/../x" climbs out too. */
	while (*rel == '/')
		rel++;
	if (recipe_path_clean(rel, &clean, err) < 0)
		return -1;
	rel = clean;
	if (!strcmp(rel, "..") || !strncmp(rel, "../", 3))
		return ocb_error_set(err, OCB_EUNSAFE, 0, "copy source '%s' is outside the build context",
				     src);
	*out = strdup(rel);
	if (!*out)
		return ocb_error_sys(err, "out of memory");
	return 0;
}
