#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/compress.h"
#include "oci/digest.h"

/* A growable memory sink for compressed bytes. */
struct membuf {
	unsigned char *data;
	size_t len, cap;
};

static int membuf_sink(void *opaque, const void *data, size_t len, struct ocb_error *err)
{
	struct membuf *m = opaque;

	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->data = realloc(m->data, m->cap);
		assert_non_null(m->data);
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	return 0;
}

/* Random bytes mixed with runs of text, so both paths of a codec are used. */
static unsigned char *make_data(size_t len)
{
	unsigned char *p = malloc(len ? len : 1);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		if ((i / 65536) % 2 == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = (unsigned char)x;
		} else {
			p[i] = "lorem ipsum dolor sit amet "[i % 27];
		}
	}
	return p;
}

static void compress_buf(enum oci_compression algo, const void *data, size_t len, size_t step,
			 struct membuf *out)
{
	struct oci_compressor *c = NULL;
	const unsigned char *p = data;

	memset(out, 0, sizeof(*out));
	assert_ok(oci_compressor_new(&c, algo, 0, membuf_sink, out, &test_err));
	for (size_t off = 0; off < len; off += step)
		assert_ok(oci_compressor_write(c, p + off, len - off < step ? len - off : step, &test_err));
	assert_ok(oci_compressor_finish(c, &test_err));
	oci_compressor_free(c);
}

/* A temp file holding data, opened for reading; the path is unlinked. */
static int temp_fd(const void *data, size_t len)
{
	char *dir = testutil_mkdtemp();
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/blob", dir);
	testutil_write_file(path, data, len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	testutil_rmtree(dir);
	free(dir);
	return fd;
}

/* Decompress all of data; returns -1 (err filled) or 0 with *out and *outlen. */
static int decompress_all(enum oci_compression algo, const void *data, size_t len, size_t bufsize,
			  unsigned char **out, size_t *outlen, struct oci_digest *seen, struct ocb_error *err)
{
	struct oci_decompressor *d = NULL;
	struct oci_hasher h;
	struct membuf m = {0};
	unsigned char *buf = malloc(bufsize);
	int fd = temp_fd(data, len);
	int ret = -1;
	ssize_t n;

	assert_ok(oci_hasher_init(&h, &test_err));
	if (oci_decompressor_new(&d, algo, fd, &h, err) < 0)
		goto out;
	while ((n = oci_decompressor_read(d, buf, bufsize, err)) > 0)
		membuf_sink(&m, buf, (size_t)n, NULL);
	if (n < 0)
		goto out;
	oci_hasher_final(&h, seen);
	*out = m.data;
	*outlen = m.len;
	m.data = NULL;
	ret = 0;
out:
	oci_decompressor_free(d);
	oci_hasher_release(&h);
	close(fd);
	free(buf);
	free(m.data);
	return ret;
}

static void roundtrip(enum oci_compression algo, enum oci_compression dec, size_t len, size_t step,
		      size_t bufsize)
{
	unsigned char *data = make_data(len), *back = NULL;
	struct membuf z;
	struct oci_digest want, seen;
	size_t backlen = 0;

	compress_buf(algo, data, len, step, &z);
	if (algo != OCI_COMPRESSION_NONE && len > 200000)
		assert_true(z.len < len); /* the text half compresses */
	assert_ok(decompress_all(dec, z.data, z.len, bufsize, &back, &backlen, &seen, &test_err));
	assert_int_equal(backlen, len);
	assert_memory_equal(back, data, len);
	/* The hasher saw exactly the compressed bytes. */
	assert_ok(oci_digest_buffer(z.data, z.len, &want, &test_err));
	assert_string_equal(seen.str, want.str);
	free(back);
	free(z.data);
	free(data);
}

static void test_roundtrip_gzip(void **state)
{
	roundtrip(OCI_COMPRESSION_GZIP, OCI_COMPRESSION_GZIP, 8 << 20, 1 << 20, 65536);
	roundtrip(OCI_COMPRESSION_GZIP, OCI_COMPRESSION_GZIP, 100000, 333, 7);
	roundtrip(OCI_COMPRESSION_GZIP, OCI_COMPRESSION_GZIP, 0, 1, 100);
	roundtrip(OCI_COMPRESSION_GZIP, OCI_COMPRESSION_AUTO, 300000, 4096, 65536);
}

static void test_roundtrip_zstd(void **state)
{
	roundtrip(OCI_COMPRESSION_ZSTD, OCI_COMPRESSION_ZSTD, 8 << 20, 1 << 20, 65536);
	roundtrip(OCI_COMPRESSION_ZSTD, OCI_COMPRESSION_ZSTD, 100000, 333, 7);
	roundtrip(OCI_COMPRESSION_ZSTD, OCI_COMPRESSION_ZSTD, 0, 1, 100);
	roundtrip(OCI_COMPRESSION_ZSTD, OCI_COMPRESSION_AUTO, 300000, 4096, 65536);
}

static void test_roundtrip_none(void **state)
{
	roundtrip(OCI_COMPRESSION_NONE, OCI_COMPRESSION_NONE, 1 << 20, 4096, 65536);
	roundtrip(OCI_COMPRESSION_NONE, OCI_COMPRESSION_AUTO, 300000, 4096, 1000);
	roundtrip(OCI_COMPRESSION_NONE, OCI_COMPRESSION_AUTO, 0, 1, 1000);
	roundtrip(OCI_COMPRESSION_NONE, OCI_COMPRESSION_AUTO, 1, 1, 1000);
}

static void expect_decompress_error(enum oci_compression algo, const void *data, size_t len, const char *msg)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_digest seen;
	unsigned char *back = NULL;
	size_t backlen = 0;

	assert_int_equal(decompress_all(algo, data, len, 65536, &back, &backlen, &seen, &err), -1);
	assert_null(back);
	assert_int_equal(err.code, OCB_EINVAL);
	if (!strstr(err.msg, msg))
		fail_msg("error '%s' does not mention '%s'", err.msg, msg);
}

static void check_truncation(enum oci_compression algo, const char *name)
{
	unsigned char *data = make_data(1 << 20);
	struct membuf z;

	compress_buf(algo, data, 1 << 20, 1 << 20, &z);
	expect_decompress_error(algo, z.data, z.len - 1, "truncated");
	expect_decompress_error(algo, z.data, z.len / 2, "truncated");
	expect_decompress_error(algo, z.data, 12, "truncated");
	expect_decompress_error(algo, z.data, 0, "empty");
	expect_decompress_error(OCI_COMPRESSION_AUTO, z.data, z.len - 4, name);
	free(z.data);
	free(data);
}

static void test_truncated_gzip(void **state)
{
	check_truncation(OCI_COMPRESSION_GZIP, "gzip");
}

static void test_truncated_zstd(void **state)
{
	check_truncation(OCI_COMPRESSION_ZSTD, "zstd");
}

static void check_corruption(enum oci_compression algo)
{
	unsigned char *data = make_data(1 << 20);
	struct membuf z;
	size_t positions[3];

	compress_buf(algo, data, 1 << 20, 1 << 20, &z);
	positions[0] = z.len / 3;
	positions[1] = z.len - 2; /* the gzip ISIZE / the zstd checksum */
	positions[2] = z.len - 6; /* the gzip CRC32 */
	for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
		z.data[positions[i]] ^= 0x10;
		expect_decompress_error(algo, z.data, z.len, "corrupt");
		z.data[positions[i]] ^= 0x10;
	}
	free(z.data);
	free(data);
}

static void test_corrupt_gzip(void **state)
{
	check_corruption(OCI_COMPRESSION_GZIP);
}

static void test_corrupt_zstd(void **state)
{
	check_corruption(OCI_COMPRESSION_ZSTD);
}

static void check_trailing_garbage(enum oci_compression algo, const char *msg)
{
	struct membuf z;

	compress_buf(algo, "hello", 5, 5, &z);
	membuf_sink(&z, "junk!", 5, NULL);
	expect_decompress_error(algo, z.data, z.len, msg);
	free(z.data);
}

static void test_trailing_garbage(void **state)
{
	check_trailing_garbage(OCI_COMPRESSION_GZIP, "trailing garbage");
	check_trailing_garbage(OCI_COMPRESSION_ZSTD, "corrupt zstd stream");
}

/* Concatenated members/frames decompress to the concatenated data. */
static void check_multi_member(enum oci_compression algo)
{
	struct membuf a, b;
	struct oci_digest seen;
	unsigned char *back = NULL;
	size_t backlen = 0;

	compress_buf(algo, "hello ", 6, 6, &a);
	compress_buf(algo, "world", 5, 5, &b);
	membuf_sink(&a, b.data, b.len, NULL);
	assert_ok(decompress_all(algo, a.data, a.len, 3, &back, &backlen, &seen, &test_err));
	assert_int_equal(backlen, 11);
	assert_memory_equal(back, "hello world", 11);
	free(back);
	free(a.data);
	free(b.data);
}

static void test_multi_member(void **state)
{
	check_multi_member(OCI_COMPRESSION_GZIP);
	check_multi_member(OCI_COMPRESSION_ZSTD);
}

static void test_gzip_header_deterministic(void **state)
{
	static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
	const size_t len = 2500000;
	const size_t steps[] = {1 << 20, 1000, 300001};
	unsigned char *data = make_data(len);
	struct membuf a, b;

	compress_buf(OCI_COMPRESSION_GZIP, data, len, 65536, &a);
	assert_memory_equal(a.data, header, sizeof(header)); /* mtime 0, no name */
	/* The output does not depend on how the input was split into writes. */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		compress_buf(OCI_COMPRESSION_GZIP, data, len, steps[i], &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
		free(b.data);
	}
	free(a.data);
	free(data);
}

static void test_zstd_deterministic(void **state)
{
	unsigned char *data = make_data(3 << 20);
	struct membuf a, b;

	compress_buf(OCI_COMPRESSION_ZSTD, data, 3 << 20, 1 << 20, &a);
	compress_buf(OCI_COMPRESSION_ZSTD, data, 3 << 20, 12345, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	free(a.data);
	free(b.data);
	free(data);
}

/* The reference tools read what we write. */
static void check_tool_reads(enum oci_compression algo, const char *tool)
{
	unsigned char *data = make_data(200000);
	char *dir = testutil_mkdtemp(), *cmd = NULL;
	char path[4096], raw[4096];
	struct membuf z;

	if (system("command -v gzip >/dev/null && command -v zstd >/dev/null") != 0)
		skip();
	compress_buf(algo, data, 200000, 65536, &z);
	snprintf(path, sizeof(path), "%s/blob", dir);
	testutil_write_file(path, z.data, z.len);
	snprintf(raw, sizeof(raw), "%s/raw", dir);
	testutil_write_file(raw, data, 200000);
	assert_true(asprintf(&cmd, "%s -dc < %s | cmp -s - %s", tool, path, raw) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	testutil_rmtree(dir);
	free(dir);
	free(z.data);
	free(data);
}

static void test_tools_read_output(void **state)
{
	check_tool_reads(OCI_COMPRESSION_GZIP, "gzip");
	check_tool_reads(OCI_COMPRESSION_ZSTD, "zstd");
}

/* We read what the reference tools write (gzip with a file name in its
 * header, zstd with its own frame options). */
static void check_read_tool_output(enum oci_compression algo, const char *tool)
{
	unsigned char *data = make_data(300000), *back = NULL;
	char *dir = testutil_mkdtemp(), *cmd = NULL, *buf;
	char raw[4096], packed[4096];
	struct oci_digest seen;
	size_t backlen = 0, len;
	FILE *fp;

	snprintf(raw, sizeof(raw), "%s/raw.tar", dir);
	snprintf(packed, sizeof(packed), "%s/packed", dir);
	testutil_write_file(raw, data, 300000);
	assert_true(asprintf(&cmd, "%s -c %s > %s", tool, raw, packed) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	fp = fopen(packed, "rb");
	assert_non_null(fp);
	buf = malloc(1 << 20);
	len = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	assert_ok(decompress_all(algo, buf, len, 4096, &back, &backlen, &seen, &test_err));
	assert_int_equal(backlen, 300000);
	assert_memory_equal(back, data, 300000);
	free(back);
	free(buf);
	testutil_rmtree(dir);
	free(dir);
	free(data);
}

static void test_read_tool_output(void **state)
{
	if (system("command -v gzip >/dev/null && command -v zstd >/dev/null") != 0)
		skip();
	check_read_tool_output(OCI_COMPRESSION_GZIP, "gzip -9");
	check_read_tool_output(OCI_COMPRESSION_AUTO, "gzip -1");
	check_read_tool_output(OCI_COMPRESSION_ZSTD, "zstd -q -19");
	check_read_tool_output(OCI_COMPRESSION_AUTO, "zstd -q --no-check");
}

static void test_media_types(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	enum oci_compression c;

	assert_string_equal(oci_compression_media_type(OCI_COMPRESSION_GZIP), OCI_MEDIA_TYPE_LAYER_GZIP);
	assert_string_equal(oci_compression_media_type(OCI_COMPRESSION_ZSTD),
			    "application/vnd.oci.image.layer.v1.tar+zstd");
	assert_string_equal(oci_compression_media_type(OCI_COMPRESSION_NONE), OCI_MEDIA_TYPE_LAYER);
	assert_null(oci_compression_media_type(OCI_COMPRESSION_AUTO));
	assert_ok(oci_compression_from_media_type(DOCKER_MEDIA_TYPE_LAYER_GZIP, &c, &test_err));
	assert_int_equal(c, OCI_COMPRESSION_GZIP);
	assert_ok(oci_compression_from_media_type(OCI_MEDIA_TYPE_LAYER_ZSTD, &c, &test_err));
	assert_int_equal(c, OCI_COMPRESSION_ZSTD);
	assert_ok(oci_compression_from_media_type(OCI_MEDIA_TYPE_LAYER, &c, &test_err));
	assert_int_equal(c, OCI_COMPRESSION_NONE);
	assert_int_equal(
	    oci_compression_from_media_type("application/vnd.oci.image.config.v1+json", &c, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_int_equal(oci_compression_from_media_type(NULL, &c, &err), -1);
}

static void test_names(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	enum oci_compression c;

	assert_ok(oci_compression_parse("zstd", &c, &test_err));
	assert_int_equal(c, OCI_COMPRESSION_ZSTD);
	assert_ok(oci_compression_parse("gzip", &c, &test_err));
	assert_int_equal(c, OCI_COMPRESSION_GZIP);
	assert_ok(oci_compression_parse("none", &c, &test_err));
	assert_int_equal(c, OCI_COMPRESSION_NONE);
	assert_string_equal(oci_compression_name(OCI_COMPRESSION_ZSTD), "zstd");
	assert_int_equal(oci_compression_parse("xz", &c, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_non_null(strstr(err.msg, "'xz'"));
}

static void test_bad_levels_and_misuse(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_compressor *c = NULL;
	struct membuf m = {0};

	assert_int_equal(oci_compressor_new(&c, OCI_COMPRESSION_GZIP, 9, membuf_sink, &m, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_int_equal(oci_compressor_new(&c, OCI_COMPRESSION_ZSTD, 99, membuf_sink, &m, &err), -1);
	assert_int_equal(oci_compressor_new(&c, OCI_COMPRESSION_AUTO, 0, membuf_sink, &m, &err), -1);
	assert_null(c);
	assert_ok(oci_compressor_new(&c, OCI_COMPRESSION_ZSTD, 1, membuf_sink, &m, &test_err));
	assert_ok(oci_compressor_finish(c, &test_err));
	assert_int_equal(oci_compressor_write(c, "x", 1, &err), -1);
	oci_compressor_free(c);
	oci_compressor_free(NULL);
	oci_decompressor_free(NULL);
	free(m.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_gzip),
	    cmocka_unit_test(test_roundtrip_zstd),
	    cmocka_unit_test(test_roundtrip_none),
	    cmocka_unit_test(test_truncated_gzip),
	    cmocka_unit_test(test_truncated_zstd),
	    cmocka_unit_test(test_corrupt_gzip),
	    cmocka_unit_test(test_corrupt_zstd),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_multi_member),
	    cmocka_unit_test(test_gzip_header_deterministic),
	    cmocka_unit_test(test_zstd_deterministic),
	    cmocka_unit_test(test_tools_read_output),
	    cmocka_unit_test(test_read_tool_output),
	    cmocka_unit_test(test_media_types),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_bad_levels_and_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
