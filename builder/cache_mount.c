/* Persistent cache mounts: mounts/<sha256(id NUL path)>/, locked while used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/cache_impl.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

/* The directory name for (id, path): the hex of sha256(id NUL path). */
static int mount_name(const char *id, const char *path, struct oci_digest *out, struct ocb_error *err)
{
	size_t a = strlen(id), b = strlen(path);
	cleanup_free char *buf = NULL;

	if (a > SIZE_MAX / 2 || b > SIZE_MAX / 2)
		return ocb_error_set(err, OCB_ELIMIT, 0, "cache mount name too long");
	buf = malloc(a + 1 + b);
	if (!buf)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	memcpy(buf, id, a);
	buf[a] = '\0';
	memcpy(buf + a + 1, path, b);
	return oci_digest_buffer(buf, a + 1 + b, out, err);
}

/* mounts/ must be ours and closed to other users, whoever made it: steps
 * leave setuid-root files and device nodes there (docs/security.md). */
static int mounts_private(struct build_cache *c, struct ocb_error *err)
{
	struct stat st;

	if (fstat(c->mounts_fd, &st) < 0)
		return ocb_error_sys(err, "cache '%s': cannot stat 'mounts'", c->path);
	if (st.st_uid != geteuid())
		return ocb_error_set(
		    err, OCB_EENV, 0,
		    "cache '%s': 'mounts' belongs to uid %u, not to us: another user could reach "
		    "what builds put there",
		    c->path, (unsigned)st.st_uid);
	if ((st.st_mode & 077) && fchmod(c->mounts_fd, st.st_mode & 07700) < 0)
		return ocb_error_sys(err, "cache '%s': cannot chmod 'mounts'", c->path);
	return 0;
}

int cache_mount_acquire(struct build_cache *c, const char *id, const char *path, char **host_dir,
			int *lock_fd, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *dir = NULL;
	struct oci_digest name;
	const char *hex;

	if (mount_name(id, path, &name, err) < 0)
		return -1;
	hex = oci_digest_hex(&name);
	if (mounts_private(c, err) < 0)
		return -1;
	if (mkdirat(c->mounts_fd, hex, 0755) < 0 && errno != EEXIST)
		return ocb_error_sys(err, "cache mount '%s' of '%s': cannot create its directory", path, id);
	fd = openat(c->mounts_fd, hex, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ocb_error_sys(err, "cache mount '%s' of '%s': cannot open its directory", path, id);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return ocb_error_sys(err, "cache mount '%s' of '%s': cannot lock it", path, id);
	}
	if (asprintf(&dir, "%s/mounts/%s", c->path, hex) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*host_dir = steal_pointer(&dir);
	*lock_fd = steal_fd(&fd);
	return 0;
}

void cache_mount_release(int lock_fd)
{
	if (lock_fd >= 0)
		close(lock_fd);
}
