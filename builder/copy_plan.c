/* copy_plan(): sources -> matches -> destination names and metadata. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/copy_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

int copy_fail_at(struct ocb_error *err, const struct recipe_pos *pos, enum ocb_code code, int errnum,
		 const char *fmt, ...)
{
	char msg[OCB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pos && pos->file)
		return ocb_error_set(err, code, errnum, "%s:%u:%u: %s", pos->file, pos->line, pos->col, msg);
	return ocb_error_set(err, code, errnum, "%s", msg);
}

int copy_wrap_at(struct ocb_error *err, const struct recipe_pos *pos, const char *what)
{
	if (pos && pos->file)
		return ocb_error_wrap(err, "%s:%u:%u: %s", pos->file, pos->line, pos->col, what);
	return ocb_error_wrap(err, "%s", what);
}

/* Where the sources go. */
struct dest {
	char *path;	   /* the cleaned destination, relative to the root ("" for /) */
	bool slash;	   /* `to` names a directory: ends in '/', ".", ".." or is / */
	char *dir;	   /* resolved: the target directory (into_dir) or the new file name */
	char *missing_top; /* the first missing component's path ("" when dir exists) */
	bool into_dir;
	bool exists;
};

static void dest_release(struct dest *d)
{
	free(d->path);
	free(d->dir);
	free(d->missing_top);
}

/* workdir + to, cleaned lexically (".." stops at the root). */
static int dest_path(const struct copy_request *req, struct dest *d, struct ocb_error *err)
{
	const char *to = req->copy->to.value;
	const char *wd = req->workdir && *req->workdir ? req->workdir : "/";
	cleanup_free char *full = NULL;
	char *out, *save = NULL, *last = NULL;
	size_t len, o = 0;

	if (!to || !*to)
		return copy_fail_at(err, &req->copy->to.pos, OCB_EINVAL, 0, "copy step without 'to'");
	if (asprintf(&full, "%s/%s", to[0] == '/' ? "" : wd, to) < 0 || !(out = calloc(1, strlen(full) + 1)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	len = strlen(to);
	d->slash = to[len - 1] == '/';
	for (char *c = strtok_r(full, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		last = c;
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *s = strrchr(out, '/');
			o = s ? (size_t)(s - out) : 0;
			out[o] = '\0';
			continue;
		}
		if (o) /* fits: out is as long as full */
			out[o++] = '/';
		len = strlen(c);
		memcpy(out + o, c, len + 1);
		o += len;
	}
	if (last && (!strcmp(last, ".") || !strcmp(last, "..")))
		d->slash = true;
	if (!*out)
		d->slash = true;
	d->path = out;
	return 0;
}

/* Resolve the destination in the destination root (following its
 * symlinks inside it); with no root, nothing but / exists. */
static int dest_resolve(const struct copy_request *req, const char *path, bool follow_last,
			struct copy_resolved *r, struct ocb_error *err)
{
	if (req->dest_root_fd < 0) {
		r->canon = strdup("");
		r->rest = strdup(path);
		r->st = (struct stat){.st_mode = S_IFDIR | 0755};
		if (!r->canon || !r->rest)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		return 0;
	}
	return copy_resolve(req->dest_root_fd, "", path, follow_last, r, err);
}

/* The path of the first component of rest below canon. */
static char *first_missing(const struct copy_resolved *r)
{
	size_t n = strcspn(r->rest, "/");
	char *top = strndup(r->rest, n), *s;

	if (!top)
		return NULL;
	s = copy_path_join(r->canon, top);
	free(top);
	return s;
}

/* An existing destination directory (after following a final symlink). */
static int dest_existing_dir(struct copy_planner *pl, struct dest *d, struct copy_resolved *r,
			     struct ocb_error *err)
{
	struct copy_resolved dir = {0};

	if (S_ISLNK(r->st.st_mode)) {
		if (dest_resolve(pl->req, d->path, true, &dir, err) < 0)
			return -1;
		if (*dir.rest || !S_ISDIR(dir.st.st_mode)) {
			copy_resolved_release(&dir);
			return 0;
		}
		free(r->canon);
		r->canon = steal_pointer(&dir.canon);
		r->st = dir.st;
		copy_resolved_release(&dir);
	}
	return S_ISDIR(r->st.st_mode);
}

static int dest_target(struct copy_planner *pl, struct dest *d, bool need_dir, struct ocb_error *err)
{
	const struct recipe_pos *pos = &pl->c->to.pos;
	struct copy_resolved r = {0};
	int rc = -1, is_dir;

	/* Symlinks on the way are followed; the last one only if it leads to
	 * a directory: a file or symlink named by `to` is replaced. */
	if (dest_resolve(pl->req, d->path, false, &r, err) < 0)
		return copy_wrap_at(err, pos, "copy destination");
	d->exists = !*r.rest;
	if (d->exists) {
		if ((is_dir = dest_existing_dir(pl, d, &r, err)) < 0) {
			copy_wrap_at(err, pos, "copy destination");
			goto out;
		}
		if (!is_dir && (need_dir || d->slash)) {
			copy_fail_at(err, pos, OCB_EINVAL, 0,
				     "copy destination '%s' exists and is not a directory", pl->c->to.value);
			goto out;
		}
		d->into_dir = is_dir;
		d->dir = steal_pointer(&r.canon);
		d->missing_top = strdup("");
	} else {
		d->into_dir = need_dir || d->slash;
		d->dir = copy_path_join(r.canon, r.rest);
		d->missing_top = first_missing(&r);
	}
	if (!d->dir || !d->missing_top)
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	else
		rc = 0;
out:
	copy_resolved_release(&r);
	return rc;
}

/* Created parents: every prefix of upto from the first missing component
 * on, upto itself excluded; root:root 0755 (Docker does not chown them). */
static int add_parents(struct copy_planner *pl, const struct dest *d, const char *upto, struct ocb_error *err)
{
	struct stat st = {.st_mode = S_IFDIR | 0755};
	size_t pos = strlen(d->missing_top), n = strlen(upto);

	if (pos == 0)
		return 0;
	while (pos < n) {
		cleanup_free char *p = strndup(upto, pos);
		const char *slash;

		if (!p)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		if (copy_plan_add(pl->plan, NULL, p, 0, &st, err) < 0)
			return -1;
		if (!(slash = strchr(upto + pos + 1, '/')))
			break;
		pos = (size_t)(slash - upto);
	}
	return 0;
}

/* The destination's existing parent directories (and the target directory
 * itself when copying into it), with their metadata from the image below:
 * a layer that names a file in etc/family without an entry for etc/family
 * makes Docker's (and overlayfs's) view of that directory root:root 0755,
 * hiding the owner the image gave it. */
static int add_existing_parents(struct copy_planner *pl, const struct dest *d, struct ocb_error *err)
{
	size_t end = *d->missing_top ? strlen(d->missing_top) : strlen(d->dir);
	bool self = !*d->missing_top && d->into_dir;

	if (pl->req->dest_root_fd < 0)
		return 0;
	for (size_t pos = 0; pos < end || (self && pos == end); pos++) {
		if (pos < end && d->dir[pos] != '/')
			continue;
		cleanup_free char *p = strndup(d->dir, pos);
		struct stat st;
		if (!p)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		if (*p && fstatat(pl->req->dest_root_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			struct stat parent = {
			    .st_mode = st.st_mode, .st_uid = st.st_uid, .st_gid = st.st_gid};
			parent.st_mtim.tv_sec = st.st_mtim.tv_sec;
			if (copy_plan_add(pl->plan, NULL, p, 0, &parent, err) < 0)
				return -1;
		}
		if (pos == end)
			break;
	}
	return 0;
}

static bool any_dir_match(const struct copy_planner *pl)
{
	for (size_t i = 0; i < pl->n_m; i++)
		if (S_ISDIR(pl->m[i].st.st_mode))
			return true;
	return false;
}

static int map_matches(struct copy_planner *pl, struct ocb_error *err)
{
	struct dest d = {0};
	bool several = pl->c->sources.len > 1 || pl->n_m > 1;
	int rc = -1;

	if (dest_path(pl->req, &d, err) < 0)
		goto out;
	if (dest_target(pl, &d, several || any_dir_match(pl), err) < 0)
		goto out;
	if (several && !d.slash && !(d.exists && d.into_dir)) {
		copy_fail_at(err, &pl->c->to.pos, OCB_EINVAL, 0,
			     "copy with several sources needs 'to' to end in '/' (got '%s')",
			     pl->c->to.value);
		goto out;
	}
	if (add_existing_parents(pl, &d, err) < 0 || add_parents(pl, &d, d.dir, err) < 0)
		goto out;
	if (d.into_dir && !d.exists && *d.dir) {
		struct stat st = {.st_mode = S_IFDIR | 0755};
		if (copy_plan_add(pl->plan, NULL, d.dir, 0, &st, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < pl->n_m; i++) {
		const struct copy_match *m = &pl->m[i];
		cleanup_free char *dst = NULL;

		if (S_ISDIR(m->st.st_mode)) {
			rc = copy_walk_match(pl, m, d.dir, !d.exists && *d.dir, err);
		} else if (d.into_dir) {
			const char *slash = strrchr(m->canon, '/');
			if (!(dst = copy_path_join(d.dir, slash ? slash + 1 : m->canon)))
				rc = ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			else
				rc = copy_walk_match(pl, m, dst, true, err);
		} else {
			rc = copy_walk_match(pl, m, d.dir, true, err);
		}
		if (rc < 0) {
			copy_wrap_at(err, &pl->c->sources.items[m->source].pos, "copy source");
			goto out;
		}
	}
	rc = 0;
out:
	dest_release(&d);
	return rc;
}

/* chmod, chown, and 0:0 for the context. */
static int plan_override(struct copy_planner *pl, struct ocb_error *err)
{
	struct oci_layer_override *ov = &pl->plan->ov;
	const struct recipe_copy *c = pl->c;

	ov->mode_set = c->chmod_set;
	ov->mode = c->chmod & 07777;
	if (c->chown.value && c->chown_user) {
		ov->owner_set = true;
		if (copy_chown_resolve(pl->req->dest_root_fd, c->chown_user, c->chown_group, &ov->uid,
				       &ov->gid, err) < 0)
			return copy_wrap_at(err, &c->chown.pos, "copy 'chown'");
	} else if (pl->req->origin_is_context) {
		ov->owner_set = true;
		ov->uid = ov->gid = 0;
	}
	return 0;
}

/* The step's exclude patterns as an ignore matcher (one pattern an item:
 * '#' is no comment there). */
static int plan_excludes(struct copy_planner *pl, struct ocb_error *err)
{
	const struct recipe_strv *ex = &pl->c->exclude;
	cleanup_free const char **v = NULL;

	if (ex->len == 0)
		return 0;
	if (!(v = calloc(ex->len, sizeof(*v))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < ex->len; i++)
		v[i] = ex->items[i].value ? ex->items[i].value : "";
	if (recipe_ignore_from_list("exclude", v, ex->len, &pl->exclude, err) < 0)
		return copy_wrap_at(err, &ex->pos, "copy 'exclude'");
	return 0;
}

static void planner_release(struct copy_planner *pl)
{
	for (size_t i = 0; i < pl->n_m; i++)
		free(pl->m[i].canon);
	free(pl->m);
	recipe_ignore_free(pl->exclude);
	copy_plan_free(pl->plan);
}

int copy_plan(const struct copy_request *req, struct copy_plan **out, struct ocb_error *err)
{
	struct copy_planner pl = {.req = req, .c = req->copy};
	int rc = -1;

	if (!(pl.plan = calloc(1, sizeof(*pl.plan))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pl.plan->root_fd = fcntl(req->source_root_fd, F_DUPFD_CLOEXEC, 3);
	if (pl.plan->root_fd < 0) {
		ocb_error_sys(err, "copy source root");
		goto out;
	}
	if (plan_override(&pl, err) < 0 || plan_excludes(&pl, err) < 0 || copy_expand_sources(&pl, err) < 0 ||
	    map_matches(&pl, err) < 0 || copy_plan_finish(pl.plan, err) < 0)
		goto out;
	*out = steal_pointer(&pl.plan);
	rc = 0;
out:
	planner_release(&pl);
	return rc;
}
