/* Deterministic tar layers, written straight into a blob store.
 *
 * One streaming pass: tar bytes -> sha256 (diff_id) -> compressor -> sha256
 * (digest) -> blob writer.  Reading files and building the tar run on the
 * caller's thread; compressing, hashing the blob and writing it run on a
 * second thread, with a bounded ring between them (memory stays flat, about
 * 8 MiB plus the compressor's state, whatever the layer size).  No fork
 * happens here, so the thread is harmless.
 *
 * What the tar holds (Docker and BuildKit layers look the same):
 *   - names relative, without "./" or "/", directories ending in '/';
 *   - uid/gid numeric only (no user or group names), mode bits 07777;
 *   - mtime in whole seconds, clamped to source_date_epoch when asked;
 *     no atime or ctime;
 *   - PAX headers only where ustar cannot hold a value (names over 100
 *     bytes, sizes from 8 GiB, large ids, xattrs as SCHILY.xattr.*);
 *   - xattrs sorted by name; trusted.overlay.*, user.overlay.*,
 *     security.selinux and system.* (ACLs) are left out;
 *   - a non-directory with st_nlink > 1 is written in full the first time its
 *     (dev, ino) is seen and as a hardlink entry to that name afterwards;
 *   - regular files, directories, symlinks, fifos, char and block devices;
 *     sockets are skipped (tar cannot hold them);
 *   - files named ".wh.*" are refused: that prefix means a whiteout.
 *
 * Order: oci_layer_add_tree() writes entries in bytewise order of their tar
 * names (a directory's name compares with its trailing '/'), which puts each
 * directory before its contents.  With the entry functions the caller's
 * order is kept; feed the same order to get the same layer. */
#ifndef OCB_LAYER_H
#define OCB_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "oci/blobstore.h"
#include "oci/compress.h"
#include "oci/digest.h"
#include "oci/error.h"

struct oci_layer_options {
	enum oci_compression compression; /* NONE, GZIP or ZSTD */
	int level;			  /* 0: the codec's default */
	bool clamp_mtime;		  /* mtimes later than source_date_epoch become it */
	int64_t source_date_epoch;
	bool no_xattrs; /* leave extended attributes out */
};

struct oci_layer_desc {
	const char *media_type;	   /* a static string (OCI_MEDIA_TYPE_LAYER*) */
	struct oci_digest digest;  /* of the blob as stored (compressed) */
	uint64_t size;		   /* of the blob as stored */
	struct oci_digest diff_id; /* of the uncompressed tar */
	uint64_t tar_size;
};

/* SOURCE_DATE_EPOCH from the environment, when set, into opts (clamp_mtime
 * and source_date_epoch); OCB_EINVAL when it is not a non-negative integer. */
int oci_layer_options_from_env(struct oci_layer_options *opts, struct ocb_error *err);

struct oci_layer_writer;

int oci_layer_writer_new(struct oci_layer_writer **out, struct oci_blobstore *bs,
			 const struct oci_layer_options *opts, struct ocb_error *err);

/* Everything below dirfd (not dirfd itself), in sorted order, named
 * "prefix/<path>" (prefix NULL or "" for the layer root).  Symlinks are never
 * followed. */
int oci_layer_add_tree(struct oci_layer_writer *w, int dirfd, const char *prefix, struct ocb_error *err);

/* The object at dirfd/path (a regular file, directory, symlink, fifo or
 * device; not followed if a symlink) as entry `path`.  path is relative,
 * without "." or ".." components; its parent is resolved beneath dirfd
 * without following symlinks.  Directories are not descended into. */
int oci_layer_add_path(struct oci_layer_writer *w, int dirfd, const char *path, struct ocb_error *err);

/* Metadata that replaces what the file system says, for entries added
 * under another name (copy steps: chmod, chown, context files owned by
 * 0:0).  A field applies only when its _set flag is true; the mode is not
 * applied to symlinks (their mode means nothing). */
struct oci_layer_override {
	bool mode_set;
	uint32_t mode; /* 07777 bits */
	bool owner_set;
	uint64_t uid, gid;
	bool mtime_set;
	int64_t mtime; /* seconds; still clamped to source_date_epoch */
};

/* Like oci_layer_add_path(), but the entry is named name (relative, no "."
 * or ".." components, no trailing '/') and ov (NULL: none) overrides its
 * metadata.  Multiply-linked files are still tracked by (dev, ino): a later
 * name of the same inode becomes a hardlink entry to the first name. */
int oci_layer_add_path_as(struct oci_layer_writer *w, int dirfd, const char *path, const char *name,
			  const struct oci_layer_override *ov, struct ocb_error *err);

/* A directory entry that is not on disk (a parent a copy step creates):
 * name as above, with the given mode (07777), owner and mtime. */
int oci_layer_add_dir(struct oci_layer_writer *w, const char *name, uint32_t mode, uint64_t uid, uint64_t gid,
		      int64_t mtime, struct ocb_error *err);

/* A whiteout for path: the entry "dir/.wh.base", an empty file. */
int oci_layer_add_whiteout(struct oci_layer_writer *w, const char *path, struct ocb_error *err);

/* An opaque marker for directory dir: "dir/.wh..wh..opq".  Add it right
 * after dir's own entry, before the directory's new contents. */
int oci_layer_add_opaque(struct oci_layer_writer *w, const char *dir, struct ocb_error *err);

/* End the tar, finish the compressed stream and commit the blob; *out gets
 * its descriptor.  Frees w in every case. */
int oci_layer_writer_commit(struct oci_layer_writer *w, struct oci_layer_desc *out, struct ocb_error *err);

/* Drop the layer (temp blob included) and free w; NULL is fine. */
void oci_layer_writer_abort(struct oci_layer_writer *w);

/* A whole directory tree as one layer. */
int oci_layer_from_dir(struct oci_blobstore *bs, int dirfd, const struct oci_layer_options *opts,
		       struct oci_layer_desc *out, struct ocb_error *err);

/* Whether the writer keeps the extended attribute name (see the list at the
 * top), for callers that hash what a layer will hold. */
bool oci_layer_xattr_kept(const char *name);

/* The order oci_layer_add_tree() uses: compare two sibling names, a
 * directory's name as if it ended in '/'.  For callers that walk trees
 * themselves (overlay diffs) and want the same layer. */
int oci_layer_name_cmp(const char *a, bool a_is_dir, const char *b, bool b_is_dir);

#endif
