/* The scheduler: the needed stages wave by wave (recipe_graph), the stages of
 * a wave on up to --jobs threads.  sandbox_run() is thread-safe and each
 * call is synchronous on its worker thread, which lives until it returns
 * (the sandbox's death signal follows that thread). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/build.h"
#include "oci/banned.h"

struct wave {
	struct build *b;
	const size_t *stages; /* stage indexes */
	size_t n;
	size_t next; /* under b->lock */
};

static bool take_stage(struct wave *w, size_t *s)
{
	bool ok = false;

	pthread_mutex_lock(&w->b->lock);
	if (w->next < w->n && !w->b->failed) {
		*s = w->stages[w->next++];
		ok = true;
	}
	pthread_mutex_unlock(&w->b->lock);
	return ok;
}

static void *worker(void *arg)
{
	struct wave *w = arg;
	size_t s;

	while (take_stage(w, &s)) {
		struct ocb_error err = OCB_ERROR_INIT;
		if (build_stage(w->b, s, &err) < 0)
			build_fail(w->b, &err);
		else
			w->b->stage_done[s] = true;
	}
	return NULL;
}

static unsigned jobs(const struct build *b)
{
	long n = b->opts->jobs ? (long)b->opts->jobs : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static int run_wave(struct build *b, const size_t *stages, size_t n, struct ocb_error *err)
{
	struct wave w = {.b = b, .stages = stages, .n = n};
	size_t n_threads = n < jobs(b) ? n : jobs(b);
	pthread_t threads[64];
	size_t started = 0;

	/* The calling thread is a worker too. */
	for (; started + 1 < n_threads; started++)
		if (pthread_create(&threads[started], NULL, worker, &w) != 0)
			break;
	worker(&w);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	return 0;
}

int build_exec(struct build *b, struct ocb_error *err)
{
	for (size_t w = 0; w < b->graph.n_waves; w++) {
		size_t first, count;
		recipe_graph_wave(&b->graph, w, &first, &count);
		run_wave(b, b->graph.order + first, count, err);
		if (build_failed(b)) {
			*err = b->first_err;
			return -1;
		}
	}
	return 0;
}
