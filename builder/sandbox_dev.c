/* The sandbox's minimal /dev, as plan ops: a tmpfs with the host's harmless
 * character devices bind-mounted in (bubblewrap's way: mknod is refused in
 * some setups and would need CAP_MKNOD), a private devpts instance, shm, and
 * the fd links. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>

#include "builder/sandbox_impl.h"
#include "oci/banned.h"

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static const struct {
	const char *name, *target;
} dev_links[] = {
    {"ptmx", "pts/ptmx"},	   {"fd", "/proc/self/fd"},	  {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
};

int sandbox_plan_add_dev(struct sandbox_plan *plan, struct ocb_error *err)
{
	const unsigned long nosuid = MS_NOSUID | MS_NOEXEC;
	char path[64];

	/* nodev: the step may mknod here (CAP_MKNOD) and there is no device
	 * cgroup; the bind-mounted host nodes are mounts of their own, whose
	 * flags (not the tmpfs's) decide, so they still open. */
	if (sandbox_plan_add(plan,
			     &(struct sandbox_op){.kind = SANDBOX_OP_MOUNT,
						  .opts = SANDBOX_OPF_STUB,
						  .dest = "/dev",
						  .fstype = "tmpfs",
						  .data = "mode=0755,size=65536k",
						  .flags = MS_NOSUID | MS_NODEV | MS_STRICTATIME},
			     err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		if (!sandbox_plan_source(plan, path, 0, err))
			return ocb_error_wrap(err, "host device");
		if (sandbox_plan_add(plan,
				     &(struct sandbox_op){.kind = SANDBOX_OP_BIND,
							  .opts = SANDBOX_OPF_FILE,
							  .dest = path,
							  .flags = MS_NOSUID | MS_NOEXEC,
							  .src = path},
				     err) < 0)
			return -1;
	}
	if (sandbox_plan_add(plan,
			     &(struct sandbox_op){.kind = SANDBOX_OP_MKDIR, .dest = "/dev/pts", .mode = 0755},
			     err) < 0 ||
	    sandbox_plan_add(plan,
			     &(struct sandbox_op){.kind = SANDBOX_OP_MOUNT,
						  .dest = "/dev/pts",
						  .fstype = "devpts",
						  .data = "newinstance,ptmxmode=0666,mode=0620",
						  .flags = nosuid},
			     err) < 0 ||
	    sandbox_plan_add(
		plan, &(struct sandbox_op){.kind = SANDBOX_OP_MKDIR, .dest = "/dev/shm", .mode = 01777},
		err) < 0 ||
	    sandbox_plan_add(plan,
			     &(struct sandbox_op){.kind = SANDBOX_OP_MOUNT,
						  .dest = "/dev/shm",
						  .fstype = "tmpfs",
						  .data = "mode=1777,size=65536k",
						  .flags = nosuid | MS_NODEV},
			     err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
		snprintf(path, sizeof(path), "/dev/%s", dev_links[i].name);
		if (sandbox_plan_add(plan,
				     &(struct sandbox_op){.kind = SANDBOX_OP_SYMLINK,
							  .dest = path,
							  .target = dev_links[i].target},
				     err) < 0)
			return -1;
	}
	return 0;
}
