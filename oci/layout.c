/* OCI image layout directories: index.json and its refs (see layout.h). */
#include "oci/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/fdio.h"
#include "oci/json.h"
#include "oci/ref.h"
#include "oci/banned.h"

#define LAYOUT_FILE_MAX	  4096
#define DIGEST_PREFIX_MIN 4

/* Read a whole regular file under dirfd (no symlinks), at most max bytes.
 * O_NONBLOCK: a FIFO in a hostile layout is refused, not waited on. */
static int read_file_at(int dirfd, const char *name, size_t max, char **buf, size_t *len,
			struct ocb_error *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	cleanup_free char *data = NULL;
	struct stat st;
	size_t got;
	ssize_t n;

	if (fd < 0)
		return ocb_error_sys(err, "cannot open '%s'", name);
	if (fstat(fd, &st) < 0)
		return ocb_error_sys(err, "cannot stat '%s'", name);
	if (!S_ISREG(st.st_mode))
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s' is not a regular file", name);
	if ((uint64_t)st.st_size > max)
		return ocb_error_set(err, OCB_ELIMIT, 0, "'%s' is larger than %zu bytes", name, max);
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	n = oci_read_full(fd, data, (size_t)st.st_size);
	if (n < 0)
		return ocb_error_sys(err, "cannot read '%s'", name);
	got = (size_t)n;
	data[got] = '\0';
	*buf = steal_pointer(&data);
	*len = got;
	return 0;
}

/* Write name under dirfd atomically: temp file, fsync, rename, fsync dir. */
static int replace_file_at(int dirfd, const char *name, const char *data, size_t len, struct ocb_error *err)
{
	char tmp[256];
	cleanup_close int fd = -1;

	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return ocb_error_sys(err, "cannot create '%s'", tmp);
	if (oci_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		ocb_error_sys(err, "cannot write '%s'", name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		ocb_error_sys(err, "cannot replace '%s'", name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (fsync(dirfd) < 0)
		return ocb_error_sys(err, "fsync");
	return 0;
}

int oci_layout_lock(const struct oci_layout *l, int *fd, struct ocb_error *err)
{
	int f = openat(l->bs.root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (f < 0)
		return ocb_error_sys(err, "cannot open layout '%s'", l->path);
	while (flock(f, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		ocb_error_sys(err, "cannot lock layout '%s'", l->path);
		close(f);
		return -1;
	}
	*fd = f;
	return 0;
}

void oci_layout_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int check_layout_file(const struct oci_layout *l, struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	cleanup_json json_t *j = NULL;
	const char *version;
	size_t len;

	if (read_file_at(l->bs.root_fd, OCI_LAYOUT_FILE, LAYOUT_FILE_MAX, &buf, &len, err) < 0 ||
	    oci_json_load(buf, len, LAYOUT_FILE_MAX, OCI_LAYOUT_FILE, &j, err) < 0)
		return -1;
	version = json_string_value(json_object_get(j, "imageLayoutVersion"));
	if (!version || strncmp(version, "1.", 2) != 0)
		return ocb_error_set(err, OCB_EINVAL, 0, "'%s': unsupported imageLayoutVersion",
				     OCI_LAYOUT_FILE);
	return 0;
}

/* A fresh layout gets an empty index.json (under the lock, once). */
static int ensure_index(const struct oci_layout *l, struct ocb_error *err)
{
	struct oci_index empty = {0};
	int lock = -1;
	int ret = 0;

	if (faccessat(l->bs.root_fd, OCI_LAYOUT_INDEX, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (oci_layout_lock(l, &lock, err) < 0)
		return -1;
	if (faccessat(l->bs.root_fd, OCI_LAYOUT_INDEX, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		ret = oci_layout_write_index(l, &empty, err);
	oci_layout_unlock(lock);
	return ret;
}

int oci_layout_open(struct oci_layout *l, const char *path, bool create, struct ocb_error *err)
{
	struct oci_layout nl = {0};

	if (oci_blobstore_open(&nl.bs, path, create, err) < 0) {
		if (err && err->code == OCB_ENOTFOUND)
			return ocb_error_set(err, OCB_ENOTFOUND, ENOENT, "'%s' is not an OCI layout", path);
		return -1;
	}
	nl.path = strdup(path);
	if (!nl.path) {
		oci_layout_release(&nl);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	if ((create && ensure_index(&nl, err) < 0) || check_layout_file(&nl, err) < 0)
		goto fail;
	if (faccessat(nl.bs.root_fd, OCI_LAYOUT_INDEX, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		ocb_error_sys(err, "missing '%s'", OCI_LAYOUT_INDEX);
		goto fail;
	}
	*l = nl;
	return 0;
fail:
	oci_layout_release(&nl);
	return ocb_error_wrap(err, "OCI layout '%s'", path);
}

void oci_layout_release(struct oci_layout *l)
{
	if (!l)
		return;
	oci_blobstore_release(&l->bs);
	free(l->path);
	l->path = NULL;
}

int oci_layout_read_index(const struct oci_layout *l, struct oci_index *out, struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len;

	if (read_file_at(l->bs.root_fd, OCI_LAYOUT_INDEX, OCI_JSON_MAX, &buf, &len, err) < 0 ||
	    oci_index_parse(buf, len, out, err) < 0)
		return ocb_error_wrap(err, "OCI layout '%s'", l->path);
	return 0;
}

int oci_layout_write_index(const struct oci_layout *l, const struct oci_index *x, struct ocb_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len;

	if (oci_index_serialize(x, &buf, &len, err) < 0 ||
	    replace_file_at(l->bs.root_fd, OCI_LAYOUT_INDEX, buf, len, err) < 0)
		return ocb_error_wrap(err, "OCI layout '%s'", l->path);
	return 0;
}

const char *oci_layout_entry_name(const struct oci_descriptor *d)
{
	return oci_string_map_get(d->annotations, OCI_ANNOTATION_REF_NAME);
}

/* Drop every entry named name; true when one was. */
static bool index_drop_name(struct oci_index *x, const char *name)
{
	bool found = false;

	for (size_t i = x->n_manifests; i-- > 0;) {
		const char *n = oci_layout_entry_name(&x->manifests[i]);
		if (n && strcmp(n, name) == 0) {
			oci_index_remove(x, i);
			found = true;
		}
	}
	return found;
}

/* Read index.json under the lock, let edit change it, write it back. */
static int index_update(const struct oci_layout *l,
			int (*edit)(struct oci_index *, void *, struct ocb_error *), void *opaque,
			struct ocb_error *err)
{
	struct oci_index x = {0};
	int lock = -1;
	int ret = -1;

	if (oci_layout_lock(l, &lock, err) < 0)
		return -1;
	if (oci_layout_read_index(l, &x, err) == 0 && edit(&x, opaque, err) == 0)
		ret = oci_layout_write_index(l, &x, err);
	oci_index_release(&x);
	oci_layout_unlock(lock);
	return ret;
}

struct set_ref_args {
	const char *name;
	const struct oci_descriptor *d;
};

static int edit_set_ref(struct oci_index *x, void *opaque, struct ocb_error *err)
{
	struct set_ref_args *a = opaque;
	struct oci_descriptor entry;
	int ret;

	if (oci_descriptor_copy(&entry, a->d, err) < 0)
		return -1;
	/* The platform of a ref'd manifest is known from its config, not here. */
	ret = oci_string_map_set(&entry.annotations, OCI_ANNOTATION_REF_NAME, a->name, err);
	index_drop_name(x, a->name);
	if (ret == 0)
		ret = oci_index_add(x, &entry, err);
	oci_descriptor_release(&entry);
	return ret;
}

int oci_layout_set_ref(const struct oci_layout *l, const char *name, const struct oci_descriptor *d,
		       struct ocb_error *err)
{
	struct set_ref_args a = {name, d};

	if (!*name)
		return ocb_error_set(err, OCB_EINVAL, 0, "empty ref name");
	return index_update(l, edit_set_ref, &a, err);
}

static int edit_remove_ref(struct oci_index *x, void *opaque, struct ocb_error *err)
{
	const char *name = opaque;

	if (!index_drop_name(x, name))
		return ocb_error_set(err, OCB_ENOTFOUND, 0, "no image named '%s'", name);
	return 0;
}

int oci_layout_remove_ref(const struct oci_layout *l, const char *name, struct ocb_error *err)
{
	return index_update(l, edit_remove_ref, (void *)name, err);
}

static ssize_t find_name(const struct oci_index *x, const char *name)
{
	for (size_t i = 0; i < x->n_manifests; i++) {
		const char *n = oci_layout_entry_name(&x->manifests[i]);
		if (n && strcmp(n, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* query as a digest or hex prefix: the unique entry, -1 none, -2 ambiguous. */
static ssize_t find_digest_prefix(const struct oci_index *x, const char *query)
{
	const char *hex = query;
	ssize_t found = -1;
	size_t n;

	if (strncmp(hex, OCI_DIGEST_ALGO ":", sizeof(OCI_DIGEST_ALGO)) == 0)
		hex += sizeof(OCI_DIGEST_ALGO);
	n = strlen(hex);
	if (n < DIGEST_PREFIX_MIN || n > OCI_DIGEST_HEX_LEN || strspn(hex, "0123456789abcdef") != n)
		return -1;
	for (size_t i = 0; i < x->n_manifests; i++) {
		if (strncmp(oci_digest_hex(&x->manifests[i].digest), hex, n) != 0)
			continue;
		if (found >= 0 && !oci_digest_equal(&x->manifests[found].digest, &x->manifests[i].digest))
			return -2;
		if (found < 0)
			found = (ssize_t)i;
	}
	return found;
}

static ssize_t find_entry(const struct oci_index *x, const char *query, struct ocb_error *err)
{
	ssize_t i = find_name(x, query);
	struct oci_ref ref;

	if (i >= 0)
		return i;
	if (oci_ref_parse(query, &ref, NULL) == 0) {
		cleanup_free char *local = oci_ref_local_name(&ref);
		oci_ref_release(&ref);
		if (local && (i = find_name(x, local)) >= 0)
			return i;
	}
	i = find_digest_prefix(x, query);
	if (i == -2)
		ocb_error_set(err, OCB_EINVAL, 0, "'%s' matches more than one image", query);
	else if (i < 0)
		ocb_error_set(err, OCB_ENOTFOUND, 0, "no image '%s'", query);
	return i;
}

int oci_layout_lookup(const struct oci_layout *l, const char *query, struct oci_descriptor *out,
		      char **name_out, struct ocb_error *err)
{
	struct oci_index x = {0};
	char *name = NULL;
	ssize_t i;
	int ret = -1;

	if (oci_layout_read_index(l, &x, err) < 0)
		return -1;
	if (!query || !*query) {
		/* oci:DIR without a tag: the layout's only image. */
		i = x.n_manifests == 1 ? 0 : -1;
		if (i < 0)
			ocb_error_set(err, x.n_manifests ? OCB_EINVAL : OCB_ENOTFOUND, 0,
				      "OCI layout '%s' holds %zu images: name one", l->path, x.n_manifests);
	} else {
		i = find_entry(&x, query, err);
	}
	if (i < 0)
		goto out;
	if (name_out && oci_layout_entry_name(&x.manifests[i]) &&
	    !(name = strdup(oci_layout_entry_name(&x.manifests[i])))) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	if (oci_descriptor_copy(out, &x.manifests[i], err) < 0) {
		free(name);
		goto out;
	}
	if (name_out)
		*name_out = name;
	ret = 0;
out:
	oci_index_release(&x);
	return ret;
}

int oci_layout_read_blob(const struct oci_layout *l, const struct oci_descriptor *d, char **buf, size_t *len,
			 struct ocb_error *err)
{
	char *data = NULL;
	size_t n;

	if (d->size > (int64_t)OCI_JSON_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "blob '%s': %lld bytes, more than the limit of %zu",
				     d->digest.str, (long long)d->size, OCI_JSON_MAX);
	if (oci_blobstore_read(&l->bs, &d->digest, OCI_JSON_MAX, &data, &n, err) < 0)
		return -1;
	if ((int64_t)n != d->size) {
		free(data);
		return ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s': size %zu, descriptor says %lld",
				     d->digest.str, n, (long long)d->size);
	}
	*buf = data;
	*len = n;
	return 0;
}
