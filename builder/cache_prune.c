/* Listing, disk usage and pruning of a cache directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/cache_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

/* One record file found under keys/. */
struct scanned {
	struct oci_digest key;
	char rel[OCI_DIGEST_HEX_LEN * 2];
	struct stat st;
	bool valid; /* parsed, and its blob is present */
	bool remove;
	struct cache_record rec;
};

struct scan {
	struct scanned *v;
	size_t n, cap;
};

static void scan_release(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		cache_record_release(&s->v[i].rec);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The key a record file name "<64 hex>.json" in keys/<sub>/ stands for. */
static bool record_name_key(const char *sub, const char *name, struct oci_digest *key)
{
	if (strlen(name) != OCI_DIGEST_HEX_LEN + 5 || strcmp(name + OCI_DIGEST_HEX_LEN, ".json") ||
	    !is_hex(name, OCI_DIGEST_HEX_LEN) || strncmp(name, sub, 2))
		return false;
	snprintf(key->str, sizeof(key->str), OCI_DIGEST_ALGO ":%.*s", OCI_DIGEST_HEX_LEN, name);
	return true;
}

static int scan_push(struct scan *s, struct scanned *e, struct ocb_error *err)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct scanned *v = reallocarray(s->v, cap, sizeof(*v));
		if (!v)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *e;
	return 0;
}

/* Read and check one record; unusable ones are kept with valid false. */
static int scan_one(struct build_cache *c, struct scan *s, const char *sub, const char *name,
		    struct ocb_error *err)
{
	struct ocb_error ignored = OCB_ERROR_INIT;
	struct scanned e = {0};
	cleanup_free char *buf = NULL;
	size_t len;

	if (!record_name_key(sub, name, &e.key))
		return 0;
	cache_record_relpath(&e.key, e.rel, sizeof(e.rel));
	if (cache_record_read(c, e.rel, &buf, &len, &e.st, &ignored) < 0) {
		if (ignored.code == OCB_ENOTFOUND)
			return 0; /* removed meanwhile */
	} else if (cache_record_decode(buf, len, &e.key, &e.rec, &ignored) == 0) {
		e.valid = e.rec.empty_layer || cache_blob_present(c, &e.rec.digest, e.rec.size);
		e.rec.last_used = (int64_t)e.st.st_mtim.tv_sec;
	}
	if (scan_push(s, &e, err) < 0) {
		cache_record_release(&e.rec);
		return -1;
	}
	return 0;
}

static int scan_sub(struct build_cache *c, struct scan *s, const char *sub, struct ocb_error *err)
{
	DIR *d = cache_opendir_at(c->keys_fd, sub);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return 0; /* not a fan-out directory */
	while (rc == 0 && (de = readdir(d)))
		rc = scan_one(c, s, sub, de->d_name, err);
	closedir(d);
	return rc;
}

static int scan_records(struct build_cache *c, struct scan *s, struct ocb_error *err)
{
	DIR *d = cache_opendir_at(c->keys_fd, ".");
	struct dirent *de;
	int rc = 0;

	if (!d)
		return ocb_error_sys(err, "cache '%s': cannot read 'keys'", c->path);
	while (rc == 0 && (de = readdir(d))) {
		if (strlen(de->d_name) == 2 && is_hex(de->d_name, 2))
			rc = scan_sub(c, s, de->d_name, err);
	}
	closedir(d);
	if (rc < 0)
		scan_release(s);
	return rc;
}

/* Least recently used first; the key breaks ties so the order is stable. */
static int by_last_use(const void *a, const void *b)
{
	const struct scanned *x = a, *y = b;

	if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec)
		return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
	if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec)
		return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
	return strcmp(x->key.str, y->key.str);
}

void cache_entries_free(struct cache_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		cache_record_release(&e[i].rec);
	free(e);
}

int cache_list(struct build_cache *c, struct cache_entry **out, size_t *n, struct ocb_error *err)
{
	struct scan s = {0};
	struct cache_entry *v;
	size_t k = 0;

	if (scan_records(c, &s, err) < 0)
		return -1;
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), by_last_use);
	v = calloc(s.n ? s.n : 1, sizeof(*v));
	if (!v) {
		scan_release(&s);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	for (size_t i = s.n; i-- > 0;) {
		if (!s.v[i].valid)
			continue;
		v[k].key = s.v[i].key;
		v[k].rec = s.v[i].rec;
		memset(&s.v[i].rec, 0, sizeof(s.v[i].rec));
		k++;
	}
	scan_release(&s);
	*out = v;
	*n = k;
	return 0;
}

/* Entries of dirfd that are not "." or "..", each with visit. */
static void for_each_entry(int dirfd, void (*visit)(int dirfd, const char *name, void *opaque), void *opaque)
{
	DIR *d = cache_opendir_at(dirfd, ".");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			visit(dirfd, de->d_name, opaque);
	closedir(d);
}

static void count_mount(int dirfd, const char *name, void *opaque)
{
	struct cache_usage *u = opaque;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	u->mounts++;
	u->mount_bytes += cache_tree_size(fd, NULL);
	close(fd);
}

int cache_du(struct build_cache *c, struct cache_usage *out, struct ocb_error *err)
{
	struct cache_usage u = {0};
	struct scan s = {0};

	if (scan_records(c, &s, err) < 0)
		return -1;
	for (size_t i = 0; i < s.n; i++)
		u.records += s.v[i].valid;
	scan_release(&s);
	u.blob_bytes = cache_tree_size(c->bs.blobs_fd, &u.blobs);
	for_each_entry(c->mounts_fd, count_mount, &u);
	*out = u;
	return 0;
}

/* ---- prune ---- */

struct blob_ref {
	struct oci_digest digest;
	uint64_t size;
	size_t refs;
};

static int by_digest(const void *a, const void *b)
{
	return strcmp(((const struct blob_ref *)a)->digest.str, ((const struct blob_ref *)b)->digest.str);
}

static struct blob_ref *find_ref(struct blob_ref *v, size_t n, const struct oci_digest *d)
{
	struct blob_ref k = {.digest = *d};

	return n ? bsearch(&k, v, n, sizeof(*v), by_digest) : NULL;
}

/* The blobs the valid records use, sorted, with reference counts; *total
 * gets their bytes. */
static int collect_refs(struct scan *s, struct blob_ref **out, size_t *n, uint64_t *total,
			struct ocb_error *err)
{
	struct blob_ref *v = calloc(s->n ? s->n : 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].valid && !s->v[i].rec.empty_layer)
			v[k++] = (struct blob_ref){s->v[i].rec.digest, s->v[i].rec.size, 0};
	}
	qsort(v, k, sizeof(*v), by_digest);
	*n = 0;
	*total = 0;
	for (size_t i = 0; i < k; i++) { /* merge duplicates */
		if (*n && oci_digest_equal(&v[*n - 1].digest, &v[i].digest)) {
			v[*n - 1].refs++;
			continue;
		}
		v[*n] = v[i];
		v[*n].refs = 1;
		*total += v[i].size;
		(*n)++;
	}
	*out = v;
	return 0;
}

/* Mark records to remove: broken ones, then the least recently used until
 * the blobs still referenced fit. */
static void choose_victims(struct scan *s, struct blob_ref *refs, size_t n_refs, uint64_t total,
			   const struct cache_prune_opts *o)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), by_last_use);
	for (size_t i = 0; i < s->n; i++) {
		struct scanned *e = &s->v[i];
		struct blob_ref *r;

		if (!e->valid) {
			e->remove = true;
			continue;
		}
		if (o->keep_storage_set && total <= o->keep_storage)
			continue;
		e->remove = true;
		if (e->rec.empty_layer)
			continue;
		r = find_ref(refs, n_refs, &e->rec.digest);
		if (r && --r->refs == 0)
			total -= r->size;
	}
}

struct gc_ctx {
	struct build_cache *c;
	struct blob_ref *refs;
	size_t n_refs;
	struct cache_prune_result *res;
};

static void gc_blob(int dirfd, const char *name, void *opaque)
{
	struct gc_ctx *g = opaque;
	struct oci_digest d;
	struct blob_ref *r;
	struct stat st;

	if (strlen(name) != OCI_DIGEST_HEX_LEN || !is_hex(name, OCI_DIGEST_HEX_LEN))
		return;
	snprintf(d.str, sizeof(d.str), OCI_DIGEST_ALGO ":%s", name);
	r = find_ref(g->refs, g->n_refs, &d);
	if (r && r->refs > 0)
		return;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || unlinkat(dirfd, name, 0) < 0)
		return;
	g->res->blobs_removed++;
	g->res->bytes_freed += (uint64_t)st.st_size;
}

struct mount_ctx {
	struct cache_prune_result *res;
	struct ocb_error *err;
	int rc;
};

static void remove_mount(int dirfd, const char *name, void *opaque)
{
	struct mount_ctx *m = opaque;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0) {
		m->res->bytes_freed += cache_tree_size(fd, NULL);
		close(fd);
	}
	if (m->rc == 0 && cache_remove_tree(dirfd, name, m->err) < 0)
		m->rc = -1;
}

int cache_prune(struct build_cache *c, const struct cache_prune_opts *opts, struct cache_prune_result *res,
		struct ocb_error *err)
{
	struct cache_prune_result r = {0};
	struct blob_ref *refs = NULL;
	struct scan s = {0};
	size_t n_refs = 0;
	uint64_t total = 0;

	if (scan_records(c, &s, err) < 0)
		return -1;
	if (collect_refs(&s, &refs, &n_refs, &total, err) < 0) {
		scan_release(&s);
		return -1;
	}
	choose_victims(&s, refs, n_refs, total, opts);
	/* Records go before blobs: a record never outlives its blob. */
	for (size_t i = 0; i < s.n; i++) {
		if (s.v[i].remove && unlinkat(c->keys_fd, s.v[i].rel, 0) == 0)
			r.records_removed++;
	}
	scan_release(&s);
	/* Not fsynced: should a removed record come back after a crash while
	 * its blob is gone, lookup treats it as a miss and removes it. */
	struct gc_ctx g = {c, refs, n_refs, &r};
	for_each_entry(c->bs.blobs_fd, gc_blob, &g);
	free(refs);
	if (opts->mounts) {
		struct mount_ctx m = {&r, err, 0};
		for_each_entry(c->mounts_fd, remove_mount, &m);
		if (m.rc < 0)
			return ocb_error_wrap(err, "cache '%s': cache mounts", c->path);
	}
	if (res)
		*res = r;
	return 0;
}
