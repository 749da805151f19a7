/* Round trip: a tree written as a layer (oci/layer) and applied again
 * (oci/extract) gives the same tree: names, types, modes, owners, sizes,
 * contents, symlink targets, hardlinks and (clamped) mtimes. */
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/extract.h"
#include "oci/layer.h"

#define EPOCH 1700000000

static char *listing;
static size_t listing_len;
static const char *listing_root;

static void append(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void append(const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	listing = realloc(listing, listing_len + (size_t)n + 1);
	memcpy(listing + listing_len, line, (size_t)n + 1);
	listing_len += (size_t)n;
	free(line);
}

/* Content as a short checksum, enough to tell files apart here. */
static unsigned long file_sum(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned long sum = 5381;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		sum = sum * 33 + (unsigned long)c;
	fclose(f);
	return sum;
}

static int list_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(listing_root);
	char target[4096] = "";
	ssize_t n;

	(void)flag;
	(void)ftw;
	if (!*rel)
		return 0;
	if (S_ISLNK(st->st_mode) && (n = readlink(path, target, sizeof(target) - 1)) > 0)
		target[n] = '\0';
	append("%s mode=%o uid=%u gid=%u nlink=%lu mtime=%lld size=%lld link=%s sum=%lu\n", rel,
	       (unsigned)st->st_mode, (unsigned)st->st_uid, (unsigned)st->st_gid,
	       S_ISDIR(st->st_mode) ? 0ul : (unsigned long)st->st_nlink,
	       S_ISLNK(st->st_mode) ? 0ll : (long long)st->st_mtime,
	       S_ISREG(st->st_mode) || S_ISLNK(st->st_mode) ? (long long)st->st_size : 0ll, target,
	       S_ISREG(st->st_mode) ? file_sum(path) : 0ul);
	return 0;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted listing of root (nftw order is not sorted). */
static char *list_tree(const char *root)
{
	char *out, **lines = NULL, *save = NULL;
	size_t n = 0;

	listing = NULL;
	listing_len = 0;
	listing_root = root;
	assert_int_equal(nftw(root, list_entry, 32, FTW_PHYS), 0);
	for (char *l = strtok_r(listing, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = l;
	}
	qsort(lines, n, sizeof(*lines), cmp_lines);
	out = calloc(1, listing_len + n + 1);
	for (size_t i = 0, off = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		memcpy(out + off, lines[i], len);
		out[off + len] = '\n';
		off += len + 1;
	}
	free(lines);
	free(listing);
	return out;
}

static void mkpath(const char *root, const char *rel, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", root, rel) >= size)
		fail_msg("path too long");
}

static void build_tree(const char *root)
{
	char p[4096], q[4096];
	struct timespec old[2] = {{1600000000, 0}, {1600000000, 0}};

	mkpath(root, "etc", p, sizeof(p));
	assert_int_equal(mkdir(p, 0750), 0);
	mkpath(root, "etc/passwd", p, sizeof(p));
	testutil_write_file(p, "root:x:0:0::/root:/bin/sh\n", 26);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	mkpath(root, "etc/hardlink", q, sizeof(q));
	assert_int_equal(link(p, q), 0);
	mkpath(root, "bin", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	mkpath(root, "bin/tool", p, sizeof(p));
	testutil_write_file(p, "#!/bin/sh\necho hi\n", 18);
	assert_int_equal(chmod(p, 04755), 0);
	mkpath(root, "bin/sh", p, sizeof(p));
	assert_int_equal(symlink("tool", p), 0);
	mkpath(root, "tmp", p, sizeof(p));
	assert_int_equal(mkdir(p, 01777), 0);
	assert_int_equal(chmod(p, 01777), 0);
	mkpath(root, "tmp/fifo", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0600), 0);
	mkpath(root, "empty", p, sizeof(p));
	testutil_write_file(p, "", 0);
}

static void roundtrip(enum oci_compression c)
{
	char *dir = testutil_mkdtemp();
	char src[4096], store[4096], dst[4096];
	struct oci_layer_options opts = {.compression = c, .clamp_mtime = true, .source_date_epoch = EPOCH};
	struct oci_layer_desc d;
	struct oci_blobstore bs;
	struct oci_extract_stats stats;
	char *want, *got;
	int srcfd, parent;

	mkpath(dir, "src", src, sizeof(src));
	mkpath(dir, "store", store, sizeof(store));
	mkpath(dir, "dst", dst, sizeof(dst));
	assert_int_equal(mkdir(src, 0755), 0);
	build_tree(src);
	assert_ok(oci_blobstore_open(&bs, store, true, &test_err));
	srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_ok(oci_layer_from_dir(&bs, srcfd, &opts, &d, &test_err));
	parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_ok(oci_extract_layer_to_new_dir(parent, "dst", &bs, &d.digest, OCI_COMPRESSION_AUTO,
					       &d.diff_id, NULL, &stats, &test_err));
	/* Source mtimes clamped as the layer holds them, then compare. */
	want = list_tree(src);
	got = list_tree(dst);
	for (char *p = strstr(want, "mtime="); p; p = strstr(p + 1, "mtime=")) {
		long long t = strtoll(p + 6, NULL, 10);
		if (t > EPOCH)
			memcpy(p + 6, "1700000000", 10);
	}
	assert_string_equal(got, want);
	assert_int_equal(stats.hardlinks, 1);
	free(want);
	free(got);
	close(parent);
	close(srcfd);
	oci_blobstore_release(&bs);
	testutil_rmtree(dir);
	free(dir);
}

static void test_roundtrip_gzip(void **state)
{
	roundtrip(OCI_COMPRESSION_GZIP);
}

static void test_roundtrip_zstd(void **state)
{
	roundtrip(OCI_COMPRESSION_ZSTD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_gzip),
	    cmocka_unit_test(test_roundtrip_zstd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
