/* Publish a directory only once it is complete: fill a temp sibling, rename
 * it into place on success, remove it on failure.  A reader never sees a half
 * extracted tree under the final name. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/extract_internal.h"
#include "oci/banned.h"

#define TEMP_TRIES 16

int oci_remove_tree_at(int dirfd, const char *name, struct ocb_error *err)
{
	return extract_remove_at(dirfd, name, EXTRACT_REMOVE_MAX_DEPTH, err);
}

static bool valid_final_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
	       strlen(name) <= NAME_MAX - 16;
}

static int make_temp_dir(int parent_fd, const char *final_name, char *tmp, size_t size, struct ocb_error *err)
{
	for (int i = 0; i < TEMP_TRIES; i++) {
		uint32_t r;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return ocb_error_sys(err, "getrandom");
		snprintf(tmp, size, ".tmp-%s-%08x", final_name, r);
		if (mkdirat(parent_fd, tmp, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			return ocb_error_sys(err, "cannot create '%s'", tmp);
	}
	return ocb_error_set(err, OCB_EFAIL, EEXIST, "cannot create a temp directory for '%s'", final_name);
}

static int sync_and_publish(int parent_fd, int fd, const char *tmp, const char *final_name, unsigned flags,
			    struct ocb_error *err)
{
	cleanup_close int pfd = -1;

	if ((flags & OCI_EXTRACT_SYNC) && syncfs(fd) < 0)
		return ocb_error_sys(err, "cannot sync '%s'", tmp);
	if (renameat2(parent_fd, tmp, parent_fd, final_name, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			return ocb_error_set(err, OCB_EEXIST, EEXIST, "'%s' exists", final_name);
		return ocb_error_sys(err, "cannot rename '%s' to '%s'", tmp, final_name);
	}
	if (!(flags & OCI_EXTRACT_SYNC))
		return 0;
	pfd = openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || fsync(pfd) < 0)
		return ocb_error_sys(err, "cannot sync the directory of '%s'", final_name);
	return 0;
}

int oci_extract_into_new_dir(int parent_fd, const char *final_name, oci_fill_dir_fn fill, void *opaque,
			     unsigned flags, struct ocb_error *err)
{
	char tmp[NAME_MAX + 1];
	cleanup_close int fd = -1;
	struct ocb_error rerr = OCB_ERROR_INIT;

	if (!valid_final_name(final_name))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid directory name '%.80s'",
				     final_name ? final_name : "(null)");
	if (make_temp_dir(parent_fd, final_name, tmp, sizeof(tmp), err) < 0)
		return -1;
	fd = openat(parent_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ocb_error_sys(err, "cannot open '%s'", tmp);
		goto fail;
	}
	if (fill(fd, opaque, err) < 0 || sync_and_publish(parent_fd, fd, tmp, final_name, flags, err) < 0)
		goto fail;
	return 0;
fail:
	/* The first error is the one to report; a failed removal leaves a
	 * .tmp- directory that nothing trusts. */
	oci_remove_tree_at(parent_fd, tmp, &rerr);
	return -1;
}
