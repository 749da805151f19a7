#include "builder/private_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

int build_private_dir(const char *path, struct ocb_error *err)
{
	cleanup_close int fd = -1;
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return ocb_error_sys(err, "mkdir '%s'", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return ocb_error_set(err, OCB_EENV, errno, "'%s' is not a directory", path);
		return ocb_error_sys(err, "open '%s'", path);
	}
	if (fstat(fd, &st) < 0)
		return ocb_error_sys(err, "stat '%s'", path);
	if (st.st_uid != geteuid())
		return ocb_error_set(err, OCB_EENV, 0,
				     "'%s' belongs to uid %u, not to us: another user could reach what "
				     "builds put there",
				     path, (unsigned)st.st_uid);
	if ((st.st_mode & 077) && fchmod(fd, st.st_mode & 07700) < 0)
		return ocb_error_sys(err, "chmod '%s'", path);
	return 0;
}

int build_private_mkdtemp(const char *parent, const char *prefix, char **out, struct ocb_error *err)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s-XXXXXX", parent, prefix) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (!mkdtemp(path)) {
		ocb_error_sys(err, "mkdtemp '%s'", path);
		free(path);
		return -1;
	}
	*out = path;
	return 0;
}
