/* Images inside a layout: resolve, store, copy, verify, collect garbage. */
#include "oci/layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/banned.h"

#define NEST_MAX 4

void oci_image_release(struct oci_image *img)
{
	if (!img)
		return;
	oci_descriptor_release(&img->desc);
	oci_manifest_release(&img->manifest);
	oci_config_release(&img->config);
}

/* ---- walking everything a descriptor reaches ---- */

/* Post-order: children are visited before the blob that names them. */
static int walk(const struct oci_layout *l, const struct oci_descriptor *d, int depth, oci_visit_fn visit,
		void *opaque, struct ocb_error *err)
{
	enum oci_media_kind kind = oci_media_kind(d->media_type);
	cleanup_free char *buf = NULL;
	size_t len;
	int ret = 0;

	if (depth > NEST_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "indexes nested deeper than %d", NEST_MAX);
	if (kind == OCI_KIND_MANIFEST || kind == OCI_KIND_INDEX) {
		if (oci_layout_read_blob(l, d, &buf, &len, err) < 0)
			return -1;
	}
	if (kind == OCI_KIND_MANIFEST) {
		struct oci_manifest m;
		if (oci_manifest_parse(buf, len, &m, err) < 0)
			return ocb_error_wrap(err, "'%s'", d->digest.str);
		ret = visit(&m.config, opaque, err);
		for (size_t i = 0; ret == 0 && i < m.n_layers; i++)
			ret = visit(&m.layers[i], opaque, err);
		oci_manifest_release(&m);
	} else if (kind == OCI_KIND_INDEX) {
		struct oci_index x;
		if (oci_index_parse(buf, len, &x, err) < 0)
			return ocb_error_wrap(err, "'%s'", d->digest.str);
		for (size_t i = 0; ret == 0 && i < x.n_manifests; i++)
			ret = walk(l, &x.manifests[i], depth + 1, visit, opaque, err);
		oci_index_release(&x);
	}
	return ret < 0 ? -1 : visit(d, opaque, err);
}

int oci_layout_walk(const struct oci_layout *l, const struct oci_descriptor *d, oci_visit_fn visit,
		    void *opaque, struct ocb_error *err)
{
	return walk(l, d, 0, visit, opaque, err);
}

/* ---- resolve ---- */

static int read_config(const struct oci_layout *l, const struct oci_descriptor *d,
		       struct oci_image_config *out, struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len;

	if (oci_layout_read_blob(l, d, &buf, &len, err) < 0 || oci_config_parse(buf, len, out, err) < 0)
		return ocb_error_wrap(err, "config '%s'", d->digest.str);
	return 0;
}

static int resolve_manifest(const struct oci_layout *l, const struct oci_descriptor *d,
			    const struct oci_platform *want, struct oci_image *out, struct ocb_error *err)
{
	struct oci_image img = {0};
	cleanup_free char *buf = NULL;
	size_t len;

	if (oci_layout_read_blob(l, d, &buf, &len, err) < 0 ||
	    oci_manifest_parse(buf, len, &img.manifest, err) < 0)
		return ocb_error_wrap(err, "manifest '%s'", d->digest.str);
	if (read_config(l, &img.manifest.config, &img.config, err) < 0 ||
	    oci_descriptor_copy(&img.desc, d, err) < 0)
		goto fail;
	if (want && !oci_platform_match(want, &img.config.platform)) {
		cleanup_free char *w = oci_platform_format(want);
		cleanup_free char *h = oci_platform_format(&img.config.platform);
		ocb_error_set(err, OCB_ENOTFOUND, 0, "image '%s' is for platform '%s', not '%s'",
			      d->digest.str, h ? h : "?", w ? w : "?");
		goto fail;
	}
	*out = img;
	return 0;
fail:
	oci_image_release(&img);
	return -1;
}

static int resolve_rec(const struct oci_layout *l, const struct oci_descriptor *d,
		       const struct oci_platform *want, int depth, struct oci_image *out,
		       struct ocb_error *err)
{
	enum oci_media_kind kind = oci_media_kind(d->media_type);
	cleanup_free char *buf = NULL;
	struct oci_index x;
	ssize_t i;
	size_t len;
	int ret;

	if (kind == OCI_KIND_MANIFEST)
		return resolve_manifest(l, d, want, out, err);
	if (kind != OCI_KIND_INDEX)
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s': media type '%s' is not an image",
				     d->digest.str, d->media_type);
	if (depth >= NEST_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "indexes nested deeper than %d", NEST_MAX);
	if (oci_layout_read_blob(l, d, &buf, &len, err) < 0 || oci_index_parse(buf, len, &x, err) < 0)
		return ocb_error_wrap(err, "index '%s'", d->digest.str);
	i = oci_index_find_platform(&x, want, err);
	ret = i < 0 ? -1 : resolve_rec(l, &x.manifests[i], want, depth + 1, out, err);
	oci_index_release(&x);
	return ret;
}

int oci_layout_resolve(const struct oci_layout *l, const struct oci_descriptor *d,
		       const struct oci_platform *want, struct oci_image *out, struct ocb_error *err)
{
	struct oci_platform host = {0};
	int ret;

	if (want || oci_media_kind(d->media_type) != OCI_KIND_INDEX)
		return resolve_rec(l, d, want, 0, out, err);
	if (oci_platform_host(&host, err) < 0)
		return -1;
	ret = resolve_rec(l, d, &host, 0, out, err);
	oci_platform_release(&host);
	return ret;
}

/* ---- store ---- */

static int put_json(struct oci_layout *l, const char *buf, size_t len, const char *media_type,
		    struct oci_descriptor *out, struct ocb_error *err)
{
	struct oci_digest d;

	if (oci_blobstore_put(&l->bs, buf, len, &d, err) < 0)
		return -1;
	return oci_descriptor_init(out, media_type, &d, (int64_t)len, err);
}

int oci_layout_put_manifest(struct oci_layout *l, const struct oci_descriptor *config,
			    const struct oci_descriptor *layers, size_t n_layers, const json_t *annotations,
			    const struct oci_platform *platform, struct oci_descriptor *out,
			    struct ocb_error *err)
{
	struct oci_manifest m = {0};
	struct oci_descriptor d = {0};
	cleanup_free char *buf = NULL;
	size_t len;

	/* Borrowed: the manifest is only serialised, never released. */
	m.config = *config;
	m.layers = (struct oci_descriptor *)layers;
	m.n_layers = n_layers;
	m.annotations = (json_t *)annotations;
	if (oci_manifest_serialize(&m, &buf, &len, err) < 0 ||
	    put_json(l, buf, len, OCI_MEDIA_TYPE_MANIFEST, &d, err) < 0)
		return -1;
	if (platform) {
		d.platform = calloc(1, sizeof(*d.platform));
		if (!d.platform) {
			oci_descriptor_release(&d);
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
		if (oci_platform_copy(d.platform, platform, err) < 0 ||
		    oci_platform_normalize(d.platform, err) < 0) {
			oci_descriptor_release(&d);
			return -1;
		}
	}
	*out = d;
	return 0;
}

int oci_layout_put_image(struct oci_layout *l, const struct oci_image_config *c,
			 const struct oci_descriptor *layers, size_t n_layers, const json_t *annotations,
			 struct oci_descriptor *out, struct ocb_error *err)
{
	struct oci_descriptor config = {0};
	cleanup_free char *buf = NULL;
	size_t len;
	int ret;

	if (n_layers != c->n_diff_ids)
		return ocb_error_set(err, OCB_EINVAL, 0, "image has %zu layers but its config %zu diff_ids",
				     n_layers, c->n_diff_ids);
	if (oci_config_serialize(c, &buf, &len, err) < 0 ||
	    put_json(l, buf, len, OCI_MEDIA_TYPE_CONFIG, &config, err) < 0)
		return -1;
	ret = oci_layout_put_manifest(l, &config, layers, n_layers, annotations, &c->platform, out, err);
	oci_descriptor_release(&config);
	return ret;
}

int oci_layout_put_index(struct oci_layout *l, const struct oci_descriptor *manifests, size_t n,
			 struct oci_descriptor *out, struct ocb_error *err)
{
	struct oci_index x = {0};
	cleanup_free char *buf = NULL;
	size_t len;

	x.manifests = (struct oci_descriptor *)manifests;
	x.n_manifests = n;
	if (oci_index_serialize(&x, &buf, &len, err) < 0)
		return -1;
	return put_json(l, buf, len, OCI_MEDIA_TYPE_INDEX, out, err);
}

/* ---- copy and verify ---- */

struct copy_ctx {
	struct oci_layout *dst;
	const struct oci_layout *src;
};

static int check_size(const struct oci_blobstore *bs, const struct oci_descriptor *d, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	uint64_t size;

	if (oci_blobstore_open_blob(bs, &d->digest, &fd, &size, err) < 0)
		return -1;
	if (size != (uint64_t)d->size)
		return ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s': size %llu, descriptor says %lld",
				     d->digest.str, (unsigned long long)size, (long long)d->size);
	return 0;
}

static int visit_copy(const struct oci_descriptor *d, void *opaque, struct ocb_error *err)
{
	struct copy_ctx *c = opaque;

	if (check_size(&c->src->bs, d, err) < 0 ||
	    oci_blobstore_copy(&c->dst->bs, &c->src->bs, &d->digest, err) < 0)
		return -1;
	return 0;
}

int oci_layout_copy(struct oci_layout *dst, const struct oci_layout *src, const struct oci_descriptor *d,
		    struct ocb_error *err)
{
	struct copy_ctx c = {dst, src};

	if (walk(src, d, 0, visit_copy, &c, err) < 0)
		return ocb_error_wrap(err, "copy from '%s' to '%s'", src->path, dst->path);
	return 0;
}

static int visit_verify(const struct oci_descriptor *d, void *opaque, struct ocb_error *err)
{
	const struct oci_layout *l = opaque;

	if (check_size(&l->bs, d, err) < 0 || oci_blobstore_verify(&l->bs, &d->digest, err) < 0)
		return -1;
	return 0;
}

int oci_layout_verify(const struct oci_layout *l, const struct oci_descriptor *d, struct ocb_error *err)
{
	return walk(l, d, 0, visit_verify, (void *)l, err);
}

/* ---- garbage collection ---- */

struct mark_set {
	struct oci_digest *v;
	size_t n, cap;
};

static int visit_mark(const struct oci_descriptor *d, void *opaque, struct ocb_error *err)
{
	struct mark_set *m = opaque;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct oci_digest *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = d->digest;
	return 0;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct oci_digest *)a)->str, ((const struct oci_digest *)b)->str);
}

static bool is_marked(const struct mark_set *m, const struct oci_digest *d)
{
	return m->n && bsearch(d, m->v, m->n, sizeof(*d), cmp_digest) != NULL;
}

static int sweep(const struct oci_layout *l, const struct mark_set *m, int64_t grace, uint64_t *removed,
		 uint64_t *freed, struct ocb_error *err)
{
	int fd = openat(l->bs.blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	time_t now = time(NULL);
	struct dirent *e;
	DIR *dir;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return ocb_error_sys(err, "cannot list blobs of '%s'", l->path);
	}
	while ((e = readdir(dir))) {
		struct oci_digest d;
		struct stat st;

		if (snprintf(d.str, sizeof(d.str), OCI_DIGEST_ALGO ":%s", e->d_name) >= (int)sizeof(d.str) ||
		    !oci_digest_is_valid(d.str) || is_marked(m, &d))
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (int64_t)(now - st.st_mtime) < grace)
			continue;
		if (unlinkat(dirfd(dir), e->d_name, 0) < 0) {
			ocb_error_sys(err, "cannot remove blob '%s'", d.str);
			closedir(dir);
			return -1;
		}
		(*removed)++;
		*freed += (uint64_t)st.st_size;
	}
	closedir(dir);
	return 0;
}

int oci_layout_gc(const struct oci_layout *l, int64_t grace_seconds, uint64_t *removed, uint64_t *freed_bytes,
		  struct ocb_error *err)
{
	struct mark_set m = {0};
	struct oci_index x = {0};
	uint64_t n_removed = 0, n_freed = 0;
	int lock = -1;
	int ret = -1;

	if (oci_layout_lock(l, &lock, err) < 0)
		return -1;
	if (oci_layout_read_index(l, &x, err) < 0)
		goto out;
	for (size_t i = 0; i < x.n_manifests; i++)
		if (walk(l, &x.manifests[i], 0, visit_mark, &m, err) < 0)
			goto out;
	if (m.n)
		qsort(m.v, m.n, sizeof(*m.v), cmp_digest);
	if (sweep(l, &m, grace_seconds, &n_removed, &n_freed, err) < 0)
		goto out;
	if (removed)
		*removed = n_removed;
	if (freed_bytes)
		*freed_bytes = n_freed;
	ret = 0;
out:
	if (ret < 0)
		ocb_error_wrap(err, "garbage collection in '%s'", l->path);
	free(m.v);
	oci_index_release(&x);
	oci_layout_unlock(lock);
	return ret;
}
