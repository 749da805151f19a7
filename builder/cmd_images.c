/* ocb images: the images in the local store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/cli_store.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/banned.h"

/* Sum of the layer sizes of the manifest (or every manifest of the index). */
static int64_t image_size(const struct oci_layout *store, const struct oci_descriptor *d, int depth)
{
	cleanup_free char *buf = NULL;
	struct ocb_error ignored = OCB_ERROR_INIT;
	size_t len;
	int64_t total = 0;

	if (depth > 4 || oci_layout_read_blob(store, d, &buf, &len, &ignored) < 0)
		return -1;
	if (oci_media_kind(d->media_type) == OCI_KIND_INDEX) {
		struct oci_index x = {0};
		if (oci_index_parse(buf, len, &x, &ignored) < 0)
			return -1;
		for (size_t i = 0; i < x.n_manifests; i++) {
			int64_t s = image_size(store, &x.manifests[i], depth + 1);
			total += s > 0 ? s : 0;
		}
		oci_index_release(&x);
		return total;
	}
	struct oci_manifest m = {0};
	if (oci_manifest_parse(buf, len, &m, &ignored) < 0)
		return -1;
	total = m.config.size;
	for (size_t i = 0; i < m.n_layers; i++)
		total += m.layers[i].size;
	oci_manifest_release(&m);
	return total;
}

static void human_size(int64_t n, char *buf, size_t size)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	size_t u = 0;

	if (n < 0) {
		snprintf(buf, size, "?");
		return;
	}
	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

static void print_entry(const struct oci_layout *store, const struct oci_descriptor *d)
{
	const char *name = oci_layout_entry_name(d);
	struct ocb_error ignored = OCB_ERROR_INIT;
	struct oci_ref ref = {0};
	cleanup_free char *repo = NULL;
	const char *tag = "<none>";
	char size[32];

	if (name && oci_ref_parse(name, &ref, &ignored) == 0) {
		cleanup_free char *familiar = oci_ref_familiar_name(&ref);
		char *colon = familiar ? strrchr(familiar, ':') : NULL;
		if (colon && ref.tag)
			*colon = '\0';
		repo = familiar ? strdup(familiar) : NULL;
		if (ref.tag)
			tag = ref.tag;
	}
	human_size(image_size(store, d, 0), size, sizeof(size));
	printf("%-40s %-16s %-19.19s %-6s %s\n", repo ? repo : (name ? name : "<none>"), tag,
	       oci_digest_hex(&d->digest),
	       oci_media_kind(d->media_type) == OCI_KIND_INDEX ? "index" : "image", size);
	oci_ref_release(&ref);
}

int cmd_images(int argc, char **argv, struct ocb_error *err)
{
	struct oci_layout store = {0};
	struct oci_index x = {0};

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: ocb images\nLists the images in the local store ($OCB_ROOT).");
		return 0;
	}
	if (argc > 1)
		return cli_usage_error(err, "images", "unexpected argument '%s'", argv[1]);
	if (cli_store_open(&store, true, err) < 0)
		return -1;
	if (oci_layout_read_index(&store, &x, err) < 0) {
		oci_layout_release(&store);
		return -1;
	}
	printf("%-40s %-16s %-19s %-6s %s\n", "REPOSITORY", "TAG", "DIGEST", "KIND", "SIZE");
	for (size_t i = 0; i < x.n_manifests; i++)
		print_entry(&store, &x.manifests[i]);
	oci_index_release(&x);
	oci_layout_release(&store);
	return 0;
}
