/* The store lock: an flock on $OCB_ROOT/lock that keeps a collection (ocb
 * prune, ocb rmi) from removing what a running process uses or has written
 * and not named yet.
 *
 *   shared     every process that uses snapshots or writes blobs before it
 *              names them: ocb build (through snapshot_dir_open, for its
 *              whole run), import, load, pull, manifest create
 *   exclusive  a collection of snapshots and blobs no name reaches
 *
 * A shared holder waits while a collection runs (it is bounded: it only
 * removes).  A collector polls, so it never queues ahead of builds, and gives
 * up after its timeout with OCB_EENV (exit 3). */
#ifndef OCB_STORE_LOCK_H
#define OCB_STORE_LOCK_H

#include "oci/error.h"

#define STORE_LOCK_FILE "lock"

/* Open root/lock (creating it) and take it shared; *fd holds the lock until
 * closed (store_lock_release).  Waits while a collection holds it. */
int store_lock_shared(const char *root, int *fd, struct ocb_error *err);
/* Take root/lock exclusive, polling for up to timeout_ms (0: one try).  When
 * other processes still hold it: OCB_EENV saying the store is in use. */
int store_lock_exclusive(const char *root, int timeout_ms, int *fd, struct ocb_error *err);
void store_lock_release(int fd);

/* Try LOCK_EX on fd every 50 ms for up to timeout_ms: 0 when taken, 1 when
 * others still hold it, -1 with errno on failure.  Shared with the step
 * cache's prune (cache_open_exclusive). */
int flock_wait_exclusive(int fd, int timeout_ms);

#endif
