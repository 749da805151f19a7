/* Internal to oci/extract*.c: the extractor's state, shared by the tar loop
 * (extract.c) and the whiteout handling (extract_whiteout.c). */
#ifndef OCB_EXTRACT_INTERNAL_H
#define OCB_EXTRACT_INTERNAL_H

#include <archive.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "oci/digest.h"
#include "oci/extract.h"
#include "oci/extract_path.h"
#include "oci/pathset.h"

/* Bound on the recursion that prunes opaque directories. */
#define EXTRACT_PRUNE_MAX_DEPTH 256
/* Bound on the levels removal descends (iterative, one fd at a time): deeper
 * than any tree a tar can make (names are shorter than PATH_MAX). */
#define EXTRACT_REMOVE_MAX_DEPTH PATH_MAX

/* A directory whose mode and times are applied when the layer ends. */
struct extract_dir_meta {
	char *path; /* cleaned, "" for the root */
	dev_t dev;
	ino_t ino;
	mode_t mode;
	bool has_times;
	struct timespec times[2];
};

struct extractor {
	int root_fd;
	const char *lname; /* the layer, for messages */
	uint64_t max_bytes, max_entries, max_stream;
	size_t max_xattr;
	unsigned flags;
	bool privileged; /* euid 0: owners, devices, privileged xattrs */
	bool chown;
	/* The root held something before this layer: whiteouts and opaque
	 * markers have lower content to hide, and `written` records the paths
	 * this layer wrote (closed under parents) so they survive. */
	bool track;
	struct oci_pathset written;

	/* The last parent directory opened (O_PATH, in the root); the fd stays
	 * open until the next lookup, the path is forgotten on any removal. */
	char cached_dir[PATH_MAX];
	bool cache_valid;
	int cached_fd;

	struct extract_dir_meta *dirs;
	size_t ndirs, dircap;

	uint64_t budget; /* file bytes still allowed */
	struct oci_extract_stats stats;

	char path[PATH_MAX];   /* the current entry, cleaned */
	char dir[PATH_MAX];    /* its parent */
	char target[PATH_MAX]; /* its hardlink target, cleaned */
	char tdir[PATH_MAX];   /* the target's parent */
	const char *name;      /* the current entry's name in the tar (libarchive's) */
	char qname[EXTRACT_QUOTE_MAX];
};

/* A zero-copy source: *buf gets up to the returned count of bytes, valid until
 * the next call; 0 at the end, -1 with *err. */
typedef ssize_t (*extract_borrow_fn)(void *opaque, const void **buf, struct ocb_error *err);

/* Where the tar bytes come from: read (copied) or borrow (zero-copy). */
struct extract_input {
	oci_read_fn read;
	extract_borrow_fn borrow;
	void *opaque;
	bool hash; /* hash the stream into stats->diff_id (false: the caller does) */
};

#define TAR_BLOCK	    512
#define TAR_SOURCE_BUF_SIZE ((size_t)1 << 20)

struct tar_source {
	struct extract_input in;
	unsigned char *buf;	  /* ours, in read mode */
	const unsigned char *cur; /* the last chunk handed to libarchive */
	size_t last;		  /* its length */
	struct oci_hasher hasher;
	uint64_t total, max;
	unsigned char tail[TAR_BLOCK]; /* the stream's last block */
	bool eof, failed;
	struct ocb_error err; /* the source's, when failed */
};

int tar_source_init(struct tar_source *s, const struct extract_input *in, uint64_t max,
		    struct ocb_error *err);
void tar_source_release(struct tar_source *s);
/* libarchive's read callback (opaque is the tar_source). */
la_ssize_t tar_source_read_cb(struct archive *a, void *opaque, const void **out);
/* At libarchive's end of archive: require the end marker, drain the rest
 * (zeros only, bounded) so the whole stream is hashed. */
int tar_source_finish(struct tar_source *s, struct archive *a, struct ocb_error *err);

/* oci_extract_stream() on any input. */
int extract_stream(int rootfs_fd, const struct extract_input *in, const struct oci_digest *diff_id,
		   const struct oci_extract_opts *opts, struct oci_extract_stats *stats,
		   struct ocb_error *err);
/* OCB_EDIGEST unless got equals want. */
int extract_check_diff_id(const struct oci_digest *got, const struct oci_digest *want, struct ocb_error *err);

/* The current entry's parent directory (O_PATH fd owned by x), made if
 * missing. */
int extract_parent(struct extractor *x, const char *dir, int *fd, struct ocb_error *err);
/* Remove base in dfd (recursively) and forget the cached parent. */
int extract_replace(struct extractor *x, int dfd, const char *base, struct ocb_error *err);
/* Record path (and its parents) as written by this layer, when tracking. */
int extract_record(struct extractor *x, const char *path, struct ocb_error *err);

/* A `.wh.*` entry: dir is its (cleaned) directory, base its last component. */
int extract_whiteout(struct extractor *x, const char *dir, const char *base, struct ocb_error *err);

#endif
