#include "testutil.h"

#include <archive.h>
#include <errno.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/compress.h"
#include "oci/layout.h"
#include "oci/strv.h"

struct ocb_error test_err = OCB_ERROR_INIT;

char *testutil_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;

	if (asprintf(&path, "%s/ocb-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		fail_msg("asprintf");
	if (!mkdtemp(path))
		fail_msg("mkdtemp %s", path);
	return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void testutil_rmtree(const char *path)
{
	if (!path || !*path || !strcmp(path, "/"))
		return;
	nftw(path, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
}

void testutil_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		fail_msg("open %s", path);
	if (write(fd, data, len) != (ssize_t)len)
		fail_msg("write %s", path);
	close(fd);
}

void *testutil_make_tar(const char *name, const char *content, size_t *len)
{
	size_t cap = 64 * 1024 + strlen(content) * 2, used = 0;
	char *buf = calloc(1, cap);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	if (!buf || !a || !e)
		fail_msg("out of memory");
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK)
		fail_msg("archive_write_open_memory: %s", archive_error_string(a));
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_entry_set_mtime(e, 1700000000, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, content, strlen(content)) != (la_ssize_t)strlen(content))
		fail_msg("tar: %s", archive_error_string(a));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	*len = used;
	return buf;
}

struct membuf {
	char *data;
	size_t len;
};

static int membuf_sink(void *opaque, const void *data, size_t len, struct ocb_error *err)
{
	struct membuf *m = opaque;
	char *p = realloc(m->data, m->len + len);

	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	memcpy(p + m->len, data, len);
	m->data = p;
	m->len += len;
	return 0;
}

void testutil_make_image(struct oci_layout *l, const char *platform, const char *content,
			 struct oci_descriptor *out)
{
	struct oci_compressor *c = NULL;
	struct membuf gz = {0};
	struct oci_platform p;
	struct oci_image_config cfg;
	struct oci_descriptor layer;
	struct oci_digest diff_id, blob;
	struct oci_history h = {.created = "2023-11-14T22:13:20Z", .created_by = "ocb test"};
	size_t tar_len;
	char *tar = testutil_make_tar("hello.txt", content, &tar_len);

	assert_ok(oci_compressor_new(&c, OCI_COMPRESSION_GZIP, 0, membuf_sink, &gz, &test_err));
	assert_ok(oci_compressor_write(c, tar, tar_len, &test_err));
	assert_ok(oci_compressor_finish(c, &test_err));
	oci_compressor_free(c);
	assert_ok(oci_digest_buffer(tar, tar_len, &diff_id, &test_err));
	assert_ok(oci_blobstore_put(&l->bs, gz.data, gz.len, &blob, &test_err));
	assert_ok(oci_descriptor_init(&layer, OCI_MEDIA_TYPE_LAYER_GZIP, &blob, (int64_t)gz.len, &test_err));

	assert_ok(oci_platform_parse(platform, &p, &test_err));
	assert_ok(oci_config_init(&cfg, &p, &test_err));
	oci_platform_release(&p);
	cfg.created = strdup("2023-11-14T22:13:20Z");
	assert_ok(oci_strv_push(&cfg.config.entrypoint, "/bin/cat", &test_err));
	assert_ok(oci_strv_push(&cfg.config.cmd, "/hello.txt", &test_err));
	assert_ok(oci_config_set_env(&cfg, "PATH", "/bin", &test_err));
	cfg.config.healthcheck = calloc(1, sizeof(*cfg.config.healthcheck));
	assert_ok(oci_strv_push(&cfg.config.healthcheck->test, "NONE", &test_err));
	assert_ok(oci_config_add_layer(&cfg, &diff_id, &h, &test_err));
	assert_ok(oci_layout_put_image(l, &cfg, &layer, 1, NULL, out, &test_err));
	oci_config_release(&cfg);
	oci_descriptor_release(&layer);
	free(gz.data);
	free(tar);
}
