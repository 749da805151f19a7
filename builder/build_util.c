/* Small shared pieces of the build: temp dirs, lower dirs, failure and step
 * records. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/private_dir.h"
#include "builder/snapshot.h"
#include "oci/cleanup.h"
#include "oci/extract.h"
#include "oci/banned.h"

int64_t build_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void build_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int build_lowerdirs(struct build *b, const struct build_image *img, char ***out, size_t *n,
		    struct ocb_error *err)
{
	char **v = calloc(img->n_layers + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = img->n_layers; i-- > 0;) {
		const struct build_layer *l = &img->layers[i];
		const struct oci_blobstore *bs = l->in_store ? &b->store.bs : b->layer_bs;
		if ((!l->in_store && !snapshot_exists(b->snapshots, &l->diff_id) &&
		     build_layer_fetch(b, &l->desc.digest, err) < 0) ||
		    snapshot_ensure(b->snapshots, bs, l->desc.media_type, &l->desc.digest, &l->diff_id, NULL,
				    err) < 0)
			goto fail;
		if (!(v[k++] = snapshot_path(b->snapshots, &l->diff_id))) {
			ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
			goto fail;
		}
	}
	*out = v;
	*n = k;
	return 0;
fail:
	build_strv_free(v);
	return -1;
}

int build_mkdtemp(struct build *b, char **out, struct ocb_error *err)
{
	char prefix[32];

	/* The pid lets a later build find a killed one's leftovers. */
	snprintf(prefix, sizeof(prefix), "build-%ld", (long)getpid());
	return build_private_mkdtemp(b->tmp_dir, prefix, out, err);
}

/* "build-<pid>-XXXXXX" whose pid is gone: a killed build's leftovers. */
static bool stale_entry(const char *name)
{
	char *end = NULL;
	long pid;

	if (strncmp(name, "build-", 6) != 0)
		return false;
	errno = 0;
	pid = strtol(name + 6, &end, 10);
	if (errno || end == name + 6 || *end != '-' || pid <= 0)
		return false;
	return pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void build_clean_stale_tmp(struct build *b)
{
	cleanup_close int fd = open(b->tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct ocb_error ignored = OCB_ERROR_INIT;
	DIR *d;
	struct dirent *e;

	if (fd < 0 || !(d = fdopendir(dup(fd))))
		return;
	while ((e = readdir(d)))
		if (stale_entry(e->d_name))
			oci_remove_tree_at(fd, e->d_name, &ignored);
	closedir(d);
}

static volatile sig_atomic_t interrupted;

void build_interrupt(void)
{
	interrupted = 1;
}

void build_fail(struct build *b, const struct ocb_error *err)
{
	pthread_mutex_lock(&b->lock);
	if (!b->failed) {
		b->failed = true;
		b->first_err = *err;
	}
	pthread_mutex_unlock(&b->lock);
	build_shared_fail(b);
}

bool build_failed(struct build *b)
{
	bool f;

	pthread_mutex_lock(&b->lock);
	f = b->failed || interrupted;
	pthread_mutex_unlock(&b->lock);
	return f || build_shared_failed(b);
}

int build_record_step(struct build *b, const struct build_step_record *r, struct ocb_error *err)
{
	struct build_step_record *v;
	int ret = 0;

	pthread_mutex_lock(&b->lock);
	v = realloc(b->records, (b->n_records + 1) * sizeof(*v));
	if (!v) {
		ret = ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	} else {
		b->records = v;
		v[b->n_records] = *r;
		if (!(v[b->n_records].stage = strdup(r->stage)))
			ret = ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		else
			b->n_records++;
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}
