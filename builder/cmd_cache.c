/* ocb cache ls|du|prune: look at and trim the step cache (docs/cache.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "builder/cache.h"
#include "builder/cli.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

#define PRUNE_DEFAULT_WAIT_SECONDS 30
#define KEY_PREFIX_LEN		   12

static const char usage[] =
    "usage: ocb cache ls [--cache-dir DIR]\n"
    "       ocb cache du [--cache-dir DIR]\n"
    "       ocb cache prune [--keep-storage SIZE] [--all] [--wait SECONDS] [--cache-dir DIR]\n"
    "\n"
    "  ls      the cached steps: key prefix, layer size, last use, what ran\n"
    "  du      bytes used by layer blobs and cache mounts, and the record count\n"
    "  prune   without --keep-storage: remove every cached step (cache mounts stay);\n"
    "          --keep-storage SIZE: remove least recently used steps until the\n"
    "          layers fit in SIZE (10GB, 512MiB); --all: the cache mounts go too.\n"
    "          Waits up to --wait SECONDS (default 30) for running builds.\n"
    "  --cache-dir DIR   the cache (default: $OCB_ROOT/cache as root, else\n"
    "                    $XDG_CACHE_HOME/ocb)\n";

enum { OPT_CACHE_DIR = 1, OPT_KEEP_STORAGE, OPT_ALL, OPT_WAIT };

struct cache_cli {
	const char *cache_dir;
	bool keep_set;
	uint64_t keep;
	bool all;
	long wait_seconds;
};

static int parse_options(int argc, char **argv, bool prune, struct cache_cli *o, struct ocb_error *err)
{
	static const struct option opts[] = {
	    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
	    {"keep-storage", required_argument, NULL, OPT_KEEP_STORAGE},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"wait", required_argument, NULL, OPT_WAIT},
	    {0, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == OPT_CACHE_DIR) {
			o->cache_dir = optarg;
		} else if (prune && c == OPT_KEEP_STORAGE) {
			if (cache_parse_size(optarg, &o->keep, err) < 0)
				return cli_usage_error(err, "cache", "--keep-storage: %s", err->msg);
			o->keep_set = true;
		} else if (prune && c == OPT_ALL) {
			o->all = true;
		} else if (prune && c == OPT_WAIT) {
			if (cli_parse_wait("cache", optarg, &o->wait_seconds, err) < 0)
				return -1;
		} else {
			return cli_usage_error(err, "cache", "unknown option '%s' for '%s'", argv[optind - 1],
					       argv[0]);
		}
	}
	if (optind < argc)
		return cli_usage_error(err, "cache", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Open the cache for reading; 1 when there is none yet (nothing to show). */
static int open_existing(const struct cache_cli *o, struct build_cache **c, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	struct stat st;

	if (cache_dir_default(o->cache_dir, &dir, err) < 0)
		return -1;
	if (stat(dir, &st) < 0 && errno == ENOENT)
		return 1;
	return cache_open(c, dir, err);
}

static void format_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "?");
}

static int cache_ls(const struct cache_cli *o, struct ocb_error *err)
{
	struct build_cache *c = NULL;
	struct cache_entry *e = NULL;
	size_t n = 0;
	int rc = open_existing(o, &c, err);

	if (rc < 0)
		return -1;
	printf("%-*s %-9s %-19s %s\n", KEY_PREFIX_LEN, "KEY", "SIZE", "LAST USED (UTC)", "CREATED BY");
	if (rc > 0)
		return 0;
	rc = cache_list(c, &e, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char size[32], used[32];

		if (e[i].rec.empty_layer)
			snprintf(size, sizeof(size), "-");
		else
			cache_format_size(e[i].rec.size, size, sizeof(size));
		format_time(e[i].rec.last_used, used, sizeof(used));
		printf("%-*.*s %-9s %-19s %s\n", KEY_PREFIX_LEN, KEY_PREFIX_LEN, oci_digest_hex(&e[i].key),
		       size, used, e[i].rec.created_by ? e[i].rec.created_by : "");
	}
	cache_entries_free(e, n);
	cache_close(c);
	return rc;
}

static int cache_du_cmd(const struct cache_cli *o, struct ocb_error *err)
{
	struct build_cache *c = NULL;
	struct cache_usage u = {0};
	char blobs[32], mounts[32], total[32];
	int rc = open_existing(o, &c, err);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		rc = cache_du(c, &u, err);
		cache_close(c);
		if (rc < 0)
			return -1;
	}
	cache_format_size(u.blob_bytes, blobs, sizeof(blobs));
	cache_format_size(u.mount_bytes, mounts, sizeof(mounts));
	cache_format_size(u.blob_bytes + u.mount_bytes, total, sizeof(total));
	printf("records: %llu\n", (unsigned long long)u.records);
	printf("blobs:   %llu (%s)\n", (unsigned long long)u.blobs, blobs);
	printf("mounts:  %llu (%s)\n", (unsigned long long)u.mounts, mounts);
	printf("total:   %s (%llu bytes)\n", total, (unsigned long long)(u.blob_bytes + u.mount_bytes));
	return 0;
}

static int cache_prune_cmd(const struct cache_cli *o, struct ocb_error *err)
{
	struct cache_prune_opts po = {
	    .keep_storage_set = o->keep_set, .keep_storage = o->keep, .mounts = o->all};
	struct cache_prune_result r = {0};
	struct build_cache *c = NULL;
	cleanup_free char *dir = NULL;
	char freed[32];
	int rc;

	if (cache_dir_default(o->cache_dir, &dir, err) < 0)
		return -1;
	if (cache_open_exclusive(&c, dir, (int)(o->wait_seconds * 1000), err) < 0)
		return -1;
	rc = cache_prune(c, &po, &r, err);
	cache_close(c);
	if (rc < 0)
		return -1;
	cache_format_size(r.bytes_freed, freed, sizeof(freed));
	printf("removed %llu records and %llu blobs, freed %s\n", (unsigned long long)r.records_removed,
	       (unsigned long long)r.blobs_removed, freed);
	return 0;
}

int cmd_cache(int argc, char **argv, struct ocb_error *err)
{
	struct cache_cli o = {.wait_seconds = PRUNE_DEFAULT_WAIT_SECONDS};
	const char *sub = argc > 1 ? argv[1] : NULL;
	bool prune = sub && !strcmp(sub, "prune");

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(usage, sub ? stdout : stderr);
		return sub ? 0 : cli_usage_error(err, "cache", "expected ls, du or prune");
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
	}
	if (strcmp(sub, "ls") && strcmp(sub, "du") && !prune)
		return cli_usage_error(err, "cache", "unknown subcommand '%s' (ls, du, prune)", sub);
	if (parse_options(argc - 1, argv + 1, prune, &o, err) < 0)
		return -1;
	if (!strcmp(sub, "ls"))
		return cache_ls(&o, err);
	if (!strcmp(sub, "du"))
		return cache_du_cmd(&o, err);
	return cache_prune_cmd(&o, err);
}
