/* OCI image layout directories (image-spec image-layout.md): `oci-layout`,
 * `index.json`, `blobs/sha256/`.  The local store ($OCB_ROOT) is one; so is
 * an `oci:DIR` export and the inside of an OCI archive.
 *
 * Names live in index.json as the `org.opencontainers.image.ref.name`
 * annotation of an entry.  The store writes full normalised names
 * ("docker.io/library/busybox:latest"); an `oci:DIR:TAG` export writes just
 * the tag, which is what skopeo, umoci and oci-image-tool look up there.
 *
 * index.json is rewritten atomically (temp, fsync, rename, fsync dir) under
 * an exclusive flock on the layout directory, so concurrent ocb processes
 * never lose each other's refs. */
#ifndef OCB_LAYOUT_H
#define OCB_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "oci/blobstore.h"
#include "oci/error.h"
#include "oci/image.h"

#define OCI_LAYOUT_INDEX "index.json"
#define OCI_LAYOUT_FILE	 "oci-layout"

struct oci_layout {
	struct oci_blobstore bs; /* bs.root_fd is the layout directory */
	char *path;
};

/* Open the layout at path.  With create, make it (blobs, oci-layout, an
 * empty index.json) when missing; without, OCB_ENOTFOUND when it is not a
 * layout. */
int oci_layout_open(struct oci_layout *l, const char *path, bool create, struct ocb_error *err);
void oci_layout_release(struct oci_layout *l);

/* index.json as an index (read without the lock: it is replaced atomically). */
int oci_layout_read_index(const struct oci_layout *l, struct oci_index *out, struct ocb_error *err);
/* Replace index.json atomically.  Callers hold the lock (oci_layout_lock). */
int oci_layout_write_index(const struct oci_layout *l, const struct oci_index *x, struct ocb_error *err);

/* Exclusive lock on the layout for a read-modify-write of index.json; *fd is
 * released by oci_layout_unlock (or closing it). */
int oci_layout_lock(const struct oci_layout *l, int *fd, struct ocb_error *err);
void oci_layout_unlock(int fd);

/* The ref name of an index entry, or NULL. */
const char *oci_layout_entry_name(const struct oci_descriptor *d);
/* Point name at d (a manifest or index), replacing an entry of the same name. */
int oci_layout_set_ref(const struct oci_layout *l, const char *name, const struct oci_descriptor *d,
		       struct ocb_error *err);
/* Remove the entry named name; OCB_ENOTFOUND when there is none. */
int oci_layout_remove_ref(const struct oci_layout *l, const char *name, struct ocb_error *err);
/* Find an entry by exact ref name, then by normalised image reference
 * ("busybox" finds "docker.io/library/busybox:latest"), then by digest or a
 * unique hex prefix of it (at least 4 characters).  *out gets a copy of the
 * entry; name_out (may be NULL) its ref name (NULL when unnamed).  A NULL
 * or empty query picks the only entry (oci:DIR without a tag); with several
 * entries that is OCB_EINVAL.
 * OCB_ENOTFOUND when nothing matches, OCB_EINVAL when a prefix is ambiguous. */
int oci_layout_lookup(const struct oci_layout *l, const char *query, struct oci_descriptor *out,
		      char **name_out, struct ocb_error *err);

/* Read a small blob (manifest, index, config), verified against d's digest and size. */
int oci_layout_read_blob(const struct oci_layout *l, const struct oci_descriptor *d, char **buf, size_t *len,
			 struct ocb_error *err);

/* ---- images in a layout (oci/layout_image.c) ---- */

/* One platform's image: its manifest and config. */
struct oci_image {
	struct oci_descriptor desc; /* the manifest's descriptor */
	struct oci_manifest manifest;
	struct oci_image_config config;
};

void oci_image_release(struct oci_image *img);
/* Resolve d (manifest or index) to one image.  An index is searched for
 * want (the host platform when want is NULL), nested indexes too; a single
 * manifest is checked against want (any platform when want is NULL) and a
 * mismatch is OCB_ENOTFOUND naming both platforms. */
int oci_layout_resolve(const struct oci_layout *l, const struct oci_descriptor *d,
		       const struct oci_platform *want, struct oci_image *out, struct ocb_error *err);
/* Store config c and a manifest of layers (blobs already in the layout);
 * *out gets the manifest's descriptor, carrying c's platform. */
int oci_layout_put_image(struct oci_layout *l, const struct oci_image_config *c,
			 const struct oci_descriptor *layers, size_t n_layers, const json_t *annotations,
			 struct oci_descriptor *out, struct ocb_error *err);
/* Store a manifest for a config blob already in the layout; *out gets its
 * descriptor, carrying platform (normalised) when it is not NULL. */
int oci_layout_put_manifest(struct oci_layout *l, const struct oci_descriptor *config,
			    const struct oci_descriptor *layers, size_t n_layers, const json_t *annotations,
			    const struct oci_platform *platform, struct oci_descriptor *out,
			    struct ocb_error *err);
/* Store an index of manifests (each with its platform); *out gets its descriptor. */
int oci_layout_put_index(struct oci_layout *l, const struct oci_descriptor *manifests, size_t n,
			 struct oci_descriptor *out, struct ocb_error *err);
/* Copy everything d reaches (index, manifests, configs, layers) from src to
 * dst, each blob verified; the top blob is written last. No ref is set. */
int oci_layout_copy(struct oci_layout *dst, const struct oci_layout *src, const struct oci_descriptor *d,
		    struct ocb_error *err);
/* Call visit for every descriptor d reaches, children before the blob that
 * names them (config and layers, then their manifest; manifests, then their
 * index), d last.  Manifests and indexes are read verified; a blob reached
 * twice is visited twice. */
typedef int (*oci_visit_fn)(const struct oci_descriptor *d, void *opaque, struct ocb_error *err);
int oci_layout_walk(const struct oci_layout *l, const struct oci_descriptor *d, oci_visit_fn visit,
		    void *opaque, struct ocb_error *err);
/* Re-hash every blob d reaches (OCB_EDIGEST naming the first bad one). */
int oci_layout_verify(const struct oci_layout *l, const struct oci_descriptor *d, struct ocb_error *err);
/* Remove blobs no index.json entry reaches, under the lock.  Blobs modified
 * less than grace_seconds ago are kept: another process may have just
 * written them and not yet set its ref (rmi in an idle store can pass 0).
 * Counts may be NULL.  A referenced manifest or index that cannot be read
 * aborts the collection (nothing is removed). */
int oci_layout_gc(const struct oci_layout *l, int64_t grace_seconds, uint64_t *removed, uint64_t *freed_bytes,
		  struct ocb_error *err);

#endif
