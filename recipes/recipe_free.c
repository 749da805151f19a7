/* Freeing the model. */
#include <stdlib.h>

#include "recipes/recipe_load.h"
#include "oci/banned.h"

void recipe_str_release(struct recipe_str *s)
{
	if (s->value != s->raw)
		free(s->value);
	free(s->raw);
	s->value = s->raw = NULL;
}

void recipe_strv_release(struct recipe_strv *v)
{
	for (size_t i = 0; i < v->len; i++)
		recipe_str_release(&v->items[i]);
	free(v->items);
	v->items = NULL;
	v->len = 0;
}

void recipe_map_release(struct recipe_map *m)
{
	for (size_t i = 0; i < m->len; i++) {
		recipe_str_release(&m->items[i].key);
		recipe_str_release(&m->items[i].value);
	}
	free(m->items);
	m->items = NULL;
	m->len = 0;
}

static void cmd_release(struct recipe_cmd *c)
{
	recipe_strv_release(&c->argv);
}

void recipe_step_release(struct recipe_step *step)
{
	cmd_release(&step->run);
	recipe_strv_release(&step->copy.sources);
	recipe_str_release(&step->copy.to);
	recipe_str_release(&step->copy.from);
	recipe_str_release(&step->copy.chown);
	free(step->copy.chown_user);
	free(step->copy.chown_group);
	recipe_strv_release(&step->copy.exclude);
	recipe_map_release(&step->env);
	recipe_str_release(&step->workdir);
	recipe_str_release(&step->user);
	recipe_str_release(&step->network);
	recipe_strv_release(&step->cache);
	recipe_strv_release(&step->secrets);
}

void recipe_stage_release(struct recipe_stage *st)
{
	free(st->name);
	recipe_str_release(&st->from);
	recipe_str_release(&st->platform);
	recipe_str_release(&st->workdir);
	recipe_str_release(&st->user);
	recipe_map_release(&st->env);
	cmd_release(&st->entrypoint);
	cmd_release(&st->cmd);
	for (size_t i = 0; i < st->expose.len; i++)
		recipe_str_release(&st->expose.items[i].text);
	free(st->expose.items);
	recipe_map_release(&st->labels);
	recipe_strv_release(&st->volumes);
	recipe_str_release(&st->stop_signal);
	recipe_strv_release(&st->healthcheck.test);
	for (size_t i = 0; i < st->n_steps; i++)
		recipe_step_release(&st->steps[i]);
	free(st->steps);
	free(st->deps);
}

void recipe_free(struct recipe *r)
{
	if (!r)
		return;
	recipe_str_release(&r->image_name);
	recipe_str_release(&r->image_tag);
	recipe_strv_release(&r->platforms);
	recipe_str_release(&r->target);
	recipe_map_release(&r->args);
	for (size_t i = 0; i < r->n_stages; i++)
		recipe_stage_release(&r->stages[i]);
	free(r->stages);
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->file);
	free(r);
}
