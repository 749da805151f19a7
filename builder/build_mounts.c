/* Persistent cache mounts (`cache = ["/root/.npm"]`): a host directory per
 * stage and path, never part of a layer, locked (flock) while a step uses
 * it so two builds never share one at the same time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/private_dir.h"
#include "oci/cleanup.h"
#include "oci/digest.h"
#include "oci/banned.h"

int build_mount_acquire(struct build *b, const char *stage, const char *path, char **host_dir, int *lock_fd,
			struct ocb_error *err)
{
	cleanup_free char *id = NULL;
	cleanup_free char *base = NULL;
	cleanup_free char *dir = NULL;
	cleanup_free char *lock = NULL;
	struct oci_digest d;
	int fd;

	if (asprintf(&id, "%s%c%s", stage, '\0', path) < 0 || asprintf(&base, "%s/cache-mounts", b->root) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_digest_buffer(id, strlen(stage) + 1 + strlen(path), &d, err) < 0)
		return -1;
	if (asprintf(&dir, "%s/%s", base, oci_digest_hex(&d)) < 0 ||
	    asprintf(&lock, "%s/%s.lock", base, oci_digest_hex(&d)) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (build_private_dir(base, err) < 0)
		return -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return ocb_error_sys(err, "mkdir '%s'", dir);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ocb_error_sys(err, "open '%s'", lock);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return ocb_error_sys(err, "lock '%s'", lock);
		}
	}
	*host_dir = steal_pointer(&dir);
	*lock_fd = fd;
	return 0;
}

void build_mount_release(int lock_fd)
{
	if (lock_fd >= 0)
		close(lock_fd);
}
