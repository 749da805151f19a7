/* OCI archives: a tar of an OCI layout holding one image (or index). */
#include "oci/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/archive_tar.h"
#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/banned.h"

#define BLOBS_PREFIX   "blobs/sha256/"
#define LAYOUT_CONTENT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define COPY_BUFSIZE   (1 << 17)

/* ---- writing ---- */

struct blob_list {
	struct oci_descriptor *v; /* digest and size only */
	size_t n, cap;
};

static int collect_blob(const struct oci_descriptor *d, void *opaque, struct ocb_error *err)
{
	struct blob_list *b = opaque;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		struct oci_descriptor *v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		b->v = v;
		b->cap = cap;
	}
	memset(&b->v[b->n], 0, sizeof(b->v[0]));
	b->v[b->n].digest = d->digest;
	b->v[b->n].size = d->size;
	b->n++;
	return 0;
}

static int cmp_blob(const void *a, const void *b)
{
	return strcmp(((const struct oci_descriptor *)a)->digest.str,
		      ((const struct oci_descriptor *)b)->digest.str);
}

/* Sorted, each digest once. */
static void sort_unique(struct blob_list *b)
{
	size_t w = 0;

	if (b->n == 0)
		return;
	qsort(b->v, b->n, sizeof(b->v[0]), cmp_blob);
	for (size_t i = 1; i < b->n; i++)
		if (!oci_digest_equal(&b->v[w].digest, &b->v[i].digest))
			b->v[++w] = b->v[i];
	b->n = w + 1;
}

/* Stream a blob into the tar, hashing it on the way: a blob that changed
 * since it was stored fails the write instead of reaching the archive. */
static int tar_blob(struct oci_tar_out *t, const struct oci_layout *src, const struct oci_descriptor *d,
		    struct ocb_error *err)
{
	cleanup_free char *name = NULL;
	cleanup_free char *buf = malloc(COPY_BUFSIZE);
	cleanup_close int fd = -1;
	struct oci_hasher h = {0};
	struct oci_digest got;
	uint64_t size, left;
	int ret = -1;

	if (!buf || asprintf(&name, BLOBS_PREFIX "%s", oci_digest_hex(&d->digest)) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (oci_blobstore_open_blob(&src->bs, &d->digest, &fd, &size, err) < 0)
		return -1;
	if (size != (uint64_t)d->size)
		return ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s': size %llu, descriptor says %lld",
				     d->digest.str, (unsigned long long)size, (long long)d->size);
	if (oci_hasher_init(&h, err) < 0 || oci_tar_out_begin(t, name, (int64_t)size, err) < 0)
		goto out;
	for (left = size; left > 0;) {
		ssize_t n = read(fd, buf, left < COPY_BUFSIZE ? (size_t)left : COPY_BUFSIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ocb_error_sys(err, "cannot read blob '%s'", d->digest.str);
			goto out;
		}
		oci_hasher_update(&h, buf, (size_t)n);
		if (oci_tar_out_data(t, buf, (size_t)n, err) < 0)
			goto out;
		left -= (uint64_t)n;
	}
	oci_hasher_final(&h, &got);
	if (!oci_digest_equal(&got, &d->digest)) {
		ocb_error_set(err, OCB_EDIGEST, 0, "blob '%s' does not match its digest (got '%s')",
			      d->digest.str, got.str);
		goto out;
	}
	ret = 0;
out:
	oci_hasher_release(&h);
	return ret;
}

static int index_json(const struct oci_descriptor *d, const char *ref_name, char **buf, size_t *len,
		      struct ocb_error *err)
{
	struct oci_index x = {0};
	struct oci_descriptor entry;
	int ret;

	if (oci_descriptor_copy(&entry, d, err) < 0)
		return -1;
	ret = ref_name ? oci_string_map_set(&entry.annotations, OCI_ANNOTATION_REF_NAME, ref_name, err) : 0;
	if (ret == 0)
		ret = oci_index_add(&x, &entry, err);
	if (ret == 0)
		ret = oci_index_serialize(&x, buf, len, err);
	oci_descriptor_release(&entry);
	oci_index_release(&x);
	return ret;
}

int oci_archive_write_oci(const struct oci_layout *src, const struct oci_descriptor *d, const char *ref_name,
			  int64_t mtime, const char *path, struct ocb_error *err)
{
	struct blob_list blobs = {0};
	struct oci_tar_out t;
	cleanup_free char *index = NULL;
	size_t index_len;
	int ret = -1;

	if (oci_layout_walk(src, d, collect_blob, &blobs, err) < 0 ||
	    index_json(d, ref_name, &index, &index_len, err) < 0)
		goto out;
	sort_unique(&blobs);
	if (oci_tar_out_open(&t, path, mtime, err) < 0)
		goto out;
	/* Sorted names: blobs/, blobs/sha256/, blobs/sha256/<hex>..., index.json, oci-layout. */
	if (oci_tar_out_dir(&t, "blobs/", err) < 0 || oci_tar_out_dir(&t, BLOBS_PREFIX, err) < 0)
		goto fail;
	for (size_t i = 0; i < blobs.n; i++)
		if (tar_blob(&t, src, &blobs.v[i], err) < 0)
			goto fail;
	if (oci_tar_out_buffer(&t, OCI_LAYOUT_INDEX, index, index_len, err) < 0 ||
	    oci_tar_out_buffer(&t, OCI_LAYOUT_FILE, LAYOUT_CONTENT, sizeof(LAYOUT_CONTENT) - 1, err) < 0)
		goto fail;
	ret = oci_tar_out_commit(&t, err);
	goto out;
fail:
	oci_tar_out_abort(&t);
out:
	free(blobs.v);
	if (ret < 0)
		ocb_error_wrap(err, "OCI archive '%s'", path);
	return ret;
}

/* ---- reading ---- */

/* Stream the current member into the store as the blob named hex. */
static int extract_blob(struct archive *a, struct oci_layout *l, const char *hex, int64_t size,
			struct ocb_error *err)
{
	char dstr[OCI_DIGEST_STR_LEN + 1];
	struct oci_digest want;

	snprintf(dstr, sizeof(dstr), OCI_DIGEST_ALGO ":%s", hex);
	if (oci_digest_parse(dstr, &want, err) < 0)
		return -1;
	return oci_tar_in_to_blob(a, dstr, &l->bs, &want, size, NULL, NULL, err);
}

static bool is_blob_name(const char *name)
{
	char d[OCI_DIGEST_STR_LEN + 2];

	if (strncmp(name, BLOBS_PREFIX, sizeof(BLOBS_PREFIX) - 1) != 0)
		return false;
	if (snprintf(d, sizeof(d), OCI_DIGEST_ALGO ":%s", name + sizeof(BLOBS_PREFIX) - 1) >= (int)sizeof(d))
		return false;
	return oci_digest_is_valid(d);
}

struct extract_state {
	char *index;
	size_t index_len;
	bool have_layout;
};

static int extract_member(struct archive *a, struct archive_entry *e, struct oci_layout *l,
			  struct extract_state *st, struct ocb_error *err)
{
	cleanup_free char *name = NULL;
	cleanup_free char *buf = NULL;
	cleanup_json json_t *j = NULL;
	mode_t type = archive_entry_filetype(e);
	size_t len;

	if (oci_tar_clean_name(archive_entry_pathname(e), &name, err) < 0)
		return -1;
	if (type == AE_IFDIR) {
		if (!strcmp(name, "") || !strcmp(name, ".") || !strcmp(name, "blobs") ||
		    !strcmp(name, "blobs/sha256"))
			return 0;
		return ocb_error_set(err, OCB_EINVAL, 0, "unexpected directory '%.200s'", name);
	}
	if (type != AE_IFREG || archive_entry_hardlink(e))
		return ocb_error_set(err, OCB_EUNSAFE, 0, "member '%.200s' is not a regular file", name);
	if (is_blob_name(name))
		return extract_blob(a, l, name + sizeof(BLOBS_PREFIX) - 1, archive_entry_size(e), err);
	if (!strcmp(name, OCI_LAYOUT_INDEX)) {
		free(st->index);
		st->index = NULL;
		return oci_tar_in_read_small(a, name, OCI_JSON_MAX, &st->index, &st->index_len, err);
	}
	if (!strcmp(name, OCI_LAYOUT_FILE)) {
		if (oci_tar_in_read_small(a, name, 4096, &buf, &len, err) < 0 ||
		    oci_json_load(buf, len, 4096, OCI_LAYOUT_FILE, &j, err) < 0)
			return -1;
		if (!json_is_string(json_object_get(j, "imageLayoutVersion")))
			return ocb_error_set(err, OCB_EINVAL, 0, "'%s' has no imageLayoutVersion",
					     OCI_LAYOUT_FILE);
		st->have_layout = true;
		return 0;
	}
	return ocb_error_set(err, OCB_EINVAL, 0, "unexpected member '%.200s'", name);
}

int oci_archive_extract_oci(const char *path, const char *dir, struct ocb_error *err)
{
	struct extract_state st = {0};
	struct oci_layout l = {0};
	struct oci_index x = {0};
	struct archive *a = NULL;
	struct archive_entry *e;
	size_t count = 0;
	int lock = -1;
	int ret = -1;
	int r;

	if (oci_tar_in_open(&a, path, err) < 0)
		return -1;
	if (oci_layout_open(&l, dir, true, err) < 0)
		goto out;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (++count > OCI_ARCHIVE_ENTRIES_MAX) {
			ocb_error_set(err, OCB_ELIMIT, 0, "more than %d members", OCI_ARCHIVE_ENTRIES_MAX);
			goto out;
		}
		if (extract_member(a, e, &l, &st, err) < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		ocb_error_set(err, OCB_EINVAL, 0, "corrupt tar: %s", archive_error_string(a));
		goto out;
	}
	if (!st.index || !st.have_layout) {
		ocb_error_set(err, OCB_EINVAL, 0, "not an OCI archive: missing '%s'",
			      st.index ? OCI_LAYOUT_FILE : OCI_LAYOUT_INDEX);
		goto out;
	}
	if (oci_index_parse(st.index, st.index_len, &x, err) < 0 || oci_layout_lock(&l, &lock, err) < 0)
		goto out;
	ret = oci_layout_write_index(&l, &x, err);
	oci_layout_unlock(lock);
out:
	if (ret < 0)
		ocb_error_wrap(err, "OCI archive '%s'", path);
	oci_index_release(&x);
	oci_layout_release(&l);
	free(st.index);
	archive_read_free(a);
	return ret;
}
