/* Internal to the layer writer: a bounded ring of fixed-size slots between
 * the tar producer (the caller's thread, which also hashes the tar bytes for
 * the diff_id) and one consumer thread (compression, the blob's digest, the
 * blob file writes), so reading files and compressing overlap on two cores.
 * Memory is PIPE_SLOTS * PIPE_SLOT_SIZE whatever the layer size. */
#ifndef OCB_LAYER_PIPE_H
#define OCB_LAYER_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "oci/digest.h"
#include "oci/error.h"

#define PIPE_SLOTS     8
#define PIPE_SLOT_SIZE (1u << 20)

/* Runs on the consumer thread, once per filled slot, in order. */
typedef int (*layer_consume_fn)(void *opaque, const void *data, size_t len, struct ocb_error *err);

struct layer_pipe;

/* hasher (may be NULL) is fed every byte, on the producer's thread. */
int layer_pipe_start(struct layer_pipe **out, struct oci_hasher *hasher, layer_consume_fn fn, void *opaque,
		     struct ocb_error *err);
/* Writable space in the current slot (*avail > 0); blocks while the ring is
 * full.  NULL with err filled when the consumer failed. */
unsigned char *layer_pipe_space(struct layer_pipe *p, size_t *avail, struct ocb_error *err);
/* n bytes were written at the pointer layer_pipe_space returned. */
int layer_pipe_commit(struct layer_pipe *p, size_t n, struct ocb_error *err);
int layer_pipe_write(struct layer_pipe *p, const void *data, size_t len, struct ocb_error *err);
int layer_pipe_zeros(struct layer_pipe *p, size_t len, struct ocb_error *err);
/* Hand over the last partial slot, wait for the consumer to drain the ring
 * and stop; the consumer's error if it failed.  *total gets the byte count. */
int layer_pipe_finish(struct layer_pipe *p, uint64_t *total, struct ocb_error *err);
/* Stop the consumer (without draining) if it still runs, and free. */
void layer_pipe_free(struct layer_pipe *p);

#endif
