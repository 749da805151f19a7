/* The registry client object: open, the first contact (HTTPS, then HTTP
 * where allowed), ping, tag listing, and the small worker pool that moves
 * blobs in parallel. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/registry_impl.h"
#include "oci/strv.h"
#include "oci/banned.h"

#define REG_DEFAULT_PARALLEL  3
#define REG_PARALLEL_MAX      16
#define REG_DEFAULT_THRESHOLD ((uint64_t)32 << 20)
#define REG_DEFAULT_CHUNK     ((uint64_t)16 << 20)
#define REG_TAGS_MAX	      100000
#define REG_TAG_PAGES_MAX     1000

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	return src && !(*dst = strdup(src)) ? -1 : 0;
}

int oci_registry_open(struct oci_registry **out, const char *host, const struct oci_registry_opts *opts,
		      struct ocb_error *err)
{
	struct oci_registry *r = calloc(1, sizeof(*r));
	struct oci_registry_opts none = {.tls_verify = true};

	if (!opts)
		opts = &none;
	if (!r)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	r->tls_verify = opts->tls_verify;
	r->allow_http = !opts->tls_verify || oci_registry_host_is_local(host);
	r->parallel = opts->parallel > 0 ? opts->parallel : REG_DEFAULT_PARALLEL;
	if (r->parallel > REG_PARALLEL_MAX)
		r->parallel = REG_PARALLEL_MAX;
	r->chunk_threshold = opts->chunk_threshold ? opts->chunk_threshold : REG_DEFAULT_THRESHOLD;
	r->chunk_size = opts->chunk_size ? opts->chunk_size : REG_DEFAULT_CHUNK;
	r->progress = opts->progress;
	r->progress_opaque = opts->progress_opaque;
	if (dup_opt(&r->host, host) < 0 ||
	    dup_opt(&r->api_host, !strcmp(host, "docker.io") ? "registry-1.docker.io" : host) < 0 ||
	    dup_opt(&r->ca_file, opts->ca_file) < 0 ||
	    asprintf(&r->tls_origin, "https://%s", r->api_host) < 0 ||
	    dup_opt(&r->username, opts->username) < 0 || dup_opt(&r->password, opts->password) < 0 ||
	    !(r->curl = reg_curl_new(err))) {
		oci_registry_free(r);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

void oci_registry_free(struct oci_registry *r)
{
	if (!r)
		return;
	reg_auth_release(r);
	reg_curl_free(r->curl);
	if (r->password)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->username);
	free(r->host);
	free(r->api_host);
	free(r->base);
	free(r->ca_file);
	free(r->tls_origin);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void reg_progress(struct oci_registry *r, enum oci_registry_event ev, const struct oci_descriptor *d)
{
	if (!r->progress)
		return;
	pthread_mutex_lock(&r->lock);
	r->progress(r->progress_opaque, ev, d);
	pthread_mutex_unlock(&r->lock);
}

/* GET scheme://host/v2/ without auth; 0 when any HTTP answer came back. */
static int probe(struct oci_registry *r, const char *scheme, int attempts, struct ocb_error *err)
{
	cleanup_free char *base = NULL;
	cleanup_free char *url = NULL;
	struct ocb_error ignored = OCB_ERROR_INIT;
	struct reg_resp resp;
	struct reg_req q;

	if (asprintf(&base, "%s://%s", scheme, r->api_host) < 0 || asprintf(&url, "%s/v2/", base) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	reg_req_init(&q, "GET", url);
	q.no_auth = true;
	q.max_attempts = attempts;
	if (reg_do(r, r->curl, &q, &resp, err) < 0)
		return -1;
	r->base = steal_pointer(&base);
	if (resp.status == 401) /* learn the scheme now; errors surface on real requests */
		reg_auth_challenged(r, r->curl, NULL, resp.www_authenticate, false, &ignored);
	reg_resp_release(&resp);
	return 0;
}

int reg_ensure_base(struct oci_registry *r, struct ocb_error *err)
{
	struct ocb_error first = OCB_ERROR_INIT;

	if (r->base)
		return 0;
	if (probe(r, "https", r->allow_http ? 1 : 0, r->allow_http ? &first : err) == 0)
		return 0;
	/* A server that speaks TLS with a certificate we do not trust is not a
	 * plain-HTTP registry: report the certificate, never fall back. */
	if (!r->allow_http || r->probe_curl_code == CURLE_PEER_FAILED_VERIFICATION) {
		if (r->allow_http && err)
			*err = first;
		return -1;
	}
	if (probe(r, "http", 0, err) == 0)
		return 0;
	return ocb_error_wrap(err, "%s", first.msg);
}

int oci_registry_ping(struct oci_registry *r, struct ocb_error *err)
{
	cleanup_free char *url = NULL;
	struct reg_resp resp;
	struct reg_req q;
	int ret = -1;

	if (reg_ensure_base(r, err) < 0)
		return -1;
	if (asprintf(&url, "%s/v2/", r->base) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	reg_req_init(&q, "GET", url);
	if (reg_do(r, r->curl, &q, &resp, err) < 0)
		return -1;
	if (resp.status == 200)
		ret = 0;
	else
		reg_status_error(r, &resp, err, "GET /v2/");
	reg_resp_release(&resp);
	return ret;
}

/* The target of `Link: <url>; rel="next"`, resolved against base, or NULL. */
static char *next_link(const char *base, const char *link)
{
	const char *lt = link ? strchr(link, '<') : NULL, *gt = lt ? strchr(lt, '>') : NULL;
	cleanup_free char *target = NULL;
	char *out = NULL;

	if (!gt || !strstr(gt, "rel=\"next\"") || !(target = strndup(lt + 1, (size_t)(gt - lt - 1))))
		return NULL;
	if (oci_registry_resolve_location(base, target, &out, NULL) < 0)
		return NULL;
	return out;
}

/* One page of tags appended to *v; *next gets the next page's URL or NULL. */
static int tags_page(struct oci_registry *r, const char *repo, const char *url, const char *scope, char ***v,
		     char **next, struct ocb_error *err)
{
	cleanup_json json_t *doc = NULL;
	struct reg_resp resp;
	struct reg_req q;
	json_t *t;
	size_t i;
	int ret = -1;

	reg_req_init(&q, "GET", url);
	q.scope = scope;
	q.accept = "application/json";
	if (reg_do(r, r->curl, &q, &resp, err) < 0)
		return ocb_error_wrap(err, "tags of '%s'", repo);
	if (resp.status != 200) {
		reg_status_error(r, &resp, err, "tags of '%s'", repo);
		goto out;
	}
	if (oci_json_load(resp.body ? resp.body : "", resp.body_len, OCI_REGISTRY_SMALL_MAX, "tag list", &doc,
			  err) < 0)
		goto out;
	json_array_foreach(json_object_get(doc, "tags"), i, t)
	{
		if (oci_strv_len(*v) >= REG_TAGS_MAX || !json_is_string(t) ||
		    !oci_ref_tag_is_valid(json_string_value(t))) {
			ocb_error_set(err, OCB_EINVAL, 0, "registry '%s': bad tag list for '%s'", r->host,
				      repo);
			goto out;
		}
		if (oci_strv_push(v, json_string_value(t), err) < 0)
			goto out;
	}
	*next = next_link(resp.url, resp.link);
	/* Pages stay on the registry: a Link elsewhere ends the listing. */
	if (*next && !oci_registry_same_origin(*next, r->base)) {
		free(*next);
		*next = NULL;
	}
	ret = 0;
out:
	reg_resp_release(&resp);
	return ret;
}

int oci_registry_list_tags(struct oci_registry *r, const char *repo, char ***tags, struct ocb_error *err)
{
	cleanup_free char *url = NULL;
	cleanup_free char *scope = NULL;
	char **v = NULL;
	int pages = 0;

	if (reg_ensure_base(r, err) < 0)
		return -1;
	if (!(url = reg_url(r, repo, "tags/list")) || asprintf(&scope, "repository:%s:pull", repo) < 0 ||
	    !(v = calloc(1, sizeof(*v))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	while (url) {
		char *next = NULL;
		if (++pages > REG_TAG_PAGES_MAX) {
			oci_strv_free(v);
			return ocb_error_set(err, OCB_ELIMIT, 0,
					     "registry '%s': more than %d pages of tags for '%s'", r->host,
					     REG_TAG_PAGES_MAX, repo);
		}
		if (tags_page(r, repo, url, scope, &v, &next, err) < 0) {
			oci_strv_free(v);
			return -1;
		}
		free(url);
		url = next;
	}
	*tags = v;
	return 0;
}

/* ---- the worker pool ---- */

struct pool {
	struct oci_registry *r;
	reg_job_fn job;
	void *opaque;
	size_t n, next;
	bool failed;
	struct ocb_error err;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct ocb_error err = OCB_ERROR_INIT;
	void *curl = reg_curl_new(&err);

	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->lock);
		if (!curl && !p->failed) {
			p->failed = true;
			p->err = err;
		}
		i = p->failed ? p->n : p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			break;
		if (p->job(p->r, curl, i, p->opaque, &err) < 0) {
			pthread_mutex_lock(&p->lock);
			if (!p->failed) {
				p->failed = true;
				p->err = err;
			}
			pthread_mutex_unlock(&p->lock);
			break;
		}
	}
	reg_curl_free(curl);
	return NULL;
}

int reg_parallel(struct oci_registry *r, size_t n, reg_job_fn job, void *opaque, struct ocb_error *err)
{
	struct pool p = {.r = r, .job = job, .opaque = opaque, .n = n, .err = OCB_ERROR_INIT};
	pthread_t threads[REG_PARALLEL_MAX];
	size_t nt = n < (size_t)r->parallel ? n : (size_t)r->parallel, started = 0;

	if (n == 0)
		return 0;
	if (nt <= 1) { /* no threads for one job: the caller's handle */
		for (size_t i = 0; i < n; i++)
			if (job(r, r->curl, i, opaque, err) < 0)
				return -1;
		return 0;
	}
	pthread_mutex_init(&p.lock, NULL);
	for (; started < nt; started++)
		if (pthread_create(&threads[started], NULL, worker, &p) != 0)
			break;
	if (started == 0) {
		pthread_mutex_destroy(&p.lock);
		return ocb_error_set(err, OCB_EFAIL, errno, "cannot start transfer threads");
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&p.lock);
	if (p.failed) {
		if (err)
			*err = p.err;
		return -1;
	}
	return 0;
}
