/* Push: every blob an image reaches (in parallel; a HEAD first, a
 * cross-repository mount when another repository of the registry has it,
 * else a monolithic POST + PUT or, for big blobs, chunked PATCHes that resume
 * from the registry's Range after a dropped connection), then the manifests,
 * then the index.  Every Location is resolved against the URL that sent it
 * and the latest one is always used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/registry_impl.h"
#include "oci/banned.h"

struct push {
	const struct oci_layout *src;
	const char *repo;
	const char *scope;
	const struct oci_registry_source *sources;
	size_t n_sources;
	struct oci_descriptor *blobs; /* configs and layers */
	size_t n_blobs;
	struct oci_descriptor *manifests; /* children before parents, top last */
	size_t n_manifests;
};

static bool has_digest(const struct oci_descriptor *v, size_t n, const struct oci_digest *d)
{
	for (size_t i = 0; i < n; i++)
		if (oci_digest_equal(&v[i].digest, d))
			return true;
	return false;
}

static int collect(const struct oci_descriptor *d, void *opaque, struct ocb_error *err)
{
	struct push *p = opaque;
	enum oci_media_kind kind = oci_media_kind(d->media_type);

	if (kind == OCI_KIND_MANIFEST || kind == OCI_KIND_INDEX) {
		if (has_digest(p->manifests, p->n_manifests, &d->digest))
			return 0;
		return oci_descriptor_array_push(&p->manifests, &p->n_manifests, d, err);
	}
	if (has_digest(p->blobs, p->n_blobs, &d->digest))
		return 0;
	return oci_descriptor_array_push(&p->blobs, &p->n_blobs, d, err);
}

/* A new Location from resp (resolved against the URL that answered). */
static int take_location(struct oci_registry *r, const struct reg_resp *resp, char **location,
			 struct ocb_error *err)
{
	char *next = NULL;

	if (!resp->location)
		return ocb_error_set(err, OCB_EINVAL, 0, "registry '%s': upload response without a Location",
				     r->host);
	if (oci_registry_resolve_location(resp->url, resp->location, &next, err) < 0)
		return ocb_error_wrap(err, "registry '%s'", r->host);
	free(*location);
	*location = next;
	return 0;
}

static int simple_request(struct oci_registry *r, void *curl, const char *method, const char *url,
			  const char *scope, struct reg_resp *resp, struct ocb_error *err)
{
	struct reg_req q;

	reg_req_init(&q, method, url);
	q.scope = scope;
	return reg_do(r, curl, &q, resp, err);
}

/* 1 when the repository has the blob, 0 when not. */
static int blob_exists(struct oci_registry *r, void *curl, const struct push *p,
		       const struct oci_descriptor *d, struct ocb_error *err)
{
	cleanup_free char *url = reg_url(r, p->repo, "blobs/%s", d->digest.str);
	struct reg_resp resp;
	int ret;

	if (!url)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (simple_request(r, curl, "HEAD", url, p->scope, &resp, err) < 0)
		return -1;
	if (resp.status == 200)
		ret = 1;
	else if (resp.status == 404)
		ret = 0;
	else
		ret = reg_status_error(r, &resp, err, "HEAD blob '%s' of '%s'", d->digest.str, p->repo);
	reg_resp_release(&resp);
	return ret;
}

/* The first source other than the destination that holds d, or NULL. */
static const char *mount_source(const struct push *p, const struct oci_digest *d)
{
	for (size_t i = 0; i < p->n_sources; i++) {
		if (!strcmp(p->sources[i].repo, p->repo))
			continue;
		for (size_t k = 0; k < p->sources[i].n_digests; k++)
			if (oci_digest_equal(&p->sources[i].digests[k], d))
				return p->sources[i].repo;
	}
	return NULL;
}

/* Try a mount, else start an upload: 1 when mounted, 0 with *location set
 * to the upload session (a refused mount opens one too: 202). */
static int start_upload(struct oci_registry *r, void *curl, const struct push *p,
			const struct oci_descriptor *d, char **location, struct ocb_error *err)
{
	const char *from = mount_source(p, &d->digest);
	cleanup_free char *url =
	    from ? reg_url(r, p->repo, "blobs/uploads/?mount=%s&from=%s", d->digest.str, from)
		 : reg_url(r, p->repo, "blobs/uploads/");
	struct reg_resp resp;
	int ret = -1;

	if (!url)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (simple_request(r, curl, "POST", url, p->scope, &resp, err) < 0)
		return -1;
	if (resp.status == 201 && from)
		ret = 1;
	else if (resp.status == 202)
		ret = take_location(r, &resp, location, err);
	else
		reg_status_error(r, &resp, err, "start upload of blob '%s' to '%s'", d->digest.str, p->repo);
	reg_resp_release(&resp);
	return ret;
}

/* location + "?digest=" or "&digest=". */
static char *with_digest(const char *location, const struct oci_digest *d)
{
	char *s = NULL;

	if (asprintf(&s, "%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', d->str) < 0)
		return NULL;
	return s;
}

/* Send bytes [off, off+len) of fd with method to *location; the answer's
 * Location replaces *location.  max_attempts 1: the caller resumes. */
static int send_part(struct oci_registry *r, void *curl, const struct push *p, const char *method,
		     const char *url, int fd, uint64_t off, uint64_t len, const char *content_range,
		     struct reg_resp *resp, struct ocb_error *err)
{
	struct reg_req q;

	reg_req_init(&q, method, url);
	q.scope = p->scope;
	q.content_type = "application/octet-stream";
	q.content_range = content_range;
	q.body_fd = fd;
	q.body_off = off;
	q.body_size = len;
	q.max_attempts = 1;
	return reg_do(r, curl, &q, resp, err);
}

/* Where a broken chunked upload stands: GET the session, read its Range. */
static int upload_offset(struct oci_registry *r, void *curl, const struct push *p, char **location,
			 uint64_t *next, struct ocb_error *err)
{
	struct reg_resp resp;
	int ret = -1;

	if (simple_request(r, curl, "GET", *location, p->scope, &resp, err) < 0)
		return -1;
	if (resp.status != 204 && resp.status != 200)
		reg_status_error(r, &resp, err, "upload status");
	else if (resp.location && take_location(r, &resp, location, err) < 0)
		;
	else if (!resp.range || !strcmp(resp.range, "0-0") || !strcmp(resp.range, "bytes=0-0"))
		*next = 0, ret = 0; /* "0-0" is what distribution says for an empty upload (and for 1 byte:
				       then the next PATCH gets a 416 and the upload starts over) */
	else if (oci_registry_parse_range(resp.range, next, err) == 0)
		ret = 0;
	reg_resp_release(&resp);
	return ret;
}

static void backoff(int attempt)
{
	long ms = 0;
	struct timespec ts;

	if (!oci_registry_retry_policy(attempt, 503, 0, NULL, &ms))
		ms = 1000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* PATCH chunks from *location, resuming after failures; 0 when all sent.
 * *restart says a new upload session may succeed (416, repeated failures). */
static int upload_chunks(struct oci_registry *r, void *curl, const struct push *p, int fd, uint64_t size,
			 char **location, bool *restart, struct ocb_error *err)
{
	uint64_t off = 0;
	int failures = 0;

	while (off < size) {
		uint64_t len = size - off < r->chunk_size ? size - off : r->chunk_size;
		char range[64];
		struct reg_resp resp;
		int rc;

		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + len - 1));
		rc = send_part(r, curl, p, "PATCH", *location, fd, off, len, range, &resp, err);
		if (rc == 0 && resp.status == 202) {
			uint64_t next = off + len;
			rc = take_location(r, &resp, location, err);
			if (rc == 0 && resp.range)
				rc = oci_registry_parse_range(resp.range, &next, err);
			reg_resp_release(&resp);
			if (rc < 0)
				return -1;
			off = next;
			continue;
		}
		if (rc == 0) {
			long st = resp.status;
			if (st < 500) {
				*restart = st == 416; /* the registry holds other bytes than we think */
				reg_status_error(r, &resp, err, "PATCH upload to '%s'", p->repo);
				reg_resp_release(&resp);
				return -1;
			}
			reg_resp_release(&resp);
		}
		if (++failures >= REG_MAX_ATTEMPTS && (*restart = true))
			return rc < 0 ? -1
				      : ocb_error_set(err, OCB_EFAIL, 0,
						      "registry '%s': chunked upload failed", r->host);
		backoff(failures);
		if (upload_offset(r, curl, p, location, &off, err) < 0)
			return -1;
		if (off > size)
			return ocb_error_set(err, OCB_EINVAL, 0,
					     "registry '%s': upload offset %llu beyond size", r->host,
					     (unsigned long long)off);
	}
	return 0;
}

/* One whole upload session: 1 mounted, 0 uploaded, -1 failed (*transient
 * says whether starting again may help). */
static int upload_once(struct oci_registry *r, void *curl, const struct push *p,
		       const struct oci_descriptor *d, int fd, uint64_t size, bool *transient,
		       struct ocb_error *err)
{
	cleanup_free char *location = NULL;
	cleanup_free char *url = NULL;
	struct reg_resp resp;
	bool chunked = size >= r->chunk_threshold;
	int rc;

	*transient = false;
	if ((rc = start_upload(r, curl, p, d, &location, err)) != 0)
		return rc;
	if (chunked && upload_chunks(r, curl, p, fd, size, &location, transient, err) < 0)
		return -1;
	if (!(url = with_digest(location, &d->digest)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (send_part(r, curl, p, "PUT", url, fd, 0, chunked ? 0 : size, NULL, &resp, err) < 0) {
		*transient = err && err->code == OCB_EENV;
		return -1;
	}
	rc = 0;
	if (resp.status != 201) {
		/* a chunked upload the registry assembled wrong (DIGEST_INVALID after
		 * resumes) gets a fresh session too */
		*transient = resp.status >= 500 || resp.status == 429 || (chunked && resp.status == 400);
		rc = reg_status_error(r, &resp, err, "PUT blob '%s' to '%s'", d->digest.str, p->repo);
	} else if (resp.docker_digest && strcmp(resp.docker_digest, d->digest.str)) {
		rc = ocb_error_set(err, OCB_EDIGEST, 0, "registry '%s' stored blob '%s' as '%s'", r->host,
				   d->digest.str, resp.docker_digest);
	}
	reg_resp_release(&resp);
	return rc;
}

static int push_blob(struct oci_registry *r, void *curl, const struct push *p, const struct oci_descriptor *d,
		     struct ocb_error *err)
{
	cleanup_close int fd = -1;
	uint64_t size = 0;
	int rc;

	if ((rc = blob_exists(r, curl, p, d, err)) != 0) {
		if (rc > 0)
			reg_progress(r, OCI_REGISTRY_BLOB_EXISTS, d);
		return rc < 0 ? -1 : 0;
	}
	if (oci_blobstore_open_blob(&p->src->bs, &d->digest, &fd, &size, err) < 0)
		return -1;
	if (d->size >= 0 && (uint64_t)d->size != size)
		return ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s' has size %llu, expected %lld",
				     d->digest.str, (unsigned long long)size, (long long)d->size);
	for (int attempt = 1;; attempt++) {
		bool transient = false;
		rc = upload_once(r, curl, p, d, fd, size, &transient, err);
		if (rc >= 0)
			break;
		if (!transient || attempt >= REG_MAX_ATTEMPTS)
			return -1;
		backoff(attempt);
	}
	reg_progress(r, rc == 1 ? OCI_REGISTRY_BLOB_MOUNTED : OCI_REGISTRY_BLOB_PUSHED, d);
	return 0;
}

static int blob_job(struct oci_registry *r, void *curl, size_t i, void *opaque, struct ocb_error *err)
{
	struct push *p = opaque;

	if (push_blob(r, curl, p, &p->blobs[i], err) < 0)
		return ocb_error_wrap(err, "push blob '%s'", p->blobs[i].digest.str);
	return 0;
}

static int put_manifest(struct oci_registry *r, const struct push *p, const struct oci_descriptor *d,
			const char *reference, struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	cleanup_free char *url = NULL;
	struct reg_resp resp;
	struct reg_req q;
	size_t len = 0;
	int ret = -1;

	if (oci_layout_read_blob(p->src, d, &buf, &len, err) < 0)
		return -1;
	if (!(url = reg_url(r, p->repo, "manifests/%s", reference)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	reg_req_init(&q, "PUT", url);
	q.scope = p->scope;
	q.content_type = d->media_type;
	q.body = buf;
	q.body_len = len;
	if (reg_do(r, r->curl, &q, &resp, err) < 0)
		return ocb_error_wrap(err, "push manifest '%s'", d->digest.str);
	if (resp.status != 201)
		reg_status_error(r, &resp, err, "PUT manifest '%s' as '%s:%s'", d->digest.str, p->repo,
				 reference);
	else if (resp.docker_digest && strcmp(resp.docker_digest, d->digest.str))
		ocb_error_set(err, OCB_EDIGEST, 0, "registry '%s' stored manifest '%s' as '%s'", r->host,
			      d->digest.str, resp.docker_digest);
	else
		ret = 0;
	if (ret == 0)
		reg_progress(r, OCI_REGISTRY_MANIFEST, d);
	reg_resp_release(&resp);
	return ret;
}

void oci_registry_sources_free(struct oci_registry_source *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].repo);
		free(v[i].digests);
	}
	free(v);
}

/* "repository:DEST:pull,push" and "repository:SRC:pull" for each source. */
static char *push_scope(const char *repo, const struct oci_registry_source *sources, size_t n)
{
	char *s = NULL, *next = NULL;

	if (asprintf(&s, "repository:%s:pull,push", repo) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(sources[i].repo, repo))
			continue;
		if (asprintf(&next, "%s repository:%s:pull", s, sources[i].repo) < 0)
			next = NULL;
		free(s);
		if (!(s = next))
			return NULL;
	}
	return s;
}

int oci_registry_push(struct oci_registry *r, const struct oci_layout *src, const struct oci_descriptor *top,
		      const struct oci_ref *dest, const struct oci_registry_source *sources, size_t n_sources,
		      struct ocb_error *err)
{
	struct push p = {.src = src,
			 .repo = dest->repository,
			 .sources = sources,
			 .n_sources = !sources				     ? 0
				      : n_sources < OCI_REGISTRY_SOURCES_MAX ? n_sources
									     : OCI_REGISTRY_SOURCES_MAX};
	cleanup_free char *scope = push_scope(dest->repository, sources, p.n_sources);
	int ret = -1;

	if (!scope)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	p.scope = scope;
	if (reg_ensure_base(r, err) < 0)
		return -1;
	if (oci_layout_walk(src, top, collect, &p, err) < 0)
		goto out;
	if (reg_parallel(r, p.n_blobs, blob_job, &p, err) < 0)
		goto out;
	for (size_t i = 0; i < p.n_manifests; i++) {
		const struct oci_descriptor *d = &p.manifests[i];
		bool is_top = i + 1 == p.n_manifests;
		const char *reference = is_top && dest->tag ? dest->tag : d->digest.str;
		if (put_manifest(r, &p, d, reference, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		ocb_error_wrap(err, "push to '%s/%s'", r->host, dest->repository);
	oci_descriptor_array_free(p.blobs, p.n_blobs);
	oci_descriptor_array_free(p.manifests, p.n_manifests);
	return ret;
}
