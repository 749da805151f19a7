/* Platform strings "os/arch[/variant]" for recipes (recipes/ does not depend
 * on oci/, so it has its own small parser).  Normalised like containerd:
 * "linux/aarch64" -> linux/arm64, "linux/x86_64" -> linux/amd64,
 * "linux/arm64/v8" -> linux/arm64, "linux/arm" -> linux/arm/v7. */
#ifndef OCB_RECIPE_PLATFORM_H
#define OCB_RECIPE_PLATFORM_H

#include <stddef.h>

#include "oci/error.h"

struct recipe_platform {
	char os[16];
	char arch[16];
	char variant[8]; /* "" when none */
	char str[48];	 /* normalised "linux/arm/v7" */
};

/* Only os "linux" is accepted; arch must be one ocb knows. */
int recipe_platform_parse(const char *s, struct recipe_platform *p, struct ocb_error *err);
/* The platform of the machine ocb runs on (from uname). */
int recipe_platform_host(struct recipe_platform *p, struct ocb_error *err);

/* The platforms to build, as `ocb build` and `ocb check` choose them:
 * --platform "linux/amd64,linux/arm64" (platform_list), else --arch
 * amd64|arm64|all (all = linux/amd64 and linux/arm64), else the recipe's
 * [image].platforms (recipe_platforms, n_recipe), else the host's.  Both
 * options at once, a bad name or a duplicate are OCB_EINVAL.  *out is
 * malloc'd. */
int recipe_platforms_select(const char *platform_list, const char *arch, const char *const *recipe_platforms,
			    size_t n_recipe, struct recipe_platform **out, size_t *n, struct ocb_error *err);

#endif
