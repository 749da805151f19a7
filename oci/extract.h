/* Secure extraction of OCI layer tars into a root filesystem directory.
 *
 * The core, oci_extract_stream(), reads *uncompressed* tar bytes from a
 * callback (so it does not depend on the compression code) and applies the
 * layer to the directory rootfs_fd: regular files, directories, symlinks,
 * hardlinks, fifos, device nodes, PAX xattrs, modes (setuid, setgid, sticky),
 * numeric owners, mtimes, and OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`).
 *
 * Safety contract: nothing is created, changed or removed outside rootfs_fd,
 * whatever the tar holds.
 *  - Member names are cleaned: a leading '/' is dropped (absolute names are
 *    relative to the root), empty and '.' components are dropped; a '..'
 *    component anywhere is refused (OCB_EUNSAFE), as is an empty name
 *    (OCB_EINVAL).  Names and link targets are bounded by PATH_MAX and each
 *    component by NAME_MAX (OCB_ELIMIT).
 *  - Every parent directory is opened with openat2(RESOLVE_IN_ROOT |
 *    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) relative to rootfs_fd, so
 *    symlinks in parents (also ones planted earlier by the same layer) resolve
 *    as if rootfs were '/', and a mount inside the rootfs is never entered.
 *    The last component is made with *at() calls on that parent fd and is
 *    never followed: an existing symlink there is replaced, never written
 *    through.
 *  - Hardlink targets are resolved in the root the same way and must not be
 *    directories (OCB_EUNSAFE); a missing one is OCB_ENOTFOUND, one behind a
 *    non-directory or a symlink loop OCB_EINVAL.  linkat() never follows the
 *    target: a link to a symlink links the symlink.
 *  - Whiteouts: `.wh.` alone, `.wh..` and `.wh...` are refused (OCB_EUNSAFE);
 *    other `.wh..wh.*` names (aufs metadata) are ignored.  A whiteout removes
 *    NAME (recursively, never following symlinks) in its in-root parent.
 *    Whiteouts and opaque markers hide content of *lower* layers only: a path
 *    this layer itself wrote survives them, whether it came before or after
 *    the marker.  When rootfs_fd is empty at the start there is nothing lower
 *    and they are no-ops.
 *  - Device nodes are made only when running as root (mknod EPERM, as in an
 *    unprivileged user namespace, counts as unprivileged); otherwise they are
 *    skipped and counted in stats.skipped_devices, or refused with OCB_EENV
 *    under OCI_EXTRACT_STRICT.  Xattrs: unprivileged, only user.*; as root also
 *    security.*, trusted.* and system.posix_acl_*; trusted.overlay.* and
 *    user.overlay.* from a tar are always dropped (they would steer
 *    overlayfs).  Skipped xattrs are
 *    counted (or OCB_EENV under OCI_EXTRACT_STRICT); xattrs on symlinks are
 *    skipped.  Owners are set (numeric ids) only as root.
 *  - Bounds (OCB_ELIMIT): total declared file bytes, entry count, xattr value
 *    size, total stream bytes (file bytes + 1 GiB of headers and padding).
 *  - A truncated or corrupt tar, a missing end-of-archive marker, non-zero data
 *    after it, or a diff_id mismatch (OCB_EDIGEST) is an error.
 *
 * The rootfs may then hold setuid binaries and device nodes (as root): keep
 * it where other users cannot reach it (a 0700 parent).
 *
 * No half state: on error the functions return -1 and the directory may hold
 * part of the layer.  Callers never trust such a directory: extract into a
 * fresh directory and publish it only on success, which is what
 * oci_extract_into_new_dir() / oci_extract_layer_to_new_dir() do (temp sibling,
 * rename on success, removal on failure).
 *
 * Directory modes and times are applied when the layer ends (so read-only
 * directories can be filled and children do not bump their parents' mtimes).
 * Not thread-safe per rootfs; different rootfs dirs may be extracted in
 * parallel. */
#ifndef OCB_EXTRACT_H
#define OCB_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/compress.h"
#include "oci/digest.h"
#include "oci/error.h"

struct oci_blobstore;

/* A source of bytes: up to len bytes into buf, 0 at the end, -1 with *err
 * filled on failure. */
typedef ssize_t (*oci_read_fn)(void *opaque, void *buf, size_t len, struct ocb_error *err);

enum oci_extract_flags {
	/* Never chown, even as root (files belong to the caller). */
	OCI_EXTRACT_IGNORE_OWNERS = 1 << 0,
	/* A device node or xattr that cannot be applied for lack of privilege
	 * is an OCB_EENV error instead of being skipped and counted. */
	OCI_EXTRACT_STRICT = 1 << 1,
	/* Keep whiteouts in overlayfs form instead of applying them, for a
	 * per-layer lower directory: `.wh.NAME` becomes a 0/0 character device
	 * NAME, `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its
	 * directory.  Needs root (OCB_EENV otherwise). */
	OCI_EXTRACT_OVERLAY_WHITEOUTS = 1 << 2,
	/* oci_extract_*_new_dir: syncfs() the new tree before the rename and
	 * fsync the parent after it (crash-consistent snapshots). */
	OCI_EXTRACT_SYNC = 1 << 3,
	/* With OCI_EXTRACT_OVERLAY_WHITEOUTS: mark opaque directories with
	 * user.overlay.opaque=y, for overlayfs mounted with `userxattr` in a
	 * user namespace (rootless builds), which also makes the whiteouts
	 * (unprivileged 0/0 character devices, Linux 5.8+). */
	OCI_EXTRACT_OVERLAY_USERXATTR = 1 << 4,
};

#define OCI_EXTRACT_DEFAULT_MAX_BYTES	   (UINT64_C(64) << 30)
#define OCI_EXTRACT_DEFAULT_MAX_ENTRIES	   UINT64_C(4000000)
#define OCI_EXTRACT_DEFAULT_MAX_XATTR_SIZE ((size_t)65536)

/* Zero-initialise; 0 means the default for each bound. */
struct oci_extract_opts {
	uint64_t max_bytes;    /* sum of declared regular-file sizes */
	uint64_t max_entries;  /* tar members, whiteouts included */
	size_t max_xattr_size; /* one xattr value */
	unsigned flags;	       /* enum oci_extract_flags */
	const char *name;      /* names the layer in messages, e.g. its digest */
};

struct oci_extract_stats {
	uint64_t entries;
	uint64_t files, dirs, symlinks, hardlinks, specials, whiteouts;
	uint64_t file_bytes;   /* regular-file bytes written */
	uint64_t stream_bytes; /* uncompressed tar bytes read */
	uint64_t skipped_devices;
	uint64_t skipped_xattrs;
	struct oci_digest diff_id; /* sha256 of the uncompressed stream */
};

/* Apply one uncompressed layer tar read from read(opaque, ...) to rootfs_fd
 * (a directory fd, O_PATH is fine; the caller keeps it).  diff_id, when not
 * NULL, is checked against the sha256 of the whole stream (OCB_EDIGEST).
 * opts and stats may be NULL; stats is filled only on success. */
int oci_extract_stream(int rootfs_fd, oci_read_fn read, void *opaque, const struct oci_digest *diff_id,
		       const struct oci_extract_opts *opts, struct oci_extract_stats *stats,
		       struct ocb_error *err);

/* Apply the layer blob `digest` from bs, compressed as c (OCI_COMPRESSION_AUTO
 * detects), to rootfs_fd.  The compressed bytes are hashed and checked against
 * digest (OCB_EDIGEST naming the blob), the uncompressed ones against diff_id
 * when not NULL.  Decompression and hashing run in a second thread ahead of
 * the tar parser. */
int oci_extract_layer_blob(int rootfs_fd, const struct oci_blobstore *bs, const struct oci_digest *digest,
			   enum oci_compression c, const struct oci_digest *diff_id,
			   const struct oci_extract_opts *opts, struct oci_extract_stats *stats,
			   struct ocb_error *err);

/* Fill a new directory: called with an O_RDONLY directory fd. */
typedef int (*oci_fill_dir_fn)(int dirfd, void *opaque, struct ocb_error *err);

/* Create a temp sibling ".tmp-<final_name>-XXXXXX" (mode 0755) in parent_fd,
 * run fill on it, and on success rename it to final_name (OCB_EEXIST if that
 * exists; nothing is replaced).  On failure the temp dir is removed and
 * final_name never appears.  flags: OCI_EXTRACT_SYNC. */
int oci_extract_into_new_dir(int parent_fd, const char *final_name, oci_fill_dir_fn fill, void *opaque,
			     unsigned flags, struct ocb_error *err);

/* oci_extract_layer_blob() into a new directory parent_fd/final_name, as
 * oci_extract_into_new_dir() (opts->flags & OCI_EXTRACT_SYNC applies). */
int oci_extract_layer_to_new_dir(int parent_fd, const char *final_name, const struct oci_blobstore *bs,
				 const struct oci_digest *digest, enum oci_compression c,
				 const struct oci_digest *diff_id, const struct oci_extract_opts *opts,
				 struct oci_extract_stats *stats, struct ocb_error *err);

/* Remove name in dirfd, recursively when it is a directory, never following
 * symlinks.  A missing name is success. */
int oci_remove_tree_at(int dirfd, const char *name, struct ocb_error *err);

#endif
