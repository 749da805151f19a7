/* Read ahead in a second thread: a producer thread calls a read function into
 * a small ring of chunks while the consumer parses what came before (the layer
 * extractor decompresses and hashes ahead of the tar parser this way).
 * Memory: OCI_READAHEAD_CHUNKS * OCI_READAHEAD_CHUNK_SIZE (16 MiB: enough to
 * ride out a run of small files, where the parser is the slow side, or of
 * big ones, where the decompressor is; 4 chunks measured slower for gzip).  The producer
 * thread blocks every signal and does nothing but call fn. */
#ifndef OCB_READAHEAD_H
#define OCB_READAHEAD_H

#include <stddef.h>
#include <sys/types.h>

#include "oci/error.h"
#include "oci/extract.h"

#define OCI_READAHEAD_CHUNK_SIZE ((size_t)1 << 20)
#define OCI_READAHEAD_CHUNKS	 16

struct oci_readahead;

/* Start the producer on fn(opaque, ...); it runs until fn returns 0 or -1. */
int oci_readahead_new(struct oci_readahead **out, oci_read_fn fn, void *opaque, struct ocb_error *err);
/* An oci_read_fn over the ring (opaque is the struct oci_readahead *): the
 * producer's bytes in order, 0 at its end, -1 with its error. */
ssize_t oci_readahead_read(void *ra, void *buf, size_t len, struct ocb_error *err);
/* Zero-copy: *buf gets the next chunk (the count is returned), lent until the
 * next call, which gives it back to the producer; 0 at the end, -1 with the
 * producer's error.  Do not mix with oci_readahead_read on one ring. */
ssize_t oci_readahead_borrow(void *ra, const void **buf, struct ocb_error *err);
/* Stop the producer (after its current fn call returns), join and free. */
void oci_readahead_free(struct oci_readahead *ra);

#endif
