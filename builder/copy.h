/* Copy steps: Docker's COPY as a plan of layer entries, then a digest of
 * what the plan copies (for the step's cache key) and the layer itself.
 *
 * Sources are read from a source root given as a directory fd: the build
 * context, or a read-only view of another stage's or an image's filesystem.
 * Every source path is resolved inside that root: symlinks met on the way
 * (in the middle of a path) are followed but can never leave the root (an
 * absolute target or a ".." restarts or stops at the root, like
 * RESOLVE_IN_ROOT); the entries themselves are then opened beneath the
 * root with no symlinks at all.  For the context, a source with a ".."
 * component is refused (OCB_EUNSAFE).
 *
 * Semantics (Docker's COPY, BuildKit flavour):
 *   - a source matching a directory copies the directory's contents into
 *     `to`; a file (symlink, fifo, device) lands at `to/<basename>` when
 *     `to` ends in '/', is an existing directory in the destination, or
 *     there are several sources (written or matched by a glob); otherwise
 *     `to` is its new name.  Several sources need `to` to end in '/' (or
 *     to be an existing directory);
 *   - a source that is itself a symlink is copied as that symlink (not
 *     followed); symlinks inside copied directories stay symlinks;
 *   - globs ('*', '?', "[...]", '\' escapes; Go's filepath.Match, one path
 *     element at a time) expand in sorted order; a glob matching nothing
 *     and a missing source are errors at the source's position;
 *   - context sources honour the .ocbignore/.dockerignore matcher (an
 *     excluded file does not exist; '!' patterns re-include, and keep
 *     their parent directories); the step's `exclude` patterns apply on top,
 *     relative to each source (to a matched directory's contents, or to a
 *     matched file's base name);
 *   - a relative `to` is relative to the workdir; `to` is resolved in the
 *     destination following its symlinks inside the destination root (so
 *     /var/run/x lands in run/x when var/run -> /run), a final symlink only
 *     when it leads to a directory (a file or symlink named by `to` is
 *     replaced, not written through);
 *   - parents of the destination that do not exist are created root:root
 *     0755 (also with chown: Docker chowns only the copied content); the
 *     existing ones (and an existing directory copied into) get an entry
 *     with their metadata from the image below, so the layer does not
 *     imply them root:root 0755 (Docker and overlayfs would show that); a
 *     destination directory that a directory source maps onto is created
 *     with that directory's metadata (chmod/chown applied); an existing
 *     destination directory is left as it is (no entry in the layer);
 *   - chmod applies to every copied file and directory (not symlinks);
 *     chown "user[:group]" to everything copied: names resolved in the
 *     destination's /etc/passwd and /etc/group, a bare name's group is its
 *     primary group, a bare number's group is the same number; without
 *     chown, context files become 0:0 and stage/image files keep theirs;
 *   - mtimes are the sources' (created parents get 0); the layer writer
 *     clamps them to SOURCE_DATE_EPOCH when asked;
 *   - when two sources give the same destination name the later wins (a
 *     later non-directory also hides an earlier directory's contents).
 *
 * Layer: entries in the writer's sorted order (oci_layer_name_cmp), with
 * destination names and overridden metadata; hardlinks among the copied
 * files stay hardlinks; sockets are skipped. */
#ifndef OCB_COPY_H
#define OCB_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/digest.h"
#include "oci/error.h"
#include "oci/layer.h"
#include "recipes/recipe.h"
#include "recipes/recipe_ignore.h"

/* Per-file content digests remembered within one build, keyed by (dev,
 * ino, size, mtime, ctime): hashing an unchanged context again is then
 * only stat calls.  Optional; one cache may be shared by threads (it has
 * its own lock, not held while hashing). */
struct copy_digest_cache;

int copy_digest_cache_new(struct copy_digest_cache **out, struct ocb_error *err);
void copy_digest_cache_free(struct copy_digest_cache *c);

struct copy_request {
	int source_root_fd;		    /* the source root (dup'ed by copy_plan) */
	const char *source_label;	    /* for messages: "context 'examples/hello'", "stage 'backend'" */
	const struct recipe_ignore *ignore; /* context exclusions; NULL: none */
	const struct recipe_copy *copy;	    /* the step */
	const char *workdir;		    /* effective workdir (absolute); NULL or "": "/" */
	int dest_root_fd;		    /* the destination's filesystem (merged view); -1: empty */
	bool origin_is_context;		    /* owners become 0:0 without chown; ".." refused */
};

struct copy_plan;

/* Resolve sources, expand globs, apply exclusions, map names and metadata.
 * The plan keeps its own dup of source_root_fd (the caller may close its
 * fd); dest_root_fd is used only during this call.  Errors: OCB_ENOTFOUND (missing source, glob matching
 * nothing, unknown chown user/group), OCB_EINVAL (several sources without a directory `to`, bad glob or
 * exclude pattern, bad chown), OCB_EUNSAFE (".." in a context source), all as "FILE:LINE:COL: ..." at the
 * offending value. */
int copy_plan(const struct copy_request *req, struct copy_plan **out, struct ocb_error *err);

/* Digest of what the layer will hold, for the cache key: for every entry
 * in layer order its destination name, type, mode and owner (after chmod
 * and chown), size, content bytes (streamed), symlink target, device
 * numbers, hardlink structure, and the xattrs of regular files; never
 * mtimes.  cache may be NULL.  Cost: every regular file is read (about 0.7 GB/s of sha256 here;
 * the cache makes a second pass over unchanged files stat-only).  For a
 * stage or image source the builder can key on the source's identity (its
 * layer chain) and the step's fields instead, and skip copy_plan() and the
 * hashing entirely on a cache hit. */
int copy_plan_digest(const struct copy_plan *plan, struct copy_digest_cache *cache, struct oci_digest *out,
		     struct ocb_error *err);

/* Add the plan's entries to w (which the caller created and commits).  The
 * source root must not have changed since copy_plan. */
int copy_plan_write_layer(const struct copy_plan *plan, struct oci_layer_writer *w, struct ocb_error *err);

/* Number of layer entries (created parents included). */
size_t copy_plan_count(const struct copy_plan *plan);

void copy_plan_free(struct copy_plan *plan);

#endif
