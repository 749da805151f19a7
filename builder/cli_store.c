#include "builder/cli_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/epoch.h"
#include "oci/layout.h"
#include "builder/private_dir.h"
#include "builder/rootless.h"
#include "builder/store_lock.h"

#include "oci/banned.h"

int cli_store_root(char **out, struct ocb_error *err)
{
	const char *env = getenv("OCB_ROOT");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char *path = NULL;
	int n;

	if (env && *env)
		n = asprintf(&path, "%s", env);
	else if (rootless_real_root())
		n = asprintf(&path, "/var/lib/ocb");
	else if (xdg && *xdg)
		n = asprintf(&path, "%s/ocb", xdg);
	else if (home && *home)
		n = asprintf(&path, "%s/.local/share/ocb", home);
	else
		return ocb_error_set(err, OCB_EENV, 0, "cannot place the store: set OCB_ROOT or HOME");
	if (n < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*out = path;
	return 0;
}

int cli_store_open(struct oci_layout *store, bool create, struct ocb_error *err)
{
	cleanup_free char *root = NULL;

	if (cli_store_root(&root, err) < 0)
		return -1;
	if (oci_layout_open(store, root, create, err) < 0) {
		if (err && err->code == OCB_ENOTFOUND)
			return ocb_error_set(err, OCB_ENOTFOUND, 0, "no local store at '%s' (set OCB_ROOT)",
					     root);
		return ocb_error_wrap(err, "local store '%s'", root);
	}
	return 0;
}

int cli_store_open_writer(struct oci_layout *store, bool create, int *lock_fd, struct ocb_error *err)
{
	if (cli_store_open(store, create, err) < 0)
		return -1;
	return store_lock_shared(store->path, lock_fd, err);
}

int cli_created_time(char *buf, size_t size, struct ocb_error *err)
{
	int64_t epoch = 0;
	struct tm tm;
	time_t t;
	int rc = oci_source_date_epoch(&epoch, err);

	if (rc < 0)
		return -1;
	t = rc ? (time_t)epoch : time(NULL);
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return ocb_error_set(err, OCB_EINVAL, 0, "cannot format time %lld", (long long)t);
	return 0;
}

int cli_store_mkdtemp(const struct oci_layout *store, const char *prefix, char **out, struct ocb_error *err)
{
	cleanup_free char *parent = NULL;

	if (asprintf(&parent, "%s/tmp", store->path) < 0) {
		parent = NULL;
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if (build_private_dir(parent, err) < 0)
		return -1;
	return build_private_mkdtemp(parent, prefix, out, err);
}
