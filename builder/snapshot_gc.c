/* Collection of snapshots no named image uses (see snapshot.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/snapshot.h"
#include "builder/tree_size.h"
#include "oci/cleanup.h"
#include "oci/extract.h"
#include "oci/layout.h"
#include "oci/strv.h"
#include "oci/banned.h"

#define GC_PREFIX ".gc-"

/* The diff_ids of every image index.json reaches, sorted. */
struct keep_set {
	const struct oci_layout *store;
	struct oci_digest *v;
	size_t n, cap;
};

static int keep_add(struct keep_set *k, const struct oci_digest *d, struct ocb_error *err)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct oci_digest *v = reallocarray(k->v, cap, sizeof(*v));
		if (!v)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = *d;
	return 0;
}

/* A config's rootfs names the snapshots its image runs on. */
static int visit_config(const struct oci_descriptor *d, void *opaque, struct ocb_error *err)
{
	struct keep_set *k = opaque;
	struct oci_image_config c = {0};
	cleanup_free char *buf = NULL;
	size_t len;
	int ret = 0;

	if (oci_media_kind(d->media_type) != OCI_KIND_CONFIG)
		return 0;
	if (oci_layout_read_blob(k->store, d, &buf, &len, err) < 0 || oci_config_parse(buf, len, &c, err) < 0)
		return ocb_error_wrap(err, "config '%s'", d->digest.str);
	for (size_t i = 0; ret == 0 && i < c.n_diff_ids; i++)
		ret = keep_add(k, &c.diff_ids[i], err);
	oci_config_release(&c);
	return ret;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct oci_digest *)a)->str, ((const struct oci_digest *)b)->str);
}

static int keep_collect(struct keep_set *k, struct ocb_error *err)
{
	struct oci_index x = {0};
	int ret = 0;

	if (oci_layout_read_index(k->store, &x, err) < 0)
		return -1;
	for (size_t i = 0; ret == 0 && i < x.n_manifests; i++)
		ret = oci_layout_walk(k->store, &x.manifests[i], visit_config, k, err);
	oci_index_release(&x);
	if (ret == 0 && k->n)
		qsort(k->v, k->n, sizeof(*k->v), cmp_digest);
	return ret;
}

static bool keep_has(const struct keep_set *k, const char *hex)
{
	struct oci_digest d;

	snprintf(d.str, sizeof(d.str), OCI_DIGEST_ALGO ":%s", hex);
	return k->n && bsearch(&d, k->v, k->n, sizeof(d), cmp_digest);
}

static bool is_snapshot_name(const char *name)
{
	return strlen(name) == OCI_DIGEST_HEX_LEN && strspn(name, "0123456789abcdef") == OCI_DIGEST_HEX_LEN;
}

/* Leftovers: a killed extraction's temp sibling (oci/extract_newdir.c) or a
 * killed collection's renamed snapshot.  Only a collector, alone with the
 * store, may take them. */
static bool is_leftover(const char *name)
{
	return !strncmp(name, ".tmp-", 5) || !strncmp(name, GC_PREFIX, sizeof(GC_PREFIX) - 1);
}

static int remove_counted(struct snapshot_dir *sd, const char *name, struct snapshot_gc_result *r,
			  struct ocb_error *err)
{
	r->bytes += tree_size_at(sd->fd, name, NULL);
	if (oci_remove_tree_at(sd->fd, name, err) < 0)
		return ocb_error_wrap(err, "snapshot store '%s': remove '%s'", sd->path, name);
	return 0;
}

/* Rename first, remove second: a crash mid-removal never leaves a partial
 * tree under a snapshot's name, which a build would use as complete. */
static int remove_snapshot(struct snapshot_dir *sd, const char *hex, struct snapshot_gc_result *r,
			   struct ocb_error *err)
{
	char tmp[sizeof(GC_PREFIX) + OCI_DIGEST_HEX_LEN];

	snprintf(tmp, sizeof(tmp), GC_PREFIX "%s", hex);
	if (oci_remove_tree_at(sd->fd, tmp, err) < 0) /* an older collection's leftover */
		return ocb_error_wrap(err, "snapshot store '%s'", sd->path);
	if (renameat(sd->fd, hex, sd->fd, tmp) < 0) {
		if (errno == ENOENT)
			return 0;
		return ocb_error_sys(err, "snapshot store '%s': rename '%s'", sd->path, hex);
	}
	if (remove_counted(sd, tmp, r, err) < 0)
		return -1;
	r->removed++;
	return 0;
}

/* The names in the snapshot directory, read before anything is renamed (a
 * rename during readdir may show an entry twice). */
static int list_names(struct snapshot_dir *sd, char ***out, struct ocb_error *err)
{
	int fd = openat(sd->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	char **v = NULL;
	int ret = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return ocb_error_sys(err, "cannot list snapshots in '%s'", sd->path);
	}
	while (ret == 0 && (de = readdir(d)))
		if (is_snapshot_name(de->d_name) || is_leftover(de->d_name))
			ret = oci_strv_push(&v, de->d_name, err);
	closedir(d);
	if (ret < 0)
		oci_strv_free(v);
	else
		*out = v;
	return ret;
}

static int sweep(struct snapshot_dir *sd, const struct keep_set *k, bool all, struct snapshot_gc_result *r,
		 struct ocb_error *err)
{
	char **names = NULL;
	int ret = 0;

	if (list_names(sd, &names, err) < 0)
		return -1;
	for (size_t i = 0; ret == 0 && names && names[i]; i++) {
		if (is_leftover(names[i]))
			ret = remove_counted(sd, names[i], r, err);
		else if (all || !keep_has(k, names[i]))
			ret = remove_snapshot(sd, names[i], r, err);
	}
	oci_strv_free(names);
	return ret;
}

int snapshot_gc(struct snapshot_dir *sd, const struct oci_layout *store, bool all,
		struct snapshot_gc_result *res, struct ocb_error *err)
{
	struct keep_set k = {.store = store};
	struct snapshot_gc_result r = {0};
	int ret;

	if (!all && keep_collect(&k, err) < 0) {
		free(k.v);
		return ocb_error_wrap(err, "snapshot collection: images in '%s'", store->path);
	}
	ret = sweep(sd, &k, all, &r, err);
	free(k.v);
	if (res)
		*res = r;
	return ret;
}
