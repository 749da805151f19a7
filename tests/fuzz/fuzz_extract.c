/* libFuzzer target for the layer extractor: the input is a tar applied to a
 * fresh temp rootfs that already holds lower content (so whiteouts and opaque
 * markers act), beside a victim file and a victim directory.  Rejected input
 * is fine; a crash, a leak, or any change outside the rootfs is a bug
 * (abort). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/extract.h"
#include "oci/extract_internal.h"
#include "oci/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *data;
	size_t size, off;
};

static ssize_t input_read(void *opaque, void *buf, size_t len, struct ocb_error *err)
{
	struct input *in = opaque;
	size_t n = in->size - in->off;

	(void)err;
	/* Small reads exercise the stream bookkeeping. */
	if (n > len)
		n = len;
	if (n > 4096)
		n = 4096;
	memcpy(buf, in->data + in->off, n);
	in->off += n;
	return (ssize_t)n;
}

/* Zero-copy, as the read-ahead ring lends its chunks: pointers into the
 * input, valid until the next call. */
static ssize_t input_borrow(void *opaque, const void **buf, struct ocb_error *err)
{
	struct input *in = opaque;
	size_t n = in->size - in->off;

	(void)err;
	if (n > 4096)
		n = 4096;
	if (n) /* like the ring: nothing is lent at the end */
		*buf = in->data + in->off;
	in->off += n;
	return (ssize_t)n;
}

static void make_file(int dirfd, const char *name, const char *content)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		abort();
	close(fd);
}

static int count_entries(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;

	if (!d)
		abort();
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void check_victims(int topfd, const struct stat *victim)
{
	struct stat st;
	char buf[16] = {0};
	int fd;

	if (count_entries(topfd, ".") != 3 || count_entries(topfd, "victimdir") != 0)
		abort();
	if (fstatat(topfd, "victim", &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != victim->st_ino ||
	    st.st_size != 6 || st.st_mode != victim->st_mode || st.st_mtim.tv_sec != victim->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != victim->st_mtim.tv_nsec)
		abort();
	fd = openat(topfd, "victim", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 6 || memcmp(buf, "secret", 6))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	struct oci_extract_opts opts = {.max_bytes = 16 << 20, .max_entries = 10000};
	struct ocb_error err = OCB_ERROR_INIT;
	struct input in = {data, size, 0};
	char top[4096];
	struct stat victim;
	int topfd, rootfd;

	snprintf(top, sizeof(top), "%s/ocb-fuzz-extract-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(top))
		abort();
	topfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0 || mkdirat(topfd, "rootfs", 0755) < 0 || mkdirat(topfd, "victimdir", 0755) < 0)
		abort();
	make_file(topfd, "victim", "secret");
	if (fstatat(topfd, "victim", &victim, 0) < 0)
		abort();
	rootfd = openat(topfd, "rootfs", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || mkdirat(rootfd, "etc", 0755) < 0 || mkdirat(rootfd, "etc/sub", 0755) < 0 ||
	    symlinkat("../victim", rootfd, "out") < 0 || symlinkat("/", rootfd, "root") < 0 ||
	    symlinkat("../../victimdir", rootfd, "etc/outdir") < 0)
		abort();
	make_file(rootfd, "etc/lower", "lower");

	/* Both ways the extractor takes its input: copied and borrowed. */
	if (size % 2) {
		struct extract_input src = {.borrow = input_borrow, .opaque = &in, .hash = true};
		extract_stream(rootfd, &src, NULL, &opts, NULL, &err);
	} else {
		oci_extract_stream(rootfd, input_read, &in, NULL, &opts, NULL, &err);
	}

	check_victims(topfd, &victim);
	close(rootfd);
	if (oci_remove_tree_at(topfd, "rootfs", &err) < 0)
		abort();
	unlinkat(topfd, "victim", 0);
	unlinkat(topfd, "victimdir", AT_REMOVEDIR);
	close(topfd);
	if (rmdir(top) < 0)
		abort();
	return 0;
}
