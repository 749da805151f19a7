/* OCI image documents as C structs, with jansson (de)serialisation:
 * platform, descriptor, image config (image-spec 1.1 + Docker's Healthcheck),
 * manifest and index.  Docker v2 schema 2 manifests and manifest lists are
 * accepted when reading.
 *
 * Parsing is defensive: every field's type is checked, documents are bounded
 * (OCI_JSON_MAX), digests are strict.  Output is canonical (sorted keys,
 * compact), so the same struct always gives the same bytes and digest.
 *
 * The image config keeps the document it was parsed from (raw): fields ocb
 * does not model (Docker's container_config, OnBuild, Shell, ...) survive a
 * parse -> edit -> serialise round trip; the modelled fields are overlaid. */
#ifndef OCB_IMAGE_H
#define OCB_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/digest.h"
#include "oci/error.h"

#define OCI_MEDIA_TYPE_MANIFEST		"application/vnd.oci.image.manifest.v1+json"
#define OCI_MEDIA_TYPE_INDEX		"application/vnd.oci.image.index.v1+json"
#define OCI_MEDIA_TYPE_CONFIG		"application/vnd.oci.image.config.v1+json"
#define DOCKER_MEDIA_TYPE_MANIFEST	"application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MEDIA_TYPE_MANIFEST_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MEDIA_TYPE_CONFIG	"application/vnd.docker.container.image.v1+json"

#define OCI_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define OCI_ANNOTATION_CREATED	"org.opencontainers.image.created"

enum oci_media_kind {
	OCI_KIND_OTHER,
	OCI_KIND_MANIFEST, /* OCI manifest or Docker v2s2 manifest */
	OCI_KIND_INDEX,	   /* OCI index or Docker manifest list */
	OCI_KIND_CONFIG,
	OCI_KIND_LAYER,
};

enum oci_media_kind oci_media_kind(const char *media_type);

/* ---- platform (oci/platform.c) ---- */

struct oci_platform {
	char *os;	    /* "linux" */
	char *architecture; /* "amd64", "arm64" (GOARCH names) */
	char *variant;	    /* "v8" for arm64, NULL when none */
	char *os_version;   /* "os.version", rarely set */
	char **os_features; /* "os.features", NULL when absent */
};

/* "linux/arm64/v8", "linux/amd64", "linux/arm/v7"; also "arm64" (os linux) and
 * uname names (x86_64, aarch64).  The result is normalised. */
int oci_platform_parse(const char *s, struct oci_platform *out, struct ocb_error *err);
/* The platform this process runs on. */
int oci_platform_host(struct oci_platform *out, struct ocb_error *err);
/* GOARCH names, and arm64 without a variant gets v8 (arm gets v7). */
int oci_platform_normalize(struct oci_platform *p, struct ocb_error *err);
/* "linux/arm64/v8"; caller frees; NULL on ENOMEM. */
char *oci_platform_format(const struct oci_platform *p);
/* os and architecture equal and (normalised) variants equal. */
bool oci_platform_match(const struct oci_platform *want, const struct oci_platform *have);
int oci_platform_copy(struct oci_platform *dst, const struct oci_platform *src, struct ocb_error *err);
void oci_platform_release(struct oci_platform *p);
/* The descriptor form {"architecture", "os", "variant", "os.version", "os.features"}. */
int oci_platform_from_json(const json_t *j, struct oci_platform *out, struct ocb_error *err);
json_t *oci_platform_to_json(const struct oci_platform *p);

/* ---- descriptor (oci/descriptor.c) ---- */

struct oci_descriptor {
	char *media_type;
	struct oci_digest digest;
	int64_t size;
	json_t *annotations;	       /* object of strings, or NULL */
	struct oci_platform *platform; /* index entries only, or NULL */
};

int oci_descriptor_from_json(const json_t *j, struct oci_descriptor *out, struct ocb_error *err);
json_t *oci_descriptor_to_json(const struct oci_descriptor *d);
int oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src, struct ocb_error *err);
void oci_descriptor_release(struct oci_descriptor *d);
/* Fill d (media type copied) for a blob of known digest and size. */
int oci_descriptor_init(struct oci_descriptor *d, const char *media_type, const struct oci_digest *digest,
			int64_t size, struct ocb_error *err);

/* Arrays of descriptors (manifest layers, index manifests). */
int oci_descriptor_array_from_json(const json_t *doc, const char *key, size_t max,
				   struct oci_descriptor **out, size_t *n_out, struct ocb_error *err);
json_t *oci_descriptor_array_to_json(const struct oci_descriptor *v, size_t n);
/* Append a copy of d. */
int oci_descriptor_array_push(struct oci_descriptor **v, size_t *n, const struct oci_descriptor *d,
			      struct ocb_error *err);
void oci_descriptor_array_free(struct oci_descriptor *v, size_t n);

/* ---- image config (oci/config.c) ---- */

struct oci_healthcheck {
	char **test;	      /* ["CMD", "curl", ...], ["CMD-SHELL", "..."], ["NONE"] */
	int64_t interval;     /* nanoseconds, 0 = inherit */
	int64_t timeout;      /* nanoseconds */
	int64_t start_period; /* nanoseconds */
	int64_t retries;
};

struct oci_exec_config {
	char *user;
	char **exposed_ports; /* "80/tcp" keys, sorted */
	char **env;	      /* "K=V" */
	char **entrypoint;
	char **cmd;
	char **volumes; /* paths, sorted */
	char *working_dir;
	json_t *labels; /* object of strings, or NULL */
	char *stop_signal;
	struct oci_healthcheck *healthcheck; /* NULL when absent */
};

struct oci_history {
	char *created; /* RFC 3339 */
	char *created_by;
	char *author;
	char *comment;
	bool empty_layer;
};

struct oci_image_config {
	char *created; /* RFC 3339, or NULL */
	char *author;
	struct oci_platform platform; /* architecture, os, variant, os.version, os.features */
	struct oci_exec_config config;
	struct oci_digest *diff_ids; /* rootfs.diff_ids, type "layers" */
	size_t n_diff_ids;
	struct oci_history *history;
	size_t n_history;
	json_t *raw; /* the parsed document (fields not modelled survive), or NULL */
};

/* A new empty config for a platform (no layers, no history). */
int oci_config_init(struct oci_image_config *c, const struct oci_platform *platform, struct ocb_error *err);
int oci_config_parse(const char *buf, size_t len, struct oci_image_config *out, struct ocb_error *err);
/* Canonical bytes; *buf NUL-terminated, caller frees. */
int oci_config_serialize(const struct oci_image_config *c, char **buf, size_t *len, struct ocb_error *err);
void oci_config_release(struct oci_image_config *c);
/* Append a layer's diff_id and (if h is not NULL) a history entry. */
int oci_config_add_layer(struct oci_image_config *c, const struct oci_digest *diff_id,
			 const struct oci_history *h, struct ocb_error *err);
/* Append a history entry (for empty_layer steps such as ENV). */
int oci_config_add_history(struct oci_image_config *c, const struct oci_history *h, struct ocb_error *err);
/* Set (or replace) an environment variable "KEY=value". */
int oci_config_set_env(struct oci_image_config *c, const char *key, const char *value, struct ocb_error *err);
/* The value of KEY in Env, or NULL. */
const char *oci_config_get_env(const struct oci_image_config *c, const char *key);
void oci_healthcheck_free(struct oci_healthcheck *h);
void oci_history_release(struct oci_history *h);

/* ---- manifest (oci/manifest.c) ---- */

struct oci_manifest {
	char *media_type; /* OCI or Docker v2s2; NULL when absent in the input */
	struct oci_descriptor config;
	struct oci_descriptor *layers;
	size_t n_layers;
	json_t *annotations;
};

int oci_manifest_parse(const char *buf, size_t len, struct oci_manifest *out, struct ocb_error *err);
/* Writes mediaType (OCI when media_type is NULL) and schemaVersion 2. */
int oci_manifest_serialize(const struct oci_manifest *m, char **buf, size_t *len, struct ocb_error *err);
void oci_manifest_release(struct oci_manifest *m);
/* Append a copy of a layer descriptor. */
int oci_manifest_add_layer(struct oci_manifest *m, const struct oci_descriptor *layer, struct ocb_error *err);

/* Shared by manifest and index parsing: schemaVersion must be 2 and mediaType,
 * when present, of the wanted kind (*media_type gets it, or NULL). */
int oci_check_schema(const json_t *doc, enum oci_media_kind want, char **media_type, struct ocb_error *err);

/* ---- index (oci/index.c) ---- */

struct oci_index {
	char *media_type; /* OCI index or Docker manifest list; NULL when absent */
	struct oci_descriptor *manifests;
	size_t n_manifests;
	json_t *annotations;
};

int oci_index_parse(const char *buf, size_t len, struct oci_index *out, struct ocb_error *err);
int oci_index_serialize(const struct oci_index *x, char **buf, size_t *len, struct ocb_error *err);
void oci_index_release(struct oci_index *x);
int oci_index_add(struct oci_index *x, const struct oci_descriptor *d, struct ocb_error *err);
/* Remove entry i (released), keeping the order of the others. */
void oci_index_remove(struct oci_index *x, size_t i);
/* The first manifest entry matching platform, or -1 (OCB_ENOTFOUND set in err). */
ssize_t oci_index_find_platform(const struct oci_index *x, const struct oci_platform *p,
				struct ocb_error *err);

#endif
