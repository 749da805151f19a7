/* The scheduler: each needed stage starts as soon as every stage it depends
 * on (its base stage, the stages it copies from) is done, on up to --jobs
 * worker threads; so a stage never waits for an unrelated slow one (waves
 * would).  sandbox_run() is thread-safe and each call is synchronous on its
 * worker thread, which lives until it returns (the sandbox's death signal
 * follows that thread). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/build.h"
#include "oci/banned.h"

#define BUILD_MAX_JOBS 64

struct sched {
	struct build *b;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool *started; /* per stage; b->stage_done is guarded by lock too */
	size_t running;
};

static bool deps_done(const struct sched *sc, size_t s)
{
	const struct recipe_stage *st = &sc->b->recipe->stages[s];

	for (size_t i = 0; i < st->n_deps; i++)
		if (!sc->b->stage_done[st->deps[i].stage])
			return false;
	return true;
}

/* The next stage that can start (graph order), or -1: none now; *all_started
 * says whether any is left at all. */
static ssize_t next_ready(const struct sched *sc, bool *all_started)
{
	const struct recipe_graph *g = &sc->b->graph;

	*all_started = true;
	for (size_t i = 0; i < g->n_order; i++) {
		size_t s = g->order[i];
		if (sc->started[s])
			continue;
		*all_started = false;
		if (deps_done(sc, s))
			return (ssize_t)s;
	}
	return -1;
}

static void *worker(void *arg)
{
	struct sched *sc = arg;

	pthread_mutex_lock(&sc->lock);
	for (;;) {
		bool all_started;
		ssize_t s;
		if (build_failed(sc->b))
			break;
		s = next_ready(sc, &all_started);
		if (s < 0) {
			if (all_started || sc->running == 0)
				break; /* done, or nothing can ever start (a cycle: refused by the loader) */
			pthread_cond_wait(&sc->changed, &sc->lock);
			continue;
		}
		sc->started[s] = true;
		sc->running++;
		pthread_mutex_unlock(&sc->lock);
		struct ocb_error err = OCB_ERROR_INIT;
		bool ok = build_stage(sc->b, (size_t)s, &err) == 0;
		if (!ok)
			build_fail(sc->b, &err);
		pthread_mutex_lock(&sc->lock);
		sc->b->stage_done[s] = ok;
		sc->running--;
		pthread_cond_broadcast(&sc->changed);
	}
	pthread_cond_broadcast(&sc->changed);
	pthread_mutex_unlock(&sc->lock);
	return NULL;
}

static size_t jobs(const struct build *b)
{
	long n = b->opts->jobs ? (long)b->opts->jobs : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > BUILD_MAX_JOBS)
		n = BUILD_MAX_JOBS;
	return (size_t)n < b->graph.n_order ? (size_t)n : b->graph.n_order;
}

int build_exec(struct build *b, struct ocb_error *err)
{
	struct sched sc = {.b = b};
	pthread_t threads[BUILD_MAX_JOBS];
	size_t n = jobs(b), started = 0;

	if (!(sc.started = calloc(b->recipe->n_stages, sizeof(*sc.started))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pthread_mutex_init(&sc.lock, NULL);
	pthread_cond_init(&sc.changed, NULL);
	/* The calling thread is a worker too. */
	for (; started + 1 < n; started++)
		if (pthread_create(&threads[started], NULL, worker, &sc) != 0)
			break;
	worker(&sc);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_cond_destroy(&sc.changed);
	pthread_mutex_destroy(&sc.lock);
	free(sc.started);
	if (build_failed(b)) {
		pthread_mutex_lock(&b->lock);
		*err = b->first_err;
		pthread_mutex_unlock(&b->lock);
		return -1;
	}
	return 0;
}
