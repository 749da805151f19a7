#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/archive.h"
#include "oci/json.h"

struct fixture {
	char *dir;
	char store[4096];
	struct oci_layout l;
	struct oci_descriptor img;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = testutil_mkdtemp();
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
	assert_ok(oci_layout_open(&f->l, f->store, true, &test_err));
	testutil_make_image(&f->l, "linux/amd64", "hello archive\n", &f->img);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	oci_descriptor_release(&f->img);
	oci_layout_release(&f->l);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *path_in(const struct fixture *f, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void assert_same_file(const char *a, const char *b)
{
	size_t alen, blen;
	char *x = slurp(a, &alen), *y = slurp(b, &blen);

	assert_int_equal(alen, blen);
	assert_memory_equal(x, y, alen);
	free(x);
	free(y);
}

static void open_store(struct fixture *f, const char *name, struct oci_layout *l)
{
	char *p = path_in(f, name);

	assert_ok(oci_layout_open(l, p, true, &test_err));
	free(p);
}

static void test_oci_archive_round_trip(void **state)
{
	struct fixture *f = *state;
	char *a1 = path_in(f, "a1.tar"), *a2 = path_in(f, "a2.tar"), *x = path_in(f, "x");
	struct oci_layout ex, s2;
	struct oci_descriptor got;
	struct oci_loaded *v = NULL;
	size_t n = 0;

	assert_ok(oci_archive_write_oci(&f->l, &f->img, "latest", 1700000000, a1, &test_err));
	assert_ok(oci_archive_write_oci(&f->l, &f->img, "latest", 1700000000, a2, &test_err));
	assert_same_file(a1, a2);

	assert_ok(oci_archive_extract_oci(a1, x, &test_err));
	assert_ok(oci_layout_open(&ex, x, false, &test_err));
	assert_ok(oci_layout_lookup(&ex, "latest", &got, NULL, &test_err));
	assert_string_equal(got.digest.str, f->img.digest.str);
	assert_ok(oci_layout_verify(&ex, &got, &test_err));
	oci_descriptor_release(&got);
	oci_layout_release(&ex);

	open_store(f, "s2", &s2);
	assert_ok(oci_archive_load(&s2, a1, f->dir, &v, &n, &test_err));
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "latest");
	assert_string_equal(v[0].desc.digest.str, f->img.digest.str);
	assert_null(v[0].desc.annotations);
	assert_ok(oci_layout_verify(&s2, &v[0].desc, &test_err));
	oci_loaded_free(v, n);
	oci_layout_release(&s2);
	free(a1);
	free(a2);
	free(x);
}

static void test_docker_archive_round_trip(void **state)
{
	struct fixture *f = *state;
	char *d1 = path_in(f, "d1.tar"), *d2 = path_in(f, "d2.tar");
	char *tags[] = {"busybox:latest", "localhost:5000/x/y:1", NULL};
	struct oci_image img, back;
	struct oci_layout s2;
	struct oci_loaded *v = NULL;
	size_t n = 0;

	assert_ok(oci_layout_resolve(&f->l, &f->img, NULL, &img, &test_err));
	assert_ok(oci_archive_write_docker(&f->l, &img, tags, 0, d1, &test_err));
	assert_ok(oci_archive_write_docker(&f->l, &img, tags, 0, d2, &test_err));
	assert_same_file(d1, d2);

	open_store(f, "s2", &s2);
	assert_ok(oci_archive_load(&s2, d1, f->dir, &v, &n, &test_err));
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "busybox:latest");
	assert_string_equal(v[1].name, "localhost:5000/x/y:1");
	assert_string_equal(v[0].desc.digest.str, v[1].desc.digest.str);
	assert_string_equal(v[0].desc.platform->architecture, "amd64");
	assert_ok(oci_layout_resolve(&s2, &v[0].desc, NULL, &back, &test_err));
	/* The config travels byte for byte (same image id); the layer comes
	 * back uncompressed, so its digest is its diff_id. */
	assert_string_equal(back.manifest.config.digest.str, img.manifest.config.digest.str);
	assert_int_equal(back.manifest.n_layers, 1);
	assert_string_equal(back.manifest.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
	assert_string_equal(back.manifest.layers[0].digest.str, img.config.diff_ids[0].str);
	assert_string_equal(back.config.config.entrypoint[0], "/bin/cat");
	assert_ok(oci_layout_verify(&s2, &v[0].desc, &test_err));
	oci_image_release(&back);
	oci_loaded_free(v, n);
	oci_layout_release(&s2);
	oci_image_release(&img);
	free(d1);
	free(d2);
}

static void test_docker_export_refuses_corrupt_layer(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f, "bad.tar");
	struct oci_image img;
	struct ocb_error err = OCB_ERROR_INIT;
	char blob[8192];
	int fd;

	assert_ok(oci_layout_resolve(&f->l, &f->img, NULL, &img, &test_err));
	snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", f->store,
		 oci_digest_hex(&img.manifest.layers[0].digest));
	fd = open(blob, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff", 1, 20), 1);
	close(fd);
	assert_int_equal(oci_archive_write_docker(&f->l, &img, NULL, 0, out, &err), -1);
	assert_true(err.code == OCB_EDIGEST || err.code == OCB_EINVAL);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(oci_archive_write_oci(&f->l, &f->img, "x", 0, out, &err), -1);
	assert_int_equal(err.code, OCB_EDIGEST);
	assert_int_equal(access(out, F_OK), -1);
	oci_image_release(&img);
	free(out);
}

struct member {
	const char *name;
	char type; /* f file, d dir, l symlink, h hardlink */
	const char *data;
};

static void write_tar(const char *path, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_perm(e, 0644);
		if (m[i].type == 'f') {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(m[i].data));
		} else if (m[i].type == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else if (m[i].type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, m[i].data);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, m[i].data);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].type == 'f')
			archive_write_data(a, m[i].data, strlen(m[i].data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static void expect_load_fails(struct fixture *f, const struct member *m, size_t n, enum ocb_code code,
			      const char *needle)
{
	char *p = path_in(f, "evil.tar");
	struct oci_loaded *v = NULL;
	size_t nv = 0;
	struct ocb_error err = OCB_ERROR_INIT;

	write_tar(p, m, n);
	if (oci_archive_load(&f->l, p, f->dir, &v, &nv, &err) == 0)
		fail_msg("loaded a bad archive (%s)", needle);
	if (err.code != code || !strstr(err.msg, needle))
		fail_msg("error %d '%s', want %d with '%s'", err.code, err.msg, code, needle);
	assert_null(v);
	unlink(p);
	free(p);
}

#define CFG_HEAD                                                                                             \
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
#define ABC_SHA "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_docker_import_rejects(void **state)
{
	struct fixture *f = *state;
	const char *cfg_ok = CFG_HEAD ABC_SHA "\"]}}";
	const char *manifest =
	    "[{\"Config\":\"c.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l/layer.tar\"]}]";

	/* A good one first, so the rejects below differ by one thing. */
	{
		const struct member ok[] = {{"c.json", 'f', cfg_ok},
					    {"l/", 'd', NULL},
					    {"l/layer.tar", 'f', "abc"},
					    {"manifest.json", 'f', manifest}};
		char *p = path_in(f, "ok.tar");
		struct oci_loaded *v = NULL;
		size_t nv = 0;
		write_tar(p, ok, 4);
		assert_ok(oci_archive_load(&f->l, p, f->dir, &v, &nv, &test_err));
		assert_int_equal(nv, 1);
		assert_string_equal(v[0].name, "x:1");
		oci_loaded_free(v, nv);
		free(p);
	}
	{
		const struct member m[] = {
		    {"c.json", 'f', cfg_ok}, {"l/layer.tar", 'f', "abd"}, {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 3, OCB_EDIGEST, "the config says diff_id");
	}
	{
		const struct member m[] = {{"../c.json", 'f', cfg_ok}, {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 2, OCB_EUNSAFE, "not a clean relative name");
	}
	{
		const struct member m[] = {{"/c.json", 'f', cfg_ok}, {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 2, OCB_EUNSAFE, "absolute");
	}
	{
		const struct member m[] = {{"c.json", 'f', cfg_ok},
					   {"l/layer.tar", 'l', "../../etc/passwd"},
					   {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 3, OCB_EUNSAFE, "links outside");
	}
	{
		const struct member m[] = {{"c.json", 'f', cfg_ok},
					   {"l/layer.tar", 'l', "/etc/passwd"},
					   {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 3, OCB_EUNSAFE, "links outside");
	}
	{
		const struct member m[] = {{"c.json", 'f', cfg_ok},
					   {"l/layer.tar", 'l', "layer.tar"},
					   {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 3, OCB_EUNSAFE, "too many levels");
	}
	{
		const struct member m[] = {{"c.json", 'f', cfg_ok}, {"l/layer.tar", 'f', "abc"}};
		expect_load_fails(f, m, 2, OCB_EINVAL, "neither");
	}
	{
		const struct member m[] = {{"c.json", 'f', cfg_ok}, {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 2, OCB_EINVAL, "missing member 'l/layer.tar'");
	}
	{
		const struct member m[] = {{"c.json", 'f', "{\"os\":1}"},
					   {"l/layer.tar", 'f', "abc"},
					   {"manifest.json", 'f', manifest}};
		expect_load_fails(f, m, 3, OCB_EINVAL, "config 'c.json'");
	}
	{
		const struct member m[] = {{"manifest.json", 'f', "{\"Config\":1}"}};
		expect_load_fails(f, m, 1, OCB_EINVAL, "manifest.json");
	}
	{
		const struct member m[] = {{"c.json", 'f', cfg_ok},
					   {"l/layer.tar", 'f', "abc"},
					   {"manifest.json", 'f', "[{\"Config\":\"c.json\",\"Layers\":[]}]"}};
		expect_load_fails(f, m, 3, OCB_EINVAL, "0 layers but the config has 1");
	}
	/* Links inside the archive are followed (Docker >= 25 writes them). */
	{
		const struct member m[] = {
		    {"blobs/sha256/x", 'f', "abc"},
		    {"l/layer.tar", 'l', "../blobs/sha256/x"},
		    {"c.json", 'h', "blobs/sha256/x"},
		    {"d.json", 'f', cfg_ok},
		    {"manifest.json", 'f', "[{\"Config\":\"d.json\",\"Layers\":[\"l/layer.tar\"]}]"}};
		char *p = path_in(f, "links.tar");
		struct oci_loaded *v = NULL;
		size_t nv = 0;
		write_tar(p, m, 5);
		assert_ok(oci_archive_load(&f->l, p, f->dir, &v, &nv, &test_err));
		assert_int_equal(nv, 1);
		assert_null(v[0].name);
		oci_loaded_free(v, nv);
		free(p);
	}
}

static void test_oci_extract_rejects(void **state)
{
	struct fixture *f = *state;
	char idx[512];
	const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";

	snprintf(idx, sizeof(idx), "{\"schemaVersion\":2,\"manifests\":[]}");
	{
		const struct member m[] = {
		    {"oci-layout", 'f', layout},
		    {"index.json", 'f', idx},
		    {"blobs/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 'f',
		     "abd"}};
		expect_load_fails(f, m, 3, OCB_EDIGEST, "");
	}
	{
		const struct member m[] = {
		    {"oci-layout", 'f', layout}, {"index.json", 'f', idx}, {"evil", 'f', "x"}};
		expect_load_fails(f, m, 3, OCB_EINVAL, "unexpected member 'evil'");
	}
	{
		const struct member m[] = {{"oci-layout", 'f', layout},
					   {"index.json", 'f', idx},
					   {"blobs/sha256/ab", 'l', "/etc/passwd"}};
		expect_load_fails(f, m, 3, OCB_EUNSAFE, "not a regular file");
	}
	{
		const struct member m[] = {
		    {"oci-layout", 'f', layout}, {"index.json", 'f', idx}, {"blobs/../../x", 'f', "x"}};
		expect_load_fails(f, m, 3, OCB_EUNSAFE, "not a clean relative name");
	}
	{
		const struct member m[] = {{"index.json", 'f', idx}};
		expect_load_fails(f, m, 1, OCB_EINVAL, "missing 'oci-layout'");
	}
	{
		const struct member m[] = {{"oci-layout", 'f', layout},
					   {"index.json", 'f', "{\"schemaVersion\":1}"}};
		expect_load_fails(f, m, 2, OCB_EINVAL, "schemaVersion");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_oci_archive_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_docker_archive_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_docker_export_refuses_corrupt_layer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_docker_import_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oci_extract_rejects, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
