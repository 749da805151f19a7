/* A busybox rootfs and overlay dirs for the sandbox and overlay_diff tests
 * (header-only: each test program includes it once). */
#ifndef OCB_SANDBOX_FIXTURE_H
#define OCB_SANDBOX_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/sandbox.h"

struct sbx {
	char *dir;   /* everything lives under here */
	char *lower; /* the busybox rootfs */
	char *upper, *work;
	const char *lowers[1];
	char out[65536]; /* the step's output */
	size_t out_len;
	struct sandbox_result res;
};

static void sbx_path(char *buf, size_t size, const char *a, const char *b)
{
	if (snprintf(buf, size, "%s/%s", a, b) >= (int)size)
		fail_msg("path too long");
}

static void sbx_mkdir(const char *base, const char *rel, mode_t mode)
{
	char p[4096];

	sbx_path(p, sizeof(p), base, rel);
	if (mkdir(p, mode) < 0)
		fail_msg("mkdir %s", p);
	chmod(p, mode);
}

static void sbx_write(const char *base, const char *rel, const char *text)
{
	char p[4096];

	sbx_path(p, sizeof(p), base, rel);
	testutil_write_file(p, text, strlen(text));
}

/* Copy host file src to a new file dest with mode. */
static void sbx_copy_file(const char *src, const char *dest, mode_t mode)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ssize_t n;

	if (in < 0 || out < 0)
		fail_msg("copy %s to %s", src, dest);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			fail_msg("write %s", dest);
	close(in);
	close(out);
}

/* A busybox rootfs as tests/lib.sh's make_busybox_rootfs builds it, from
 * the busybox binary at `busybox`. */
static void sbx_make_rootfs_from(const char *root, const char *busybox)
{
	static const char *const applets[] = {
	    "sh",   "ls",   "cat",	"echo", "id",	  "env",  "sleep",    "mkdir", "rm",	"cp",
	    "ln",   "wc",   "sed",	"grep", "head",	  "tail", "true",     "false", "touch", "chmod",
	    "stat", "find", "hostname", "kill", "printf", "pwd",  "readlink", "test",  "sort",	"tr"};
	char p[4096];

	if (mkdir(root, 0755) < 0)
		fail_msg("mkdir %s", root);
	sbx_mkdir(root, "bin", 0755);
	sbx_mkdir(root, "etc", 0755);
	sbx_mkdir(root, "tmp", 01777);
	sbx_mkdir(root, "root", 0700);
	sbx_path(p, sizeof(p), root, "bin/busybox");
	sbx_copy_file(busybox, p, 0755);
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", root, applets[i]);
		if (symlink("busybox", p) < 0)
			fail_msg("symlink %s", p);
	}
	sbx_write(root, "etc/passwd",
		  "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
	sbx_write(root, "etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
}

static void sbx_make_rootfs(const char *root)
{
	sbx_make_rootfs_from(root, "/bin/busybox");
}

static void sbx_fresh_upper(struct sbx *s)
{
	char p[4096];

	if (s->upper) {
		testutil_rmtree(s->upper);
		testutil_rmtree(s->work);
		free(s->upper);
		free(s->work);
	}
	sbx_path(p, sizeof(p), s->dir, "upper");
	s->upper = strdup(p);
	sbx_path(p, sizeof(p), s->dir, "work");
	s->work = strdup(p);
	if (mkdir(s->upper, 0755) < 0 || mkdir(s->work, 0700) < 0)
		fail_msg("mkdir upper/work");
}

static struct sbx *sbx_new(void)
{
	struct sbx *s = calloc(1, sizeof(*s));
	char p[4096];

	s->dir = testutil_mkdtemp();
	sbx_path(p, sizeof(p), s->dir, "lower");
	s->lower = strdup(p);
	sbx_make_rootfs(s->lower);
	sbx_fresh_upper(s);
	return s;
}

static void sbx_free(struct sbx *s)
{
	testutil_rmtree(s->dir);
	free(s->dir);
	free(s->lower);
	free(s->upper);
	free(s->work);
	free(s);
}

static int sbx_capture(void *ctx, const char *buf, size_t len, struct ocb_error *err)
{
	struct sbx *s = ctx;

	(void)err;
	if (len > sizeof(s->out) - 1 - s->out_len)
		len = sizeof(s->out) - 1 - s->out_len;
	memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
	s->out[s->out_len] = '\0';
	return 0;
}

/* A config over s's dirs running `shell`, output captured into s->out. */
static struct sandbox_config sbx_config(struct sbx *s, const char *shell)
{
	struct sandbox_config cfg = SANDBOX_CONFIG_INIT;

	s->lowers[0] = s->lower;
	cfg.lowerdirs = s->lowers;
	cfg.n_lowerdirs = 1;
	cfg.upperdir = s->upper;
	cfg.overlay_workdir = s->work;
	cfg.shell = shell;
	cfg.output = sbx_capture;
	cfg.output_ctx = s;
	s->out_len = 0;
	s->out[0] = '\0';
	memset(&s->res, 0, sizeof(s->res));
	return cfg;
}

/* Run `shell` in s with default settings; asserts the sandbox itself worked. */
static inline void sbx_sh(struct sbx *s, const char *shell)
{
	struct sandbox_config cfg = sbx_config(s, shell);

	assert_ok(sandbox_run(&cfg, &s->res, &test_err));
}

#endif
