/* Copy sources: each source string resolved inside the source root, globs
 * expanded one path element at a time (sorted), context exclusions applied. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/copy_impl.h"
#include "oci/cleanup.h"
#include "oci/strv.h"
#include "oci/banned.h"

/* A source split into components ("" and "." dropped). */
struct comps {
	char **v;
	size_t n;
	char *buf;
};

static void comps_release(struct comps *c)
{
	free(c->v);
	free(c->buf);
}

static int comps_split(const char *path, struct comps *out)
{
	size_t cap = 1;
	char *save = NULL;

	for (const char *p = path; *p; p++)
		cap += *p == '/';
	out->n = 0;
	out->buf = strdup(path);
	out->v = calloc(cap, sizeof(*out->v));
	if (!out->buf || !out->v)
		return -1;
	for (char *c = strtok_r(out->buf, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (strcmp(c, "."))
			out->v[out->n++] = c;
	return 0;
}

/* comps[i..j) joined with '/' (malloc'd). */
static char *comps_join(const struct comps *c, size_t i, size_t j)
{
	size_t len = 1;
	char *s, *p;

	for (size_t k = i; k < j; k++)
		len += strlen(c->v[k]) + 1;
	if (!(s = malloc(len)))
		return NULL;
	p = s;
	*p = '\0';
	for (size_t k = i; k < j; k++) {
		size_t n = strlen(c->v[k]);
		if (p != s)
			*p++ = '/';
		memcpy(p, c->v[k], n + 1);
		p += n;
	}
	return s;
}

static int add_match(struct copy_planner *pl, const char *canon, const struct stat *st, size_t source,
		     struct ocb_error *err)
{
	if (pl->n_m == pl->cap_m) {
		size_t cap = pl->cap_m ? pl->cap_m * 2 : 8;
		struct copy_match *v = realloc(pl->m, cap * sizeof(*v));
		if (!v)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		pl->m = v;
		pl->cap_m = cap;
	}
	if (pl->n_m >= COPY_MAX_ENTRIES)
		return ocb_error_set(err, OCB_ELIMIT, 0, "more than %u source matches", COPY_MAX_ENTRIES);
	if (!(pl->m[pl->n_m].canon = strdup(canon)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pl->m[pl->n_m].st = *st;
	pl->m[pl->n_m].source = source;
	pl->n_m++;
	return 0;
}

/* Resolve path below base; *found false when (a part of) it is missing or
 * a non-directory sits in the middle. */
static int resolve_soft(struct copy_planner *pl, const char *base, const char *path, bool follow_last,
			struct copy_resolved *r, bool *found, struct ocb_error *err)
{
	if (copy_resolve(pl->req->source_root_fd, base, path, follow_last, r, err) < 0) {
		if (!err || err->code != OCB_ENOTFOUND)
			return -1;
		ocb_error_clear(err);
		*found = false;
		return 0;
	}
	*found = !*r->rest;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int names_push(char ***v, size_t *n, size_t *cap, const char *name, struct ocb_error *err)
{
	if (*n + 1 >= *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		char **p = realloc(*v, c * sizeof(*p));
		if (!p)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		*v = p;
		*cap = c;
	}
	if (!((*v)[*n] = strdup(name)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	(*v)[++*n] = NULL;
	return 0;
}

/* Sorted names of the directory canon, NULL-terminated. */
static int list_dir(struct copy_planner *pl, const char *canon, char ***names, struct ocb_error *err)
{
	int fd = copy_open_beneath(pl->req->source_root_fd, canon, O_RDONLY | O_DIRECTORY, err);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (fd < 0)
		return -1;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return ocb_error_sys(err, "cannot read directory '%s'", *canon ? canon : ".");
	}
	rc = names_push(&v, &n, &cap, ".", err); /* makes v non-NULL; dropped below */
	while (rc == 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = names_push(&v, &n, &cap, de->d_name, err);
	if (rc == 0 && errno)
		rc = ocb_error_sys(err, "cannot read directory '%s'", *canon ? canon : ".");
	closedir(d);
	if (rc < 0) {
		oci_strv_free(v);
		return -1;
	}
	free(v[0]);
	memmove(v, v + 1, n * sizeof(*v)); /* n names and the NULL */
	qsort(v, n - 1, sizeof(*v), cmp_names);
	*names = v;
	return 0;
}

/* A match found: kept unless the context's ignore file hides it. */
static int found(struct copy_planner *pl, const char *canon, const struct stat *st, size_t source,
		 struct ocb_error *err)
{
	if (*canon && copy_context_hidden(pl, canon, S_ISDIR(st->st_mode), NULL))
		return 0;
	return add_match(pl, canon, st, source, err);
}

static int expand(struct copy_planner *pl, const char *base, const struct comps *c, size_t i, size_t source,
		  bool follow_last, struct ocb_error *err);

/* comps[j] is a glob: try it against every name of the directory dir. */
static int expand_glob(struct copy_planner *pl, const char *dir, const struct comps *c, size_t j,
		       size_t source, struct ocb_error *err)
{
	char **names = NULL;
	int rc = 0;

	if (list_dir(pl, dir, &names, err) < 0)
		return -1;
	for (size_t k = 0; rc == 0 && names[k]; k++) {
		cleanup_free char *child = NULL;
		struct copy_resolved r = {0};
		bool ok = false;

		if (!copy_glob_match(c->v[j], names[k]))
			continue;
		if (!(child = copy_path_join(dir, names[k]))) {
			rc = ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			break;
		}
		if (j + 1 == c->n) {
			struct stat st;
			rc = copy_lstat_beneath(pl->req->source_root_fd, child, &st, err);
			if (rc == 0)
				rc = found(pl, child, &st, source, err);
			continue;
		}
		rc = resolve_soft(pl, dir, names[k], true, &r, &ok, err);
		if (rc == 0 && ok && S_ISDIR(r.st.st_mode))
			rc = expand(pl, r.canon, c, j + 1, source, false, err);
		copy_resolved_release(&r);
	}
	oci_strv_free(names);
	return rc;
}

/* Match comps[i..] below base (symlink-free).  The last element of a
 * source is not followed (a symlink is copied as a symlink) unless
 * follow_last (a stage or image source written with a trailing '/'). */
static int expand(struct copy_planner *pl, const char *base, const struct comps *c, size_t i, size_t source,
		  bool follow_last, struct ocb_error *err)
{
	struct copy_resolved r = {0};
	cleanup_free char *lit = NULL;
	size_t j = i;
	bool ok = false;
	int rc;

	while (j < c->n && !copy_glob_has_meta(c->v[j]))
		j++;
	if (!(lit = comps_join(c, i, j)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (resolve_soft(pl, base, lit, j < c->n || follow_last, &r, &ok, err) < 0)
		return -1;
	if (!ok)
		rc = 0;
	else if (j == c->n)
		rc = found(pl, r.canon, &r.st, source, err);
	else if (S_ISDIR(r.st.st_mode))
		rc = expand_glob(pl, r.canon, c, j, source, err);
	else
		rc = 0;
	copy_resolved_release(&r);
	return rc;
}

static bool has_dotdot(const struct comps *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i], ".."))
			return true;
	return false;
}

static bool is_glob(const struct comps *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (copy_glob_has_meta(c->v[i]))
			return true;
	return false;
}

static int not_found(struct copy_planner *pl, const struct recipe_str *s, bool glob, struct ocb_error *err)
{
	const char *ig = pl->req->ignore ? recipe_ignore_source(pl->req->ignore) : NULL;
	const char *label = pl->req->source_label ? pl->req->source_label : "the source";

	if (glob)
		return copy_fail_at(err, &s->pos, OCB_ENOTFOUND, 0,
				    "copy source '%s' matches nothing in %s%s%s%s", s->value, label,
				    ig ? " (after " : "", ig ? ig : "", ig ? ")" : "");
	return copy_fail_at(err, &s->pos, OCB_ENOTFOUND, 0, "copy source '%s' not found in %s%s%s%s",
			    s->value, label, ig ? " (or excluded by " : "", ig ? ig : "", ig ? ")" : "");
}

static int expand_one(struct copy_planner *pl, size_t source, struct ocb_error *err)
{
	const struct recipe_str *s = &pl->c->sources.items[source];
	struct comps c = {0};
	size_t before = pl->n_m;
	bool glob, follow;
	int rc = -1;

	if (!s->value || !*s->value)
		return copy_fail_at(err, &s->pos, OCB_EINVAL, 0, "empty copy source");
	if (comps_split(s->value, &c) < 0) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	if (pl->req->origin_is_context && has_dotdot(&c)) {
		copy_fail_at(err, &s->pos, OCB_EUNSAFE, 0, "copy source '%s' is outside the build context",
			     s->value);
		goto out;
	}
	glob = is_glob(&c);
	for (size_t i = 0; i < c.n; i++)
		if (copy_glob_has_meta(c.v[i]) && copy_glob_check(c.v[i], err) < 0) {
			copy_wrap_at(err, &s->pos, "copy source");
			goto out;
		}
	/* The context's sources are cleaned (no trailing '/' left): as written
	 * in a stage, "lib/" means the directory lib points to. */
	follow = !pl->req->origin_is_context && s->value[strlen(s->value) - 1] == '/';
	if (expand(pl, "", &c, 0, source, follow, err) < 0) {
		copy_wrap_at(err, &s->pos, "copy source");
		goto out;
	}
	rc = pl->n_m > before ? 0 : not_found(pl, s, glob, err);
out:
	comps_release(&c);
	return rc;
}

int copy_expand_sources(struct copy_planner *pl, struct ocb_error *err)
{
	if (pl->c->sources.len == 0)
		return copy_fail_at(err, &pl->c->sources.pos, OCB_EINVAL, 0, "copy step without sources");
	for (size_t i = 0; i < pl->c->sources.len; i++)
		if (expand_one(pl, i, err) < 0)
			return -1;
	return 0;
}
