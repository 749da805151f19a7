/* Internal to oci/layer*.c: the layer writer's state and helpers. */
#ifndef OCB_LAYER_IMPL_H
#define OCB_LAYER_IMPL_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "oci/layer.h"
#include "oci/layer_pipe.h"
#include "oci/tar.h"

/* Extended attributes of one file, sorted by name (layer_xattr.c). */
struct layer_xattrs {
	struct tar_xattr *v;
	size_t n, cap;
	char *names;	       /* listxattr output */
	unsigned char *values; /* all values back to back */
	size_t values_len, values_cap;
};

/* fd >= 0: read through fd; else through path (not following a final
 * symlink).  Unsupported file systems have no xattrs. */
int layer_xattrs_read(struct layer_xattrs *x, int fd, const char *path, struct ocb_error *err);
void layer_xattrs_release(struct layer_xattrs *x);

/* (dev, ino) -> first tar name of a multiply-linked file (layer_links.c). */
struct layer_link {
	dev_t dev;
	ino_t ino;
	char *name; /* NULL: free slot */
};

struct layer_links {
	struct layer_link *slots;
	size_t cap, n;
};

const char *layer_links_find(const struct layer_links *l, dev_t dev, ino_t ino);
int layer_links_add(struct layer_links *l, dev_t dev, ino_t ino, const char *name, struct ocb_error *err);
void layer_links_release(struct layer_links *l);

struct oci_layer_writer {
	struct oci_layer_options opts;
	struct oci_blob_writer *blob;
	struct oci_compressor *comp;
	struct layer_pipe *pipe;
	struct oci_hasher diff_hasher;
	bool hasher_ready;
	bool failed;
	struct tar_buf hdr;  /* header scratch */
	struct tar_buf name; /* entry name scratch */
	struct layer_xattrs xattrs;
	struct layer_links links;
	const struct oci_layer_override *ov; /* during oci_layer_add_path_as() */
};

/* A relative name without empty, "." or ".." components; OCB_EINVAL. */
int layer_check_name(const char *name, struct ocb_error *err);

/* Write the entry for base (in parentfd, stat st) named name (no trailing
 * '/'); descending into directories is the caller's job. */
int layer_emit(struct oci_layer_writer *w, int parentfd, const char *base, const char *name,
	       const struct stat *st, struct ocb_error *err);

#endif
