#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/json.h"
#include "oci/layout.h"

struct fixture {
	char *dir;
	char path[4096];
	struct oci_layout l;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = testutil_mkdtemp();
	snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
	assert_ok(oci_layout_open(&f->l, f->path, true, &test_err));
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

static char *read_text(const char *dir, const char *name)
{
	char path[4096];
	char *buf = calloc(1, 1 << 20);
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, (1 << 20) - 1);
	assert_true(n >= 0);
	close(fd);
	return buf;
}

static void test_layout_create_and_open(void **state)
{
	struct fixture *f = *state;
	struct oci_layout l2;
	struct ocb_error err = OCB_ERROR_INIT;
	char *text;

	text = read_text(f->path, "index.json");
	assert_string_equal(text,
			    "{\"manifests\":[],\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
			    "\"schemaVersion\":2}");
	free(text);
	text = read_text(f->path, "oci-layout");
	assert_non_null(strstr(text, "\"imageLayoutVersion\""));
	free(text);
	assert_ok(oci_layout_open(&l2, f->path, false, &test_err));
	oci_layout_release(&l2);
	assert_int_equal(oci_layout_open(&l2, f->dir, false, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
}

static void test_layout_refs(void **state)
{
	struct fixture *f = *state;
	struct oci_descriptor img, img2, got;
	struct oci_index x;
	struct ocb_error err = OCB_ERROR_INIT;
	char *name = NULL, prefix[16];

	testutil_make_image(&f->l, "linux/amd64", "one", &img);
	testutil_make_image(&f->l, "linux/amd64", "two", &img2);
	assert_ok(oci_layout_set_ref(&f->l, "docker.io/library/busybox:latest", &img, &test_err));
	assert_ok(oci_layout_set_ref(&f->l, "localhost:5000/app:1", &img2, &test_err));

	/* Full name, familiar name, short name, digest, digest prefix. */
	const char *queries[] = {"docker.io/library/busybox:latest", "busybox:latest", "busybox",
				 "index.docker.io/library/busybox", img.digest.str};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		assert_ok(oci_layout_lookup(&f->l, queries[i], &got, &name, &test_err));
		assert_string_equal(got.digest.str, img.digest.str);
		assert_string_equal(name, "docker.io/library/busybox:latest");
		free(name);
		oci_descriptor_release(&got);
	}
	snprintf(prefix, sizeof(prefix), "%.12s", oci_digest_hex(&img2.digest));
	assert_ok(oci_layout_lookup(&f->l, prefix, &got, NULL, &test_err));
	assert_string_equal(got.digest.str, img2.digest.str);
	oci_descriptor_release(&got);
	assert_int_equal(oci_layout_lookup(&f->l, "debian", &got, NULL, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);

	/* Replacing a name keeps one entry. */
	assert_ok(oci_layout_set_ref(&f->l, "docker.io/library/busybox:latest", &img2, &test_err));
	assert_ok(oci_layout_read_index(&f->l, &x, &test_err));
	assert_int_equal(x.n_manifests, 2);
	oci_index_release(&x);
	assert_ok(oci_layout_lookup(&f->l, "busybox", &got, NULL, &test_err));
	assert_string_equal(got.digest.str, img2.digest.str);
	oci_descriptor_release(&got);

	/* Two entries share img2's digest: a prefix is still unique. */
	assert_ok(oci_layout_lookup(&f->l, prefix, &got, NULL, &test_err));
	oci_descriptor_release(&got);

	assert_ok(oci_layout_remove_ref(&f->l, "docker.io/library/busybox:latest", &test_err));
	assert_int_equal(oci_layout_remove_ref(&f->l, "docker.io/library/busybox:latest", &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_ok(oci_layout_read_index(&f->l, &x, &test_err));
	assert_int_equal(x.n_manifests, 1);
	assert_string_equal(oci_layout_entry_name(&x.manifests[0]), "localhost:5000/app:1");
	oci_index_release(&x);
	oci_descriptor_release(&img);
	oci_descriptor_release(&img2);
}

static void test_layout_resolve_platforms(void **state)
{
	struct fixture *f = *state;
	struct oci_descriptor amd, arm, idx, entries[2];
	struct oci_platform p;
	struct oci_image img;
	struct ocb_error err = OCB_ERROR_INIT;

	testutil_make_image(&f->l, "linux/amd64", "amd", &amd);
	testutil_make_image(&f->l, "linux/arm64", "arm", &arm);
	assert_string_equal(arm.platform->variant, "v8");
	entries[0] = amd;
	entries[1] = arm;
	assert_ok(oci_layout_put_index(&f->l, entries, 2, &idx, &test_err));
	assert_string_equal(idx.media_type, OCI_MEDIA_TYPE_INDEX);

	assert_ok(oci_platform_parse("linux/arm64", &p, &test_err));
	assert_ok(oci_layout_resolve(&f->l, &idx, &p, &img, &test_err));
	assert_string_equal(img.desc.digest.str, arm.digest.str);
	assert_string_equal(img.config.platform.architecture, "arm64");
	assert_int_equal(img.manifest.n_layers, 1);
	oci_image_release(&img);

	/* A single manifest for the wrong platform: a clear error. */
	assert_int_equal(oci_layout_resolve(&f->l, &amd, &p, &img, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "is for platform 'linux/amd64', not 'linux/arm64/v8'"));
	oci_platform_release(&p);

	/* No platform asked: a manifest is taken as it is. */
	assert_ok(oci_layout_resolve(&f->l, &arm, NULL, &img, &test_err));
	oci_image_release(&img);

	assert_ok(oci_platform_parse("linux/s390x", &p, &test_err));
	assert_int_equal(oci_layout_resolve(&f->l, &idx, &p, &img, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	oci_platform_release(&p);
	oci_descriptor_release(&amd);
	oci_descriptor_release(&arm);
	oci_descriptor_release(&idx);
}

static int count_blobs(const char *layout)
{
	char cmd[4200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls '%s/blobs/sha256' | wc -l", layout);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void test_layout_copy_verify_gc(void **state)
{
	struct fixture *f = *state;
	struct oci_descriptor a, b, got;
	struct oci_layout out;
	struct ocb_error err = OCB_ERROR_INIT;
	char path[4096], blob[4200];
	uint64_t removed = 0, freed = 0;
	int fd;

	testutil_make_image(&f->l, "linux/amd64", "keep", &a);
	testutil_make_image(&f->l, "linux/amd64", "drop", &b);
	assert_ok(oci_layout_set_ref(&f->l, "docker.io/library/a:latest", &a, &test_err));
	assert_ok(oci_layout_set_ref(&f->l, "docker.io/library/b:latest", &b, &test_err));
	assert_int_equal(count_blobs(f->path), 6);

	/* Export: copy into a fresh layout under just the tag. */
	snprintf(path, sizeof(path), "%s/export", f->dir);
	assert_ok(oci_layout_open(&out, path, true, &test_err));
	assert_ok(oci_layout_copy(&out, &f->l, &a, &test_err));
	assert_ok(oci_layout_set_ref(&out, "latest", &a, &test_err));
	assert_int_equal(count_blobs(path), 3);
	assert_ok(oci_layout_lookup(&out, NULL, &got, NULL, &test_err)); /* the only one */
	assert_string_equal(got.digest.str, a.digest.str);
	oci_descriptor_release(&got);
	assert_int_equal(oci_layout_lookup(&f->l, "", &got, NULL, &err), -1); /* two: ambiguous */
	assert_int_equal(err.code, OCB_EINVAL);
	assert_ok(oci_layout_lookup(&out, "latest", &got, NULL, &test_err));
	assert_ok(oci_layout_verify(&out, &got, &test_err));
	oci_descriptor_release(&got);

	/* Corrupt the layer blob in the export: verify names it. */
	{
		struct oci_image img;
		assert_ok(oci_layout_resolve(&out, &a, NULL, &img, &test_err));
		snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", path,
			 oci_digest_hex(&img.manifest.layers[0].digest));
		oci_image_release(&img);
	}
	chmod(blob, 0644);
	fd = open(blob, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 5), 1);
	close(fd);
	assert_int_equal(oci_layout_verify(&out, &a, &err), -1);
	assert_int_equal(err.code, OCB_EDIGEST);
	oci_layout_release(&out);

	/* rmi b, then gc: b's manifest, config and layer go, a's stay. */
	assert_ok(oci_layout_remove_ref(&f->l, "docker.io/library/b:latest", &test_err));
	assert_ok(oci_layout_gc(&f->l, 3600, &removed, &freed, &test_err));
	assert_int_equal(removed, 0); /* all too young */
	assert_ok(oci_layout_gc(&f->l, 0, &removed, &freed, &test_err));
	assert_int_equal(removed, 3);
	assert_true(freed > 0);
	assert_int_equal(count_blobs(f->path), 3);
	assert_ok(oci_layout_verify(&f->l, &a, &test_err));
	oci_descriptor_release(&a);
	oci_descriptor_release(&b);
}

/* Writers in several processes: the lock keeps every ref. */
static void test_layout_concurrent_set_ref(void **state)
{
	struct fixture *f = *state;
	struct oci_descriptor img;
	struct oci_index x;
	pid_t pids[4];

	testutil_make_image(&f->l, "linux/amd64", "shared", &img);
	for (int p = 0; p < 4; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct oci_layout l;
			int rc = oci_layout_open(&l, f->path, false, NULL);
			for (int i = 0; rc == 0 && i < 10; i++) {
				char name[64];
				snprintf(name, sizeof(name), "p%d:t%d", p, i);
				rc = oci_layout_set_ref(&l, name, &img, NULL);
			}
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (int p = 0; p < 4; p++) {
		int status = 0;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_ok(oci_layout_read_index(&f->l, &x, &test_err));
	assert_int_equal(x.n_manifests, 40);
	oci_index_release(&x);
	oci_descriptor_release(&img);
}

static void test_layout_rejects_bad_index(void **state)
{
	struct fixture *f = *state;
	struct oci_index x;
	struct ocb_error err = OCB_ERROR_INIT;
	char path[4200];

	snprintf(path, sizeof(path), "%s/index.json", f->path);
	testutil_write_file(path, "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:../../etc\"}]}",
			    61);
	assert_int_equal(oci_layout_read_index(&f->l, &x, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_non_null(strstr(err.msg, "index.json") ? err.msg : strstr(err.msg, "OCI layout"));
}

/* An `oci:DIR` input is untrusted: a FIFO as index.json or as a blob is an
 * error, not a hang (the alarm fails the test if it blocks). */
static void test_layout_fifo_is_not_a_hang(void **state)
{
	struct fixture *f = *state;
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_digest d;
	struct oci_index x;
	char path[4200];
	uint64_t size;
	int fd = -1;

	alarm(20);
	snprintf(path, sizeof(path), "%s/index.json", f->path);
	assert_int_equal(unlink(path) == 0 || errno == ENOENT, 1);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(oci_layout_read_index(&f->l, &x, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_ok(oci_digest_parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				   &d, &test_err));
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->path, oci_digest_hex(&d));
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_false(oci_blobstore_has(&f->l.bs, &d));
	assert_int_equal(oci_blobstore_open_blob(&f->l.bs, &d, &fd, &size, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_int_equal(fd, -1);
	alarm(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_layout_create_and_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_resolve_platforms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_copy_verify_gc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_concurrent_set_ref, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_rejects_bad_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_layout_fifo_is_not_a_hang, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
