/* ocb manifest create NAME[:TAG] REF...: one multi-platform index from
 * images in the local store (an index given as REF contributes its entries). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/cli_store.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/banned.h"

static const char manifest_usage[] = "usage: ocb manifest create NAME[:TAG] REF...\n"
				     "Makes a multi-platform index of the images REF... under NAME.\n";

/* Append the entries an image (manifest or index) contributes to the index. */
static int add_image(const struct oci_layout *store, const char *query, struct oci_index *x,
		     struct ocb_error *err)
{
	struct oci_descriptor top = {0};
	struct oci_image img = {0};
	int ret = -1;

	if (oci_layout_lookup(store, query, &top, NULL, err) < 0)
		return ocb_error_wrap(err, "'%s'", query);
	if (oci_media_kind(top.media_type) == OCI_KIND_INDEX) {
		cleanup_free char *buf = NULL;
		size_t len;
		struct oci_index sub = {0};
		if (oci_layout_read_blob(store, &top, &buf, &len, err) < 0 ||
		    oci_index_parse(buf, len, &sub, err) < 0)
			goto out;
		for (size_t i = 0; i < sub.n_manifests && ret == -1; i++)
			if (oci_index_add(x, &sub.manifests[i], err) < 0)
				ret = -2;
		oci_index_release(&sub);
		ret = ret == -2 ? -1 : 0;
		goto out;
	}
	/* A single manifest: its platform comes from its config. */
	if (oci_layout_resolve(store, &top, NULL, &img, err) < 0)
		goto out;
	oci_platform_release(img.desc.platform);
	free(img.desc.platform);
	img.desc.platform = calloc(1, sizeof(*img.desc.platform));
	if (!img.desc.platform) {
		ocb_error_set(err, OCB_EFAIL, 0, "out of memory");
		goto out;
	}
	if (oci_platform_copy(img.desc.platform, &img.config.platform, err) < 0 ||
	    oci_platform_normalize(img.desc.platform, err) < 0)
		goto out;
	json_decref(img.desc.annotations);
	img.desc.annotations = NULL;
	for (size_t i = 0; i < x->n_manifests; i++) {
		if (x->manifests[i].platform &&
		    oci_platform_match(x->manifests[i].platform, img.desc.platform)) {
			cleanup_free char *p = oci_platform_format(img.desc.platform);
			ocb_error_set(err, OCB_EINVAL, 0, "'%s': a second image for platform %s", query,
				      p ? p : "?");
			goto out;
		}
	}
	ret = oci_index_add(x, &img.desc, err);
out:
	oci_image_release(&img);
	oci_descriptor_release(&top);
	return ret;
}

static int manifest_create(int argc, char **argv, struct ocb_error *err)
{
	struct oci_layout store = {0};
	cleanup_close int store_lock = -1;
	struct oci_index x = {0};
	struct oci_ref ref = {0};
	struct oci_descriptor out = {0};
	cleanup_free char *name = NULL;
	int ret = -1;

	if (argc < 3)
		return cli_usage_error(err, "manifest", "create needs NAME and at least one REF");
	if (oci_ref_parse(argv[1], &ref, err) < 0)
		return -1;
	name = oci_ref_local_name(&ref);
	oci_ref_release(&ref);
	if (!name)
		return ocb_error_set(err, OCB_EFAIL, 0, "out of memory");
	if (cli_store_open_writer(&store, false, &store_lock, err) < 0)
		return -1;
	for (int i = 2; i < argc; i++)
		if (add_image(&store, argv[i], &x, err) < 0)
			goto out;
	if (oci_layout_put_index(&store, x.manifests, x.n_manifests, &out, err) < 0 ||
	    oci_layout_set_ref(&store, name, &out, err) < 0)
		goto out;
	printf("%s %s\n", name, out.digest.str);
	ret = 0;
out:
	oci_descriptor_release(&out);
	oci_index_release(&x);
	oci_layout_release(&store);
	return ret;
}

int cmd_manifest(int argc, char **argv, struct ocb_error *err)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(manifest_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? cli_usage_error(err, "manifest", "expected a subcommand") : 0;
	}
	if (!strcmp(argv[1], "create"))
		return manifest_create(argc - 1, argv + 1, err);
	return cli_usage_error(err, "manifest", "unknown subcommand '%s'", argv[1]);
}
