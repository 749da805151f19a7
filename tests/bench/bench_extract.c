/* bench_extract: time layer extraction (read blob + decompress + sha256 of
 * both streams + tar parse + writes) of every layer blob in STORE, for
 * scripts/bench-layer.
 *
 *   bench_extract [-n RUNS] STORE
 *
 * Each run extracts into a fresh directory STORE/extract-N (published with
 * oci_extract_layer_to_new_dir); they are removed after the blob's last run,
 * untimed (removing one just before the next run would time ext4's slow
 * inode allocation next to recently deleted inodes on journal-less file
 * systems instead of the extractor).  The store is synced (untimed) before
 * each run, so a run does not pay for the writeback of the one before.
 * Blobs under 1 MiB are skipped.  MB/s counts uncompressed tar bytes (10^6
 * bytes per MB); one "median:" line per blob. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/blobstore.h"
#include "oci/extract.h"
#include "benchutil.h"
#include "oci/banned.h"

#define MAX_RUNS 15
#define MIN_BLOB (1 << 20)

static const char *sniff(int blobs, const char *hex)
{
	unsigned char m[4] = {0};
	int fd = openat(blobs, hex, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, m, sizeof(m)) != (ssize_t)sizeof(m)) {
		if (fd >= 0)
			close(fd);
		return "none";
	}
	close(fd);
	if (m[0] == 0x1f && m[1] == 0x8b)
		return "gzip";
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return "zstd";
	return "none";
}

static int bench_blob(struct oci_blobstore *bs, int storefd, const char *hex, int runs, struct ocb_error *err)
{
	const char *kind = sniff(bs->blobs_fd, hex);
	struct oci_extract_stats st = {0};
	struct oci_digest d;
	double secs[MAX_RUNS];
	char digest[80];
	struct rusage ru;

	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	if (oci_digest_parse(digest, &d, err) < 0)
		return -1;
	for (int i = 0; i < runs; i++) {
		double t0, c0, cpu;
		char name[32];

		/* Start each run without the previous run's dirty pages. */
		syncfs(storefd);
		t0 = bench_now();
		c0 = bench_cpu_seconds();
		snprintf(name, sizeof(name), "extract-%d", i);
		if (oci_extract_layer_to_new_dir(storefd, name, bs, &d, OCI_COMPRESSION_AUTO, NULL, NULL, &st,
						 err) < 0)
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
		if (oci_remove_tree_at(storefd, name, err) < 0)
			return -1;
	}
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
	int runs = 3, c, storefd;
	char buf[4096];
	DIR *d;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n')
			runs = (int)strtol(optarg, NULL, 10);
		else
			goto usage;
	}
	if (argc - optind != 1 || runs < 1 || runs > MAX_RUNS)
		goto usage;
	if (oci_blobstore_open(&bs, argv[optind], false, &err) < 0)
		goto fail;
	storefd = open(argv[optind], O_PATH | O_DIRECTORY | O_CLOEXEC);
	d = fdopendir(openat(bs.blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (storefd < 0 || !d) {
		perror(argv[optind]);
		return 1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (strlen(de->d_name) != OCI_DIGEST_HEX_LEN ||
		    fstatat(bs.blobs_fd, de->d_name, &st, 0) < 0 || st.st_size < MIN_BLOB)
			continue;
		if (bench_blob(&bs, storefd, de->d_name, runs, &err) < 0)
			goto fail;
	}
	closedir(d);
	close(storefd);
	oci_blobstore_release(&bs);
	return 0;
usage:
	fprintf(stderr, "usage: bench_extract [-n RUNS] STORE\n");
	return 2;
fail:
	fprintf(stderr, "bench_extract: %s\n", ocb_error_format(&err, buf, sizeof(buf)));
	return 1;
}
