#include "builder/check_render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "recipes/recipe_duration.h"
#include "oci/banned.h"

static const char *base_name(enum recipe_base b)
{
	return b == RECIPE_BASE_STAGE ? "stage" : b == RECIPE_BASE_SCRATCH ? "scratch" : "image";
}

static const char *platform_kind_name(enum recipe_platform_kind k)
{
	return k == RECIPE_PLATFORM_BUILD ? "build" : k == RECIPE_PLATFORM_EXPLICIT ? "explicit" : "target";
}

static const char *origin_name(enum recipe_copy_origin o)
{
	return o == RECIPE_COPY_STAGE ? "stage" : o == RECIPE_COPY_IMAGE ? "image" : "context";
}

static const char *network_name(enum recipe_network n)
{
	return n == RECIPE_NETWORK_NONE ? "none" : n == RECIPE_NETWORK_HOST ? "host" : "default";
}

/* ---- JSON building blocks (shared by both renderers) ---- */

static json_t *json_strv(const struct recipe_strv *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < v->len; i++)
		json_array_append_new(a, json_string(v->items[i].value));
	return a;
}

static json_t *json_map(const struct recipe_map *m)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < m->len; i++)
		json_object_set_new(o, m->items[i].key.value, json_string(m->items[i].value.value));
	return o;
}

static void json_set_str(json_t *o, const char *key, const struct recipe_str *s)
{
	if (s->value)
		json_object_set_new(o, key, json_string(s->value));
}

static void json_set_duration(json_t *o, const char *key, const struct recipe_duration *d)
{
	char buf[64];

	if (d->set)
		json_object_set_new(o, key, json_string(recipe_duration_format(d->ns, buf, sizeof(buf))));
}

static json_t *json_step(const struct recipe *r, const struct recipe_step *s)
{
	json_t *o = json_object();
	char mode[8];

	if (!o)
		return NULL;
	json_object_set_new(o, "kind", json_string(s->kind == RECIPE_STEP_RUN ? "run" : "copy"));
	if (s->kind == RECIPE_STEP_RUN) {
		json_object_set_new(o, "run", json_strv(&s->run.argv));
		json_object_set_new(o, "shell", json_boolean(s->run.shell));
		json_object_set_new(o, "network", json_string(network_name(s->net)));
		if (s->cache.len)
			json_object_set_new(o, "cache", json_strv(&s->cache));
		if (s->secrets.len)
			json_object_set_new(o, "secrets", json_strv(&s->secrets));
		if (s->env.set)
			json_object_set_new(o, "env", json_map(&s->env));
		json_set_str(o, "user", &s->user);
	} else {
		const struct recipe_copy *c = &s->copy;
		json_object_set_new(o, "sources", json_strv(&c->sources));
		json_object_set_new(o, "to", json_string(c->to.value));
		json_object_set_new(o, "origin", json_string(origin_name(c->origin)));
		if (c->origin == RECIPE_COPY_STAGE)
			json_object_set_new(o, "from", json_string(r->stages[c->from_stage].name));
		else
			json_set_str(o, "from", &c->from);
		if (c->chmod_set) {
			snprintf(mode, sizeof(mode), "%04o", c->chmod);
			json_object_set_new(o, "chmod", json_string(mode));
		}
		json_set_str(o, "chown", &c->chown);
		if (c->exclude.len)
			json_object_set_new(o, "exclude", json_strv(&c->exclude));
	}
	json_set_str(o, "workdir", &s->workdir);
	json_object_set_new(o, "line", json_integer(s->pos.line));
	return o;
}

static json_t *json_healthcheck(const struct recipe_healthcheck *h)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "test", json_strv(&h->test));
	json_set_duration(o, "interval", &h->interval);
	json_set_duration(o, "timeout", &h->timeout);
	json_set_duration(o, "start_period", &h->start_period);
	json_set_duration(o, "start_interval", &h->start_interval);
	if (h->retries_set)
		json_object_set_new(o, "retries", json_integer(h->retries));
	return o;
}

static void json_stage_metadata(json_t *o, const struct recipe_stage *st)
{
	json_set_str(o, "workdir", &st->workdir);
	json_set_str(o, "user", &st->user);
	if (st->env.set)
		json_object_set_new(o, "env", json_map(&st->env));
	if (st->entrypoint.set)
		json_object_set_new(o, "entrypoint", json_strv(&st->entrypoint.argv));
	if (st->cmd.set)
		json_object_set_new(o, "cmd", json_strv(&st->cmd.argv));
	if (st->expose.set) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < st->expose.len; i++) {
			char buf[32];
			recipe_port_format(&st->expose.items[i].port, buf, sizeof(buf));
			json_array_append_new(a, json_string(buf));
		}
		json_object_set_new(o, "expose", a);
	}
	if (st->labels.set)
		json_object_set_new(o, "labels", json_map(&st->labels));
	if (st->volumes.set)
		json_object_set_new(o, "volumes", json_strv(&st->volumes));
	json_set_str(o, "stop_signal", &st->stop_signal);
	if (st->healthcheck.set)
		json_object_set_new(o, "healthcheck", json_healthcheck(&st->healthcheck));
}

static json_t *json_stage(const struct recipe *r, const struct recipe_graph *g, size_t idx)
{
	const struct recipe_stage *st = &r->stages[idx];
	json_t *o = json_object(), *steps = json_array(), *deps = json_array();

	if (!o || !steps || !deps) {
		json_decref(o);
		json_decref(steps);
		json_decref(deps);
		return NULL;
	}
	json_object_set_new(o, "name", json_string(st->name));
	json_object_set_new(o, "wave", json_integer((json_int_t)g->wave[idx] + 1));
	json_object_set_new(o, "from", json_string(st->from.value));
	json_object_set_new(o, "base", json_string(base_name(st->base)));
	json_object_set_new(o, "platform", json_string(st->resolved_platform.str));
	json_object_set_new(o, "platform_kind", json_string(platform_kind_name(st->platform_kind)));
	for (size_t i = 0; i < st->n_deps; i++)
		json_array_append_new(deps, json_string(r->stages[st->deps[i].stage].name));
	json_object_set_new(o, "depends_on", deps);
	json_stage_metadata(o, st);
	for (size_t i = 0; i < st->n_steps; i++)
		json_array_append_new(steps, json_step(r, &st->steps[i]));
	json_object_set_new(o, "steps", steps);
	json_object_set_new(o, "line", json_integer(st->pos.line));
	return o;
}

static json_t *json_platform(const struct check_platform *p)
{
	const struct recipe *r = p->recipe;
	const struct recipe_graph *g = &p->graph;
	json_t *o = json_object(), *waves = json_array(), *stages = json_array(), *unused = json_array();

	if (!o || !waves || !stages || !unused) {
		json_decref(o);
		json_decref(waves);
		json_decref(stages);
		json_decref(unused);
		return NULL;
	}
	json_object_set_new(o, "platform", json_string(r->target_platform.str));
	json_object_set_new(o, "build_platform", json_string(r->build_platform.str));
	for (size_t w = 0; w < g->n_waves; w++) {
		size_t first, count;
		json_t *wave = json_array();
		recipe_graph_wave(g, w, &first, &count);
		for (size_t i = 0; wave && i < count; i++)
			json_array_append_new(wave, json_string(r->stages[g->order[first + i]].name));
		json_array_append_new(waves, wave);
	}
	for (size_t i = 0; i < g->n_order; i++)
		json_array_append_new(stages, json_stage(r, g, g->order[i]));
	for (size_t i = 0; i < r->n_stages; i++)
		if (g->wave[i] == RECIPE_NO_WAVE)
			json_array_append_new(unused, json_string(r->stages[i].name));
	json_object_set_new(o, "waves", waves);
	json_object_set_new(o, "stages", stages);
	json_object_set_new(o, "unused", unused);
	return o;
}

static json_t *json_context(const struct check_context *ctx)
{
	const char *src = recipe_ignore_source(ctx->ignore);

	return json_pack("{s:s, s:o, s:I}", "dir", ctx->dir, "ignore_file",
			 src ? json_string(src) : json_null(), "ignore_patterns",
			 (json_int_t)recipe_ignore_count(ctx->ignore));
}

int check_render_json(FILE *out, const struct check_context *ctx, const struct check_platform *p, size_t n,
		      struct ocb_error *err)
{
	const struct recipe *r = p[0].recipe;
	cleanup_json json_t *doc = json_object();
	json_t *plats = json_array(), *warnings = json_array(), *image = json_object();

	if (!doc || !plats || !warnings || !image) {
		json_decref(plats);
		json_decref(warnings);
		json_decref(image);
		return ocb_error_set(err, OCB_EFAIL, 0, "out of memory");
	}
	json_object_set_new(doc, "recipe", json_string(r->file));
	json_object_set_new(doc, "version", json_integer(r->version));
	json_set_str(image, "name", &r->image_name);
	json_set_str(image, "tag", &r->image_tag);
	json_object_set_new(doc, "image", image);
	json_object_set_new(doc, "target", json_string(r->stages[r->target_stage].name));
	json_object_set_new(doc, "context", json_context(ctx));
	for (size_t i = 0; i < r->n_warnings; i++)
		json_array_append_new(warnings, json_string(r->warnings[i]));
	json_object_set_new(doc, "warnings", warnings);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(plats, json_platform(&p[i]));
	json_object_set_new(doc, "platforms", plats);
	if (json_dumpf(doc, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF)
		return ocb_error_sys(err, "write the JSON document");
	return 0;
}

/* ---- text ---- */

/* A value on one line: control characters escaped. */
static void put_oneline(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
}

static void put_json(FILE *out, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

	fputs(s ? s : "?", out);
	free(s);
	json_decref(v);
}

static void put_map(FILE *out, const char *indent, const char *name, const struct recipe_map *m)
{
	if (!m->set)
		return;
	fprintf(out, "%s%s:", indent, name);
	for (size_t i = 0; i < m->len; i++) {
		fputc(' ', out);
		put_oneline(out, m->items[i].key.value);
		fputc('=', out);
		put_oneline(out, m->items[i].value.value);
	}
	fputc('\n', out);
}

static void text_step(FILE *out, const struct recipe *r, const struct recipe_step *s)
{
	fprintf(out, "    step %zu: ", s->index + 1);
	if (s->kind == RECIPE_STEP_RUN) {
		fputs("run ", out);
		if (s->run.shell)
			put_oneline(out, s->run.argv.items[2].value);
		else
			put_json(out, json_strv(&s->run.argv));
		if (s->net != RECIPE_NETWORK_DEFAULT)
			fprintf(out, "  [network %s]", network_name(s->net));
		for (size_t i = 0; i < s->cache.len; i++)
			fprintf(out, "  [cache %s]", s->cache.items[i].value);
		for (size_t i = 0; i < s->secrets.len; i++)
			fprintf(out, "  [secret %s]", s->secrets.items[i].value);
		if (s->user.value)
			fprintf(out, "  [user %s]", s->user.value);
	} else {
		const struct recipe_copy *c = &s->copy;
		fputs("copy", out);
		for (size_t i = 0; i < c->sources.len; i++) {
			fputc(' ', out);
			put_oneline(out, c->sources.items[i].value);
		}
		if (c->origin == RECIPE_COPY_STAGE)
			fprintf(out, " from stage %s", r->stages[c->from_stage].name);
		else if (c->origin == RECIPE_COPY_IMAGE)
			fprintf(out, " from image %s", c->from.value);
		fputs(" -> ", out);
		put_oneline(out, c->to.value);
		if (c->chmod_set)
			fprintf(out, "  [chmod %04o]", c->chmod);
		if (c->chown.value)
			fprintf(out, "  [chown %s]", c->chown.value);
		for (size_t i = 0; i < c->exclude.len; i++)
			fprintf(out, "  [exclude %s]", c->exclude.items[i].value);
	}
	if (s->workdir.value)
		fprintf(out, "  [workdir %s]", s->workdir.value);
	if (s->env.len) {
		fputs("  [env", out);
		for (size_t i = 0; i < s->env.len; i++) {
			fputc(' ', out);
			put_oneline(out, s->env.items[i].key.value);
			fputc('=', out);
			put_oneline(out, s->env.items[i].value.value);
		}
		fputc(']', out);
	}
	fputc('\n', out);
}

static void text_healthcheck(FILE *out, const struct recipe_healthcheck *h)
{
	static const char *names[] = {"interval", "timeout", "start_period", "start_interval"};
	const struct recipe_duration *d[] = {&h->interval, &h->timeout, &h->start_period, &h->start_interval};
	char buf[64];

	fputs("    healthcheck: ", out);
	put_json(out, json_strv(&h->test));
	for (size_t i = 0; i < 4; i++)
		if (d[i]->set)
			fprintf(out, " %s=%s", names[i], recipe_duration_format(d[i]->ns, buf, sizeof(buf)));
	if (h->retries_set)
		fprintf(out, " retries=%d", h->retries);
	fputc('\n', out);
}

static void text_metadata(FILE *out, const struct recipe_stage *st)
{
	if (st->entrypoint.set) {
		fputs("    entrypoint: ", out);
		put_json(out, json_strv(&st->entrypoint.argv));
		fputc('\n', out);
	}
	if (st->cmd.set) {
		fputs("    cmd: ", out);
		put_json(out, json_strv(&st->cmd.argv));
		fputc('\n', out);
	}
	if (st->user.value)
		fprintf(out, "    user: %s\n", st->user.value);
	if (st->expose.set) {
		fputs("    expose:", out);
		for (size_t i = 0; i < st->expose.len; i++) {
			char buf[32];
			fprintf(out, " %s", recipe_port_format(&st->expose.items[i].port, buf, sizeof(buf)));
		}
		fputc('\n', out);
	}
	put_map(out, "    ", "labels", &st->labels);
	if (st->volumes.set) {
		fputs("    volumes:", out);
		for (size_t i = 0; i < st->volumes.len; i++)
			fprintf(out, " %s", st->volumes.items[i].value);
		fputc('\n', out);
	}
	if (st->stop_signal.value)
		fprintf(out, "    stop_signal: %s\n", st->stop_signal.value);
	if (st->healthcheck.set)
		text_healthcheck(out, &st->healthcheck);
}

static void text_stage(FILE *out, const struct recipe *r, const struct recipe_graph *g, size_t idx)
{
	const struct recipe_stage *st = &r->stages[idx];

	fprintf(out, "  stage %s (wave %zu)\n", st->name, g->wave[idx] + 1);
	fprintf(out, "    from: %s (%s)\n", st->from.value, base_name(st->base));
	if (st->platform_kind != RECIPE_PLATFORM_TARGET)
		fprintf(out, "    platform: %s (%s)\n", st->resolved_platform.str,
			platform_kind_name(st->platform_kind));
	if (st->workdir.value)
		fprintf(out, "    workdir: %s\n", st->workdir.value);
	put_map(out, "    ", "env", &st->env);
	for (size_t i = 0; i < st->n_steps; i++)
		text_step(out, r, &st->steps[i]);
	text_metadata(out, st);
}

int check_render_text(FILE *out, const struct check_context *ctx, const struct check_platform *p, size_t n,
		      struct ocb_error *err)
{
	const struct recipe *r = p[0].recipe;
	const char *src = recipe_ignore_source(ctx->ignore);

	fprintf(out, "recipe: %s (version %lld)\n", r->file, (long long)r->version);
	if (r->image_name.value)
		fprintf(out, "image: %s%s%s\n", r->image_name.value, r->image_tag.value ? ":" : "",
			r->image_tag.value ? r->image_tag.value : "");
	fprintf(out, "target: %s\n", r->stages[r->target_stage].name);
	if (src)
		fprintf(out, "context: %s (%s: %zu patterns)\n", ctx->dir, src,
			recipe_ignore_count(ctx->ignore));
	else
		fprintf(out, "context: %s (no .ocbignore or .dockerignore)\n", ctx->dir);
	for (size_t k = 0; k < n; k++) {
		const struct recipe *pr = p[k].recipe;
		const struct recipe_graph *g = &p[k].graph;
		bool any_unused = false;

		fprintf(out, "\nplatform %s (build platform %s)\n", pr->target_platform.str,
			pr->build_platform.str);
		for (size_t w = 0; w < g->n_waves; w++) {
			size_t first, count;
			recipe_graph_wave(g, w, &first, &count);
			fprintf(out, "  wave %zu:", w + 1);
			for (size_t i = 0; i < count; i++)
				fprintf(out, "%s %s", i ? "," : "", pr->stages[g->order[first + i]].name);
			fputc('\n', out);
		}
		for (size_t i = 0; i < pr->n_stages; i++) {
			if (g->wave[i] != RECIPE_NO_WAVE)
				continue;
			fprintf(out, "%s %s", any_unused ? "," : "  not built:", pr->stages[i].name);
			any_unused = true;
		}
		if (any_unused)
			fputc('\n', out);
		for (size_t i = 0; i < g->n_order; i++)
			text_stage(out, pr, g, g->order[i]);
	}
	if (fflush(out) == EOF)
		return ocb_error_sys(err, "write the stage graph");
	return 0;
}
