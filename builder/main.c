/* ocb: entry point and subcommand table. */
#include <stdio.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/rootless.h"
#include "builder/version.h"
#include "oci/banned.h"

static const struct cli_command commands[] = {
    {"import", cmd_import, "make a one-layer image from a root filesystem tarball", true},
    {"images", cmd_images, "list the images in the local store", false},
    {"inspect", cmd_inspect, "show an image's manifest and config", false},
    {"manifest", cmd_manifest, "make a multi-platform index (manifest create)", false},
    {"load", cmd_load, "load a docker-archive or OCI archive into the store", false},
    {"save", cmd_save, "write an image as a docker-archive, OCI archive or OCI layout", false},
    {"pull", cmd_pull, "fetch an image from a registry into the store", false},
    {"push", cmd_push, "send an image or index from the store to a registry", false},
    {"login", cmd_login, "check and store credentials for a registry", false},
    {"logout", cmd_logout, "remove stored credentials for a registry", false},
    {"tag", cmd_tag, "give an image in the local store another name", false},
    {"rmi", cmd_rmi, "remove images from the local store", true},
    {"prune", cmd_prune, "free unused snapshots and blobs of the local store", true},
    {"version", cmd_version, "print the version", false},
    {"check", cmd_check, "validate a recipe and print its stage graph", false},
    {"build", cmd_build, "build an image from a recipe", true},
    {"cache", cmd_cache, "list, measure and prune the build cache", true},
};

static void print_help(FILE *out)
{
	fprintf(out, "usage: ocb COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nSee 'man ocb' or docs/ for details.\n");
}

int main(int argc, char **argv)
{
	struct ocb_error err = OCB_ERROR_INIT;
	char buf[OCB_ERROR_MSG_MAX + 256];

	if (argc < 2) {
		print_help(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		print_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1, &err) < 0 ? 1 : 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int code = 0, rc = 0;

		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (commands[i].userns)
			rc = rootless_enter(&code, &err);
		if (rc > 0)
			return code; /* the namespace's process ran the command */
		if (rc == 0 && commands[i].fn(argc - 1, argv + 1, &err) == 0)
			return 0;
		fprintf(stderr, "ocb: error: %s\n", ocb_error_format(&err, buf, sizeof(buf)));
		return ocb_error_exit_code(&err);
	}
	fprintf(stderr, "ocb: error: unknown command '%s' (see 'ocb --help')\n", argv[1]);
	return 2;
}
