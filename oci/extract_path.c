/* Name cleaning, in-root resolution and safe removal for the layer extractor.
 *
 * Everything here works on directory fds with *at() calls: a path is only ever
 * resolved by openat2(RESOLVE_IN_ROOT) from the root fd, or as a single
 * component (never '.', '..' or containing '/') relative to a directory fd
 * that was itself resolved in the root. */
#include "oci/extract_path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

int extract_clean_name(const char *name, char *out, size_t size, struct ocb_error *err)
{
	size_t len = 0;
	const char *p = name;

	if (!name || !*name)
		return ocb_error_set(err, OCB_EINVAL, 0, "empty name");
	while (*p) {
		const char *start;
		size_t clen;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - start);
		if (clen == 0 || (clen == 1 && start[0] == '.'))
			continue;
		if (clen == 2 && start[0] == '.' && start[1] == '.')
			return ocb_error_set(err, OCB_EUNSAFE, 0, "'..' escapes the root");
		if (clen > NAME_MAX)
			return ocb_error_set(err, OCB_ELIMIT, 0, "name component longer than %d bytes",
					     NAME_MAX);
		/* Room for the separator, the component and the final NUL. */
		if (len + (len ? 1 : 0) + clen + 1 > size || len + (len ? 1 : 0) + clen >= PATH_MAX)
			return ocb_error_set(err, OCB_ELIMIT, 0, "name longer than %d bytes", PATH_MAX - 1);
		if (len)
			out[len++] = '/';
		memcpy(out + len, start, clen);
		len += clen;
	}
	out[len] = '\0';
	return 0;
}

const char *extract_quote(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size < 8) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (o + 5 >= size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o] = '\0';
	return buf;
}

void extract_split(const char *path, char *dir, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;

	memcpy(dir, path, len);
	dir[len] = '\0';
	*base = slash ? slash + 1 : path;
}

int extract_open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd;

	if (!*path)
		path = ".";
	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	return (int)fd;
}

/* The deepest existing prefix of dir (cleaned, missing), resolved in the
 * root: *fd gets it, *done the length of dir it covers.  Walking back from the
 * end costs one resolution per missing level, not one per level. */
static int open_deepest_prefix(int rootfd, const char *dir, int *fd, size_t *done, struct ocb_error *err)
{
	char prefix[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(prefix))
		return ocb_error_set(err, OCB_ELIMIT, 0, "name too long");
	memcpy(prefix, dir, len + 1);
	for (;;) {
		char *slash = strrchr(prefix, '/');
		if (slash)
			*slash = '\0';
		else
			prefix[0] = '\0';
		*fd = extract_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
		if (*fd >= 0) {
			*done = strlen(prefix);
			return 0;
		}
		if (errno != ENOENT || !prefix[0]) {
			if (errno == ENOTDIR || errno == ELOOP)
				return ocb_error_set(err, OCB_EINVAL, errno, "parent '%s' is not a directory",
						     prefix);
			return ocb_error_sys(err, "cannot open directory '%s'", prefix);
		}
	}
}

/* Slow path of extract_open_dir: make the missing components of dir.  Each
 * is made with mkdirat on the fd of its parent, which is in the root; a
 * directory we just made is empty and real, so the next component is opened
 * relative to it without following anything.  A component that appeared
 * meanwhile or is a dangling symlink (mkdirat EEXIST) is resolved in the root
 * afresh, and refused if it does not lead to a directory. */
static int open_dir_creating(int rootfd, const char *dir, int *out, bool *created, struct ocb_error *err)
{
	cleanup_close int parent = -1;
	size_t done = 0;
	const char *p;

	if (open_deepest_prefix(rootfd, dir, &parent, &done, err) < 0)
		return -1;
	p = dir + done + (done ? 1 : 0);
	while (*p) {
		const char *end = strchr(p, '/');
		size_t clen = end ? (size_t)(end - p) : strlen(p);
		size_t plen = (size_t)(p - dir) + clen;
		char comp[NAME_MAX + 1], prefix[PATH_MAX];
		int fd;

		if (clen > NAME_MAX)
			return ocb_error_set(err, OCB_ELIMIT, 0, "name component longer than %d bytes",
					     NAME_MAX);
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		memcpy(prefix, dir, plen);
		prefix[plen] = '\0';
		if (mkdirat(parent, comp, 0755) == 0) {
			*created = true;
			fd = openat(parent, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		} else if (errno == EEXIST) {
			fd = extract_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
		} else {
			return ocb_error_sys(err, "cannot create directory '%s'", prefix);
		}
		if (fd < 0) {
			if (errno == ENOTDIR || errno == ENOENT || errno == ELOOP)
				return ocb_error_set(err, OCB_EINVAL, errno,
						     "parent '%s' is not a directory (or a dangling symlink)",
						     prefix);
			return ocb_error_sys(err, "cannot open directory '%s'", prefix);
		}
		close(parent);
		parent = fd;
		p = end ? end + 1 : p + clen;
	}
	*out = steal_fd(&parent);
	return 0;
}

int extract_open_dir(int rootfd, const char *dir, bool create, int *out, bool *created, struct ocb_error *err)
{
	int fd = extract_open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);

	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (errno == ENOENT && create)
		return open_dir_creating(rootfd, dir, out, created, err);
	if (errno == ENOENT)
		return ocb_error_set(err, OCB_ENOTFOUND, ENOENT, "directory '%s' does not exist", dir);
	if (errno == ENOTDIR || errno == ELOOP)
		return ocb_error_set(err, OCB_EINVAL, errno, "parent '%s' is not a directory", dir);
	return ocb_error_sys(err, "cannot open directory '%s'", dir);
}

/* One directory on the way down: its identity (to check the way back up)
 * and its name in its parent. */
struct rm_level {
	dev_t dev;
	ino_t ino;
	char name[NAME_MAX + 1];
};

/* Remove one entry of directory d that is not a non-empty directory; *dir
 * tells that it is one (to descend into). */
static int remove_entry(DIR *d, const char *name, bool *dir, struct ocb_error *err)
{
	*dir = false;
	if (unlinkat(dirfd(d), name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return ocb_error_sys(err, "cannot remove '%s'", name);
	if (unlinkat(dirfd(d), name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return ocb_error_sys(err, "cannot remove directory '%s'", name);
	*dir = true;
	return 0;
}

/* Empty the directory fd (consumed) depth-first without recursion, holding
 * one directory fd at a time: down with openat(O_NOFOLLOW), back up with
 * "..", checked against the inode we came from.  depth bounds the levels
 * (and the memory for their names). */
static int remove_children(int fd, unsigned depth, struct ocb_error *err)
{
	struct rm_level *stack = NULL;
	size_t top = 0, cap = 0;
	DIR *d = NULL;
	int rc = -1;

	for (;;) {
		struct dirent *de;
		struct stat st;
		bool dir = false;
		int up;

		d = fdopendir(fd);
		if (!d) {
			close(fd);
			ocb_error_sys(err, "cannot read directory");
			goto out;
		}
		for (;;) {
			errno = 0;
			de = readdir(d);
			if (!de)
				break;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (remove_entry(d, de->d_name, &dir, err) < 0)
				goto out;
			if (dir)
				break;
		}
		if (!de && errno) {
			ocb_error_sys(err, "cannot read directory");
			goto out;
		}
		if (dir) { /* down into de->d_name */
			if (top == depth) {
				ocb_error_set(err, OCB_ELIMIT, 0, "directory tree deeper than %u levels",
					      depth);
				goto out;
			}
			if (top == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct rm_level *n = reallocarray(stack, ncap, sizeof(*stack));
				if (!n) {
					ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
					goto out;
				}
				stack = n;
				cap = ncap;
			}
			if (fstat(dirfd(d), &st) < 0) {
				ocb_error_sys(err, "cannot stat directory");
				goto out;
			}
			stack[top].dev = st.st_dev;
			stack[top].ino = st.st_ino;
			snprintf(stack[top].name, sizeof(stack[top].name), "%s", de->d_name);
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				ocb_error_sys(err, "cannot open directory '%s'", stack[top].name);
				goto out;
			}
			top++;
			closedir(d);
			continue;
		}
		if (top == 0) { /* the starting directory is empty */
			rc = 0;
			goto out;
		}
		/* Empty: back up, check it is the directory we came from, rmdir. */
		up = openat(dirfd(d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		closedir(d);
		d = NULL;
		top--;
		if (up < 0 || fstat(up, &st) < 0 || st.st_dev != stack[top].dev ||
		    st.st_ino != stack[top].ino) {
			if (up >= 0)
				close(up);
			ocb_error_set(err, OCB_EFAIL, errno, "directory tree changed while removing it");
			goto out;
		}
		if (unlinkat(up, stack[top].name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			ocb_error_sys(err, "cannot remove directory '%s'", stack[top].name);
			close(up);
			goto out;
		}
		fd = up;
	}
out:
	if (d)
		closedir(d);
	free(stack);
	return rc;
}

int extract_remove_at(int dirfd, const char *name, unsigned depth, struct ocb_error *err)
{
	int fd;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return ocb_error_sys(err, "cannot remove '%s'", name);
	/* O_NOFOLLOW|O_DIRECTORY: only a real directory is descended into. */
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ocb_error_sys(err, "cannot remove '%s'", name);
	if (remove_children(fd, depth, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ocb_error_sys(err, "cannot remove directory '%s'", name);
	return 0;
}

int extract_dir_is_empty(int dirfd, bool *empty, struct ocb_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	bool result = true;

	if (fd < 0)
		return ocb_error_sys(err, "cannot open the root");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ocb_error_sys(err, "cannot read the root");
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			result = false;
			break;
		}
	}
	if (result && errno) {
		closedir(d);
		return ocb_error_sys(err, "cannot read the root");
	}
	closedir(d);
	*empty = result;
	return 0;
}
