/* Internal to oci/extract*.c: member-name cleaning, in-root resolution of
 * directories (openat2 RESOLVE_IN_ROOT) and safe recursive removal. */
#ifndef OCB_EXTRACT_PATH_H
#define OCB_EXTRACT_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/error.h"

/* Room for a quoted name in a message. */
#define EXTRACT_QUOTE_MAX 256

/* Clean a tar member name into out (PATH_MAX bytes): drop a leading '/',
 * empty and '.' components and a trailing '/'.  "" is the root.  Refuses an
 * empty name (OCB_EINVAL), a '..' component (OCB_EUNSAFE), a component longer
 * than NAME_MAX or a result of PATH_MAX or more (OCB_ELIMIT).  The message does
 * not name the entry: the caller wraps it. */
int extract_clean_name(const char *name, char *out, size_t size, struct ocb_error *err);

/* Printable, bounded copy of s for messages (control bytes escaped). */
const char *extract_quote(const char *s, char *buf, size_t size);

/* Split a cleaned non-root path (shorter than PATH_MAX): dir (PATH_MAX bytes)
 * gets the parent ("" for the root), *base points at the last component. */
void extract_split(const char *path, char *dir, const char **base);

/* openat2(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV): the file `path` names when rootfd is '/', never crossing
 * into another mount (a bind mount left in a rootfs is refused, EXDEV).  ""
 * opens the root.  Returns the fd or -1 with errno (EAGAIN is retried). */
int extract_open_in_root(int rootfd, const char *path, int flags);

/* The directory `dir` (cleaned) in the root as an O_PATH fd in *out.  With
 * create, missing components are made (mode 0755); *created tells whether any
 * was.  A non-directory on the way is OCB_EINVAL; a missing one without create
 * is OCB_ENOTFOUND. */
int extract_open_dir(int rootfd, const char *dir, bool create, int *out, bool *created,
		     struct ocb_error *err);

/* Remove name in dirfd; recursively when it is a directory; never follows
 * symlinks.  A missing name is success.  Iterative, one directory fd at a
 * time whatever the depth; depth bounds the levels (OCB_ELIMIT). */
int extract_remove_at(int dirfd, const char *name, unsigned depth, struct ocb_error *err);

/* True when the directory fd has no entries besides '.' and '..'. */
int extract_dir_is_empty(int dirfd, bool *empty, struct ocb_error *err);

#endif
