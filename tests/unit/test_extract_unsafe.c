/* The malicious layer corpus (issue 2, acceptance 5): each tar is applied to
 * top/rootfs with top/victim (a file) and top/victimdir/ beside it.  Every
 * case must end in the expected error or the expected in-root result, and
 * the victims must be untouched: same inode, content and mtime, nothing new
 * in top/ or in victimdir/, nothing new at '/'. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tartest.h"
#include "oci/extract.h"

#define VICTIM_MTIME 1000000000
/* A name nothing else uses, to see that nothing lands at '/'. */
#define ROOT_PROBE "ocb-extract-probe-7c1e"

struct fx {
	char *top;
	int topfd, rootfd;
	struct stat victim, victimdir, victimfile;
};

static void set_mtime(int dirfd, const char *name)
{
	struct timespec ts[2] = {{VICTIM_MTIME, 0}, {VICTIM_MTIME, 0}};

	assert_int_equal(utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[4096];

	f->top = testutil_mkdtemp();
	f->topfd = open(f->top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(mkdirat(f->topfd, "rootfs", 0755), 0);
	assert_int_equal(mkdirat(f->topfd, "victimdir", 0755), 0);
	snprintf(path, sizeof(path), "%s/victim", f->top);
	testutil_write_file(path, "secret", 6);
	snprintf(path, sizeof(path), "%s/victimdir/file", f->top);
	testutil_write_file(path, "keep", 4);
	set_mtime(f->topfd, "victim");
	set_mtime(f->topfd, "victimdir/file");
	set_mtime(f->topfd, "victimdir");
	assert_int_equal(fstatat(f->topfd, "victim", &f->victim, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fstatat(f->topfd, "victimdir", &f->victimdir, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fstatat(f->topfd, "victimdir/file", &f->victimfile, AT_SYMLINK_NOFOLLOW), 0);
	f->rootfd = openat(f->topfd, "rootfs", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->rootfd);
	close(f->topfd);
	testutil_rmtree(f->top);
	free(f->top);
	free(f);
	return 0;
}

static int dir_count(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;

	if (!d)
		fail_msg("opendir %s", name);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void assert_same_stat(const struct stat *a, const struct stat *b)
{
	assert_int_equal(a->st_ino, b->st_ino);
	assert_int_equal(a->st_mode, b->st_mode);
	assert_int_equal(a->st_size, b->st_size);
	assert_int_equal(a->st_nlink, b->st_nlink);
	assert_int_equal(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
	assert_int_equal(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
}

/* Nothing outside rootfs changed. */
static void assert_victims_untouched(struct fx *f)
{
	struct stat st;

	assert_int_equal(dir_count(f->topfd, "."), 3);
	assert_int_equal(fstatat(f->topfd, "victim", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_same_stat(&st, &f->victim);
	assert_content_at(f->topfd, "victim", "secret");
	assert_int_equal(fstatat(f->topfd, "victimdir", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_same_stat(&st, &f->victimdir);
	assert_int_equal(dir_count(f->topfd, "victimdir"), 1);
	assert_int_equal(fstatat(f->topfd, "victimdir/file", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_same_stat(&st, &f->victimfile);
	assert_content_at(f->topfd, "victimdir/file", "keep");
	assert_false(exists_at(AT_FDCWD, "/" ROOT_PROBE));
	assert_false(exists_at(AT_FDCWD, "/victim"));
}

/* Apply the layer; expect code (OCB_OK for success); the victims stay. */
static void run_case(struct fx *f, const struct tspec *layer, enum ocb_code code)
{
	struct ocb_error err = OCB_ERROR_INIT;
	int rc = tar_apply(f->rootfd, layer, NULL, &err);

	if (code == OCB_OK && rc < 0)
		fail_msg("expected success, got: %s", err.msg);
	if (code != OCB_OK) {
		assert_int_equal(rc, -1);
		if (err.code != code)
			fail_msg("expected code %d, got %d: %s", code, err.code, err.msg);
		assert_non_null(strstr(err.msg, "layer"));
		assert_non_null(strstr(err.msg, "entry '"));
	}
	assert_victims_untouched(f);
}

static void test_dotdot_names(void **state)
{
	struct fx *f = *state;
	const char *names[] = {"../victim", "a/../../victim",	   "/../victim",      "./..",
			       "..",	    "a/b/../../../victim", "../victimdir/new"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct tspec layer[] = {{.type = 'f', .name = names[i], .arg = "pwned"}, {0}};
		run_case(f, layer, OCB_EUNSAFE);
	}
	assert_int_equal(dir_count(f->topfd, "rootfs"), 0);
}

static void test_absolute_names(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'f', .name = "/etc/x", .arg = "in root"},
	    {.type = 'f', .name = "//" ROOT_PROBE, .arg = "in root"},
	    {.type = 'f', .name = "/./victim", .arg = "mine"},
	    {0},
	};

	run_case(f, layer, OCB_OK);
	assert_content_at(f->rootfd, "etc/x", "in root");
	assert_content_at(f->rootfd, ROOT_PROBE, "in root");
	assert_content_at(f->rootfd, "victim", "mine");
}

static void test_symlink_to_root_then_write(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'l', .name = "link", .arg = "/"},
	    {.type = 'f', .name = "link/victim", .arg = "in root"},
	    {.type = 'f', .name = "link/" ROOT_PROBE, .arg = "in root"},
	    {.type = 'd', .name = "link/sub"},
	    {.type = 'f', .name = "link/sub/f", .arg = "deep"},
	    {0},
	};

	run_case(f, layer, OCB_OK);
	assert_content_at(f->rootfd, "victim", "in root");
	assert_content_at(f->rootfd, ROOT_PROBE, "in root");
	assert_content_at(f->rootfd, "sub/f", "deep");
}

static void test_symlink_to_dotdot_then_write(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'l', .name = "up", .arg = ".."},
	    {.type = 'f', .name = "up/victim", .arg = "in root"},
	    {.type = 'd', .name = "a/b"},
	    {.type = 'l', .name = "a/b/up3", .arg = "../../../../.."},
	    {.type = 'f', .name = "a/b/up3/victimdir/new", .arg = "in root"},
	    {.type = 'l', .name = "abs", .arg = "/../victimdir"},
	    {.type = 'f', .name = "abs/file", .arg = "in root"},
	    {0},
	};

	run_case(f, layer, OCB_OK);
	assert_content_at(f->rootfd, "victim", "in root");
	assert_content_at(f->rootfd, "victimdir/new", "in root");
	assert_content_at(f->rootfd, "victimdir/file", "in root");
}

/* A symlink chain built by the layer itself, then written through. */
static void test_symlink_chain(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'l', .name = "a", .arg = "b"},
	    {.type = 'l', .name = "b", .arg = "c/../.."},
	    {.type = 'd', .name = "c"},
	    {.type = 'f', .name = "a/victim", .arg = "in root"},
	    {0},
	};

	run_case(f, layer, OCB_OK);
	assert_content_at(f->rootfd, "victim", "in root");
}

static void test_hardlink_outside(void **state)
{
	struct fx *f = *state;
	const struct tspec dotdot[] = {{.type = 'h', .name = "h", .arg = "../victim"}, {0}};
	const struct tspec dotdot2[] = {{.type = 'h', .name = "h", .arg = "x/../../victim"}, {0}};
	const struct tspec absolute[] = {{.type = 'h', .name = "h", .arg = "/victim"}, {0}};
	const struct tspec abs_dir[] = {{.type = 'h', .name = "h", .arg = "/abs/victim"}, {0}};
	const struct tspec name_out[] = {
	    {.type = 'f', .name = "t", .arg = "t"},
	    {.type = 'h', .name = "../h", .arg = "t"},
	    {0},
	};

	run_case(f, dotdot, OCB_EUNSAFE);
	run_case(f, dotdot2, OCB_EUNSAFE);
	/* Absolute targets are in the root; there is none there. */
	run_case(f, absolute, OCB_ENOTFOUND);
	run_case(f, abs_dir, OCB_ENOTFOUND);
	run_case(f, name_out, OCB_EUNSAFE);
	assert_false(exists_at(f->rootfd, "h"));
}

static void test_hardlink_through_symlinked_parent(void **state)
{
	struct fx *f = *state;
	const struct tspec missing[] = {
	    {.type = 'l', .name = "up", .arg = ".."},
	    {.type = 'h', .name = "h", .arg = "up/victim"},
	    {0},
	};
	const struct tspec in_root[] = {
	    {.type = 'f', .name = "victim", .arg = "rootfs victim"},
	    {.type = 'l', .name = "up2", .arg = "../../.."},
	    {.type = 'h', .name = "h2", .arg = "up2/victim"},
	    {0},
	};
	struct stat a, b;

	run_case(f, missing, OCB_ENOTFOUND);
	run_case(f, in_root, OCB_OK);
	/* The link is to the rootfs' victim, never the one outside. */
	assert_int_equal(fstatat(f->rootfd, "h2", &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fstatat(f->rootfd, "victim", &b, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_not_equal(a.st_ino, f->victim.st_ino);
}

static void test_hardlink_to_directory_or_symlink(void **state)
{
	struct fx *f = *state;
	const struct tspec to_dir[] = {
	    {.type = 'd', .name = "d"},
	    {.type = 'h', .name = "h", .arg = "d"},
	    {0},
	};
	const struct tspec to_root[] = {{.type = 'h', .name = "h", .arg = "/"}, {0}};
	/* A hardlink to a symlink links the symlink itself, never its target. */
	const struct tspec to_link[] = {
	    {.type = 'l', .name = "s", .arg = "../victim"},
	    {.type = 'h', .name = "hs", .arg = "s"},
	    {.type = 'f', .name = "hs", .arg = "replaced, not written through"},
	    {0},
	};
	char buf[64];

	run_case(f, to_dir, OCB_EUNSAFE);
	run_case(f, to_root, OCB_EUNSAFE);
	run_case(f, to_link, OCB_OK);
	assert_content_at(f->rootfd, "hs", "replaced, not written through");
	assert_int_equal(readlinkat(f->rootfd, "s", buf, sizeof(buf)), 9);
}

static void test_whiteout_names(void **state)
{
	struct fx *f = *state;
	const char *names[] = {".wh..", ".wh.", "a/.wh.", "a/.wh..", ".wh...", "/.wh..", ".wh../x"};

	/* A non-empty root, so whiteouts are applied, not skipped. */
	assert_int_equal(mkdirat(f->rootfd, "a", 0755), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct tspec layer[] = {{.type = 'f', .name = names[i]}, {0}};
		/* ".wh../x" is a directory named ".wh.." holding x: its whiteout
		 * part is not the last component, so it is an ordinary name. */
		run_case(f, layer, i == 6 ? OCB_OK : OCB_EUNSAFE);
	}
	assert_true(exists_at(f->rootfd, "a"));
}

static void test_whiteout_through_symlinked_parent(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'l', .name = "up", .arg = ".."},  {.type = 'f', .name = "up/.wh.victim"},
	    {.type = 'f', .name = "up/.wh.victimdir"}, {.type = 'l', .name = "abs", .arg = "/"},
	    {.type = 'f', .name = "abs/.wh.other"},    {0},
	};

	/* Lower content inside the root that the whiteouts may hide. */
	assert_int_equal(mkdirat(f->rootfd, "victimdir", 0755), 0);
	{
		int fd = openat(f->rootfd, "victim", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		close(fd);
		fd = openat(f->rootfd, "other", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	run_case(f, layer, OCB_OK);
	/* In-root result: the rootfs' own victims are gone. */
	assert_false(exists_at(f->rootfd, "victim"));
	assert_false(exists_at(f->rootfd, "victimdir"));
	assert_false(exists_at(f->rootfd, "other"));
}

/* Lower symlinks that point out: whiteouts remove the link itself, opaque
 * markers through them resolve in the root. */
static void test_whiteout_of_outward_symlinks(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'f', .name = ".wh.out"},
	    {.type = 'f', .name = "outdir/.wh..wh..opq"},
	    {.type = 'f', .name = "outdir/.wh.file"},
	    {.type = 'f', .name = "absdir/.wh..wh..opq"},
	    {0},
	};

	assert_int_equal(symlinkat("../victim", f->rootfd, "out"), 0);
	assert_int_equal(symlinkat("../victimdir", f->rootfd, "outdir"), 0);
	assert_int_equal(symlinkat("/tmp", f->rootfd, "absdir"), 0);
	run_case(f, layer, OCB_OK);
	assert_false(exists_at(f->rootfd, "out"));
	assert_true(exists_at(f->rootfd, "outdir"));
}

static void test_opaque_through_symlink_to_root(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'l', .name = "link", .arg = "/"},
	    {.type = 'f', .name = "link/.wh..wh..opq"},
	    {0},
	};
	int fd = openat(f->rootfd, "lower", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	close(fd);
	run_case(f, layer, OCB_OK);
	/* The opaque root hid the lower file, inside the root only. */
	assert_false(exists_at(f->rootfd, "lower"));
}

static void test_symlink_replaced_by_dir(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'l', .name = "x", .arg = "/"},
	    {.type = 'l', .name = "y", .arg = "../victimdir"},
	    {.type = 'd', .name = "x"},
	    {.type = 'd', .name = "y"},
	    {.type = 'f', .name = "x/victim", .arg = "in x"},
	    {.type = 'f', .name = "y/file", .arg = "in y"},
	    {0},
	};
	struct stat st;

	run_case(f, layer, OCB_OK);
	assert_int_equal(fstatat(f->rootfd, "x", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_content_at(f->rootfd, "x/victim", "in x");
	assert_content_at(f->rootfd, "y/file", "in y");
	assert_false(exists_at(f->rootfd, "victim"));
}

static void test_file_then_symlink_then_write(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'f', .name = "x", .arg = "file"},
	    {.type = 'l', .name = "x", .arg = ".."},
	    {.type = 'f', .name = "x/victim", .arg = "in root"},
	    {.type = 'l', .name = "v", .arg = "../victim"},
	    {.type = 'f', .name = "v", .arg = "replaces the link"},
	    {.type = 'd', .name = "victimdir"},
	    {.type = 'd', .name = "dd"},
	    {.type = 'l', .name = "dd", .arg = "/../victimdir"},
	    {.type = 'f', .name = "dd/file", .arg = "in root"},
	    {0},
	};

	run_case(f, layer, OCB_OK);
	assert_content_at(f->rootfd, "victim", "in root");
	assert_content_at(f->rootfd, "v", "replaces the link");
	assert_content_at(f->rootfd, "victimdir/file", "in root");
}

/* A dangling in-root symlink as a parent is an error, not a write outside. */
static void test_dangling_symlink_parent(void **state)
{
	struct fx *f = *state;
	const struct tspec layer[] = {
	    {.type = 'l', .name = "d", .arg = "../victimdir/nonexistent"},
	    {.type = 'f', .name = "d/x", .arg = "x"},
	    {0},
	};

	run_case(f, layer, OCB_EINVAL);
}

/* Symlink loops as parents or hardlink targets: errors, nothing made. */
static void test_symlink_loops(void **state)
{
	struct fx *f = *state;
	const struct tspec pair[] = {
	    {.type = 'l', .name = "a", .arg = "b"},
	    {.type = 'l', .name = "b", .arg = "/a"},
	    {.type = 'f', .name = "a/x", .arg = "x"},
	    {0},
	};
	const struct tspec self[] = {
	    {.type = 'l', .name = "s", .arg = "./s"},
	    {.type = 'h', .name = "h", .arg = "s/x"},
	    {0},
	};

	run_case(f, pair, OCB_EINVAL);
	run_case(f, self, OCB_EINVAL);
	assert_false(exists_at(f->rootfd, "h"));
	assert_false(exists_at(f->rootfd, "x"));
}

static void test_long_names(void **state)
{
	struct fx *f = *state;
	char comp[300], deep[PATH_MAX + 600];
	size_t o = 0;

	memset(comp, 'a', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = '\0';
	{
		const struct tspec layer[] = {{.type = 'f', .name = comp, .arg = "x"}, {0}};
		run_case(f, layer, OCB_ELIMIT);
	}
	while (o < PATH_MAX + 200) {
		memcpy(deep + o, "dir/", 4);
		o += 4;
	}
	memcpy(deep + o, "f", 2);
	{
		const struct tspec layer[] = {{.type = 'f', .name = deep, .arg = "x"}, {0}};
		run_case(f, layer, OCB_ELIMIT);
	}
	{
		const struct tspec layer[] = {{.type = 'l', .name = "l", .arg = deep}, {0}};
		run_case(f, layer, OCB_ELIMIT);
	}
	{
		const struct tspec layer[] = {{.type = 'h', .name = "h", .arg = deep}, {0}};
		run_case(f, layer, OCB_ELIMIT);
	}
}

static void test_bombs(void **state)
{
	struct fx *f = *state;
	struct tspec many[40];
	char names[40][16];
	struct oci_extract_opts few = {.max_entries = 30};
	struct oci_extract_opts small = {.max_bytes = 1000};
	const struct tspec big[] = {{.type = 'f', .name = "big", .size = 4096}, {0}};
	const struct tspec sum[] = {
	    {.type = 'f', .name = "a", .size = 600},
	    {.type = 'f', .name = "b", .size = 600},
	    {0},
	};
	struct ocb_error err = OCB_ERROR_INIT;

	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		many[i] = (struct tspec){.type = 'f', .name = names[i], .arg = "x"};
	}
	{
		size_t len;
		char *tar = tar_build(many, 40, &len);
		assert_int_equal(tar_extract(f->rootfd, tar, len, &few, NULL, &err), -1);
		assert_int_equal(err.code, OCB_ELIMIT);
		free(tar);
	}
	assert_int_equal(tar_apply(f->rootfd, big, &small, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	assert_int_equal(tar_apply(f->rootfd, sum, &small, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	assert_victims_untouched(f);
}

/* Hand-built headers the writer refuses: an empty name, the root as a
 * symlink, a huge declared size with no data. */
static void test_raw_headers(void **state)
{
	struct fx *f = *state;
	unsigned char tar[512 * 4];
	struct ocb_error err = OCB_ERROR_INIT;

	memset(tar, 0, sizeof(tar));
	tar_raw_header(tar, "", 0, '0', 0);
	assert_int_equal(tar_extract(f->rootfd, (char *)tar, sizeof(tar), NULL, NULL, &err), -1);
	assert_true(err.code == OCB_EINVAL || err.code == OCB_EUNSAFE);

	memset(tar, 0, sizeof(tar));
	tar_raw_header(tar, "//.", 3, '2', 0);
	assert_int_equal(tar_extract(f->rootfd, (char *)tar, sizeof(tar), NULL, NULL, &err), -1);
	assert_int_equal(err.code, OCB_EUNSAFE);

	memset(tar, 0, sizeof(tar));
	tar_raw_header(tar, "huge", 4, '0', 077777777777UL);
	assert_int_equal(tar_extract(f->rootfd, (char *)tar, sizeof(tar), NULL, NULL, &err), -1);
	assert_true(err.code == OCB_EINVAL || err.code == OCB_ELIMIT);

	/* A name with an embedded NUL is cut there by the format: "a\0../x"
	 * is "a". */
	memset(tar, 0, sizeof(tar));
	tar_raw_header(tar, "a\0../victim", 11, '0', 0);
	assert_ok(tar_extract(f->rootfd, (char *)tar, sizeof(tar), NULL, NULL, &test_err));
	assert_true(exists_at(f->rootfd, "a"));
	assert_victims_untouched(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dotdot_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absolute_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_to_root_then_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_to_dotdot_then_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hardlink_outside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hardlink_through_symlinked_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hardlink_to_directory_or_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteout_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteout_through_symlinked_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteout_of_outward_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_opaque_through_symlink_to_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_replaced_by_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_then_symlink_then_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dangling_symlink_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_loops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bombs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_raw_headers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
