/* A stage's base image: the local store (by name), else its registry
 * (pulled for the stage's platform, builder/build_registry.c), oci:DIR[:TAG],
 * docker-archive:FILE (loaded into the store first) or scratch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "oci/archive.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

/* Take img's config and layers into out (img keeps the rest). */
static int image_from_resolved(struct oci_image *img, struct build_image *out, struct ocb_error *err)
{
	struct build_image bi = {0};

	if (img->manifest.n_layers != img->config.n_diff_ids)
		return ocb_error_set(err, OCB_EINVAL, 0, "image '%s': %zu layers but %zu diff_ids",
				     img->desc.digest.str, img->manifest.n_layers, img->config.n_diff_ids);
	for (size_t i = 0; i < img->manifest.n_layers; i++) {
		struct build_layer l = {
		    .desc = img->manifest.layers[i], .diff_id = img->config.diff_ids[i], .in_store = true};
		if (build_image_push_layer(&bi, &l, err) < 0) {
			build_image_release(&bi);
			return -1;
		}
	}
	bi.config = img->config;
	memset(&img->config, 0, sizeof(img->config));
	*out = bi;
	return 0;
}

static int resolve_in_store(struct build *b, const struct oci_descriptor *d, const struct oci_platform *want,
			    struct build_image *out, struct ocb_error *err)
{
	struct oci_image img = {0};
	int ret = oci_layout_resolve(&b->store, d, want, &img, err);

	if (ret == 0)
		ret = image_from_resolved(&img, out, err);
	oci_image_release(&img);
	return ret;
}

/* "DIR:TAG" -> dir, tag; a ':' before the last '/' belongs to the dir. */
static int split_dir_tag(const char *s, char **dir, char **tag, struct ocb_error *err)
{
	const char *slash = strrchr(s, '/');
	const char *colon = strrchr(slash ? slash : s, ':');

	*dir = colon ? strndup(s, (size_t)(colon - s)) : strdup(s);
	*tag = colon ? strdup(colon + 1) : NULL;
	if (!*dir || (colon && !*tag)) {
		free(*dir);
		free(*tag);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	return 0;
}

static int base_from_layout(struct build *b, const char *spec, const struct oci_platform *want,
			    struct build_image *out, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *tag = NULL;
	struct oci_layout src = {0};
	struct oci_descriptor d = {0};
	struct oci_image img = {0};
	int ret = -1;

	if (split_dir_tag(spec, &dir, &tag, err) < 0)
		return -1;
	if (oci_layout_open(&src, dir, false, err) < 0)
		return ocb_error_wrap(err, "oci:%s", spec);
	if (oci_layout_lookup(&src, tag, &d, NULL, err) < 0 ||
	    oci_layout_resolve(&src, &d, want, &img, err) < 0)
		goto out;
	/* Bring the one image into the store: its layers are then read from there. */
	if (oci_layout_copy(&b->store, &src, &img.desc, err) < 0)
		goto out;
	ret = image_from_resolved(&img, out, err);
out:
	if (ret < 0)
		ocb_error_wrap(err, "oci:%s", spec);
	oci_image_release(&img);
	oci_descriptor_release(&d);
	oci_layout_release(&src);
	return ret;
}

static int base_from_archive(struct build *b, const char *path, const struct oci_platform *want,
			     struct build_image *out, struct ocb_error *err)
{
	struct oci_loaded *loaded = NULL;
	size_t n = 0;
	int ret;

	if (oci_archive_load(&b->store, path, b->tmp_dir, &loaded, &n, err) < 0)
		return ocb_error_wrap(err, "docker-archive:%s", path);
	if (n == 0)
		ret = ocb_error_set(err, OCB_EINVAL, 0, "docker-archive:%s: no image in the archive", path);
	else
		ret = resolve_in_store(b, &loaded[0].desc, want, out, err);
	oci_loaded_free(loaded, n);
	return ret;
}

int build_resolve_image(struct build *b, const char *name, const struct recipe_pos *pos,
			const struct oci_platform *want, struct build_image *out, struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	int ret;

	if (oci_layout_lookup(&b->store, name, &d, NULL, err) < 0) {
		if (err->code != OCB_ENOTFOUND)
			return -1;
		if (build_pull_image(b, name, want, &d, err) < 0) {
			ocb_error_wrap(err, "%s:%u:%u: image '%s' is not in the local store", pos->file,
				       pos->line, pos->col, name);
			if (err->code == OCB_ENOTFOUND)
				err->code = OCB_EINVAL; /* the recipe names an image nobody has */
			return -1;
		}
	}
	ret = resolve_in_store(b, &d, want, out, err);
	if (ret < 0 && err->code == OCB_ENOTFOUND) {
		/* an index without that platform, or one image of another */
		cleanup_free char *p = oci_platform_format(want);
		ocb_error_wrap(err, "%s:%u:%u: image '%s' has no %s image", pos->file, pos->line, pos->col,
			       name, p ? p : "such");
		err->code = OCB_EINVAL;
	}
	oci_descriptor_release(&d);
	return ret;
}

static int base_scratch(const struct oci_platform *want, struct build_image *out, struct ocb_error *err)
{
	struct build_image bi = {0};

	if (oci_config_init(&bi.config, want, err) < 0)
		return -1;
	*out = bi;
	return 0;
}

int build_resolve_base(struct build *b, size_t s, struct ocb_error *err)
{
	const struct recipe_stage *st = &b->recipe->stages[s];
	const char *from = st->from.value;
	struct oci_platform want = {0};
	int ret;

	if (oci_platform_parse(st->resolved_platform.str, &want, err) < 0)
		return -1;
	if (st->base == RECIPE_BASE_SCRATCH)
		ret = base_scratch(&want, &b->bases[s], err);
	else if (!strncmp(from, "oci:", 4))
		ret = base_from_layout(b, from + 4, &want, &b->bases[s], err);
	else if (!strncmp(from, "docker-archive:", 15))
		ret = base_from_archive(b, from + 15, &want, &b->bases[s], err);
	else
		ret = build_resolve_image(b, from, &st->from.pos, &want, &b->bases[s], err);
	oci_platform_release(&want);
	if (ret < 0)
		return ocb_error_wrap(err, "stage '%s'", st->name);
	return 0;
}
