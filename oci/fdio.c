#include "oci/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include "oci/banned.h"

int oci_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t oci_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int oci_tmpfile_at(int dirfd, char name[OCI_TMP_NAME_MAX], struct ocb_error *err)
{
	static const char hex[] = "0123456789abcdef";

	for (int attempt = 0; attempt < 16; attempt++) {
		unsigned char rnd[8];
		char *p = name + snprintf(name, OCI_TMP_NAME_MAX, OCI_TMP_PREFIX);
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return ocb_error_sys(err, "getrandom");
		for (size_t i = 0; i < sizeof(rnd); i++) {
			*p++ = hex[rnd[i] >> 4];
			*p++ = hex[rnd[i] & 0xf];
		}
		*p = '\0';
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return ocb_error_sys(err, "cannot create a temp file");
	}
	return ocb_error_set(err, OCB_EFAIL, EEXIST, "cannot create a temp file");
}
