/* Pull: manifests and indexes (OCI and Docker v2 schema 2) by tag or digest,
 * an index resolved to one platform or taken whole, and blobs streamed into
 * the local blob store, verified (digest and size) as they arrive.  Nothing
 * the registry says is trusted: a manifest is hashed before it is used, a
 * blob longer than its descriptor is cut off, a wrong digest is refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/registry_impl.h"
#include "oci/banned.h"

#define PULL_NEST_MAX 2

static const char manifest_accept[] = OCI_MEDIA_TYPE_MANIFEST
    ", " OCI_MEDIA_TYPE_INDEX ", " DOCKER_MEDIA_TYPE_MANIFEST ", " DOCKER_MEDIA_TYPE_MANIFEST_LIST;

/* The document's mediaType, else the Content-Type without parameters. */
static char *manifest_media_type(const char *buf, size_t len, const char *content_type)
{
	cleanup_json json_t *doc = json_loadb(buf, len, 0, NULL);
	json_t *mt = json_object_get(doc, "mediaType");

	if (json_is_string(mt))
		return strdup(json_string_value(mt));
	if (content_type)
		return strndup(content_type, strcspn(content_type, "; "));
	return NULL;
}

static int get_manifest(struct oci_registry *r, void *curl, const char *repo, const char *reference,
			char **buf, size_t *len, struct oci_descriptor *desc, struct ocb_error *err)
{
	cleanup_free char *url = NULL;
	cleanup_free char *scope = NULL;
	cleanup_free char *media_type = NULL;
	struct oci_digest got, want;
	struct reg_resp resp;
	struct reg_req q;
	enum oci_media_kind kind;
	int ret = -1;

	if (reg_ensure_base(r, err) < 0)
		return -1;
	if (!(url = reg_url(r, repo, "manifests/%s", reference)) ||
	    asprintf(&scope, "repository:%s:pull", repo) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	reg_req_init(&q, "GET", url);
	q.scope = scope;
	q.accept = manifest_accept;
	q.max_body = OCI_REGISTRY_MANIFEST_MAX;
	if (reg_do(r, curl, &q, &resp, err) < 0)
		return ocb_error_wrap(err, "manifest '%s:%s'", repo, reference);
	if (resp.status != 200) {
		reg_status_error(r, &resp, err, "manifest '%s:%s'", repo, reference);
		goto out;
	}
	if (!resp.body) {
		ocb_error_set(err, OCB_EINVAL, 0, "registry '%s': empty manifest '%s:%s'", r->host, repo,
			      reference);
		goto out;
	}
	if (oci_digest_buffer(resp.body, resp.body_len, &got, err) < 0)
		goto out;
	if ((oci_digest_is_valid(reference) && strcmp(reference, got.str)) ||
	    (resp.docker_digest && oci_digest_is_valid(resp.docker_digest) &&
	     strcmp(resp.docker_digest, got.str))) {
		ocb_error_set(err, OCB_EDIGEST, 0,
			      "registry '%s': manifest '%s:%s' has digest '%s', expected '%s'", r->host, repo,
			      reference, got.str,
			      oci_digest_is_valid(reference) ? reference : resp.docker_digest);
		goto out;
	}
	media_type = manifest_media_type(resp.body, resp.body_len, resp.content_type);
	kind = media_type ? oci_media_kind(media_type) : OCI_KIND_OTHER;
	if (kind != OCI_KIND_MANIFEST && kind != OCI_KIND_INDEX) {
		ocb_error_set(err, OCB_EINVAL, 0,
			      "registry '%s': manifest '%s:%s': unsupported media type '%s'", r->host, repo,
			      reference, media_type ? media_type : "(none)");
		goto out;
	}
	want = got;
	if (oci_descriptor_init(desc, media_type, &want, (int64_t)resp.body_len, err) < 0)
		goto out;
	*buf = steal_pointer(&resp.body);
	*len = resp.body_len;
	ret = 0;
out:
	reg_resp_release(&resp);
	return ret;
}

int oci_registry_get_manifest(struct oci_registry *r, const char *repo, const char *reference, char **buf,
			      size_t *len, struct oci_descriptor *desc, struct ocb_error *err)
{
	return get_manifest(r, r->curl, repo, reference, buf, len, desc, err);
}

/* ---- blobs ---- */

struct blob_sink {
	struct oci_blobstore *bs;
	struct oci_blob_writer *w;
	const struct oci_descriptor *d;
	uint64_t got;
	struct ocb_error err;
	bool failed;
};

static int blob_write(void *opaque, const void *data, size_t len)
{
	struct blob_sink *s = opaque;

	if (s->d->size >= 0 && s->got + len > (uint64_t)s->d->size) {
		ocb_error_set(&s->err, OCB_EDIGEST, 0, "blob '%s' is longer than its size %lld",
			      s->d->digest.str, (long long)s->d->size);
		s->failed = true;
		return -1;
	}
	if (oci_blob_writer_write(s->w, data, len, &s->err) < 0) {
		s->failed = true;
		return -1;
	}
	s->got += len;
	return 0;
}

static int blob_rewind(void *opaque, struct ocb_error *err)
{
	struct blob_sink *s = opaque;

	oci_blob_writer_abort(s->w);
	s->w = NULL;
	s->got = 0;
	return oci_blob_writer_open(s->bs, &s->w, err);
}

static int fetch_blob(struct oci_registry *r, void *curl, const char *repo, const struct oci_descriptor *d,
		      struct oci_blobstore *bs, struct ocb_error *err)
{
	struct blob_sink s = {.bs = bs, .d = d, .err = OCB_ERROR_INIT};
	cleanup_free char *url = NULL;
	cleanup_free char *scope = NULL;
	struct reg_resp resp;
	struct reg_req q;
	int ret = -1;

	if (!(url = reg_url(r, repo, "blobs/%s", d->digest.str)) ||
	    asprintf(&scope, "repository:%s:pull", repo) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_blob_writer_open(bs, &s.w, err) < 0)
		return -1;
	reg_req_init(&q, "GET", url);
	q.scope = scope;
	q.sink = blob_write;
	q.sink_opaque = &s;
	q.rewind = blob_rewind;
	q.resume_from = &s.got;
	if (reg_do(r, curl, &q, &resp, err) < 0) {
		if (s.failed && err)
			*err = s.err;
		ocb_error_wrap(err, "registry '%s': repository '%s'", r->host, repo);
		goto out;
	}
	if (resp.status != 200 && resp.status != 206) { /* 206: a resumed download, checked by reg_do */
		reg_status_error(r, &resp, err, "blob '%s' of '%s'", d->digest.str, repo);
		goto out;
	}
	ret = oci_blob_writer_commit(s.w, &d->digest, d->size, NULL, NULL, err);
	s.w = NULL;
	if (ret < 0)
		ocb_error_wrap(err, "registry '%s': repository '%s'", r->host, repo);
out:
	oci_blob_writer_abort(s.w);
	reg_resp_release(&resp);
	return ret;
}

int oci_registry_fetch_blob(struct oci_registry *r, const char *repo, const struct oci_descriptor *d,
			    struct oci_blobstore *bs, struct ocb_error *err)
{
	if (reg_ensure_base(r, err) < 0)
		return -1;
	return fetch_blob(r, r->curl, repo, d, bs, err);
}

/* ---- images ---- */

struct blob_jobs {
	const char *repo;
	struct oci_blobstore *bs;
	const struct oci_descriptor **v;
};

static int blob_job(struct oci_registry *r, void *curl, size_t i, void *opaque, struct ocb_error *err)
{
	struct blob_jobs *j = opaque;

	if (fetch_blob(r, curl, j->repo, j->v[i], j->bs, err) < 0)
		return -1;
	reg_progress(r, OCI_REGISTRY_BLOB_PULLED, j->v[i]);
	return 0;
}

/* The config and layers of a manifest, those not in the store, in parallel. */
static int pull_blobs(struct oci_registry *r, const char *repo, const char *buf, size_t len,
		      struct oci_layout *dst, struct ocb_error *err)
{
	struct oci_manifest m;
	struct blob_jobs j = {.repo = repo, .bs = &dst->bs};
	size_t n = 0;
	int ret = -1;

	if (oci_manifest_parse(buf, len, &m, err) < 0)
		return -1;
	if (!(j.v = calloc(m.n_layers + 1, sizeof(*j.v)))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i <= m.n_layers; i++) {
		const struct oci_descriptor *d = i == 0 ? &m.config : &m.layers[i - 1];
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= oci_digest_equal(&j.v[k]->digest, &d->digest);
		if (dup)
			continue;
		if (oci_blobstore_has(&dst->bs, &d->digest))
			reg_progress(r, OCI_REGISTRY_BLOB_CACHED, d);
		else
			j.v[n++] = d;
	}
	ret = reg_parallel(r, n, blob_job, &j, err);
out:
	free(j.v);
	oci_manifest_release(&m);
	return ret;
}

static int store_manifest(struct oci_registry *r, struct oci_layout *dst, const char *buf, size_t len,
			  const struct oci_descriptor *d, struct ocb_error *err)
{
	struct oci_digest got;

	if (oci_blobstore_put(&dst->bs, buf, len, &got, err) < 0)
		return -1;
	if (!oci_digest_equal(&got, &d->digest))
		return ocb_error_set(err, OCB_EDIGEST, 0, "manifest stored as '%s', expected '%s'", got.str,
				     d->digest.str);
	reg_progress(r, OCI_REGISTRY_MANIFEST, d);
	return 0;
}

/* Pull d (fetched as buf) and everything it reaches. */
static int pull_tree(struct oci_registry *r, const char *repo, const char *buf, size_t len,
		     const struct oci_descriptor *d, struct oci_layout *dst, int depth, struct ocb_error *err)
{
	struct oci_index x;
	int ret = 0;

	if (oci_media_kind(d->media_type) == OCI_KIND_MANIFEST) {
		if (pull_blobs(r, repo, buf, len, dst, err) < 0)
			return ocb_error_wrap(err, "manifest '%s'", d->digest.str);
		return store_manifest(r, dst, buf, len, d, err);
	}
	if (depth >= PULL_NEST_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "indexes nested deeper than %d", PULL_NEST_MAX);
	if (oci_index_parse(buf, len, &x, err) < 0)
		return ocb_error_wrap(err, "index '%s'", d->digest.str);
	for (size_t i = 0; ret == 0 && i < x.n_manifests; i++) {
		const struct oci_descriptor *c = &x.manifests[i];
		struct oci_descriptor got = {0};
		cleanup_free char *cbuf = NULL;
		size_t clen = 0;
		ret = get_manifest(r, r->curl, repo, c->digest.str, &cbuf, &clen, &got, err);
		if (ret == 0 && (int64_t)clen != c->size)
			ret = ocb_error_set(err, OCB_EDIGEST, 0, "manifest '%s' has size %zu, expected %lld",
					    c->digest.str, clen, (long long)c->size);
		if (ret == 0)
			ret = pull_tree(r, repo, cbuf, clen, &got, dst, depth + 1, err);
		oci_descriptor_release(&got);
	}
	oci_index_release(&x);
	return ret < 0 ? -1 : store_manifest(r, dst, buf, len, d, err);
}

/* The index entry for want, fetched: *buf and *out get its manifest. */
static int resolve_platform(struct oci_registry *r, const char *repo, const char *ibuf, size_t ilen,
			    const struct oci_platform *want, char **buf, size_t *len,
			    struct oci_descriptor *out, struct ocb_error *err)
{
	struct oci_index x;
	struct oci_descriptor got = {0};
	ssize_t i;
	int ret = -1;

	if (oci_index_parse(ibuf, ilen, &x, err) < 0)
		return -1;
	if ((i = oci_index_find_platform(&x, want, err)) < 0)
		goto out;
	if (oci_media_kind(x.manifests[i].media_type) != OCI_KIND_MANIFEST) {
		ocb_error_set(err, OCB_EINVAL, 0, "nested index for the platform is not supported");
		goto out;
	}
	if (get_manifest(r, r->curl, repo, x.manifests[i].digest.str, buf, len, &got, err) < 0)
		goto out;
	/* Keep the index entry's platform on the descriptor we hand back. */
	oci_descriptor_release(&got);
	ret = oci_descriptor_copy(out, &x.manifests[i], err);
	if (ret < 0) {
		free(*buf);
		*buf = NULL;
	}
out:
	oci_index_release(&x);
	return ret;
}

int oci_registry_pull(struct oci_registry *r, const struct oci_ref *ref, struct oci_layout *dst,
		      const struct oci_platform *want, struct oci_descriptor *top, struct ocb_error *err)
{
	const char *reference = ref->has_digest ? ref->digest.str : ref->tag;
	struct oci_descriptor d = {0};
	cleanup_free char *buf = NULL;
	size_t len = 0;

	if (!reference)
		return ocb_error_set(err, OCB_EINVAL, 0, "reference without a tag or digest");
	if (get_manifest(r, r->curl, ref->repository, reference, &buf, &len, &d, err) < 0)
		return -1;
	if (want && oci_media_kind(d.media_type) == OCI_KIND_INDEX) {
		struct oci_descriptor m = {0};
		cleanup_free char *mbuf = NULL;
		size_t mlen = 0;
		if (resolve_platform(r, ref->repository, buf, len, want, &mbuf, &mlen, &m, err) < 0) {
			oci_descriptor_release(&d);
			return ocb_error_wrap(err, "registry '%s': '%s:%s'", r->host, ref->repository,
					      reference);
		}
		oci_descriptor_release(&d);
		d = m;
		free(buf);
		buf = steal_pointer(&mbuf);
		len = mlen;
	}
	if (pull_tree(r, ref->repository, buf, len, &d, dst, 0, err) < 0) {
		oci_descriptor_release(&d);
		return -1;
	}
	*top = d;
	return 0;
}
