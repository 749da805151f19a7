#include "oci/ref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

#define LEGACY_REGISTRY "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define REF_INPUT_MAX	1024

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

/* [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool path_component_ok(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
	}
}

static bool repository_ok(const char *s)
{
	const char *p = s;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!path_component_ok(p, n))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

/* [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] */
static bool domain_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* host ( "." host )* ( ":" [0-9]+ )? */
static bool domain_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t hostlen = colon ? (size_t)(colon - s) : n;
	size_t i = 0;

	if (colon) {
		size_t plen = n - hostlen - 1;
		if (plen == 0 || plen > 5)
			return false;
		for (size_t j = hostlen + 1; j < n; j++)
			if (s[j] < '0' || s[j] > '9')
				return false;
	}
	while (i <= hostlen) {
		const char *dot = memchr(s + i, '.', hostlen - i);
		size_t clen = dot ? (size_t)(dot - (s + i)) : hostlen - i;
		if (!domain_component_ok(s + i, clen))
			return false;
		i += clen + 1;
	}
	return true;
}

bool oci_ref_tag_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > OCI_REF_TAG_MAX || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* The first component names a registry when it looks like a host name. */
static bool looks_like_registry(const char *s, size_t n)
{
	if (memchr(s, '.', n) || memchr(s, ':', n))
		return true;
	if (n == sizeof("localhost") - 1 && memcmp(s, "localhost", n) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

static bool is_64_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

static int ref_invalid(struct ocb_error *err, const char *s, const char *why)
{
	return ocb_error_set(err, OCB_EINVAL, 0, "invalid image reference '%.300s': %s", s, why);
}

/* Split name into registry and repository, normalising Docker Hub names. */
static int split_registry(const char *input, const char *name, char **registry, char **repository,
			  struct ocb_error *err)
{
	const char *slash = strchr(name, '/');
	cleanup_free char *reg = NULL;
	cleanup_free char *repo = NULL;

	if (slash && looks_like_registry(name, (size_t)(slash - name))) {
		if (!domain_ok(name, (size_t)(slash - name)))
			return ref_invalid(err, input, "bad registry name");
		reg = strndup(name, (size_t)(slash - name));
		name = slash + 1;
	} else {
		reg = strdup(OCI_REF_DEFAULT_REGISTRY);
	}
	if (!reg)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (strcmp(reg, LEGACY_REGISTRY) == 0) {
		free(reg);
		reg = strdup(OCI_REF_DEFAULT_REGISTRY);
		if (!reg)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if (!strcmp(reg, OCI_REF_DEFAULT_REGISTRY) && !strchr(name, '/')) {
		if (asprintf(&repo, OFFICIAL_PREFIX "%s", name) < 0)
			repo = NULL;
	} else {
		repo = strdup(name);
	}
	if (!repo)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (!repository_ok(repo))
		return ref_invalid(
		    err, input,
		    "repository must be lowercase [a-z0-9] components separated by '.', '_', '__' "
		    "or '-'");
	if (strlen(reg) + 1 + strlen(repo) > OCI_REF_NAME_MAX)
		return ref_invalid(err, input, "name longer than 255 characters");
	*registry = steal_pointer(&reg);
	*repository = steal_pointer(&repo);
	return 0;
}

int oci_ref_parse(const char *s, struct oci_ref *out, struct ocb_error *err)
{
	struct oci_ref r = {0};
	cleanup_free char *copy = NULL;
	char *at, *slash, *colon;

	if (!s || !*s)
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid image reference '': empty");
	if (strlen(s) > REF_INPUT_MAX)
		return ref_invalid(err, s, "too long");
	if (is_64_hex(s))
		return ref_invalid(err, s, "a 64-character hexadecimal string is an image id, not a name");
	copy = strdup(s);
	if (!copy)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	at = strchr(copy, '@');
	if (at) {
		*at = '\0';
		if (!oci_digest_is_valid(at + 1))
			return ref_invalid(err, s,
					   "digest must be sha256: followed by 64 lowercase hex digits");
		memcpy(r.digest.str, at + 1, sizeof(r.digest.str));
		r.has_digest = true;
	}
	slash = strrchr(copy, '/');
	colon = strrchr(slash ? slash : copy, ':');
	if (colon) {
		*colon = '\0';
		if (!oci_ref_tag_is_valid(colon + 1))
			return ref_invalid(err, s, "tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
	}
	if (!*copy)
		return ref_invalid(err, s, "missing repository name");
	if (split_registry(s, copy, &r.registry, &r.repository, err) < 0)
		return -1;
	if (colon || !r.has_digest) {
		r.tag = strdup(colon ? colon + 1 : OCI_REF_DEFAULT_TAG);
		if (!r.tag) {
			oci_ref_release(&r);
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
	}
	*out = r;
	return 0;
}

void oci_ref_release(struct oci_ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->repository);
	free(r->tag);
	r->registry = r->repository = r->tag = NULL;
	r->has_digest = false;
}

/* prefix + (":" tag) + ("@" digest), each part optional. */
static char *format_name(const char *prefix, const struct oci_ref *r, bool with_tag, bool with_digest)
{
	char *s = NULL;
	bool tag = with_tag && r->tag;
	bool dig = with_digest && r->has_digest;

	if (asprintf(&s, "%s%s%s%s%s", prefix, tag ? ":" : "", tag ? r->tag : "", dig ? "@" : "",
		     dig ? r->digest.str : "") < 0)
		return NULL;
	return s;
}

char *oci_ref_repo_name(const struct oci_ref *r)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", r->registry, r->repository) < 0)
		return NULL;
	return s;
}

char *oci_ref_full_name(const struct oci_ref *r)
{
	cleanup_free char *repo = oci_ref_repo_name(r);

	return repo ? format_name(repo, r, true, true) : NULL;
}

char *oci_ref_familiar_name(const struct oci_ref *r)
{
	cleanup_free char *repo = NULL;
	const char *short_repo = r->repository;

	if (strcmp(r->registry, OCI_REF_DEFAULT_REGISTRY) != 0)
		return oci_ref_full_name(r);
	if (!strncmp(short_repo, OFFICIAL_PREFIX, sizeof(OFFICIAL_PREFIX) - 1) &&
	    !strchr(short_repo + sizeof(OFFICIAL_PREFIX) - 1, '/'))
		short_repo += sizeof(OFFICIAL_PREFIX) - 1;
	return format_name(short_repo, r, true, true);
}

char *oci_ref_local_name(const struct oci_ref *r)
{
	cleanup_free char *repo = oci_ref_repo_name(r);

	if (!repo)
		return NULL;
	return r->tag ? format_name(repo, r, true, false) : format_name(repo, r, false, true);
}
