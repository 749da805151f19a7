#include "builder/passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "builder/sbuf.h"
#include "oci/banned.h"

#define PASSWD_FILE "etc/passwd"
#define GROUP_FILE  "etc/group"
#define NAME_MAX_   256

/* A line reader over an fd with fixed buffers (no malloc).  Lines longer than
 * PASSWD_MAX_LINE come back empty: they match nothing. */
struct line_reader {
	int fd;
	size_t pos, len;
	int eof;
	char buf[4096];
	char line[PASSWD_MAX_LINE + 1];
};

/* 1: a line is in lr->line; 0: end of file; -1: read error (errno). */
static int next_line(struct line_reader *lr)
{
	size_t n = 0;
	int overlong = 0, any = 0;

	for (;;) {
		if (lr->pos == lr->len) {
			ssize_t r;

			if (lr->eof)
				break;
			r = read(lr->fd, lr->buf, sizeof(lr->buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0) {
				lr->eof = 1;
				break;
			}
			lr->pos = 0;
			lr->len = (size_t)r;
		}
		any = 1;
		char c = lr->buf[lr->pos++];
		if (c == '\n')
			break;
		if (n < PASSWD_MAX_LINE)
			lr->line[n++] = c;
		else
			overlong = 1;
	}
	if (!any)
		return 0;
	lr->line[overlong ? 0 : n] = '\0';
	return 1;
}

/* Split line at ':' into at most max fields; returns the count. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;

	fields[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == ':') {
			*p = '\0';
			fields[n++] = p + 1;
		}
	}
	return n;
}

/* A decimal id (uid_t/gid_t), not the reserved (id_t)-1. */
static int parse_id(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int copy_str(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

/* file under root_fd, symlinks resolved as if root_fd were '/' (absolute
 * ones and '..' included) and magic links (/proc/self/fd/N) refused: an
 * image's /etc/passwd symlink never reaches a host file, whether the caller
 * is chrooted (the sandbox) or not. */
static int open_in_root(int root_fd, const char *file)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, root_fd, file, &how, sizeof(how));
}

/* The image is untrusted: a FIFO or a device in place of /etc/passwd must
 * not hang or flood the sandbox's init, so regular files only (opened
 * without blocking) and bounded in size. */
static int open_db(int root_fd, const char *file, struct line_reader *lr)
{
	struct stat st;
	int e;

	lr->pos = lr->len = 0;
	lr->eof = 0;
	lr->fd = open_in_root(root_fd, file);
	if (lr->fd < 0)
		return -1;
	if (fstat(lr->fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if (st.st_size > PASSWD_MAX_FILE)
		e = EFBIG;
	else
		return 0;
	close(lr->fd);
	lr->fd = -1;
	errno = e;
	return -1;
}

struct pw_entry {
	char name[NAME_MAX_];
	uint32_t uid, gid;
	char home[PATH_MAX];
};

/* Find a passwd entry by name (name != NULL) or by uid.  1 found, 0 not
 * found, -1 error (errno; ENOENT when the file is missing). */
static int find_passwd(int root_fd, const char *name, uint32_t uid, struct pw_entry *out)
{
	struct line_reader lr;
	char *f[7];
	int rc, found = 0;

	if (open_db(root_fd, PASSWD_FILE, &lr) < 0)
		return -1;
	while (!found && (rc = next_line(&lr)) > 0) {
		uint32_t u, g;
		size_t nf;

		if (lr.line[0] == '+' || lr.line[0] == '-' || lr.line[0] == '#')
			continue;
		nf = split_fields(lr.line, f, 7);
		if (nf < 4 || parse_id(f[2], &u) < 0 || parse_id(f[3], &g) < 0)
			continue;
		if (name ? strcmp(f[0], name) != 0 : u != uid)
			continue;
		if (copy_str(out->name, sizeof(out->name), f[0]) < 0)
			continue;
		out->uid = u;
		out->gid = g;
		out->home[0] = '\0';
		if (nf >= 6 && f[5][0] == '/')
			copy_str(out->home, sizeof(out->home), f[5]);
		found = 1;
	}
	int saved = errno;
	close(lr.fd);
	errno = saved;
	if (!found && rc < 0)
		return -1;
	return found;
}

static int member_of(char *members, const char *user)
{
	for (char *p = members; p && *p;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (!strcmp(p, user))
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* Walk /etc/group: find group `name` (sets *gid) and/or collect the groups
 * listing `user` as a member.  Returns 1 if `name` was found (or not asked),
 * 0 if not, -1 on error. */
static int scan_groups(int root_fd, const char *name, uint32_t *gid, const char *user,
		       struct passwd_user *out)
{
	struct line_reader lr;
	char *f[4];
	int rc, found = name ? 0 : 1;

	if (open_db(root_fd, GROUP_FILE, &lr) < 0)
		return -1;
	while ((rc = next_line(&lr)) > 0) {
		uint32_t g;
		size_t nf;

		if (lr.line[0] == '+' || lr.line[0] == '-' || lr.line[0] == '#')
			continue;
		nf = split_fields(lr.line, f, 4);
		if (nf < 3 || parse_id(f[2], &g) < 0)
			continue;
		if (name && !found && !strcmp(f[0], name)) {
			*gid = g;
			found = 1;
		}
		if (user && nf == 4 && member_of(f[3], user) && g != out->gid) {
			size_t i;

			for (i = 0; i < out->n_groups && out->groups[i] != g; i++)
				;
			if (i == out->n_groups && out->n_groups < PASSWD_MAX_GROUPS)
				out->groups[out->n_groups++] = g;
		}
	}
	int saved = errno;
	close(lr.fd);
	errno = saved;
	return rc < 0 ? -1 : found;
}

static int fail(char *msg, size_t size, int errnum, const char *a, const char *b, const char *c)
{
	struct sbuf sb;

	sbuf_init(&sb, msg, size);
	sbuf_add(&sb, a);
	sbuf_add(&sb, b);
	sbuf_add(&sb, c);
	errno = errnum;
	return -1;
}

/* A passwd/group file that could not be read; errno says why. */
static int db_fail(char *msg, size_t size, const char *file)
{
	int e = errno;

	if (e == EINVAL)
		return fail(msg, size, EINVAL, "/", file, " is not a regular file");
	return fail(msg, size, e, "read /", file, "");
}

int passwd_resolve(int root_fd, const char *spec, struct passwd_user *out, char *msg, size_t msg_size)
{
	char user[NAME_MAX_], group[NAME_MAX_] = "";
	const char *colon;
	struct pw_entry pw;
	uint32_t id, gid = 0;
	int have_pw, rc;

	if (!spec || !*spec)
		spec = "0";
	colon = strchr(spec, ':');
	if (colon ? (size_t)(colon - spec) >= sizeof(user) : strlen(spec) >= sizeof(user))
		return fail(msg, msg_size, EINVAL, "user '", spec, "': name too long");
	memcpy(user, spec, colon ? (size_t)(colon - spec) : strlen(spec));
	user[colon ? (size_t)(colon - spec) : strlen(spec)] = '\0';
	if (colon && copy_str(group, sizeof(group), colon + 1) < 0)
		return fail(msg, msg_size, EINVAL, "user '", spec, "': group name too long");
	if (!*user || (colon && !*group))
		return fail(msg, msg_size, EINVAL, "user '", spec, "': empty user or group");

	out->n_groups = 0;
	if (parse_id(user, &id) == 0) {
		have_pw = find_passwd(root_fd, NULL, id, &pw);
		if (have_pw < 0 && errno != ENOENT)
			return db_fail(msg, msg_size, PASSWD_FILE);
		if (have_pw <= 0) {
			pw.uid = id;
			pw.gid = 0;
			pw.name[0] = '\0';
			pw.home[0] = '\0';
			have_pw = 0;
		}
	} else {
		have_pw = find_passwd(root_fd, user, 0, &pw);
		if (have_pw < 0 && errno == ENOENT)
			return fail(msg, msg_size, ENOENT, "user '", user, "': the image has no /etc/passwd");
		if (have_pw < 0)
			return db_fail(msg, msg_size, PASSWD_FILE);
		if (!have_pw)
			return fail(msg, msg_size, ENOENT, "user '", user, "' not found in /etc/passwd");
	}
	out->uid = pw.uid;
	out->gid = pw.gid;

	if (*group) {
		if (parse_id(group, &gid) < 0) {
			rc = scan_groups(root_fd, group, &gid, NULL, out);
			if (rc < 0 && errno == ENOENT)
				return fail(msg, msg_size, ENOENT, "group '", group,
					    "': the image has no /etc/group");
			if (rc < 0)
				return db_fail(msg, msg_size, GROUP_FILE);
			if (!rc)
				return fail(msg, msg_size, ENOENT, "group '", group,
					    "' not found in /etc/group");
		}
		out->gid = gid;
	} else if (have_pw) {
		/* Supplementary groups only in the implicit form (runc). */
		rc = scan_groups(root_fd, NULL, NULL, pw.name, out);
		if (rc < 0 && errno != ENOENT)
			return db_fail(msg, msg_size, GROUP_FILE);
	}
	if (have_pw && pw.home[0])
		copy_str(out->home, sizeof(out->home), pw.home);
	else
		copy_str(out->home, sizeof(out->home), out->uid == 0 ? "/root" : "/");
	if (msg_size)
		msg[0] = '\0';
	return 0;
}
