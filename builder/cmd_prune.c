/* ocb prune [--all] [--wait SECONDS]: give back the space of the local
 * store's snapshots and blobs no named image uses (builder/store_gc.h). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "builder/cache.h"
#include "builder/cli.h"
#include "builder/cli_store.h"
#include "builder/store_gc.h"
#include "oci/layout.h"
#include "oci/banned.h"

#define PRUNE_DEFAULT_WAIT_SECONDS 30

static const char usage[] = "usage: ocb prune [--all] [--wait SECONDS]\n"
			    "\n"
			    "Removes from the local store the snapshots (extracted layers) and blobs that\n"
			    "no image named in it uses, and prints what that freed.  The step cache is\n"
			    "not touched: see 'ocb cache prune'.\n"
			    "  --all            remove every snapshot, also those of named images (they\n"
			    "                   are extracted again from the blobs when a build needs them)\n"
			    "  --wait SECONDS   wait up to SECONDS (default 30) for running builds,\n"
			    "                   imports, loads and pulls, then fail with exit status 3\n";

enum { OPT_ALL = 1, OPT_WAIT, OPT_HELP };

struct prune_cli {
	bool all, help;
	long wait_seconds;
};

static int parse_options(int argc, char **argv, struct prune_cli *o, struct ocb_error *err)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, OPT_ALL},
	    {"wait", required_argument, NULL, OPT_WAIT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {0, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == OPT_ALL)
			o->all = true;
		else if (c == OPT_WAIT) {
			if (cli_parse_wait("prune", optarg, &o->wait_seconds, err) < 0)
				return -1;
		} else if (c == OPT_HELP || c == 'h')
			o->help = true;
		else
			return cli_usage_error(err, "prune", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error(err, "prune", "unexpected argument '%s'", argv[optind]);
	return 0;
}

static void print_result(const struct store_gc_result *r)
{
	char snaps[32], blobs[32], total[32];
	uint64_t bytes = r->snapshot_bytes + r->blob_bytes;

	cache_format_size(r->snapshot_bytes, snaps, sizeof(snaps));
	cache_format_size(r->blob_bytes, blobs, sizeof(blobs));
	cache_format_size(bytes, total, sizeof(total));
	printf("removed %llu snapshots (%s) and %llu blobs (%s), freed %s (%llu bytes)\n",
	       (unsigned long long)r->snapshots, snaps, (unsigned long long)r->blobs, blobs, total,
	       (unsigned long long)bytes);
}

int cmd_prune(int argc, char **argv, struct ocb_error *err)
{
	struct prune_cli o = {.wait_seconds = PRUNE_DEFAULT_WAIT_SECONDS};
	struct store_gc_result r = {0};
	struct oci_layout store = {0};
	int ret;

	if (parse_options(argc, argv, &o, err) < 0)
		return -1;
	if (o.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (cli_store_open(&store, false, err) < 0) {
		if (err->code != OCB_ENOTFOUND)
			return -1;
		ocb_error_clear(err); /* no store yet: nothing to free */
		print_result(&r);
		return 0;
	}
	ret = store_gc(&store, o.all, (int)(o.wait_seconds * 1000), &r, err);
	oci_layout_release(&store);
	if (ret < 0)
		return -1;
	print_result(&r);
	return 0;
}
