/* copy_plan_digest(): one sha256 over what the layer will hold, for the
 * step's cache key.  Each entry, in layer order, is a record
 *
 *   <len>:<dst> <type> <mode> <uid> <gid> <size> <payload>\n
 *
 * where the payload is "sha256:..." of a regular file's bytes, "=<len>:<dst>"
 * when the file is a hardlink to an earlier entry, "<len>:<target>" for a
 * symlink and "<major>,<minor>" for a device.  No mtimes: touching a file
 * must not miss the cache.  File contents are streamed; their digests can
 * be remembered by (dev, ino, size, mtime, ctime) in a copy_digest_cache
 * (setting an xattr changes the ctime).  A regular file's extended
 * attributes that the layer keeps (security.capability, user.*) are folded
 * into its digest; other entries' xattrs are not hashed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder/copy_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

struct cache_key {
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

struct cache_slot {
	struct cache_key key;
	bool used;
	struct oci_digest d;
};

struct copy_digest_cache {
	pthread_mutex_t lock; /* held for look-ups and inserts, not while hashing */
	struct cache_slot *slots;
	size_t cap, n;
};

int copy_digest_cache_new(struct copy_digest_cache **out, struct ocb_error *err)
{
	struct copy_digest_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void copy_digest_cache_free(struct copy_digest_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

static struct cache_key key_of(const struct stat *st)
{
	return (struct cache_key){
	    .dev = st->st_dev,
	    .ino = st->st_ino,
	    .size = (uint64_t)st->st_size,
	    .mtime_s = st->st_mtim.tv_sec,
	    .mtime_ns = st->st_mtim.tv_nsec,
	    .ctime_s = st->st_ctim.tv_sec,
	    .ctime_ns = st->st_ctim.tv_nsec,
	};
}

static size_t key_hash(const struct cache_key *k)
{
	uint64_t h = k->ino * 0x9e3779b97f4a7c15ull ^ k->dev * 0xc2b2ae3d27d4eb4full ^
		     (uint64_t)k->mtime_ns * 0x165667b19e3779f9ull;

	return (size_t)(h ^ (h >> 31));
}

static bool key_eq(const struct cache_key *a, const struct cache_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static struct cache_slot *cache_slot(struct cache_slot *slots, size_t cap, const struct cache_key *k)
{
	size_t i = key_hash(k) & (cap - 1);

	while (slots[i].used && !key_eq(&slots[i].key, k))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool cache_find(struct copy_digest_cache *c, const struct cache_key *k, struct oci_digest *out)
{
	struct cache_slot *s;
	bool hit = false;

	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	if (c->cap) {
		s = cache_slot(c->slots, c->cap, k);
		if ((hit = s->used))
			*out = s->d;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void cache_put_locked(struct copy_digest_cache *c, const struct cache_key *k,
			     const struct oci_digest *d)
{
	struct cache_slot *s;

	if ((c->n + 1) * 2 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct cache_slot *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return; /* only a cache */
		for (size_t i = 0; i < c->cap; i++)
			if (c->slots[i].used)
				*cache_slot(slots, cap, &c->slots[i].key) = c->slots[i];
		free(c->slots);
		c->slots = slots;
		c->cap = cap;
	}
	s = cache_slot(c->slots, c->cap, k);
	if (!s->used)
		c->n++;
	*s = (struct cache_slot){.key = *k, .used = true, .d = *d};
}

static void cache_put(struct copy_digest_cache *c, const struct cache_key *k, const struct oci_digest *d)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	cache_put_locked(c, k, d);
	pthread_mutex_unlock(&c->lock);
}

/* A length-prefixed string: no separator inside a name can fake a record. */
static void hash_str(struct oci_hasher *h, const char *s)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%zu:", strlen(s));

	oci_hasher_update(h, num, (size_t)n);
	oci_hasher_update(h, s, strlen(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of fd's xattrs: into buf (size bytes), or on ERANGE into a
 * malloc'd *big; 0 when it has none. */
static ssize_t list_xattrs(int fd, char *buf, size_t size, char **big, char **names)
{
	ssize_t len = flistxattr(fd, buf, size);

	*names = buf;
	if (len < 0 && errno == ERANGE) {
		len = flistxattr(fd, NULL, 0);
		if (len > 0 && !(*big = malloc((size_t)len))) {
			errno = ENOMEM;
			return -1;
		}
		if (len > 0)
			len = flistxattr(fd, *big, (size_t)len);
		*names = *big;
	}
	if (len < 0 && (errno == ENOTSUP || errno == ENODATA))
		return 0;
	return len;
}

/* The extended attributes the layer writer keeps, sorted by name, into h;
 * *any set when there was one.  Most files have none: one syscall. */
static int hash_xattrs(int fd, struct oci_hasher *h, bool *any, struct ocb_error *err)
{
	enum { VALUE_MAX = 65536 };
	char small[1024], *names;
	cleanup_free char *big = NULL;
	cleanup_free char *value = NULL;
	cleanup_free char **v = NULL;
	ssize_t len = list_xattrs(fd, small, sizeof(small), &big, &names);
	size_t n = 0;

	*any = false;
	if (len < 0)
		return ocb_error_sys(err, "cannot list extended attributes");
	if (len == 0)
		return 0;
	if (!(v = calloc((size_t)len, sizeof(*v))) || !(value = malloc(VALUE_MAX)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (char *p = names; p < names + len; p += strlen(p) + 1)
		if (*p && oci_layer_xattr_kept(p))
			v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		ssize_t vl = fgetxattr(fd, v[i], value, VALUE_MAX);
		char num[32];
		if (vl < 0 && errno == ENODATA)
			continue;
		if (vl < 0)
			return ocb_error_sys(err, "cannot read extended attribute '%s'", v[i]);
		hash_str(h, v[i]);
		oci_hasher_update(h, num, (size_t)snprintf(num, sizeof(num), "%zd:", vl));
		oci_hasher_update(h, value, (size_t)vl);
		*any = true;
	}
	return 0;
}

/* The content digest, folded with the kept xattrs when the file has any
 * (a file without them keeps its plain content digest). */
static int content_and_xattrs(int fd, const char *src, struct oci_digest *out, uint64_t *size,
			      struct ocb_error *err)
{
	struct oci_digest content;
	struct oci_hasher h;
	bool any = false;
	int rc;

	if (oci_digest_fd(fd, &content, size, err) < 0)
		return ocb_error_wrap(err, "'%s'", src);
	if (oci_hasher_init(&h, err) < 0)
		return -1;
	oci_hasher_update(&h, content.str, strlen(content.str));
	oci_hasher_update(&h, " xattrs ", 8);
	rc = hash_xattrs(fd, &h, &any, err);
	if (rc == 0)
		oci_hasher_final(&h, out);
	oci_hasher_release(&h);
	if (rc < 0)
		return ocb_error_wrap(err, "'%s'", src);
	if (!any)
		*out = content;
	return 0;
}

static int file_digest(const struct copy_plan *p, const struct copy_entry *e, struct copy_digest_cache *cache,
		       struct oci_digest *out, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	struct cache_key k;
	struct stat st;
	uint64_t size;

	/* O_NONBLOCK: a file swapped for a fifo since planning must not hang us. */
	fd = copy_open_beneath(p->root_fd, e->src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		return ocb_error_sys(err, "cannot stat '%s'", e->src);
	if (!S_ISREG(st.st_mode) || st.st_ino != e->st.st_ino || st.st_dev != e->st.st_dev ||
	    (uint64_t)st.st_size != e->st.st_size)
		return ocb_error_set(err, OCB_EFAIL, 0, "'%s' changed while the build read it", e->src);
	k = key_of(&st);
	if (cache_find(cache, &k, out))
		return 0;
	if (content_and_xattrs(fd, e->src, out, &size, err) < 0)
		return -1;
	if (size != (uint64_t)st.st_size)
		return ocb_error_set(err, OCB_EFAIL, 0, "'%s' changed while the build read it", e->src);
	cache_put(cache, &k, out);
	return 0;
}

/* (dev, ino) of multiply-linked files -> the first entry of that inode:
 * the layer writer turns the later ones into hardlinks. */
struct link_ref {
	uint64_t dev, ino;
	size_t index;
};

static int link_cmp(const void *x, const void *y)
{
	const struct link_ref *a = x, *b = y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* first[i]: the index of the entry i is a hardlink to, or i. */
static int hardlink_targets(const struct copy_plan *p, size_t *first, struct ocb_error *err)
{
	struct link_ref *v = calloc(p->n ? p->n : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n; i++) {
		const struct copy_stat *st = &p->v[i].st;
		first[i] = i;
		if (p->v[i].src && !S_ISDIR(st->st_mode) && st->st_nlink > 1)
			v[n++] = (struct link_ref){st->st_dev, st->st_ino, i};
	}
	qsort(v, n, sizeof(*v), link_cmp);
	for (size_t i = 1; i < n; i++)
		if (v[i].dev == v[i - 1].dev && v[i].ino == v[i - 1].ino)
			first[v[i].index] = first[v[i - 1].index];
	free(v);
	return 0;
}

static char type_char(mode_t m)
{
	return S_ISREG(m)    ? 'f'
	       : S_ISDIR(m)  ? 'd'
	       : S_ISLNK(m)  ? 'l'
	       : S_ISFIFO(m) ? 'p'
	       : S_ISCHR(m)  ? 'c'
			     : 'b';
}

static int hash_entry(const struct copy_plan *p, size_t i, const size_t *first,
		      struct copy_digest_cache *cache, struct oci_hasher *h, struct ocb_error *err)
{
	const struct copy_entry *e = &p->v[i];
	const struct oci_layer_override *ov = e->src ? &p->ov : NULL;
	mode_t m = e->st.st_mode;
	char line[160], target[PATH_MAX + 1];
	uint64_t uid = e->st.st_uid, gid = e->st.st_gid; /* parents: the existing dir's, or 0:0 */
	uint32_t mode = m & 07777;
	struct oci_digest d;
	int n;

	if (ov && ov->mode_set && !S_ISLNK(m))
		mode = ov->mode & 07777;
	if (ov && ov->owner_set) {
		uid = ov->uid;
		gid = ov->gid;
	}
	hash_str(h, e->dst);
	n = snprintf(line, sizeof(line), " %c %o %" PRIu64 " %" PRIu64 " %" PRIu64 " ", type_char(m), mode,
		     uid, gid, S_ISREG(m) ? e->st.st_size : 0);
	oci_hasher_update(h, line, (size_t)n);
	if (first[i] != i) {
		oci_hasher_update(h, "=", 1);
		hash_str(h, p->v[first[i]].dst);
	} else if (S_ISREG(m)) {
		if (file_digest(p, e, cache, &d, err) < 0)
			return -1;
		oci_hasher_update(h, d.str, strlen(d.str));
	} else if (S_ISLNK(m)) {
		cleanup_close int fd = copy_open_beneath(p->root_fd, e->src, O_PATH | O_NOFOLLOW, err);
		ssize_t len = fd < 0 ? -1 : readlinkat(fd, "", target, sizeof(target) - 1);
		if (fd < 0)
			return -1;
		if (len < 0)
			return ocb_error_sys(err, "cannot read symlink '%s'", e->src);
		target[len] = '\0';
		hash_str(h, target);
	} else if (S_ISCHR(m) || S_ISBLK(m)) {
		n = snprintf(line, sizeof(line), "%u,%u", major(e->st.st_rdev), minor(e->st.st_rdev));
		oci_hasher_update(h, line, (size_t)n);
	}
	oci_hasher_update(h, "\n", 1);
	return 0;
}

int copy_plan_digest(const struct copy_plan *plan, struct copy_digest_cache *cache, struct oci_digest *out,
		     struct ocb_error *err)
{
	cleanup_free size_t *first = calloc(plan->n ? plan->n : 1, sizeof(*first));
	struct oci_hasher h;
	int rc = 0;

	if (!first)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (hardlink_targets(plan, first, err) < 0 || oci_hasher_init(&h, err) < 0)
		return -1;
	oci_hasher_update(&h, "ocb-copy-v1\n", 12);
	for (size_t i = 0; rc == 0 && i < plan->n; i++)
		rc = hash_entry(plan, i, first, cache, &h, err);
	if (rc == 0)
		oci_hasher_final(&h, out);
	oci_hasher_release(&h);
	return rc;
}
