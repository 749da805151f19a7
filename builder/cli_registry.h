/* What the registry commands share: opening a client for a host with the
 * stored credentials and a progress line per blob, and --tls-verify. */
#ifndef OCB_CLI_REGISTRY_H
#define OCB_CLI_REGISTRY_H

#include <stdbool.h>

#include "oci/error.h"
#include "oci/registry.h"

/* "true"/"false" (NULL: true) into *out; usage error naming cmd otherwise. */
int cli_parse_tls_verify(const char *cmd, const char *arg, bool *out, struct ocb_error *err);
/* A client for host with user/password, or (user NULL) the credentials of
 * the Docker config if any.  TLS is not verified (and plain HTTP allowed)
 * when tls_verify is false or host is listed in OCB_INSECURE_REGISTRIES
 * (comma separated).  A CA for the host is taken from
 * $OCB_CERTS_DIR/HOST/ca.crt, /etc/containers/certs.d/HOST/ca.crt or
 * /etc/docker/certs.d/HOST/ca.crt.  OCB_REGISTRY_CHUNK_THRESHOLD and
 * OCB_REGISTRY_CHUNK_SIZE (bytes) tune chunked uploads (for tests). */
int cli_registry_open(const char *host, bool tls_verify, const char *user, const char *password,
		      struct oci_registry **out, struct ocb_error *err);
/* Blob lines of the clients opened from now on go to fn (NULL: stderr,
 * "pulled   sha256:... SIZE").  For `ocb build`, whose stderr is its progress
 * output. */
void cli_registry_set_progress(oci_registry_progress_fn fn, void *opaque);
/* "pulled", "pushed", "exists", "mounted", "cached", "manifest". */
const char *cli_registry_event_name(enum oci_registry_event ev);
/* "registry.example:5000" from "https://registry.example:5000/v1/"; Docker
 * Hub's aliases become "docker.io".  *out malloc'd. */
int cli_registry_host(const char *arg, char **out, struct ocb_error *err);

struct oci_layout;
struct oci_ref;
struct oci_platform;
struct oci_descriptor;

/* Pull ref into store without naming it: an index resolves to want (NULL
 * keeps the whole index); *top gets the stored descriptor.  For a build that
 * needs one platform of a base image per target (the name would otherwise
 * flip between platforms). */
int cli_registry_fetch(struct oci_layout *store, const struct oci_ref *ref, const struct oci_platform *want,
		       bool tls_verify, struct oci_descriptor *top, struct ocb_error *err);
/* cli_registry_fetch, then name the result ref's local name ("reg/repo:tag").
 * *top may be NULL.  For `ocb pull`. */
int cli_registry_pull(struct oci_layout *store, const struct oci_ref *ref, const struct oci_platform *want,
		      bool tls_verify, struct oci_descriptor *top, struct ocb_error *err);
/* Push top from store to dest, mounting blobs from the store's other names
 * on dest's registry.  For `ocb push` and `ocb build --push`. */
int cli_registry_push(const struct oci_layout *store, const struct oci_descriptor *top,
		      const struct oci_ref *dest, bool tls_verify, struct ocb_error *err);
/* The repositories of dest's registry that local images are named after,
 * each with the blobs those images reach: a push mounts blobs from them. */
int cli_registry_mount_sources(const struct oci_layout *store, const struct oci_ref *dest,
			       struct oci_registry_source **out, size_t *n, struct ocb_error *err);

#endif
