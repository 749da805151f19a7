#include "oci/strv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/banned.h"

size_t oci_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void oci_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int oci_strv_push(char ***v, const char *s, struct ocb_error *err)
{
	size_t n = oci_strv_len(*v);
	char *copy = strdup(s);
	char **nv;

	if (!copy || n > SIZE_MAX / sizeof(char *) - 2)
		goto nomem;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv)
		goto nomem;
	nv[n] = copy;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
nomem:
	free(copy);
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

int oci_strv_copy(char ***out, char *const *src, struct ocb_error *err)
{
	size_t n = oci_strv_len(src);
	char **v;

	if (!src) {
		*out = NULL;
		return 0;
	}
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(src[i]);
		if (!v[i]) {
			oci_strv_free(v);
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
	}
	*out = v;
	return 0;
}

bool oci_strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool oci_strv_equal(char *const *a, char *const *b)
{
	size_t n = oci_strv_len(a);

	if ((a == NULL) != (b == NULL) || n != oci_strv_len(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}
