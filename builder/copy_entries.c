/* The plan's entry list: adding, replacing (a later source wins), sorting
 * into the layer writer's order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/copy_impl.h"
#include "oci/banned.h"

int copy_plan_add(struct copy_plan *p, const char *src, const char *dst, size_t seq, const struct stat *st,
		  struct ocb_error *err)
{
	const char *slash = strrchr(dst, '/');
	struct copy_entry *e;

	/* Refused now rather than by the layer writer after the cache look-up. */
	if (!strncmp(slash ? slash + 1 : dst, ".wh.", 4))
		return ocb_error_set(
		    err, OCB_EINVAL, 0,
		    "cannot copy '%s': names starting with '.wh.' are reserved for whiteouts",
		    src && *src ? src : dst);
	if (p->n >= COPY_MAX_ENTRIES)
		return ocb_error_set(err, OCB_ELIMIT, 0, "more than %u files to copy", COPY_MAX_ENTRIES);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct copy_entry *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		p->v = v;
		p->cap = cap;
	}
	e = &p->v[p->n];
	*e = (struct copy_entry){
	    .seq = seq,
	    .st = {.st_dev = st->st_dev,
		   .st_ino = st->st_ino,
		   .st_size = (uint64_t)st->st_size,
		   .st_rdev = st->st_rdev,
		   .st_nlink = st->st_nlink,
		   .mtime = st->st_mtim.tv_sec,
		   .st_mode = st->st_mode,
		   .st_uid = st->st_uid,
		   .st_gid = st->st_gid},
	};
	if ((src && !(e->src = strdup(src))) || !(e->dst = strdup(dst))) {
		free(e->src);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	p->n++;
	return 0;
}

static void entry_release(struct copy_entry *e)
{
	free(e->src);
	free(e->dst);
	e->src = e->dst = NULL;
}

static int by_name_then_seq(const void *x, const void *y)
{
	const struct copy_entry *a = x, *b = y;
	int c = strcmp(a->dst, b->dst);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int by_layer_order(const void *x, const void *y)
{
	const struct copy_entry *a = x, *b = y;

	return oci_layer_name_cmp(a->dst, S_ISDIR(a->st.st_mode), b->dst, S_ISDIR(b->st.st_mode));
}

static int by_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct copy_entry *)elem)->dst);
}

/* An ancestor of e that a later source made a non-directory hides e. */
static bool hidden_by_later_file(const struct copy_plan *p, const struct copy_entry *e)
{
	char *path = strdup(e->dst);
	bool hidden = false;

	if (!path)
		return false;
	for (char *slash; !hidden && (slash = strrchr(path, '/'));) {
		const struct copy_entry *a;

		*slash = '\0';
		a = bsearch(path, p->v, p->n, sizeof(*p->v), by_name);
		hidden = a && !S_ISDIR(a->st.st_mode) && a->seq > e->seq;
	}
	free(path);
	return hidden;
}

/* Drop entries flagged by a NULL dst, keeping the order. */
static void compact(struct copy_plan *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].dst)
			p->v[k++] = p->v[i];
		else
			free(p->v[i].src);
	}
	p->n = k;
}

int copy_plan_finish(struct copy_plan *p, struct ocb_error *err)
{
	bool *drop;

	if (p->n == 0)
		return 0;
	qsort(p->v, p->n, sizeof(*p->v), by_name_then_seq);
	for (size_t i = 0; i + 1 < p->n; i++)
		if (!strcmp(p->v[i].dst, p->v[i + 1].dst))
			entry_release(&p->v[i]); /* the later source replaces it */
	compact(p);
	drop = calloc(p->n, sizeof(*drop));
	if (!drop)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n; i++)
		drop[i] = hidden_by_later_file(p, &p->v[i]);
	for (size_t i = 0; i < p->n; i++)
		if (drop[i]) {
			free(p->v[i].dst);
			p->v[i].dst = NULL;
		}
	free(drop);
	compact(p);
	qsort(p->v, p->n, sizeof(*p->v), by_layer_order);
	return 0;
}

size_t copy_plan_count(const struct copy_plan *plan)
{
	return plan ? plan->n : 0;
}

void copy_plan_free(struct copy_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n; i++)
		entry_release(&plan->v[i]);
	free(plan->v);
	if (plan->root_fd >= 0)
		close(plan->root_fd);
	free(plan);
}
