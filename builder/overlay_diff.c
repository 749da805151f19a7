/* Walk an overlay upper dir into the list of a layer's changes. */
#include "builder/overlay_diff.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder/rootless.h"
#include "oci/cleanup.h"
#include "oci/layer.h"
#include "oci/banned.h"

struct inode_seen {
	dev_t dev;
	ino_t ino;
	size_t index; /* of the change that named it first */
};

struct walk {
	const char *const *skip;
	struct overlay_change *v;
	size_t n, cap;
	struct inode_seen *inodes;
	size_t n_inodes, cap_inodes;
};

struct child {
	char *name;
	struct stat st;
};

static int grow(void **arr, size_t *cap, size_t n, size_t elem, struct ocb_error *err)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	p = reallocarray(*arr, ncap, elem);
	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Append a change; takes path and link in every case. */
static int push(struct walk *w, enum overlay_change_kind kind, char *path, char *link, const struct stat *st,
		struct ocb_error *err)
{
	struct overlay_change *c;

	if (grow((void **)&w->v, &w->cap, w->n, sizeof(*w->v), err) < 0) {
		free(path);
		free(link);
		return -1;
	}
	c = &w->v[w->n++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->path = path;
	c->link = link;
	if (st)
		c->st = *st;
	return 0;
}

static bool skipped(const struct walk *w, const char *path)
{
	for (size_t i = 0; w->skip && w->skip[i]; i++)
		if (!strcmp(w->skip[i], path))
			return true;
	return false;
}

static int child_cmp(const void *x, const void *y)
{
	const struct child *a = x, *b = y;

	return oci_layer_name_cmp(a->name, S_ISDIR(a->st.st_mode), b->name, S_ISDIR(b->st.st_mode));
}

static void children_free(struct child *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].name);
	free(c);
}

/* The entries of dirfd with their lstat, sorted in layer order. */
static int read_children(int dirfd, const char *where, struct child **out, size_t *n_out,
			 struct ocb_error *err)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct child *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return ocb_error_sys(err, "read dir '%s'", where);
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (grow((void **)&v, &cap, n, sizeof(*v), err) < 0)
			goto fail;
		if (fstatat(dirfd, de->d_name, &v[n].st, AT_SYMLINK_NOFOLLOW) < 0) {
			ocb_error_sys(err, "stat '%s/%s'", where, de->d_name);
			goto fail;
		}
		v[n].name = strdup(de->d_name);
		if (!v[n].name) {
			ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			goto fail;
		}
		n++;
	}
	if (errno) {
		ocb_error_sys(err, "read dir '%s'", where);
		goto fail;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), child_cmp);
	*out = v;
	*n_out = n;
	return 0;
fail:
	closedir(d);
	children_free(v, n);
	return -1;
}

/* Has the entry an overlay xattr `name`?  Via /proc/self/fd so that neither
 * a symlink nor an O_PATH fd is in the way. */
static ssize_t overlay_xattr(int dirfd, const char *name, const char *xattr, char *buf, size_t size)
{
	char p[PATH_MAX + 32];

	if (snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dirfd, name) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return lgetxattr(p, xattr, buf, size);
}

static int add_regular(struct walk *w, char *path, const struct stat *st, struct ocb_error *err)
{
	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		for (size_t i = 0; i < w->n_inodes; i++) {
			const struct inode_seen *s = &w->inodes[i];

			if (s->dev == st->st_dev && s->ino == st->st_ino) {
				char *first = strdup(w->v[s->index].path);

				if (!first) {
					free(path);
					return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
				}
				return push(w, OVERLAY_CHANGE_HARDLINK, path, first, st, err);
			}
		}
		if (grow((void **)&w->inodes, &w->cap_inodes, w->n_inodes, sizeof(*w->inodes), err) < 0) {
			free(path);
			return -1;
		}
		w->inodes[w->n_inodes++] = (struct inode_seen){st->st_dev, st->st_ino, w->n};
	}
	return push(w, OVERLAY_CHANGE_FILE, path, NULL, st, err);
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix, int depth, struct ocb_error *err);

static int add_dir(struct walk *w, int dirfd, const struct child *c, char *path, int depth,
		   struct ocb_error *err)
{
	cleanup_close int sub = openat(dirfd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char v[2] = {0};
	bool opaque;

	if (sub < 0) {
		ocb_error_sys(err, "open dir '%s'", path);
		free(path);
		return -1;
	}
	if (fgetxattr(sub, rootless_overlay_xattr("redirect"), NULL, 0) >= 0) {
		ocb_error_set(err, OCB_EINVAL, 0,
			      "dir '%s' is an overlay redirect (mount with redirect_dir=off)", path);
		free(path);
		return -1;
	}
	opaque = fgetxattr(sub, rootless_overlay_xattr("opaque"), v, sizeof(v)) == 1 && v[0] == 'y';
	if (push(w, OVERLAY_CHANGE_DIR, path, NULL, &c->st, err) < 0)
		return -1;
	path = w->v[w->n - 1].path;
	if (opaque) {
		char *copy = strdup(path);

		if (!copy)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		if (push(w, OVERLAY_CHANGE_OPAQUE, copy, NULL, NULL, err) < 0)
			return -1;
		path = w->v[w->n - 1].path;
	}
	return walk_dir(w, sub, path, depth + 1, err);
}

static int add_child(struct walk *w, int dirfd, const struct child *c, char *path, int depth,
		     struct ocb_error *err)
{
	const struct stat *st = &c->st;

	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
		return push(w, OVERLAY_CHANGE_WHITEOUT, path, NULL, NULL, err);
	if (S_ISDIR(st->st_mode))
		return add_dir(w, dirfd, c, path, depth, err);
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, c->name, target, sizeof(target) - 1);
		char *link;

		if (n < 0) {
			ocb_error_sys(err, "readlink '%s'", path);
			free(path);
			return -1;
		}
		target[n] = '\0';
		link = strdup(target);
		if (!link) {
			free(path);
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
		return push(w, OVERLAY_CHANGE_SYMLINK, path, link, st, err);
	}
	if (S_ISSOCK(st->st_mode)) {
		free(path);
		return 0;
	}
	if (S_ISREG(st->st_mode) &&
	    overlay_xattr(dirfd, c->name, rootless_overlay_xattr("metacopy"), NULL, 0) >= 0) {
		ocb_error_set(err, OCB_EINVAL, 0,
			      "file '%s' is an overlay metacopy (mount with metacopy=off)", path);
		free(path);
		return -1;
	}
	return add_regular(w, path, st, err);
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix, int depth, struct ocb_error *err)
{
	struct child *c = NULL;
	size_t n = 0;
	int rc = 0;

	if (depth > OVERLAY_DIFF_MAX_DEPTH)
		return ocb_error_set(err, OCB_ELIMIT, 0, "dir '%s' is nested deeper than %d levels", prefix,
				     OVERLAY_DIFF_MAX_DEPTH);
	if (read_children(dirfd, prefix && *prefix ? prefix : ".", &c, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", c[i].name) < 0) {
			rc = ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			break;
		}
		if (strlen(path) >= PATH_MAX) {
			rc = ocb_error_set(err, OCB_ELIMIT, 0, "path '%.64s...' is too long", path);
			free(path);
			break;
		}
		if (skipped(w, path)) {
			free(path);
			continue;
		}
		rc = add_child(w, dirfd, &c[i], path, depth, err);
	}
	children_free(c, n);
	return rc;
}

void overlay_diff_release(struct overlay_diff *diff)
{
	if (!diff)
		return;
	for (size_t i = 0; i < diff->n; i++) {
		free(diff->changes[i].path);
		free(diff->changes[i].link);
	}
	free(diff->changes);
	if (diff->upper_fd >= 0)
		close(diff->upper_fd);
	diff->changes = NULL;
	diff->n = 0;
	diff->upper_fd = -1;
}

int overlay_diff_compute(const char *upperdir, const struct overlay_diff_options *opts,
			 struct overlay_diff *out, struct ocb_error *err)
{
	struct walk w = {.skip = opts ? opts->skip : NULL};
	struct overlay_diff d = {.upper_fd = open(upperdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};

	if (d.upper_fd < 0)
		return ocb_error_sys(err, "open upper dir '%s'", upperdir);
	if (walk_dir(&w, d.upper_fd, NULL, 0, err) < 0) {
		d.changes = w.v;
		d.n = w.n;
		overlay_diff_release(&d);
		free(w.inodes);
		return ocb_error_wrap(err, "diff '%s'", upperdir);
	}
	free(w.inodes);
	d.changes = w.v;
	d.n = w.n;
	*out = d;
	return 0;
}

int overlay_diff_open(const struct overlay_diff *diff, const struct overlay_change *c, struct ocb_error *err)
{
	struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd;

	if (c->kind != OVERLAY_CHANGE_FILE && c->kind != OVERLAY_CHANGE_HARDLINK)
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s' is not a file change", c->path);
	fd = (int)syscall(SYS_openat2, diff->upper_fd, c->path, &how, sizeof(how));
	if (fd < 0)
		return ocb_error_sys(err, "open '%s' in the upper dir", c->path);
	return fd;
}

int overlay_diff_write_layer(const struct overlay_diff *diff, struct oci_layer_writer *w,
			     struct ocb_error *err)
{
	for (size_t i = 0; i < diff->n; i++) {
		const struct overlay_change *c = &diff->changes[i];
		int rc;

		switch (c->kind) {
		case OVERLAY_CHANGE_WHITEOUT:
			rc = oci_layer_add_whiteout(w, c->path, err);
			break;
		case OVERLAY_CHANGE_OPAQUE:
			rc = oci_layer_add_opaque(w, c->path, err);
			break;
		default:
			rc = oci_layer_add_path(w, diff->upper_fd, c->path, err);
			break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}
