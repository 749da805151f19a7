/* The layer extractor's tar loop: libarchive's tar reader (ustar, pax, GNU)
 * parses, we write each entry ourselves with *at() calls on in-root parent
 * fds (see extract.h for the safety contract). */
#include "oci/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/extract_internal.h"
#include "oci/fdio.h"
#include "oci/banned.h"

#define STREAM_SLACK (UINT64_C(1) << 30) /* headers and padding beyond file bytes */

int extract_parent(struct extractor *x, const char *dir, int *fd, struct ocb_error *err)
{
	bool created = false;
	int nfd;

	if (x->cache_valid && !strcmp(x->cached_dir, dir)) {
		*fd = x->cached_fd;
		return 0;
	}
	if (extract_open_dir(x->root_fd, dir, true, &nfd, &created, err) < 0)
		return -1;
	if (x->cached_fd >= 0)
		close(x->cached_fd);
	x->cached_fd = nfd;
	/* dir is shorter than PATH_MAX: it is a prefix of a cleaned name. */
	snprintf(x->cached_dir, sizeof(x->cached_dir), "%s", dir);
	x->cache_valid = true;
	*fd = nfd;
	return 0;
}

int extract_replace(struct extractor *x, int dfd, const char *base, struct ocb_error *err)
{
	x->cache_valid = false;
	return extract_remove_at(dfd, base, EXTRACT_REMOVE_MAX_DEPTH, err);
}

int extract_record(struct extractor *x, const char *path, struct ocb_error *err)
{
	size_t len = strlen(path);

	if (!x->track)
		return 0;
	/* The set is closed under parents: stop at the first known one. */
	while (len) {
		bool added;
		if (oci_pathset_add(&x->written, path, len, &added, err) < 0)
			return -1;
		if (!added)
			break;
		while (len && path[len - 1] != '/')
			len--;
		if (len)
			len--;
	}
	return 0;
}

enum xattr_policy {
	XATTR_APPLY,
	XATTR_DROP,	  /* never from a tar: skipped and counted, even when strict */
	XATTR_PRIVILEGED, /* needs root: skipped and counted, or OCB_EENV when strict */
};

/* trusted.overlay.* (and user.overlay.*, its name under overlayfs' userxattr
 * option, as in rootless mounts) steers overlayfs: opaque, redirect,
 * metacopy, whiteout.  A layer never sets it. */
static enum xattr_policy xattr_policy(const struct extractor *x, const char *name)
{
	if (!strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13))
		return XATTR_DROP;
	if (!strncmp(name, "user.", 5))
		return XATTR_APPLY;
	if (!strncmp(name, "security.", 9) || !strncmp(name, "trusted.", 8) ||
	    !strcmp(name, "system.posix_acl_access") || !strcmp(name, "system.posix_acl_default"))
		return x->privileged ? XATTR_APPLY : XATTR_PRIVILEGED;
	return XATTR_DROP;
}

/* Something the tar asks for that this process cannot do: counted, or
 * OCB_EENV under OCI_EXTRACT_STRICT. */
static int skip_or_fail(struct extractor *x, uint64_t *counter, const char *what, struct ocb_error *err)
{
	if (x->flags & OCI_EXTRACT_STRICT)
		return ocb_error_set(err, OCB_EENV, EPERM,
				     "cannot apply %s here (needs privilege or support)", what);
	(*counter)++;
	return 0;
}

/* Apply the entry's xattrs to fd; fd < 0 (symlinks, specials) cannot take
 * them. */
static int apply_xattrs(struct extractor *x, struct archive_entry *e, int fd, struct ocb_error *err)
{
	const char *name;
	const void *value;
	size_t size;

	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		enum xattr_policy policy = xattr_policy(x, name);
		char q[EXTRACT_QUOTE_MAX];

		if (size > x->max_xattr)
			return ocb_error_set(err, OCB_ELIMIT, 0, "xattr '%s' larger than %zu bytes",
					     extract_quote(name, q, sizeof(q)), x->max_xattr);
		if (policy == XATTR_DROP) {
			x->stats.skipped_xattrs++;
			continue;
		}
		if (policy == XATTR_APPLY && fd >= 0 && fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		if (policy == XATTR_APPLY && fd >= 0 && errno != ENOTSUP && errno != EPERM)
			return ocb_error_sys(err, "cannot set xattr '%s'", extract_quote(name, q, sizeof(q)));
		if (skip_or_fail(x, &x->stats.skipped_xattrs, "an xattr", err) < 0)
			return ocb_error_wrap(err, "xattr '%s'", extract_quote(name, q, sizeof(q)));
	}
	return 0;
}

static int entry_owner(struct archive_entry *e, uid_t *uid, gid_t *gid, struct ocb_error *err)
{
	la_int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);

	if (u < 0 || g < 0 || u >= (la_int64_t)UINT32_MAX || g >= (la_int64_t)UINT32_MAX)
		return ocb_error_set(err, OCB_EINVAL, 0, "owner %lld:%lld out of range", (long long)u,
				     (long long)g);
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/* Numeric owner, as root only: fchownat(dirfd, name, flags) never follows
 * (AT_EMPTY_PATH on an fd, AT_SYMLINK_NOFOLLOW on a name). */
static int apply_owner(struct extractor *x, struct archive_entry *e, int dirfd, const char *name, int flags,
		       struct ocb_error *err)
{
	uid_t uid = 0;
	gid_t gid = 0;

	if (!x->chown)
		return 0;
	if (entry_owner(e, &uid, &gid, err) < 0)
		return -1;
	if (fchownat(dirfd, name, uid, gid, flags) == 0)
		return 0;
	/* In a user namespace (rootless builds) ids beyond its map are EINVAL. */
	if (errno == EINVAL)
		return ocb_error_set(err, OCB_EENV, errno,
				     "cannot set owner %lu:%lu: not mapped in this user namespace (a "
				     "rootless build maps only the caller's subordinate id range)",
				     (unsigned long)uid, (unsigned long)gid);
	return ocb_error_sys(err, "cannot set owner");
}

/* times[0] atime, times[1] mtime; false when the tar has no mtime. */
static bool entry_times(struct archive_entry *e, struct timespec times[2])
{
	if (!archive_entry_mtime_is_set(e))
		return false;
	times[1].tv_sec = archive_entry_mtime(e);
	times[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		times[0].tv_sec = archive_entry_atime(e);
		times[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		times[0] = times[1];
	}
	return true;
}

/* Owner, xattrs, mode, times of an open regular file. */
static int finish_file(struct extractor *x, struct archive_entry *e, int fd, struct ocb_error *err)
{
	struct timespec times[2];

	if (apply_owner(x, e, fd, "", AT_EMPTY_PATH, err) < 0 || apply_xattrs(x, e, fd, err) < 0)
		return -1;
	/* After chown, which clears setuid/setgid. */
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return ocb_error_sys(err, "cannot set mode");
	if (entry_times(e, times) && futimens(fd, times) < 0)
		return ocb_error_sys(err, "cannot set times");
	return 0;
}

static int archive_fail(struct archive *a, struct tar_source *src, struct ocb_error *err)
{
	if (src->failed) {
		*err = src->err;
		return -1;
	}
	return ocb_error_set(err, OCB_EINVAL, 0, "corrupt tar: %s",
			     archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

/* Copy the entry's data into fd; holes (sparse entries) are seeked over. */
static int copy_data(struct extractor *x, struct archive *a, struct tar_source *src, int fd, la_int64_t size,
		     struct ocb_error *err)
{
	la_int64_t pos = 0;

	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return archive_fail(a, src, err);
		if (off < pos || (uint64_t)off > (uint64_t)size || len > (uint64_t)(size - off))
			return ocb_error_set(err, OCB_EINVAL, 0, "corrupt tar: data outside the entry");
		if (off != pos && lseek(fd, off, SEEK_SET) < 0)
			return ocb_error_sys(err, "cannot seek");
		if (oci_write_all(fd, buf, len) < 0)
			return ocb_error_sys(err, "cannot write");
		pos = off + (la_int64_t)len;
		x->stats.file_bytes += len;
	}
	if (pos < size && ftruncate(fd, size) < 0)
		return ocb_error_sys(err, "cannot extend sparse file");
	return 0;
}

static int make_file(struct extractor *x, struct archive *a, struct tar_source *src, struct archive_entry *e,
		     int dfd, const char *base, struct ocb_error *err)
{
	la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	cleanup_close int fd = -1;
	int rc;

	if (size < 0)
		return ocb_error_set(err, OCB_EINVAL, 0, "corrupt tar: negative size");
	if ((uint64_t)size > x->budget)
		return ocb_error_set(err, OCB_ELIMIT, 0, "files larger than %llu bytes in all",
				     (unsigned long long)x->max_bytes);
	x->budget -= (uint64_t)size;
	/* O_EXCL|O_NOFOLLOW: never open what is there, symlink or not. */
	fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		if (extract_replace(x, dfd, base, err) < 0)
			return -1;
		fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return ocb_error_sys(err, "cannot create file");
	if (copy_data(x, a, src, fd, size, err) < 0 || finish_file(x, e, fd, err) < 0)
		return -1;
	rc = close(steal_fd(&fd));
	if (rc < 0 && errno != EINTR)
		return ocb_error_sys(err, "cannot write file");
	x->stats.files++;
	return 0;
}

static int defer_dir(struct extractor *x, const char *path, const struct stat *st, struct archive_entry *e,
		     struct ocb_error *err)
{
	struct extract_dir_meta *m;

	if (x->ndirs == x->dircap) {
		size_t cap = x->dircap ? x->dircap * 2 : 256;
		struct extract_dir_meta *dirs = reallocarray(x->dirs, cap, sizeof(*dirs));
		if (!dirs)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		x->dirs = dirs;
		x->dircap = cap;
	}
	m = &x->dirs[x->ndirs];
	m->path = strdup(path);
	if (!m->path)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->mode = archive_entry_perm(e) & 07777;
	m->has_times = entry_times(e, m->times);
	x->ndirs++;
	return 0;
}

/* Owner and xattrs now; mode and times when the layer ends. */
static int finish_dir(struct extractor *x, struct archive_entry *e, int fd, const char *path,
		      struct ocb_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ocb_error_sys(err, "cannot stat directory");
	if (apply_owner(x, e, fd, "", AT_EMPTY_PATH, err) < 0 || apply_xattrs(x, e, fd, err) < 0)
		return -1;
	return defer_dir(x, path, &st, e, err);
}

static int make_dir(struct extractor *x, struct archive_entry *e, int dfd, const char *base, const char *path,
		    struct ocb_error *err)
{
	cleanup_close int fd = -1;

	if (mkdirat(dfd, base, 0700) < 0) {
		struct stat st;
		if (errno != EEXIST)
			return ocb_error_sys(err, "cannot create directory");
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return ocb_error_sys(err, "cannot stat");
		/* An existing directory is merged; anything else (a symlink
		 * included) is replaced. */
		if (!S_ISDIR(st.st_mode)) {
			if (extract_replace(x, dfd, base, err) < 0)
				return -1;
			if (mkdirat(dfd, base, 0700) < 0)
				return ocb_error_sys(err, "cannot create directory");
		}
	}
	fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ocb_error_sys(err, "cannot open directory");
	x->stats.dirs++;
	return finish_dir(x, e, fd, path, err);
}

/* The "./" entry: the root's owner, xattrs, mode and times. */
static int root_dir(struct extractor *x, struct archive_entry *e, struct ocb_error *err)
{
	cleanup_close int fd = openat(x->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ocb_error_sys(err, "cannot open the root");
	return finish_dir(x, e, fd, "", err);
}

/* Owner and times of a node that has no fd of its own (symlink, special). */
static int finish_node(struct extractor *x, struct archive_entry *e, int dfd, const char *base, bool chmod_it,
		       struct ocb_error *err)
{
	struct timespec times[2];

	if (apply_owner(x, e, dfd, base, AT_SYMLINK_NOFOLLOW, err) < 0 || apply_xattrs(x, e, -1, err) < 0)
		return -1;
	if (chmod_it && fchmodat(dfd, base, archive_entry_perm(e) & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return ocb_error_sys(err, "cannot set mode");
	if (entry_times(e, times) && utimensat(dfd, base, times, AT_SYMLINK_NOFOLLOW) < 0)
		return ocb_error_sys(err, "cannot set times");
	return 0;
}

static int make_symlink(struct extractor *x, struct archive_entry *e, int dfd, const char *base,
			struct ocb_error *err)
{
	const char *target = archive_entry_symlink(e);

	if (!target)
		target = archive_entry_symlink_utf8(e);
	if (!target || !*target)
		return ocb_error_set(err, OCB_EINVAL, 0, "symlink without a target");
	if (strnlen(target, PATH_MAX) >= PATH_MAX)
		return ocb_error_set(err, OCB_ELIMIT, 0, "symlink target longer than %d bytes", PATH_MAX - 1);
	/* The target is only data: it is never followed while extracting,
	 * and parents through it resolve in the root. */
	if (symlinkat(target, dfd, base) < 0) {
		if (errno != EEXIST)
			return ocb_error_sys(err, "cannot create symlink");
		if (extract_replace(x, dfd, base, err) < 0)
			return -1;
		if (symlinkat(target, dfd, base) < 0)
			return ocb_error_sys(err, "cannot create symlink");
	}
	x->stats.symlinks++;
	return finish_node(x, e, dfd, base, false, err);
}

static int make_special(struct extractor *x, struct archive_entry *e, int dfd, const char *base,
			struct ocb_error *err)
{
	mode_t type = archive_entry_filetype(e) == AE_IFIFO   ? S_IFIFO
		      : archive_entry_filetype(e) == AE_IFCHR ? S_IFCHR
							      : S_IFBLK;
	dev_t dev = type == S_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));

	if (type != S_IFIFO && !x->privileged)
		return skip_or_fail(x, &x->stats.skipped_devices, "a device node", err);
	if (mknodat(dfd, base, type | 0600, dev) < 0) {
		if (errno == EEXIST) {
			if (extract_replace(x, dfd, base, err) < 0)
				return -1;
			if (mknodat(dfd, base, type | 0600, dev) == 0)
				goto made;
		}
		if (errno == EPERM && type != S_IFIFO)
			return skip_or_fail(x, &x->stats.skipped_devices, "a device node", err);
		return ocb_error_sys(err, "cannot create node");
	}
made:
	x->stats.specials++;
	return finish_node(x, e, dfd, base, true, err);
}

/* A hard link: the target is resolved in the root and must exist and not be
 * a directory; the link's own metadata is the target's. */
static int make_hardlink(struct extractor *x, const char *target, int dfd, const char *base,
			 struct ocb_error *err)
{
	char q[EXTRACT_QUOTE_MAX];
	const char *tbase;
	cleanup_close int tfd = -1;
	struct stat st, cur;

	if (extract_clean_name(target, x->target, sizeof(x->target), err) < 0)
		return ocb_error_wrap(err, "hardlink target '%s'", extract_quote(target, q, sizeof(q)));
	if (!x->target[0])
		return ocb_error_set(err, OCB_EUNSAFE, 0, "hardlink to the root directory");
	extract_split(x->target, x->tdir, &tbase);
	if (extract_open_dir(x->root_fd, x->tdir, false, &tfd, NULL, err) < 0 ||
	    fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (tfd >= 0)
			ocb_error_sys(err, "cannot stat");
		return ocb_error_wrap(err, "hardlink target '%s' is missing",
				      extract_quote(target, q, sizeof(q)));
	}
	if (S_ISDIR(st.st_mode))
		return ocb_error_set(err, OCB_EUNSAFE, 0, "hardlink to directory '%s'",
				     extract_quote(target, q, sizeof(q)));
	if (fstatat(dfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_dev == st.st_dev &&
	    cur.st_ino == st.st_ino)
		goto done; /* already that file (a link to itself, a repeat) */
	if (linkat(tfd, tbase, dfd, base, 0) < 0) {
		if (errno != EEXIST)
			return ocb_error_sys(err, "cannot link to '%s'", extract_quote(target, q, sizeof(q)));
		if (extract_replace(x, dfd, base, err) < 0)
			return -1;
		if (linkat(tfd, tbase, dfd, base, 0) < 0)
			return ocb_error_sys(err, "cannot link to '%s'", extract_quote(target, q, sizeof(q)));
	}
done:
	x->stats.hardlinks++;
	return 0;
}

static int apply_entry(struct extractor *x, struct archive *a, struct tar_source *src,
		       struct archive_entry *e, struct ocb_error *err)
{
	const char *name = archive_entry_pathname(e);
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	const char *base;
	int dfd;

	if (!name)
		name = archive_entry_pathname_utf8(e);
	if (!hardlink)
		hardlink = archive_entry_hardlink_utf8(e);
	x->name = name; /* quoted only if there is an error to report */
	if (extract_clean_name(name, x->path, sizeof(x->path), err) < 0)
		return -1;
	if (!x->path[0]) {
		if (hardlink || type != AE_IFDIR)
			return ocb_error_set(err, OCB_EUNSAFE, 0, "a non-directory entry names the root");
		return root_dir(x, e, err);
	}
	if (extract_record(x, x->path, err) < 0)
		return -1;
	extract_split(x->path, x->dir, &base);
	if (!strncmp(base, ".wh.", 4))
		return extract_whiteout(x, x->dir, base, err);
	if (extract_parent(x, x->dir, &dfd, err) < 0)
		return -1;
	if (hardlink)
		return make_hardlink(x, hardlink, dfd, base, err);
	switch (type) {
	case AE_IFREG:
		return make_file(x, a, src, e, dfd, base, err);
	case AE_IFDIR:
		return make_dir(x, e, dfd, base, x->path, err);
	case AE_IFLNK:
		return make_symlink(x, e, dfd, base, err);
	case AE_IFIFO:
	case AE_IFCHR:
	case AE_IFBLK:
		return make_special(x, e, dfd, base, err);
	default:
		return ocb_error_set(err, OCB_EINVAL, 0, "unsupported entry type 0%o", (unsigned)type);
	}
}

/* Modes and times of the layer's directories, now that their children are
 * written.  A directory replaced later in the layer (other inode) is left. */
static int finish_dirs(struct extractor *x, struct ocb_error *err)
{
	for (size_t i = 0; i < x->ndirs; i++) {
		struct extract_dir_meta *m = &x->dirs[i];
		cleanup_close int fd = -1;
		struct stat st;

		fd = m->path[0]
			 ? extract_open_in_root(x->root_fd, m->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
			 : openat(x->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				continue;
			return ocb_error_sys(err, "cannot open directory '%s'", m->path);
		}
		if (fstat(fd, &st) < 0)
			return ocb_error_sys(err, "cannot stat directory '%s'", m->path);
		if (st.st_dev != m->dev || st.st_ino != m->ino)
			continue;
		if (fchmod(fd, m->mode) < 0)
			return ocb_error_sys(err, "cannot set the mode of '%s'", m->path);
		if (m->has_times && futimens(fd, m->times) < 0)
			return ocb_error_sys(err, "cannot set the times of '%s'", m->path);
	}
	return 0;
}

static void extractor_release(struct extractor *x)
{
	for (size_t i = 0; i < x->ndirs; i++)
		free(x->dirs[i].path);
	free(x->dirs);
	if (x->cached_fd >= 0)
		close(x->cached_fd);
	oci_pathset_release(&x->written);
}

static int extractor_init(struct extractor *x, int rootfs_fd, const struct oci_extract_opts *opts,
			  struct ocb_error *err)
{
	static const struct oci_extract_opts defaults;
	bool empty;

	if (!opts)
		opts = &defaults;
	x->root_fd = rootfs_fd;
	x->cached_fd = -1;
	x->lname = opts->name ? opts->name : "";
	x->max_bytes = opts->max_bytes ? opts->max_bytes : OCI_EXTRACT_DEFAULT_MAX_BYTES;
	x->max_entries = opts->max_entries ? opts->max_entries : OCI_EXTRACT_DEFAULT_MAX_ENTRIES;
	x->max_xattr = opts->max_xattr_size ? opts->max_xattr_size : OCI_EXTRACT_DEFAULT_MAX_XATTR_SIZE;
	x->max_stream = x->max_bytes > UINT64_MAX - STREAM_SLACK ? UINT64_MAX : x->max_bytes + STREAM_SLACK;
	x->budget = x->max_bytes;
	x->flags = opts->flags;
	x->privileged = geteuid() == 0;
	x->chown = x->privileged && !(opts->flags & OCI_EXTRACT_IGNORE_OWNERS);
	if (extract_dir_is_empty(rootfs_fd, &empty, err) < 0)
		return -1;
	/* Overlay whiteouts are kept, not applied: nothing to track. */
	x->track = !empty && !(opts->flags & OCI_EXTRACT_OVERLAY_WHITEOUTS);
	return 0;
}

static int run(struct extractor *x, struct archive *a, struct tar_source *src, struct ocb_error *err)
{
	struct archive_entry *e;

	if (archive_read_open(a, src, NULL, tar_source_read_cb, NULL) != ARCHIVE_OK)
		return archive_fail(a, src, err);
	for (;;) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		/* ARCHIVE_WARN (a name not in the locale's charset, a
		 * malformed pax record libarchive skipped) still gives an
		 * entry whose name we check like any other. */
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) /* ARCHIVE_RETRY: a damaged header */
			return archive_fail(a, src, err);
		if (++x->stats.entries > x->max_entries)
			return ocb_error_set(err, OCB_ELIMIT, 0, "more than %llu entries",
					     (unsigned long long)x->max_entries);
		if (apply_entry(x, a, src, e, err) < 0)
			return ocb_error_wrap(err, "entry '%s'",
					      extract_quote(x->name, x->qname, sizeof(x->qname)));
	}
	if (tar_source_finish(src, a, err) < 0)
		return -1;
	return finish_dirs(x, err);
}

int extract_stream(int rootfs_fd, const struct extract_input *in, const struct oci_digest *diff_id,
		   const struct oci_extract_opts *opts, struct oci_extract_stats *stats,
		   struct ocb_error *err)
{
	struct extractor *x = calloc(1, sizeof(*x));
	struct tar_source src = {0};
	struct archive *a = NULL;
	struct oci_digest got;
	int rc = -1;

	if (!x)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	x->cached_fd = -1;
	a = archive_read_new();
	if (!a) {
		ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		goto out;
	}
	if (extractor_init(x, rootfs_fd, opts, err) < 0 || tar_source_init(&src, in, x->max_stream, err) < 0)
		goto out;
	if (archive_read_support_format_tar(a) != ARCHIVE_OK) {
		ocb_error_set(err, OCB_EFAIL, 0, "libarchive: %s", archive_error_string(a));
		goto out;
	}
	if (run(x, a, &src, err) < 0)
		goto out;
	if (in->hash) {
		oci_hasher_final(&src.hasher, &got);
		if (diff_id && extract_check_diff_id(&got, diff_id, err) < 0)
			goto out;
		x->stats.diff_id = got;
	}
	x->stats.stream_bytes = src.total;
	if (stats)
		*stats = x->stats;
	rc = 0;
out:
	if (rc < 0 && *x->lname)
		ocb_error_wrap(err, "layer '%s'", x->lname);
	else if (rc < 0)
		ocb_error_wrap(err, "layer");
	if (a)
		archive_read_free(a);
	tar_source_release(&src);
	extractor_release(x);
	free(x);
	return rc;
}

int extract_check_diff_id(const struct oci_digest *got, const struct oci_digest *want, struct ocb_error *err)
{
	if (oci_digest_equal(got, want))
		return 0;
	return ocb_error_set(err, OCB_EDIGEST, 0, "content has diff_id '%s', expected '%s'", got->str,
			     want->str);
}

int oci_extract_stream(int rootfs_fd, oci_read_fn read, void *opaque, const struct oci_digest *diff_id,
		       const struct oci_extract_opts *opts, struct oci_extract_stats *stats,
		       struct ocb_error *err)
{
	struct extract_input in = {.read = read, .opaque = opaque, .hash = true};

	return extract_stream(rootfs_fd, &in, diff_id, opts, stats, err);
}
