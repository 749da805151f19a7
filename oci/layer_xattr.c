/* Extended attributes for tar entries (SCHILY.xattr.*), sorted by name.
 *
 * Left out: trusted.overlay.* and user.overlay.* (overlayfs bookkeeping in
 * an upper directory, not file content), security.selinux (a host label)
 * and system.* (POSIX ACLs, which Docker layers do not carry either). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "oci/layer_impl.h"
#include "oci/banned.h"

#define XATTR_LIST_BUF	65536 /* XATTR_LIST_MAX */
#define XATTR_VALUE_MAX 65536 /* XATTR_SIZE_MAX */

static bool xattr_skipped(const char *name)
{
	static const char *const prefixes[] = {"trusted.overlay.", "user.overlay.", "security.selinux",
					       "system."};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

bool oci_layer_xattr_kept(const char *name)
{
	return !xattr_skipped(name);
}

static int grow(void **p, size_t *cap, size_t want, size_t elem, struct ocb_error *err)
{
	void *n;

	if (want <= *cap)
		return 0;
	if (want < *cap * 2)
		want = *cap * 2;
	n = realloc(*p, want * elem);
	if (!n)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*p = n;
	*cap = want;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tar_xattr *)a)->name, ((const struct tar_xattr *)b)->name);
}

static ssize_t list_names(struct layer_xattrs *x, int fd, const char *path)
{
	return fd >= 0 ? flistxattr(fd, x->names, XATTR_LIST_BUF)
		       : llistxattr(path, x->names, XATTR_LIST_BUF);
}

/* Append name's value to x->values; returns 0 (stored), 1 (vanished), -1. */
static int read_value(struct layer_xattrs *x, int fd, const char *path, const char *name,
		      struct ocb_error *err)
{
	ssize_t n;

	if (grow((void **)&x->values, &x->values_cap, x->values_len + XATTR_VALUE_MAX, 1, err) < 0 ||
	    grow((void **)&x->v, &x->cap, x->n + 1, sizeof(*x->v), err) < 0)
		return -1;
	n = fd >= 0 ? fgetxattr(fd, name, x->values + x->values_len, XATTR_VALUE_MAX)
		    : lgetxattr(path, name, x->values + x->values_len, XATTR_VALUE_MAX);
	if (n < 0)
		return errno == ENODATA ? 1 : ocb_error_sys(err, "cannot read xattr '%s'", name);
	/* value holds an offset until every value is read (values may move). */
	x->v[x->n++] = (struct tar_xattr){name, (const void *)(uintptr_t)x->values_len, (size_t)n};
	x->values_len += (size_t)n;
	return 0;
}

int layer_xattrs_read(struct layer_xattrs *x, int fd, const char *path, struct ocb_error *err)
{
	ssize_t len;

	x->n = 0;
	x->values_len = 0;
	if (!x->names && !(x->names = malloc(XATTR_LIST_BUF)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	len = list_names(x, fd, path);
	if (len < 0) {
		if (errno == ENOTSUP || errno == ENODATA)
			return 0;
		return ocb_error_sys(err, "cannot list xattrs");
	}
	for (char *name = x->names; name < x->names + len; name += strlen(name) + 1) {
		if (xattr_skipped(name))
			continue;
		if (read_value(x, fd, path, name, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < x->n; i++)
		x->v[i].value = x->values + (uintptr_t)x->v[i].value;
	if (x->n > 1)
		qsort(x->v, x->n, sizeof(*x->v), by_name);
	return 0;
}

void layer_xattrs_release(struct layer_xattrs *x)
{
	free(x->v);
	free(x->names);
	free(x->values);
	memset(x, 0, sizeof(*x));
}
