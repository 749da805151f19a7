/* Internal to oci/extract*.c: the extractor's state, shared by the tar loop
 * (extract.c) and the whiteout handling (extract_whiteout.c). */
#ifndef OCB_EXTRACT_INTERNAL_H
#define OCB_EXTRACT_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "oci/digest.h"
#include "oci/extract.h"
#include "oci/extract_path.h"
#include "oci/pathset.h"

/* Bound on directory recursion when removing or pruning trees. */
#define EXTRACT_MAX_DEPTH 512

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
	char qname[EXTRACT_QUOTE_MAX];
};

/* oci_extract_stream(); with hash false the stream is not hashed (the caller
 * does it) and stats->diff_id is left alone. */
int extract_stream(int rootfs_fd, oci_read_fn read, void *opaque, bool hash, const struct oci_digest *diff_id,
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
