/* Deterministic tar writing and safe tar member names (see archive_tar.h). */
#include "oci/archive_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/blobstore.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

#define TAR_NAME_MAX 4096
#define COPY_BUFSIZE (1 << 17)

/* libarchive's errno when it is the system's (ENOENT, EACCES, ...), else 0:
 * its own format errors come as EILSEQ (libarchive's internal
 * ARCHIVE_ERRNO_FILE_FORMAT on Linux), whose
 * strerror ("Invalid or incomplete multibyte or wide character") would
 * only mislead. */
static int archive_os_errno(struct archive *a)
{
	int e = archive_errno(a);

	return e > 0 && e != EILSEQ ? e : 0;
}

static int tar_error(struct oci_tar_out *t, const char *what, struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EFAIL, archive_os_errno(t->a), "cannot write '%s': %s: %s", t->path,
			     what, archive_error_string(t->a) ? archive_error_string(t->a) : "error");
}

int oci_tar_out_open(struct oci_tar_out *t, const char *path, int64_t mtime, struct ocb_error *err)
{
	cleanup_free char *dcopy = strdup(path);
	cleanup_free char *bcopy = strdup(path);

	memset(t, 0, sizeof(*t));
	t->fd = t->dir_fd = -1;
	t->mtime = mtime;
	if (!dcopy || !bcopy)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	t->path = strdup(path);
	t->name = strdup(basename(bcopy));
	if (!t->path || !t->name)
		goto nomem;
	t->dir_fd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dir_fd < 0) {
		ocb_error_sys(err, "cannot open the directory of '%s'", path);
		goto fail;
	}
	for (int i = 0; i < 16 && t->fd < 0; i++) {
		unsigned r = 0;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (unsigned)getpid() + (unsigned)i;
		free(t->tmp_name);
		t->tmp_name = NULL;
		if (asprintf(&t->tmp_name, ".%s.%08x.tmp", t->name, r) < 0) {
			t->tmp_name = NULL;
			goto nomem;
		}
		t->fd = openat(t->dir_fd, t->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (t->fd < 0 && errno != EEXIST) {
			ocb_error_sys(err, "cannot create '%s'", path);
			goto fail;
		}
	}
	if (t->fd < 0) {
		ocb_error_sys(err, "cannot create '%s'", path);
		goto fail;
	}
	t->a = archive_write_new();
	if (!t->a)
		goto nomem;
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_open_fd(t->a, t->fd) != ARCHIVE_OK) {
		tar_error(t, "open", err);
		goto fail;
	}
	return 0;
nomem:
	ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
fail:
	oci_tar_out_abort(t);
	return -1;
}

static int write_header(struct oci_tar_out *t, const char *name, bool dir, int64_t size,
			struct ocb_error *err)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (!e)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir ? 0755 : 0644);
	archive_entry_set_size(e, dir ? 0 : size);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, t->mtime, 0);
	r = archive_write_header(t->a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return tar_error(t, name, err);
	return 0;
}

int oci_tar_out_dir(struct oci_tar_out *t, const char *name, struct ocb_error *err)
{
	return write_header(t, name, true, 0, err);
}

int oci_tar_out_begin(struct oci_tar_out *t, const char *name, int64_t size, struct ocb_error *err)
{
	return write_header(t, name, false, size, err);
}

int oci_tar_out_data(struct oci_tar_out *t, const void *data, size_t len, struct ocb_error *err)
{
	const char *p = data;

	while (len > 0) {
		la_ssize_t n = archive_write_data(t->a, p, len);
		if (n <= 0)
			return tar_error(t, "data", err);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int oci_tar_out_buffer(struct oci_tar_out *t, const char *name, const void *data, size_t len,
		       struct ocb_error *err)
{
	if (oci_tar_out_begin(t, name, (int64_t)len, err) < 0)
		return -1;
	return oci_tar_out_data(t, data, len, err);
}

int oci_tar_out_commit(struct oci_tar_out *t, struct ocb_error *err)
{
	int ret = -1;

	if (archive_write_close(t->a) != ARCHIVE_OK) {
		tar_error(t, "close", err);
		goto out;
	}
	if (fsync(t->fd) < 0) {
		ocb_error_sys(err, "cannot write '%s': fsync", t->path);
		goto out;
	}
	if (renameat(t->dir_fd, t->tmp_name, t->dir_fd, t->name) < 0) {
		ocb_error_sys(err, "cannot write '%s'", t->path);
		goto out;
	}
	free(t->tmp_name);
	t->tmp_name = NULL;
	fsync(t->dir_fd);
	ret = 0;
out:
	oci_tar_out_abort(t);
	return ret;
}

void oci_tar_out_abort(struct oci_tar_out *t)
{
	if (t->a)
		archive_write_free(t->a);
	t->a = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->tmp_name && t->dir_fd >= 0)
		unlinkat(t->dir_fd, t->tmp_name, 0);
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	t->dir_fd = -1;
	free(t->tmp_name);
	free(t->name);
	free(t->path);
	t->tmp_name = t->name = t->path = NULL;
}

int oci_tar_in_open(struct archive **out, const char *path, struct ocb_error *err)
{
	struct archive *a = archive_read_new();

	if (!a)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	if (archive_read_open_filename(a, path, 1 << 17) != ARCHIVE_OK) {
		int e = archive_os_errno(a);
		ocb_error_set(err, e == ENOENT ? OCB_ENOTFOUND : OCB_EINVAL, e, "cannot read '%s': %s", path,
			      archive_error_string(a) ? archive_error_string(a) : "not a tar");
		archive_read_free(a);
		return -1;
	}
	*out = a;
	return 0;
}

int oci_tar_clean_name(const char *name, char **out, struct ocb_error *err)
{
	cleanup_free char *s = NULL;
	size_t n;
	const char *p = name;

	if (!name || strlen(name) > TAR_NAME_MAX)
		return ocb_error_set(err, OCB_EUNSAFE, 0, "archive member name too long");
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (p[0] == '/')
		return ocb_error_set(err, OCB_EUNSAFE, 0, "archive member '%.200s' is absolute", name);
	s = strdup(p);
	if (!s)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	n = strlen(s);
	if (n && s[n - 1] == '/')
		s[--n] = '\0';
	if (n == 0 || strcmp(s, ".") == 0) {
		*out = steal_pointer(&s);
		return 0;
	}
	for (const char *c = s; c;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return ocb_error_set(err, OCB_EUNSAFE, 0,
					     "archive member '%.200s' is not a clean relative name", name);
		c = slash ? slash + 1 : NULL;
	}
	*out = steal_pointer(&s);
	return 0;
}

int oci_tar_in_read_small(struct archive *a, const char *name, size_t max, char **buf, size_t *len,
			  struct ocb_error *err)
{
	cleanup_free char *data = malloc(max + 1);
	size_t got = 0;

	if (!data)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (;;) {
		la_ssize_t n = archive_read_data(a, data + got, max + 1 - got);
		if (n < 0)
			return ocb_error_set(err, OCB_EINVAL, 0, "'%.200s': %s", name,
					     archive_error_string(a));
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max)
			return ocb_error_set(err, OCB_ELIMIT, 0, "'%.200s' is larger than %zu bytes", name,
					     max);
	}
	data[got] = '\0';
	*buf = steal_pointer(&data);
	*len = got;
	return 0;
}

int oci_tar_in_to_blob(struct archive *a, const char *name, struct oci_blobstore *bs,
		       const struct oci_digest *expected, int64_t expected_size, struct oci_digest *digest,
		       uint64_t *size, struct ocb_error *err)
{
	cleanup_free char *buf = malloc(COPY_BUFSIZE);
	struct oci_blob_writer *w = NULL;

	if (!buf)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_blob_writer_open(bs, &w, err) < 0)
		return -1;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, COPY_BUFSIZE);
		if (n < 0) {
			oci_blob_writer_abort(w);
			return ocb_error_set(err, OCB_EINVAL, 0, "member '%.200s': %s", name,
					     archive_error_string(a));
		}
		if (n == 0)
			break;
		if (oci_blob_writer_write(w, buf, (size_t)n, err) < 0) {
			oci_blob_writer_abort(w);
			return -1;
		}
	}
	return oci_blob_writer_commit(w, expected, expected_size, digest, size, err);
}
