/* Can this host run another architecture's binaries in the sandbox?  Only
 * through binfmt_misc with qemu-user-static registered with the F flag: the
 * kernel then opens the interpreter at registration time, so it need not
 * exist inside the image (Docker/BuildKit rely on the same). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "builder/sandbox.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"
#define SETUP_HINT "run scripts/setup-binfmt"

static const struct {
	const char *names[5]; /* OCI/Docker spellings, uname -m's */
	const char *qemu;     /* qemu-user's name, uname -m of the target */
} arches[] = {
    {{"arm64", "aarch64", "arm64/v8"}, "aarch64"},
    {{"amd64", "x86_64"}, "x86_64"},
    {{"arm", "armhf", "armel", "arm/v7", "arm/v6"}, "arm"},
    {{"386", "i386", "i686"}, "i386"},
    {{"ppc64le"}, "ppc64le"},
    {{"s390x"}, "s390x"},
    {{"riscv64"}, "riscv64"},
};

static const char *qemu_name(const char *arch)
{
	if (!strncmp(arch, "linux/", 6))
		arch += 6;
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		for (size_t j = 0; j < 5 && arches[i].names[j]; j++)
			if (!strcmp(arch, arches[i].names[j]))
				return arches[i].qemu;
	return NULL;
}

static bool runs_natively(const char *qemu)
{
	struct utsname u;

	if (uname(&u) < 0)
		return false;
	return !strcmp(qemu, u.machine) || (!strcmp(qemu, "i386") && !strcmp(u.machine, "x86_64"));
}

/* Read a small /proc file; 0 or -1 (errno). */
static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return 0;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static bool has_fix_binary_flag(const char *text)
{
	const char *flags = strstr(text, "\nflags: ");
	const char *end;

	if (!flags)
		return false;
	flags += 8;
	end = strchrnul(flags, '\n');
	return memchr(flags, 'F', (size_t)(end - flags)) != NULL;
}

/* sandbox_check_binfmt() against binfmt_misc mounted at dir (tests use a
 * fake one). */
int sandbox_check_binfmt_at(const char *dir, const char *arch, struct ocb_error *err)
{
	const char *q = arch ? qemu_name(arch) : NULL;
	cleanup_close int dfd = -1;
	char entry[64], text[4096];

	if (!q)
		return ocb_error_set(err, OCB_EINVAL, 0, "unknown architecture '%s'", arch ? arch : "");
	if (runs_natively(q))
		return 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || faccessat(dfd, "register", F_OK, 0) < 0)
		return ocb_error_set(err, OCB_EENV, 0,
				     "cannot run %s binaries: binfmt_misc is not mounted on %s (" SETUP_HINT
				     " %s)",
				     arch, dir, arch);
	if (read_small(dfd, "status", text, sizeof(text)) == 0 && !has_line(text, "enabled"))
		return ocb_error_set(err, OCB_EENV, 0,
				     "cannot run %s binaries: binfmt_misc is disabled (" SETUP_HINT " %s)",
				     arch, arch);
	snprintf(entry, sizeof(entry), "qemu-%s", q);
	if (read_small(dfd, entry, text, sizeof(text)) < 0)
		return ocb_error_set(err, OCB_EENV, errno == ENOENT ? 0 : errno,
				     "cannot run %s binaries: no binfmt_misc entry '%s' (" SETUP_HINT " %s)",
				     arch, entry, arch);
	if (!has_line(text, "enabled"))
		return ocb_error_set(err, OCB_EENV, 0,
				     "cannot run %s binaries: binfmt_misc entry '%s' is disabled (" SETUP_HINT
				     " %s)",
				     arch, entry, arch);
	if (!has_fix_binary_flag(text))
		return ocb_error_set(
		    err, OCB_EENV, 0,
		    "cannot run %s binaries: binfmt_misc entry '%s' lacks the F flag, so its "
		    "interpreter would have to be inside the image (" SETUP_HINT " %s)",
		    arch, entry, arch);
	return 0;
}

int sandbox_check_binfmt(const char *arch, struct ocb_error *err)
{
	return sandbox_check_binfmt_at(BINFMT_DIR, arch, err);
}
