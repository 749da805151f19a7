/* A build's registry traffic: a base image (or `copy --from` image) that is
 * not in the local store is pulled for the platform that needs it,
 * `--push` sends the result to its name's registry, and `--cache-to`
 * exports the steps' cache records (builder/cache_transfer.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "builder/build.h"
#include "builder/cache.h"
#include "builder/cache_transfer.h"
#include "builder/cli_registry.h"
#include "builder/cli_store.h"
#include "builder/progress.h"
#include "oci/cleanup.h"
#include "oci/ref.h"
#include "oci/banned.h"

static void registry_progress(void *opaque, enum oci_registry_event ev, const struct oci_descriptor *d)
{
	progress_info(opaque, "%s %s %lld", cli_registry_event_name(ev), d->digest.str, (long long)d->size);
}

void build_registry_progress(struct progress *p)
{
	cli_registry_set_progress(p ? registry_progress : NULL, p);
}

int build_pull_image(struct build *b, const char *name, const struct oci_platform *want,
		     struct oci_descriptor *top, struct ocb_error *err)
{
	struct oci_ref ref = {0};
	cleanup_free char *full = NULL;
	int ret = -1;

	if (oci_ref_parse(name, &ref, err) < 0)
		return -1;
	if (!(full = oci_ref_full_name(&ref))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	progress_info(b->progress, "pulling %s", full);
	/* Unnamed: the name would flip between the platforms of one build. */
	if (cli_registry_fetch(&b->store, &ref, want, !b->opts->no_tls_verify, top, err) < 0) {
		ocb_error_wrap(err, "pull '%s'", full);
		goto out;
	}
	ret = 0;
out:
	oci_ref_release(&ref);
	return ret;
}

static int no_push_name(struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EINVAL, 0, "--push needs a name: -t REGISTRY/REPO:TAG or [image] name");
}

int build_check_push(const struct build *b, struct ocb_error *err)
{
	if (b->opts->push && !b->opts->tag && !b->recipe->image_name.value)
		return no_push_name(err);
	return 0;
}

int build_push_result(struct build *b, struct ocb_error *err)
{
	struct oci_ref dest = {0};
	int ret = -1;

	if (!b->store_name)
		return no_push_name(err);
	if (oci_ref_parse(b->store_name, &dest, err) < 0)
		return -1;
	progress_info(b->progress, "pushing %s", b->store_name);
	if (cli_registry_push(&b->store, &b->manifest, &dest, !b->opts->no_tls_verify, err) < 0) {
		ocb_error_wrap(err, "push '%s'", b->store_name);
		goto out;
	}
	progress_info(b->progress, "pushed %s %s", b->store_name, b->manifest.digest.str);
	ret = 0;
out:
	oci_ref_release(&dest);
	return ret;
}

int build_export_cache(const struct build_options *o, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *root = NULL;
	cleanup_free char *tmp = NULL;
	struct build_cache *c = NULL;
	int ret;

	if (cache_dir_default(o->cache_dir, &dir, err) < 0 || cli_store_root(&root, err) < 0)
		return -1;
	if (asprintf(&tmp, "%s/tmp", root) < 0) {
		tmp = NULL;
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if (cache_open(&c, dir, err) < 0)
		return -1;
	progress_info(o->progress, "exporting the step cache");
	ret = cache_transfer_export(o->transfer, c, tmp, err);
	cache_close(c);
	return ret;
}
