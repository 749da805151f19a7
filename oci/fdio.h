/* Small fd helpers: complete writes and reads that retry on EINTR. */
#ifndef OCB_FDIO_H
#define OCB_FDIO_H

#include <stddef.h>
#include <sys/types.h>

#include "oci/error.h"

/* Write all of data; -1 with errno set on failure. */
int oci_write_all(int fd, const void *data, size_t len);
/* Read up to len bytes, stopping early only at EOF; the count or -1 (errno). */
ssize_t oci_read_full(int fd, void *buf, size_t len);

/* Name of a temp file made by oci_tmpfile_at: ".tmp-" and 16 hex digits. */
#define OCI_TMP_PREFIX	 ".tmp-"
#define OCI_TMP_NAME_MAX 32
/* Create a fresh temp file (O_WRONLY, 0644, O_CLOEXEC) with a random name in
 * dirfd; its name goes to name.  Returns the fd. */
int oci_tmpfile_at(int dirfd, char name[OCI_TMP_NAME_MAX], struct ocb_error *err);

#endif
