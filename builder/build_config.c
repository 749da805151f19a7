/* The image config of a stage: its base image's config, the history of its
 * steps, and the stage's metadata on top (Docker's ENTRYPOINT, CMD, USER,
 * WORKDIR, ENV, EXPOSE, LABEL, VOLUME, STOPSIGNAL, HEALTHCHECK), then the
 * manifest in the local store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/strv.h"
#include "oci/banned.h"

static int strv_from_recipe(const struct recipe_strv *v, char ***out, struct ocb_error *err)
{
	char **s = calloc(v->len + 1, sizeof(*s));

	if (!s)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < v->len; i++) {
		if (!(s[i] = strdup(v->items[i].value))) {
			oci_strv_free(s);
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		}
	}
	*out = s;
	return 0;
}

static int set_str(char **field, const char *value, struct ocb_error *err)
{
	char *s = strdup(value);

	if (!s)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	free(*field);
	*field = s;
	return 0;
}

int build_resolve_workdir(const char *base, const char *dir, char **out, struct ocb_error *err)
{
	int n;

	if (dir[0] == '/')
		n = asprintf(out, "%s", dir);
	else if (!base || !*base || !strcmp(base, "/"))
		n = asprintf(out, "/%s", dir);
	else
		n = asprintf(out, "%s/%s", base, dir);
	if (n < 0)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

int build_step_workdir(struct build_step_ctx *sc, char **out, struct ocb_error *err)
{
	const struct build_image *base = &sc->b->bases[sc->stage->index];
	cleanup_free char *stage_wd = NULL;
	const char *wd = base->config.config.working_dir;

	if (sc->stage->workdir.value) {
		if (build_resolve_workdir(wd, sc->stage->workdir.value, &stage_wd, err) < 0)
			return -1;
		wd = stage_wd;
	}
	if (sc->step->workdir.value)
		return build_resolve_workdir(wd, sc->step->workdir.value, out, err);
	if (!(*out = strdup(wd && *wd ? wd : "/")))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	return 0;
}

static int apply_cmds(const struct recipe_stage *st, struct oci_exec_config *c, struct ocb_error *err)
{
	char **v = NULL;

	if (st->entrypoint.set) {
		if (strv_from_recipe(&st->entrypoint.argv, &v, err) < 0)
			return -1;
		oci_strv_free(c->entrypoint);
		c->entrypoint = v;
		/* Docker: ENTRYPOINT resets the inherited CMD. */
		oci_strv_free(c->cmd);
		c->cmd = NULL;
	}
	if (st->cmd.set) {
		if (strv_from_recipe(&st->cmd.argv, &v, err) < 0)
			return -1;
		oci_strv_free(c->cmd);
		c->cmd = v;
	}
	return 0;
}

static int push_unique(char ***v, const char *s, struct ocb_error *err)
{
	if (*v && oci_strv_contains(*v, s))
		return 0;
	return oci_strv_push(v, s, err);
}

static int apply_sets(const struct recipe_stage *st, struct oci_exec_config *c, struct ocb_error *err)
{
	char buf[64];

	for (size_t i = 0; i < st->expose.len; i++)
		if (push_unique(&c->exposed_ports,
				recipe_port_format(&st->expose.items[i].port, buf, sizeof(buf)), err) < 0)
			return -1;
	for (size_t i = 0; i < st->volumes.len; i++)
		if (push_unique(&c->volumes, st->volumes.items[i].value, err) < 0)
			return -1;
	for (size_t i = 0; i < st->labels.len; i++)
		if (oci_string_map_set(&c->labels, st->labels.items[i].key.value,
				       st->labels.items[i].value.value, err) < 0)
			return -1;
	return 0;
}

static int apply_healthcheck(const struct recipe_healthcheck *hc, struct oci_exec_config *c,
			     struct ocb_error *err)
{
	struct oci_healthcheck *h;

	if (!hc->set)
		return 0;
	if (!(h = calloc(1, sizeof(*h))))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (strv_from_recipe(&hc->test, &h->test, err) < 0) {
		free(h);
		return -1;
	}
	h->interval = hc->interval.set ? hc->interval.ns : 0;
	h->timeout = hc->timeout.set ? hc->timeout.ns : 0;
	h->start_period = hc->start_period.set ? hc->start_period.ns : 0;
	h->retries = hc->retries_set ? hc->retries : 0;
	oci_healthcheck_free(c->healthcheck);
	c->healthcheck = h;
	return 0;
}

static int apply_env(struct build *b, const struct recipe_stage *st, struct oci_exec_config *c,
		     struct ocb_error *err)
{
	const struct build_image *base = &b->bases[st->index];
	char **env = NULL;

	if (!st->env.set)
		return 0;
	if (recipe_stage_image_env(b->recipe, st, (const char *const *)base->config.config.env, &env, err) <
	    0)
		return -1;
	oci_strv_free(c->env);
	c->env = env;
	return 0;
}

int build_config_apply_stage(struct build *b, const struct recipe_stage *st, struct build_image *img,
			     struct ocb_error *err)
{
	struct oci_exec_config *c = &img->config.config;
	char *wd = NULL;

	if (st->workdir.value) {
		if (build_resolve_workdir(c->working_dir, st->workdir.value, &wd, err) < 0)
			return -1;
		free(c->working_dir);
		c->working_dir = wd;
	}
	if ((st->user.value && set_str(&c->user, st->user.value, err) < 0) ||
	    (st->stop_signal.value && set_str(&c->stop_signal, st->stop_signal.value, err) < 0) ||
	    set_str(&img->config.created, b->created, err) < 0)
		return -1;
	if (apply_env(b, st, c, err) < 0 || apply_cmds(st, c, err) < 0 || apply_sets(st, c, err) < 0 ||
	    apply_healthcheck(&st->healthcheck, c, err) < 0)
		return ocb_error_wrap(err, "stage '%s' config", st->name);
	return 0;
}

static int store_layers(struct build *b, const struct build_image *img, struct oci_descriptor **out,
			struct ocb_error *err)
{
	struct oci_descriptor *v = calloc(img->n_layers ? img->n_layers : 1, sizeof(*v));

	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct build_layer *l = &img->layers[i];
		if (!l->in_store && b->layer_bs != &b->store.bs &&
		    build_export_blob(b, &l->desc.digest, err) < 0)
			goto fail;
		v[i] = l->desc; /* borrowed */
	}
	*out = v;
	return 0;
fail:
	free(v);
	return -1;
}

static int config_digest(struct build *b, struct ocb_error *err)
{
	struct oci_image img = {0};

	if (oci_layout_resolve(&b->store, &b->manifest, NULL, &img, err) < 0)
		return -1;
	b->config_digest = img.manifest.config.digest;
	oci_image_release(&img);
	return 0;
}

int build_commit_image(struct build *b, const struct build_image *img, struct ocb_error *err)
{
	cleanup_free struct oci_descriptor *layers = NULL;

	if (store_layers(b, img, &layers, err) < 0)
		return ocb_error_wrap(err, "copy layers into the store");
	if (oci_layout_put_image(&b->store, &img->config, layers, img->n_layers, NULL, &b->manifest, err) < 0)
		return ocb_error_wrap(err, "store image");
	return config_digest(b, err);
}
