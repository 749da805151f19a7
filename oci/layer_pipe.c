/* The producer/consumer ring of the layer writer (see layer_pipe.h).
 *
 * Slot i % PIPE_SLOTS belongs to the producer while it fills slot number
 * `produced`, and to the consumer for numbers in [consumed, produced).  One
 * mutex and one condition variable guard the counters; the slot contents are
 * handed over by the counters alone. */
#include "oci/layer_pipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "oci/banned.h"

struct layer_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	unsigned char *slot[PIPE_SLOTS];
	size_t fill[PIPE_SLOTS];
	uint64_t produced, consumed; /* slot numbers */
	bool closing;		     /* producer is done: drain and stop */
	bool aborting;		     /* stop now */
	bool failed;		     /* consumer failed; cerr says why */
	struct ocb_error cerr;
	bool running;
	pthread_t thread;
	/* producer side */
	bool have_slot;
	size_t pos;
	uint64_t total;
	struct oci_hasher *hasher;
	layer_consume_fn fn;
	void *opaque;
};

/* Consume slot number n; the lock is not held. */
static int consume_slot(struct layer_pipe *p, uint64_t n, struct ocb_error *err)
{
	unsigned idx = (unsigned)(n % PIPE_SLOTS);

	return p->fn(p->opaque, p->slot[idx], p->fill[idx], err);
}

static void *consumer_main(void *arg)
{
	struct layer_pipe *p = arg;
	struct ocb_error err = OCB_ERROR_INIT;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		uint64_t n;

		while (p->consumed == p->produced && !p->closing && !p->aborting)
			pthread_cond_wait(&p->cond, &p->mu);
		if (p->aborting || p->consumed == p->produced)
			break;
		n = p->consumed;
		pthread_mutex_unlock(&p->mu);
		if (consume_slot(p, n, &err) < 0) {
			pthread_mutex_lock(&p->mu);
			p->failed = true;
			p->cerr = err;
			break;
		}
		pthread_mutex_lock(&p->mu);
		p->consumed++;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int layer_pipe_start(struct layer_pipe **out, struct oci_hasher *hasher, layer_consume_fn fn, void *opaque,
		     struct ocb_error *err)
{
	struct layer_pipe *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->hasher = hasher;
	p->fn = fn;
	p->opaque = opaque;
	for (unsigned i = 0; i < PIPE_SLOTS; i++) {
		p->slot[i] = malloc(PIPE_SLOT_SIZE);
		if (!p->slot[i]) {
			layer_pipe_free(p);
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
	}
	rc = pthread_create(&p->thread, NULL, consumer_main, p);
	if (rc != 0) {
		layer_pipe_free(p);
		return ocb_error_set(err, OCB_EFAIL, rc, "cannot start the compression thread");
	}
	p->running = true;
	*out = p;
	return 0;
}

static int consumer_error(struct layer_pipe *p, struct ocb_error *err)
{
	if (err)
		*err = p->cerr;
	return -1;
}

/* Hand the producer's slot to the consumer. */
static int publish(struct layer_pipe *p, struct ocb_error *err)
{
	unsigned idx = (unsigned)(p->produced % PIPE_SLOTS);
	bool failed;

	if (p->hasher)
		oci_hasher_update(p->hasher, p->slot[idx], p->pos);
	pthread_mutex_lock(&p->mu);
	p->fill[idx] = p->pos;
	p->produced++;
	failed = p->failed;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	p->have_slot = false;
	p->pos = 0;
	return failed ? consumer_error(p, err) : 0;
}

unsigned char *layer_pipe_space(struct layer_pipe *p, size_t *avail, struct ocb_error *err)
{
	if (!p->have_slot) {
		bool failed;

		pthread_mutex_lock(&p->mu);
		while (p->produced - p->consumed >= PIPE_SLOTS && !p->failed)
			pthread_cond_wait(&p->cond, &p->mu);
		failed = p->failed;
		pthread_mutex_unlock(&p->mu);
		if (failed) {
			consumer_error(p, err);
			return NULL;
		}
		p->have_slot = true;
		p->pos = 0;
	}
	*avail = PIPE_SLOT_SIZE - p->pos;
	return p->slot[p->produced % PIPE_SLOTS] + p->pos;
}

int layer_pipe_commit(struct layer_pipe *p, size_t n, struct ocb_error *err)
{
	p->pos += n;
	p->total += n;
	if (p->pos == PIPE_SLOT_SIZE)
		return publish(p, err);
	return 0;
}

int layer_pipe_write(struct layer_pipe *p, const void *data, size_t len, struct ocb_error *err)
{
	const unsigned char *src = data;

	while (len > 0) {
		size_t avail;
		unsigned char *dst = layer_pipe_space(p, &avail, err);
		size_t k;

		if (!dst)
			return -1;
		k = avail < len ? avail : len;
		if (src) {
			memcpy(dst, src, k);
			src += k;
		} else {
			memset(dst, 0, k);
		}
		len -= k;
		if (layer_pipe_commit(p, k, err) < 0)
			return -1;
	}
	return 0;
}

int layer_pipe_zeros(struct layer_pipe *p, size_t len, struct ocb_error *err)
{
	return layer_pipe_write(p, NULL, len, err);
}

static void stop_consumer(struct layer_pipe *p, bool drain)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->mu);
	if (drain)
		p->closing = true;
	else
		p->aborting = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->running = false;
}

int layer_pipe_finish(struct layer_pipe *p, uint64_t *total, struct ocb_error *err)
{
	if (p->have_slot && p->pos > 0 && publish(p, err) < 0)
		return -1;
	stop_consumer(p, true);
	if (p->failed)
		return consumer_error(p, err);
	if (total)
		*total = p->total;
	return 0;
}

void layer_pipe_free(struct layer_pipe *p)
{
	if (!p)
		return;
	stop_consumer(p, false);
	for (unsigned i = 0; i < PIPE_SLOTS; i++)
		free(p->slot[i]);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
