#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "testutil.h"
#include "oci/tar.h"

/* Encode e and read its header back with libarchive into *out. */
static struct archive *read_back(const struct tar_entry *e, struct tar_buf *b, struct archive_entry **out)
{
	struct archive *a = archive_read_new();

	b->len = 0;
	assert_ok(tar_encode_header(e, b, &test_err));
	assert_int_equal(b->len % TAR_BLOCK, 0);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, b->data, b->len), ARCHIVE_OK);
	if (archive_read_next_header(a, out) != ARCHIVE_OK)
		fail_msg("libarchive: %s", archive_error_string(a));
	return a;
}

static void test_plain_ustar(void **state)
{
	struct tar_entry e = {.name = "bin/sh",
			      .type = TAR_REG,
			      .mode = 0755,
			      .uid = 1000,
			      .gid = 50,
			      .size = 1234,
			      .mtime = 1700000000};
	struct tar_buf b = {0};
	struct archive_entry *ae;
	struct archive *a = read_back(&e, &b, &ae);

	assert_int_equal(b.len, TAR_BLOCK); /* no PAX header needed */
	assert_string_equal(archive_entry_pathname(ae), "bin/sh");
	assert_int_equal(archive_entry_size(ae), 1234);
	assert_int_equal(archive_entry_uid(ae), 1000);
	assert_int_equal(archive_entry_gid(ae), 50);
	assert_int_equal(archive_entry_perm(ae), 0755);
	assert_int_equal(archive_entry_mtime(ae), 1700000000);
	assert_memory_equal(b.data + 257,
			    "ustar\0"
			    "00",
			    8);
	archive_read_free(a);
	tar_buf_release(&b);
}

static void test_pax_for_large_values(void **state)
{
	char name[300];
	struct tar_entry e = {.name = name,
			      .type = TAR_REG,
			      .mode = 0644,
			      .uid = 3000000,
			      .gid = 4000000,
			      .size = 9ull << 30,
			      .mtime = 1ll << 34};
	struct tar_buf b = {0};
	struct archive_entry *ae;
	struct archive *a;

	memset(name, 'n', 150);
	name[150] = '\0';
	a = read_back(&e, &b, &ae);
	assert_true(b.len > TAR_BLOCK);
	assert_memory_equal(b.data, "PaxHeaders.0/", 13);
	assert_string_equal(archive_entry_pathname(ae), name);
	assert_int_equal(archive_entry_size(ae), 9ll << 30);
	assert_int_equal(archive_entry_uid(ae), 3000000);
	assert_int_equal(archive_entry_gid(ae), 4000000);
	assert_int_equal(archive_entry_mtime(ae), 1ll << 34);
	archive_read_free(a);
	tar_buf_release(&b);
}

/* PAX record lengths count their own digits: try lengths around 99/100/999. */
static void test_pax_record_lengths(void **state)
{
	static char name[1200], target[1200];
	struct tar_buf b = {0};

	for (size_t len = 80; len < 1100; len += (len > 120 && len < 980) ? 37 : 1) {
		struct tar_entry e = {.name = name, .linkname = target, .type = TAR_SYMLINK, .mode = 0777};
		struct archive_entry *ae;
		struct archive *a;

		memset(name, 'a', len);
		name[len] = '\0';
		memset(target, 'b', len + 3);
		target[len + 3] = '\0';
		a = read_back(&e, &b, &ae);
		assert_string_equal(archive_entry_pathname(ae), name);
		assert_string_equal(archive_entry_symlink(ae), target);
		archive_read_free(a);
	}
	tar_buf_release(&b);
}

static void test_devices_xattrs_and_negative_mtime(void **state)
{
	static const char cap[] = {1, 0, 0, 2, 0x20, 0, 0, 0};
	struct tar_xattr xs[] = {{"security.capability", cap, sizeof(cap)}, {"user.k", "v=1\n", 4}};
	struct tar_entry e = {.name = "dev/null",
			      .type = TAR_CHR,
			      .mode = 0666,
			      .devmajor = 1,
			      .devminor = 3,
			      .mtime = -5,
			      .xattrs = xs,
			      .n_xattrs = 2};
	struct tar_buf b = {0};
	struct archive_entry *ae;
	struct archive *a = read_back(&e, &b, &ae);
	const char *xname;
	const void *xval;
	size_t xlen;
	int found = 0;

	assert_int_equal(archive_entry_filetype(ae), AE_IFCHR);
	assert_int_equal(major(archive_entry_rdev(ae)), 1);
	assert_int_equal(minor(archive_entry_rdev(ae)), 3);
	assert_int_equal(archive_entry_mtime(ae), 0);
	assert_int_equal(archive_entry_xattr_reset(ae), 2);
	while (archive_entry_xattr_next(ae, &xname, &xval, &xlen) == ARCHIVE_OK) {
		if (!strcmp(xname, "security.capability") && xlen == sizeof(cap) && !memcmp(xval, cap, xlen))
			found++;
		if (!strcmp(xname, "user.k") && xlen == 4 && !memcmp(xval, "v=1\n", 4))
			found++;
	}
	assert_int_equal(found, 2);
	archive_read_free(a);
	tar_buf_release(&b);
}

static void test_bad_entries(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct tar_buf b = {0};
	struct tar_entry e = {.name = "", .type = TAR_REG};
	struct tar_xattr bad = {"user.a=b", "x", 1};

	assert_int_equal(tar_encode_header(&e, &b, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	e.name = "dev/x";
	e.type = TAR_BLK;
	e.devmajor = 1u << 30;
	assert_int_equal(tar_encode_header(&e, &b, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	e.devmajor = 0;
	e.xattrs = &bad;
	e.n_xattrs = 1;
	assert_int_equal(tar_encode_header(&e, &b, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	assert_int_equal(tar_padding(0), 0);
	assert_int_equal(tar_padding(1), 511);
	assert_int_equal(tar_padding(512), 0);
	tar_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_ustar),
	    cmocka_unit_test(test_pax_for_large_values),
	    cmocka_unit_test(test_pax_record_lengths),
	    cmocka_unit_test(test_devices_xattrs_and_negative_mtime),
	    cmocka_unit_test(test_bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
