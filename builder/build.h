/* The build executor behind `ocb build` (issue 4, docs/build.md).
 *
 * build_run() loads the recipe for one platform, resolves every stage's base
 * (builder/build_base.c), runs the needed stages in parallel on up to
 * opts->jobs threads, each as soon as the stages it depends on are done
 * (builder/build_exec.c), each
 * stage's steps in order (builder/build_stage.c, build_step_run.c,
 * build_step_copy.c), assembles the target stage's image config and manifest
 * in the local store (builder/build_config.c) and writes the outputs
 * (builder/build_output.c).
 *
 * Layers: base image layers live in the local store's blobs; step layers are
 * written into the cache's blob store (the store's own when there is no cache)
 * and copied (hard-linked) into the store when the image is assembled.
 * Every layer a run step needs below it is a snapshot directory
 * (builder/snapshot.h), shared by all builds on the store. */
#ifndef OCB_BUILD_H
#define OCB_BUILD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/compress.h"
#include "oci/error.h"
#include "oci/image.h"
#include "oci/layout.h"
#include "recipes/recipe.h"
#include "recipes/recipe_graph.h"

struct progress;
struct build_cache;
struct snapshot_dir;
struct recipe_ignore;
struct copy_digest_cache;
struct cache_transfer;

struct build_secret {
	char *id;
	char *src;
};

enum build_output_kind {
	BUILD_OUTPUT_OCI_DIR,	     /* oci:DIR[:TAG] */
	BUILD_OUTPUT_OCI_ARCHIVE,    /* oci-archive:FILE */
	BUILD_OUTPUT_DOCKER_ARCHIVE, /* docker-archive:FILE */
};

struct build_output {
	enum build_output_kind kind;
	char *dest; /* DIR[:TAG] or FILE */
};

struct build_options {
	const char *recipe_path;
	const char *platform_list; /* --platform */
	const char *arch;	   /* --arch */
	const char *target;	   /* --target */
	const char *const *build_args;
	size_t n_build_args;
	const char *tag; /* -t NAME:TAG; NULL: [image] name:tag */
	const struct build_output *outputs;
	size_t n_outputs;
	const char *cache_dir;
	bool no_cache;
	const struct build_secret *secrets;
	size_t n_secrets;
	unsigned jobs;		 /* 0: the number of CPUs */
	const char *context_dir; /* NULL: the recipe's directory */
	enum oci_compression compression;
	const char *metadata_file;
	struct progress *progress; /* borrowed */
	/* registries (builder/build_registry.c, builder/cache_transfer.c) */
	bool no_tls_verify;		 /* --tls-verify=false: base pulls, --push, registry caches */
	bool push;			 /* --push: push the result to its -t name */
	struct cache_transfer *transfer; /* --cache-from/--cache-to, or NULL */
	bool seccomp_unconfined;	 /* --security-opt seccomp=unconfined: steps run unfiltered */
};

/* One layer of an image being built. */
struct build_layer {
	struct oci_descriptor desc; /* media type, digest, size of the blob */
	struct oci_digest diff_id;
	bool in_store; /* the blob is in the local store (a base image's), else in the layer blob store */
};

/* An image: a base, or a stage's result.  config.diff_ids matches layers. */
struct build_image {
	struct oci_image_config config;
	struct build_layer *layers;
	size_t n_layers;
};

void build_image_release(struct build_image *img);
/* Deep copy (config through its canonical JSON). */
int build_image_copy(struct build_image *dst, const struct build_image *src, struct ocb_error *err);
/* Append a layer: its descriptor and diff_id (the config's diff_ids and
 * history are the caller's). */
int build_image_push_layer(struct build_image *img, const struct build_layer *l, struct ocb_error *err);

/* What a step did, for --metadata-file. */
struct build_step_record {
	char *stage;
	size_t index;
	bool cached;
	int64_t duration_ms;
	bool has_layer;
	struct oci_digest layer;
};

struct build_shared;

/* The state of one build: one target platform (a multi-platform build runs
 * one per platform, builder/build_multi.c). */
struct build {
	const struct build_options *opts;
	const char *platform_str;    /* the target platform, "linux/arm64" (borrowed) */
	const char *label;	     /* progress prefix of stage names ("linux/arm64"), or NULL */
	struct build_shared *shared; /* shared by the platforms' builds, or NULL */
	struct recipe *recipe;
	struct recipe_graph graph;
	struct oci_layout store;
	char *root;    /* $OCB_ROOT */
	char *tmp_dir; /* $OCB_ROOT/tmp */
	char *context; /* the build context directory */
	struct snapshot_dir *snapshots;
	struct recipe_ignore *ignore;		/* the context's .ocbignore/.dockerignore */
	struct copy_digest_cache *digest_cache; /* under digest_lock */
	pthread_mutex_t digest_lock;
	struct build_cache *cache;	/* NULL with --no-cache... see layer_bs */
	struct oci_blobstore *layer_bs; /* where step layers are written */
	struct progress *progress;
	struct oci_platform platform; /* the target platform */
	char created[32];	      /* RFC 3339: SOURCE_DATE_EPOCH or now */
	int64_t epoch;		      /* SOURCE_DATE_EPOCH, -1 when unset */

	struct build_image *bases;  /* per stage: the resolved base */
	struct build_image *result; /* per stage: its image after its steps */
	bool *stage_done;

	pthread_mutex_t lock; /* guards everything below */
	bool failed;
	struct ocb_error first_err;
	struct build_step_record *records;
	size_t n_records;

	/* the output */
	struct oci_descriptor manifest;
	struct oci_digest config_digest;
	char *store_name; /* the name it got in the store, or NULL */
};

/* build.c: one platform's build, opened, planned and executed (the image
 * committed into the store unnamed; b->manifest); released by build_release. */
int build_one(struct build *b, struct ocb_error *err);
void build_release(struct build *b);
/* Name b->manifest (an image, or the index of plats[0..n)) in the store,
 * write the outputs and the metadata, print the digest. */
int build_finish(struct build *b, struct build *const *plats, size_t n, struct ocb_error *err);
/* Name the image b->manifest in the store (-t, else [image] name:tag). */
int build_tag_image(struct build *b, struct ocb_error *err);

/* Run a whole build; on failure err says what (OCB_EBUILD for a failed step,
 * OCB_EINVAL for a recipe problem, OCB_EENV for the environment). */
int build_run(const struct build_options *opts, struct ocb_error *err);

/* ---- pieces, one file each ---- */

/* build_plan.c: the platforms to build (--platform, --arch, [image].platforms,
 * the host's; recipe_platforms_select); *out malloc'd. */
int build_select_platforms(const struct build_options *o, struct recipe_platform **out, size_t *n,
			   struct ocb_error *err);
/* Load the recipe for b->platform_str, the graph, resolve the bases. */
int build_plan(struct build *b, struct ocb_error *err);

/* build_multi.c: several target platforms, one struct build each, run in
 * parallel; a step whose cache key another platform is executing waits for
 * it and then takes the cached result, so a platform = "build" stage runs
 * once.  The result is an OCI index in the store. */
int build_run_multi(const struct build_options *opts, const struct recipe_platform *plats, size_t n,
		    struct ocb_error *err);
/* Claim the execution of the step with cache key `key` (1: claimed, run it
 * and call build_shared_release; 0: another platform ran it meanwhile, look
 * the cache up again).  Without b->shared always 1. */
int build_shared_claim(struct build *b, const struct oci_digest *key);
/* Give the claim back; `ran` when the step ran and its result is in the
 * cache, so build_shared_ran() answers true for it from then on. */
void build_shared_release(struct build *b, const struct oci_digest *key, bool ran);
/* Whether some platform of this invocation ran the step with cache key
 * `key`: with --no-cache its result is still the one to take, so a shared
 * build-platform stage runs once, not once per target.  False without
 * b->shared. */
bool build_shared_ran(struct build *b, const struct oci_digest *key);
/* One platform failed: the others stop starting steps. */
void build_shared_fail(struct build *b);
bool build_shared_failed(struct build *b);

/* build_base.c: resolve stage s's 'from' (not a stage) into b->bases[s]. */
int build_resolve_base(struct build *b, size_t s, struct ocb_error *err);

/* An image of the local store by name, else pulled from its registry for
 * want (build_pull_image); neither is an error naming pos. */
int build_resolve_image(struct build *b, const char *name, const struct recipe_pos *pos,
			const struct oci_platform *want, struct build_image *out, struct ocb_error *err);

/* build_registry.c: pull name (a registry reference) for want into the
 * store, unnamed; *top the stored manifest. */
int build_pull_image(struct build *b, const char *name, const struct oci_platform *want,
		     struct oci_descriptor *top, struct ocb_error *err);
/* The registry clients' blob lines go to p (NULL: back to stderr). */
void build_registry_progress(struct progress *p);
/* Before anything runs: --push has a name to push to. */
int build_check_push(const struct build *b, struct ocb_error *err);
/* --push: push b->manifest (an image or an index) to the -t name. */
int build_push_result(struct build *b, struct ocb_error *err);
/* --cache-to, after a successful build: export the records of the steps
 * the build used (o->transfer noted them) from the cache. */
int build_export_cache(const struct build_options *o, struct ocb_error *err);

/* build_exec.c: run the needed stages, each once its dependencies are done. */
int build_exec(struct build *b, struct ocb_error *err);

/* build_stage.c: run stage s's steps over its base into b->result[s]. */
int build_stage(struct build *b, size_t s, struct ocb_error *err);

/* build_config.c: the stage's metadata over its image's config. */
int build_config_apply_stage(struct build *b, const struct recipe_stage *st, struct build_image *img,
			     struct ocb_error *err);
/* Store the image (layers copied into the store) and set b->manifest. */
int build_commit_image(struct build *b, const struct build_image *img, struct ocb_error *err);

/* build_output.c: --output and --metadata-file. */
int build_write_outputs(struct build *b, struct ocb_error *err);
/* Before building n_platforms platforms: a docker-archive output holds one. */
int build_check_outputs(const struct build_options *o, size_t n_platforms, struct ocb_error *err);
int build_write_metadata(struct build *b, const char *path, struct ocb_error *err);
/* A multi-platform build's metadata: the index (top->manifest) and each
 * platform's manifest, config and steps. */
int build_write_metadata_multi(struct build *top, struct build *const *plats, size_t n, const char *path,
			       struct ocb_error *err);

/* build_step_run.c / build_step_copy.c: one step over img (extended on success). */
struct build_step_ctx {
	struct build *b;
	const struct recipe_stage *stage;
	const struct recipe_step *step;
	struct build_image *img;
	unsigned id; /* progress id */
	bool has_key;
	struct oci_digest key;	      /* the step's cache key, once computed */
	struct build_copy_prep *copy; /* copy steps: the plan, made before the cache lookup */
};

/* build_step_copy.c: per-build copy state (the context's ignore file, the
 * content digest memo). */
int build_copy_init(struct build *b, struct ocb_error *err);
void build_copy_fini(struct build *b);
/* Plan a copy step (sources resolved and hashed) before
 * its cache lookup; released by build_copy_release. */
int build_copy_prepare(struct build_step_ctx *sc, struct ocb_error *err);
void build_copy_release(struct build_step_ctx *sc);
/* The content digest of the copy's sources (after build_copy_prepare). */
const struct oci_digest *build_copy_digest(const struct build_step_ctx *sc);

/* build_cachekey.c: the step cache.  lookup: 1 on a hit (*out filled), 0 on
 * a miss (the key is kept in sc for build_cache_store). */
struct build_cached {
	bool empty;
	struct build_layer layer;
};

int build_cache_lookup(struct build_step_ctx *sc, struct build_cached *out, struct ocb_error *err);
/* Record the step's result (layer NULL: it changed nothing). */
int build_cache_store(struct build_step_ctx *sc, const struct build_layer *layer, const char *created_by,
		      struct ocb_error *err);
void build_cached_release(struct build_cached *c);
/* Open the cache (unless --no-cache... which still writes) and set b->layer_bs. */
int build_cache_open(struct build *b, struct ocb_error *err);
void build_cache_close(struct build *b);

/* Execute the step (a cache miss): on success *empty says the step changed
 * nothing, else *layer is its new layer (in the layer blob store, its
 * snapshot published). */
int build_step_run_exec(struct build_step_ctx *sc, struct build_layer *layer, bool *empty,
			struct ocb_error *err);
int build_step_copy_exec(struct build_step_ctx *sc, struct build_layer *layer, bool *empty,
			 struct ocb_error *err);
/* The step's workdir: its own, else the stage's, else the base image's, else "/". */
int build_step_workdir(struct build_step_ctx *sc, char **out, struct ocb_error *err);
/* What a run step runs with: env, workdir, user (the step's, else the
 * stage's, else the base image's). */
struct build_run_env {
	char **env;
	char *workdir;
	const char *user; /* borrowed */
};

int build_run_env(struct build_step_ctx *sc, struct build_run_env *re, struct ocb_error *err);
void build_run_env_release(struct build_run_env *re);
/* History text: "RUN /bin/sh -c make"; display drops "/bin/sh -c". */
int build_run_created_by(const struct recipe_step *step, bool display, char **out, struct ocb_error *err);
/* "COPY a b /dest" (with --from=STAGE when from a stage or image). */
int build_copy_created_by(const struct recipe_step *step, char **out, struct ocb_error *err);

/* build_mounts.c: persistent cache-mount directories, locked while used. */
int build_mount_acquire(struct build *b, const char *stage, const char *path, char **host_dir, int *lock_fd,
			struct ocb_error *err);
void build_mount_release(int lock_fd);

/* build_util.c */
/* The snapshots of img's layers (ensured, extracted when missing), topmost
 * first; *out NULL-terminated, free with build_strv_free. */
int build_lowerdirs(struct build *b, const struct build_image *img, char ***out, size_t *n,
		    struct ocb_error *err);
void build_strv_free(char **v);
/* build_view.c: a read-only merged view of img's layers as a directory fd
 * (a detached overlay mount; an empty directory when img has no layers). */
int build_view_open(struct build *b, const struct build_image *img, int *out, struct ocb_error *err);
/* A fresh directory $OCB_ROOT/tmp/build-<pid>-XXXXXX; *out malloc'd. */
int build_mkdtemp(struct build *b, char **out, struct ocb_error *err);
/* Remove leftovers of dead builds in $OCB_ROOT/tmp. */
void build_clean_stale_tmp(struct build *b);
/* Async-signal-safe: stop starting steps (SIGINT/SIGTERM). */
void build_interrupt(void);
/* Record that the build failed (the first error wins). */
void build_fail(struct build *b, const struct ocb_error *err);
bool build_failed(struct build *b);
int build_record_step(struct build *b, const struct build_step_record *r, struct ocb_error *err);
/* Append a history entry and, when l is not NULL, the layer, to img. */
int build_image_add_step(struct build *b, struct build_image *img, const struct build_layer *l,
			 const char *created_by, struct ocb_error *err);
int64_t build_now_ms(void);
/* A step layer's blob is about to be read: download it when it is a
 * --cache-from hit's not fetched yet (builder/cache_transfer.h). */
int build_layer_fetch(struct build *b, const struct oci_digest *d, struct ocb_error *err);
/* Copy a step layer's blob from the layer blob store into the local store. */
int build_export_blob(struct build *b, const struct oci_digest *d, struct ocb_error *err);
/* Docker's WORKDIR: a relative dir continues base (NULL: "/"). */
int build_resolve_workdir(const char *base, const char *dir, char **out, struct ocb_error *err);

/* build_steplog.c: a step's output split into lines for the progress output,
 * the last BUILD_TAIL_LINES kept for the error message of a failed step. */
#define BUILD_TAIL_LINES 20
#define BUILD_LINE_MAX	 4096

struct build_steplog {
	struct progress *progress;
	unsigned id;
	char partial[BUILD_LINE_MAX];
	size_t plen;
	char *tail[BUILD_TAIL_LINES]; /* ring */
	size_t n_lines;		      /* lines seen */
};

void build_steplog_init(struct build_steplog *log, struct progress *p, unsigned id);
void build_steplog_write(struct build_steplog *log, const char *buf, size_t len);
/* Flush a last unterminated line. */
void build_steplog_finish(struct build_steplog *log);
/* The kept lines, each ending in '\n'; malloc'd ("" when none). */
char *build_steplog_tail(const struct build_steplog *log);
void build_steplog_release(struct build_steplog *log);

#endif
