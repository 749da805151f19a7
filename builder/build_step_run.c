/* A `run` step: the command in a sandbox over the image's snapshots, the
 * overlay upper dir turned into a layer (overlay_diff_write_layer, with the
 * sandbox's mount targets skipped), then published as the layer's snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder/build.h"
#include "builder/overlay_diff.h"
#include "builder/progress.h"
#include "builder/sandbox.h"
#include "builder/snapshot.h"
#include "oci/cleanup.h"
#include "oci/extract.h"
#include "oci/layer.h"
#include "oci/banned.h"

#define RUN_MAX_MOUNTS SANDBOX_MAX_MOUNTS

/* Everything the step runs with, resolved from the recipe and the base. */
struct run_plan {
	struct build_run_env re;
	enum sandbox_network network;
	struct sandbox_mount mounts[RUN_MAX_MOUNTS];
	size_t n_mounts;
	int mount_locks[RUN_MAX_MOUNTS];
	char *mount_dirs[RUN_MAX_MOUNTS];
};

static void run_plan_release(struct run_plan *p)
{
	build_run_env_release(&p->re);
	for (size_t i = 0; i < p->n_mounts; i++) {
		build_mount_release(p->mount_locks[i]);
		free(p->mount_dirs[i]);
	}
}

static const struct build_secret *find_secret(const struct build *b, const char *id)
{
	for (size_t i = 0; i < b->opts->n_secrets; i++)
		if (!strcmp(b->opts->secrets[i].id, id))
			return &b->opts->secrets[i];
	return NULL;
}

static int plan_mounts(struct build_step_ctx *sc, struct run_plan *p, struct ocb_error *err)
{
	const struct recipe_step *step = sc->step;

	if (step->cache.len + step->secrets.len > RUN_MAX_MOUNTS)
		return ocb_error_set(err, OCB_ELIMIT, 0, "too many cache and secret mounts");
	for (size_t i = 0; i < step->cache.len; i++) {
		const char *target = step->cache.items[i].value;
		size_t k = p->n_mounts;
		if (build_mount_acquire(sc->b, sc->stage->name, target, &p->mount_dirs[k], &p->mount_locks[k],
					err) < 0)
			return -1;
		p->mounts[k] = (struct sandbox_mount){
		    .kind = SANDBOX_MOUNT_CACHE, .source = p->mount_dirs[k], .target = target};
		p->n_mounts++;
	}
	for (size_t i = 0; i < step->secrets.len; i++) {
		const struct recipe_str *id = &step->secrets.items[i];
		const struct build_secret *s = find_secret(sc->b, id->value);
		if (!s)
			return ocb_error_set(err, OCB_EINVAL, 0,
					     "%s:%u:%u: secret '%s' was not given (--secret id=%s,src=PATH)",
					     id->pos.file, id->pos.line, id->pos.col, id->value, id->value);
		p->mount_locks[p->n_mounts] = -1;
		p->mounts[p->n_mounts++] =
		    (struct sandbox_mount){.kind = SANDBOX_MOUNT_SECRET, .source = s->src, .target = s->id};
	}
	return 0;
}

/* Does the step's command text name the variable? */
static bool command_names(const struct recipe_step *step, const char *name)
{
	for (size_t i = 0; i < step->run.argv.len; i++)
		if (strstr(step->run.argv.items[i].value, name))
			return true;
	return false;
}

/* A platform = "build" stage is shared by every target platform: its steps
 * see TARGETPLATFORM/OS/ARCH/VARIANT only when their command names them, so
 * the others get the same environment (and cache key) for every target.
 * Sound: a step that cannot see a variable cannot depend on it. */
static void drop_unnamed_target_vars(const struct recipe_step *step, char **env)
{
	static const char *const vars[] = {"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT"};
	size_t w = 0;

	for (size_t r = 0; env[r]; r++) {
		bool drop = false;
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]) && !drop; i++) {
			size_t len = strlen(vars[i]);
			drop = !strncmp(env[r], vars[i], len) && env[r][len] == '=' &&
			       !command_names(step, vars[i]);
		}
		if (drop)
			free(env[r]);
		else
			env[w++] = env[r];
	}
	env[w] = NULL;
}

int build_run_env(struct build_step_ctx *sc, struct build_run_env *re, struct ocb_error *err)
{
	const struct build_image *base = &sc->b->bases[sc->stage->index];
	const struct recipe_step *step = sc->step;
	struct build_run_env r = {0};

	if (recipe_step_env(sc->b->recipe, sc->stage, step, (const char *const *)base->config.config.env,
			    &r.env, err) < 0)
		return -1;
	if (sc->stage->platform_kind == RECIPE_PLATFORM_BUILD && step->kind == RECIPE_STEP_RUN)
		drop_unnamed_target_vars(step, r.env);
	if (build_step_workdir(sc, &r.workdir, err) < 0) {
		build_run_env_release(&r);
		return -1;
	}
	r.user = step->user.value	 ? step->user.value
		 : sc->stage->user.value ? sc->stage->user.value
					 : base->config.config.user;
	*re = r;
	return 0;
}

void build_run_env_release(struct build_run_env *re)
{
	recipe_env_free(re->env);
	free(re->workdir);
	memset(re, 0, sizeof(*re));
}

static int run_plan_make(struct build_step_ctx *sc, struct run_plan *p, struct ocb_error *err)
{
	const struct recipe_step *step = sc->step;

	if (build_run_env(sc, &p->re, err) < 0)
		return -1;
	p->network = step->net == RECIPE_NETWORK_NONE	? SANDBOX_NET_NONE
		     : step->net == RECIPE_NETWORK_HOST ? SANDBOX_NET_HOST
							: SANDBOX_NET_DEFAULT;
	return 0;
}

/* "RUN /bin/sh -c make" (shell form) or "RUN make all" (exec form). */
int build_run_created_by(const struct recipe_step *step, bool display, char **out, struct ocb_error *err)
{
	const struct recipe_strv *a = &step->run.argv;
	size_t len = 4;
	size_t first = step->run.shell && display ? 2 : 0;
	char *s, *q;

	for (size_t i = first; i < a->len; i++)
		len += strlen(a->items[i].value) + 1;
	if (!(s = malloc(len + 1)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	q = s + snprintf(s, len + 1, "RUN");
	for (size_t i = first; i < a->len; i++)
		q += snprintf(q, len + 1 - (size_t)(q - s), " %s", a->items[i].value);
	*out = s;
	return 0;
}

struct run_dirs {
	char *tmp; /* the step's temp dir: upper/, work/, empty/ */
	char *upper, *work, *empty;
};

static void run_dirs_release(struct run_dirs *d)
{
	struct ocb_error ignored = OCB_ERROR_INIT;

	if (d->tmp)
		oci_remove_tree_at(-100 /* AT_FDCWD */, d->tmp, &ignored);
	free(d->tmp);
	free(d->upper);
	free(d->work);
	free(d->empty);
}

static int run_dirs_make(struct build *b, struct run_dirs *d, struct ocb_error *err)
{
	if (build_mkdtemp(b, &d->tmp, err) < 0)
		return -1;
	if (asprintf(&d->upper, "%s/upper", d->tmp) < 0 || asprintf(&d->work, "%s/work", d->tmp) < 0 ||
	    asprintf(&d->empty, "%s/empty", d->tmp) < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (mkdir(d->upper, 0755) < 0 || mkdir(d->work, 0700) < 0 || mkdir(d->empty, 0755) < 0)
		return ocb_error_sys(err, "mkdir in '%s'", d->tmp);
	return 0;
}

static int on_output(void *ctx, const char *buf, size_t len, struct ocb_error *err)
{
	build_steplog_write(ctx, buf, len);
	return 0;
}

static int step_failed(struct build_step_ctx *sc, const struct sandbox_result *res, struct build_steplog *log,
		       struct ocb_error *err)
{
	cleanup_free char *what = NULL;
	cleanup_free char *tail = build_steplog_tail(log);
	struct ocb_error e = OCB_ERROR_INIT;

	build_run_created_by(sc->step, true, &what, &e);
	if (res->signal)
		ocb_error_set(err, OCB_EBUILD, 0, "stage '%s', step %zu (%s): killed by signal %d%s%s",
			      sc->stage->name, sc->step->index + 1, what ? what : "RUN", res->signal,
			      tail && *tail ? "\nlast output:\n" : "", tail ? tail : "");
	else
		ocb_error_set(err, OCB_EBUILD, 0, "stage '%s', step %zu (%s): exit code %d%s%s",
			      sc->stage->name, sc->step->index + 1, what ? what : "RUN", res->exit_code,
			      tail && *tail ? "\nlast output:\n" : "", tail ? tail : "");
	return -1;
}

static int run_sandbox(struct build_step_ctx *sc, struct run_plan *p, struct run_dirs *d, char **lowers,
		       size_t n_lowers, char ***targets, struct ocb_error *err)
{
	const struct recipe_step *step = sc->step;
	struct sandbox_config cfg = SANDBOX_CONFIG_INIT;
	cleanup_free const char **argv = NULL;
	struct sandbox_result res = {0};
	struct build_steplog log;
	const char *empty[] = {d->empty, NULL};
	int ret;

	cfg.lowerdirs = n_lowers ? (const char *const *)lowers : empty;
	cfg.n_lowerdirs = n_lowers ? n_lowers : 1;
	cfg.upperdir = d->upper;
	cfg.overlay_workdir = d->work;
	if (step->run.shell) {
		cfg.shell = step->run.argv.items[2].value;
	} else {
		if (!(argv = calloc(step->run.argv.len + 1, sizeof(*argv))))
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		for (size_t i = 0; i < step->run.argv.len; i++)
			argv[i] = step->run.argv.items[i].value;
		cfg.argv = argv;
	}
	cfg.env = (const char *const *)p->re.env;
	cfg.cwd = p->re.workdir;
	cfg.user = p->re.user;
	cfg.network = p->network;
	cfg.mounts = p->mounts;
	cfg.n_mounts = p->n_mounts;
	cfg.seccomp_unconfined = sc->b->opts->seccomp_unconfined;
	build_steplog_init(&log, sc->b->progress, sc->id);
	cfg.output = on_output;
	cfg.output_ctx = &log;
	if (sandbox_mount_targets(&cfg, targets, err) < 0) {
		build_steplog_release(&log);
		return -1;
	}
	ret = sandbox_run(&cfg, &res, err);
	build_steplog_finish(&log);
	if (ret == 0 && (res.exit_code != 0 || res.signal != 0))
		ret = step_failed(sc, &res, &log, err);
	build_steplog_release(&log);
	return ret;
}

/* The upper dir as a layer in the layer blob store; *empty when the step
 * changed nothing. */
static int write_layer(struct build_step_ctx *sc, const char *upper, char **skip, struct build_layer *out,
		       bool *empty, struct ocb_error *err)
{
	struct overlay_diff_options dopts = {.skip = (const char *const *)skip};
	struct oci_layer_options lopts = {.compression = sc->b->opts->compression};
	struct overlay_diff diff = {.upper_fd = -1};
	struct oci_layer_writer *w = NULL;
	struct oci_layer_desc desc;
	int ret = -1;

	if (sc->b->epoch >= 0) {
		lopts.clamp_mtime = true;
		lopts.source_date_epoch = sc->b->epoch;
	}
	if (overlay_diff_compute(upper, &dopts, &diff, err) < 0)
		return -1;
	*empty = diff.n == 0;
	if (diff.n == 0) {
		ret = 0;
		goto out;
	}
	if (oci_layer_writer_new(&w, sc->b->layer_bs, &lopts, err) < 0)
		goto out;
	if (overlay_diff_write_layer(&diff, w, err) < 0) {
		oci_layer_writer_abort(w);
		goto out;
	}
	if (oci_layer_writer_commit(w, &desc, err) < 0)
		goto out;
	memset(out, 0, sizeof(*out));
	out->diff_id = desc.diff_id;
	ret = oci_descriptor_init(&out->desc, desc.media_type, &desc.digest, (int64_t)desc.size, err);
out:
	overlay_diff_release(&diff);
	return ret;
}

/* Run the step (cache miss): sandbox, layer, snapshot, img extended. */
int build_step_run_exec(struct build_step_ctx *sc, struct build_layer *layer, bool *empty,
			struct ocb_error *err)
{
	struct run_plan p = {0};
	struct run_dirs d = {0};
	char **lowers = NULL, **targets = NULL;
	size_t n_lowers = 0;
	int ret = -1;

	if (run_plan_make(sc, &p, err) < 0 || plan_mounts(sc, &p, err) < 0)
		goto out;
	if (build_lowerdirs(sc->b, sc->img, &lowers, &n_lowers, err) < 0 || run_dirs_make(sc->b, &d, err) < 0)
		goto out;
	if (run_sandbox(sc, &p, &d, lowers, n_lowers, &targets, err) < 0)
		goto out;
	if (write_layer(sc, d.upper, targets, layer, empty, err) < 0)
		goto out;
	if (!*empty && snapshot_publish(sc->b->snapshots, d.upper, &layer->diff_id, err) < 0) {
		oci_descriptor_release(&layer->desc);
		goto out;
	}
	ret = 0;
out:
	sandbox_free_strv(targets);
	build_strv_free(lowers);
	run_dirs_release(&d);
	run_plan_release(&p);
	return ret;
}
