/* Sizes of directory trees (see tree_size.h). */
#include "builder/tree_size.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/banned.h"

#define TREE_DEPTH_MAX 256

static uint64_t walk(int parent, const char *name, uint64_t *files, int depth)
{
	int fd = depth > TREE_DEPTH_MAX
		     ? -1
		     : openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	uint64_t total = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_size;
			if (files)
				(*files)++;
		} else if (S_ISDIR(st.st_mode)) {
			total += walk(dirfd(d), de->d_name, files, depth + 1);
		}
	}
	closedir(d);
	return total;
}

uint64_t tree_size_at(int dirfd, const char *name, uint64_t *files)
{
	return walk(dirfd, name, files, 0);
}
