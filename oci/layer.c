/* The layer writer: entries to tar to compressed blob (see layer.h).  The
 * tree walk is in layer_walk.c, the thread ring in layer_pipe.c, the tar
 * header encoding in tar.c. */
#include "oci/layer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/epoch.h"
#include "oci/layer_impl.h"
#include "oci/banned.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_NAME	".wh..wh..opq"
#define END_OF_ARCHIVE	(2 * TAR_BLOCK)

int oci_layer_options_from_env(struct oci_layer_options *opts, struct ocb_error *err)
{
	int64_t epoch;
	int rc = oci_source_date_epoch(&epoch, err);

	if (rc <= 0)
		return rc;
	opts->clamp_mtime = true;
	opts->source_date_epoch = epoch;
	return 0;
}

static int sink_to_blob(void *opaque, const void *data, size_t len, struct ocb_error *err)
{
	return oci_blob_writer_write(opaque, data, len, err);
}

static int consume_to_compressor(void *opaque, const void *data, size_t len, struct ocb_error *err)
{
	return oci_compressor_write(opaque, data, len, err);
}

static int writer_setup(struct oci_layer_writer *w, struct oci_blobstore *bs, struct ocb_error *err)
{
	enum oci_compression c = w->opts.compression;

	if (c != OCI_COMPRESSION_NONE && c != OCI_COMPRESSION_GZIP && c != OCI_COMPRESSION_ZSTD)
		return ocb_error_set(err, OCB_EINVAL, 0, "layer compression must be none, gzip or zstd");
	if (oci_hasher_init(&w->diff_hasher, err) < 0)
		return -1;
	w->hasher_ready = true;
	if (oci_blob_writer_open(bs, &w->blob, err) < 0)
		return -1;
	if (oci_compressor_new(&w->comp, c, w->opts.level, sink_to_blob, w->blob, err) < 0)
		return -1;
	/* Uncompressed, the blob writer's digest is the diff_id: hash once. */
	return layer_pipe_start(&w->pipe, c == OCI_COMPRESSION_NONE ? NULL : &w->diff_hasher,
				consume_to_compressor, w->comp, err);
}

int oci_layer_writer_new(struct oci_layer_writer **out, struct oci_blobstore *bs,
			 const struct oci_layer_options *opts, struct ocb_error *err)
{
	struct oci_layer_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	w->opts = *opts;
	if (writer_setup(w, bs, err) < 0) {
		oci_layer_writer_abort(w);
		return -1;
	}
	*out = w;
	return 0;
}

static int writer_failed(struct oci_layer_writer *w)
{
	w->failed = true;
	return -1;
}

static int64_t clamp_mtime(const struct oci_layer_writer *w, int64_t mtime)
{
	if (w->opts.clamp_mtime && mtime > w->opts.source_date_epoch)
		return w->opts.source_date_epoch;
	return mtime;
}

static int write_header(struct oci_layer_writer *w, const struct tar_entry *e, struct ocb_error *err)
{
	w->hdr.len = 0;
	if (tar_encode_header(e, &w->hdr, err) < 0)
		return -1;
	return layer_pipe_write(w->pipe, w->hdr.data, w->hdr.len, err);
}

static struct tar_entry entry_from_stat(const struct oci_layer_writer *w, const char *name,
					const struct stat *st)
{
	const struct oci_layer_override *ov = w->ov;
	struct tar_entry e = {
	    .name = name,
	    .mode = st->st_mode & 07777,
	    .uid = st->st_uid,
	    .gid = st->st_gid,
	    .mtime = st->st_mtim.tv_sec,
	};

	if (ov && ov->mode_set && !S_ISLNK(st->st_mode))
		e.mode = ov->mode & 07777;
	if (ov && ov->owner_set) {
		e.uid = ov->uid;
		e.gid = ov->gid;
	}
	if (ov && ov->mtime_set)
		e.mtime = ov->mtime;
	e.mtime = clamp_mtime(w, e.mtime);
	return e;
}

static void entry_set_xattrs(const struct oci_layer_writer *w, struct tar_entry *e)
{
	e->xattrs = w->xattrs.v;
	e->n_xattrs = w->xattrs.n;
}

/* Read size bytes of fd straight into the ring, then the block padding. */
static int copy_file_data(struct oci_layer_writer *w, int fd, uint64_t size, struct ocb_error *err)
{
	uint64_t left = size;

	while (left > 0) {
		size_t avail;
		unsigned char *dst = layer_pipe_space(w->pipe, &avail, err);
		ssize_t n;

		if (!dst)
			return -1;
		n = read(fd, dst, avail < left ? avail : (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ocb_error_sys(err, "read");
		if (n == 0)
			return ocb_error_set(err, OCB_EFAIL, 0, "file shrank while being read");
		if (layer_pipe_commit(w->pipe, (size_t)n, err) < 0)
			return -1;
		left -= (uint64_t)n;
	}
	return layer_pipe_zeros(w->pipe, tar_padding(size), err);
}

static int open_regular(int parentfd, const char *base, const struct stat *st, struct stat *now,
			struct ocb_error *err)
{
	int fd = openat(parentfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);

	if (fd < 0 && errno == EPERM) /* O_NOATIME needs ownership or CAP_FOWNER */
		fd = openat(parentfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ocb_error_sys(err, "cannot open");
	if (fstat(fd, now) < 0 || !S_ISREG(now->st_mode) || now->st_ino != st->st_ino ||
	    now->st_dev != st->st_dev) {
		close(fd);
		return ocb_error_set(err, OCB_EFAIL, 0, "file changed while being read");
	}
	return fd;
}

static int emit_regular(struct oci_layer_writer *w, int parentfd, const char *base, const char *name,
			const struct stat *st, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	struct stat now;
	struct tar_entry e;

	fd = open_regular(parentfd, base, st, &now, err);
	if (fd < 0)
		return -1;
	e = entry_from_stat(w, name, &now);
	e.type = TAR_REG;
	e.size = (uint64_t)now.st_size;
	if (!w->opts.no_xattrs) {
		if (layer_xattrs_read(&w->xattrs, fd, NULL, err) < 0)
			return -1;
		entry_set_xattrs(w, &e);
	}
	if (write_header(w, &e, err) < 0)
		return -1;
	return copy_file_data(w, fd, e.size, err);
}

static int emit_hardlink(struct oci_layer_writer *w, const char *name, const char *target,
			 const struct stat *st, struct ocb_error *err)
{
	struct tar_entry e = entry_from_stat(w, name, st);

	e.type = TAR_HARDLINK;
	e.linkname = target;
	return write_header(w, &e, err);
}

static int read_symlink(int parentfd, const char *base, char *buf, size_t size, struct ocb_error *err)
{
	ssize_t n = readlinkat(parentfd, base, buf, size);

	if (n < 0)
		return ocb_error_sys(err, "cannot read symlink");
	if ((size_t)n >= size)
		return ocb_error_set(err, OCB_ELIMIT, 0, "symlink target too long");
	buf[n] = '\0';
	return 0;
}

/* "name/" in w->name for a directory entry. */
static const char *dir_name(struct oci_layer_writer *w, const char *name, struct ocb_error *err)
{
	size_t len = strlen(name);

	w->name.len = 0;
	if (w->name.cap < len + 2) {
		char *p = realloc(w->name.data, len + 2);
		if (!p) {
			ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			return NULL;
		}
		w->name.data = (unsigned char *)p;
		w->name.cap = len + 2;
	}
	memcpy(w->name.data, name, len);
	memcpy(w->name.data + len, "/", 2);
	return (const char *)w->name.data;
}

static enum tar_type other_type(mode_t mode)
{
	if (S_ISDIR(mode))
		return TAR_DIR;
	if (S_ISLNK(mode))
		return TAR_SYMLINK;
	if (S_ISFIFO(mode))
		return TAR_FIFO;
	return S_ISCHR(mode) ? TAR_CHR : TAR_BLK;
}

/* Directories, symlinks, fifos and devices: a header and nothing else. */
static int emit_other(struct oci_layer_writer *w, int parentfd, const char *base, const char *name,
		      const struct stat *st, struct ocb_error *err)
{
	struct tar_entry e = entry_from_stat(w, name, st);
	char target[PATH_MAX + 1];
	char proc[64 + NAME_MAX];

	e.type = other_type(st->st_mode);
	if (e.type == TAR_DIR && !(e.name = dir_name(w, name, err)))
		return -1;
	if (e.type == TAR_SYMLINK) {
		if (read_symlink(parentfd, base, target, sizeof(target), err) < 0)
			return -1;
		e.linkname = target;
	}
	if (e.type == TAR_CHR || e.type == TAR_BLK) {
		e.devmajor = major(st->st_rdev);
		e.devminor = minor(st->st_rdev);
	}
	if (!w->opts.no_xattrs) {
		/* No l*xattrat(): reach base through its directory's fd. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", parentfd, base);
		if (layer_xattrs_read(&w->xattrs, -1, proc, err) < 0)
			return -1;
		entry_set_xattrs(w, &e);
	}
	return write_header(w, &e, err);
}

static bool is_whiteout_name(const char *base)
{
	return !strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX));
}

static int emit_entry(struct oci_layer_writer *w, int parentfd, const char *base, const char *name,
		      const struct stat *st, struct ocb_error *err)
{
	bool linked = !S_ISDIR(st->st_mode) && st->st_nlink > 1;
	const char *first = linked ? layer_links_find(&w->links, st->st_dev, st->st_ino) : NULL;
	const char *slash = strrchr(name, '/');

	/* The entry's own name decides (it differs from base under _as). */
	if (is_whiteout_name(slash ? slash + 1 : name))
		return ocb_error_set(err, OCB_EINVAL, 0,
				     "file names starting with '.wh.' are reserved for whiteouts");
	if (S_ISSOCK(st->st_mode))
		return 0;
	if (first)
		return emit_hardlink(w, name, first, st, err);
	if (linked && layer_links_add(&w->links, st->st_dev, st->st_ino, name, err) < 0)
		return -1;
	if (S_ISREG(st->st_mode))
		return emit_regular(w, parentfd, base, name, st, err);
	return emit_other(w, parentfd, base, name, st, err);
}

int layer_emit(struct oci_layer_writer *w, int parentfd, const char *base, const char *name,
	       const struct stat *st, struct ocb_error *err)
{
	if (w->failed)
		return ocb_error_set(err, OCB_EFAIL, 0, "layer writer already failed");
	if (emit_entry(w, parentfd, base, name, st, err) < 0) {
		ocb_error_wrap(err, "layer entry '%s'", name);
		return writer_failed(w);
	}
	return 0;
}

/* A relative name without empty, "." or ".." components. */
int layer_check_name(const char *name, struct ocb_error *err)
{
	const char *p = name;

	if (!name || !*name || *name == '/')
		return ocb_error_set(err, OCB_EINVAL, 0, "layer entry '%s' is not a relative path",
				     name ? name : "(null)");
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return ocb_error_set(err, OCB_EINVAL, 0, "layer entry '%s' has a bad component",
					     name);
		p += n;
		if (*p == '/' && *++p == '\0')
			return ocb_error_set(err, OCB_EINVAL, 0, "layer entry '%s' ends in '/'", name);
	}
	return 0;
}

/* dirfd/parent as an O_PATH fd, resolved beneath dirfd without symlinks. */
static int open_parent(int dirfd, const char *parent, struct ocb_error *err)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, *parent ? parent : ".", &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS) /* kernels before 5.6 */
		fd = openat(dirfd, *parent ? parent : ".", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ocb_error_sys(err, "cannot open directory '%s'", parent);
	return fd;
}

int oci_layer_add_path(struct oci_layer_writer *w, int dirfd, const char *path, struct ocb_error *err)
{
	return oci_layer_add_path_as(w, dirfd, path, path, NULL, err);
}

int oci_layer_add_path_as(struct oci_layer_writer *w, int dirfd, const char *path, const char *name,
			  const struct oci_layer_override *ov, struct ocb_error *err)
{
	cleanup_free char *parent = NULL;
	cleanup_close int pfd = -1;
	const char *slash, *base;
	struct stat st;
	int rc;

	if (layer_check_name(path, err) < 0 || layer_check_name(name, err) < 0)
		return -1;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	if (!parent)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	pfd = open_parent(dirfd, parent, err);
	if (pfd < 0)
		return ocb_error_wrap(err, "layer entry '%s'", path);
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ocb_error_sys(err, "layer entry '%s': cannot stat", path);
	w->ov = ov;
	rc = layer_emit(w, pfd, base, name, &st, err);
	w->ov = NULL;
	return rc;
}

int oci_layer_add_dir(struct oci_layer_writer *w, const char *name, uint32_t mode, uint64_t uid, uint64_t gid,
		      int64_t mtime, struct ocb_error *err)
{
	struct tar_entry e = {.type = TAR_DIR, .mode = mode & 07777, .uid = uid, .gid = gid};

	if (layer_check_name(name, err) < 0)
		return -1;
	if (w->failed)
		return ocb_error_set(err, OCB_EFAIL, 0, "layer writer already failed");
	e.mtime = clamp_mtime(w, mtime);
	if (!(e.name = dir_name(w, name, err)) || write_header(w, &e, err) < 0) {
		ocb_error_wrap(err, "layer entry '%s'", name);
		return writer_failed(w);
	}
	return 0;
}

/* An empty regular file entry: whiteouts and opaque markers. */
static int emit_marker(struct oci_layer_writer *w, const char *name, struct ocb_error *err)
{
	struct tar_entry e = {.name = name, .type = TAR_REG};

	if (w->failed)
		return ocb_error_set(err, OCB_EFAIL, 0, "layer writer already failed");
	if (write_header(w, &e, err) < 0)
		return writer_failed(w);
	return 0;
}

int oci_layer_add_whiteout(struct oci_layer_writer *w, const char *path, struct ocb_error *err)
{
	cleanup_free char *name = NULL;
	const char *slash, *base;

	if (layer_check_name(path, err) < 0)
		return -1;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (is_whiteout_name(base))
		return ocb_error_set(err, OCB_EINVAL, 0, "cannot white out '%s': a whiteout name", path);
	if (asprintf(&name, "%.*s" WHITEOUT_PREFIX "%s", (int)(base - path), path, base) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return emit_marker(w, name, err);
}

int oci_layer_add_opaque(struct oci_layer_writer *w, const char *dir, struct ocb_error *err)
{
	cleanup_free char *name = NULL;

	if (layer_check_name(dir, err) < 0)
		return -1;
	if (asprintf(&name, "%s/" OPAQUE_NAME, dir) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return emit_marker(w, name, err);
}

static int writer_finish(struct oci_layer_writer *w, struct oci_layer_desc *out, struct ocb_error *err)
{
	struct oci_layer_desc d = {.media_type = oci_compression_media_type(w->opts.compression)};
	struct oci_blob_writer *blob;

	if (w->failed)
		return ocb_error_set(err, OCB_EFAIL, 0, "layer writer already failed");
	if (layer_pipe_zeros(w->pipe, END_OF_ARCHIVE, err) < 0 ||
	    layer_pipe_finish(w->pipe, &d.tar_size, err) < 0)
		return -1;
	oci_hasher_final(&w->diff_hasher, &d.diff_id);
	if (oci_compressor_finish(w->comp, err) < 0)
		return -1;
	blob = steal_pointer(&w->blob);
	if (oci_blob_writer_commit(blob, NULL, -1, &d.digest, &d.size, err) < 0)
		return -1;
	if (w->opts.compression == OCI_COMPRESSION_NONE)
		d.diff_id = d.digest;
	*out = d;
	return 0;
}

int oci_layer_writer_commit(struct oci_layer_writer *w, struct oci_layer_desc *out, struct ocb_error *err)
{
	int rc = writer_finish(w, out, err);

	if (rc < 0)
		ocb_error_wrap(err, "cannot write layer");
	oci_layer_writer_abort(w);
	return rc;
}

void oci_layer_writer_abort(struct oci_layer_writer *w)
{
	if (!w)
		return;
	layer_pipe_free(w->pipe); /* stops the thread before its compressor goes */
	oci_compressor_free(w->comp);
	oci_blob_writer_abort(w->blob);
	if (w->hasher_ready)
		oci_hasher_release(&w->diff_hasher);
	tar_buf_release(&w->hdr);
	tar_buf_release(&w->name);
	layer_xattrs_release(&w->xattrs);
	layer_links_release(&w->links);
	free(w);
}

int oci_layer_from_dir(struct oci_blobstore *bs, int dirfd, const struct oci_layer_options *opts,
		       struct oci_layer_desc *out, struct ocb_error *err)
{
	struct oci_layer_writer *w;

	if (oci_layer_writer_new(&w, bs, opts, err) < 0)
		return -1;
	if (oci_layer_add_tree(w, dirfd, NULL, err) < 0) {
		oci_layer_writer_abort(w);
		return -1;
	}
	return oci_layer_writer_commit(w, out, err);
}
