/* Image references: [registry[:port]/]repo[:tag][@sha256:<hex>], parsed and
 * normalised the way Docker does (distribution/reference):
 *
 *   debian                  -> docker.io/library/debian:latest
 *   user/repo               -> docker.io/user/repo:latest
 *   localhost:5000/x        -> localhost:5000/x:latest
 *   index.docker.io/x       -> docker.io/library/x:latest
 *   debian@sha256:...       -> docker.io/library/debian@sha256:...  (no tag added)
 *
 * The first path component is a registry when it contains '.' or ':', is
 * "localhost", or has an upper-case letter.  Repository components are
 * [a-z0-9]+ joined by '.', '_', '__' or one or more '-'; a tag is
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the digest is strict sha256. */
#ifndef OCB_REF_H
#define OCB_REF_H

#include <stdbool.h>

#include "oci/digest.h"
#include "oci/error.h"

#define OCI_REF_DEFAULT_REGISTRY "docker.io"
#define OCI_REF_DEFAULT_TAG	 "latest"
#define OCI_REF_NAME_MAX	 255 /* registry + "/" + repository, like Docker */
#define OCI_REF_TAG_MAX		 128

struct oci_ref {
	char *registry;	  /* "docker.io", "localhost:5000" */
	char *repository; /* "library/debian" */
	char *tag;	  /* "latest"; NULL when only a digest was given */
	bool has_digest;
	struct oci_digest digest;
};

/* Parse and normalise s.  OCB_EINVAL naming s when malformed. */
int oci_ref_parse(const char *s, struct oci_ref *out, struct ocb_error *err);
void oci_ref_release(struct oci_ref *r);

/* "docker.io/library/debian:latest[@sha256:...]"; caller frees. NULL on ENOMEM. */
char *oci_ref_full_name(const struct oci_ref *r);
/* Docker's short form: "debian:latest", "user/repo:1", "localhost:5000/x:latest". */
char *oci_ref_familiar_name(const struct oci_ref *r);
/* The name an image carries in the local store's index.json
 * (org.opencontainers.image.ref.name): the full name with the tag, or with the
 * digest when there is no tag: "docker.io/library/debian:latest". */
char *oci_ref_local_name(const struct oci_ref *r);
/* "docker.io/library/debian" (no tag, no digest). */
char *oci_ref_repo_name(const struct oci_ref *r);

/* True when s is a valid tag. */
bool oci_ref_tag_is_valid(const char *s);

#endif
