/* bench_layer: time layer commits (tar + sha256 + compression + blob write)
 * of a directory tree, for scripts/bench-layer.
 *
 *   bench_layer [-c none|gzip|zstd] [-l LEVEL] [-n RUNS] TREE STORE
 *
 * Prints one line per run and a summary with the median; MB/s counts
 * uncompressed tar bytes (10^6 bytes per MB).  With -c none the blob left in
 * STORE is the plain tar, for comparisons with other tools ("blob: PATH"). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "oci/layer.h"
#include "benchutil.h"
#include "oci/banned.h"

#define MAX_RUNS 15

static int usage(void)
{
	fprintf(stderr, "usage: bench_layer [-c none|gzip|zstd] [-l LEVEL] [-n RUNS] TREE STORE\n");
	return 2;
}

static int run_once(struct oci_blobstore *bs, int tree, const struct oci_layer_options *opts, bool keep,
		    struct oci_layer_desc *d, double *secs, double *cpu, struct ocb_error *err)
{
	double t0 = bench_now(), c0 = bench_cpu_seconds();

	if (oci_layer_from_dir(bs, tree, opts, d, err) < 0)
		return -1;
	*secs = bench_now() - t0;
	*cpu = bench_cpu_seconds() - c0;
	if (!keep)
		return oci_blobstore_remove(bs, &d->digest, err);
	return 0;
}

int main(int argc, char **argv)
{
	struct oci_layer_options opts = {.compression = OCI_COMPRESSION_GZIP};
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_blobstore bs;
	struct oci_layer_desc d = {0};
	double secs[MAX_RUNS], cpus[MAX_RUNS];
	struct rusage ru;
	int runs = 3, c, tree;
	char buf[4096];

	while ((c = getopt(argc, argv, "c:l:n:")) != -1) {
		if (c == 'c' && oci_compression_parse(optarg, &opts.compression, &err) < 0)
			return usage();
		else if (c == 'l')
			opts.level = (int)strtol(optarg, NULL, 10);
		else if (c == 'n')
			runs = (int)strtol(optarg, NULL, 10);
		else if (c == '?')
			return usage();
	}
	if (argc - optind != 2 || runs < 1 || runs > MAX_RUNS)
		return usage();
	if (oci_layer_options_from_env(&opts, &err) < 0)
		goto fail;
	tree = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tree < 0) {
		perror(argv[optind]);
		return 1;
	}
	if (oci_blobstore_open(&bs, argv[optind + 1], true, &err) < 0)
		goto fail;
	for (int i = 0; i < runs; i++) {
		if (run_once(&bs, tree, &opts, i == runs - 1, &d, &secs[i], &cpus[i], &err) < 0)
			goto fail;
		printf("run %d: %s tar %.1f MB -> blob %.1f MB in %.3f s (cpu %.3f s): %.1f MB/s\n", i + 1,
		       oci_compression_name(opts.compression), d.tar_size / 1e6, d.size / 1e6, secs[i],
		       cpus[i], d.tar_size / 1e6 / secs[i]);
		fflush(stdout);
	}
	qsort(secs, (size_t)runs, sizeof(secs[0]), bench_cmp_double);
	qsort(cpus, (size_t)runs, sizeof(cpus[0]), bench_cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	/* CPU seconds show what 2 idle cores could do when the machine is busy. */
	printf("median: %s %.1f MB/s (%.3f s, cpu %.3f s, for %.1f MB, ratio %.3f, peak RSS %ld MiB)\n",
	       oci_compression_name(opts.compression), d.tar_size / 1e6 / secs[runs / 2], secs[runs / 2],
	       cpus[runs / 2], d.tar_size / 1e6, (double)d.size / (double)d.tar_size, ru.ru_maxrss / 1024);
	printf("digest: %s\ndiff_id: %s\nblob: %s/blobs/sha256/%s\n", d.digest.str, d.diff_id.str,
	       argv[optind + 1], oci_digest_hex(&d.digest));
	oci_blobstore_release(&bs);
	close(tree);
	return 0;
fail:
	fprintf(stderr, "bench_layer: %s\n", ocb_error_format(&err, buf, sizeof(buf)));
	return 1;
}
