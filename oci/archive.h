/* Image archives: OCI archives (a tar of an OCI layout) and docker-archive
 * tarballs (`docker save` / `docker load`), written deterministically and
 * read as untrusted input.
 *
 * Written tars are sorted, with fixed mtimes (the caller passes
 * SOURCE_DATE_EPOCH or 0), uid/gid 0, modes 0644/0755, and are created as a
 * temp file beside the target, fsynced and renamed into place. */
#ifndef OCB_ARCHIVE_H
#define OCB_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"
#include "oci/image.h"
#include "oci/layout.h"

#define OCI_ARCHIVE_ENTRIES_MAX 100000

/* Write d (a manifest or index in src, with everything it reaches) as an OCI
 * archive at path; its index.json has one entry named ref_name (NULL: no
 * name), e.g. the tag "latest" as skopeo's oci-archive:FILE:TAG expects. */
int oci_archive_write_oci(const struct oci_layout *src, const struct oci_descriptor *d, const char *ref_name,
			  int64_t mtime, const char *path, struct ocb_error *err);

/* Extract the OCI archive at path into a new layout at dir.  Only
 * `oci-layout`, `index.json` and regular files `blobs/sha256/<hex>` are
 * accepted; each blob is verified against its name while it is written;
 * anything else is an error. */
int oci_archive_extract_oci(const char *path, const char *dir, struct ocb_error *err);

/* Write one image (a single manifest, e.g. from oci_layout_resolve) as a
 * docker-archive that `docker load` accepts: manifest.json, repositories,
 * <config-hex>.json and <diff-id-hex>/layer.tar per layer (uncompressed,
 * decompressed from the layout while streaming, each checked against its
 * diff_id).  repo_tags ("busybox:latest", may be NULL) name it. */
int oci_archive_write_docker(const struct oci_layout *src, const struct oci_image *img,
			     char *const *repo_tags, int64_t mtime, const char *path, struct ocb_error *err);

/* An image brought in by oci_archive_load. */
struct oci_loaded {
	char *name;		    /* the archive's name for it (RepoTag or ref.name), or NULL */
	struct oci_descriptor desc; /* its manifest or index in the store */
};

void oci_loaded_free(struct oci_loaded *v, size_t n);

/* Load an OCI archive or a docker-archive (optionally gzip/zstd compressed)
 * into store.  Docker layers are stored as uncompressed OCI layers, verified
 * against the config's diff_ids; OCI blobs are verified by digest.  tmp_dir
 * is a scratch directory on the store's file system (an OCI archive is
 * extracted there first).  No refs are set: *out lists what was loaded, one
 * entry per name, and the caller names it in the store. */
int oci_archive_load(struct oci_layout *store, const char *path, const char *tmp_dir, struct oci_loaded **out,
		     size_t *n_out, struct ocb_error *err);

/* The docker-archive half of oci_archive_load. */
int oci_archive_import_docker(struct oci_layout *store, const char *path, struct oci_loaded **out,
			      size_t *n_out, struct ocb_error *err);

#endif
