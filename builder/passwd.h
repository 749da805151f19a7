/* User resolution for a step's `user`, from the rootfs's own /etc/passwd and
 * /etc/group (never the host's NSS), with Docker's rules (runc's
 * GetExecUser):
 *
 *   ""/NULL      root: uid 0, gid 0
 *   "1000"       uid 1000; gid and home from passwd if it has the uid, else 0 and "/"
 *   "app"        looked up in /etc/passwd; an unknown name is an error
 *   "1000:50"    uid and gid as given
 *   "app:staff"  the group looked up in /etc/group; unknown is an error
 *
 * Supplementary groups: the groups of /etc/group listing the user's name as
 * a member, only when no group was given ("uid:gid" form sets exactly gid).
 * HOME: the passwd entry's, else /root for uid 0, else /.
 *
 * Async-signal-safe (no malloc, no stdio): the sandbox calls it between
 * clone() and execve(). */
#ifndef OCB_PASSWD_H
#define OCB_PASSWD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PASSWD_MAX_GROUPS 64
#define PASSWD_MAX_LINE	  4096
#define PASSWD_MAX_FILE	  (16 << 20) /* bytes of /etc/passwd or /etc/group */

struct passwd_user {
	uid_t uid;
	gid_t gid;
	char home[PATH_MAX];
	size_t n_groups; /* supplementary groups (the primary gid not repeated) */
	gid_t groups[PASSWD_MAX_GROUPS];
};

/* Resolve `spec` against etc/passwd and etc/group under the directory fd
 * root_fd (or AT_FDCWD with cwd "/" inside the sandbox).  Returns 0, or -1
 * with errno set (ENOENT unknown name, EINVAL bad spec, else the read error)
 * and a message in msg ("user 'bob' not found in /etc/passwd"). */
int passwd_resolve(int root_fd, const char *spec, struct passwd_user *out, char *msg, size_t msg_size);

#endif
