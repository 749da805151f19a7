/* ocb import ROOTFS.tar[.gz|.zst] NAME[:TAG]: a root filesystem tarball as a
 * one-layer image in the local store.
 *
 * The tarball is untrusted: it is extracted with the secure extractor into a
 * temp directory inside the store, and the layer is written from that tree
 * with the deterministic layer writer (sorted entries, numeric owners,
 * clamped mtimes), so the same files give the same image whatever order or
 * metadata noise the input tar had. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/cli.h"
#include "builder/cli_config.h"
#include "builder/cli_store.h"
#include "oci/cleanup.h"
#include "oci/compress.h"
#include "oci/extract.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/banned.h"

struct import_opts {
	const char *tarball;
	const char *name;
	const char *platform;
	enum oci_compression compression;
};

static const char import_usage[] =
    "usage: ocb import ROOTFS.tar[.gz|.zst] NAME[:TAG] [OPTIONS]\n"
    "  --platform OS/ARCH[/VARIANT]   platform of the image (default: this host's)\n"
    "  --compression gzip|zstd        layer compression (default gzip)\n" CLI_CONFIG_HELP;

struct import_source {
	struct oci_decompressor *dec;
};

static ssize_t read_tarball(void *opaque, void *buf, size_t len, struct ocb_error *err)
{
	struct import_source *src = opaque;

	return oci_decompressor_read(src->dec, buf, len, err);
}

static int extract_tarball(int dirfd, void *opaque, struct ocb_error *err)
{
	const char *path = opaque;
	struct import_source src = {NULL};
	struct oci_extract_opts opts = {.name = path};
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return ocb_error_sys(err, "open '%s'", path);
	/* No context to add: the caller names the tarball, the extractor the
	 * entry (as "layer 'PATH'"). */
	if (oci_decompressor_new(&src.dec, OCI_COMPRESSION_AUTO, fd, NULL, err) < 0)
		return -1;
	ret = oci_extract_stream(dirfd, read_tarball, &src, NULL, &opts, NULL, err);
	oci_decompressor_free(src.dec);
	return ret;
}

/* Extract into <store>/tmp/import-XXXXXX/rootfs and write it as a layer. */
static int layer_from_tarball(struct oci_layout *store, const char *tarball, enum oci_compression compression,
			      struct oci_layer_desc *desc, struct ocb_error *err)
{
	struct oci_layer_options lopts = {.compression = compression};
	cleanup_free char *tmp = NULL;
	cleanup_close int tmpfd = -1;
	cleanup_close int rootfd = -1;
	int ret = -1;

	if (oci_layer_options_from_env(&lopts, err) < 0)
		return -1;
	if (cli_store_mkdtemp(store, "import", &tmp, err) < 0)
		return -1;
	tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmpfd < 0) {
		ocb_error_sys(err, "open '%s'", tmp);
		goto out;
	}
	if (oci_extract_into_new_dir(tmpfd, "rootfs", extract_tarball, (void *)tarball, 0, err) < 0)
		goto out;
	rootfd = openat(tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rootfd < 0) {
		ocb_error_sys(err, "open '%s/rootfs'", tmp);
		goto out;
	}
	ret = oci_layer_from_dir(&store->bs, rootfd, &lopts, desc, err);
out:
	if (tmpfd >= 0) {
		struct ocb_error ignored = OCB_ERROR_INIT;
		oci_remove_tree_at(tmpfd, "rootfs", &ignored);
	}
	rmdir(tmp);
	return ret;
}

static int parse_args(int argc, char **argv, struct import_opts *o, struct oci_image_config *cfg,
		      struct ocb_error *err)
{
	enum { OPT_PLATFORM = 1, OPT_COMPRESSION, OPT_HELP };
	static const struct option longopts[] = {
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"compression", required_argument, NULL, OPT_COMPRESSION},
	    {"help", no_argument, NULL, OPT_HELP},
	    CLI_CONFIG_LONG_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (cli_config_is_option(opt)) {
			if (cli_config_apply(cfg, opt, optarg, err) < 0)
				return -1;
			continue;
		}
		switch (opt) {
		case OPT_PLATFORM:
			o->platform = optarg;
			break;
		case OPT_COMPRESSION:
			if (oci_compression_parse(optarg, &o->compression, err) < 0 ||
			    o->compression == OCI_COMPRESSION_AUTO)
				return cli_usage_error(err, "import",
						       "--compression must be gzip, zstd or none");
			break;
		case OPT_HELP:
			fputs(import_usage, stdout);
			exit(0);
		default:
			return cli_usage_error(err, "import", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(err, "import", "expected ROOTFS.tar and NAME[:TAG]");
	o->tarball = argv[optind];
	o->name = argv[optind + 1];
	return 0;
}

static int import_history(struct oci_image_config *cfg, const char *created, const char *tarball,
			  const struct oci_digest *diff_id, struct ocb_error *err)
{
	cleanup_free char *created_by = NULL;
	const char *base = strrchr(tarball, '/');
	struct oci_history h = {0};

	if (asprintf(&created_by, "ocb import %s", base ? base + 1 : tarball) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	h.created = (char *)created;
	h.created_by = created_by;
	return oci_config_add_layer(cfg, diff_id, &h, err);
}

static int set_platform(struct oci_image_config *cfg, const char *platform, struct ocb_error *err)
{
	struct oci_platform p = {0};
	int ret;

	if (platform)
		ret = oci_platform_parse(platform, &p, err);
	else
		ret = oci_platform_host(&p, err);
	if (ret < 0)
		return platform ? ocb_error_wrap(err, "--platform") : -1;
	oci_platform_release(&cfg->platform);
	cfg->platform = p;
	return 0;
}

int cmd_import(int argc, char **argv, struct ocb_error *err)
{
	struct import_opts o = {.compression = OCI_COMPRESSION_GZIP};
	struct oci_image_config cfg = {0};
	struct oci_layout store = {0};
	cleanup_close int store_lock = -1;
	struct oci_ref ref = {0};
	struct oci_layer_desc layer;
	struct oci_descriptor layer_desc = {0}, manifest = {0};
	cleanup_free char *name = NULL;
	char created[64];
	int ret = -1;

	if (parse_args(argc, argv, &o, &cfg, err) < 0)
		goto out;
	if (oci_ref_parse(o.name, &ref, err) < 0)
		goto out;
	if (ref.has_digest) {
		cli_usage_error(err, "import", "NAME '%s' must not carry a digest", o.name);
		goto out;
	}
	name = oci_ref_local_name(&ref);
	if (!name) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	if (set_platform(&cfg, o.platform, err) < 0 || cli_created_time(created, sizeof(created), err) < 0)
		goto out;
	if (cli_store_open_writer(&store, true, &store_lock, err) < 0)
		goto out;
	if (layer_from_tarball(&store, o.tarball, o.compression, &layer, err) < 0) {
		ocb_error_wrap(err, "import '%s'", o.tarball);
		goto out;
	}
	free(cfg.created);
	cfg.created = strdup(created);
	if (!cfg.created || import_history(&cfg, created, o.tarball, &layer.diff_id, err) < 0)
		goto out;
	if (oci_descriptor_init(&layer_desc, layer.media_type, &layer.digest, (int64_t)layer.size, err) < 0 ||
	    oci_layout_put_image(&store, &cfg, &layer_desc, 1, NULL, &manifest, err) < 0 ||
	    oci_layout_set_ref(&store, name, &manifest, err) < 0)
		goto out;
	printf("%s %s\n", name, manifest.digest.str);
	ret = 0;
out:
	oci_descriptor_release(&manifest);
	oci_descriptor_release(&layer_desc);
	oci_layout_release(&store);
	oci_ref_release(&ref);
	oci_config_release(&cfg);
	return ret;
}
