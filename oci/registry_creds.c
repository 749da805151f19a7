/* Registry credentials in Docker's config.json ($DOCKER_CONFIG/config.json
 * or ~/.docker/config.json): `auths` entries (base64 "user:secret" in
 * `auth`, or `username`/`password`), and credential helpers
 * (`credHelpers[host]`, else `credsStore`) run as `docker-credential-NAME get`
 * with the server on stdin.  Writing keeps every other entry and replaces
 * the file atomically with mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/fdio.h"
#include "oci/json.h"
#include "oci/registry_impl.h"
#include "oci/banned.h"

#define CREDS_FILE_MAX ((size_t)1 << 20)
#define HELPER_OUT_MAX ((size_t)1 << 16)
#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

extern char **environ;

/* Read fd to EOF, at most max bytes (more is OCB_ELIMIT); NUL-terminated. */
static int read_bounded(int fd, size_t max, char **out, size_t *len, struct ocb_error *err)
{
	cleanup_free char *buf = malloc(max + 1);
	ssize_t n;

	if (!buf)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	n = oci_read_full(fd, buf, max + 1);
	if (n < 0)
		return ocb_error_sys(err, "read");
	if ((size_t)n > max)
		return ocb_error_set(err, OCB_ELIMIT, 0, "more than %zu bytes", max);
	buf[n] = '\0';
	*len = (size_t)n;
	*out = steal_pointer(&buf);
	return 0;
}

int oci_registry_base64_encode(const void *data, size_t len, char **out, struct ocb_error *err)
{
	size_t n = 4 * ((len + 2) / 3) + 1;
	char *s;

	if (len > ((size_t)1 << 30))
		return ocb_error_set(err, OCB_ELIMIT, 0, "base64 input too large");
	if (!(s = malloc(n)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	EVP_EncodeBlock((unsigned char *)s, data, (int)len);
	*out = s;
	return 0;
}

int oci_registry_base64_decode(const char *s, char **out, size_t *len, struct ocb_error *err)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *buf;
	int got;

	if (n % 4 || n > ((size_t)1 << 20))
		return ocb_error_set(err, OCB_EINVAL, 0, "malformed base64");
	if (!(buf = malloc(n / 4 * 3 + 1)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (got < 0) {
		free(buf);
		return ocb_error_set(err, OCB_EINVAL, 0, "malformed base64");
	}
	pad = n && s[n - 1] == '=' ? (n > 1 && s[n - 2] == '=' ? 2 : 1) : 0;
	got -= (int)pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	buf[got] = '\0';
	*out = (char *)buf;
	*len = (size_t)got;
	return 0;
}

int oci_registry_config_dir(char **out, struct ocb_error *err)
{
	const char *env = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");
	char *s = NULL;

	if (env && *env)
		s = strdup(env);
	else if (home && *home && asprintf(&s, "%s/.docker", home) < 0)
		s = NULL;
	else if (!home || !*home)
		return ocb_error_set(err, OCB_EENV, 0,
				     "cannot find the Docker config: set DOCKER_CONFIG or HOME");
	if (!s)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*out = s;
	return 0;
}

char *oci_registry_host_of(const char *s)
{
	const char *p = s;
	char *h;

	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	if (!(h = strndup(p, strcspn(p, "/"))))
		return NULL;
	if (!strcmp(h, "index.docker.io") || !strcmp(h, "registry-1.docker.io")) {
		free(h);
		h = strdup("docker.io");
	}
	return h;
}

static bool key_matches(const char *key, const char *host)
{
	cleanup_free char *h = oci_registry_host_of(key);
	return h && !strcmp(h, host);
}

static int read_config(const char *dir, json_t **out, struct ocb_error *err)
{
	cleanup_free char *path = NULL;
	cleanup_free char *buf = NULL;
	cleanup_close int fd = -1;
	size_t len = 0;

	if (asprintf(&path, "%s/config.json", dir) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*out = NULL;
		return 0;
	}
	if (fd < 0 || read_bounded(fd, CREDS_FILE_MAX, &buf, &len, err) < 0)
		return fd < 0 ? ocb_error_sys(err, "open '%s'", path) : ocb_error_wrap(err, "'%s'", path);
	if (len == 0) {
		*out = NULL;
		return 0;
	}
	if (oci_json_load(buf, len, CREDS_FILE_MAX, "docker config", out, err) < 0)
		return ocb_error_wrap(err, "'%s'", path);
	return 0;
}

/* "user:secret" (or username/password fields) from an auths entry. */
static int entry_creds(const json_t *e, char **user, char **secret, struct ocb_error *err)
{
	json_t *auth = json_object_get(e, "auth");
	json_t *u = json_object_get(e, "username"), *pw = json_object_get(e, "password");
	json_t *idt = json_object_get(e, "identitytoken");
	cleanup_free char *plain = NULL;
	size_t len = 0;
	char *colon;

	if (json_is_string(idt) && json_string_length(idt)) { /* Docker's "<token>" convention */
		*user = strdup("<token>");
		*secret = strdup(json_string_value(idt));
	} else if (json_is_string(auth) && json_string_length(auth)) {
		if (oci_registry_base64_decode(json_string_value(auth), &plain, &len, err) < 0)
			return -1;
		if (strlen(plain) != len || !(colon = strchr(plain, ':'))) {
			explicit_bzero(plain, len);
			return ocb_error_set(err, OCB_EINVAL, 0,
					     "malformed auth entry (want base64 user:secret)");
		}
		*colon = '\0';
		*user = strdup(plain);
		*secret = strdup(colon + 1);
		explicit_bzero(plain, len);
	} else if (json_is_string(u) && json_is_string(pw)) {
		*user = strdup(json_string_value(u));
		*secret = strdup(json_string_value(pw));
	} else {
		return 0;
	}
	if (!*user || !*secret) {
		free(*user), free(*secret);
		*user = *secret = NULL;
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	return 1;
}

static bool helper_name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* Run `docker-credential-NAME ACTION` with input on stdin; its stdout in *out. */
static int run_helper(const char *name, const char *action, const char *input, char **out, size_t *len,
		      int *status, struct ocb_error *err)
{
	cleanup_free char *prog = NULL;
	int in[2] = {-1, -1}, outp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	char *argv[3] = {NULL, (char *)action, NULL};
	pid_t pid;
	int rc, ret = -1;

	if (asprintf(&prog, "docker-credential-%s", name) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	argv[0] = prog;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		ocb_error_sys(err, "pipe");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		ocb_error_set(err, OCB_EENV, rc, "credential helper '%s'", prog);
		goto out;
	}
	close(in[0]), close(outp[1]);
	in[0] = outp[1] = -1;
	{
		struct sigaction ign = {.sa_handler = SIG_IGN}, old;
		sigaction(SIGPIPE, &ign, &old);
		(void)!write(in[1], input, strlen(input));
		sigaction(SIGPIPE, &old, NULL);
	}
	close(in[1]);
	in[1] = -1;
	rc = read_bounded(outp[0], HELPER_OUT_MAX, out, len, err);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0)
		ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	return ret;
}

static int helper_get(const char *name, const char *host, char **user, char **secret, struct ocb_error *err)
{
	cleanup_free char *out = NULL;
	cleanup_json json_t *doc = NULL;
	const char *server = !strcmp(host, "docker.io") ? DOCKER_HUB_KEY : host;
	json_t *u, *s;
	size_t len = 0;
	int status = 0;

	if (!helper_name_ok(name))
		return ocb_error_set(err, OCB_EINVAL, 0, "bad credential helper name '%s'", name);
	if (run_helper(name, "get", server, &out, &len, &status, err) < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (out && strstr(out, "credentials not found"))
			return 0;
		return ocb_error_set(err, OCB_EAUTH, 0,
				     "credential helper 'docker-credential-%s' failed for '%s'", name, host);
	}
	if (oci_json_load(out, len, HELPER_OUT_MAX, "credential helper output", &doc, err) < 0)
		return -1;
	u = json_object_get(doc, "Username");
	s = json_object_get(doc, "Secret");
	if (!json_is_string(u) || !json_is_string(s))
		return ocb_error_set(err, OCB_EINVAL, 0, "credential helper '%s': no Username/Secret", name);
	*user = strdup(json_string_value(u));
	*secret = strdup(json_string_value(s));
	if (out)
		explicit_bzero(out, len);
	if (!*user || !*secret) {
		free(*user), free(*secret);
		*user = *secret = NULL;
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	return 1;
}

/* The helper that holds host's credentials, as Docker picks it:
 * credHelpers[host], else credsStore; NULL when the file holds them. */
static const char *helper_for(const json_t *cfg, const char *host)
{
	json_t *helpers = json_object_get(cfg, "credHelpers"), *store = json_object_get(cfg, "credsStore"),
	       *v;
	const char *key;

	json_object_foreach(helpers, key, v)
	{
		if (json_is_string(v) && key_matches(key, host))
			return json_string_value(v);
	}
	if (json_is_string(store) && json_string_length(store))
		return json_string_value(store);
	return NULL;
}

int oci_registry_creds_lookup(const char *dir, const char *host, char **user, char **secret,
			      struct ocb_error *err)
{
	cleanup_json json_t *cfg = NULL;
	const char *helper, *key;
	json_t *v;
	int rc;

	if (read_config(dir, &cfg, err) < 0)
		return -1;
	if (!cfg)
		return 0;
	if ((helper = helper_for(cfg, host)))
		return helper_get(helper, host, user, secret, err);
	json_object_foreach(json_object_get(cfg, "auths"), key, v)
	{
		if (!key_matches(key, host))
			continue;
		if ((rc = entry_creds(v, user, secret, err)) != 0)
			return rc < 0 ? ocb_error_wrap(err, "docker config '%s' entry '%s'", dir, key) : 1;
	}
	return 0;
}

/* `docker-credential-NAME store` or `erase`. */
static int helper_change(const char *name, const char *action, const char *input, const char *host,
			 struct ocb_error *err)
{
	cleanup_free char *out = NULL;
	size_t len = 0;
	int status = 0;

	if (!helper_name_ok(name))
		return ocb_error_set(err, OCB_EINVAL, 0, "bad credential helper name '%s'", name);
	if (run_helper(name, action, input, &out, &len, &status, err) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (out && strstr(out, "credentials not found"))
		return ocb_error_set(err, OCB_ENOTFOUND, 0, "not logged in to '%s'", host);
	return ocb_error_set(err, OCB_EENV, 0, "credential helper 'docker-credential-%s %s' failed for '%s'",
			     name, action, host);
}

static int write_config(const char *dir, const json_t *cfg, struct ocb_error *err)
{
	cleanup_free char *path = NULL;
	cleanup_free char *tmp = NULL;
	cleanup_free char *text = json_dumps(cfg, JSON_INDENT(1) | JSON_SORT_KEYS);
	cleanup_close int fd = -1;
	size_t len;

	if (!text || asprintf(&path, "%s/config.json", dir) < 0 ||
	    asprintf(&tmp, "%s/.config.json.XXXXXX", dir) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return ocb_error_sys(err, "mkdir '%s'", dir);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return ocb_error_sys(err, "create '%s'", tmp);
	len = strlen(text);
	if (fchmod(fd, 0600) < 0 || oci_write_all(fd, text, len) < 0 || oci_write_all(fd, "\n", 1) < 0 ||
	    fsync(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return ocb_error_sys(err, "write '%s'", path);
	}
	explicit_bzero(text, len);
	return 0;
}

/* {"ServerURL","Username","Secret"} for a helper's store; *out malloc'd. */
static int helper_payload(const char *host, const char *user, const char *secret, char **out,
			  struct ocb_error *err)
{
	const char *server = !strcmp(host, "docker.io") ? DOCKER_HUB_KEY : host;
	cleanup_json json_t *j =
	    json_pack("{ssssss}", "ServerURL", server, "Username", user, "Secret", secret);

	if (!j || !(*out = json_dumps(j, JSON_COMPACT)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

/* The auths key for host: an existing one that names it, else Docker's. */
static const char *auths_key(const json_t *auths, const char *host)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)auths, k, v)
	{
		if (key_matches(k, host))
			return k;
	}
	return !strcmp(host, "docker.io") ? DOCKER_HUB_KEY : host;
}

int oci_registry_creds_store(const char *dir, const char *host, const char *user, const char *secret,
			     struct ocb_error *err)
{
	cleanup_json json_t *cfg = NULL;
	cleanup_free char *plain = NULL;
	cleanup_free char *b64 = NULL;
	cleanup_free char *payload = NULL;
	cleanup_free char *key = NULL;
	const char *helper;
	json_t *auths, *entry;
	int ret;

	if (strchr(user, ':'))
		return ocb_error_set(err, OCB_EINVAL, 0, "user name '%s' contains ':'", user);
	if (read_config(dir, &cfg, err) < 0)
		return -1;
	if (!cfg && !(cfg = json_object()))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	auths = json_object_get(cfg, "auths");
	if (!json_is_object(auths)) {
		if (!(auths = json_object()) || json_object_set_new(cfg, "auths", auths) < 0)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if (!(key = strdup(auths_key(auths, host))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if ((helper = helper_for(cfg, host))) {
		/* Like Docker: the secret goes to the helper, the file keeps an empty entry. */
		ret = helper_payload(host, user, secret, &payload, err);
		if (ret == 0)
			ret = helper_change(helper, "store", payload, host, err);
		if (payload)
			explicit_bzero(payload, strlen(payload));
		if (ret < 0)
			return -1;
		entry = json_object();
	} else {
		if (asprintf(&plain, "%s:%s", user, secret) < 0)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		ret = oci_registry_base64_encode(plain, strlen(plain), &b64, err);
		explicit_bzero(plain, strlen(plain));
		if (ret < 0)
			return -1;
		entry = json_pack("{ss}", "auth", b64);
	}
	if (!entry || json_object_set_new(auths, key, entry) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	ret = write_config(dir, cfg, err);
	if (b64)
		explicit_bzero(b64, strlen(b64));
	return ret;
}

int oci_registry_creds_erase(const char *dir, const char *host, struct ocb_error *err)
{
	cleanup_json json_t *cfg = NULL;
	const char *helper, *k;
	json_t *auths, *v;
	void *tmp;
	bool found = false;

	if (read_config(dir, &cfg, err) < 0)
		return -1;
	if (cfg && (helper = helper_for(cfg, host))) {
		const char *server = !strcmp(host, "docker.io") ? DOCKER_HUB_KEY : host;
		if (helper_change(helper, "erase", server, host, err) < 0) {
			if (!err || err->code != OCB_ENOTFOUND)
				return -1;
		} else {
			found = true;
		}
	}
	auths = cfg ? json_object_get(cfg, "auths") : NULL;
	json_object_foreach_safe(auths, tmp, k, v)
	{
		if (key_matches(k, host)) {
			json_object_del(auths, k);
			found = true;
		}
	}
	if (!found)
		return ocb_error_set(err, OCB_ENOTFOUND, 0, "not logged in to '%s'", host);
	return write_config(dir, cfg, err);
}
