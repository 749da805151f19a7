/* ocb rmi REF...: remove names from the local store and collect the blobs
 * and snapshots no name reaches any more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/cli_store.h"
#include "builder/store_gc.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/banned.h"

static const char usage[] = "usage: ocb rmi REF...\n"
			    "Removes images from the local store, then the blobs and snapshots no other\n"
			    "image uses.  While a build, import, load or pull runs, the names go at once\n"
			    "and the collection is left to 'ocb prune'.\n";

static int untag(const struct oci_layout *store, const char *query, struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	cleanup_free char *name = NULL;

	if (oci_layout_lookup(store, query, &d, &name, err) < 0)
		return ocb_error_wrap(err, "rmi '%s'", query);
	oci_descriptor_release(&d);
	if (!name)
		return ocb_error_set(err, OCB_EINVAL, 0, "rmi '%s': the image has no name to remove", query);
	if (oci_layout_remove_ref(store, name, err) < 0)
		return -1;
	printf("untagged %s\n", name);
	return 0;
}

/* Collect without waiting: a running build must not hold rmi up, and the
 * names are gone already. */
static int collect(const struct oci_layout *store, struct ocb_error *err)
{
	struct store_gc_result r = {0};

	if (store_gc(store, false, 0, &r, err) < 0) {
		if (err->code != OCB_EENV)
			return -1;
		fprintf(stderr, "ocb: note: the store is in use by a running build, import, load or pull: "
				"unused blobs and snapshots stay until 'ocb prune'\n");
		ocb_error_clear(err);
		return 0;
	}
	if (r.blobs)
		printf("deleted %llu blobs (%llu bytes)\n", (unsigned long long)r.blobs,
		       (unsigned long long)r.blob_bytes);
	if (r.snapshots)
		printf("deleted %llu snapshots (%llu bytes)\n", (unsigned long long)r.snapshots,
		       (unsigned long long)r.snapshot_bytes);
	return 0;
}

int cmd_rmi(int argc, char **argv, struct ocb_error *err)
{
	struct oci_layout store = {0};
	int ret = -1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage_error(err, "rmi", "expected at least one REF");
	if (cli_store_open(&store, false, err) < 0)
		return -1;
	for (int i = 1; i < argc; i++)
		if (untag(&store, argv[i], err) < 0)
			goto out;
	ret = collect(&store, err);
out:
	oci_layout_release(&store);
	return ret;
}
