/* Writing an image of the local store elsewhere, shared by `ocb save` and
 * `ocb build --output`: an OCI layout directory (oci:DIR[:TAG]) and a
 * docker-archive of one platform. */
#ifndef OCB_BUILD_EXPORT_H
#define OCB_BUILD_EXPORT_H

#include <stdint.h>

#include "oci/error.h"
#include "oci/layout.h"

/* The tag of a store name ("latest" when it has none); malloc'd, NULL on ENOMEM. */
char *build_export_default_tag(const char *store_name);
/* Docker's short name ("hello:1.0") of a store name with a tag, else NULL. */
char *build_export_familiar_name(const char *store_name);

/* Copy top (and all it reaches) into the layout at "DIR[:TAG]" (a ':' before
 * the last '/' belongs to DIR), named TAG, default the store name's tag. */
int build_export_layout_dir(const struct oci_layout *store, const struct oci_descriptor *top,
			    const char *store_name, const char *target, struct ocb_error *err);

/* A docker-archive of one image of top: platform (NULL: a single manifest
 * whatever its platform, an index's host platform) tagged with the familiar
 * form of store_name. */
int build_export_docker(const struct oci_layout *store, const struct oci_descriptor *top,
			const char *store_name, const char *platform, int64_t mtime, const char *path,
			struct ocb_error *err);

#endif
