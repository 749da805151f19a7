/* Walking a matched directory into plan entries.  Directories are entered
 * with O_NOFOLLOW from their parent's fd, so the walk never leaves the
 * match; exclusions are checked on the way (the context's ignore file
 * against paths from the context root, the step's `exclude` against paths
 * from the match). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/copy_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

struct walk {
	struct copy_planner *pl;
	size_t seq;
	char *src, *rel, *dst; /* growing paths: from the root, from the match, in the layer */
	size_t src_len, rel_len, dst_len, cap;
};

bool copy_context_hidden(const struct copy_planner *pl, const char *relpath, bool is_dir, bool *maybe)
{
	const struct recipe_ignore *ig = pl->req->ignore;

	if (!ig || !recipe_ignore_match(ig, relpath))
		return false;
	if (is_dir && recipe_ignore_has_exceptions(ig)) {
		if (maybe)
			*maybe = true;
		return false;
	}
	return true;
}

/* The step's exclude patterns, the same way. */
static bool excluded(const struct copy_planner *pl, const char *rel, bool is_dir, bool *maybe)
{
	if (!pl->exclude || !recipe_ignore_match(pl->exclude, rel))
		return false;
	if (is_dir && recipe_ignore_has_exceptions(pl->exclude)) {
		*maybe = true;
		return false;
	}
	return true;
}

/* Append "/name" (or "name" to an empty path) to the three paths. */
static int walk_push(struct walk *w, const char *name, struct ocb_error *err)
{
	size_t n = strlen(name), need = w->src_len + w->rel_len + w->dst_len + 3 * (n + 2);

	if (need > w->cap) {
		size_t cap = need * 2;
		char *s = realloc(w->src, cap), *r = s ? realloc(w->rel, cap) : NULL,
		     *d = r ? realloc(w->dst, cap) : NULL;
		if (s)
			w->src = s;
		if (r)
			w->rel = r;
		if (!d)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		w->dst = d;
		w->cap = cap;
	}
#define PUSH(p, len)                                                                                         \
	do {                                                                                                 \
		if (len)                                                                                     \
			w->p[len++] = '/';                                                                   \
		memcpy(w->p + len, name, n + 1);                                                             \
		len += n;                                                                                    \
	} while (0)
	PUSH(src, w->src_len);
	PUSH(rel, w->rel_len);
	PUSH(dst, w->dst_len);
#undef PUSH
	return 0;
}

static void walk_pop(struct walk *w, size_t src_len, size_t rel_len, size_t dst_len)
{
	w->src[w->src_len = src_len] = '\0';
	w->rel[w->rel_len = rel_len] = '\0';
	w->dst[w->dst_len = dst_len] = '\0';
}

static int walk_dir(struct walk *w, int dirfd, unsigned depth, size_t *kept, struct ocb_error *err);

/* One child of a directory: an entry, and for a directory its contents. */
static int walk_child(struct walk *w, int dirfd, const char *name, unsigned depth, size_t *kept,
		      struct ocb_error *err)
{
	cleanup_close int sub = -1;
	bool maybe = false;
	size_t below = 0, at;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ocb_error_sys(err, "cannot stat '%s'", w->src);
	if (S_ISSOCK(st.st_mode))
		return 0; /* tar cannot hold sockets */
	if (copy_context_hidden(w->pl, w->src, S_ISDIR(st.st_mode), &maybe) ||
	    excluded(w->pl, w->rel, S_ISDIR(st.st_mode), &maybe))
		return 0;
	at = w->pl->plan->n;
	if (copy_plan_add(w->pl->plan, w->src, w->dst, w->seq, &st, err) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return ocb_error_sys(err, "cannot open directory '%s'", w->src);
		if (walk_dir(w, sub, depth + 1, &below, err) < 0)
			return -1;
		if (maybe && below == 0) { /* excluded, and nothing inside re-included */
			free(w->pl->plan->v[at].src);
			free(w->pl->plan->v[at].dst);
			w->pl->plan->n = at;
			return 0;
		}
	}
	++*kept;
	return 0;
}

static int walk_dir(struct walk *w, int dirfd, unsigned depth, size_t *kept, struct ocb_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t src_len = w->src_len, rel_len = w->rel_len, dst_len = w->dst_len;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (depth > COPY_MAX_DEPTH)
		return ocb_error_set(err, OCB_ELIMIT, 0, "directory '%s' nested too deeply", w->src);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return ocb_error_sys(err, "cannot read directory '%s'", *w->src ? w->src : ".");
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = walk_push(w, de->d_name, err);
		if (rc == 0)
			rc = walk_child(w, dirfd, de->d_name, depth, kept, err);
		walk_pop(w, src_len, rel_len, dst_len);
	}
	if (rc == 0 && errno)
		rc = ocb_error_sys(err, "cannot read directory '%s'", *w->src ? w->src : ".");
	closedir(d);
	return rc;
}

static int walk_init(struct walk *w, const char *src, const char *dst, struct ocb_error *err)
{
	size_t cap = strlen(src) + strlen(dst) + 256;

	w->src = malloc(cap);
	w->rel = malloc(cap);
	w->dst = malloc(cap);
	if (!w->src || !w->rel || !w->dst)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	w->cap = cap;
	w->src_len = strlen(src);
	memcpy(w->src, src, w->src_len + 1);
	w->dst_len = strlen(dst);
	memcpy(w->dst, dst, w->dst_len + 1);
	w->rel_len = 0;
	w->rel[0] = '\0';
	return 0;
}

int copy_walk_match(struct copy_planner *pl, const struct copy_match *m, const char *dst, bool root_entry,
		    struct ocb_error *err)
{
	struct walk w = {.pl = pl, .seq = m->source + 1};
	cleanup_close int fd = -1;
	size_t kept = 0;
	int rc = -1;

	if (!S_ISDIR(m->st.st_mode)) {
		const char *slash = strrchr(m->canon, '/');
		bool maybe = false;

		if (S_ISSOCK(m->st.st_mode) || excluded(pl, slash ? slash + 1 : m->canon, false, &maybe))
			return 0;
		return copy_plan_add(pl->plan, m->canon, dst, m->source + 1, &m->st, err);
	}
	if (root_entry && copy_plan_add(pl->plan, m->canon, dst, m->source + 1, &m->st, err) < 0)
		return -1;
	fd = copy_open_beneath(pl->req->source_root_fd, m->canon, O_RDONLY | O_DIRECTORY, err);
	if (fd < 0)
		return -1;
	if (walk_init(&w, m->canon, dst, err) == 0)
		rc = walk_dir(&w, fd, 0, &kept, err);
	free(w.src);
	free(w.rel);
	free(w.dst);
	return rc;
}
