/* A read-only merged view of an image's snapshots, for copy steps (the
 * destination's filesystem, and the source of `from = "stage"` or an image):
 * an overlay of lower dirs only, made with the new mount API and never
 * attached anywhere (fsmount without move_mount), so it needs no mount
 * point, no unmount, and disappears with its last fd even when ocb is
 * killed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/snapshot.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

/* The empty directory under the store that stands for "no layers". */
static int empty_dir(struct build *b, char **out, struct ocb_error *err)
{
	if (asprintf(out, "%s/empty", b->tmp_dir) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (mkdir(*out, 0755) < 0 && errno != EEXIST) {
		free(*out);
		return ocb_error_sys(err, "mkdir '%s/empty'", b->tmp_dir);
	}
	return 0;
}

static int mount_lowers(char **lowers, size_t n, const char *bottom, int *out, struct ocb_error *err)
{
	cleanup_close int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	int mfd;

	if (fsfd < 0)
		return ocb_error_set(err, OCB_EENV, errno, "fsopen overlay");
	for (size_t i = 0; i < n; i++)
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
			return ocb_error_set(err, OCB_EENV, errno, "overlay lower dir '%s'", lowers[i]);
	/* An overlay without an upper dir wants two lower dirs on older kernels. */
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", bottom, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return ocb_error_set(err, OCB_EENV, errno, "overlay of %zu snapshots", n);
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mfd < 0)
		return ocb_error_set(err, OCB_EENV, errno, "fsmount overlay");
	*out = mfd;
	return 0;
}

int build_view_open(struct build *b, const struct build_image *img, int *out, struct ocb_error *err)
{
	cleanup_free char *bottom = NULL;
	cleanup_close int mfd = -1;
	char **lowers = NULL;
	size_t n = 0;
	int fd, ret;

	if (empty_dir(b, &bottom, err) < 0 || build_lowerdirs(b, img, &lowers, &n, err) < 0)
		return -1;
	ret = n ? mount_lowers(lowers, n, bottom, &mfd, err) : 0;
	build_strv_free(lowers);
	if (ret < 0)
		return -1;
	/* A plain directory fd on the mount's root keeps the mount alive. */
	fd = n ? openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
	       : open(bottom, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ocb_error_sys(err, "open the merged view");
	*out = fd;
	return 0;
}
