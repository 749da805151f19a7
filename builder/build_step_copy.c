/* A `copy` step: planned by builder/copy.h before the cache lookup (its
 * content digest is part of the key), written as a layer on a miss.  The
 * source root is the build context, or a read-only merged view of another
 * stage's result or an image; the destination root is a view of the image
 * so far (for `to` through symlinks, existing directories and chown names).
 * The layer's snapshot is made lazily, when a later run step needs it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/copy.h"
#include "oci/cleanup.h"
#include "oci/layer.h"
#include "oci/banned.h"

struct build_copy_prep {
	struct copy_plan *plan;
	struct oci_digest digest;
	int src_fd, dest_fd;
	struct build_image from_image; /* copy from an image: resolved here */
	bool from_image_resolved;
};

int build_copy_created_by(const struct recipe_step *step, char **out, struct ocb_error *err)
{
	const struct recipe_copy *c = &step->copy;
	size_t len = 32 + strlen(c->to.value) + (c->from.value ? strlen(c->from.value) : 0);
	char *s, *q;

	for (size_t i = 0; i < c->sources.len; i++)
		len += strlen(c->sources.items[i].value) + 1;
	if (!(s = malloc(len)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	q = s + snprintf(s, len, "COPY");
	if (c->from.value)
		q += snprintf(q, len - (size_t)(q - s), " --from=%s", c->from.value);
	for (size_t i = 0; i < c->sources.len; i++)
		q += snprintf(q, len - (size_t)(q - s), " %s", c->sources.items[i].value);
	snprintf(q, len - (size_t)(q - s), " %s", c->to.value);
	*out = s;
	return 0;
}

static int resolve_from_image(struct build_step_ctx *sc, struct build_copy_prep *p, struct ocb_error *err)
{
	const struct recipe_copy *c = &sc->step->copy;

	if (p->from_image_resolved)
		return 0;
	if (build_resolve_image(sc->b, c->from.value, &c->from.pos, &sc->b->platform, &p->from_image, err) <
	    0)
		return -1;
	p->from_image_resolved = true;
	return 0;
}

static int open_source(struct build_step_ctx *sc, struct build_copy_prep *p, char **label,
		       struct ocb_error *err)
{
	const struct recipe_copy *c = &sc->step->copy;
	struct build *b = sc->b;
	int n;

	switch (c->origin) {
	case RECIPE_COPY_CONTEXT:
		p->src_fd = open(b->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->src_fd < 0)
			return ocb_error_sys(err, "build context '%s'", b->context);
		n = asprintf(label, "context '%s'", b->context);
		break;
	case RECIPE_COPY_STAGE:
		if (build_view_open(b, &b->result[c->from_stage], &p->src_fd, err) < 0)
			return -1;
		n = asprintf(label, "stage '%s'", b->recipe->stages[c->from_stage].name);
		break;
	default:
		if (resolve_from_image(sc, p, err) < 0 ||
		    build_view_open(b, &p->from_image, &p->src_fd, err) < 0)
			return -1;
		n = asprintf(label, "image '%s'", c->from.value);
		break;
	}
	if (n < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

static void hash_str(struct oci_hasher *h, const char *s)
{
	uint64_t n = s ? strlen(s) : UINT64_MAX;

	oci_hasher_update(h, &n, sizeof(n));
	if (s)
		oci_hasher_update(h, s, strlen(s));
}

/* For a copy from a stage or an image, the source filesystem is its layer
 * chain: the digest covers that chain and every field that picks from it
 * (not the bytes: hashing a 200 MiB artifact on every rebuild would cost
 * more than the rest of a cached build). */
static int chain_digest(struct build_step_ctx *sc, const struct build_image *src, const char *workdir,
			struct oci_digest *out, struct ocb_error *err)
{
	const struct recipe_copy *c = &sc->step->copy;
	struct oci_hasher h;

	if (oci_hasher_init(&h, err) < 0)
		return -1;
	hash_str(&h, "ocb copy from a layer chain v1");
	for (size_t i = 0; i < src->n_layers; i++)
		hash_str(&h, src->layers[i].diff_id.str);
	hash_str(&h, "sources");
	for (size_t i = 0; i < c->sources.len; i++)
		hash_str(&h, c->sources.items[i].value);
	hash_str(&h, "exclude");
	for (size_t i = 0; i < c->exclude.len; i++)
		hash_str(&h, c->exclude.items[i].value);
	hash_str(&h, "workdir");
	hash_str(&h, workdir);
	oci_hasher_final(&h, out);
	oci_hasher_release(&h);
	return 0;
}

/* A copy from a stage or an image: keyed by the source's layer chain, and
 * planned only when it runs (a hit reads no layer: with --cache-from they
 * may not even be downloaded). */
static bool copies_layers(const struct build_step_ctx *sc)
{
	return sc->step->copy.origin == RECIPE_COPY_STAGE || sc->step->copy.origin == RECIPE_COPY_IMAGE;
}

static int chain_key(struct build_step_ctx *sc, struct build_copy_prep *p, struct ocb_error *err)
{
	cleanup_free char *workdir = NULL;

	if (build_step_workdir(sc, &workdir, err) < 0)
		return -1;
	if (sc->step->copy.origin == RECIPE_COPY_STAGE)
		return chain_digest(sc, &sc->b->result[sc->step->copy.from_stage], workdir, &p->digest, err);
	if (resolve_from_image(sc, p, err) < 0)
		return -1;
	return chain_digest(sc, &p->from_image, workdir, &p->digest, err);
}

static int plan_copy(struct build_step_ctx *sc, struct build_copy_prep *p, struct ocb_error *err)
{
	cleanup_free char *label = NULL;
	cleanup_free char *workdir = NULL;
	struct copy_request req = {0};
	int ret;

	if (open_source(sc, p, &label, err) < 0 || build_step_workdir(sc, &workdir, err) < 0)
		return -1;
	if (sc->img->n_layers && build_view_open(sc->b, sc->img, &p->dest_fd, err) < 0)
		return -1;
	req.source_root_fd = p->src_fd;
	req.source_label = label;
	req.ignore = sc->step->copy.origin == RECIPE_COPY_CONTEXT ? sc->b->ignore : NULL;
	req.copy = &sc->step->copy;
	req.workdir = workdir;
	req.dest_root_fd = p->dest_fd;
	req.origin_is_context = sc->step->copy.origin == RECIPE_COPY_CONTEXT;
	if (copy_plan(&req, &p->plan, err) < 0)
		return -1;
	if (copies_layers(sc))
		return 0; /* keyed by chain_key */
	pthread_mutex_lock(&sc->b->digest_lock);
	ret = copy_plan_digest(p->plan, sc->b->digest_cache, &p->digest, err);
	pthread_mutex_unlock(&sc->b->digest_lock);
	return ret;
}

int build_copy_init(struct build *b, struct ocb_error *err)
{
	if (recipe_ignore_load(b->context, &b->ignore, err) < 0 ||
	    copy_digest_cache_new(&b->digest_cache, err) < 0)
		return ocb_error_wrap(err, "build context '%s'", b->context);
	return 0;
}

void build_copy_fini(struct build *b)
{
	recipe_ignore_free(b->ignore);
	b->ignore = NULL;
	copy_digest_cache_free(b->digest_cache);
	b->digest_cache = NULL;
}

int build_copy_prepare(struct build_step_ctx *sc, struct ocb_error *err)
{
	struct build_copy_prep *p = calloc(1, sizeof(*p));

	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	p->src_fd = p->dest_fd = -1;
	sc->copy = p;
	if ((copies_layers(sc) ? chain_key(sc, p, err) : plan_copy(sc, p, err)) < 0)
		return ocb_error_wrap(err, "stage '%s', step %zu", sc->stage->name, sc->step->index + 1);
	return 0;
}

void build_copy_release(struct build_step_ctx *sc)
{
	struct build_copy_prep *p = sc->copy;

	if (!p)
		return;
	copy_plan_free(p->plan);
	if (p->src_fd >= 0)
		close(p->src_fd);
	if (p->dest_fd >= 0)
		close(p->dest_fd);
	build_image_release(&p->from_image);
	free(p);
	sc->copy = NULL;
}

const struct oci_digest *build_copy_digest(const struct build_step_ctx *sc)
{
	return &sc->copy->digest;
}

int build_step_copy_exec(struct build_step_ctx *sc, struct build_layer *layer, bool *empty,
			 struct ocb_error *err)
{
	struct oci_layer_options lopts = {.compression = sc->b->opts->compression};
	struct oci_layer_writer *w = NULL;
	struct oci_layer_desc desc;

	if (sc->b->epoch >= 0) {
		lopts.clamp_mtime = true;
		lopts.source_date_epoch = sc->b->epoch;
	}
	if (!sc->copy->plan && plan_copy(sc, sc->copy, err) < 0)
		return ocb_error_wrap(err, "stage '%s', step %zu", sc->stage->name, sc->step->index + 1);
	*empty = copy_plan_count(sc->copy->plan) == 0;
	if (*empty)
		return 0;
	if (oci_layer_writer_new(&w, sc->b->layer_bs, &lopts, err) < 0)
		return -1;
	if (copy_plan_write_layer(sc->copy->plan, w, err) < 0) {
		oci_layer_writer_abort(w);
		return -1;
	}
	if (oci_layer_writer_commit(w, &desc, err) < 0)
		return -1;
	memset(layer, 0, sizeof(*layer));
	layer->diff_id = desc.diff_id;
	return oci_descriptor_init(&layer->desc, desc.media_type, &desc.digest, (int64_t)desc.size, err);
}
