/* chown for copy steps: "user[:group]" against the destination's own
 * /etc/passwd and /etc/group (builder/passwd.h), with BuildKit's rules: a
 * bare name takes the user's primary group, a bare number the same number
 * as group; numbers need no look-up. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "builder/copy_impl.h"
#include "builder/passwd.h"
#include "oci/banned.h"

/* A decimal id below 2^32 - 1 (the reserved -1). */
static bool parse_id(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return false;
	}
	*out = v;
	return true;
}

int copy_chown_resolve(int dest_root_fd, const char *user, const char *group, uint64_t *uid, uint64_t *gid,
		       struct ocb_error *err)
{
	struct passwd_user *pu = NULL;
	char spec[600], msg[512];
	uint64_t u, g;
	int rc;

	if (!user || !*user || (group && !*group))
		return ocb_error_set(err, OCB_EINVAL, 0, "empty user or group");
	if (parse_id(user, &u) && (!group || parse_id(group, &g))) {
		*uid = u;
		*gid = group ? g : u;
		return 0;
	}
	if (dest_root_fd < 0)
		return ocb_error_set(err, OCB_ENOTFOUND, 0, "'%s%s%s': the destination has no /etc/passwd",
				     user, group ? ":" : "", group ? group : "");
	if ((size_t)snprintf(spec, sizeof(spec), "%s%s%s", user, group ? ":" : "", group ? group : "") >=
	    sizeof(spec))
		return ocb_error_set(err, OCB_EINVAL, 0, "user '%.40s...' too long", user);
	if (!(pu = malloc(sizeof(*pu))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	rc = passwd_resolve(dest_root_fd, spec, pu, msg, sizeof(msg));
	if (rc < 0) {
		int e = errno;
		free(pu);
		return ocb_error_set(err,
				     e == ENOENT   ? OCB_ENOTFOUND
				     : e == EINVAL ? OCB_EINVAL
						   : OCB_EFAIL,
				     e == ENOENT || e == EINVAL ? 0 : e, "%s", msg);
	}
	*uid = pu->uid;
	*gid = group || !parse_id(user, &u) ? pu->gid : u;
	free(pu);
	return 0;
}
