#include "builder/cli_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/cli.h"
#include "oci/cleanup.h"
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
	static const char *const what[] = {
	    [OCI_REGISTRY_BLOB_EXISTS] = "exists", [OCI_REGISTRY_BLOB_MOUNTED] = "mounted",
	    [OCI_REGISTRY_BLOB_PUSHED] = "pushed", [OCI_REGISTRY_BLOB_PULLED] = "pulled",
	    [OCI_REGISTRY_BLOB_CACHED] = "cached", [OCI_REGISTRY_MANIFEST] = "manifest",
	};

	fprintf(stderr, "%-8s %s %lld\n", what[ev], d->digest.str, (long long)d->size);
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

int cli_registry_open(const char *host, bool tls_verify, struct oci_registry **out, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *user = NULL;
	cleanup_free char *secret = NULL;
	struct oci_registry_opts o = {.tls_verify = tls_verify, .progress = print_progress};
	int rc;

	if (oci_registry_config_dir(&dir, err) < 0)
		return -1;
	if (oci_registry_creds_lookup(dir, host, &user, &secret, err) < 0)
		return ocb_error_wrap(err, "credentials for '%s'", host);
	o.username = user;
	o.password = secret;
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
