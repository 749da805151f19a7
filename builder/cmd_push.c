/* ocb push REF [DEST] [--tls-verify=false]
 *
 * Pushes an image (or a whole index) from the local store to DEST (default:
 * REF itself, a registry reference).  Blobs the repository has are skipped;
 * blobs that local images named after another repository of the same
 * registry reach are mounted from there instead of uploaded. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/cli_registry.h"
#include "builder/cli_store.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "oci/banned.h"

static const char push_usage[] =
    "usage: ocb push REF [DEST] [--tls-verify=false]\n"
    "  REF   an image in the local store; DEST (default REF) a registry reference\n"
    "        (registry[:port]/repository[:tag])\n"
    "  --tls-verify=false accept any TLS certificate and allow plain HTTP\n";

static int parse_args(int argc, char **argv, const char **src, const char **dest, bool *tls_verify,
		      struct ocb_error *err)
{
	enum { OPT_TLS = 1, OPT_HELP };
	static const struct option longopts[] = {
	    {"tls-verify", optional_argument, NULL, OPT_TLS},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == OPT_TLS) {
			if (cli_parse_tls_verify("push", optarg, tls_verify, err) < 0)
				return -1;
		} else if (opt == OPT_HELP) {
			fputs(push_usage, stdout);
			exit(0);
		} else {
			return cli_usage_error(err, "push", "unknown option");
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error(err, "push", "expected REF [DEST]");
	*src = argv[optind];
	*dest = argc - optind == 2 ? argv[optind + 1] : argv[optind];
	return 0;
}

int cmd_push(int argc, char **argv, struct ocb_error *err)
{
	const char *src = NULL, *dest_arg = NULL;
	bool tls_verify = true;
	struct oci_ref dest = {0};
	struct oci_layout store = {0};
	struct oci_descriptor top = {0};
	cleanup_free char *name = NULL;
	cleanup_free char *full = NULL;
	int ret = -1;

	if (parse_args(argc, argv, &src, &dest_arg, &tls_verify, err) < 0)
		return -1;
	if (oci_ref_parse(dest_arg, &dest, err) < 0)
		return -1;
	if (cli_store_open(&store, false, err) < 0)
		goto out;
	if (oci_layout_lookup(&store, src, &top, &name, err) < 0)
		goto out;
	if (cli_registry_push(&store, &top, &dest, tls_verify, err) < 0)
		goto out;
	if (!(full = oci_ref_full_name(&dest))) {
		ocb_error_set(err, OCB_EFAIL, 0, "out of memory");
		goto out;
	}
	printf("pushed %s %s\n", full, top.digest.str);
	ret = 0;
out:
	if (ret < 0)
		ocb_error_wrap(err, "push '%s'", src ? src : "");
	oci_descriptor_release(&top);
	oci_layout_release(&store);
	oci_ref_release(&dest);
	return ret;
}
