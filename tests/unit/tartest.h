/* Test helpers for the extractor: build layer tars in memory (libarchive's
 * writer, or raw ustar blocks for what the writer refuses), read them back
 * through an oci_read_fn, and look at files. */
#ifndef OCB_TARTEST_H
#define OCB_TARTEST_H

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/extract.h"

#define T_MTIME 1600000000

/* One tar member.  type: 'f' file, 'd' dir, 'l' symlink, 'h' hardlink,
 * 'p' fifo, 'c' char device (arg "major:minor").  mode 0: 0644/0755. */
struct tspec {
	char type;
	const char *name;
	const char *arg; /* file content, link target */
	unsigned mode;
	long long mtime; /* 0: T_MTIME */
	const char *xattr_name, *xattr_value;
	long long uid, gid;
	long long size; /* 'f' only: declared size when > 0 (data padded with zeros) */
};

struct tbuf {
	char *data;
	size_t len, cap;
};

static inline la_ssize_t tbuf_write(struct archive *a, void *opaque, const void *buf, size_t n)
{
	struct tbuf *t = opaque;

	(void)a;
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		t->data = realloc(t->data, t->cap);
		if (!t->data)
			fail_msg("out of memory");
	}
	memcpy(t->data + t->len, buf, n);
	t->len += n;
	return (la_ssize_t)n;
}

static inline void tar_add(struct archive *a, const struct tspec *s)
{
	struct archive_entry *e = archive_entry_new();
	unsigned dmode = s->type == 'd' ? 0755 : s->type == 'l' ? 0777 : 0644;
	size_t dlen = s->type == 'f' && s->arg ? strlen(s->arg) : 0;

	archive_entry_set_pathname(e, s->name);
	archive_entry_set_perm(e, s->mode ? s->mode : dmode);
	archive_entry_set_mtime(e, s->mtime ? s->mtime : T_MTIME, 0);
	archive_entry_set_uid(e, s->uid);
	archive_entry_set_gid(e, s->gid);
	switch (s->type) {
	case 'f':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, s->size > 0 ? s->size : (la_int64_t)dlen);
		break;
	case 'd':
		archive_entry_set_filetype(e, AE_IFDIR);
		break;
	case 'l':
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, s->arg);
		break;
	case 'h':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, s->arg);
		break;
	case 'p':
		archive_entry_set_filetype(e, AE_IFIFO);
		break;
	case 'c': {
		unsigned maj = 0, min = 0;
		if (sscanf(s->arg, "%u:%u", &maj, &min) != 2)
			fail_msg("bad device spec");
		archive_entry_set_filetype(e, AE_IFCHR);
		archive_entry_set_rdevmajor(e, maj);
		archive_entry_set_rdevminor(e, min);
		break;
	}
	default:
		fail_msg("bad type %c", s->type);
	}
	if (s->xattr_name)
		archive_entry_xattr_add_entry(e, s->xattr_name, s->xattr_value, strlen(s->xattr_value));
	if (archive_write_header(a, e) != ARCHIVE_OK)
		fail_msg("tar header '%s': %s", s->name, archive_error_string(a));
	if (dlen && archive_write_data(a, s->arg, dlen) != (la_ssize_t)dlen)
		fail_msg("tar data: %s", archive_error_string(a));
	archive_entry_free(e);
}

/* A pax tar of n members (terminated by a NULL name when n is 0). */
static inline char *tar_build(const struct tspec *specs, size_t n, size_t *len)
{
	struct tbuf t = {NULL, 0, 0};
	struct archive *a = archive_write_new();

	archive_write_set_format_pax(a);
	if (archive_write_open(a, &t, NULL, tbuf_write, NULL) != ARCHIVE_OK)
		fail_msg("archive_write_open: %s", archive_error_string(a));
	for (size_t i = 0; n ? i < n : specs[i].name != NULL; i++)
		tar_add(a, &specs[i]);
	archive_write_close(a);
	archive_write_free(a);
	*len = t.len;
	return t.data;
}

/* A raw ustar header block (name up to 100 bytes, used as is). */
static inline void tar_raw_header(unsigned char blk[512], const char *name, size_t name_len, char type,
				  unsigned long size)
{
	unsigned sum = 0;

	memset(blk, 0, 512);
	memcpy(blk, name, name_len > 100 ? 100 : name_len);
	snprintf((char *)blk + 100, 8, "%07o", 0644);
	snprintf((char *)blk + 108, 8, "%07o", 0);
	snprintf((char *)blk + 116, 8, "%07o", 0);
	snprintf((char *)blk + 124, 12, "%011lo", size);
	snprintf((char *)blk + 136, 12, "%011o", (unsigned)T_MTIME);
	blk[156] = (unsigned char)type;
	memcpy(blk + 257, "ustar", 6);
	memcpy(blk + 263, "00", 2);
	memset(blk + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += blk[i];
	snprintf((char *)blk + 148, 8, "%06o", sum);
	blk[155] = ' ';
}

/* Reads a buffer in chunks of at most `chunk` bytes. */
struct memsrc {
	const char *data;
	size_t len, off, chunk;
};

static inline ssize_t memsrc_read(void *opaque, void *buf, size_t len, struct ocb_error *err)
{
	struct memsrc *m = opaque;
	size_t n = m->len - m->off;

	(void)err;
	if (n > len)
		n = len;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

/* Extract a tar buffer into rootfd; returns the rc and leaves the error in *err. */
static inline int tar_extract(int rootfd, const char *data, size_t len, const struct oci_extract_opts *opts,
			      struct oci_extract_stats *st, struct ocb_error *err)
{
	struct memsrc m = {data, len, 0, 0};

	ocb_error_clear(err);
	return oci_extract_stream(rootfd, memsrc_read, &m, NULL, opts, st, err);
}

/* Build and extract; the rc. */
static inline int tar_apply(int rootfd, const struct tspec *specs, const struct oci_extract_opts *opts,
			    struct ocb_error *err)
{
	size_t len;
	char *data = tar_build(specs, 0, &len);
	int rc = tar_extract(rootfd, data, len, opts, NULL, err);

	free(data);
	return rc;
}

/* The content of dirfd/path (NUL-terminated, malloc'd) or NULL. */
static inline char *read_at(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = calloc(1, 65536);
	n = read(fd, buf, 65535);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static inline void assert_content_at(int dirfd, const char *path, const char *want)
{
	char *got = read_at(dirfd, path);

	if (!got)
		fail_msg("'%s' cannot be read", path);
	assert_string_equal(got, want);
	free(got);
}

static inline bool exists_at(int dirfd, const char *path)
{
	struct stat st;

	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

#endif
