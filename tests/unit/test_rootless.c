/* Rootless mode (builder/rootless.h): the subordinate id files are parsed as
 * newuidmap reads them, root neither forks nor changes conventions, and a
 * store records which overlay xattrs its snapshots carry (snapshot.c). */
#include <errno.h>
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
	return rootless_subid_range(p, name, id, start, count, &test_err);
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
	assert_int_equal(rootless_subid_range(p, "bob", 7, &start, &count, &test_err), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_subid_range, setup, teardown),
	    cmocka_unit_test(test_root_stays),
	    cmocka_unit_test_setup_teardown(test_store_marker, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_marker_legacy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
