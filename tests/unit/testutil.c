#include "testutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ocb_error test_err = OCB_ERROR_INIT;

char *testutil_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;

	if (asprintf(&path, "%s/ocb-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		fail_msg("asprintf");
	if (!mkdtemp(path))
		fail_msg("mkdtemp %s", path);
	return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void testutil_rmtree(const char *path)
{
	if (!path || !*path || !strcmp(path, "/"))
		return;
	nftw(path, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
}

void testutil_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		fail_msg("open %s", path);
	if (write(fd, data, len) != (ssize_t)len)
		fail_msg("write %s", path);
	close(fd);
}
