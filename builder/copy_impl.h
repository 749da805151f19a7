/* Internal to builder/copy*.c: the plan's data and the helpers its parts
 * share. */
#ifndef OCB_COPY_IMPL_H
#define OCB_COPY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "builder/copy.h"

#define COPY_MAX_ENTRIES  (8u << 20) /* entries in one copy step */
#define COPY_MAX_DEPTH	  1024	     /* directory nesting */
#define COPY_MAX_SYMLINKS 40	     /* symlinks followed resolving one path (Linux's limit) */

/* What the plan keeps of an lstat (a third of struct stat: plans of a
 * million files stay small). */
struct copy_stat {
	uint64_t st_dev, st_ino, st_size, st_rdev, st_nlink;
	int64_t mtime; /* seconds */
	uint32_t st_mode, st_uid, st_gid;
};

struct copy_entry {
	char *src;	     /* symlink-free path in the source root; NULL: a created parent */
	char *dst;	     /* layer name, relative, no trailing '/' */
	size_t seq;	     /* 0: created parent; i + 1: from the i-th source match */
	struct copy_stat st; /* lstat of src at plan time (st_mode S_IFDIR for parents) */
};

struct copy_plan {
	int root_fd; /* the source root (owned) */
	struct copy_entry *v;
	size_t n, cap;
	struct oci_layer_override ov; /* chmod, chown or 0:0 for the context */
};

/* A source match: what one source (or one glob match) names. */
struct copy_match {
	char *canon;	/* symlink-free path in the source root ("" for the root) */
	struct stat st; /* its lstat */
	size_t source;	/* index in copy->sources */
};

/* State while planning (copy_plan.c, copy_source.c, copy_walk.c). */
struct copy_planner {
	const struct copy_request *req;
	const struct recipe_copy *c;
	struct copy_plan *plan;
	struct recipe_ignore *exclude; /* the step's patterns, NULL without */
	struct copy_match *m;
	size_t n_m, cap_m;
};

/* "FILE:LINE:COL: " + message, or the message alone without a file. */
int copy_fail_at(struct ocb_error *err, const struct recipe_pos *pos, enum ocb_code code, int errnum,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Prepend "FILE:LINE:COL: what" to an error. */
int copy_wrap_at(struct ocb_error *err, const struct recipe_pos *pos, const char *what);

/* True when the context's ignore file removes relpath from the context.  A
 * directory with '!' exceptions somewhere is walked anyway (*maybe set). */
bool copy_context_hidden(const struct copy_planner *pl, const char *relpath, bool is_dir, bool *maybe);

/* Expand every source into pl->m (copy_source.c). */
int copy_expand_sources(struct copy_planner *pl, struct ocb_error *err);

/* Entries for match m: its tree (a directory) mapped onto dst, its root
 * entry only when root_entry (copy_walk.c).  A file match is one entry. */
int copy_walk_match(struct copy_planner *pl, const struct copy_match *m, const char *dst, bool root_entry,
		    struct ocb_error *err);

/* Growing the plan; dst and src are copied. */
int copy_plan_add(struct copy_plan *p, const char *src, const char *dst, size_t seq, const struct stat *st,
		  struct ocb_error *err);
/* Sort into layer order, dropping entries a later source replaced. */
int copy_plan_finish(struct copy_plan *p, struct ocb_error *err);

/* The object at path (symlink-free, relative, "" for the root) beneath
 * root_fd, not following a final symlink: O_PATH fd or stat. */
int copy_open_beneath(int root_fd, const char *path, int flags, struct ocb_error *err);
int copy_lstat_beneath(int root_fd, const char *path, struct stat *st, struct ocb_error *err);

/* Resolving path (relative to the symlink-free base, "" for the root)
 * inside root_fd: symlinks are followed (the last one only with
 * follow_last) without ever leaving the root.  canon gets the symlink-free
 * path of the longest existing prefix, rest the components after it that
 * do not exist ("" when the whole path exists), st the lstat of canon (of
 * the root when canon is "").  A non-directory met before the end is
 * ENOTDIR (OCB_ENOTFOUND); a symlink loop ELOOP. */
struct copy_resolved {
	char *canon;
	char *rest;
	struct stat st;
};

int copy_resolve(int root_fd, const char *base, const char *path, bool follow_last, struct copy_resolved *out,
		 struct ocb_error *err);
void copy_resolved_release(struct copy_resolved *r);

/* "a" + "/" + "b", or the non-empty one alone; NULL when out of memory. */
char *copy_path_join(const char *a, const char *b);

/* Go's filepath.Match for one path element: '*', '?', "[...]" ("[^...]"
 * negated, ranges), '\' escapes.  copy_glob_check: OCB_EINVAL for a
 * malformed pattern (unterminated class, trailing '\', empty class). */
bool copy_glob_has_meta(const char *s);
int copy_glob_check(const char *pattern, struct ocb_error *err);
bool copy_glob_match(const char *pattern, const char *name);

/* chown "user[:group]" against the destination's /etc/passwd and /etc/group. */
int copy_chown_resolve(int dest_root_fd, const char *user, const char *group, uint64_t *uid, uint64_t *gid,
		       struct ocb_error *err);

#endif
