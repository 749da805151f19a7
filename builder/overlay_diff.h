/* An overlay upper dir, after a step, as the list of a layer's changes.
 *
 * overlay_diff_compute() walks the upper dir (never following symlinks) and
 * lists, in layer order (a directory before its contents, siblings in
 * oci_layer_name_cmp() order, the order oci_layer_add_tree() uses):
 *
 *   DIR       a directory created, or copied up because something inside it
 *             changed (its metadata is the upper one)
 *   OPAQUE    right after the DIR of the same path: the directory was
 *             removed and recreated (trusted.overlay.opaque "y", user.overlay.* in
 *             rootless mode: builder/rootless.h), so it
 *             hides everything the lower layers had in it -> `.wh..wh..opq`
 *   FILE      a regular file, fifo or device node, new or changed (st says which)
 *   SYMLINK   link = its target
 *   HARDLINK  another name of an inode listed earlier: link = that path
 *   WHITEOUT  path was deleted (an overlayfs 0:0 character device) -> `.wh.NAME`
 *
 * Sockets are left out (tar cannot hold them).  Paths in opts->skip (relative,
 * no leading '/': sandbox_mount_targets() gives the sandbox's) are left out
 * with everything below them.  The upper dir must come from a mount with
 * redirect_dir=off and metacopy=off, as the sandbox mounts it: a redirect or
 * metacopy xattr is an error (OCB_EINVAL), not a silently wrong layer. */
#ifndef OCB_OVERLAY_DIFF_H
#define OCB_OVERLAY_DIFF_H

#include <stddef.h>
#include <sys/stat.h>

#include "oci/error.h"

struct oci_layer_writer;

enum overlay_change_kind {
	OVERLAY_CHANGE_FILE,
	OVERLAY_CHANGE_DIR,
	OVERLAY_CHANGE_SYMLINK,
	OVERLAY_CHANGE_HARDLINK,
	OVERLAY_CHANGE_WHITEOUT,
	OVERLAY_CHANGE_OPAQUE,
};

struct overlay_change {
	enum overlay_change_kind kind;
	char *path;	/* relative to the root, no leading '/': "etc/passwd" */
	char *link;	/* SYMLINK target, HARDLINK first path, else NULL */
	struct stat st; /* lstat of the upper entry (zeroed for WHITEOUT and OPAQUE) */
};

struct overlay_diff {
	int upper_fd; /* the upper dir (O_RDONLY|O_DIRECTORY), owned */
	struct overlay_change *changes;
	size_t n;
};

struct overlay_diff_options {
	const char *const *skip; /* NULL-terminated, or NULL */
};

#define OVERLAY_DIFF_MAX_DEPTH 256

int overlay_diff_compute(const char *upperdir, const struct overlay_diff_options *opts,
			 struct overlay_diff *out, struct ocb_error *err);
void overlay_diff_release(struct overlay_diff *diff);

/* Open change c (FILE or HARDLINK, a regular file) read-only, relative to
 * the upper dir without following symlinks; the fd or -1. */
int overlay_diff_open(const struct overlay_diff *diff, const struct overlay_change *c, struct ocb_error *err);

/* Feed every change to the layer writer, in order (oci/layer.h: entries for
 * DIR/FILE/SYMLINK/HARDLINK from the upper dir, whiteouts, opaque markers).
 * The writer turns a second name of an inode into a hardlink itself. */
int overlay_diff_write_layer(const struct overlay_diff *diff, struct oci_layer_writer *w,
			     struct ocb_error *err);

#endif
