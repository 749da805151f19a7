/* Multi-platform builds (`--arch all`, `--platform a,b`): the recipe is
 * loaded once per target platform and each platform is built by its own
 * struct build, all in parallel.  Work they share is done once: a step whose
 * cache key another platform is executing right now waits for it and then
 * finds the result in the cache (build_shared_claim).  A platform = "build"
 * stage gets identical keys for every target platform (the TARGET* variables
 * reach only the steps that name them, builder/build_step_run.c), so it runs
 * once.  The platforms' images end up in one OCI index. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

struct digest_set {
	struct oci_digest *keys;
	size_t n, cap;
};

/* The cache keys being executed by some platform's build (`running`) and
 * those run to the end in this invocation (`ran`). */
struct build_shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct digest_set running, ran;
	bool failed;
	const struct build *first_failed; /* its error is the one to report */
};

static ssize_t set_find(const struct digest_set *set, const struct oci_digest *key)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->keys[i].str, key->str))
			return (ssize_t)i;
	return -1;
}

/* Add key; false when out of memory (the caller degrades, see below). */
static bool set_add(struct digest_set *set, const struct oci_digest *key)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct oci_digest *k = realloc(set->keys, cap * sizeof(*k));
		if (!k)
			return false;
		set->keys = k;
		set->cap = cap;
	}
	set->keys[set->n++] = *key;
	return true;
}

int build_shared_claim(struct build *b, const struct oci_digest *key)
{
	struct build_shared *sh = b->shared;
	bool waited = false;

	if (!sh)
		return 1;
	pthread_mutex_lock(&sh->lock);
	while (set_find(&sh->running, key) >= 0) {
		pthread_cond_wait(&sh->cond, &sh->lock);
		waited = true;
	}
	/* Out of memory: run it untracked (the other platform may run it too). */
	if (!waited)
		(void)set_add(&sh->running, key);
	pthread_mutex_unlock(&sh->lock);
	return waited ? 0 : 1;
}

void build_shared_release(struct build *b, const struct oci_digest *key, bool ran)
{
	struct build_shared *sh = b->shared;
	ssize_t i;

	if (!sh)
		return;
	pthread_mutex_lock(&sh->lock);
	if ((i = set_find(&sh->running, key)) >= 0)
		sh->running.keys[i] = sh->running.keys[--sh->running.n];
	/* Out of memory: a --no-cache build may run the step again. */
	if (ran && set_find(&sh->ran, key) < 0)
		(void)set_add(&sh->ran, key);
	pthread_cond_broadcast(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
}

bool build_shared_ran(struct build *b, const struct oci_digest *key)
{
	bool ran;

	if (!b->shared)
		return false;
	pthread_mutex_lock(&b->shared->lock);
	ran = set_find(&b->shared->ran, key) >= 0;
	pthread_mutex_unlock(&b->shared->lock);
	return ran;
}

void build_shared_fail(struct build *b)
{
	if (!b->shared)
		return;
	pthread_mutex_lock(&b->shared->lock);
	if (!b->shared->failed)
		b->shared->first_failed = b;
	b->shared->failed = true;
	pthread_mutex_unlock(&b->shared->lock);
}

bool build_shared_failed(struct build *b)
{
	bool f;

	if (!b->shared)
		return false;
	pthread_mutex_lock(&b->shared->lock);
	f = b->shared->failed;
	pthread_mutex_unlock(&b->shared->lock);
	return f;
}

struct platform_job {
	struct build b;
	struct ocb_error err;
	int rc;
	pthread_t thread;
	bool started;
};

static void *platform_main(void *arg)
{
	struct platform_job *j = arg;

	j->rc = build_one(&j->b, &j->err);
	if (j->rc < 0) {
		build_shared_fail(&j->b);
		ocb_error_wrap(&j->err, "%s", j->b.platform_str);
	}
	return NULL;
}

/* The index of the platforms' images, named and written like one image. */
static int finish_index(struct platform_job *jobs, size_t n, struct ocb_error *err)
{
	cleanup_free struct oci_descriptor *descs = calloc(n, sizeof(*descs));
	cleanup_free struct build **plats = calloc(n, sizeof(*plats));
	struct build top;
	int ret;

	if (!descs || !plats)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		descs[i] = jobs[i].b.manifest; /* shallow: put_index only reads them */
		plats[i] = &jobs[i].b;
	}
	/* top borrows the first platform's store, recipe and options. */
	top = jobs[0].b;
	top.store_name = NULL;
	memset(&top.manifest, 0, sizeof(top.manifest));
	if (oci_layout_put_index(&top.store, descs, n, &top.manifest, err) < 0)
		return ocb_error_wrap(err, "store the index");
	ret = build_finish(&top, plats, n, err);
	free(top.store_name);
	oci_descriptor_release(&top.manifest);
	return ret;
}

int build_run_multi(const struct build_options *opts, const struct recipe_platform *plats, size_t n,
		    struct ocb_error *err)
{
	struct build_shared sh = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	struct platform_job *jobs;
	int ret = -1;

	if (build_check_outputs(opts, n, err) < 0)
		return -1;
	if (!(jobs = calloc(n, sizeof(*jobs))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		jobs[i].b = (struct build){.opts = opts,
					   .progress = opts->progress,
					   .platform_str = plats[i].str,
					   .label = plats[i].str,
					   .shared = &sh};
		if (pthread_create(&jobs[i].thread, NULL, platform_main, &jobs[i]) != 0) {
			jobs[i].rc = -1;
			ocb_error_set(&jobs[i].err, OCB_EFAIL, errno, "%s: cannot start a thread",
				      plats[i].str);
			continue;
		}
		jobs[i].started = true;
	}
	for (size_t i = 0; i < n; i++)
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
	ret = 0;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].rc < 0 && (ret == 0 || sh.first_failed == &jobs[i].b)) {
			*err = jobs[i].err;
			ret = -1;
		}
	if (ret == 0)
		ret = finish_index(jobs, n, err);
	for (size_t i = 0; i < n; i++)
		build_release(&jobs[i].b);
	free(jobs);
	free(sh.running.keys);
	free(sh.ran.keys);
	return ret;
}
