/* The registry client against a scripted HTTP server in a thread: tag
 * pagination, response bounds, error JSON in messages, digest checks, a
 * long Retry-After, unsupported manifests, token and basic auth. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/registry_impl.h"
#include "oci/strv.h"

#define ROUTES_MAX 8

struct route {
	const char *method;
	const char *path; /* prefix of the request target */
	char head[1024];  /* status line and headers, without Content-Length */
	const char *body;
	size_t big; /* when body is NULL: this many spaces */
	int exact;  /* the target must equal path */
	int hits;
	char auth[256]; /* the Authorization of the last hit */
};

struct server {
	int fd, port;
	pthread_t thread;
	struct route routes[ROUTES_MAX];
	size_t n;
};

static char *header(const char *req, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n"))
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':')
			return strndup(p + 3 + n + strspn(p + 3 + n, " "),
				       strcspn(p + 3 + n + strspn(p + 3 + n, " "), "\r"));
	return NULL;
}

static void serve_one(struct server *s, int c)
{
	char req[16384], method[16], target[2048];
	size_t len = 0;
	ssize_t got;
	char *cl, *auth;
	struct route *r = NULL;

	while (len < sizeof(req) - 1 && (got = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
		if (req[0] == 0x16) /* a TLS ClientHello: this server speaks plain HTTP */
			return;
		len += (size_t)got;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[len] = '\0';
	if (sscanf(req, "%15s %2047s", method, target) != 2)
		return;
	if ((cl = header(req, "Content-Length"))) { /* drain a small body */
		long left = strtol(cl, NULL, 10) - (long)(len - (size_t)(strstr(req, "\r\n\r\n") + 4 - req));
		char sink[4096];
		while (left > 0 && (got = read(c, sink, sizeof(sink))) > 0)
			left -= got;
		free(cl);
	}
	for (size_t i = 0; i < s->n && !r; i++)
		if (!strcmp(s->routes[i].method, method) &&
		    (s->routes[i].exact ? !strcmp(target, s->routes[i].path)
					: !strncmp(target, s->routes[i].path, strlen(s->routes[i].path))))
			r = &s->routes[i];
	if (!r) {
		const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		(void)!write(c, nf, strlen(nf));
		return;
	}
	r->hits++;
	auth = header(req, "Authorization");
	snprintf(r->auth, sizeof(r->auth), "%s", auth ? auth : "");
	free(auth);
	{
		size_t blen = r->body ? strlen(r->body) : r->big;
		char head[2048];
		int n = snprintf(head, sizeof(head), "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
				 r->head, strcmp(method, "HEAD") ? blen : 0);
		(void)!write(c, head, (size_t)n);
		if (strcmp(method, "HEAD") && r->body) {
			(void)!write(c, r->body, blen);
		} else if (strcmp(method, "HEAD")) {
			static char spaces[65536];
			memset(spaces, ' ', sizeof(spaces));
			for (size_t off = 0; off < blen;) {
				size_t k = blen - off < sizeof(spaces) ? blen - off : sizeof(spaces);
				if (write(c, spaces, k) <= 0)
					break;
				off += k;
			}
		}
	}
}

static void *serve(void *arg)
{
	struct server *s = arg;
	struct timeval tv = {2, 0};
	int c;

	while ((c = accept(s->fd, NULL, NULL)) >= 0) {
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve_one(s, c);
		shutdown(c, SHUT_RDWR);
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
}

static struct route *route(struct server *s, const char *method, const char *path, const char *body,
			   const char *head)
{
	struct route *r = &s->routes[s->n++];

	assert_true(s->n <= ROUTES_MAX);
	r->method = method;
	r->path = path;
	r->body = body;
	snprintf(r->head, sizeof(r->head), "%s", head);
	return r;
}

/* A server answering /v2/ with 200 (or the given head), and a client for it. */
static struct oci_registry *setup(struct server *s, const char *v2_head, const char *user, const char *pass)
{
	struct oci_registry_opts o = {.tls_verify = true, .username = user, .password = pass};
	struct oci_registry *r = NULL;
	char host[64];

	route(s, "GET", "/v2/", "{}", v2_head ? v2_head : "HTTP/1.1 200 OK")->exact = 1;
	server_start(s);
	snprintf(host, sizeof(host), "127.0.0.1:%d", s->port);
	assert_ok(oci_registry_open(&r, host, &o, &test_err));
	return r;
}

#define SERVER_INIT                                                                                          \
	{                                                                                                    \
		.fd = -1                                                                                     \
	}

/* oci_registry_get_manifest must fail: *err gets why. */
static void manifest_fails(struct oci_registry *r, const char *repo, const char *reference,
			   struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(oci_registry_get_manifest(r, repo, reference, &buf, &len, &d, err), -1);
	assert_null(buf);
	assert_null(d.media_type);
}

static const char manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
    "\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0},"
    "\"layers\":[]}";

static void test_tags_paginated(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	char **tags = NULL;

	route(&s, "GET", "/v2/team/x/tags/list?last=b", "{\"name\":\"team/x\",\"tags\":[\"c\"]}",
	      "HTTP/1.1 200 OK\r\nContent-Type: application/json");
	route(&s, "GET", "/v2/team/x/tags/list", "{\"name\":\"team/x\",\"tags\":[\"a\",\"b\"]}",
	      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	      "Link: </v2/team/x/tags/list?last=b&n=2>; rel=\"next\"");
	r = setup(&s, NULL, NULL, NULL);
	assert_ok(oci_registry_list_tags(r, "team/x", &tags, &test_err));
	assert_int_equal(oci_strv_len(tags), 3);
	assert_string_equal(tags[0], "a");
	assert_string_equal(tags[2], "c");
	assert_int_equal(s.routes[0].hits, 1);
	oci_strv_free(tags);
	oci_registry_free(r);
	server_stop(&s);
}

static void test_manifest_too_big(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	struct ocb_error err = OCB_ERROR_INIT;

	route(&s, "GET", "/v2/x/manifests/big", NULL,
	      "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json")
	    ->big = OCI_REGISTRY_MANIFEST_MAX + 1;
	r = setup(&s, NULL, NULL, NULL);
	manifest_fails(r, "x", "big", &err);
	assert_int_equal(err.code, OCB_ELIMIT);
	assert_int_equal(s.routes[0].hits, 1); /* not retried */
	oci_registry_free(r);
	server_stop(&s);
}

static void test_error_json_in_message(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	struct ocb_error err = OCB_ERROR_INIT;
	char host[64];

	route(
	    &s, "GET", "/v2/team/x/manifests/missing",
	    "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest\\nunknown\",\"detail\":{}}]}",
	    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json");
	r = setup(&s, NULL, NULL, NULL);
	manifest_fails(r, "team/x", "missing", &err);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	snprintf(host, sizeof(host), "registry '127.0.0.1:%d'", s.port);
	assert_non_null(strstr(err.msg, host));
	assert_non_null(strstr(err.msg, "team/x:missing"));
	assert_non_null(
	    strstr(err.msg, "HTTP 404: MANIFEST_UNKNOWN: manifest unknown")); /* control chars blanked */
	oci_registry_free(r);
	server_stop(&s);
}

static void test_digest_header_mismatch(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	struct ocb_error err = OCB_ERROR_INIT;

	route(
	    &s, "GET", "/v2/x/manifests/1", manifest,
	    "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
	    "Docker-Content-Digest: sha256:0000000000000000000000000000000000000000000000000000000000000000");
	route(&s, "GET", "/v2/x/manifests/sha256:1111", manifest,
	      "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json");
	r = setup(&s, NULL, NULL, NULL);
	manifest_fails(r, "x", "1", &err);
	assert_int_equal(err.code, OCB_EDIGEST);
	/* by digest: the body must hash to it */
	manifest_fails(r, "x", "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		       &err);
	assert_int_equal(err.code, OCB_EDIGEST);
	oci_registry_free(r);
	server_stop(&s);
}

static void test_long_retry_after_gives_up(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	struct ocb_error err = OCB_ERROR_INIT;

	route(&s, "GET", "/v2/x/manifests/1",
	      "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}",
	      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 100");
	r = setup(&s, NULL, NULL, NULL);
	manifest_fails(r, "x", "1", &err);
	assert_int_equal(s.routes[0].hits, 1);
	assert_non_null(strstr(err.msg, "HTTP 429: TOOMANYREQUESTS: slow down"));
	oci_registry_free(r);
	server_stop(&s);
}

static void test_schema1_refused(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	struct ocb_error err = OCB_ERROR_INIT;

	route(&s, "GET", "/v2/x/manifests/old", "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}",
	      "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.distribution.manifest.v1+prettyjws");
	r = setup(&s, NULL, NULL, NULL);
	manifest_fails(r, "x", "old", &err);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_non_null(strstr(err.msg, "unsupported media type"));
	oci_registry_free(r);
	server_stop(&s);
}

static void test_token_server_without_token(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	struct ocb_error err = OCB_ERROR_INIT;
	char head[512];

	route(&s, "GET", "/token", "{\"expires_in\":300}",
	      "HTTP/1.1 200 OK\r\nContent-Type: application/json");
	/* the realm needs the port: start first, then add the challenging route
	 * (before any request is made) */
	r = setup(&s, "HTTP/1.1 401 Unauthorized", NULL, NULL);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\","
		 "service=\"test\"",
		 s.port);
	route(&s, "GET", "/v2/x/manifests/1", "{}", head);
	manifest_fails(r, "x", "1", &err);
	assert_int_equal(err.code, OCB_EAUTH);
	assert_non_null(strstr(err.msg, "sent no token"));
	oci_registry_free(r);
	server_stop(&s);
}

static void test_basic_auth_sent(void **state)
{
	struct server s = SERVER_INIT;
	struct oci_registry *r;
	struct oci_descriptor d = {0};
	char *buf = NULL;
	size_t len = 0;

	route(&s, "GET", "/v2/x/manifests/1", manifest,
	      "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json");
	r = setup(&s, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"", "u", "p");
	assert_ok(oci_registry_get_manifest(r, "x", "1", &buf, &len, &d, &test_err));
	assert_string_equal(s.routes[0].auth, "Basic dTpw");
	assert_int_equal(len, strlen(manifest));
	assert_string_equal(d.media_type, OCI_MEDIA_TYPE_MANIFEST);
	free(buf);
	oci_descriptor_release(&d);
	oci_registry_free(r);
	server_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tags_paginated),
	    cmocka_unit_test(test_manifest_too_big),
	    cmocka_unit_test(test_error_json_in_message),
	    cmocka_unit_test(test_digest_header_mismatch),
	    cmocka_unit_test(test_long_retry_after_gives_up),
	    cmocka_unit_test(test_schema1_refused),
	    cmocka_unit_test(test_token_server_without_token),
	    cmocka_unit_test(test_basic_auth_sent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
