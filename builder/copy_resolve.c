/* Path resolution inside a root directory fd for copy steps.
 *
 * copy_resolve() follows symlinks itself, one component at a time, keeping
 * the symlink-free path of where it is: ".." and absolute targets can go no
 * higher than the root (RESOLVE_IN_ROOT's rule, but the caller also learns
 * the resulting path, which exclusion patterns and destination names need).
 * Every look-up goes through copy_open_beneath(): openat2() with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS on a path that has no symlinks, so
 * the kernel refuses anything that would leave the root even if the tree
 * changes under us. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "builder/copy_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

char *copy_path_join(const char *a, const char *b)
{
	char *s = NULL;

	if (!*a)
		return strdup(b);
	if (!*b)
		return strdup(a);
	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

/* Kernels without openat2 (before 5.6): walk one component at a time with
 * O_NOFOLLOW, which refuses symlinks just the same. */
static int open_walk(int root_fd, const char *path, int flags)
{
	int fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	while (fd >= 0 && *path) {
		size_t n = strcspn(path, "/");
		char comp[NAME_MAX + 1];
		bool last = path[n] == '\0';
		int sub;

		if (n > NAME_MAX || (n == 2 && !strncmp(path, "..", 2))) {
			close(fd);
			errno = n > NAME_MAX ? ENAMETOOLONG : EXDEV;
			return -1;
		}
		memcpy(comp, path, n);
		comp[n] = '\0';
		sub = openat(fd, comp, last ? flags : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = sub;
		path += n + !last;
	}
	return fd;
}

int copy_open_beneath(int root_fd, const char *path, int flags, struct ocb_error *err)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = open_walk(root_fd, path, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ocb_error_sys(err, "cannot open '%s'", *path ? path : ".");
	return fd;
}

int copy_lstat_beneath(int root_fd, const char *path, struct stat *st, struct ocb_error *err)
{
	cleanup_close int fd = copy_open_beneath(root_fd, path, O_PATH | O_NOFOLLOW, err);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0)
		return ocb_error_sys(err, "cannot stat '%s'", *path ? path : ".");
	return 0;
}

void copy_resolved_release(struct copy_resolved *r)
{
	free(r->canon);
	free(r->rest);
	r->canon = r->rest = NULL;
}

/* The path still to walk: a buffer whose front is consumed. */
struct todo {
	char *buf;
	size_t pos;
};

/* Next component of t (empty and "." skipped); NULL at the end. */
static char *todo_next(struct todo *t)
{
	while (t->buf[t->pos]) {
		char *c = t->buf + t->pos;
		size_t n = strcspn(c, "/");

		t->pos += n + (c[n] == '/');
		c[n] = '\0';
		if (n > 0 && strcmp(c, "."))
			return c;
	}
	return NULL;
}

static bool todo_more(const struct todo *t)
{
	for (const char *p = t->buf + t->pos; *p; p++)
		if (*p != '/' && !(*p == '.' && (p[1] == '/' || !p[1])))
			return true;
	return false;
}

/* Replace the consumed part with target: target + "/" + what is left. */
static int todo_splice(struct todo *t, const char *target)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", target, t->buf + t->pos) < 0)
		return -1;
	free(t->buf);
	t->buf = s;
	t->pos = 0;
	return 0;
}

static void canon_pop(char *canon)
{
	char *slash = strrchr(canon, '/');

	if (slash)
		*slash = '\0';
	else
		canon[0] = '\0';
}

static int read_link(int root_fd, const char *path, char *buf, size_t size, struct ocb_error *err)
{
	cleanup_close int fd = copy_open_beneath(root_fd, path, O_PATH | O_NOFOLLOW, err);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = readlinkat(fd, "", buf, size);
	if (n < 0)
		return ocb_error_sys(err, "cannot read symlink '%s'", path);
	if ((size_t)n >= size)
		return ocb_error_set(err, OCB_ELIMIT, 0, "symlink '%s': target too long", path);
	buf[n] = '\0';
	return 0;
}

/* The rest of t after a missing component comp, without "." or "".  A
 * ".." there (from a symlink's target) cannot be resolved: refused. */
static int set_rest(struct copy_resolved *r, const char *comp, struct todo *t, struct ocb_error *err)
{
	char *rest = strdup(comp), *c;

	if (!rest)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	while ((c = todo_next(t))) {
		char *s;
		if (!strcmp(c, "..")) {
			ocb_error_set(err, OCB_EINVAL, 0, "'..' after the missing '%s'", rest);
			free(rest);
			return -1;
		}
		s = copy_path_join(rest, c);
		free(rest);
		if (!s)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		rest = s;
	}
	r->rest = rest;
	return 0;
}

static int resolve_walk(int root_fd, struct todo *t, bool follow_last, struct copy_resolved *r,
			struct ocb_error *err)
{
	char target[PATH_MAX + 1];
	unsigned links = 0;
	char *comp;

	while ((comp = todo_next(t))) {
		bool last = !todo_more(t);
		cleanup_free char *next = NULL;
		struct stat st;

		if (!strcmp(comp, "..")) {
			canon_pop(r->canon);
			continue;
		}
		if (!(next = copy_path_join(r->canon, comp)))
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		if (copy_lstat_beneath(root_fd, next, &st, err) < 0) {
			if (err && err->errnum != ENOENT)
				return -1;
			ocb_error_clear(err);
			return set_rest(r, comp, t, err);
		}
		if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
			if (++links > COPY_MAX_SYMLINKS)
				return ocb_error_set(err, OCB_EINVAL, ELOOP,
						     "too many symlinks resolving '%s'", next);
			if (read_link(root_fd, next, target, sizeof(target), err) < 0)
				return -1;
			if (target[0] == '/')
				r->canon[0] = '\0';
			if (todo_splice(t, target) < 0)
				return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode))
			return ocb_error_set(err, OCB_ENOTFOUND, ENOTDIR, "'%s' is not a directory", next);
		free(r->canon);
		r->canon = steal_pointer(&next);
	}
	return 0;
}

int copy_resolve(int root_fd, const char *base, const char *path, bool follow_last, struct copy_resolved *out,
		 struct ocb_error *err)
{
	struct copy_resolved r = {.canon = strdup(base)};
	struct todo t = {.buf = strdup(path)};
	int rc = -1;

	if (!r.canon || !t.buf) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	if (path[0] == '/')
		r.canon[0] = '\0';
	if (resolve_walk(root_fd, &t, follow_last, &r, err) < 0)
		goto out;
	if (!r.rest && !(r.rest = strdup(""))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	if (copy_lstat_beneath(root_fd, r.canon, &r.st, err) < 0)
		goto out;
	*out = r;
	r.canon = r.rest = NULL;
	rc = 0;
out:
	copy_resolved_release(&r);
	free(t.buf);
	return rc;
}
