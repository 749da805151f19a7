/* Small fd helpers: complete writes and reads that retry on EINTR. */
#ifndef OCB_FDIO_H
#define OCB_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all of data; -1 with errno set on failure. */
int oci_write_all(int fd, const void *data, size_t len);
/* Read up to len bytes, stopping early only at EOF; the count or -1 (errno). */
ssize_t oci_read_full(int fd, void *buf, size_t len);

#endif
