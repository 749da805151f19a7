#include "builder/build_export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/archive.h"
#include "oci/cleanup.h"
#include "oci/ref.h"
#include "oci/banned.h"

char *build_export_default_tag(const char *store_name)
{
	struct ocb_error ignored = OCB_ERROR_INIT;
	struct oci_ref ref = {0};
	char *tag = NULL;

	if (store_name && oci_ref_parse(store_name, &ref, &ignored) == 0 && ref.tag)
		tag = strdup(ref.tag);
	oci_ref_release(&ref);
	return tag ? tag : strdup(OCI_REF_DEFAULT_TAG);
}

char *build_export_familiar_name(const char *store_name)
{
	struct ocb_error ignored = OCB_ERROR_INIT;
	struct oci_ref ref = {0};
	char *name = NULL;

	if (store_name && oci_ref_parse(store_name, &ref, &ignored) == 0 && ref.tag)
		name = oci_ref_familiar_name(&ref);
	oci_ref_release(&ref);
	return name;
}

/* "dir:name" -> dir and name; a ':' before the last '/' belongs to the dir. */
static int split_layout_target(const char *target, char **dir, char **name, struct ocb_error *err)
{
	const char *slash = strrchr(target, '/');
	const char *colon = strrchr(slash ? slash : target, ':');

	*dir = colon ? strndup(target, (size_t)(colon - target)) : strdup(target);
	*name = colon ? strdup(colon + 1) : NULL;
	if (!*dir || (colon && !*name))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (!**dir || (colon && !**name))
		return ocb_error_set(err, OCB_EINVAL, 0, "oci:%s: empty directory or name", target);
	return 0;
}

int build_export_layout_dir(const struct oci_layout *store, const struct oci_descriptor *top,
			    const char *store_name, const char *target, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *name = NULL;
	struct oci_layout dst = {0};
	int ret = -1;

	if (split_layout_target(target, &dir, &name, err) < 0)
		return -1;
	if (!name && !(name = build_export_default_tag(store_name)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_layout_open(&dst, dir, true, err) < 0)
		return -1;
	if (oci_layout_copy(&dst, store, top, err) == 0 && oci_layout_set_ref(&dst, name, top, err) == 0)
		ret = 0;
	oci_layout_release(&dst);
	return ret;
}

int build_export_docker(const struct oci_layout *store, const struct oci_descriptor *top,
			const char *store_name, const char *platform, int64_t mtime, const char *path,
			struct ocb_error *err)
{
	struct oci_platform want = {0};
	struct oci_image img = {0};
	cleanup_free char *tag = build_export_familiar_name(store_name);
	char *tags[] = {tag, NULL};
	int ret = -1;

	if (platform ? oci_platform_parse(platform, &want, err) : oci_platform_host(&want, err))
		return platform ? ocb_error_wrap(err, "--platform") : -1;
	/* A single-platform image is saved whatever its platform unless asked. */
	if (oci_media_kind(top->media_type) != OCI_KIND_INDEX && !platform)
		ret = oci_layout_resolve(store, top, NULL, &img, err);
	else
		ret = oci_layout_resolve(store, top, &want, &img, err);
	if (ret == 0)
		ret = oci_archive_write_docker(store, &img, tag ? tags : NULL, mtime, path, err);
	oci_image_release(&img);
	oci_platform_release(&want);
	return ret;
}
