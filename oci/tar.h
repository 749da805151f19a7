/* Deterministic tar headers: POSIX ustar plus PAX extended headers where
 * ustar cannot say it (names or link targets over 100 bytes, sizes from
 * 8 GiB, ids over 2097151, xattrs as SCHILY.xattr.*).
 *
 * ocb writes tar headers itself rather than through libarchive so that every
 * header byte is decided here: no uname/gname, no atime/ctime, no
 * sub-second times, no process-dependent PAX header names, no record padding
 * beyond the two end blocks, and no per-entry allocation on the hot path.
 * The output matches what Go's archive/tar (Docker, BuildKit) writes for the
 * same metadata in everything a reader looks at. */
#ifndef OCB_TAR_H
#define OCB_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

#define TAR_BLOCK 512

enum tar_type {
	TAR_REG = '0',
	TAR_HARDLINK = '1',
	TAR_SYMLINK = '2',
	TAR_CHR = '3',
	TAR_BLK = '4',
	TAR_DIR = '5',
	TAR_FIFO = '6',
};

struct tar_xattr {
	const char *name; /* e.g. "user.foo", "security.capability" */
	const void *value;
	size_t len;
};

struct tar_entry {
	const char *name;     /* archive name; directories end in '/' */
	const char *linkname; /* symlink target or hardlink target name, else NULL */
	enum tar_type type;
	uint32_t mode; /* permission bits and set-id/sticky (07777) */
	uint64_t uid, gid;
	uint64_t size; /* regular files only */
	int64_t mtime; /* seconds; negative is written as 0 */
	uint32_t devmajor, devminor;
	const struct tar_xattr *xattrs; /* written in the order given: sort them */
	size_t n_xattrs;
};

/* A growable byte buffer the headers are appended to. */
struct tar_buf {
	unsigned char *data;
	size_t len, cap;
};

void tar_buf_release(struct tar_buf *b);

/* Append e's headers (a PAX 'x' header when needed, then the ustar header)
 * to out; the data and its padding are the caller's.  OCB_EINVAL for a bad
 * entry (empty name, NUL in an xattr name), OCB_ELIMIT for device numbers
 * ustar cannot hold. */
int tar_encode_header(const struct tar_entry *e, struct tar_buf *out, struct ocb_error *err);

/* Zero bytes that pad size bytes of data to a whole block. */
static inline size_t tar_padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}

#endif
