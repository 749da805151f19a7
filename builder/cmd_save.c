/* ocb save REF -o FILE [--format docker|oci] | -o oci:DIR[:NAME]
 *
 * docker: a docker-archive of one platform (the host's, or --platform) for
 * `docker load`; oci: an OCI archive of the whole image or index; oci:DIR: the
 * image copied into an OCI layout directory, named NAME (default: its tag). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build_export.h"
#include "builder/cli.h"
#include "builder/cli_store.h"
#include "oci/archive.h"
#include "oci/cleanup.h"
#include "oci/epoch.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/banned.h"

enum save_format { SAVE_DOCKER, SAVE_OCI_ARCHIVE, SAVE_OCI_DIR };

struct save_opts {
	const char *ref;
	const char *output;
	const char *platform;
	enum save_format format;
	bool format_given;
};

static const char save_usage[] =
    "usage: ocb save REF -o FILE [--format docker|oci] [--platform OS/ARCH[/VARIANT]]\n"
    "       ocb save REF -o oci:DIR[:NAME]\n"
    "  docker (default): a docker-archive of one platform, for `docker load`\n"
    "  oci:              an OCI archive (a tar of an OCI layout) with every platform, named by\n"
    "                    its full name (docker.io/library/NAME:TAG)\n"
    "  oci:DIR[:NAME]:   an OCI layout directory; the image is named NAME (default: its tag)\n";

static int parse_args(int argc, char **argv, struct save_opts *o, struct ocb_error *err)
{
	enum { OPT_FORMAT = 1, OPT_PLATFORM, OPT_HELP };
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o->output = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "docker") || !strcmp(optarg, "docker-archive"))
				o->format = SAVE_DOCKER;
			else if (!strcmp(optarg, "oci") || !strcmp(optarg, "oci-archive"))
				o->format = SAVE_OCI_ARCHIVE;
			else
				return cli_usage_error(err, "save", "--format must be docker or oci");
			o->format_given = true;
			break;
		case OPT_PLATFORM:
			o->platform = optarg;
			break;
		case OPT_HELP:
			fputs(save_usage, stdout);
			exit(0);
		default:
			return cli_usage_error(err, "save", "unknown option");
		}
	}
	if (argc - optind != 1 || !o->output)
		return cli_usage_error(err, "save", "expected REF and -o OUTPUT");
	o->ref = argv[optind];
	if (!strncmp(o->output, "oci:", 4)) {
		if (o->format_given)
			return cli_usage_error(err, "save", "--format does not apply to oci:DIR");
		o->format = SAVE_OCI_DIR;
		o->output += 4;
	}
	return 0;
}

int cmd_save(int argc, char **argv, struct ocb_error *err)
{
	struct save_opts o = {.format = SAVE_DOCKER};
	struct oci_layout store = {0};
	struct oci_descriptor top = {0};
	cleanup_free char *name = NULL;
	int64_t epoch = 0;
	int ret = -1;

	if (parse_args(argc, argv, &o, err) < 0 || oci_source_date_epoch(&epoch, err) < 0)
		return -1;
	if (cli_store_open(&store, false, err) < 0)
		return -1;
	if (oci_layout_lookup(&store, o.ref, &top, &name, err) < 0)
		goto out;
	switch (o.format) {
	case SAVE_DOCKER:
		ret = build_export_docker(&store, &top, name, o.platform, epoch, o.output, err);
		break;
	case SAVE_OCI_ARCHIVE:
		/* The full name, so `ocb load` and podman get the image's name back. */
		ret = oci_archive_write_oci(&store, &top, name, epoch, o.output, err);
		break;
	case SAVE_OCI_DIR:
		ret = build_export_layout_dir(&store, &top, name, o.output, err);
		break;
	}
out:
	if (ret < 0)
		ocb_error_wrap(err, "save '%s'", o.ref);
	oci_descriptor_release(&top);
	oci_layout_release(&store);
	return ret;
}
