/* One stage: its base (another stage's result or a resolved image), each
 * step in order (a cache hit reuses the layer, a miss executes the step),
 * then the stage's metadata over the config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "builder/progress.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

static int step_names(const struct recipe_step *step, char **created_by, char **display,
		      struct ocb_error *err)
{
	if (step->kind == RECIPE_STEP_RUN)
		return build_run_created_by(step, false, created_by, err) < 0 ||
			       build_run_created_by(step, true, display, err) < 0
			   ? -1
			   : 0;
	if (build_copy_created_by(step, created_by, err) < 0)
		return -1;
	if (!(*display = strdup(*created_by)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

static int exec_step(struct build_step_ctx *sc, const char *created_by, struct build_step_record *rec,
		     struct ocb_error *err)
{
	struct build_layer layer = {0};
	struct build_cached hit = {0};
	bool empty = false;
	int ret;

	if (sc->step->kind == RECIPE_STEP_COPY && build_copy_prepare(sc, err) < 0)
		return -1;
	for (;;) {
		ret = build_cache_lookup(sc, &hit, err);
		/* A miss: run it, unless another platform is running the same
		 * step; then wait for it and look again. */
		if (ret != 0 || build_shared_claim(sc->b, &sc->key) == 1)
			break;
		if (build_failed(sc->b))
			return ocb_error_set(err, OCB_EBUILD, 0,
					     "stage '%s': stopped (another platform failed)",
					     sc->stage->name);
	}
	if (ret < 0)
		return -1;
	if (ret == 1) {
		rec->cached = true;
		ret = build_image_add_step(sc->b, sc->img, hit.empty ? NULL : &hit.layer, created_by, err);
		if (!hit.empty) {
			rec->has_layer = true;
			rec->layer = hit.layer.desc.digest;
		}
		build_cached_release(&hit);
		return ret;
	}
	if (sc->step->kind == RECIPE_STEP_RUN)
		ret = build_step_run_exec(sc, &layer, &empty, err);
	else
		ret = build_step_copy_exec(sc, &layer, &empty, err);
	if (ret == 0 && build_cache_store(sc, empty ? NULL : &layer, created_by, err) < 0)
		ret = -1;
	build_shared_release(sc->b, &sc->key, ret == 0);
	if (ret < 0) {
		oci_descriptor_release(&layer.desc);
		return -1;
	}
	if (build_image_add_step(sc->b, sc->img, empty ? NULL : &layer, created_by, err) < 0)
		ret = -1;
	if (!empty) {
		rec->has_layer = true;
		rec->layer = layer.desc.digest;
	}
	oci_descriptor_release(&layer.desc);
	return ret;
}

static int run_step(struct build *b, const struct recipe_stage *st, size_t i, struct build_image *img,
		    struct ocb_error *err)
{
	struct build_step_ctx sc = {.b = b, .stage = st, .step = &st->steps[i], .img = img};
	struct build_step_record rec = {.stage = st->name, .index = i};
	cleanup_free char *created_by = NULL;
	cleanup_free char *display = NULL;
	cleanup_free char *label = NULL;
	int64_t t0 = build_now_ms();
	int rc;

	if (step_names(sc.step, &created_by, &display, err) < 0)
		return -1;
	if (b->label && asprintf(&label, "%s %s", b->label, st->name) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	sc.id = progress_step_start(b->progress, label ? label : st->name, i, st->n_steps, display);
	rc = exec_step(&sc, created_by, &rec, err);
	build_copy_release(&sc);
	if (rc < 0) {
		char buf[OCB_ERROR_MSG_MAX + 128];
		const char *msg = ocb_error_format(err, buf, sizeof(buf));
		const char *nl = strchr(msg, '\n');
		/* The progress line carries the first sentence; the tail comes with the final error. */
		if (err->code == OCB_EBUILD && nl)
			buf[nl - buf] = '\0';
		progress_step_error(b->progress, sc.id, buf);
		return -1;
	}
	rec.duration_ms = build_now_ms() - t0;
	if (rec.cached)
		progress_step_cached(b->progress, sc.id);
	else
		progress_step_done(b->progress, sc.id, rec.duration_ms);
	return build_record_step(b, &rec, err);
}

int build_stage(struct build *b, size_t s, struct ocb_error *err)
{
	const struct recipe_stage *st = &b->recipe->stages[s];
	const struct build_image *base =
	    st->base == RECIPE_BASE_STAGE ? &b->result[st->base_stage] : &b->bases[s];
	struct build_image img = {0};

	if (st->base == RECIPE_BASE_STAGE) {
		/* The base stage's result is its base for env/workdir/user too. */
		build_image_release(&b->bases[s]);
		if (build_image_copy(&b->bases[s], base, err) < 0)
			return -1;
	}
	if (build_image_copy(&img, base, err) < 0)
		return -1;
	for (size_t i = 0; i < st->n_steps; i++) {
		if (build_failed(b)) {
			build_image_release(&img);
			return ocb_error_set(err, OCB_EBUILD, 0, "stage '%s': stopped (another stage failed)",
					     st->name);
		}
		if (run_step(b, st, i, &img, err) < 0) {
			build_image_release(&img);
			return -1;
		}
	}
	if (build_config_apply_stage(b, st, &img, err) < 0) {
		build_image_release(&img);
		return -1;
	}
	b->result[s] = img;
	return 0;
}
