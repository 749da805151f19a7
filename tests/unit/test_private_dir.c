/* The store's private directories (builder/private_dir.h): what layers and
 * steps made as root (setuid binaries, device nodes) must stay out of other
 * users' reach even when the directory existed before with a looser mode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/private_dir.h"
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

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_snapshots_dir_made_private(void **state)
{
	const char *root = *state;
	struct snapshot_dir sd = {.fd = -1};
	char p[4096];

	snprintf(p, sizeof(p), "%s/snapshots", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chmod(p, 0755), 0);
	assert_ok(snapshot_dir_open(&sd, root, &test_err));
	snapshot_dir_release(&sd);
	assert_int_equal(mode_of(p), 0700);
}

static void test_private_dir(void **state)
{
	const char *root = *state;
	struct ocb_error err = OCB_ERROR_INIT;
	char p[4096], q[4096];

	snprintf(p, sizeof(p), "%s/new", root);
	assert_ok(build_private_dir(p, &test_err));
	assert_int_equal(mode_of(p), 0700);
	/* Setgid and sticky bits are kept, group and other bits go. */
	assert_int_equal(chmod(p, 02777), 0);
	assert_ok(build_private_dir(p, &test_err));
	assert_int_equal(mode_of(p), 02700);
	/* A symlink (to a directory someone else controls) is refused. */
	snprintf(q, sizeof(q), "%s/link", root);
	assert_int_equal(symlink(p, q), 0);
	assert_int_equal(build_private_dir(q, &err), -1);
	assert_int_equal(err.code, OCB_EENV);
	/* So is a directory another user owns (they could plant anything). */
	if (geteuid() == 0) {
		snprintf(q, sizeof(q), "%s/theirs", root);
		assert_int_equal(mkdir(q, 0755), 0);
		assert_int_equal(chown(q, 1000, 1000), 0);
		assert_int_equal(build_private_dir(q, &err), -1);
		assert_int_equal(err.code, OCB_EENV);
		assert_int_equal(mode_of(q), 0755);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_snapshots_dir_made_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_private_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
