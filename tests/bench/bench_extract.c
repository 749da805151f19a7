/* bench_extract: time layer extraction (read blob + decompress + sha256 of
 * both streams + tar parse + writes) of every layer blob in STORE, for
 * scripts/bench-layer.
 *
 *   bench_extract [-p] [-n RUNS] [-o OUTDIR] STORE
 *
 * An untimed first extraction brings the blob into the page cache and
 * learns its diff_id, which the timed runs check as the builder does.  Each
 * run extracts into a fresh directory OUTDIR/extract-N (OUTDIR is STORE
 * unless given), published with oci_extract_layer_to_new_dir; they are
 * removed after the blob's last run, untimed (removing one just before the
 * next run would time ext4's slow inode allocation next to recently deleted
 * inodes on journal-less file systems instead of the extractor).  OUTDIR's
 * file system is synced (untimed) before each run, so a run does not pay
 * for the writeback of the one before.
 * Blobs under 1 MiB are skipped.  MB/s counts uncompressed tar bytes (10^6
 * bytes per MB); one "median:" line per blob.
 *
 * With -p (prime), each timed run is preceded by an untimed write and
 * unlink of a scratch file twice as large as the layer's tar: on a VM whose
 * balloon reports free pages back to the host, a page the guest has not
 * touched lately costs a host fault on first touch, which on the machines
 * we measured made writing 1 GB of new page cache take 1.5-2.9 s instead
 * of 0.2-0.3 s (plain dd shows the same).  Priming hands the extractor
 * pages the host still backs, so the figure is the extractor's. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/blobstore.h"
#include "oci/compress.h"
#include "oci/extract.h"
#include "benchutil.h"
#include "oci/banned.h"

#define MAX_RUNS   15
#define MIN_BLOB   (1 << 20)
#define PRIME_NAME "prime.tmp"

static bool prime;

/* Write and unlink `bytes` of scratch data in dirfd (see -p above). */
static int prime_page_allocator(int dirfd, uint64_t bytes)
{
	static unsigned char buf[1 << 20];
	int fd = openat(dirfd, PRIME_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = -1;

	if (fd < 0)
		return -1;
	memset(buf, 0x5a, sizeof(buf));
	for (uint64_t done = 0; done < bytes; done += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			goto out;
	if (fdatasync(fd) < 0)
		goto out;
	rc = 0;
out:
	close(fd);
	unlinkat(dirfd, PRIME_NAME, 0);
	return rc;
}

static const char *sniff(int blobs, const char *hex)
{
	unsigned char m[OCI_COMPRESSION_MAGIC_MAX];
	int fd = openat(blobs, hex, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, m, sizeof(m)) : -1;

	if (fd >= 0)
		close(fd);
	switch (oci_compression_detect(m, n > 0 ? (size_t)n : 0)) {
	case OCI_COMPRESSION_GZIP:
		return "gzip";
	case OCI_COMPRESSION_ZSTD:
		return "zstd";
	default:
		return "none";
	}
}

static int bench_blob(struct oci_blobstore *bs, int outfd, const char *hex, int runs, struct ocb_error *err)
{
	const char *kind = sniff(bs->blobs_fd, hex);
	struct oci_extract_stats st = {0};
	struct oci_digest d, diff_id;
	double secs[MAX_RUNS];
	char digest[80];
	struct rusage ru;

	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	if (oci_digest_parse(digest, &d, err) < 0)
		return -1;
	/* Untimed: brings the blob into the page cache, sizes the priming and
	 * learns the diff_id, which timed runs check as the builder does. */
	if (oci_extract_layer_to_new_dir(outfd, "extract-warm", bs, &d, OCI_COMPRESSION_AUTO, NULL, NULL, &st,
					 err) < 0)
		return -1;
	diff_id = st.diff_id;
	for (int i = 0; i < runs; i++) {
		double t0, c0, cpu;
		char name[32];

		if (prime && prime_page_allocator(outfd, 2 * st.stream_bytes) < 0)
			return ocb_error_sys(err, "cannot write the priming file");
		/* Start each run without the previous run's dirty pages. */
		if (syncfs(outfd) < 0)
			return ocb_error_sys(err, "syncfs");
		t0 = bench_now();
		c0 = bench_cpu_seconds();
		snprintf(name, sizeof(name), "extract-%d", i);
		if (oci_extract_layer_to_new_dir(outfd, name, bs, &d, OCI_COMPRESSION_AUTO, &diff_id, NULL,
						 &st, err) < 0)
			return -1;
		secs[i] = bench_now() - t0;
		cpu = bench_cpu_seconds() - c0;
		printf("run %d: %s %.1f MB (%llu entries) in %.3f s (cpu %.3f s): %.1f MB/s\n", i + 1, kind,
		       st.stream_bytes / 1e6, (unsigned long long)st.entries, secs[i], cpu,
		       st.stream_bytes / 1e6 / secs[i]);
		fflush(stdout);
	}
	for (int i = 0; i < runs; i++) {
		char name[32];
		snprintf(name, sizeof(name), "extract-%d", i);
		if (oci_remove_tree_at(outfd, name, err) < 0)
			return -1;
	}
	if (oci_remove_tree_at(outfd, "extract-warm", err) < 0)
		return -1;
	qsort(secs, (size_t)runs, sizeof(secs[0]), bench_cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	printf("median: ocb extract %s %.1f MB/s (%.3f s for %.1f MB, peak RSS %ld MiB)\n", kind,
	       st.stream_bytes / 1e6 / secs[runs / 2], secs[runs / 2], st.stream_bytes / 1e6,
	       ru.ru_maxrss / 1024);
	return 0;
}

int main(int argc, char **argv)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_blobstore bs;
	struct dirent *de;
	const char *outdir = NULL;
	int runs = 3, c, outfd;
	char buf[4096];
	DIR *d;

	while ((c = getopt(argc, argv, "n:o:p")) != -1) {
		if (c == 'n')
			runs = (int)strtol(optarg, NULL, 10);
		else if (c == 'p')
			prime = true;
		else if (c == 'o')
			outdir = optarg;
		else
			goto usage;
	}
	if (argc - optind != 1 || runs < 1 || runs > MAX_RUNS)
		goto usage;
	if (oci_blobstore_open(&bs, argv[optind], false, &err) < 0)
		goto fail;
	if (!outdir)
		outdir = argv[optind];
	/* Not O_PATH: syncfs needs a real descriptor. */
	outfd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fdopendir(openat(bs.blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (outfd < 0 || !d) {
		perror(outfd < 0 ? outdir : argv[optind]);
		return 1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (strlen(de->d_name) != OCI_DIGEST_HEX_LEN ||
		    fstatat(bs.blobs_fd, de->d_name, &st, 0) < 0 || st.st_size < MIN_BLOB)
			continue;
		if (bench_blob(&bs, outfd, de->d_name, runs, &err) < 0)
			goto fail;
	}
	closedir(d);
	close(outfd);
	oci_blobstore_release(&bs);
	return 0;
usage:
	fprintf(stderr, "usage: bench_extract [-p] [-n RUNS] [-o OUTDIR] STORE\n");
	return 2;
fail:
	fprintf(stderr, "bench_extract: %s\n", ocb_error_format(&err, buf, sizeof(buf)));
	return 1;
}
