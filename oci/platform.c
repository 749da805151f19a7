#include "oci/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/strv.h"
#include "oci/banned.h"

#define PLATFORM_PART_MAX 64

static int nomem(struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

/* uname/Debian spellings to GOARCH, with the variant they imply. */
static const struct {
	const char *alias;
	const char *arch;
	const char *variant;
} arch_aliases[] = {
    {"x86_64", "amd64", NULL},	  {"x86-64", "amd64", NULL}, {"aarch64", "arm64", NULL},
    {"armhf", "arm", "v7"},	  {"armel", "arm", "v6"},    {"armv7l", "arm", "v7"},
    {"armv6l", "arm", "v6"},	  {"i386", "386", NULL},     {"i686", "386", NULL},
    {"ppc64el", "ppc64le", NULL}, {"x86", "386", NULL},
};

static int replace(char **field, const char *value, struct ocb_error *err)
{
	char *s = value ? strdup(value) : NULL;

	if (value && !s)
		return nomem(err);
	free(*field);
	*field = s;
	return 0;
}

int oci_platform_normalize(struct oci_platform *p, struct ocb_error *err)
{
	for (size_t i = 0; i < sizeof(arch_aliases) / sizeof(arch_aliases[0]); i++) {
		if (p->architecture && strcmp(p->architecture, arch_aliases[i].alias) == 0) {
			if (replace(&p->architecture, arch_aliases[i].arch, err) < 0)
				return -1;
			if (!p->variant && arch_aliases[i].variant &&
			    replace(&p->variant, arch_aliases[i].variant, err) < 0)
				return -1;
			break;
		}
	}
	if (p->architecture && !p->variant) {
		if (!strcmp(p->architecture, "arm64"))
			return replace(&p->variant, "v8", err);
		if (!strcmp(p->architecture, "arm"))
			return replace(&p->variant, "v7", err);
	}
	return 0;
}

/* [a-z0-9_.-]+: what may appear in an os, architecture or variant. */
static bool part_ok(const char *s, size_t n)
{
	if (n == 0 || n > PLATFORM_PART_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int oci_platform_parse(const char *s, struct oci_platform *out, struct ocb_error *err)
{
	struct oci_platform p = {0};
	const char *parts[3] = {0};
	size_t lens[3] = {0};
	size_t n = 0;
	const char *q = s;

	if (!s)
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid platform '': empty");
	for (;;) {
		const char *slash = strchr(q, '/');
		size_t len = slash ? (size_t)(slash - q) : strlen(q);
		if (n == 3 || !part_ok(q, len))
			return ocb_error_set(
			    err, OCB_EINVAL, 0,
			    "invalid platform '%.100s': want os/arch[/variant], e.g. linux/arm64", s);
		parts[n] = q;
		lens[n++] = len;
		if (!slash)
			break;
		q = slash + 1;
	}
	if (n == 1) {
		/* A bare architecture: linux is implied. */
		p.os = strdup("linux");
		p.architecture = strndup(parts[0], lens[0]);
	} else {
		p.os = strndup(parts[0], lens[0]);
		p.architecture = strndup(parts[1], lens[1]);
		if (n == 3)
			p.variant = strndup(parts[2], lens[2]);
	}
	if (!p.os || !p.architecture || (n == 3 && !p.variant) || oci_platform_normalize(&p, err) < 0) {
		oci_platform_release(&p);
		return nomem(err);
	}
	*out = p;
	return 0;
}

int oci_platform_host(struct oci_platform *out, struct ocb_error *err)
{
	struct utsname u;
	cleanup_free char *s = NULL;

	if (uname(&u) < 0)
		return ocb_error_sys(err, "uname");
	if (asprintf(&s, "linux/%s", u.machine) < 0)
		return nomem(err);
	return oci_platform_parse(s, out, err);
}

char *oci_platform_format(const struct oci_platform *p)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s%s%s", p->os ? p->os : "", p->architecture ? p->architecture : "",
		     p->variant ? "/" : "", p->variant ? p->variant : "") < 0)
		return NULL;
	return s;
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The variant a platform means when it gives none. */
static const char *effective_variant(const struct oci_platform *p)
{
	if (p->variant)
		return p->variant;
	if (p->architecture && !strcmp(p->architecture, "arm64"))
		return "v8";
	if (p->architecture && !strcmp(p->architecture, "arm"))
		return "v7";
	return NULL;
}

bool oci_platform_match(const struct oci_platform *want, const struct oci_platform *have)
{
	return str_eq(want->os, have->os) && str_eq(want->architecture, have->architecture) &&
	       str_eq(effective_variant(want), effective_variant(have));
}

int oci_platform_copy(struct oci_platform *dst, const struct oci_platform *src, struct ocb_error *err)
{
	struct oci_platform p = {0};

	if ((src->os && !(p.os = strdup(src->os))) ||
	    (src->architecture && !(p.architecture = strdup(src->architecture))) ||
	    (src->variant && !(p.variant = strdup(src->variant))) ||
	    (src->os_version && !(p.os_version = strdup(src->os_version)))) {
		oci_platform_release(&p);
		return nomem(err);
	}
	if (oci_strv_copy(&p.os_features, src->os_features, err) < 0) {
		oci_platform_release(&p);
		return -1;
	}
	*dst = p;
	return 0;
}

void oci_platform_release(struct oci_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	oci_strv_free(p->os_features);
	memset(p, 0, sizeof(*p));
}

int oci_platform_from_json(const json_t *j, struct oci_platform *out, struct ocb_error *err)
{
	struct oci_platform p = {0};

	if (!json_is_object(j))
		return ocb_error_set(err, OCB_EINVAL, 0, "field 'platform' must be an object");
	if (oci_json_get_string(j, "os", &p.os, err) < 0 ||
	    oci_json_get_string(j, "architecture", &p.architecture, err) < 0 ||
	    oci_json_get_string(j, "variant", &p.variant, err) < 0 ||
	    oci_json_get_string(j, "os.version", &p.os_version, err) < 0 ||
	    oci_json_get_strv(j, "os.features", &p.os_features, err) < 0) {
		oci_platform_release(&p);
		return ocb_error_wrap(err, "platform");
	}
	if (!p.os || !p.architecture) {
		oci_platform_release(&p);
		return ocb_error_set(err, OCB_EINVAL, 0, "platform: 'os' and 'architecture' are required");
	}
	*out = p;
	return 0;
}

json_t *oci_platform_to_json(const struct oci_platform *p)
{
	json_t *j = json_object();
	bool ok = j != NULL;

	if (!j)
		return NULL;
	oci_json_set_string(j, "os", p->os, &ok);
	oci_json_set_string(j, "architecture", p->architecture, &ok);
	oci_json_set_string(j, "variant", p->variant, &ok);
	oci_json_set_string(j, "os.version", p->os_version, &ok);
	oci_json_set_strv(j, "os.features", p->os_features, &ok);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}
