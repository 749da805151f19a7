/* The step cache glue (builder/cache.h): the fields of a step's key, lookup
 * before a step, record after it, the layer blob store, cache mounts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "builder/cache.h"
#include "builder/cache_transfer.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

int build_cache_open(struct build *b, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;

	if (cache_dir_default(b->opts->cache_dir, &dir, err) < 0 || cache_open(&b->cache, dir, err) < 0)
		return ocb_error_wrap(err, "cache");
	b->layer_bs = cache_blobstore(b->cache);
	return 0;
}

void build_cache_close(struct build *b)
{
	if (b->cache)
		cache_close(b->cache);
	b->cache = NULL;
}

int build_layer_fetch(struct build *b, const struct oci_digest *d, struct ocb_error *err)
{
	return cache_transfer_materialize(b->opts->transfer, b->cache, d, err);
}

int build_export_blob(struct build *b, const struct oci_digest *d, struct ocb_error *err)
{
	if (build_layer_fetch(b, d, err) < 0)
		return -1;
	return cache_export_blob(b->cache, &b->store.bs, d, err);
}

int build_mount_acquire(struct build *b, const char *stage, const char *path, char **host_dir, int *lock_fd,
			struct ocb_error *err)
{
	return cache_mount_acquire(b->cache, stage, path, host_dir, lock_fd, err);
}

void build_mount_release(int lock_fd)
{
	if (lock_fd >= 0)
		cache_mount_release(lock_fd);
}

/* The diff_ids below the step. */
static void add_parent(struct cache_key *k, const struct build_image *img)
{
	cleanup_free char **v = calloc(img->n_layers + 1, sizeof(*v));

	if (!v) {
		k->failed = true;
		return;
	}
	for (size_t i = 0; i < img->n_layers; i++)
		v[i] = (char *)img->layers[i].diff_id.str;
	cache_key_add_strv(k, "parent", v);
}

static void add_strv(struct cache_key *k, const char *field, const struct recipe_strv *v)
{
	cleanup_free char **s = calloc(v->len + 1, sizeof(*s));

	if (!s) {
		k->failed = true;
		return;
	}
	for (size_t i = 0; i < v->len; i++)
		s[i] = v->items[i].value;
	cache_key_add_strv(k, field, s);
}

static void add_output_fields(struct cache_key *k, const struct build *b)
{
	cache_key_add_str(k, "compression", oci_compression_name(b->opts->compression));
	cache_key_add_i64(k, "epoch", b->epoch);
}

static int run_key(struct build_step_ctx *sc, struct cache_key *k, struct ocb_error *err)
{
	const struct recipe_step *step = sc->step;
	struct build_run_env re = {0};

	if (build_run_env(sc, &re, err) < 0)
		return -1;
	cache_key_add_str(k, "kind", "run");
	if (step->run.shell)
		cache_key_add_str(k, "shell", step->run.argv.items[2].value);
	else
		add_strv(k, "argv", &step->run.argv);
	cache_key_add_strv(k, "env", re.env);
	cache_key_add_str(k, "workdir", re.workdir);
	cache_key_add_str(k, "user", re.user);
	cache_key_add_str(k, "network",
			  step->net == RECIPE_NETWORK_NONE   ? "none"
			  : step->net == RECIPE_NETWORK_HOST ? "host"
							     : "default");
	cache_key_add_str(k, "platform", sc->stage->resolved_platform.str);
	add_strv(k, "cache", &step->cache);
	add_strv(k, "secrets", &step->secrets); /* the ids, never the content */
	/* A step that probes the kernel (a configure test for io_uring or user
	 * namespaces) can build something else without the seccomp filter, so
	 * an unconfined step is a different step (BuildKit keys its `--security`
	 * mode too).  Added only when set: default keys stay as they were. */
	if (sc->b->opts->seccomp_unconfined)
		cache_key_add_bool(k, "seccomp_unconfined", true);
	build_run_env_release(&re);
	return 0;
}

static void copy_key(struct build_step_ctx *sc, struct cache_key *k)
{
	const struct recipe_copy *c = &sc->step->copy;

	cache_key_add_str(k, "kind", "copy");
	cache_key_add_digest(k, "sources", build_copy_digest(sc));
	cache_key_add_str(k, "to", c->to.value);
	cache_key_add_str(k, "workdir", sc->step->workdir.value);
	cache_key_add_bool(k, "chmod_set", c->chmod_set);
	cache_key_add_u64(k, "chmod", c->chmod);
	cache_key_add_str(k, "chown", c->chown.value);
}

static int step_key(struct build_step_ctx *sc, struct ocb_error *err)
{
	struct cache_key k;

	cache_key_init(&k);
	add_parent(&k, sc->img);
	if (sc->step->kind == RECIPE_STEP_RUN) {
		if (run_key(sc, &k, err) < 0) {
			cache_key_release(&k);
			return -1;
		}
	} else {
		copy_key(sc, &k);
	}
	add_output_fields(&k, sc->b);
	if (cache_key_final(&k, &sc->key, err) < 0)
		return -1;
	sc->has_key = true;
	return 0;
}

int build_cache_lookup(struct build_step_ctx *sc, struct build_cached *out, struct ocb_error *err)
{
	struct cache_record rec = {0};
	int ret = 0;

	if (step_key(sc, err) < 0 || cache_transfer_note(sc->b->opts->transfer, &sc->key, err) < 0)
		return -1;
	/* --no-cache runs every step once: one another platform of this
	 * invocation ran is taken from the cache like a hit. */
	if (sc->b->opts->no_cache && !build_shared_ran(sc->b, &sc->key))
		return 0;
	if (cache_lookup(sc->b->cache, &sc->key, &rec, err) < 0) {
		if (err->code != OCB_ENOTFOUND)
			return -1;
		ocb_error_clear(err);
		/* --cache-from: the imported record is a hit (its layer is
		 * downloaded when read: build_layer_fetch) */
		ret = cache_transfer_lookup(sc->b->opts->transfer, sc->b->cache, &sc->key, &rec, err);
		if (ret <= 0)
			return ret;
		ret = 0;
	}
	memset(out, 0, sizeof(*out));
	out->empty = rec.empty_layer;
	if (!rec.empty_layer) {
		out->layer.diff_id = rec.diff_id;
		if (oci_descriptor_init(&out->layer.desc, rec.media_type, &rec.digest, (int64_t)rec.size,
					err) < 0)
			ret = -1;
	}
	cache_record_release(&rec);
	return ret < 0 ? -1 : 1;
}

int build_cache_store(struct build_step_ctx *sc, const struct build_layer *layer, const char *created_by,
		      struct ocb_error *err)
{
	struct cache_record r = {.empty_layer = !layer, .created_by = (char *)created_by};

	if (layer) {
		r.media_type = layer->desc.media_type;
		r.digest = layer->desc.digest;
		r.size = (uint64_t)layer->desc.size;
		r.diff_id = layer->diff_id;
	}
	return cache_store(sc->b->cache, &sc->key, &r, err);
}

void build_cached_release(struct build_cached *c)
{
	oci_descriptor_release(&c->layer.desc);
}
