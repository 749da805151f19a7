/* What a build writes besides the local store: --output oci:DIR[:TAG],
 * oci-archive:FILE, docker-archive:FILE, and --metadata-file. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "builder/build_export.h"
#include "oci/archive.h"
#include "oci/cleanup.h"
#include "oci/fdio.h"
#include "oci/json.h"
#include "oci/ref.h"
#include "oci/banned.h"

int build_check_outputs(const struct build_options *o, size_t n_platforms, struct ocb_error *err)
{
	for (size_t i = 0; i < o->n_outputs; i++)
		if (o->outputs[i].kind == BUILD_OUTPUT_DOCKER_ARCHIVE && n_platforms > 1)
			return ocb_error_set(
			    err, OCB_EINVAL, 0,
			    "--output 'docker-archive:%s': a docker-archive holds one platform "
			    "and %zu are being built: pick one with --platform, or use "
			    "oci-archive: (or `ocb save --platform` from the store afterwards)",
			    o->outputs[i].dest, n_platforms);
	return 0;
}

int build_write_outputs(struct build *b, struct ocb_error *err)
{
	int64_t mtime = b->epoch >= 0 ? b->epoch : 0;

	for (size_t i = 0; i < b->opts->n_outputs; i++) {
		const struct build_output *o = &b->opts->outputs[i];
		int ret;
		switch (o->kind) {
		case BUILD_OUTPUT_OCI_DIR:
			ret = build_export_layout_dir(&b->store, &b->manifest, b->store_name, o->dest, err);
			break;
		case BUILD_OUTPUT_OCI_ARCHIVE:
			ret = oci_archive_write_oci(&b->store, &b->manifest, b->store_name, mtime, o->dest,
						    err);
			break;
		default:
			ret = build_export_docker(&b->store, &b->manifest, b->store_name, NULL, mtime,
						  o->dest, err);
			break;
		}
		if (ret < 0)
			return ocb_error_wrap(err, "--output '%s'", o->dest);
	}
	return 0;
}

/* The steps of b, appended to a (platform: added to each, or NULL). */
static json_t *steps_json_into(json_t *a, const struct build *b, const char *platform)
{
	for (size_t i = 0; a && i < b->n_records; i++) {
		const struct build_step_record *r = &b->records[i];
		json_t *o =
		    json_pack("{s:s, s:I, s:b, s:I}", "stage", r->stage, "index", (json_int_t)r->index,
			      "cached", r->cached, "duration_ms", (json_int_t)r->duration_ms);
		if (o && r->has_layer)
			json_object_set_new(o, "layer", json_string(r->layer.str));
		if (o && platform)
			json_object_set_new(o, "platform", json_string(platform));
		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *steps_json(const struct build *b)
{
	return steps_json_into(json_array(), b, NULL);
}

static int write_json_file(const json_t *doc, const char *path, struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	cleanup_fclose FILE *f = NULL;

	if (!(buf = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (!(f = fopen(path, "we")))
		return ocb_error_sys(err, "--metadata-file '%s'", path);
	if (fprintf(f, "%s\n", buf) < 0 || fflush(f) != 0)
		return ocb_error_sys(err, "write '%s'", path);
	return 0;
}

/* {"platform", "manifest_digest", "config_digest"} of one platform's image. */
static json_t *platform_json(const struct build *b)
{
	cleanup_free char *p = oci_platform_format(&b->platform);
	json_t *o = p ? json_pack("{s:s, s:s, s:s}", "platform", p, "manifest_digest", b->manifest.digest.str,
				  "config_digest", b->config_digest.str)
		      : NULL;
	return o;
}

int build_write_metadata_multi(struct build *top, struct build *const *plats, size_t n, const char *path,
			       struct ocb_error *err)
{
	cleanup_json json_t *doc =
	    json_pack("{s:s, s:s, s:[], s:[]}", "image_digest", top->manifest.digest.str, "manifest_digest",
		      top->manifest.digest.str, "platforms", "steps");
	json_t *list, *steps;

	if (!doc)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	list = json_object_get(doc, "platforms");
	steps = json_object_get(doc, "steps");
	for (size_t i = 0; i < n; i++) {
		json_t *o = platform_json(plats[i]);
		if (!o || json_array_append_new(list, o) < 0 ||
		    !steps_json_into(steps, plats[i], plats[i]->recipe->target_platform.str))
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if (top->store_name)
		json_object_set_new(doc, "image_name", json_string(top->store_name));
	json_object_set_new(doc, "media_type", json_string(top->manifest.media_type));
	json_object_set_new(doc, "target", json_string(top->recipe->stages[top->recipe->target_stage].name));
	return write_json_file(doc, path, err);
}

int build_write_metadata(struct build *b, const char *path, struct ocb_error *err)
{
	cleanup_json json_t *doc =
	    json_pack("{s:s, s:s, s:s, s:o?}", "image_digest", b->manifest.digest.str, "manifest_digest",
		      b->manifest.digest.str, "config_digest", b->config_digest.str, "steps", steps_json(b));

	if (!doc)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (b->store_name)
		json_object_set_new(doc, "image_name", json_string(b->store_name));
	json_object_set_new(doc, "platform", json_string(b->recipe->target_platform.str));
	json_object_set_new(doc, "target", json_string(b->recipe->stages[b->recipe->target_stage].name));
	return write_json_file(doc, path, err);
}
