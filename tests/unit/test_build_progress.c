/* Progress output formats, the step log's tail, snapshot publication and
 * extraction races. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/build.h"
#include "builder/progress.h"
#include "builder/snapshot.h"
#include "oci/layout.h"

static char *read_stream(FILE *f)
{
	long n;
	char *buf;

	fflush(f);
	n = ftell(f);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	return buf;
}

static void test_progress_plain_lines(void **state)
{
	FILE *f = tmpfile();
	struct progress *p = NULL;
	unsigned a, b;
	char *out;

	assert_ok(progress_new(&p, PROGRESS_PLAIN, f, &test_err));
	a = progress_step_start(p, "backend", 1, 4, "RUN go build");
	b = progress_step_start(p, "web", 0, 2, "COPY a /b");
	progress_step_line(p, a, "compiling");
	progress_step_cached(p, b);
	progress_step_done(p, a, 1234);
	progress_free(p);
	out = read_stream(f);
	assert_non_null(strstr(out, "#1 [backend 2/4] RUN go build\n"));
	assert_non_null(strstr(out, "#2 [web 1/2] COPY a /b\n"));
	assert_non_null(strstr(out, " compiling\n"));
	assert_non_null(strstr(out, "#2 CACHED\n"));
	assert_non_null(strstr(out, "#1 DONE 1.2s\n"));
	free(out);
	fclose(f);
}

static void test_progress_json_events(void **state)
{
	FILE *f = tmpfile();
	struct progress *p = NULL;
	unsigned id;
	char *out;

	assert_ok(progress_new(&p, PROGRESS_JSON, f, &test_err));
	id = progress_step_start(p, "s", 0, 1, "RUN \"quoted\"");
	progress_step_line(p, id, "out\tline");
	progress_step_error(p, id, "exit code 2");
	progress_free(p);
	out = read_stream(f);
	assert_non_null(strstr(out, "\"event\":\"start\""));
	assert_non_null(strstr(out, "\"name\":\"RUN \\\"quoted\\\"\""));
	assert_non_null(strstr(out, "\"line\":\"out\\tline\""));
	assert_non_null(strstr(out, "\"event\":\"error\""));
	assert_non_null(strstr(out, "\"message\":\"exit code 2\""));
	/* one object per line */
	for (char *l = out; *l; l = strchr(l, '\n') + 1)
		assert_int_equal(*l, '{');
	free(out);
	fclose(f);
}

static void test_progress_mode_parse(void **state)
{
	enum progress_mode m;

	assert_ok(progress_mode_parse("tty", &m, &test_err));
	assert_int_equal(m, PROGRESS_TTY);
	assert_int_equal(progress_mode_parse("fancy", &m, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
}

static void test_steplog_tail_keeps_last_lines(void **state)
{
	struct build_steplog log;
	char line[32];
	char *tail;

	build_steplog_init(&log, NULL, 1);
	for (int i = 1; i <= 30; i++) {
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		/* split writes across calls: lines are reassembled */
		build_steplog_write(&log, line, 3);
		build_steplog_write(&log, line + 3, (size_t)n - 3);
	}
	build_steplog_write(&log, "partial", 7);
	build_steplog_finish(&log);
	tail = build_steplog_tail(&log);
	assert_non_null(tail);
	assert_null(strstr(tail, "line 11\n"));
	assert_non_null(strstr(tail, "line 12\nline 13\n"));
	assert_non_null(strstr(tail, "line 30\npartial\n"));
	free(tail);
	build_steplog_release(&log);
}

static void test_snapshot_publish_race(void **state)
{
	char *root = testutil_mkdtemp();
	struct snapshot_dir sd = {.fd = -1};
	struct oci_digest d;
	char a[512], b[512], *p;
	struct stat st;

	assert_ok(snapshot_dir_open(&sd, root, &test_err));
	assert_ok(oci_digest_buffer("x", 1, &d, &test_err));
	snprintf(a, sizeof(a), "%s/a", root);
	snprintf(b, sizeof(b), "%s/b", root);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	snprintf(a + strlen(a), sizeof(a) - strlen(a), "/first");
	testutil_write_file(a, "1", 1);
	a[strlen(a) - strlen("/first")] = '\0';
	assert_false(snapshot_exists(&sd, &d));
	assert_ok(snapshot_publish(&sd, a, &d, &test_err));
	assert_true(snapshot_exists(&sd, &d));
	/* The second publisher of the same diff_id loses quietly: its dir is gone. */
	assert_ok(snapshot_publish(&sd, b, &d, &test_err));
	assert_int_equal(stat(b, &st), -1);
	p = snapshot_path(&sd, &d);
	snprintf(a, sizeof(a), "%s/first", p);
	assert_int_equal(stat(a, &st), 0);
	free(p);
	snapshot_dir_release(&sd);
	testutil_rmtree(root);
	free(root);
}

static void test_snapshot_ensure_extracts_once(void **state)
{
	char *root = testutil_mkdtemp();
	struct snapshot_dir sd = {.fd = -1};
	struct oci_layout l = {0};
	struct oci_descriptor m = {0};
	struct oci_image img = {0};
	bool extracted = false;
	char path[512], *p;
	struct stat st;

	if (geteuid() != 0) {
		testutil_rmtree(root);
		free(root);
		skip();
	}
	snprintf(path, sizeof(path), "%s/layout", root);
	assert_ok(oci_layout_open(&l, path, true, &test_err));
	testutil_make_image(&l, "linux/amd64", "snap", &m);
	assert_ok(oci_layout_resolve(&l, &m, NULL, &img, &test_err));
	assert_ok(snapshot_dir_open(&sd, root, &test_err));
	assert_ok(snapshot_ensure(&sd, &l.bs, img.manifest.layers[0].media_type,
				  &img.manifest.layers[0].digest, &img.config.diff_ids[0], &extracted,
				  &test_err));
	assert_true(extracted);
	assert_ok(snapshot_ensure(&sd, &l.bs, img.manifest.layers[0].media_type,
				  &img.manifest.layers[0].digest, &img.config.diff_ids[0], &extracted,
				  &test_err));
	assert_false(extracted);
	p = snapshot_path(&sd, &img.config.diff_ids[0]);
	snprintf(path, sizeof(path), "%s/hello.txt", p);
	assert_int_equal(stat(path, &st), 0);
	free(p);
	oci_image_release(&img);
	oci_descriptor_release(&m);
	oci_layout_release(&l);
	snapshot_dir_release(&sd);
	testutil_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_progress_plain_lines),
	    cmocka_unit_test(test_progress_json_events),
	    cmocka_unit_test(test_progress_mode_parse),
	    cmocka_unit_test(test_steplog_tail_keeps_last_lines),
	    cmocka_unit_test(test_snapshot_publish_race),
	    cmocka_unit_test(test_snapshot_ensure_extracts_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
