#include "builder/cli_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "builder/cli.h"
#include "oci/cleanup.h"
#include "oci/layout.h"
#include "oci/ref.h"
#include "oci/banned.h"

int cli_parse_tls_verify(const char *cmd, const char *arg, bool *out, struct ocb_error *err)
{
	if (!arg || !strcmp(arg, "true"))
		*out = true;
	else if (!strcmp(arg, "false"))
		*out = false;
	else
		return cli_usage_error(err, cmd, "--tls-verify takes true or false");
	return 0;
}

static void print_progress(void *opaque, enum oci_registry_event ev, const struct oci_descriptor *d)
{
	fprintf(stderr, "%-8s %s %lld\n", cli_registry_event_name(ev), d->digest.str, (long long)d->size);
}

/* Where the blob lines go: stderr for the registry commands, the build's
 * progress output for `ocb build` (cli_registry_set_progress). */
static oci_registry_progress_fn progress_fn = print_progress;
static void *progress_opaque;

void cli_registry_set_progress(oci_registry_progress_fn fn, void *opaque)
{
	progress_fn = fn ? fn : print_progress;
	progress_opaque = fn ? opaque : NULL;
}

const char *cli_registry_event_name(enum oci_registry_event ev)
{
	static const char *const what[] = {
	    [OCI_REGISTRY_BLOB_EXISTS] = "exists", [OCI_REGISTRY_BLOB_MOUNTED] = "mounted",
	    [OCI_REGISTRY_BLOB_PUSHED] = "pushed", [OCI_REGISTRY_BLOB_PULLED] = "pulled",
	    [OCI_REGISTRY_BLOB_CACHED] = "cached", [OCI_REGISTRY_MANIFEST] = "manifest",
	};

	return (unsigned)ev < sizeof(what) / sizeof(what[0]) && what[ev] ? what[ev] : "blob";
}

static uint64_t env_bytes(const char *name)
{
	const char *s = getenv(name);
	char *end = NULL;
	unsigned long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || *end ? 0 : (uint64_t)v;
}

/* Whether host is in OCB_INSECURE_REGISTRIES ("a:5000,b.example"). */
static bool marked_insecure(const char *host)
{
	const char *list = getenv("OCB_INSECURE_REGISTRIES");
	size_t n = strlen(host);

	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
		p += strspn(p, " ");
		if (strcspn(p, ", ") == n && !strncmp(p, host, n))
			return true;
	}
	return false;
}

/* The first ca.crt for host in the certs.d directories, or NULL. */
static char *find_ca_file(const char *host)
{
	const char *dirs[] = {getenv("OCB_CERTS_DIR"), "/etc/containers/certs.d", "/etc/docker/certs.d"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *path = NULL;
		if (!dirs[i] || !*dirs[i] || asprintf(&path, "%s/%s/ca.crt", dirs[i], host) < 0)
			continue;
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

int cli_registry_open(const char *host, bool tls_verify, const char *user, const char *password,
		      struct oci_registry **out, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *found_user = NULL;
	cleanup_free char *secret = NULL;
	cleanup_free char *ca = find_ca_file(host);
	struct oci_registry_opts o = {.tls_verify = tls_verify && !marked_insecure(host),
				      .ca_file = ca,
				      .progress = progress_fn,
				      .progress_opaque = progress_opaque};
	int rc;

	if (!user) {
		if (oci_registry_config_dir(&dir, err) < 0)
			return -1;
		if (oci_registry_creds_lookup(dir, host, &found_user, &secret, err) < 0)
			return ocb_error_wrap(err, "credentials for '%s'", host);
		user = found_user;
		password = secret;
	}
	o.username = user;
	o.password = password;
	o.chunk_threshold = env_bytes("OCB_REGISTRY_CHUNK_THRESHOLD");
	o.chunk_size = env_bytes("OCB_REGISTRY_CHUNK_SIZE");
	rc = oci_registry_open(out, host, &o, err);
	if (secret)
		explicit_bzero(secret, strlen(secret));
	return rc;
}

int cli_registry_host(const char *arg, char **out, struct ocb_error *err)
{
	char *h = oci_registry_host_of(arg);

	if (!h)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (!*h ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(h)) {
		free(h);
		return ocb_error_set(err, OCB_EINVAL, 0, "bad registry '%s'", arg);
	}
	*out = h;
	return 0;
}

static int add_blob(const struct oci_descriptor *d, void *opaque, struct ocb_error *err)
{
	struct oci_registry_source *src = opaque;
	enum oci_media_kind kind = oci_media_kind(d->media_type);
	struct oci_digest *v;

	if (kind == OCI_KIND_MANIFEST || kind == OCI_KIND_INDEX)
		return 0;
	if (!(v = realloc(src->digests, (src->n_digests + 1) * sizeof(*v))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	v[src->n_digests++] = d->digest;
	src->digests = v;
	return 0;
}

/* The source for repo in v (added when there is room), or NULL. */
static struct oci_registry_source *source_for(struct oci_registry_source **v, size_t *n, const char *repo)
{
	struct oci_registry_source *nv;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].repo, repo))
			return &(*v)[i];
	if (*n >= OCI_REGISTRY_SOURCES_MAX || !(nv = realloc(*v, (*n + 1) * sizeof(*nv))))
		return NULL;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	if (!(nv[*n].repo = strdup(repo)))
		return NULL;
	return &nv[(*n)++];
}

int cli_registry_mount_sources(const struct oci_layout *store, const struct oci_ref *dest,
			       struct oci_registry_source **out, size_t *n, struct ocb_error *err)
{
	struct oci_registry_source *v = NULL;
	struct oci_index x;
	size_t nv = 0;

	if (oci_layout_read_index(store, &x, err) < 0)
		return -1;
	for (size_t i = 0; i < x.n_manifests; i++) {
		struct ocb_error ignored = OCB_ERROR_INIT;
		const char *name = oci_layout_entry_name(&x.manifests[i]);
		struct oci_registry_source *src;
		struct oci_ref ref = {0};

		if (name && oci_ref_parse(name, &ref, &ignored) == 0 &&
		    !strcmp(ref.registry, dest->registry) && strcmp(ref.repository, dest->repository) &&
		    (src = source_for(&v, &nv, ref.repository)))
			oci_layout_walk(store, &x.manifests[i], add_blob, src, &ignored); /* best effort */
		oci_ref_release(&ref);
	}
	oci_index_release(&x);
	*out = v;
	*n = nv;
	return 0;
}

int cli_registry_fetch(struct oci_layout *store, const struct oci_ref *ref, const struct oci_platform *want,
		       bool tls_verify, struct oci_descriptor *top, struct ocb_error *err)
{
	struct oci_registry *r = NULL;
	int ret;

	if (cli_registry_open(ref->registry, tls_verify, NULL, NULL, &r, err) < 0)
		return -1;
	ret = oci_registry_pull(r, ref, store, want, top, err);
	oci_registry_free(r);
	return ret;
}

int cli_registry_pull(struct oci_layout *store, const struct oci_ref *ref, const struct oci_platform *want,
		      bool tls_verify, struct oci_descriptor *top, struct ocb_error *err)
{
	struct oci_descriptor d = {0};
	cleanup_free char *name = oci_ref_local_name(ref);
	int ret = -1;

	if (!name)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (cli_registry_fetch(store, ref, want, tls_verify, &d, err) < 0)
		return -1;
	if (oci_layout_set_ref(store, name, &d, err) == 0) {
		ret = 0;
		if (top) {
			*top = d;
			memset(&d, 0, sizeof(d));
		}
	}
	oci_descriptor_release(&d);
	return ret;
}

int cli_registry_push(const struct oci_layout *store, const struct oci_descriptor *top,
		      const struct oci_ref *dest, bool tls_verify, struct ocb_error *err)
{
	struct oci_registry_source *sources = NULL;
	struct oci_registry *r = NULL;
	size_t n_sources = 0;
	int ret = -1;

	if (cli_registry_open(dest->registry, tls_verify, NULL, NULL, &r, err) < 0)
		return -1;
	if (cli_registry_mount_sources(store, dest, &sources, &n_sources, err) == 0 &&
	    oci_registry_push(r, store, top, dest, sources, n_sources, err) == 0)
		ret = 0;
	oci_registry_sources_free(sources, n_sources);
	oci_registry_free(r);
	return ret;
}
