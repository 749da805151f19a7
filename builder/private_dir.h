/* Directories of the store that hold what a layer or a step made as root:
 * setuid-root binaries and device nodes (snapshots, overlay upper dirs, cache
 * mounts).  On the host they are safe only where other users cannot reach
 * them, so they must be 0700 and ours, whoever created them first. */
#ifndef OCB_PRIVATE_DIR_H
#define OCB_PRIVATE_DIR_H

#include "oci/error.h"

/* Create path (0700) if missing; otherwise require a real directory (not a
 * symlink) owned by the effective uid (OCB_EENV if not) and take group
 * and other permissions away from it. */
int build_private_dir(const char *path, struct ocb_error *err);
/* A new directory "PARENT/PREFIX-XXXXXX" (mkdtemp: 0700, unique); *out is
 * its path, to free.  PARENT is expected to be private already. */
int build_private_mkdtemp(const char *parent, const char *prefix, char **out, struct ocb_error *err);

#endif
