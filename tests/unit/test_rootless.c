/* Rootless mode (builder/rootless.h): the subordinate id files are parsed as
 * newuidmap reads them, root neither forks nor changes conventions, and a
 * store records which overlay xattrs its snapshots carry (snapshot.c). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/rootless.h"
#include "builder/snapshot.h"
#include "oci/banned.h"

static int setup(void **state)
{
	*state = testutil_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	testutil_rmtree(*state);
	free(*state);
	return 0;
}

static int range_of(const char *dir, const char *text, const char *name, unsigned long id,
		    unsigned long *start, unsigned long *count)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/subuid", dir);
	testutil_write_file(p, text, strlen(text));
	return rootless_subid_range(p, name, id, 4242, start, count, &test_err);
}

static void test_subid_range(void **state)
{
	const char *dir = *state;
	unsigned long start = 0, count = 0;
	char p[4096];

	assert_int_equal(
	    range_of(dir, "bob:100000:65536\nalice:165536:1000\n", "alice", 1000, &start, &count), 1);
	assert_int_equal(start, 165536);
	assert_int_equal(count, 1000);
	/* By uid, the first range only; malformed and empty ranges skipped. */
	assert_int_equal(
	    range_of(dir, "# comment\ncarol:x:10\ncarol:5:0\n1001:200000:500\n1001:300000:7\ncarol:1:2:3\n",
		     "carol", 1001, &start, &count),
	    1);
	assert_int_equal(start, 200000);
	assert_int_equal(count, 500);
	/* No entry; a name is not a prefix match. */
	assert_int_equal(range_of(dir, "bobby:100000:65536\n", "bob", 7, &start, &count), 0);
	assert_int_equal(range_of(dir, "", "bob", 7, &start, &count), 0);
	snprintf(p, sizeof(p), "%s/missing", dir);
	assert_int_equal(rootless_subid_range(p, "bob", 7, 4242, &start, &count, &test_err), 0);
}

/* Lines newuidmap would refuse are skipped, not half-read: empty fields
 * (strtok would merge "bob::5:6" into bob:5:6), ids past 32 bits, a range
 * holding the caller's own id (the kernel refuses overlapping maps). */
static void test_subid_range_strict(void **state)
{
	const char *dir = *state;
	unsigned long start = 0, count = 0;

	assert_int_equal(range_of(dir, "bob::5:6\n:bob:5:6\nbob:5::6\nbob:5:6:\n", "bob", 7, &start, &count),
			 0);
	assert_int_equal(range_of(dir, "bob:4294967290:10\nbob:99999999999999999999:1\nbob:1:4294967295\n",
				  "bob", 7, &start, &count),
			 0);
	assert_int_equal(range_of(dir, "bob:4294967200:95\n", "bob", 7, &start, &count), 1);
	assert_int_equal(start, 4294967200UL);
	assert_int_equal(count, 95);
	/* 4242 is the caller's own id here. */
	assert_int_equal(range_of(dir, "bob:4000:1000\nbob:4242:1\nbob:300000:9\n", "bob", 7, &start, &count),
			 1);
	assert_int_equal(start, 300000);
	assert_int_equal(count, 9);
	assert_int_equal(range_of(dir, "bob:4243:10\n", "bob", 7, &start, &count), 1);
	assert_int_equal(start, 4243);
}

/* The parent leaves the terminal's ^C and ^\ (sent by the kernel to the
 * whole foreground process group, the namespace's process included) alone,
 * and passes a kill() on, and a hangup (sent to the session leader only). */
static void test_forwards(void **state)
{
	siginfo_t si;

	(void)state;
	memset(&si, 0, sizeof(si));
	si.si_code = SI_KERNEL;
	assert_false(rootless_forwards(SIGINT, &si));
	assert_false(rootless_forwards(SIGQUIT, &si));
	assert_true(rootless_forwards(SIGHUP, &si));
	assert_true(rootless_forwards(SIGTERM, &si));
	si.si_code = SI_USER;
	assert_true(rootless_forwards(SIGINT, &si));
	assert_true(rootless_forwards(SIGQUIT, &si));
	si.si_code = SI_QUEUE;
	assert_true(rootless_forwards(SIGINT, &si));
	si.si_code = SI_TKILL;
	assert_true(rootless_forwards(SIGTERM, &si));
}

static void test_root_stays(void **state)
{
	int code = -1;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(rootless_enter(&code, &test_err), 0);
	assert_int_equal(code, -1);
	assert_false(rootless_active());
	assert_true(rootless_real_root());
	assert_null(rootless_unavailable());
	assert_string_equal(rootless_overlay_xattr("opaque"), "trusted.overlay.opaque");
	assert_string_equal(rootless_overlay_xattr("metacopy"), "trusted.overlay.metacopy");
	assert_null(rootless_overlay_xattr("upper"));
}

static char *read_marker(const char *root)
{
	static char buf[64];
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/overlay-xattrs", root);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	return buf;
}

static void test_store_marker(void **state)
{
	const char *root = *state;
	struct snapshot_dir sd = {.fd = -1};
	struct ocb_error err = OCB_ERROR_INIT;
	char p[4096];

	if (geteuid() != 0)
		skip();
	assert_ok(snapshot_dir_open(&sd, root, &test_err));
	snapshot_dir_release(&sd);
	assert_string_equal(read_marker(root), "trusted\n");
	/* A rootless store is refused as root. */
	snprintf(p, sizeof(p), "%s/overlay-xattrs", root);
	testutil_write_file(p, "user\n", 5);
	assert_int_equal(snapshot_dir_open(&sd, root, &err), -1);
	assert_int_equal(err.code, OCB_EENV);
	assert_non_null(strstr(err.msg, "user.overlay.* xattrs (rootless)"));
	snapshot_dir_release(&sd);
}

static void test_store_marker_legacy(void **state)
{
	const char *root = *state;
	struct snapshot_dir sd = {.fd = -1};
	char p[4096];

	if (geteuid() != 0)
		skip();
	/* Snapshots and no marker: made as root before the marker existed. */
	snprintf(p, sizeof(p), "%s/snapshots", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/snapshots/0123", root);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_ok(snapshot_dir_open(&sd, root, &test_err));
	snapshot_dir_release(&sd);
	assert_string_equal(read_marker(root), "trusted\n");
}

/* A marker that is not a regular file (a fifo would block the open, a
 * directory the read) is an error, at once. */
static void test_store_marker_not_file(void **state)
{
	const char *root = *state;
	struct snapshot_dir sd = {.fd = -1};
	struct ocb_error err = OCB_ERROR_INIT;
	char p[4096];

	if (geteuid() != 0)
		skip();
	snprintf(p, sizeof(p), "%s/overlay-xattrs", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10); /* fails the test rather than hanging it */
	assert_int_equal(snapshot_dir_open(&sd, root, &err), -1);
	alarm(0);
	assert_int_equal(err.code, OCB_EENV);
	assert_non_null(strstr(err.msg, "not a regular file"));
	snapshot_dir_release(&sd);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	err = (struct ocb_error)OCB_ERROR_INIT;
	assert_int_equal(snapshot_dir_open(&sd, root, &err), -1);
	assert_int_equal(err.code, OCB_EENV);
	snapshot_dir_release(&sd);
}

/* The platforms of a multi-platform build open a fresh store at once, from
 * threads of one process: every open succeeds and one marker results (a temp
 * name made from the pid alone let one thread rename or unlink another's). */
#define RACE_THREADS 8
#define RACE_ROUNDS  25

struct race {
	const char *root;
	pthread_barrier_t *go;
	int rc;
	struct ocb_error err;
};

static void *race_open(void *arg)
{
	struct race *r = arg;
	struct snapshot_dir sd = {.fd = -1};

	pthread_barrier_wait(r->go);
	r->rc = snapshot_dir_open(&sd, r->root, &r->err);
	snapshot_dir_release(&sd);
	return NULL;
}

static void test_store_marker_threads(void **state)
{
	const char *dir = *state;

	if (geteuid() != 0)
		skip();
	for (int round = 0; round < RACE_ROUNDS; round++) {
		struct race r[RACE_THREADS];
		pthread_t t[RACE_THREADS];
		pthread_barrier_t go;
		char root[4096];

		snprintf(root, sizeof(root), "%s/store%d", dir, round);
		assert_int_equal(mkdir(root, 0700), 0);
		pthread_barrier_init(&go, NULL, RACE_THREADS);
		for (int i = 0; i < RACE_THREADS; i++) {
			r[i] = (struct race){.root = root, .go = &go, .err = OCB_ERROR_INIT};
			assert_int_equal(pthread_create(&t[i], NULL, race_open, &r[i]), 0);
		}
		for (int i = 0; i < RACE_THREADS; i++) {
			pthread_join(t[i], NULL);
			if (r[i].rc != 0)
				fail_msg("round %d, thread %d: %s", round, i, r[i].err.msg);
		}
		pthread_barrier_destroy(&go);
		assert_string_equal(read_marker(root), "trusted\n");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_subid_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subid_range_strict, setup, teardown),
	    cmocka_unit_test(test_forwards),
	    cmocka_unit_test(test_root_stays),
	    cmocka_unit_test_setup_teardown(test_store_marker, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_marker_legacy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_marker_not_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_marker_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
