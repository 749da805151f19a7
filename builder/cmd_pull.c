/* ocb pull REF [--platform P | --all-platforms] [--tls-verify=false]
 *
 * Fetches an image from its registry into the local store (every blob
 * verified) and names it REF's full name.  By default an index resolves to
 * this host's platform; --all-platforms keeps the index and every manifest. */
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

static const char pull_usage[] =
    "usage: ocb pull REF [--platform OS/ARCH[/VARIANT] | --all-platforms] [--tls-verify=false]\n"
    "  --platform P       the manifest for P from an index (default: this host's platform)\n"
    "  --all-platforms    keep the whole index and every platform's image\n"
    "  --tls-verify=false accept any TLS certificate and allow plain HTTP\n";

struct pull_opts {
	const char *ref;
	const char *platform;
	bool all;
	bool tls_verify;
};

static int parse_args(int argc, char **argv, struct pull_opts *o, struct ocb_error *err)
{
	enum { OPT_PLATFORM = 1, OPT_ALL, OPT_TLS, OPT_HELP };
	static const struct option longopts[] = {
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"all-platforms", no_argument, NULL, OPT_ALL},
	    {"tls-verify", optional_argument, NULL, OPT_TLS},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_PLATFORM:
			o->platform = optarg;
			break;
		case OPT_ALL:
			o->all = true;
			break;
		case OPT_TLS:
			if (cli_parse_tls_verify("pull", optarg, &o->tls_verify, err) < 0)
				return -1;
			break;
		case OPT_HELP:
			fputs(pull_usage, stdout);
			exit(0);
		default:
			return cli_usage_error(err, "pull", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "pull", "expected one REF");
	if (o->all && o->platform)
		return cli_usage_error(err, "pull", "--platform and --all-platforms exclude each other");
	o->ref = argv[optind];
	return 0;
}

static int check_platform(const struct oci_layout *store, const struct oci_descriptor *top,
			  const struct oci_platform *want, struct ocb_error *err)
{
	struct oci_image img = {0};
	int ret = oci_layout_resolve(store, top, want, &img, err);

	oci_image_release(&img);
	return ret;
}

int cmd_pull(int argc, char **argv, struct ocb_error *err)
{
	struct pull_opts o = {.tls_verify = true};
	struct oci_ref ref = {0};
	struct oci_platform want = {0};
	struct oci_layout store = {0};
	cleanup_close int store_lock = -1;
	struct oci_descriptor top = {0};
	cleanup_free char *name = NULL;
	int ret = -1;

	if (parse_args(argc, argv, &o, err) < 0)
		return -1;
	if (oci_ref_parse(o.ref, &ref, err) < 0)
		return -1;
	if (!o.all &&
	    (o.platform ? oci_platform_parse(o.platform, &want, err) : oci_platform_host(&want, err)) < 0) {
		if (o.platform)
			ocb_error_wrap(err, "--platform");
		goto out;
	}
	if (cli_store_open_writer(&store, true, &store_lock, err) < 0 ||
	    cli_registry_fetch(&store, &ref, o.all ? NULL : &want, o.tls_verify, &top, err) < 0)
		goto out;
	/* An explicit --platform must match a single-platform image too (an
	 * index entry was matched already: it carries its platform). */
	if (o.platform && !top.platform && check_platform(&store, &top, &want, err) < 0)
		goto out;
	if (!(name = oci_ref_local_name(&ref))) {
		ocb_error_set(err, OCB_EFAIL, 0, "out of memory");
		goto out;
	}
	if (oci_layout_set_ref(&store, name, &top, err) < 0)
		goto out;
	printf("pulled %s %s\n", name, top.digest.str);
	ret = 0;
out:
	if (ret < 0)
		ocb_error_wrap(err, "pull '%s'", o.ref);
	oci_descriptor_release(&top);
	oci_layout_release(&store);
	oci_platform_release(&want);
	oci_ref_release(&ref);
	return ret;
}
