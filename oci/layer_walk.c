/* The sorted tree walk behind oci_layer_add_tree().
 *
 * Each directory's children are read and sorted (a directory's name compared
 * as if it ended in '/'), so a depth-first walk emits tar names in strictly
 * increasing bytewise order.  Only the children of the directories on the
 * current path are held in memory; every lookup is relative to its parent's
 * fd and nothing is followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/layer_impl.h"
#include "oci/banned.h"

#define WALK_MAX_DEPTH 1024
#define WALK_MAX_NAME  65536

/* Only names and types are held (a huge directory costs ~40 bytes an
 * entry); the full stat comes when the entry is written. */
struct child {
	char *name;
	bool is_dir;
};

struct children {
	struct child *v;
	size_t n, cap;
};

int oci_layer_name_cmp(const char *a, bool a_is_dir, const char *b, bool b_is_dir)
{
	unsigned ca, cb;

	while (*a && *a == *b) {
		a++;
		b++;
	}
	ca = *a ? (unsigned char)*a : (a_is_dir ? '/' : 0);
	cb = *b ? (unsigned char)*b : (b_is_dir ? '/' : 0);
	return ca < cb ? -1 : ca > cb;
}

static int child_cmp(const void *x, const void *y)
{
	const struct child *a = x, *b = y;

	return oci_layer_name_cmp(a->name, a->is_dir, b->name, b->is_dir);
}

static void children_release(struct children *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
}

static int children_push(struct children *c, int dirfd, const struct dirent *de, struct ocb_error *err)
{
	struct child *ch;
	struct stat st;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct child *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	ch = &c->v[c->n];
	ch->is_dir = de->d_type == DT_DIR;
	if (de->d_type == DT_UNKNOWN) {
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return ocb_error_sys(err, "cannot stat '%s'", de->d_name);
		ch->is_dir = S_ISDIR(st.st_mode);
	}
	if (!(ch->name = strdup(de->d_name)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	c->n++;
	return 0;
}

static int read_children(int dirfd, struct children *c, struct ocb_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		ocb_error_sys(err, "cannot read directory");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	errno = 0;
	while (ret == 0 && (de = readdir(dir))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = children_push(c, dirfd, de, err);
		errno = 0;
	}
	if (ret == 0 && errno)
		ret = ocb_error_sys(err, "cannot read directory");
	closedir(dir);
	if (ret == 0 && c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), child_cmp);
	return ret;
}

/* path holds the tar name of dirfd ("" at the root), NUL-terminated. */
static int walk_dir(struct oci_layer_writer *w, int dirfd, struct tar_buf *path, unsigned depth,
		    struct ocb_error *err);

static int path_push(struct tar_buf *path, const char *name, struct ocb_error *err)
{
	size_t n = strlen(name), need = path->len + 1 + n + 1;

	if (need > WALK_MAX_NAME)
		return ocb_error_set(err, OCB_ELIMIT, 0, "path '%.100s...' too long", (char *)path->data);
	if (need > path->cap) {
		unsigned char *p = realloc(path->data, need * 2);
		if (!p)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		path->data = p;
		path->cap = need * 2;
	}
	if (path->len > 0)
		path->data[path->len++] = '/';
	memcpy(path->data + path->len, name, n + 1);
	path->len += n;
	return 0;
}

static int walk_child(struct oci_layer_writer *w, int dirfd, const struct child *c, struct tar_buf *path,
		      unsigned depth, struct ocb_error *err)
{
	cleanup_close int sub = -1;
	const char *name = (const char *)path->data;
	struct stat st;

	if (fstatat(dirfd, c->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ocb_error_sys(err, "layer entry '%s': cannot stat", name);
	if (S_ISDIR(st.st_mode) != c->is_dir)
		return ocb_error_set(err, OCB_EFAIL, 0, "layer entry '%s' changed while being read", name);
	if (!c->is_dir)
		return layer_emit(w, dirfd, c->name, name, &st, err);
	sub = openat(dirfd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return ocb_error_sys(err, "layer entry '%s': cannot open directory", name);
	if (layer_emit(w, dirfd, c->name, name, &st, err) < 0)
		return -1;
	return walk_dir(w, sub, path, depth + 1, err);
}

static int walk_dir(struct oci_layer_writer *w, int dirfd, struct tar_buf *path, unsigned depth,
		    struct ocb_error *err)
{
	struct children c = {0};
	int ret = 0;

	if (depth > WALK_MAX_DEPTH)
		return ocb_error_set(err, OCB_ELIMIT, 0, "directory '%s' nested too deeply",
				     (char *)path->data);
	if (read_children(dirfd, &c, err) < 0) {
		ocb_error_wrap(err, "directory '%s'", path->len ? (char *)path->data : ".");
		children_release(&c);
		return -1;
	}
	for (size_t i = 0; ret == 0 && i < c.n; i++) {
		size_t len = path->len;
		ret = path_push(path, c.v[i].name, err);
		if (ret == 0)
			ret = walk_child(w, dirfd, &c.v[i], path, depth, err);
		path->len = len;
		path->data[len] = '\0';
	}
	children_release(&c);
	return ret;
}

int oci_layer_add_tree(struct oci_layer_writer *w, int dirfd, const char *prefix, struct ocb_error *err)
{
	struct tar_buf path = {0};
	int ret;

	if (w->failed)
		return ocb_error_set(err, OCB_EFAIL, 0, "layer writer already failed");
	if (prefix && *prefix && layer_check_name(prefix, err) < 0)
		return -1;
	ret = path_push(&path, prefix ? prefix : "", err);
	if (ret == 0)
		ret = walk_dir(w, dirfd, &path, 0, err);
	tar_buf_release(&path);
	if (ret < 0)
		w->failed = true;
	return ret;
}
