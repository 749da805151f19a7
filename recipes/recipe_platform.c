#include "recipes/recipe_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "oci/banned.h"

/* Aliases and the variant each architecture gets when none is written. */
static const struct {
	const char *alias;
	const char *arch;
	const char *default_variant;
} arch_table[] = {
    {"amd64", "amd64", ""},	{"x86_64", "amd64", ""},    {"x86-64", "amd64", ""},
    {"arm64", "arm64", ""},	{"aarch64", "arm64", ""},   {"arm", "arm", "v7"},
    {"armhf", "arm", "v7"},	{"armel", "arm", "v6"},	    {"386", "386", ""},
    {"i386", "386", ""},	{"i686", "386", ""},	    {"ppc64le", "ppc64le", ""},
    {"s390x", "s390x", ""},	{"riscv64", "riscv64", ""}, {"mips64le", "mips64le", ""},
    {"loong64", "loong64", ""},
};

static int platform_invalid(const char *s, const char *why, struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EINVAL, 0,
			     "invalid platform '%s': %s (use e.g. \"linux/amd64\", \"linux/arm64\")", s, why);
}

static int platform_variant_ok(const char *arch, const char *variant)
{
	if (!*variant)
		return 1;
	if (!strcmp(arch, "arm64"))
		return !strcmp(variant, "v8");
	if (!strcmp(arch, "arm"))
		return !strcmp(variant, "v5") || !strcmp(variant, "v6") || !strcmp(variant, "v7") ||
		       !strcmp(variant, "v8");
	if (!strcmp(arch, "amd64"))
		return !strcmp(variant, "v1") || !strcmp(variant, "v2") || !strcmp(variant, "v3") ||
		       !strcmp(variant, "v4");
	return 0;
}

int recipe_platform_parse(const char *s, struct recipe_platform *p, struct ocb_error *err)
{
	struct recipe_platform out;
	char os[32], arch[32], variant[32] = "";
	const char *a, *v;
	size_t i;

	memset(&out, 0, sizeof(out));
	a = strchr(s, '/');
	if (!a)
		return platform_invalid(s, "expected os/arch", err);
	v = strchr(a + 1, '/');
	if ((size_t)(a - s) >= sizeof(os) || strlen(a + 1) >= sizeof(arch))
		return platform_invalid(s, "too long", err);
	snprintf(os, sizeof(os), "%.*s", (int)(a - s), s);
	snprintf(arch, sizeof(arch), "%.*s", (int)(v ? v - a - 1 : (long)strlen(a + 1)), a + 1);
	if (v) {
		if (strchr(v + 1, '/') || !v[1])
			return platform_invalid(s, "expected os/arch[/variant]", err);
		snprintf(variant, sizeof(variant), "%s", v + 1);
	}
	if (strcmp(os, "linux") != 0)
		return platform_invalid(s, "ocb builds linux images only", err);
	for (i = 0; i < sizeof(arch_table) / sizeof(arch_table[0]); i++)
		if (!strcmp(arch, arch_table[i].alias))
			break;
	if (i == sizeof(arch_table) / sizeof(arch_table[0]))
		return platform_invalid(s, "unknown architecture", err);
	snprintf(out.os, sizeof(out.os), "linux");
	snprintf(out.arch, sizeof(out.arch), "%s", arch_table[i].arch);
	if (!platform_variant_ok(out.arch, variant))
		return platform_invalid(s, "unknown variant", err);
	/* arm64/v8 is the only arm64: containerd drops the variant. */
	if (!strcmp(out.arch, "arm64"))
		variant[0] = '\0';
	else if (!*variant)
		snprintf(variant, sizeof(variant), "%s", arch_table[i].default_variant);
	snprintf(out.variant, sizeof(out.variant), "%.7s", variant);
	snprintf(out.str, sizeof(out.str), "%s/%s%s%s", out.os, out.arch, *out.variant ? "/" : "",
		 out.variant);
	*p = out;
	return 0;
}

int recipe_platform_host(struct recipe_platform *p, struct ocb_error *err)
{
	struct utsname u;
	char s[80];

	if (uname(&u) < 0)
		return ocb_error_sys(err, "uname");
	if (!strncmp(u.machine, "armv7", 5))
		snprintf(s, sizeof(s), "linux/arm/v7");
	else if (!strncmp(u.machine, "armv6", 5))
		snprintf(s, sizeof(s), "linux/arm/v6");
	else
		snprintf(s, sizeof(s), "linux/%.60s", u.machine);
	return recipe_platform_parse(s, p, err);
}

static int platforms_add(struct recipe_platform **list, size_t *n, const char *s, struct ocb_error *err)
{
	struct recipe_platform p, *l;

	if (recipe_platform_parse(s, &p, err) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i].str, p.str))
			return ocb_error_set(err, OCB_EINVAL, 0, "platform '%s' is given twice", p.str);
	l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l)
		return ocb_error_sys(err, "out of memory");
	l[(*n)++] = p;
	*list = l;
	return 0;
}

static int platforms_from_arch(const char *arch, struct recipe_platform **list, size_t *n,
			       struct ocb_error *err)
{
	if (!strcmp(arch, "all"))
		return platforms_add(list, n, "linux/amd64", err) < 0
			   ? -1
			   : platforms_add(list, n, "linux/arm64", err);
	if (!strcmp(arch, "amd64") || !strcmp(arch, "arm64")) {
		char s[32];
		snprintf(s, sizeof(s), "linux/%s", arch);
		return platforms_add(list, n, s, err);
	}
	return ocb_error_set(err, OCB_EINVAL, 0, "--arch '%s': expected amd64, arm64 or all", arch);
}

int recipe_platforms_select(const char *platform_list, const char *arch, const char *const *recipe_platforms,
			    size_t n_recipe, struct recipe_platform **out, size_t *n, struct ocb_error *err)
{
	struct recipe_platform *list = NULL;
	size_t len = 0;
	int rc = 0;

	if (platform_list && arch) {
		rc = ocb_error_set(err, OCB_EINVAL, 0, "--arch and --platform cannot be used together");
	} else if (platform_list) {
		char *copy = strdup(platform_list), *save = NULL;
		if (!copy)
			return ocb_error_sys(err, "out of memory");
		for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save))
			rc = platforms_add(&list, &len, tok, err);
		free(copy);
		if (rc == 0 && !len)
			rc = ocb_error_set(err, OCB_EINVAL, 0, "--platform needs at least one platform");
	} else if (arch) {
		rc = platforms_from_arch(arch, &list, &len, err);
	} else if (n_recipe) {
		for (size_t i = 0; i < n_recipe && rc == 0; i++)
			rc = platforms_add(&list, &len, recipe_platforms[i], err);
	} else {
		struct recipe_platform host;
		rc = recipe_platform_host(&host, err) < 0 ? -1 : platforms_add(&list, &len, host.str, err);
	}
	if (rc < 0) {
		free(list);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}
