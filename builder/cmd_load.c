/* ocb load [-i] FILE: a docker-archive or an OCI archive (optionally gzip or
 * zstd compressed) into the local store, every blob verified. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/cli.h"
#include "builder/cli_store.h"
#include "oci/archive.h"
#include "oci/cleanup.h"
#include "oci/extract.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/banned.h"

/* The store name for an archive's name: a valid reference is normalised
 * ("busybox:1" -> "docker.io/library/busybox:1"); an image without a usable
 * name is kept under its digest. */
static char *store_name(const struct oci_loaded *l)
{
	struct ocb_error ignored = OCB_ERROR_INIT;
	struct oci_ref ref = {0};
	char *name = NULL;

	if (l->name && oci_ref_parse(l->name, &ref, &ignored) == 0)
		name = oci_ref_local_name(&ref);
	oci_ref_release(&ref);
	return name ? name : strdup(l->desc.digest.str);
}

int cmd_load(int argc, char **argv, struct ocb_error *err)
{
	static const struct option longopts[] = {
	    {"input", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct oci_layout store = {0};
	cleanup_close int store_lock = -1;
	struct oci_loaded *loaded = NULL;
	cleanup_free char *tmp = NULL;
	const char *path = NULL;
	size_t n = 0;
	int opt, ret = -1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:h", longopts, NULL)) != -1) {
		if (opt == 'i') {
			path = optarg;
		} else if (opt == 'h') {
			puts("usage: ocb load [-i] FILE\nLoads a docker-archive or an OCI archive into the "
			     "store.");
			return 0;
		} else {
			return cli_usage_error(err, "load", "unknown option");
		}
	}
	if (!path && optind < argc)
		path = argv[optind++];
	if (!path || optind != argc)
		return cli_usage_error(err, "load", "expected one FILE");
	if (cli_store_open_writer(&store, true, &store_lock, err) < 0)
		return -1;
	if (cli_store_mkdtemp(&store, "load", &tmp, err) < 0)
		goto out;
	if (oci_archive_load(&store, path, tmp, &loaded, &n, err) < 0) {
		ocb_error_wrap(err, "load '%s'", path);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *name = store_name(&loaded[i]);
		if (!name || oci_layout_set_ref(&store, name, &loaded[i].desc, err) < 0)
			goto out;
		printf("loaded %s %s\n", name, loaded[i].desc.digest.str);
	}
	ret = 0;
out:
	if (tmp) {
		struct ocb_error ignored = OCB_ERROR_INIT;
		oci_remove_tree_at(AT_FDCWD, tmp, &ignored);
	}
	oci_loaded_free(loaded, n);
	oci_layout_release(&store);
	return ret;
}
