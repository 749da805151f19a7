/* What a directory tree holds, without following a symlink out of it (the
 * trees measured are snapshots and cache mounts: what images and steps made). */
#ifndef OCB_TREE_SIZE_H
#define OCB_TREE_SIZE_H

#include <stdint.h>

/* Apparent bytes of the regular files below dirfd/name ("." for dirfd
 * itself), 256 directories deep at most; *files (may be NULL) counts them.
 * What cannot be read counts 0. */
uint64_t tree_size_at(int dirfd, const char *name, uint64_t *files);

#endif
