/* Layer extraction: normal layers, whiteouts, opaque directories, layering,
 * corrupt and truncated tars, the blob wrapper and the new-directory helper.
 * The malicious corpus is in test_extract_unsafe.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tartest.h"
#include "oci/blobstore.h"
#include "oci/compress.h"
#include "oci/extract.h"
#include "oci/pathset.h"

struct fx {
	char *dir;
	int rootfd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[4096];

	f->dir = testutil_mkdtemp();
	snprintf(path, sizeof(path), "%s/rootfs", f->dir);
	if (mkdir(path, 0755) < 0)
		fail_msg("mkdir");
	f->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->rootfd);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void test_extract_normal_layer(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'd', .name = "./", .mode = 0755},
	    {.type = 'd', .name = "etc/", .mode = 0750, .mtime = 1500000000},
	    {.type = 'f', .name = "etc/passwd", .arg = "root:x:0:0\n", .mode = 0644, .mtime = 1400000000},
	    {.type = 'f', .name = "/usr/bin/su", .arg = "ELF", .mode = 04755, .uid = 0, .gid = 0},
	    {.type = 'f', .name = "home/u/file", .arg = "mine", .uid = 1234, .gid = 2345},
	    {.type = 'd', .name = "tmp", .mode = 01777},
	    {.type = 'l', .name = "bin", .arg = "usr/bin", .mtime = 1300000000},
	    {.type = 'h', .name = "etc/passwd-link", .arg = "etc/passwd"},
	    {.type = 'p', .name = "run/fifo", .mode = 0600},
	    {.type = 'c', .name = "dev/null", .arg = "1:3", .mode = 0666},
	};
	size_t n = sizeof(layer) / sizeof(layer[0]), len;
	struct oci_extract_stats st;
	struct stat s1, s2;
	char link[64];
	char *tar;
	ssize_t ll;

	tar = tar_build(layer, n, &len);
	assert_ok(tar_extract(f->rootfd, tar, len, NULL, &st, &test_err));
	free(tar);

	assert_int_equal(st.entries, n);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.hardlinks, 1);
	assert_int_equal(st.symlinks, 1);
	assert_true(st.stream_bytes > 0);
	assert_content_at(f->rootfd, "etc/passwd", "root:x:0:0\n");
	assert_content_at(f->rootfd, "usr/bin/su", "ELF");

	assert_int_equal(fstatat(f->rootfd, "etc/passwd", &s1, 0), 0);
	assert_int_equal(s1.st_mode & 07777, 0644);
	assert_int_equal(s1.st_mtim.tv_sec, 1400000000);
	assert_int_equal(fstatat(f->rootfd, "etc/passwd-link", &s2, 0), 0);
	assert_int_equal(s1.st_ino, s2.st_ino);
	assert_int_equal(s1.st_nlink, 2);

	assert_int_equal(fstatat(f->rootfd, "etc", &s1, 0), 0);
	assert_int_equal(s1.st_mode & 07777, 0750);
	assert_int_equal(s1.st_mtim.tv_sec, 1500000000); /* set after its children */

	assert_int_equal(fstatat(f->rootfd, "usr/bin/su", &s1, 0), 0);
	assert_int_equal(s1.st_mode & 07777, 04755);
	assert_int_equal(fstatat(f->rootfd, "tmp", &s1, 0), 0);
	assert_int_equal(s1.st_mode & 07777, 01777);
	assert_int_equal(fstatat(f->rootfd, "home/u/file", &s1, 0), 0);
	if (geteuid() == 0) {
		assert_int_equal(s1.st_uid, 1234);
		assert_int_equal(s1.st_gid, 2345);
	}
	/* A parent without its own entry is made 0755. */
	assert_int_equal(fstatat(f->rootfd, "home/u", &s1, 0), 0);
	assert_true(S_ISDIR(s1.st_mode));
	assert_int_equal(s1.st_mode & 07777, 0755);

	ll = readlinkat(f->rootfd, "bin", link, sizeof(link) - 1);
	assert_int_equal(ll, 7);
	link[ll] = '\0';
	assert_string_equal(link, "usr/bin");
	assert_int_equal(fstatat(f->rootfd, "bin", &s1, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(s1.st_mtim.tv_sec, 1300000000);

	assert_int_equal(fstatat(f->rootfd, "run/fifo", &s1, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(s1.st_mode));
	assert_int_equal(s1.st_mode & 07777, 0600);
	if (geteuid() == 0) {
		assert_int_equal(fstatat(f->rootfd, "dev/null", &s1, AT_SYMLINK_NOFOLLOW), 0);
		assert_true(S_ISCHR(s1.st_mode));
		assert_int_equal(major(s1.st_rdev), 1);
		assert_int_equal(minor(s1.st_rdev), 3);
		assert_int_equal(st.skipped_devices, 0);
	}
}

static void test_extract_xattrs(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'f', .name = "f", .arg = "x", .xattr_name = "user.test", .xattr_value = "hello"},
	    {.type = 'd', .name = "d", .xattr_name = "user.dir", .xattr_value = "v"},
	    {.type = 'f',
	     .name = "o",
	     .arg = "x",
	     .xattr_name = "trusted.overlay.opaque",
	     .xattr_value = "y"},
	    {.type = 'f',
	     .name = "u",
	     .arg = "x",
	     .xattr_name = "user.overlay.redirect",
	     .xattr_value = "/etc"},
	    {0},
	};
	struct oci_extract_stats st;
	char val[64] = {0};
	char path[4096];
	size_t len;
	char *tar = tar_build(layer, 0, &len);
	ssize_t n;

	assert_ok(tar_extract(f->rootfd, tar, len, NULL, &st, &test_err));
	free(tar);
	/* trusted.overlay.* and user.overlay.* never come from a tar (each is
	 * counted per pax record: libarchive writes SCHILY. and LIBARCHIVE.). */
	assert_true(st.skipped_xattrs >= 2);
	snprintf(path, sizeof(path), "%s/rootfs/o", f->dir);
	assert_true(getxattr(path, "trusted.overlay.opaque", val, sizeof(val)) < 0);
	snprintf(path, sizeof(path), "%s/rootfs/u", f->dir);
	assert_true(getxattr(path, "user.overlay.redirect", val, sizeof(val)) < 0);
	snprintf(path, sizeof(path), "%s/rootfs/f", f->dir);
	n = getxattr(path, "user.test", val, sizeof(val));
	if (n < 0 && errno == ENOTSUP)
		skip();
	assert_int_equal(n, 5);
	assert_memory_equal(val, "hello", 5);
	snprintf(path, sizeof(path), "%s/rootfs/d", f->dir);
	assert_int_equal(getxattr(path, "user.dir", val, sizeof(val)), 1);
}

static void test_extract_xattr_too_large(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'f', .name = "f", .arg = "x", .xattr_name = "user.big", .xattr_value = "0123456789"},
	    {0},
	};
	struct oci_extract_opts opts = {.max_xattr_size = 4};

	assert_int_equal(tar_apply(f->rootfd, layer, &opts, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ELIMIT);
}

/* Two layers in order: whiteouts and an opaque directory hide the lower
 * layer's entries, but not the upper layer's own, before or after the
 * marker. */
static void test_extract_whiteouts_and_opaque(void **state)
{
	struct fx *f = *state;
	const struct tspec lower[] = {
	    {.type = 'd', .name = "a"},
	    {.type = 'f', .name = "a/f1", .arg = "1"},
	    {.type = 'f', .name = "a/f2", .arg = "2"},
	    {.type = 'd', .name = "b"},
	    {.type = 'f', .name = "b/old", .arg = "old"},
	    {.type = 'd', .name = "b/sub"},
	    {.type = 'f', .name = "b/sub/deep", .arg = "deep"},
	    {.type = 'd', .name = "b/gone"},
	    {.type = 'f', .name = "b/gone/x", .arg = "x"},
	    {.type = 'f', .name = "c", .arg = "c"},
	    {.type = 'd', .name = "d"},
	    {.type = 'f', .name = "d/x", .arg = "x"},
	    {0},
	};
	const struct tspec upper[] = {
	    {.type = 'f', .name = "a/.wh.f1"},
	    {.type = 'f', .name = ".wh.c"},
	    {.type = 'f', .name = ".wh.d"},
	    {.type = 'f', .name = "b/new", .arg = "before"},
	    {.type = 'd', .name = "b/sub"},
	    {.type = 'f', .name = "b/.wh..wh..opq"},
	    {.type = 'f', .name = "b/new2", .arg = "after"},
	    {.type = 'f', .name = "a/.wh.nonexistent"},
	    {.type = 'f', .name = "a/.wh..wh.plnk"},
	    {0},
	};
	struct oci_extract_stats st;
	size_t len;
	char *tar;

	assert_ok(tar_apply(f->rootfd, lower, NULL, &test_err));
	tar = tar_build(upper, 0, &len);
	assert_ok(tar_extract(f->rootfd, tar, len, NULL, &st, &test_err));
	free(tar);
	assert_int_equal(st.whiteouts, 6);
	assert_false(exists_at(f->rootfd, "a/f1"));
	assert_content_at(f->rootfd, "a/f2", "2");
	assert_false(exists_at(f->rootfd, "a/.wh.f1"));
	assert_false(exists_at(f->rootfd, "c"));
	assert_false(exists_at(f->rootfd, "d"));
	assert_content_at(f->rootfd, "b/new", "before");
	assert_content_at(f->rootfd, "b/new2", "after");
	assert_false(exists_at(f->rootfd, "b/old"));
	assert_false(exists_at(f->rootfd, "b/gone"));
	assert_true(exists_at(f->rootfd, "b/sub"));
	assert_false(exists_at(f->rootfd, "b/sub/deep"));
	assert_false(exists_at(f->rootfd, "b/.wh..wh..opq"));
}

/* Into an empty root there is nothing lower: whiteouts change nothing, and
 * the layer's own entries survive them. */
static void test_extract_whiteout_fresh_root(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'd', .name = "d"},
	    {.type = 'f', .name = "d/keep", .arg = "k"},
	    {.type = 'f', .name = "d/.wh..wh..opq"},
	    {.type = 'f', .name = "d/.wh.keep"},
	    {0},
	};

	assert_ok(tar_apply(f->rootfd, layer, NULL, &test_err));
	assert_content_at(f->rootfd, "d/keep", "k");
}

/* A whiteout of a path the same layer wrote does not hide it. */
static void test_extract_whiteout_own_path(void **state)
{
	struct fx *f = *state;
	const struct tspec lower[] = {{.type = 'f', .name = "lower", .arg = "l"}, {0}};
	const struct tspec upper[] = {
	    {.type = 'd', .name = "d"},		{.type = 'f', .name = "d/x", .arg = "mine"},
	    {.type = 'f', .name = "d/.wh.x"},	{.type = 'f', .name = ".wh.d"},
	    {.type = 'f', .name = ".wh.lower"}, {0},
	};

	assert_ok(tar_apply(f->rootfd, lower, NULL, &test_err));
	assert_ok(tar_apply(f->rootfd, upper, NULL, &test_err));
	assert_content_at(f->rootfd, "d/x", "mine");
	assert_false(exists_at(f->rootfd, "lower"));
}

/* Overlay form: whiteouts become 0/0 devices, opaque markers an xattr. */
static void test_extract_overlay_whiteouts(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'f', .name = "a/.wh.gone"},
	    {.type = 'f', .name = "b/.wh..wh..opq"},
	    {.type = 'f', .name = "b/kept", .arg = "k"},
	    {0},
	};
	struct oci_extract_opts opts = {.flags = OCI_EXTRACT_OVERLAY_WHITEOUTS};
	char path[4096], val[8] = {0};
	struct stat st;

	if (geteuid() != 0)
		skip();
	assert_ok(tar_apply(f->rootfd, layer, &opts, &test_err));
	assert_int_equal(fstatat(f->rootfd, "a/gone", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	snprintf(path, sizeof(path), "%s/rootfs/b", f->dir);
	assert_int_equal(getxattr(path, "trusted.overlay.opaque", val, sizeof(val)), 1);
	assert_int_equal(val[0], 'y');
	assert_content_at(f->rootfd, "b/kept", "k");
}

/* A tree 1800 levels deep: made from one entry, removed by a whiteout of the
 * next layer, with 64 fds allowed (removal holds one directory at a time). */
static void test_extract_deep_tree(void **state)
{
	struct fx *f = *state;
	size_t levels = 1800, len = 0;
	char *deep = malloc(levels * 2 + 8);
	pid_t pid;
	int status;

	for (size_t i = 0; i < levels; i++) {
		memcpy(deep + len, "a/", 2);
		len += 2;
	}
	memcpy(deep + len, "f", 2);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {64, 64};
		const struct tspec lower[] = {{.type = 'f', .name = deep, .arg = "deep"}, {0}};
		const struct tspec upper[] = {{.type = 'f', .name = ".wh.a"}, {0}};
		struct ocb_error err = OCB_ERROR_INIT;

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(10);
		if (tar_apply(f->rootfd, lower, NULL, &err) < 0)
			_exit(11);
		if (!exists_at(f->rootfd, deep))
			_exit(12);
		if (tar_apply(f->rootfd, upper, NULL, &err) < 0)
			_exit(13);
		if (exists_at(f->rootfd, "a"))
			_exit(14);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(deep);
}

static void test_extract_replaces_entries(void **state)
{
	struct fx *f = *state;
	const struct tspec lower[] = {
	    {.type = 'd', .name = "x"},
	    {.type = 'f', .name = "x/in", .arg = "in"},
	    {.type = 'f', .name = "y", .arg = "y"},
	    {.type = 'l', .name = "z", .arg = "/nowhere"},
	    {0},
	};
	const struct tspec upper[] = {
	    {.type = 'f', .name = "x", .arg = "file now"},
	    {.type = 'd', .name = "y"},
	    {.type = 'f', .name = "z", .arg = "not through the link"},
	    {0},
	};
	struct stat s;

	assert_ok(tar_apply(f->rootfd, lower, NULL, &test_err));
	assert_ok(tar_apply(f->rootfd, upper, NULL, &test_err));
	assert_content_at(f->rootfd, "x", "file now");
	assert_int_equal(fstatat(f->rootfd, "y", &s, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(s.st_mode));
	assert_content_at(f->rootfd, "z", "not through the link");
}

static void test_extract_truncated_and_corrupt(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'f', .name = "a", .arg = "0123456789abcdef0123456789abcdef"},
	    {.type = 'f', .name = "b", .arg = "b"},
	    {0},
	};
	struct ocb_error err = OCB_ERROR_INIT;
	size_t len;
	char *tar = tar_build(layer, 0, &len);
	char *bad;

	/* Cut inside a's data, at the entry boundary before b, inside b's
	 * header, and just before the end marker. */
	assert_int_equal(tar_extract(f->rootfd, tar, 512 * 3 + 10, NULL, NULL, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_non_null(strstr(err.msg, "layer"));
	for (size_t cut = 512; cut < len; cut += 512) {
		int rc = tar_extract(f->rootfd, tar, cut, NULL, NULL, &err);
		/* Every prefix that does not end with the zero blocks fails. */
		if (rc == 0) {
			bool zeros = true;
			for (size_t i = cut - 512; i < cut; i++)
				zeros = zeros && tar[i] == 0;
			assert_true(zeros);
		} else {
			assert_true(err.code == OCB_EINVAL);
		}
	}
	assert_int_equal(tar_extract(f->rootfd, tar, 0, NULL, NULL, &err), -1);

	/* A flipped byte in the second header breaks its checksum. */
	bad = malloc(len);
	memcpy(bad, tar, len);
	for (size_t off = 512; off < len; off += 512)
		if (!memcmp(bad + off + 257, "ustar", 5) && bad[off] == 'b') {
			bad[off + 1] ^= 0x55;
			break;
		}
	assert_int_equal(tar_extract(f->rootfd, bad, len, NULL, NULL, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_non_null(strstr(err.msg, "corrupt tar"));

	/* Non-zero data after the end marker. */
	memcpy(bad, tar, len);
	bad[len - 1] = 'X';
	assert_int_equal(tar_extract(f->rootfd, bad, len, NULL, NULL, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_non_null(strstr(err.msg, "after the end"));
	free(bad);

	/* The whole tar, read one byte at a time, is fine. */
	{
		struct memsrc m = {tar, len, 0, 1};
		assert_ok(oci_extract_stream(f->rootfd, memsrc_read, &m, NULL, NULL, NULL, &test_err));
	}
	free(tar);
}

static void test_extract_diff_id(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {{.type = 'f', .name = "a", .arg = "a"}, {0}};
	struct oci_extract_stats st;
	struct oci_digest want, wrong;
	struct memsrc m;
	size_t len;
	char *tar = tar_build(layer, 0, &len);

	assert_ok(oci_digest_buffer(tar, len, &want, &test_err));
	m = (struct memsrc){tar, len, 0, 0};
	assert_ok(oci_extract_stream(f->rootfd, memsrc_read, &m, &want, NULL, &st, &test_err));
	assert_true(oci_digest_equal(&st.diff_id, &want));
	assert_ok(oci_digest_buffer("x", 1, &wrong, &test_err));
	m = (struct memsrc){tar, len, 0, 0};
	assert_int_equal(oci_extract_stream(f->rootfd, memsrc_read, &m, &wrong, NULL, &st, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EDIGEST);
	free(tar);
}

static void test_pathset(void **state)
{
	struct oci_pathset set = {0};
	char path[64];
	bool added;

	(void)state;
	assert_false(oci_pathset_has(&set, "a", 1));
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(path, sizeof(path), "dir%d/file%d", i % 97, i);
		assert_ok(oci_pathset_add(&set, path, (size_t)n, &added, &test_err));
		assert_true(added);
	}
	assert_int_equal(set.count, 100000);
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(path, sizeof(path), "dir%d/file%d", i % 97, i);
		assert_true(oci_pathset_has(&set, path, (size_t)n));
		assert_ok(oci_pathset_add(&set, path, (size_t)n, &added, &test_err));
		assert_false(added);
		n = snprintf(path, sizeof(path), "dir%d/file%d", i % 97 + 1, i);
		assert_false(oci_pathset_has(&set, path, (size_t)n));
	}
	/* A prefix is another path. */
	assert_false(oci_pathset_has(&set, "dir0/file", 9));
	oci_pathset_release(&set);
}

static void run_sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fail_msg("'%s' failed (%d)", cmd, rc);
}

/* GNU tar's own output (gnu and pax formats), extracted by GNU tar and by us:
 * the same names, types, modes, owners, sizes, mtimes, link targets and link
 * counts. */
static void test_extract_matches_gnu_tar(void **state)
{
	struct fx *f = *state;
	const char *formats[] = {"gnu", "pax"};
	char cmd[8192];

	if (geteuid() != 0)
		skip(); /* owners, and GNU tar keeps them only as root */
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; mkdir -p src/a/b/c src/d; echo hello > src/a/f; ln src/a/f src/a/b/hard;"
		 "ln -s ../a/f src/d/rel; ln -s /etc/passwd src/d/abs; mkfifo src/d/fifo;"
		 "printf x > src/d/suid; chmod 4755 src/d/suid; chmod 1777 src/a/b; chmod 0500 src/a/b/c;"
		 "chown 1234:2345 src/a/f; head -c 300000 /dev/urandom > src/big;"
		 "mkdir -p src/$(printf 'n%%.0s' $(seq 120))/$(printf 'm%%.0s' $(seq 120));"
		 "touch -h -d @1500000000 src/d/rel src/a/f src/a/b/c src/a src",
		 f->dir);
	run_sh(cmd);
	for (size_t i = 0; i < 2; i++) {
		char rootname[64];
		int fd, rootfd;
		struct memsrc m;
		char *data;
		size_t len;
		struct stat st;

		snprintf(cmd, sizeof(cmd),
			 "set -e; cd '%s'; rm -rf gnu; mkdir gnu; tar --format=%s -C src -cf layer.tar .;"
			 "tar --numeric-owner -xpf layer.tar -C gnu",
			 f->dir, formats[i]);
		run_sh(cmd);
		snprintf(rootname, sizeof(rootname), "ours-%s", formats[i]);
		snprintf(cmd, sizeof(cmd), "%s/%s", f->dir, rootname);
		assert_int_equal(mkdir(cmd, 0755), 0);
		rootfd = open(cmd, O_PATH | O_DIRECTORY | O_CLOEXEC);
		snprintf(cmd, sizeof(cmd), "%s/layer.tar", f->dir);
		fd = open(cmd, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0 && rootfd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		len = (size_t)st.st_size;
		data = malloc(len);
		assert_int_equal(read(fd, data, len), (ssize_t)len);
		close(fd);
		m = (struct memsrc){data, len, 0, 0};
		assert_ok(oci_extract_stream(rootfd, memsrc_read, &m, NULL, NULL, NULL, &test_err));
		free(data);
		close(rootfd);
		snprintf(cmd, sizeof(cmd),
			 "set -e; cd '%s'; L='%%p %%m %%U %%G %%y %%s %%T@ %%l %%n\n';"
			 "(cd gnu && find . -printf \"$L\" | sort) > gnu.list;"
			 "(cd %s && find . -printf \"$L\" | sort) > ours.list;"
			 "test $(wc -l < gnu.list) -gt 10; diff gnu.list ours.list; cmp gnu/big %s/big",
			 f->dir, rootname, rootname);
		run_sh(cmd);
	}
}

static int fill_ok(int dirfd, void *opaque, struct ocb_error *err)
{
	const struct tspec layer[] = {{.type = 'f', .name = "hello", .arg = "world"}, {0}};

	return tar_apply(dirfd, layer, NULL, err);
}

static int fill_fails(int dirfd, void *opaque, struct ocb_error *err)
{
	const struct tspec layer[] = {
	    {.type = 'f', .name = "written", .arg = "x"},
	    {.type = 'f', .name = "../escape", .arg = "x"},
	    {0},
	};

	return tar_apply(dirfd, layer, NULL, err);
}

static int count_entries(const char *dir)
{
	char cmd[4200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%d", &n) != 1)
		fail_msg("ls");
	pclose(p);
	return n;
}

static void test_extract_into_new_dir(void **state)
{
	struct fx *f = *state;
	int parent = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct ocb_error err = OCB_ERROR_INIT;

	assert_ok(oci_extract_into_new_dir(parent, "snap", fill_ok, NULL, OCI_EXTRACT_SYNC, &test_err));
	assert_content_at(parent, "snap/hello", "world");
	assert_int_equal(count_entries(f->dir), 2); /* rootfs, snap */
	/* An existing name is not replaced. */
	assert_int_equal(oci_extract_into_new_dir(parent, "snap", fill_ok, NULL, 0, &err), -1);
	assert_int_equal(err.code, OCB_EEXIST);
	/* A failed fill leaves nothing: no final name, no temp dir. */
	assert_int_equal(oci_extract_into_new_dir(parent, "bad", fill_fails, NULL, 0, &err), -1);
	assert_int_equal(err.code, OCB_EUNSAFE);
	assert_false(exists_at(parent, "bad"));
	assert_int_equal(count_entries(f->dir), 2);
	assert_int_equal(oci_extract_into_new_dir(parent, "../x", fill_ok, NULL, 0, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	close(parent);
}

/* Printable bytes without a short period (tspec content is a C string). */
static char *make_big(size_t len)
{
	char *p = malloc(len + 1);
	uint32_t v = 12345;

	for (size_t i = 0; i < len; i++) {
		v = v * 1103515245u + 12345u;
		p[i] = (char)('a' + (v >> 16) % 26);
	}
	p[len] = '\0';
	return p;
}

static void assert_file_equals(int dirfd, const char *path, const char *want, size_t len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	char *got = malloc(len + 1);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, got, len + 1);
	close(fd);
	assert_int_equal(n, (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

static int sink_to_writer(void *opaque, const void *data, size_t len, struct ocb_error *err)
{
	return oci_blob_writer_write(opaque, data, len, err);
}

/* Store data as a blob compressed with algo. */
static void put_blob(struct oci_blobstore *bs, const void *data, size_t len, enum oci_compression algo,
		     struct oci_digest *digest)
{
	struct oci_blob_writer *w;
	struct oci_compressor *c;

	assert_ok(oci_blob_writer_open(bs, &w, &test_err));
	if (algo == OCI_COMPRESSION_NONE) {
		assert_ok(oci_blob_writer_write(w, data, len, &test_err));
	} else {
		assert_ok(oci_compressor_new(&c, algo, 0, sink_to_writer, w, &test_err));
		assert_ok(oci_compressor_write(c, data, len, &test_err));
		assert_ok(oci_compressor_finish(c, &test_err));
		oci_compressor_free(c);
	}
	assert_ok(oci_blob_writer_commit(w, NULL, -1, digest, NULL, &test_err));
}

/* Blobs whose tar ends right after one zero block (and a part of another),
 * or without any: the
 * parser reads to the end of the stream (the read-ahead ring's last chunk is
 * handed back) and accepts the first, refuses the second. */
static void test_extract_blob_stream_ends(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {{.type = 'f', .name = "a", .arg = "a"}, {0}};
	int parent = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	enum oci_compression algos[] = {OCI_COMPRESSION_NONE, OCI_COMPRESSION_GZIP};
	struct oci_blobstore bs;
	char storedir[4096];
	size_t len;
	char *tar = tar_build(layer, 0, &len);

	snprintf(storedir, sizeof(storedir), "%s/store", f->dir);
	assert_ok(oci_blobstore_open(&bs, storedir, true, &test_err));
	for (size_t i = 0; i < 2; i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		struct oci_digest one, none;
		char name[32];

		/* header + data block + one zero block (+ 100 more zeros) */
		put_blob(&bs, tar, 3 * 512 + (i ? 100 : 0), algos[i], &one);
		put_blob(&bs, tar, 2 * 512, algos[i], &none);
		snprintf(name, sizeof(name), "one%zu", i);
		assert_ok(oci_extract_layer_to_new_dir(parent, name, &bs, &one, algos[i], NULL, NULL, NULL,
						       &test_err));
		snprintf(name, sizeof(name), "one%zu/a", i);
		assert_content_at(parent, name, "a");
		snprintf(name, sizeof(name), "none%zu", i);
		assert_int_equal(
		    oci_extract_layer_to_new_dir(parent, name, &bs, &none, algos[i], NULL, NULL, NULL, &err),
		    -1);
		assert_int_equal(err.code, OCB_EINVAL);
		assert_non_null(strstr(err.msg, "end-of-archive"));
	}
	oci_blobstore_release(&bs);
	free(tar);
	close(parent);
}

/* A layer blob in a store: extracted with digest and diff_id checks; one
 * flipped byte is refused by digest, naming the blob. */
static void test_extract_layer_blob(void **state)
{
	struct fx *f = *state;
	/* A file larger than the read-ahead chunks, so entries straddle them. */
	size_t big_len = 3 * 1024 * 1024 + 4321;
	char *big = make_big(big_len);
	const struct tspec layer[] = {
	    {.type = 'd', .name = "etc"},
	    {.type = 'f', .name = "etc/hostname", .arg = "ocb\n"},
	    {.type = 'f', .name = "big", .arg = big},
	    {.type = 'f', .name = "after", .arg = "after"},
	    {0},
	};
	enum oci_compression algos[] = {OCI_COMPRESSION_GZIP, OCI_COMPRESSION_ZSTD, OCI_COMPRESSION_NONE};
	struct oci_blobstore bs;
	char storedir[4096];
	int parent = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	size_t len;
	char *tar = tar_build(layer, 0, &len);
	struct oci_digest diff_id, wrong;

	assert_ok(oci_digest_buffer("x", 1, &wrong, &test_err));
	snprintf(storedir, sizeof(storedir), "%s/store", f->dir);
	assert_ok(oci_blobstore_open(&bs, storedir, true, &test_err));
	assert_ok(oci_digest_buffer(tar, len, &diff_id, &test_err));
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		struct oci_extract_stats st;
		struct oci_digest digest;
		struct ocb_error err = OCB_ERROR_INIT;
		char name[32], hex_path[8192];
		int fd;
		unsigned char byte;
		struct stat sb;

		put_blob(&bs, tar, len, algos[i], &digest);

		snprintf(name, sizeof(name), "layer%zu", i);
		assert_ok(oci_extract_layer_to_new_dir(parent, name, &bs, &digest, OCI_COMPRESSION_AUTO,
						       &diff_id, NULL, &st, &test_err));
		assert_true(oci_digest_equal(&st.diff_id, &diff_id));
		snprintf(hex_path, sizeof(hex_path), "%s/etc/hostname", name);
		assert_content_at(parent, hex_path, "ocb\n");
		snprintf(hex_path, sizeof(hex_path), "%s/after", name);
		assert_content_at(parent, hex_path, "after");
		snprintf(hex_path, sizeof(hex_path), "%s/big", name);
		assert_file_equals(parent, hex_path, big, big_len);

		/* A wrong diff_id. */
		snprintf(name, sizeof(name), "wrongdiff%zu", i);
		assert_int_equal(oci_extract_layer_to_new_dir(parent, name, &bs, &digest, algos[i], &wrong,
							      NULL, NULL, &err),
				 -1);
		assert_int_equal(err.code, OCB_EDIGEST);
		assert_false(exists_at(parent, name));

		/* Flip one byte in the middle of the stored blob. */
		snprintf(hex_path, sizeof(hex_path), "%s/blobs/sha256/%s", storedir, oci_digest_hex(&digest));
		fd = open(hex_path, O_RDWR | O_CLOEXEC);
		assert_true(fd >= 0);
		if (algos[i] == OCI_COMPRESSION_GZIP) {
			/* A byte of the gzip header's mtime: the tar stream (and so
			 * the diff_id) is unchanged, only the blob digest can tell.
			 * gzip blobs hash their compressed bytes on the parser's
			 * side (extract_blob.c); this proves it covers the header. */
			assert_int_equal(pread(fd, &byte, 1, 4), 1);
			byte ^= 0x01;
			assert_int_equal(pwrite(fd, &byte, 1, 4), 1);
			snprintf(name, sizeof(name), "mtime%zu", i);
			ocb_error_clear(&err);
			assert_int_equal(oci_extract_layer_to_new_dir(parent, name, &bs, &digest, algos[i],
								      &diff_id, NULL, NULL, &err),
					 -1);
			assert_int_equal(err.code, OCB_EDIGEST);
			assert_non_null(strstr(err.msg, digest.str));
			assert_false(exists_at(parent, name));
			byte ^= 0x01;
			assert_int_equal(pwrite(fd, &byte, 1, 4), 1);
		}
		assert_int_equal(fstat(fd, &sb), 0);
		assert_int_equal(pread(fd, &byte, 1, sb.st_size / 2), 1);
		byte ^= 0x01;
		assert_int_equal(pwrite(fd, &byte, 1, sb.st_size / 2), 1);
		close(fd);
		snprintf(name, sizeof(name), "flipped%zu", i);
		ocb_error_clear(&err);
		assert_int_equal(oci_extract_layer_to_new_dir(parent, name, &bs, &digest, algos[i], NULL,
							      NULL, NULL, &err),
				 -1);
		assert_int_equal(err.code, OCB_EDIGEST);
		assert_non_null(strstr(err.msg, digest.str));
		assert_false(exists_at(parent, name));
		/* The same with the diff_id the builder passes. */
		snprintf(name, sizeof(name), "flippeddiff%zu", i);
		ocb_error_clear(&err);
		assert_int_equal(oci_extract_layer_to_new_dir(parent, name, &bs, &digest, algos[i], &diff_id,
							      NULL, NULL, &err),
				 -1);
		assert_int_equal(err.code, OCB_EDIGEST);
		assert_non_null(strstr(err.msg, digest.str));
		assert_false(exists_at(parent, name));
	}
	oci_blobstore_release(&bs);
	free(tar);
	free(big);
	close(parent);
}

/* Unprivileged: devices are skipped and counted (or refused when strict),
 * owners are not changed. */
static void test_extract_unprivileged(void **state)
{
	struct fx *f = *state;
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(f->dir, 0777), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const struct tspec layer[] = {
		    {.type = 'c', .name = "null", .arg = "1:3"},
		    {.type = 'f', .name = "owned", .arg = "x", .uid = 1234},
		    {0},
		};
		struct ocb_error err = OCB_ERROR_INIT;
		struct oci_extract_opts strict = {.flags = OCI_EXTRACT_STRICT};
		struct oci_extract_stats st;
		char path[4096];
		struct stat s;
		size_t len;
		char *tar = tar_build(layer, 0, &len);
		int rootfd;

		snprintf(path, sizeof(path), "%s/unpriv", f->dir);
		if (setgid(65534) < 0 || setuid(65534) < 0 || mkdir(path, 0755) < 0)
			_exit(10);
		rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (tar_extract(rootfd, tar, len, NULL, &st, &err) < 0)
			_exit(11);
		if (st.skipped_devices != 1 || exists_at(rootfd, "null"))
			_exit(12);
		if (fstatat(rootfd, "owned", &s, 0) < 0 || s.st_uid != 65534)
			_exit(13);
		if (tar_extract(rootfd, tar, len, &strict, &st, &err) != -1 || err.code != OCB_EENV)
			_exit(14);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_extract_normal_layer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_xattrs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_xattr_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_whiteouts_and_opaque, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_whiteout_fresh_root, setup, teardown),
	    cmocka_unit_test(test_pathset),
	    cmocka_unit_test_setup_teardown(test_extract_matches_gnu_tar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_whiteout_own_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_overlay_whiteouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_deep_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_replaces_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_truncated_and_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_diff_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_into_new_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_layer_blob, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_blob_stream_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_unprivileged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
