#include "oci/readahead.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "oci/banned.h"

struct oci_readahead {
	oci_read_fn fn;
	void *opaque;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	unsigned char *chunks[OCI_READAHEAD_CHUNKS];
	size_t len[OCI_READAHEAD_CHUNKS];
	unsigned head, filled; /* consumer's slot, slots holding data */
	size_t head_off;       /* bytes of the head slot already read */
	bool borrowed;	       /* the head slot is lent out by oci_readahead_borrow */
	bool done, failed, stop;
	struct ocb_error err; /* the producer's, when failed */
};

static void *producer(void *arg)
{
	struct oci_readahead *ra = arg;
	unsigned tail = 0;

	for (;;) {
		struct ocb_error err = OCB_ERROR_INIT;
		ssize_t n;

		pthread_mutex_lock(&ra->lock);
		while (ra->filled == OCI_READAHEAD_CHUNKS && !ra->stop)
			pthread_cond_wait(&ra->not_full, &ra->lock);
		if (ra->stop) {
			pthread_mutex_unlock(&ra->lock);
			return NULL;
		}
		pthread_mutex_unlock(&ra->lock);
		/* The tail slot is the producer's until it is published. */
		n = ra->fn(ra->opaque, ra->chunks[tail], OCI_READAHEAD_CHUNK_SIZE, &err);
		pthread_mutex_lock(&ra->lock);
		if (n > 0) {
			ra->len[tail] = (size_t)n;
			ra->filled++;
			tail = (tail + 1) % OCI_READAHEAD_CHUNKS;
		} else {
			ra->done = true;
			ra->failed = n < 0;
			ra->err = err;
		}
		pthread_cond_signal(&ra->not_empty);
		pthread_mutex_unlock(&ra->lock);
		if (n <= 0)
			return NULL;
	}
}

ssize_t oci_readahead_read(void *opaque, void *buf, size_t len, struct ocb_error *err)
{
	struct oci_readahead *ra = opaque;
	unsigned char *chunk;
	size_t avail, n;

	pthread_mutex_lock(&ra->lock);
	while (ra->filled == 0 && !ra->done)
		pthread_cond_wait(&ra->not_empty, &ra->lock);
	if (ra->filled == 0) {
		bool failed = ra->failed;
		if (failed && err)
			*err = ra->err;
		pthread_mutex_unlock(&ra->lock);
		return failed ? -1 : 0;
	}
	chunk = ra->chunks[ra->head];
	avail = ra->len[ra->head] - ra->head_off;
	pthread_mutex_unlock(&ra->lock);

	/* The head slot is the consumer's until it is released. */
	n = len < avail ? len : avail;
	memcpy(buf, chunk + ra->head_off, n);
	ra->head_off += n;
	if (n == avail) {
		pthread_mutex_lock(&ra->lock);
		ra->head = (ra->head + 1) % OCI_READAHEAD_CHUNKS;
		ra->head_off = 0;
		ra->filled--;
		pthread_cond_signal(&ra->not_full);
		pthread_mutex_unlock(&ra->lock);
	}
	return (ssize_t)n;
}

ssize_t oci_readahead_borrow(void *opaque, const void **buf, struct ocb_error *err)
{
	struct oci_readahead *ra = opaque;
	ssize_t n;

	pthread_mutex_lock(&ra->lock);
	if (ra->borrowed) {
		ra->borrowed = false;
		ra->head = (ra->head + 1) % OCI_READAHEAD_CHUNKS;
		ra->filled--;
		pthread_cond_signal(&ra->not_full);
	}
	while (ra->filled == 0 && !ra->done)
		pthread_cond_wait(&ra->not_empty, &ra->lock);
	if (ra->filled == 0) {
		n = ra->failed ? -1 : 0;
		if (ra->failed && err)
			*err = ra->err;
	} else {
		*buf = ra->chunks[ra->head];
		n = (ssize_t)ra->len[ra->head];
		ra->borrowed = true;
	}
	pthread_mutex_unlock(&ra->lock);
	return n;
}

/* Free a ring whose producer is not running. */
static void destroy(struct oci_readahead *ra)
{
	pthread_cond_destroy(&ra->not_full);
	pthread_cond_destroy(&ra->not_empty);
	pthread_mutex_destroy(&ra->lock);
	for (unsigned i = 0; i < OCI_READAHEAD_CHUNKS; i++)
		free(ra->chunks[i]);
	free(ra);
}

void oci_readahead_free(struct oci_readahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = true;
	pthread_cond_signal(&ra->not_full);
	pthread_mutex_unlock(&ra->lock);
	pthread_join(ra->thread, NULL);
	destroy(ra);
}

int oci_readahead_new(struct oci_readahead **out, oci_read_fn fn, void *opaque, struct ocb_error *err)
{
	struct oci_readahead *ra = calloc(1, sizeof(*ra));
	sigset_t all, old;
	int rc;

	if (!ra)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->not_full, NULL);
	pthread_cond_init(&ra->not_empty, NULL);
	for (unsigned i = 0; i < OCI_READAHEAD_CHUNKS; i++) {
		ra->chunks[i] = malloc(OCI_READAHEAD_CHUNK_SIZE);
		if (!ra->chunks[i]) {
			destroy(ra);
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
	}
	ra->fn = fn;
	ra->opaque = opaque;
	/* Signals go to the caller's threads, never to the producer. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ra->thread, NULL, producer, ra);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		destroy(ra);
		return ocb_error_set(err, OCB_EFAIL, rc, "cannot start the read-ahead thread");
	}
	*out = ra;
	return 0;
}
