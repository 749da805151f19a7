/* ocb tag SOURCE TARGET: one more name for an image or index of the local
 * store (docker tag).  TARGET is normalised as every store name is
 * ("app" -> "docker.io/library/app:latest"); a name TARGET had moves. */
#include <stdio.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/cli_store.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/banned.h"

static const char usage[] = "usage: ocb tag SOURCE TARGET\n"
			    "Names the local store's image (or index) SOURCE also TARGET.  SOURCE is a\n"
			    "name or a digest (or a unique prefix of one); TARGET is a name with an\n"
			    "optional tag (default latest), never a digest.\n";

/* The store name for spec: parsed and normalised; no digest. */
static int target_name(const char *spec, char **out, struct ocb_error *err)
{
	struct oci_ref ref = {0};
	int ret = -1;

	if (oci_ref_parse(spec, &ref, err) < 0)
		return ocb_error_wrap(err, "tag: target '%s'", spec);
	if (ref.has_digest)
		ocb_error_set(err, OCB_EINVAL, 0, "tag: target '%s' must not carry a digest", spec);
	else if (!(*out = oci_ref_local_name(&ref)))
		ocb_error_set(err, OCB_EFAIL, 0, "out of memory");
	else
		ret = 0;
	oci_ref_release(&ref);
	return ret;
}

int cmd_tag(int argc, char **argv, struct ocb_error *err)
{
	struct oci_layout store = {0};
	struct oci_descriptor d = {0};
	cleanup_free char *name = NULL;
	int ret = -1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 3)
		return cli_usage_error(err, "tag", "expected SOURCE and TARGET");
	if (target_name(argv[2], &name, err) < 0 || cli_store_open(&store, false, err) < 0)
		return -1;
	if (oci_layout_lookup(&store, argv[1], &d, NULL, err) < 0) {
		ocb_error_wrap(err, "tag '%s'", argv[1]);
		goto out;
	}
	if (oci_layout_set_ref(&store, name, &d, err) < 0)
		goto out;
	printf("tagged %s\n", name);
	ret = 0;
out:
	oci_descriptor_release(&d);
	oci_layout_release(&store);
	return ret;
}
