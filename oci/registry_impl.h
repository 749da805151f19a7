/* Internals of the registry client shared by registry*.c (and the unit tests):
 * the client object, one HTTP exchange, auth, and the small parsers. */
#ifndef OCB_REGISTRY_IMPL_H
#define OCB_REGISTRY_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/registry.h"

#define REG_MAX_REDIRECTS     5
#define REG_MAX_ATTEMPTS      6
#define REG_RETRY_AFTER_MAX_S 30

enum reg_auth_kind { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct reg_token {
	char *scope;
	char *token;
};

struct oci_registry {
	char *host;	/* as in references: "docker.io", "127.0.0.1:5000" */
	char *api_host; /* what we connect to: "registry-1.docker.io" */
	char *base;	/* "https://host" or "http://host", set by the first request */
	bool tls_verify;
	char *ca_file;	  /* trusted for https://api_host only */
	char *tls_origin; /* "https://api_host" */
	bool allow_http;  /* localhost, 127/8, ::1 or tls_verify=false */
	char *username, *password;
	int parallel;
	uint64_t chunk_threshold, chunk_size;
	oci_registry_progress_fn progress;
	void *progress_opaque;

	pthread_mutex_t lock; /* auth state, tokens, progress */
	enum reg_auth_kind auth_kind;
	char *realm, *service; /* bearer challenge */
	struct reg_token *tokens;
	size_t n_tokens;

	void *curl;	     /* the calling thread's handle; workers make their own */
	int probe_curl_code; /* the curl code of the last failed first contact */
};

/* ---- one HTTP exchange (registry_http.c) ---- */

/* Streamed 2xx response bodies go to sink; -1 aborts the transfer. */
typedef int (*reg_sink_fn)(void *opaque, const void *data, size_t len);
/* Called before a retry re-sends a request whose sink already got bytes. */
typedef int (*reg_rewind_fn)(void *opaque, struct ocb_error *err);

struct reg_req {
	const char *method; /* GET HEAD PUT POST PATCH DELETE */
	const char *url;    /* absolute */
	const char *scope;  /* auth scope(s), space separated; NULL for none */
	const char *accept;
	const char *content_type;
	const char *content_range;
	/* request body: a buffer, or body_size bytes of body_fd from body_off */
	const void *body;
	size_t body_len;
	int body_fd; /* -1 when none (set by reg_req_init) */
	uint64_t body_off, body_size;
	/* response body: buffered up to max_body, or streamed to sink (2xx only) */
	size_t max_body;
	reg_sink_fn sink;
	void *sink_opaque;
	reg_rewind_fn rewind;
	/* Streamed GETs: the bytes the sink holds.  A retry after a dropped
	 * transfer asks for the rest (Range: bytes=N-); a 200 instead of a 206
	 * rewinds the sink first. */
	const uint64_t *resume_from;
	int max_attempts;	   /* 0: REG_MAX_ATTEMPTS */
	bool no_auth;		   /* no registry auth (token fetches) */
	const char *authorization; /* sent only to url's own origin */
};

struct reg_resp {
	long status;
	char *url; /* the URL that answered, after redirects */
	char *location, *content_type, *docker_digest, *range, *www_authenticate, *retry_after,
	    *content_range, *link;
	char *body; /* NUL-terminated; non-2xx bodies and unstreamed 2xx bodies */
	size_t body_len;
};

void reg_req_init(struct reg_req *q, const char *method, const char *url);
void reg_resp_release(struct reg_resp *resp);
/* Send q (redirects, retries and auth included).  0 when a final response
 * arrived, whatever its status; -1 when the registry could not be reached or
 * answered nonsense (OCB_EENV, OCB_ELIMIT, OCB_EAUTH). */
int reg_do(struct oci_registry *r, void *curl, const struct reg_req *q, struct reg_resp *resp,
	   struct ocb_error *err);
/* An error for an unexpected response: "registry 'H': what: HTTP 404: MANIFEST_UNKNOWN: ...".
 * Code from the status (401/403 OCB_EAUTH, 404 OCB_ENOTFOUND, else OCB_EFAIL). */
int reg_status_error(struct oci_registry *r, const struct reg_resp *resp, struct ocb_error *err,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "https://host/v2/<repo>/<what>"; NULL on ENOMEM. */
char *reg_url(struct oci_registry *r, const char *repo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Establish r->base (HTTPS, then HTTP where allowed) with a GET /v2/. */
int reg_ensure_base(struct oci_registry *r, struct ocb_error *err);
void *reg_curl_new(struct ocb_error *err);
void reg_curl_free(void *curl);

/* Run job(i) for i in [0, n) on up to r->parallel threads, each with its own
 * curl handle; the first failure stops the rest and is returned. */
typedef int (*reg_job_fn)(struct oci_registry *r, void *curl, size_t i, void *opaque, struct ocb_error *err);
int reg_parallel(struct oci_registry *r, size_t n, reg_job_fn job, void *opaque, struct ocb_error *err);
void reg_progress(struct oci_registry *r, enum oci_registry_event ev, const struct oci_descriptor *d);

/* ---- pure helpers (registry_http.c), unit-tested ---- */

/* Resolve a Location header against the URL that sent it; *out malloc'd. */
int oci_registry_resolve_location(const char *base_url, const char *location, char **out,
				  struct ocb_error *err);
/* "scheme://host[:port]" of two URLs equal (case-insensitive host). */
bool oci_registry_same_origin(const char *a, const char *b);
/* A Range header "0-1234" (or "bytes=0-1234"): *next = 1235, the offset to
 * resume from.  OCB_EINVAL when malformed or not starting at 0. */
int oci_registry_parse_range(const char *hdr, uint64_t *next, struct ocb_error *err);
/* Whether attempt (1-based, just failed) is retried and after how many ms:
 * status 0 means a transport failure (curl_code says which), 429/5xx retry,
 * Retry-After (seconds) is honoured and more than REG_RETRY_AFTER_MAX_S gives
 * up.  True with *delay_ms set when the request should be sent again. */
bool oci_registry_retry_policy(int attempt, long status, int curl_code, const char *retry_after,
			       long *delay_ms);
/* Plain HTTP allowed without --tls-verify=false: localhost, 127.0.0.0/8, ::1. */
bool oci_registry_host_is_local(const char *host);

/* ---- auth (registry_auth.c) ---- */

struct oci_registry_challenge {
	enum reg_auth_kind kind;
	char *realm, *service, *scope; /* NULL when absent */
};

/* Parse a WWW-Authenticate value: `Bearer realm="...",service="...",scope="..."`
 * or `Basic realm="..."`.  Unknown schemes and malformed values: OCB_EINVAL. */
int oci_registry_parse_challenge(const char *hdr, struct oci_registry_challenge *out, struct ocb_error *err);
void oci_registry_challenge_release(struct oci_registry_challenge *c);
/* The Authorization header value for a request with scope, or NULL for
 * none (*out malloc'd or NULL).  Fetches a token when bearer auth is known
 * and none is cached for the scope. */
int reg_auth_header(struct oci_registry *r, void *curl, const char *scope, char **out, struct ocb_error *err);
/* A 401 arrived: learn from the challenge and drop the cached token for
 * scope.  0 when the request should be retried (once), -1 (OCB_EAUTH) when
 * there is nothing more to try. */
int reg_auth_challenged(struct oci_registry *r, void *curl, const char *scope, const char *www_authenticate,
			bool retried, struct ocb_error *err);
void reg_auth_release(struct oci_registry *r);

/* ---- credentials (registry_creds.c) ---- */

/* base64 (standard alphabet, padded); *out malloc'd. */
int oci_registry_base64_encode(const void *data, size_t len, char **out, struct ocb_error *err);
int oci_registry_base64_decode(const char *s, char **out, size_t *len, struct ocb_error *err);

#endif
