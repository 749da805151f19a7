/* libFuzzer target for the layer decompressor: the first byte picks the codec
 * (gzip, zstd, auto), the rest is the compressed stream, read from a memfd.
 * Rejected input is fine; a crash, a leak, a hang, or a stream accepted
 * without every compressed byte having gone through the hasher is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "oci/compress.h"
#include "oci/digest.h"
#include "oci/banned.h"

#define MAX_OUTPUT (64u << 20) /* stop inflating bombs early */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd_with(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* Decompress everything; 1 when the stream was accepted to its end. */
static int drain(struct oci_decompressor *d)
{
	static char buf[4096];
	struct ocb_error err = OCB_ERROR_INIT;
	size_t total = 0;
	ssize_t n;

	while ((n = oci_decompressor_read(d, buf, sizeof(buf), &err)) > 0) {
		total += (size_t)n;
		if (total > MAX_OUTPUT)
			return 0;
	}
	return n == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum oci_compression codecs[] = {OCI_COMPRESSION_GZIP, OCI_COMPRESSION_ZSTD,
						      OCI_COMPRESSION_AUTO};
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_decompressor *d = NULL;
	struct oci_digest seen, want;
	struct oci_hasher h;
	int fd;

	if (size < 1)
		return 0;
	fd = memfd_with(data + 1, size - 1);
	if (oci_hasher_init(&h, &err) < 0)
		abort();
	if (oci_decompressor_new(&d, codecs[data[0] % 3], fd, &h, &err) == 0 && drain(d)) {
		oci_hasher_final(&h, &seen);
		if (oci_digest_buffer(data + 1, size - 1, &want, &err) < 0 || !oci_digest_equal(&seen, &want))
			abort();
	}
	oci_decompressor_free(d);
	oci_hasher_release(&h);
	close(fd);
	return 0;
}
