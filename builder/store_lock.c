/* The store lock (see store_lock.h). */
#include "builder/store_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

#define LOCK_POLL_MS 50

static int flock_retry(int fd, int op)
{
	int rc;

	while ((rc = flock(fd, op)) < 0 && errno == EINTR)
		;
	return rc;
}

int flock_wait_exclusive(int fd, int timeout_ms)
{
	const struct timespec poll = {0, LOCK_POLL_MS * 1000L * 1000L};
	long waited_ms = 0;

	while (flock_retry(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return -1;
		if (waited_ms >= timeout_ms)
			return 1;
		nanosleep(&poll, NULL);
		waited_ms += LOCK_POLL_MS;
	}
	return 0;
}

static int open_lock(const char *root, int *fd, struct ocb_error *err)
{
	cleanup_free char *path = NULL;
	int f;

	if (asprintf(&path, "%s/%s", root, STORE_LOCK_FILE) < 0) {
		path = NULL;
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0 && (errno == EROFS || errno == EACCES)) /* flock works on a read-only fd */
		f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0)
		return ocb_error_sys(err, "cannot open the store lock '%s'", path);
	*fd = f;
	return 0;
}

int store_lock_shared(const char *root, int *fd, struct ocb_error *err)
{
	cleanup_close int f = -1;

	if (open_lock(root, &f, err) < 0)
		return -1;
	if (flock_retry(f, LOCK_SH) < 0)
		return ocb_error_sys(err, "cannot lock the store '%s'", root);
	*fd = steal_fd(&f);
	return 0;
}

int store_lock_exclusive(const char *root, int timeout_ms, int *fd, struct ocb_error *err)
{
	cleanup_close int f = -1;
	int rc;

	if (open_lock(root, &f, err) < 0)
		return -1;
	rc = flock_wait_exclusive(f, timeout_ms);
	if (rc < 0)
		return ocb_error_sys(err, "cannot lock the store '%s'", root);
	if (rc > 0)
		return ocb_error_set(
		    err, OCB_EENV, 0,
		    "store '%s' is in use by a running build, import, load or pull (waited %d "
		    "ms); try again when it finishes",
		    root, timeout_ms);
	*fd = steal_fd(&f);
	return 0;
}

void store_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
