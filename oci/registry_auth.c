/* Registry auth: anonymous, HTTP basic, and bearer tokens from the
 * WWW-Authenticate challenge (the Docker token protocol: GET realm?service=
 * &scope=, with basic credentials when there are some), cached per scope and
 * refreshed once when a request is refused.  Credentials and tokens never
 * appear in messages. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/registry_impl.h"
#include "oci/banned.h"

#define CHALLENGE_MAX 4096

void oci_registry_challenge_release(struct oci_registry_challenge *c)
{
	if (!c)
		return;
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* One auth-param: token "=" ( token / quoted-string ).  *p advances past it
 * and a following comma. */
static int parse_param(const char **p, char **key, char **value)
{
	const char *s = *p, *k;
	size_t klen, vcap, vlen = 0;
	char *v;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	k = s;
	while (*s && (isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.'))
		s++;
	klen = (size_t)(s - k);
	while (*s == ' ')
		s++;
	if (!klen || *s != '=')
		return -1;
	s++;
	while (*s == ' ')
		s++;
	vcap = strlen(s) + 1;
	if (!(v = malloc(vcap)))
		return -1;
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1])
				s++;
			v[vlen++] = *s;
		}
		if (*s != '"') {
			free(v);
			return -1;
		}
		s++;
	} else {
		while (*s && *s != ',' && *s != ' ')
			v[vlen++] = *s++;
	}
	v[vlen] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s && *s != ',') {
		free(v);
		return -1;
	}
	if (!(*key = strndup(k, klen))) {
		free(v);
		return -1;
	}
	*value = v;
	*p = s;
	return 0;
}

int oci_registry_parse_challenge(const char *hdr, struct oci_registry_challenge *out, struct ocb_error *err)
{
	struct oci_registry_challenge c = {0};
	const char *p;

	if (!hdr || strlen(hdr) > CHALLENGE_MAX)
		return ocb_error_set(err, OCB_EINVAL, 0, "missing or oversized WWW-Authenticate challenge");
	p = hdr + strspn(hdr, " ");
	if (!strncasecmp(p, "Bearer", 6) && (p[6] == ' ' || p[6] == '\0'))
		c.kind = REG_AUTH_BEARER, p += 6;
	else if (!strncasecmp(p, "Basic", 5) && (p[5] == ' ' || p[5] == '\0'))
		c.kind = REG_AUTH_BASIC, p += 5;
	else
		return ocb_error_set(err, OCB_EINVAL, 0, "unsupported authentication scheme in '%.40s'", hdr);
	while (*(p += strspn(p, " ,\t"))) {
		char *key = NULL, *value = NULL, **slot = NULL;
		if (parse_param(&p, &key, &value) < 0) {
			oci_registry_challenge_release(&c);
			return ocb_error_set(err, OCB_EINVAL, 0, "malformed WWW-Authenticate challenge");
		}
		if (!strcasecmp(key, "realm"))
			slot = &c.realm;
		else if (!strcasecmp(key, "service"))
			slot = &c.service;
		else if (!strcasecmp(key, "scope"))
			slot = &c.scope;
		if (slot) {
			free(*slot);
			*slot = value;
		} else {
			free(value);
		}
		free(key);
	}
	if (c.kind == REG_AUTH_BEARER && (!c.realm || !*c.realm)) {
		oci_registry_challenge_release(&c);
		return ocb_error_set(err, OCB_EINVAL, 0, "bearer challenge without a realm");
	}
	*out = c;
	return 0;
}

void reg_auth_release(struct oci_registry *r)
{
	for (size_t i = 0; i < r->n_tokens; i++) {
		free(r->tokens[i].scope);
		if (r->tokens[i].token)
			explicit_bzero(r->tokens[i].token, strlen(r->tokens[i].token));
		free(r->tokens[i].token);
	}
	free(r->tokens);
	r->tokens = NULL;
	r->n_tokens = 0;
	free(r->realm);
	free(r->service);
	r->realm = r->service = NULL;
}

static char *basic_header(const struct oci_registry *r, struct ocb_error *err)
{
	cleanup_free char *plain = NULL;
	cleanup_free char *b64 = NULL;
	char *h = NULL;

	if (asprintf(&plain, "%s:%s", r->username, r->password ? r->password : "") < 0) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		return NULL;
	}
	if (oci_registry_base64_encode(plain, strlen(plain), &b64, err) == 0 &&
	    asprintf(&h, "Basic %s", b64) < 0) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		h = NULL;
	}
	explicit_bzero(plain, strlen(plain));
	return h;
}

static struct reg_token *find_token(struct oci_registry *r, const char *scope)
{
	for (size_t i = 0; i < r->n_tokens; i++)
		if (!strcmp(r->tokens[i].scope, scope))
			return &r->tokens[i];
	return NULL;
}

/* url + sep + key=escaped(value); url is freed.  NULL on ENOMEM. */
static char *append_param(CURL *h, char *url, char *sep, const char *key, const char *value)
{
	char *e = curl_easy_escape(h, value, 0);
	char *next = NULL;

	if (!e || asprintf(&next, "%s%c%s=%s", url, *sep, key, e) < 0)
		next = NULL;
	curl_free(e);
	free(url);
	*sep = '&';
	return next;
}

/* realm?service=S&scope=A&scope=B (scope space-separated in ours). */
static char *token_url(CURL *h, const char *realm, const char *service, const char *scope)
{
	cleanup_free char *copy = scope ? strdup(scope) : NULL;
	char *url = NULL, *save = NULL;
	char sep = strchr(realm, '?') ? '&' : '?';

	if ((scope && !copy) || !(url = strdup(realm)))
		return NULL;
	if (service && !(url = append_param(h, url, &sep, "service", service)))
		return NULL;
	for (char *tok = copy ? strtok_r(copy, " ", &save) : NULL; tok; tok = strtok_r(NULL, " ", &save))
		if (!(url = append_param(h, url, &sep, "scope", tok)))
			return NULL;
	return url;
}

static int parse_token_response(struct oci_registry *r, const struct reg_resp *resp, char **out,
				struct ocb_error *err)
{
	cleanup_json json_t *doc = NULL;
	json_t *tok;

	if (oci_json_load(resp->body ? resp->body : "", resp->body_len, OCI_REGISTRY_SMALL_MAX,
			  "token response", &doc, err) < 0)
		return ocb_error_wrap(err, "registry '%s'", r->host);
	tok = json_object_get(doc, "token");
	if (!json_is_string(tok) || !json_string_length(tok))
		tok = json_object_get(doc, "access_token");
	if (!json_is_string(tok) || !json_string_length(tok))
		return ocb_error_set(err, OCB_EAUTH, 0, "registry '%s': the token server sent no token",
				     r->host);
	for (const char *p = json_string_value(tok); *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return ocb_error_set(err, OCB_EAUTH, 0, "registry '%s': malformed token", r->host);
	if (!(*out = strdup(json_string_value(tok))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

/* GET a token for scope from the realm; called with r->lock held. */
/* Docker's convention: user "<token>" means the secret is an OAuth2
 * identity (refresh) token, exchanged with a POST instead of basic auth. */
#define IDENTITY_TOKEN_USER "<token>"

static bool has_identity_token(const struct oci_registry *r)
{
	return r->username && !strcmp(r->username, IDENTITY_TOKEN_USER) && r->password;
}

/* grant_type=refresh_token&service=S&client_id=ocb&scope=A B&refresh_token=T */
static char *oauth_form(CURL *h, const struct oci_registry *r, const char *scope)
{
	char *body = NULL, *svc = curl_easy_escape(h, r->service ? r->service : "", 0);
	char *sc = curl_easy_escape(h, scope ? scope : "", 0);
	char *tok = curl_easy_escape(h, r->password, 0);

	if (!svc || !sc || !tok ||
	    asprintf(&body, "grant_type=refresh_token&client_id=ocb&service=%s&scope=%s&refresh_token=%s",
		     svc, sc, tok) < 0)
		body = NULL;
	if (tok)
		explicit_bzero(tok, strlen(tok));
	curl_free(svc), curl_free(sc), curl_free(tok);
	return body;
}

/* GET a token for scope from the realm (POST with an identity token);
 * called with r->lock held. */
static int fetch_token(struct oci_registry *r, CURL *h, const char *scope, char **out, struct ocb_error *err)
{
	bool oauth = has_identity_token(r);
	cleanup_free char *url = oauth ? strdup(r->realm) : token_url(h, r->realm, r->service, scope);
	cleanup_free char *basic = NULL;
	cleanup_free char *form = NULL;
	struct reg_resp resp;
	struct reg_req q;
	int ret = -1;

	if (!url)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (strncmp(url, "https://", 8) && !(r->allow_http && !strncmp(url, "http://", 7)))
		return ocb_error_set(err, OCB_EAUTH, 0,
				     "registry '%s': refusing token realm '%s' (not https)", r->host,
				     r->realm);
	if (oauth ? !(form = oauth_form(h, r, scope)) : r->username && !(basic = basic_header(r, err)))
		return oauth ? ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory") : -1;
	reg_req_init(&q, oauth ? "POST" : "GET", url);
	q.no_auth = true;
	q.authorization = basic;
	if (form) {
		q.body = form;
		q.body_len = strlen(form);
		q.content_type = "application/x-www-form-urlencoded";
	}
	if (reg_do(r, h, &q, &resp, err) < 0)
		ret = ocb_error_wrap(err, "token for '%s'", scope ? scope : "(none)");
	else if (resp.status != 200)
		reg_status_error(r, &resp, err, "token server refused %s%s%s",
				 oauth	       ? "the identity token"
				 : r->username ? "the credentials"
					       : "anonymous access",
				 scope ? " for " : "", scope ? scope : "");
	else
		ret = parse_token_response(r, &resp, out, err);
	if (ret < 0 && err)
		err->code = OCB_EAUTH;
	if (basic)
		explicit_bzero(basic, strlen(basic));
	if (form)
		explicit_bzero(form, strlen(form));
	reg_resp_release(&resp); /* reg_do leaves it empty on failure */
	return ret;
}

int reg_auth_header(struct oci_registry *r, void *curl, const char *scope, char **out, struct ocb_error *err)
{
	const char *key = scope ? scope : "";
	struct reg_token *t, *v;
	char *tok = NULL;
	int ret = 0;

	*out = NULL;
	pthread_mutex_lock(&r->lock);
	if (r->auth_kind == REG_AUTH_BASIC && r->username && !has_identity_token(r)) {
		if (!(*out = basic_header(r, err)))
			ret = -1;
	} else if (r->auth_kind == REG_AUTH_BEARER) {
		if (!(t = find_token(r, key))) {
			if (fetch_token(r, curl, scope, &tok, err) < 0) {
				ret = -1;
				goto out;
			}
			if (!(v = realloc(r->tokens, (r->n_tokens + 1) * sizeof(*v))) ||
			    !(v[r->n_tokens].scope = strdup(key))) {
				if (v)
					r->tokens = v;
				free(tok);
				ret = ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
				goto out;
			}
			r->tokens = v;
			v[r->n_tokens].token = tok;
			t = &v[r->n_tokens++];
		}
		if (asprintf(out, "Bearer %s", t->token) < 0) {
			*out = NULL;
			ret = ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
	}
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static void drop_token(struct oci_registry *r, const char *key)
{
	struct reg_token *t = find_token(r, key);

	if (!t)
		return;
	explicit_bzero(t->token, strlen(t->token));
	free(t->token);
	free(t->scope);
	*t = r->tokens[--r->n_tokens];
}

int reg_auth_challenged(struct oci_registry *r, void *curl, const char *scope, const char *www_authenticate,
			bool retried, struct ocb_error *err)
{
	struct oci_registry_challenge c;
	int ret = 0;

	if (retried)
		return ocb_error_set(err, OCB_EAUTH, 0, "registry '%s': %s", r->host,
				     r->username ? "the credentials were refused (HTTP 401)"
						 : "authentication required (HTTP 401); run 'ocb login'");
	if (oci_registry_parse_challenge(www_authenticate, &c, err) < 0) {
		if (err)
			err->code = OCB_EAUTH;
		return ocb_error_wrap(err, "registry '%s': HTTP 401", r->host);
	}
	pthread_mutex_lock(&r->lock);
	r->auth_kind = c.kind;
	if (c.kind == REG_AUTH_BEARER) {
		free(r->realm);
		free(r->service);
		r->realm = steal_pointer(&c.realm);
		r->service = steal_pointer(&c.service);
		drop_token(r, scope ? scope : "");
	} else if (!r->username) {
		ret = ocb_error_set(err, OCB_EAUTH, 0,
				    "registry '%s': authentication required (HTTP 401); "
				    "run 'ocb login %s'",
				    r->host, r->host);
	}
	pthread_mutex_unlock(&r->lock);
	oci_registry_challenge_release(&c);
	return ret;
}
