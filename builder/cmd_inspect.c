/* ocb inspect REF [--format text|json] [--platform P]: an image's manifest and
 * config (or an index and its platforms). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/cli.h"
#include "builder/cli_store.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/banned.h"

struct inspect_opts {
	const char *ref;
	const char *platform;
	bool json;
};

static json_t *parse_json_blob(const struct oci_layout *store, const struct oci_descriptor *d,
			       struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	json_t *j;

	if (oci_layout_read_blob(store, d, &buf, &len, err) < 0)
		return NULL;
	j = json_loadb(buf, len, 0, NULL);
	if (!j)
		ocb_error_set(err, OCB_EINVAL, 0, "blob '%s' is not JSON", d->digest.str);
	return j;
}

/* {"name", "digest", "mediaType", "manifest"|"index", "config", "platform"} */
static json_t *describe(const struct oci_layout *store, const char *name, const struct oci_descriptor *top,
			const struct oci_platform *want, struct ocb_error *err)
{
	json_t *out = json_object();
	json_t *doc = parse_json_blob(store, top, err);
	struct oci_image img = {0};
	bool is_index = oci_media_kind(top->media_type) == OCI_KIND_INDEX;

	if (!out || !doc)
		goto fail;
	json_object_set_new(out, "name", name ? json_string(name) : json_null());
	json_object_set_new(out, "digest", json_string(top->digest.str));
	json_object_set_new(out, "mediaType", json_string(top->media_type));
	json_object_set_new(out, "size", json_integer(top->size));
	json_object_set_new(out, is_index ? "index" : "manifest", json_incref(doc));
	if (is_index && !want)
		goto done;
	if (oci_layout_resolve(store, top, want, &img, err) < 0)
		goto fail;
	json_t *cfg = parse_json_blob(store, &img.manifest.config, err);
	if (!cfg)
		goto fail;
	if (is_index) {
		json_object_set_new(out, "manifestDigest", json_string(img.desc.digest.str));
		json_t *m = parse_json_blob(store, &img.desc, err);
		if (!m) {
			json_decref(cfg);
			goto fail;
		}
		json_object_set_new(out, "manifest", m);
	}
	json_object_set_new(out, "configDigest", json_string(img.manifest.config.digest.str));
	json_object_set_new(out, "config", cfg);
	oci_image_release(&img);
done:
	json_decref(doc);
	return out;
fail:
	oci_image_release(&img);
	json_decref(doc);
	json_decref(out);
	return NULL;
}

static void print_strv(const char *label, json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return;
	printf("%-12s", label);
	json_array_foreach(arr, i, v) printf("%s%s", i ? " " : "", json_string_value(v));
	putchar('\n');
}

static void print_text(json_t *d)
{
	json_t *cfg = json_object_get(d, "config");
	json_t *c = json_object_get(cfg, "config");
	json_t *idx = json_object_get(d, "index");
	const char *name = json_string_value(json_object_get(d, "name"));

	printf("%-12s%s\n", "Name:", name ? name : "<none>");
	printf("%-12s%s\n", "Digest:", json_string_value(json_object_get(d, "digest")));
	printf("%-12s%s\n", "MediaType:", json_string_value(json_object_get(d, "mediaType")));
	if (idx) {
		size_t i;
		json_t *m;
		json_array_foreach(json_object_get(idx, "manifests"), i, m)
		{
			json_t *p = json_object_get(m, "platform");
			const char *variant = json_string_value(json_object_get(p, "variant"));
			printf("%-12s%s/%s%s%s %s\n",
			       i ? "" : "Platforms:", json_string_value(json_object_get(p, "os")),
			       json_string_value(json_object_get(p, "architecture")), variant ? "/" : "",
			       variant ? variant : "", json_string_value(json_object_get(m, "digest")));
		}
	}
	if (!cfg)
		return;
	printf("%-12s%s/%s\n", "Platform:", json_string_value(json_object_get(cfg, "os")),
	       json_string_value(json_object_get(cfg, "architecture")));
	if (json_object_get(cfg, "created"))
		printf("%-12s%s\n", "Created:", json_string_value(json_object_get(cfg, "created")));
	print_strv("Entrypoint:", json_object_get(c, "Entrypoint"));
	print_strv("Cmd:", json_object_get(c, "Cmd"));
	print_strv("Env:", json_object_get(c, "Env"));
	if (json_object_get(c, "User"))
		printf("%-12s%s\n", "User:", json_string_value(json_object_get(c, "User")));
	if (json_object_get(c, "WorkingDir"))
		printf("%-12s%s\n", "WorkingDir:", json_string_value(json_object_get(c, "WorkingDir")));
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(c, "ExposedPorts"), key, v) printf("%-12s%s\n", "Expose:", key);
	json_object_foreach(json_object_get(c, "Labels"), key, v)
	    printf("%-12s%s=%s\n", "Label:", key, json_string_value(v));
	print_strv("Health:", json_object_get(json_object_get(c, "Healthcheck"), "Test"));
	printf("%-12s%zu\n",
	       "Layers:", json_array_size(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids")));
}

static int parse_args(int argc, char **argv, struct inspect_opts *o, struct ocb_error *err)
{
	enum { OPT_FORMAT = 1, OPT_PLATFORM, OPT_HELP };
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_usage_error(err, "inspect", "--format must be text or json");
			o->json = !strcmp(optarg, "json");
			break;
		case OPT_PLATFORM:
			o->platform = optarg;
			break;
		case OPT_HELP:
			puts("usage: ocb inspect REF [--format text|json] [--platform OS/ARCH[/VARIANT]]");
			exit(0);
		default:
			return cli_usage_error(err, "inspect", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "inspect", "expected one REF");
	o->ref = argv[optind];
	return 0;
}

int cmd_inspect(int argc, char **argv, struct ocb_error *err)
{
	struct inspect_opts o = {0};
	struct oci_layout store = {0};
	struct oci_descriptor top = {0};
	struct oci_platform want = {0};
	cleanup_free char *name = NULL;
	json_t *doc = NULL;
	int ret = -1;

	if (parse_args(argc, argv, &o, err) < 0)
		return -1;
	if (o.platform && oci_platform_parse(o.platform, &want, err) < 0)
		return ocb_error_wrap(err, "--platform");
	if (cli_store_open(&store, false, err) < 0)
		goto out;
	if (oci_layout_lookup(&store, o.ref, &top, &name, err) < 0) {
		ocb_error_wrap(err, "inspect '%s'", o.ref);
		goto out;
	}
	doc = describe(&store, name, &top, o.platform ? &want : NULL, err);
	if (!doc) {
		ocb_error_wrap(err, "inspect '%s'", o.ref);
		goto out;
	}
	if (o.json) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		print_text(doc);
	}
	ret = 0;
out:
	json_decref(doc);
	oci_descriptor_release(&top);
	oci_platform_release(&want);
	oci_layout_release(&store);
	return ret;
}
