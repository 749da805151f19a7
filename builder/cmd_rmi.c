/* ocb rmi REF...: remove names from the local store and collect the blobs no
 * name reaches any more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/cli_store.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/banned.h"

/* Blobs younger than this survive a collection: a concurrent import or build
 * may have written them and not yet named its image. */
#define RMI_GC_GRACE_SECONDS 300

int cmd_rmi(int argc, char **argv, struct ocb_error *err)
{
	struct oci_layout store = {0};
	uint64_t removed = 0, freed = 0;
	int ret = -1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: ocb rmi REF...\nRemoves images from the local store.");
		return 0;
	}
	if (argc < 2)
		return cli_usage_error(err, "rmi", "expected at least one REF");
	if (cli_store_open(&store, false, err) < 0)
		return -1;
	for (int i = 1; i < argc; i++) {
		struct oci_descriptor d = {0};
		cleanup_free char *name = NULL;

		if (oci_layout_lookup(&store, argv[i], &d, &name, err) < 0) {
			ocb_error_wrap(err, "rmi '%s'", argv[i]);
			goto out;
		}
		oci_descriptor_release(&d);
		if (!name) {
			ocb_error_set(err, OCB_EINVAL, 0, "rmi '%s': the image has no name to remove",
				      argv[i]);
			goto out;
		}
		if (oci_layout_remove_ref(&store, name, err) < 0)
			goto out;
		printf("untagged %s\n", name);
	}
	if (oci_layout_gc(&store, RMI_GC_GRACE_SECONDS, &removed, &freed, err) < 0)
		goto out;
	if (removed)
		printf("deleted %llu blobs (%llu bytes)\n", (unsigned long long)removed,
		       (unsigned long long)freed);
	ret = 0;
out:
	oci_layout_release(&store);
	return ret;
}
