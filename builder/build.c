/* build_run(): open the store, plan, execute, commit, output. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/cli_store.h"
#include "builder/private_dir.h"
#include "builder/progress.h"
#include "builder/rootless.h"
#include "builder/snapshot.h"
#include "oci/cleanup.h"
#include "oci/epoch.h"
#include "oci/ref.h"
#include "oci/banned.h"

static int open_store(struct build *b, struct ocb_error *err)
{
	static struct snapshot_dir sd_init = {.fd = -1};

	if (cli_store_root(&b->root, err) < 0 || cli_store_open(&b->store, true, err) < 0)
		return -1;
	if (asprintf(&b->tmp_dir, "%s/tmp", b->root) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (build_private_dir(b->tmp_dir, err) < 0) /* the steps' upper dirs */
		return -1;
	build_clean_stale_tmp(b);
	if (!(b->snapshots = malloc(sizeof(*b->snapshots))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*b->snapshots = sd_init;
	return snapshot_dir_open(b->snapshots, b->root, err);
}

static int set_times(struct build *b, struct ocb_error *err)
{
	int64_t epoch = -1;
	int rc = oci_source_date_epoch(&epoch, err);

	if (rc < 0)
		return -1;
	b->epoch = rc ? epoch : -1;
	return cli_created_time(b->created, sizeof(b->created), err);
}

/* -t NAME:TAG, else [image] name:tag, else none. */
int build_tag_image(struct build *b, struct ocb_error *err)
{
	const struct recipe *r = b->recipe;
	cleanup_free char *spec = NULL;
	struct oci_ref ref = {0};
	int ret = -1;

	if (b->opts->tag)
		spec = strdup(b->opts->tag);
	else if (r->image_name.value && r->image_tag.value)
		(void)!asprintf(&spec, "%s:%s", r->image_name.value, r->image_tag.value);
	else if (r->image_name.value)
		spec = strdup(r->image_name.value);
	else
		return 0;
	if (!spec)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_ref_parse(spec, &ref, err) < 0)
		return ocb_error_wrap(err, "image name");
	if (ref.has_digest) {
		ocb_error_set(err, OCB_EINVAL, 0, "image name '%s' must not carry a digest", spec);
		goto out;
	}
	if (!(b->store_name = oci_ref_local_name(&ref))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	ret = oci_layout_set_ref(&b->store, b->store_name, &b->manifest, err);
out:
	oci_ref_release(&ref);
	return ret;
}

void build_release(struct build *b)
{
	size_t n = b->recipe ? b->recipe->n_stages : 0;

	for (size_t i = 0; i < n; i++) {
		if (b->bases)
			build_image_release(&b->bases[i]);
		if (b->result)
			build_image_release(&b->result[i]);
	}
	free(b->bases);
	free(b->result);
	free(b->stage_done);
	for (size_t i = 0; i < b->n_records; i++)
		free(b->records[i].stage);
	free(b->records);
	build_cache_close(b);
	build_copy_fini(b);
	if (b->snapshots) {
		snapshot_dir_release(b->snapshots);
		free(b->snapshots);
	}
	if (b->recipe)
		recipe_graph_release(&b->graph);
	recipe_free(b->recipe);
	oci_descriptor_release(&b->manifest);
	oci_platform_release(&b->platform);
	oci_layout_release(&b->store);
	free(b->store_name);
	free(b->context);
	free(b->tmp_dir);
	free(b->root);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->digest_lock);
}

int build_finish(struct build *b, struct build *const *plats, size_t n, struct ocb_error *err)
{
	if (build_tag_image(b, err) < 0)
		return -1;
	progress_info(b->progress, "image %s%s%s", b->manifest.digest.str, b->store_name ? " named " : "",
		      b->store_name ? b->store_name : "");
	if (build_write_outputs(b, err) < 0)
		return -1;
	if (b->opts->push && build_push_result(b, err) < 0)
		return -1;
	if (b->opts->metadata_file &&
	    (n ? build_write_metadata_multi(b, plats, n, b->opts->metadata_file, err)
	       : build_write_metadata(b, b->opts->metadata_file, err)) < 0)
		return -1;
	printf("%s\n", b->manifest.digest.str);
	fflush(stdout);
	return 0;
}

int build_one(struct build *b, struct ocb_error *err)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->digest_lock, NULL);
	if (set_times(b, err) < 0 || open_store(b, err) < 0 || build_plan(b, err) < 0 ||
	    build_check_push(b, err) < 0 || build_cache_open(b, err) < 0 || build_exec(b, err) < 0)
		return -1;
	return build_commit_image(b, &b->result[b->recipe->target_stage], err);
}

int build_run(const struct build_options *opts, struct ocb_error *err)
{
	cleanup_free struct recipe_platform *plats = NULL;
	struct build b = {.opts = opts, .progress = opts->progress};
	size_t n = 0;
	int ret = -1;

	if (geteuid() != 0)
		return ocb_error_set(err, OCB_EENV, 0,
				     "ocb build needs root or a rootless user namespace: %s",
				     rootless_unavailable() ? rootless_unavailable() : "not entered");
	if (build_select_platforms(opts, &plats, &n, err) < 0)
		return -1;
	if (n > 1)
		return build_run_multi(opts, plats, n, err);
	b.platform_str = plats[0].str;
	if (build_one(&b, err) == 0 && build_finish(&b, NULL, 0, err) == 0)
		ret = 0;
	build_release(&b);
	return ret;
}
