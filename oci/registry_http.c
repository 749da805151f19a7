/* One HTTP exchange with a registry: libcurl, redirects followed by hand (so
 * Authorization never reaches another host), retries with backoff, bounded
 * response bodies, and the registry's error JSON in messages. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/registry_impl.h"
#include "oci/banned.h"

#define REG_USER_AGENT	    "ocb/1"
#define REG_CONNECT_TIMEOUT 10L
#define REG_LOW_SPEED_BYTES 1024L
#define REG_LOW_SPEED_TIME  30L
#define REG_HEADER_MAX	    8192

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void *reg_curl_new(struct ocb_error *err)
{
	CURL *h;

	pthread_once(&curl_once, curl_init_once);
	h = curl_easy_init();
	if (!h)
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "curl_easy_init failed");
	return h;
}

void reg_curl_free(void *curl)
{
	if (curl)
		curl_easy_cleanup(curl);
}

void reg_req_init(struct reg_req *q, const char *method, const char *url)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->url = url;
	q->body_fd = -1;
	q->max_body = OCI_REGISTRY_SMALL_MAX;
}

static void resp_clear_headers(struct reg_resp *resp)
{
	char **h[] = {&resp->location,	       &resp->content_type, &resp->docker_digest, &resp->range,
		      &resp->www_authenticate, &resp->retry_after,  &resp->content_range, &resp->link};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		free(*h[i]);
		*h[i] = NULL;
	}
}

void reg_resp_release(struct reg_resp *resp)
{
	if (!resp)
		return;
	resp_clear_headers(resp);
	free(resp->url);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* A URL in a message, without its query or fragment: upload states and
 * presigned storage URLs carry signatures there. */
#define URL_ARG(u) (int)strcspn((u), "?#"), (u)

/* ---- pure helpers ---- */

bool oci_registry_host_is_local(const char *host)
{
	size_t n;

	if (!strncmp(host, "[::1]", 5))
		return host[5] == '\0' || host[5] == ':';
	n = strcspn(host, ":");
	if (n == 9 && !strncasecmp(host, "localhost", 9))
		return true;
	if (n > 4 && !strncmp(host, "127.", 4)) {
		for (size_t i = 4; i < n; i++)
			if (!isdigit((unsigned char)host[i]) && host[i] != '.')
				return false;
		return true;
	}
	return false;
}

int oci_registry_resolve_location(const char *base_url, const char *location, char **out,
				  struct ocb_error *err)
{
	CURLU *u = curl_url();
	char *s = NULL;
	int ret = -1;

	if (!u)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, base_url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
		ocb_error_set(err, OCB_EINVAL, 0, "bad location '%.*s' (from '%.*s')", URL_ARG(location),
			      URL_ARG(base_url));
		goto out;
	}
	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
		ocb_error_set(err, OCB_EINVAL, 0, "location '%.*s' is not http or https", URL_ARG(location));
		goto out;
	}
	if (!(*out = strdup(s))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	ret = 0;
out:
	curl_free(s);
	curl_url_cleanup(u);
	return ret;
}

/* scheme, host and port of url (CURLU), each malloc'd by curl. */
static bool url_origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok;
}

bool oci_registry_same_origin(const char *a, const char *b)
{
	char *s1 = NULL, *h1 = NULL, *p1 = NULL, *s2 = NULL, *h2 = NULL, *p2 = NULL;
	bool same = url_origin(a, &s1, &h1, &p1) && url_origin(b, &s2, &h2, &p2) && !strcasecmp(s1, s2) &&
		    !strcasecmp(h1, h2) && !strcmp(p1, p2);
	curl_free(s1), curl_free(h1), curl_free(p1);
	curl_free(s2), curl_free(h2), curl_free(p2);
	return same;
}

int oci_registry_parse_range(const char *hdr, uint64_t *next, struct ocb_error *err)
{
	const char *p = hdr;
	char *end = NULL;
	unsigned long long last;

	if (!strncmp(p, "bytes=", 6))
		p += 6;
	if (p[0] != '0' || p[1] != '-' || !isdigit((unsigned char)p[2]))
		return ocb_error_set(err, OCB_EINVAL, 0, "bad Range header '%s'", hdr);
	errno = 0;
	last = strtoull(p + 2, &end, 10);
	if (errno || *end || last == UINT64_MAX)
		return ocb_error_set(err, OCB_EINVAL, 0, "bad Range header '%s'", hdr);
	*next = (uint64_t)last + 1;
	return 0;
}

static bool curl_code_is_transient(int code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY: /* garbage on a reused connection */
		return true;
	default:
		return false;
	}
}

bool oci_registry_retry_policy(int attempt, long status, int curl_code, const char *retry_after,
			       long *delay_ms)
{
	long delay;

	if (attempt >= REG_MAX_ATTEMPTS)
		return false;
	if (status == 0 && !curl_code_is_transient(curl_code))
		return false;
	if (status != 0 && status != 429 && status != 500 && status != 502 && status != 503 && status != 504)
		return false;
	delay = 200L << (attempt - 1 < 5 ? attempt - 1 : 5); /* 200 ms, 400, ... 6.4 s */
	if (retry_after && (status == 429 || status == 503)) {
		char *end = NULL;
		long s;
		errno = 0;
		s = strtol(retry_after, &end, 10);
		if (!errno && end != retry_after && *end == '\0' && s >= 0) {
			if (s > REG_RETRY_AFTER_MAX_S)
				return false;
			delay = s * 1000L;
		}
	}
	*delay_ms = delay;
	return true;
}

/* ---- the exchange ---- */

struct xfer {
	const struct reg_req *q;
	struct reg_resp *resp;
	CURL *h;
	uint64_t sent;
	size_t body_cap;
	bool too_big;
	bool streamed_any;   /* the sink got bytes */
	bool body_started;   /* the first 2xx body bytes were checked */
	uint64_t range_from; /* Range asked for in this request, 0 for none */
	bool bad_range;
	bool sink_failed;
};

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	const char *v;

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	v = line + n + 1;
	len -= n + 1;
	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	return strndup(v, len);
}

static size_t on_header(char *buf, size_t size, size_t n, void *opaque)
{
	struct xfer *x = opaque;
	size_t len = size * n;
	static const struct {
		const char *name;
		size_t off;
	} wanted[] = {
	    {"Location", offsetof(struct reg_resp, location)},
	    {"Content-Type", offsetof(struct reg_resp, content_type)},
	    {"Docker-Content-Digest", offsetof(struct reg_resp, docker_digest)},
	    {"Range", offsetof(struct reg_resp, range)},
	    {"WWW-Authenticate", offsetof(struct reg_resp, www_authenticate)},
	    {"Retry-After", offsetof(struct reg_resp, retry_after)},
	    {"Content-Range", offsetof(struct reg_resp, content_range)},
	    {"Link", offsetof(struct reg_resp, link)},
	};

	if (len > REG_HEADER_MAX)
		return len; /* ignore absurd headers */
	if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
		resp_clear_headers(x->resp); /* a new response (after 100 Continue) */
		return len;
	}
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		char **slot = (char **)((char *)x->resp + wanted[i].off);
		char *v = header_value(buf, len, wanted[i].name);
		if (v) {
			free(*slot);
			*slot = v;
			break;
		}
	}
	return len;
}

/* The first body bytes of a streamed answer: a resumed request must get a
 * 206 for exactly the asked offset; a 200 (the registry ignored the Range)
 * starts the sink over. */
static int check_resumed(struct xfer *x, long status)
{
	struct ocb_error ignored = OCB_ERROR_INIT;
	char want[48];

	x->body_started = true;
	if (x->range_from == 0)
		return status == 206 ? (x->bad_range = true, -1) : 0;
	if (status == 200) {
		if (x->q->rewind && x->q->rewind(x->q->sink_opaque, &ignored) < 0)
			return x->sink_failed = true, -1;
		return 0;
	}
	snprintf(want, sizeof(want), "bytes %llu-", (unsigned long long)x->range_from);
	if (status != 206 || !x->resp->content_range || strncmp(x->resp->content_range, want, strlen(want)))
		return x->bad_range = true, -1;
	return 0;
}

static size_t on_body(char *buf, size_t size, size_t n, void *opaque)
{
	struct xfer *x = opaque;
	struct reg_resp *resp = x->resp;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300 && status < 400)
		return len; /* a redirect's body */
	if (status >= 200 && status < 300 && x->q->sink) {
		if (!x->body_started && check_resumed(x, status) < 0)
			return 0;
		x->streamed_any = true;
		if (x->q->sink(x->q->sink_opaque, buf, len) < 0) {
			x->sink_failed = true;
			return 0;
		}
		return len;
	}
	/* Buffered: 2xx up to max_body (more is an error), errors truncated. */
	if (resp->body_len + len > x->q->max_body) {
		if (status >= 200 && status < 300) {
			x->too_big = true;
			return 0;
		}
		len = x->q->max_body - resp->body_len;
		if (len == 0)
			return size * n;
	}
	if (resp->body_len + len + 1 > x->body_cap) {
		size_t cap = x->body_cap ? x->body_cap : 16384;
		char *p;
		while (cap < resp->body_len + len + 1)
			cap *= 2;
		if (!(p = realloc(resp->body, cap)))
			return 0;
		resp->body = p;
		x->body_cap = cap;
	}
	memcpy(resp->body + resp->body_len, buf, len);
	resp->body_len += len;
	resp->body[resp->body_len] = '\0';
	return size * n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *opaque)
{
	struct xfer *x = opaque;
	const struct reg_req *q = x->q;
	size_t want = size * n;
	uint64_t total = q->body_fd >= 0 ? q->body_size : q->body_len;
	uint64_t left = total - x->sent;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (q->body_fd >= 0) {
		ssize_t got = pread(q->body_fd, buf, want, (off_t)(q->body_off + x->sent));
		if (got <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)got;
	} else {
		memcpy(buf, (const char *)q->body + x->sent, want);
	}
	x->sent += want;
	return want;
}

static struct curl_slist *add_header(struct curl_slist *l, bool *ok, const char *name, const char *value)
{
	cleanup_free char *line = NULL;
	struct curl_slist *n;

	if (!value || !*ok)
		return l;
	if (asprintf(&line, "%s: %s", name, value) < 0) {
		*ok = false;
		return l;
	}
	n = curl_slist_append(l, line);
	if (!n)
		*ok = false;
	return n ? n : l;
}

static void set_method(CURL *h, const struct reg_req *q, const char *method)
{
	bool has_body = q->body_fd >= 0 || q->body_len > 0;

	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(method, "POST") && !has_body) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	} else if (!strcmp(method, "DELETE")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else {
		curl_off_t size = (curl_off_t)(q->body_fd >= 0 ? q->body_size : q->body_len);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
}

/* One request/response on url (no redirects, no retries).  Returns the curl code. */
static int perform_once(struct oci_registry *r, CURL *h, const struct reg_req *q, const char *method,
			const char *url, const char *authorization, struct reg_resp *resp, struct xfer *x,
			char *errbuf)
{
	struct curl_slist *hdrs = NULL;
	char range[48];
	bool ok = true;
	CURLcode rc;

	curl_easy_reset(h);
	memset(x, 0, sizeof(*x));
	x->q = q;
	x->resp = resp;
	x->h = h;
	hdrs = add_header(hdrs, &ok, "Accept", q->accept);
	hdrs = add_header(hdrs, &ok, "Content-Type", q->content_type);
	hdrs = add_header(hdrs, &ok, "Content-Range", q->content_range);
	hdrs = add_header(hdrs, &ok, "Authorization", authorization);
	hdrs = add_header(hdrs, &ok, "Expect", "");
	if (q->resume_from && *q->resume_from > 0) {
		x->range_from = *q->resume_from;
		snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)x->range_from);
		hdrs = add_header(hdrs, &ok, "Range", range);
	}
	if (!ok) {
		curl_slist_free_all(hdrs);
		return CURLE_OUT_OF_MEMORY;
	}
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, REG_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, REG_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, REG_LOW_SPEED_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, REG_LOW_SPEED_TIME);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L);
	if (r->ca_file && oci_registry_same_origin(url, r->tls_origin))
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, x);
	set_method(h, q, method);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(hdrs);
	return (int)rc;
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The Authorization for url: the request's own (sent only to its origin), or
 * the registry's for requests to the registry itself; never another host's. */
static int authorization_for(struct oci_registry *r, CURL *h, const struct reg_req *q, const char *url,
			     char **out, struct ocb_error *err)
{
	*out = NULL;
	if (q->authorization) {
		if (oci_registry_same_origin(url, q->url) && !(*out = strdup(q->authorization)))
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		return 0;
	}
	if (q->no_auth || !r->base || !oci_registry_same_origin(url, r->base))
		return 0;
	return reg_auth_header(r, h, q->scope, out, err);
}

/* One attempt: follow redirects.  Returns the curl code (0 with resp filled). */
static int attempt(struct oci_registry *r, CURL *h, const struct reg_req *q, struct reg_resp *resp,
		   struct xfer *x, char *errbuf, struct ocb_error *err)
{
	cleanup_free char *url = strdup(q->url);
	const char *method = q->method;

	if (!url)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory"), -1;
	for (int hop = 0;; hop++) {
		cleanup_free char *auth = NULL;
		char *next = NULL;
		int rc;

		if (authorization_for(r, h, q, url, &auth, err) < 0)
			return -1;
		reg_resp_release(resp);
		rc = perform_once(r, h, q, method, url, auth, resp, x, errbuf);
		if (rc != CURLE_OK || !is_redirect(resp->status) || !resp->location) {
			if (rc == CURLE_OK && !(resp->url = strdup(url)))
				return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory"), -1;
			return rc;
		}
		if (hop >= REG_MAX_REDIRECTS)
			return ocb_error_set(err, OCB_ELIMIT, 0,
					     "registry '%s': too many redirects from '%.*s'", r->host,
					     URL_ARG(q->url)),
			       -1;
		if (oci_registry_resolve_location(url, resp->location, &next, err) < 0)
			return ocb_error_wrap(err, "registry '%s'", r->host), -1;
		if (!strncmp(next, "http://", 7) && !r->allow_http) {
			ocb_error_set(err, OCB_EUNSAFE, 0,
				      "registry '%s': refusing a redirect to plain HTTP '%.*s'", r->host,
				      URL_ARG(next));
			free(next);
			return -1;
		}
		free(url);
		url = next;
		if (resp->status == 303)
			method = "GET";
		if (q->rewind && x->streamed_any && q->rewind(q->sink_opaque, err) < 0)
			return -1;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int reg_do(struct oci_registry *r, void *curl, const struct reg_req *q, struct reg_resp *resp,
	   struct ocb_error *err)
{
	int max = q->max_attempts ? q->max_attempts : REG_MAX_ATTEMPTS;
	bool auth_retried = false;
	char errbuf[CURL_ERROR_SIZE];
	struct xfer x;

	memset(resp, 0, sizeof(*resp));
	for (int n = 1;; n++) {
		long delay = 0;
		int rc = attempt(r, curl, q, resp, &x, errbuf, err);

		if (rc < 0)
			goto fail;
		if (rc == CURLE_OK && resp->status == 401 && !q->no_auth && resp->url && r->base &&
		    oci_registry_same_origin(resp->url, r->base)) {
			if (reg_auth_challenged(r, curl, q->scope, resp->www_authenticate, auth_retried,
						err) < 0)
				goto fail;
			auth_retried = true;
			n--; /* an auth round trip is not a failed attempt */
		} else if (rc == CURLE_OK && !(resp->status == 429 || resp->status >= 500)) {
			return 0;
		} else if (x.sink_failed) {
			ocb_error_set(err, OCB_EFAIL, 0, "registry '%s': transfer of '%.*s' aborted", r->host,
				      URL_ARG(q->url));
			goto fail;
		} else if (x.bad_range) {
			/* a 206 for other bytes than asked: start the stream over, once per attempt */
			if (n >= max || !q->rewind || q->rewind(q->sink_opaque, err) < 0) {
				ocb_error_set(err, OCB_EINVAL, 0,
					      "registry '%s': bad answer to a resumed download of '%.*s'",
					      r->host, URL_ARG(q->url));
				goto fail;
			}
			continue;
		} else if (x.too_big) {
			ocb_error_set(err, OCB_ELIMIT, 0,
				      "registry '%s': response from '%.*s' exceeds %zu bytes", r->host,
				      URL_ARG(q->url), q->max_body);
			goto fail;
		} else if (n >= max || !oci_registry_retry_policy(n, rc == CURLE_OK ? resp->status : 0, rc,
								  resp->retry_after, &delay)) {
			if (rc == CURLE_OK) /* a final 429/5xx: the caller reports it */
				return 0;
			if (!r->base)
				r->probe_curl_code = rc; /* single-threaded before the base is known */
			ocb_error_set(err, OCB_EENV, 0, "registry '%s' unreachable: %s %.*s: %s", r->host,
				      q->method, URL_ARG(q->url),
				      errbuf[0] ? errbuf : curl_easy_strerror((CURLcode)rc));
			goto fail;
		}
		sleep_ms(delay);
		/* resume a stream that got bytes (Range); start anything else over */
		if (q->rewind && !(q->resume_from && *q->resume_from > 0) &&
		    q->rewind(q->sink_opaque, err) < 0)
			goto fail;
	}
fail:
	reg_resp_release(resp);
	return -1;
}

/* ---- messages ---- */

/* "CODE: message" from {"errors":[{"code":..,"message":..}]}, or NULL. */
static char *registry_error_text(const struct reg_resp *resp)
{
	cleanup_json json_t *doc = NULL;
	json_t *e, *code, *msg;
	char *s = NULL;

	if (!resp->body || !resp->body_len)
		return NULL;
	doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	e = doc ? json_array_get(json_object_get(doc, "errors"), 0) : NULL;
	code = json_object_get(e, "code");
	msg = json_object_get(e, "message");
	if (json_is_string(code) && json_is_string(msg) && json_string_length(msg))
		(void)!asprintf(&s, "%s: %s", json_string_value(code), json_string_value(msg));
	else if (json_is_string(code))
		s = strdup(json_string_value(code));
	if (s) /* a registry's text is untrusted: keep messages printable and short */
		for (char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	if (s && strlen(s) > 300)
		s[300] = '\0';
	return s;
}

int reg_status_error(struct oci_registry *r, const struct reg_resp *resp, struct ocb_error *err,
		     const char *fmt, ...)
{
	cleanup_free char *what = NULL;
	cleanup_free char *detail = registry_error_text(resp);
	enum ocb_code code = OCB_EFAIL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (resp->status == 401 || resp->status == 403)
		code = OCB_EAUTH;
	else if (resp->status == 404)
		code = OCB_ENOTFOUND;
	return ocb_error_set(err, code, 0, "registry '%s': %s: HTTP %ld%s%s", r->host, what, resp->status,
			     detail ? ": " : "", detail ? detail : "");
}

char *reg_url(struct oci_registry *r, const char *repo, const char *fmt, ...)
{
	cleanup_free char *tail = NULL;
	char *url = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&tail, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&url, "%s/v2/%s/%s", r->base, repo, tail) < 0)
		return NULL;
	return url;
}
