/* A client for OCI distribution registries (distribution-spec v1, Docker
 * registry API v2): pull manifests, indexes and blobs into a layout, push
 * them from one, list tags.
 *
 *   struct oci_registry *r;
 *   oci_registry_open(&r, "127.0.0.1:5000", &opts, &err);   no I/O yet
 *   oci_registry_pull(r, &ref, &store, want, &top, &err);   top names the result
 *   oci_registry_push(r, &store, &top, &dest, NULL, 0, &err);
 *   oci_registry_free(r);
 *
 * Transport (registry_http.c): libcurl, TLS verified unless opts.tls_verify is
 * false; plain HTTP only for localhost, 127.0.0.0/8, ::1 or tls_verify=false
 * (tried after HTTPS fails, like Docker); retries with backoff on 5xx, 429
 * (Retry-After honoured, more than 30 s gives up) and dropped connections;
 * bounded responses; redirects followed by hand so Authorization never goes
 * to another host.  Auth (registry_auth.c): anonymous, basic, bearer tokens
 * from WWW-Authenticate challenges, cached per scope, refreshed once on 401.
 * Credentials (registry_creds.c): Docker's config.json.
 *
 * Errors name the registry, repository, digest and HTTP status with the
 * registry's error JSON.  Codes: OCB_EAUTH refused credentials, OCB_EENV an
 * unreachable registry, OCB_ENOTFOUND a missing manifest or blob, OCB_EDIGEST
 * content that does not match its digest, OCB_ELIMIT an oversized response.
 * Blobs are uploaded and downloaded by a few threads; nothing here forks
 * except the credential helpers run before any thread starts. */
#ifndef OCB_REGISTRY_H
#define OCB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"
#include "oci/image.h"
#include "oci/layout.h"
#include "oci/ref.h"

#define OCI_REGISTRY_MANIFEST_MAX ((size_t)4 << 20)
#define OCI_REGISTRY_SMALL_MAX	  ((size_t)1 << 20) /* errors, tokens, tag lists */

enum oci_registry_event {
	OCI_REGISTRY_BLOB_EXISTS,  /* push: already in the repository */
	OCI_REGISTRY_BLOB_MOUNTED, /* push: mounted from another repository */
	OCI_REGISTRY_BLOB_PUSHED,  /* push: uploaded */
	OCI_REGISTRY_BLOB_PULLED,  /* pull: downloaded and verified */
	OCI_REGISTRY_BLOB_CACHED,  /* pull: already in the local store */
	OCI_REGISTRY_MANIFEST,	   /* a manifest or index stored or pushed */
};

/* Called from worker threads, serialised by the client. */
typedef void (*oci_registry_progress_fn)(void *opaque, enum oci_registry_event ev,
					 const struct oci_descriptor *d);

struct oci_registry_opts {
	bool tls_verify;	  /* false: accept any certificate, allow plain HTTP */
	const char *ca_file;	  /* PEM CAs trusted for this registry's host (not redirects); NULL: system */
	const char *username;	  /* NULL: anonymous (tokens still fetched when challenged) */
	const char *password;	  /* password or identity token */
	int parallel;		  /* blob transfers at once (0: 3) */
	uint64_t chunk_threshold; /* push blobs at least this big in chunks (0: 32 MiB) */
	uint64_t chunk_size;	  /* bytes per PATCH (0: 16 MiB) */
	oci_registry_progress_fn progress;
	void *progress_opaque;
};

struct oci_registry;

/* host is "registry[:port]" as in an image reference ("docker.io" talks to
 * registry-1.docker.io).  opts is copied (strings too). */
int oci_registry_open(struct oci_registry **out, const char *host, const struct oci_registry_opts *opts,
		      struct ocb_error *err);
void oci_registry_free(struct oci_registry *r);

/* GET /v2/: reachable and (with credentials) authenticated.  OCB_EAUTH when
 * the credentials are refused, OCB_EENV when unreachable. */
int oci_registry_ping(struct oci_registry *r, struct ocb_error *err);

/* The manifest or index for reference (a tag or "sha256:..."), verified
 * against the digest when reference is one.  *buf (NUL-terminated), *len and
 * *desc (media type, digest, size) belong to the caller. */
int oci_registry_get_manifest(struct oci_registry *r, const char *repo, const char *reference, char **buf,
			      size_t *len, struct oci_descriptor *desc, struct ocb_error *err);
/* Stream blob d into bs, verified (digest and size) while it streams. */
int oci_registry_fetch_blob(struct oci_registry *r, const char *repo, const struct oci_descriptor *d,
			    struct oci_blobstore *bs, struct ocb_error *err);
/* The repository's tags (NULL-terminated, free with oci_strv_free). */
int oci_registry_list_tags(struct oci_registry *r, const char *repo, char ***tags, struct ocb_error *err);

/* Pull ref into dst.  want NULL: an index is pulled whole (every manifest);
 * otherwise an index resolves to the manifest for want (variant matched
 * exactly; arm64 means arm64/v8) and only that manifest is stored.  *top gets
 * the stored top descriptor.  No ref name is set (the caller names it). */
int oci_registry_pull(struct oci_registry *r, const struct oci_ref *ref, struct oci_layout *dst,
		      const struct oci_platform *want, struct oci_descriptor *top, struct ocb_error *err);
/* A repository of the same registry known to hold some blobs (for example
 * because local images named after it reach them): a push mounts those
 * blobs from it instead of uploading them. */
struct oci_registry_source {
	char *repo; /* "team/app" */
	struct oci_digest *digests;
	size_t n_digests;
};

void oci_registry_sources_free(struct oci_registry_source *v, size_t n);

/* Push what top reaches in src to dest (its tag, or its digest when it has
 * none): blobs first (skipped when present, mounted from the first of
 * sources that holds them), then manifests, then the index.  sources may be
 * NULL; at most OCI_REGISTRY_SOURCES_MAX are used. */
#define OCI_REGISTRY_SOURCES_MAX 8
int oci_registry_push(struct oci_registry *r, const struct oci_layout *src, const struct oci_descriptor *top,
		      const struct oci_ref *dest, const struct oci_registry_source *sources, size_t n_sources,
		      struct ocb_error *err);

/* ---- credentials (registry_creds.c): Docker's config.json ---- */

/* The registry host a config key or login argument names:
 * "https://host:5000/v1/" -> "host:5000"; Docker Hub's aliases
 * (index.docker.io, registry-1.docker.io) -> "docker.io".  NULL on ENOMEM. */
char *oci_registry_host_of(const char *s);
/* The config directory: $DOCKER_CONFIG, else $HOME/.docker. */
int oci_registry_config_dir(char **out, struct ocb_error *err);
/* Credentials for host from dir/config.json, picked as Docker does: the
 * helper credHelpers[host], else the helper credsStore (run as
 * `docker-credential-NAME get`), else the auths entry (keys "host",
 * "https://host", "http://host/...", Docker Hub's
 * "https://index.docker.io/v1/"; `auth` base64 or `username`/`password`; an
 * `identitytoken` comes back as user "<token>").  Returns 1 with *user and
 * *secret (caller frees) when found, 0 when none. */
int oci_registry_creds_lookup(const char *dir, const char *host, char **user, char **secret,
			      struct ocb_error *err);
/* Store user:secret for host: through the helper that would be asked for
 * them (`store`, the file keeping an empty auths entry, as Docker does), else
 * as auths[host].auth (base64).  Every other entry is kept; the file is
 * replaced atomically with mode 0600. */
int oci_registry_creds_store(const char *dir, const char *host, const char *user, const char *secret,
			     struct ocb_error *err);
/* Remove host's credentials (helper `erase` and the auths entry);
 * OCB_ENOTFOUND when there were none. */
int oci_registry_creds_erase(const char *dir, const char *host, struct ocb_error *err);

#endif
