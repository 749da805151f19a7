/* Loading an archive of either kind into the store (see archive.h). */
#include "oci/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/archive_tar.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

enum archive_kind { KIND_UNKNOWN, KIND_OCI, KIND_DOCKER };

/* A docker-archive has manifest.json (Docker >= 25 writes an OCI layout
 * beside it; its manifest.json still describes it fully). */
static int detect(const char *path, enum archive_kind *kind, struct ocb_error *err)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	bool oci = false, docker = false;
	size_t count = 0;
	int r;

	if (oci_tar_in_open(&a, path, err) < 0)
		return -1;
	while (!docker && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		cleanup_free char *name = NULL;
		if (++count > OCI_ARCHIVE_ENTRIES_MAX)
			break;
		/* Bad names are reported by the reader that meets them. */
		if (oci_tar_clean_name(archive_entry_pathname(e), &name, NULL) < 0)
			continue;
		docker = !strcmp(name, "manifest.json");
		oci = oci || !strcmp(name, "index.json");
	}
	archive_read_free(a);
	*kind = docker ? KIND_DOCKER : oci ? KIND_OCI : KIND_UNKNOWN;
	if (*kind == KIND_UNKNOWN)
		return ocb_error_set(err, OCB_EINVAL, 0,
				     "'%s' is neither an OCI archive nor a docker archive", path);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int load_oci(struct oci_layout *store, const char *path, const char *tmp_dir, struct oci_loaded **out,
		    size_t *n_out, struct ocb_error *err)
{
	cleanup_free char *dir = NULL;
	struct oci_layout l = {0};
	struct oci_index x = {0};
	struct oci_loaded *loaded = NULL;
	size_t n = 0;
	int ret = -1;

	if (asprintf(&dir, "%s/ocb-load-XXXXXX", tmp_dir) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (!mkdtemp(dir))
		return ocb_error_sys(err, "cannot create a temp directory in '%s'", tmp_dir);
	if (oci_archive_extract_oci(path, dir, err) < 0 || oci_layout_open(&l, dir, false, err) < 0 ||
	    oci_layout_read_index(&l, &x, err) < 0)
		goto out;
	loaded = calloc(x.n_manifests + 1, sizeof(*loaded));
	if (!loaded) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	for (; n < x.n_manifests; n++) {
		const char *name = oci_layout_entry_name(&x.manifests[n]);
		if (oci_layout_copy(store, &l, &x.manifests[n], err) < 0 ||
		    oci_descriptor_copy(&loaded[n].desc, &x.manifests[n], err) < 0)
			goto out;
		/* The name goes to the caller, not with the descriptor. */
		json_decref(loaded[n].desc.annotations);
		loaded[n].desc.annotations = NULL;
		if (name && !(loaded[n].name = strdup(name))) {
			n++;
			ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = steal_pointer(&loaded);
	*n_out = n;
	ret = 0;
out:
	oci_loaded_free(loaded, n);
	oci_index_release(&x);
	oci_layout_release(&l);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}

int oci_archive_load(struct oci_layout *store, const char *path, const char *tmp_dir, struct oci_loaded **out,
		     size_t *n_out, struct ocb_error *err)
{
	enum archive_kind kind;

	if (detect(path, &kind, err) < 0)
		return -1;
	if (kind == KIND_DOCKER)
		return oci_archive_import_docker(store, path, out, n_out, err);
	if (load_oci(store, path, tmp_dir, out, n_out, err) < 0)
		return ocb_error_wrap(err, "OCI archive '%s'", path);
	return 0;
}
