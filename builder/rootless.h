/* Rootless mode: a non-root caller with a subordinate id range (/etc/subuid,
 * /etc/subgid) runs the commands that make snapshots or remove them inside a
 * user namespace of its own, the caller mapped to root and its range to
 * 1..N (through the setuid newuidmap/newgidmap of the `uidmap` package), as
 * podman, buildah and rootlesskit do.  Inside, the process is root of that
 * namespace: the extractor sets owners, the sandbox makes its namespaces and
 * mounts, only with user-namespace limits (no device nodes, no trusted.*
 * xattrs, overlayfs with `userxattr`).  See docs/rootless.md. */
#ifndef OCB_ROOTLESS_H
#define OCB_ROOTLESS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "oci/error.h"

/* Enter the user namespace when the caller is not root.  The calling process
 * forks; the child unshares user and mount namespaces, the parent maps it
 * and then only waits for it.  Returns 0 in the process that goes on with
 * the command (the child, or the caller itself when it is root or rootless
 * mode is unavailable: see rootless_unavailable()), 1 in the parent once the
 * child is gone (*exit_code: its exit code, 128 + signal if killed), -1 on
 * an error.  Call it while the process is single-threaded. */
int rootless_enter(int *exit_code, struct ocb_error *err);

/* Whether the parent passes signal `sig` (`si`) on to the namespace's
 * process: not the terminal's ^C and ^\ (SIGINT, SIGQUIT from the kernel),
 * which go to the whole foreground process group, that process included; a
 * second SIGINT would end a build before it cleans up (cmd_build's handler
 * is SA_RESETHAND).  A kill() to the parent is passed on, and so is a
 * hangup, which the kernel sends to the session leader only. */
bool rootless_forwards(int sig, const siginfo_t *si);

/* This process runs inside ocb's user namespace. */
bool rootless_active(void);
/* Real root: the store and cache defaults for root, trusted.* overlay xattrs. */
bool rootless_real_root(void);
/* Why rootless_enter() did not enter (what to install or configure), or NULL. */
const char *rootless_unavailable(void);

/* The overlay xattr `name` ("opaque", "redirect", "metacopy") as snapshots
 * and upper dirs carry it: trusted.overlay.NAME as root, user.overlay.NAME
 * in rootless mode (overlayfs' userxattr option); NULL for another name. */
const char *rootless_overlay_xattr(const char *name);

/* The first usable range of user `name` (or numeric `id`) in a subuid or
 * subgid file: 1 found, 0 none, -1 on a read error.  Lines newuidmap would
 * refuse are skipped: not exactly OWNER:START:COUNT, an empty field, ids
 * past 2^32 - 2, a range holding `own` (the caller's uid or gid, which is
 * mapped to 0 already: the kernel refuses overlapping maps). */
int rootless_subid_range(const char *file, const char *name, unsigned long id, unsigned long own,
			 unsigned long *start, unsigned long *count, struct ocb_error *err);

#endif
