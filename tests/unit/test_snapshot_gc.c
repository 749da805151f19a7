/* Snapshot collection (builder/snapshot.h, snapshot_gc.c) and the store lock
 * (builder/store_lock.h): what a named image runs on stays, the rest and the
 * leftovers of killed processes go, without following a symlink out of the
 * store; a collector cannot start while a build holds the lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/snapshot.h"
#include "builder/store_lock.h"
#include "oci/layout.h"
#include "oci/banned.h"

struct fixture {
	char *dir;
	char root[4096];
	struct oci_layout l;
	char named[OCI_DIGEST_HEX_LEN + 1];   /* diff_id of the named image's layer */
	char unnamed[OCI_DIGEST_HEX_LEN + 1]; /* of an image index.json does not name */
};

static void layer_hex(struct oci_layout *l, const struct oci_descriptor *m, char *out)
{
	struct oci_image img = {0};

	assert_ok(oci_layout_resolve(l, m, NULL, &img, &test_err));
	assert_int_equal(img.config.n_diff_ids, 1);
	snprintf(out, OCI_DIGEST_HEX_LEN + 1, "%s", oci_digest_hex(&img.config.diff_ids[0]));
	oci_image_release(&img);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct oci_descriptor a = {0}, b = {0};

	f->dir = testutil_mkdtemp();
	snprintf(f->root, sizeof(f->root), "%s/store", f->dir);
	assert_ok(oci_layout_open(&f->l, f->root, true, &test_err));
	testutil_make_image(&f->l, "linux/amd64", "named", &a);
	testutil_make_image(&f->l, "linux/amd64", "unnamed", &b);
	assert_ok(oci_layout_set_ref(&f->l, "docker.io/library/a:1", &a, &test_err));
	layer_hex(&f->l, &a, f->named);
	layer_hex(&f->l, &b, f->unnamed);
	oci_descriptor_release(&a);
	oci_descriptor_release(&b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	oci_layout_release(&f->l);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* root/snapshots/name/file holding size bytes. */
static void make_snapshot(struct fixture *f, const char *name, size_t size)
{
	char p[8192];
	char *buf = calloc(1, size + 1);

	snprintf(p, sizeof(p), "%s/snapshots/%s", f->root, name);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/snapshots/%s/file", f->root, name);
	testutil_write_file(p, buf, size);
	free(buf);
}

static bool exists(struct fixture *f, const char *name)
{
	char p[8192];
	struct stat st;

	snprintf(p, sizeof(p), "%s/snapshots/%s", f->root, name);
	return lstat(p, &st) == 0;
}

static void test_gc_keeps_named_images(void **state)
{
	struct fixture *f = *state;
	struct snapshot_dir sd = {.fd = -1, .lock_fd = -1};
	struct snapshot_gc_result r = {0};
	char stray[OCI_DIGEST_HEX_LEN + 1], p[8192], outside[4096];

	assert_ok(snapshot_dir_open_exclusive(&sd, f->root, 0, &test_err));
	memset(stray, 'e', OCI_DIGEST_HEX_LEN);
	stray[OCI_DIGEST_HEX_LEN] = 0;
	make_snapshot(f, f->named, 100);
	make_snapshot(f, f->unnamed, 1000);
	make_snapshot(f, stray, 10);
	make_snapshot(f, ".tmp-killed-extraction", 1);
	make_snapshot(f, ".gc-killed-collection", 2);
	make_snapshot(f, "not-a-snapshot", 5);
	/* A hostile symlink inside a snapshot: the target outside survives. */
	snprintf(outside, sizeof(outside), "%s/outside", f->dir);
	testutil_write_file(outside, "keep", 4);
	snprintf(p, sizeof(p), "%s/snapshots/%s/escape", f->root, stray);
	assert_int_equal(symlink(outside, p), 0);

	assert_ok(snapshot_gc(&sd, &f->l, false, &r, &test_err));
	assert_int_equal(r.removed, 2);
	assert_int_equal(r.bytes, 1000 + 10 + 1 + 2);
	assert_true(exists(f, f->named));
	assert_false(exists(f, f->unnamed));
	assert_false(exists(f, stray));
	assert_false(exists(f, ".tmp-killed-extraction"));
	assert_false(exists(f, ".gc-killed-collection"));
	assert_true(exists(f, "not-a-snapshot"));
	assert_int_equal(access(outside, F_OK), 0);

	/* all: the named image's snapshot goes too. */
	assert_ok(snapshot_gc(&sd, &f->l, true, &r, &test_err));
	assert_int_equal(r.removed, 1);
	assert_int_equal(r.bytes, 100);
	assert_false(exists(f, f->named));
	snapshot_dir_release(&sd);
}

static void test_gc_unreadable_image_removes_nothing(void **state)
{
	struct fixture *f = *state;
	struct snapshot_dir sd = {.fd = -1, .lock_fd = -1};
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_index x = {0};
	char p[8192];

	assert_ok(snapshot_dir_open_exclusive(&sd, f->root, 0, &test_err));
	make_snapshot(f, f->unnamed, 1);
	/* The named image's manifest blob disappears. */
	assert_ok(oci_layout_read_index(&f->l, &x, &test_err));
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", f->root, oci_digest_hex(&x.manifests[0].digest));
	oci_index_release(&x);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(snapshot_gc(&sd, &f->l, false, NULL, &err), -1);
	assert_true(exists(f, f->unnamed));
	snapshot_dir_release(&sd);
}

static void test_lock_excludes_collector(void **state)
{
	struct fixture *f = *state;
	struct snapshot_dir build = {.fd = -1, .lock_fd = -1}, other = {.fd = -1, .lock_fd = -1};
	struct snapshot_dir gc = {.fd = -1, .lock_fd = -1};
	struct ocb_error err = OCB_ERROR_INIT;
	int fd = -1;

	/* Builds share the lock... */
	assert_ok(snapshot_dir_open(&build, f->root, &test_err));
	assert_ok(snapshot_dir_open(&other, f->root, &test_err));
	snapshot_dir_release(&other);
	/* ...which keeps a collector out, with exit status 3. */
	assert_int_equal(snapshot_dir_open_exclusive(&gc, f->root, 100, &err), -1);
	assert_int_equal(err.code, OCB_EENV);
	assert_non_null(strstr(err.msg, "in use"));
	assert_int_equal(ocb_error_exit_code(&err), 3);
	snapshot_dir_release(&gc); /* safe after a failed open */
	assert_int_equal(gc.lock_fd, -1);
	/* So does an import's or a pull's shared lock. */
	snapshot_dir_release(&build);
	assert_ok(store_lock_shared(f->root, &fd, &test_err));
	assert_int_equal(snapshot_dir_open_exclusive(&gc, f->root, 0, &err), -1);
	store_lock_release(fd);
	/* Alone: the collector gets it. */
	assert_ok(snapshot_dir_open_exclusive(&gc, f->root, 0, &test_err));
	snapshot_dir_release(&gc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_gc_keeps_named_images, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gc_unreadable_image_removes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_excludes_collector, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
