/* Loading one [stages.NAME] table: its base, platform, build settings and
 * image metadata; its steps are loaded by recipe_load_step.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipes/recipe_load.h"
#include "recipes/recipe_signal.h"
#include "oci/banned.h"

#define STAGE_NAME_MAX 128
#define MS_NS	       1000000LL

static const char *const stage_keys[] = {"from",    "platform",	   "workdir",	  "env",    "user",
					 "steps",   "entrypoint",  "cmd",	  "expose", "labels",
					 "volumes", "stop_signal", "healthcheck", NULL};
static const char *const health_keys[] = {"test",	    "interval", "timeout", "start_period",
					  "start_interval", "retries",	NULL};
static const char *const step_only_keys[] = {"run",	"copy",	   "to",    "chmod",   "chown",
					     "exclude", "network", "cache", "secrets", NULL};

static int stage_name_check(struct recipe_loader *ld, const struct toml_kv *kv)
{
	const char *s = kv->key;
	bool ok = kv->keylen > 0 && kv->keylen <= STAGE_NAME_MAX && strlen(s) == kv->keylen;

	for (size_t i = 0; ok && i < kv->keylen; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		ok = alnum || (i > 0 && (c == '_' || c == '-' || c == '.'));
	}
	if (!ok)
		return recipe_errorf(ld, kv->key_pos,
				     "invalid stage name '%s' (letters, digits, '_', '-', '.'; starting with "
				     "a letter or digit)",
				     s);
	if (!strcmp(s, "scratch"))
		return recipe_errorf(ld, kv->key_pos,
				     "'scratch' is reserved for the empty base and cannot name a stage");
	return 0;
}

/* A step key written on the stage is a common slip: say where it goes. */
static int stage_step_key_check(struct recipe_loader *ld, const struct toml_value *t, const char *where)
{
	for (size_t i = 0; step_only_keys[i]; i++) {
		const struct toml_kv *kv = toml_table_get_kv(t, step_only_keys[i]);
		if (kv)
			return recipe_errorf(
			    ld, kv->key_pos,
			    "'%s' is a step key, not a key of %s (write steps = [{ %s = ... }])", kv->key,
			    where, kv->key);
	}
	return 0;
}

static int stage_platform(struct recipe_loader *ld, const struct toml_value *t, struct recipe_stage *st)
{
	struct recipe *r = ld->r;

	if (recipe_read_str(ld, t, "platform", &ld->args, &st->platform) < 0)
		return -1;
	if (!st->platform.value || !strcmp(st->platform.value, "target")) {
		st->platform_kind = RECIPE_PLATFORM_TARGET;
		st->resolved_platform = r->target_platform;
	} else if (!strcmp(st->platform.value, "build")) {
		st->platform_kind = RECIPE_PLATFORM_BUILD;
		st->resolved_platform = r->build_platform;
	} else {
		st->platform_kind = RECIPE_PLATFORM_EXPLICIT;
		if (recipe_platform_parse(st->platform.value, &st->resolved_platform, ld->err) < 0) {
			ocb_error_wrap(ld->err, "'platform' is \"build\", \"target\" or a platform");
			return recipe_error_at(ld, toml_table_get(t, "platform")->pos);
		}
	}
	return 0;
}

static int stage_expose(struct recipe_loader *ld, const struct toml_value *t, const struct recipe_vars *scope,
			struct recipe_stage *st)
{
	const struct toml_value *v = toml_table_get(t, "expose");

	if (!v)
		return 0;
	if (v->type != TOML_ARRAY)
		return recipe_errorf(ld, v->pos, "'expose' must be an array of strings, got %s",
				     toml_type_name(v->type));
	st->expose.set = true;
	st->expose.pos = recipe_pos_at(ld, v->pos);
	st->expose.items = calloc(v->u.arr.len ? v->u.arr.len : 1, sizeof(*st->expose.items));
	if (!st->expose.items)
		return ocb_error_sys(ld->err, "out of memory");
	for (size_t i = 0; i < v->u.arr.len; i++) {
		const struct toml_value *item = v->u.arr.items[i];
		struct recipe_expose *e = &st->expose.items[i];
		if (item->type == TOML_INTEGER) {
			if (asprintf(&e->text.raw, "%lld", (long long)item->u.integer) < 0)
				return ocb_error_sys(ld->err, "out of memory");
			e->text.value = e->text.raw;
			e->text.pos = recipe_pos_at(ld, item->pos);
		} else if (item->type != TOML_STRING) {
			return recipe_errorf(ld, item->pos,
					     "'expose' must be an array of strings, got %s in it",
					     toml_type_name(item->type));
		} else if (recipe_str_from(ld, item, "expose", scope, &e->text) < 0) {
			return -1;
		}
		st->expose.len++;
		if (recipe_port_parse(e->text.value, &e->port, ld->err) < 0)
			return recipe_error_at(ld, item->pos);
	}
	return 0;
}

static int stage_stop_signal(struct recipe_loader *ld, const struct toml_value *t,
			     const struct recipe_vars *scope, struct recipe_stage *st)
{
	const struct toml_value *v = toml_table_get(t, "stop_signal");
	char canon[32];
	char *c;

	if (!v)
		return 0;
	if (v->type == TOML_INTEGER) {
		if (asprintf(&st->stop_signal.raw, "%lld", (long long)v->u.integer) < 0)
			return ocb_error_sys(ld->err, "out of memory");
		st->stop_signal.value = st->stop_signal.raw;
		st->stop_signal.pos = recipe_pos_at(ld, v->pos);
	} else if (v->type != TOML_STRING) {
		return recipe_errorf(
		    ld, v->pos, "'stop_signal' must be a signal name like \"SIGTERM\" or a number, got %s",
		    toml_type_name(v->type));
	} else if (recipe_str_from(ld, v, "stop_signal", scope, &st->stop_signal) < 0) {
		return -1;
	}
	if (recipe_signal_parse(st->stop_signal.value, &st->stop_signum, canon, sizeof(canon), ld->err) < 0)
		return recipe_error_at(ld, v->pos);
	c = strdup(canon);
	if (!c)
		return ocb_error_sys(ld->err, "out of memory");
	if (st->stop_signal.value != st->stop_signal.raw)
		free(st->stop_signal.value);
	st->stop_signal.value = c;
	return 0;
}

static int health_test(struct recipe_loader *ld, const struct toml_value *h, struct recipe_healthcheck *hc)
{
	const struct toml_value *v = toml_table_get(h, "test");
	struct recipe_cmd cmd = {0};
	const char *kind;

	if (!v)
		return recipe_errorf(ld, h->pos,
				     "'healthcheck' needs a 'test' (e.g. test = [\"CMD\", \"curl\", \"-f\", "
				     "\"http://localhost/\"])");
	if (v->type == TOML_STRING) {
		/* A string is a shell command: CMD-SHELL. */
		if (recipe_read_cmd(ld, h, "test", &cmd) < 0)
			return -1;
		hc->kind = RECIPE_HEALTH_CMD_SHELL;
		free(cmd.argv.items[0].value);
		free(cmd.argv.items[1].value);
		cmd.argv.items[0].value = cmd.argv.items[0].raw = strdup("CMD-SHELL");
		memmove(&cmd.argv.items[1], &cmd.argv.items[2], sizeof(cmd.argv.items[0]));
		cmd.argv.len = 2;
		hc->test = cmd.argv;
		return hc->test.items[0].value ? 0 : ocb_error_sys(ld->err, "out of memory");
	}
	if (recipe_read_strv(ld, h, "test", NULL, false, &hc->test) < 0)
		return -1;
	if (!hc->test.len)
		return recipe_errorf(ld, v->pos,
				     "'test' is empty (use [\"NONE\"] to disable the base image's check)");
	kind = hc->test.items[0].value;
	if (!strcmp(kind, "CMD"))
		hc->kind = RECIPE_HEALTH_CMD;
	else if (!strcmp(kind, "CMD-SHELL"))
		hc->kind = RECIPE_HEALTH_CMD_SHELL;
	else if (!strcmp(kind, "NONE"))
		hc->kind = RECIPE_HEALTH_NONE;
	else
		return recipe_errorf(ld, v->u.arr.items[0]->pos,
				     "'test' must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", got \"%s\"",
				     kind);
	if ((hc->kind == RECIPE_HEALTH_NONE && hc->test.len != 1) ||
	    (hc->kind == RECIPE_HEALTH_CMD && hc->test.len < 2) ||
	    (hc->kind == RECIPE_HEALTH_CMD_SHELL && hc->test.len != 2))
		return recipe_errorf(ld, v->pos, "'test' with \"%s\" takes %s", kind,
				     hc->kind == RECIPE_HEALTH_NONE  ? "nothing else"
				     : hc->kind == RECIPE_HEALTH_CMD ? "a command and its arguments"
								     : "exactly one shell command string");
	return 0;
}

static int health_duration(struct recipe_loader *ld, const struct toml_value *h, const char *key,
			   struct recipe_duration *d)
{
	if (recipe_read_duration(ld, h, key, d) < 0)
		return -1;
	/* Docker refuses durations under a millisecond, except 0 meaning "default". */
	if (d->set && d->ns != 0 && d->ns < MS_NS)
		return recipe_errorf(ld, toml_table_get(h, key)->pos, "'%s' must be 0 or at least 1ms", key);
	return 0;
}

static int stage_healthcheck(struct recipe_loader *ld, const struct toml_value *t, const char *where,
			     struct recipe_healthcheck *hc)
{
	const struct toml_value *h = toml_table_get(t, "healthcheck"), *retries;
	char hwhere[256];

	if (!h)
		return 0;
	if (h->type != TOML_TABLE)
		return recipe_errorf(ld, h->pos, "'healthcheck' must be a table, got %s",
				     toml_type_name(h->type));
	snprintf(hwhere, sizeof(hwhere), "the healthcheck of %s", where);
	hc->set = true;
	hc->pos = recipe_pos_at(ld, h->pos);
	if (recipe_check_keys(ld, h, health_keys, hwhere) < 0 || health_test(ld, h, hc) < 0 ||
	    health_duration(ld, h, "interval", &hc->interval) < 0 ||
	    health_duration(ld, h, "timeout", &hc->timeout) < 0 ||
	    health_duration(ld, h, "start_period", &hc->start_period) < 0 ||
	    health_duration(ld, h, "start_interval", &hc->start_interval) < 0)
		return -1;
	retries = toml_table_get(h, "retries");
	if (retries) {
		if (retries->type != TOML_INTEGER || retries->u.integer < 0 || retries->u.integer > INT_MAX)
			return recipe_errorf(ld, retries->pos, "'retries' must be a non-negative integer");
		hc->retries_set = true;
		hc->retries = (int)retries->u.integer;
		hc->retries_pos = recipe_pos_at(ld, retries->pos);
	}
	if (hc->kind == RECIPE_HEALTH_NONE && (hc->interval.set || hc->timeout.set || hc->start_period.set ||
					       hc->start_interval.set || hc->retries_set))
		return recipe_errorf(ld, h->pos,
				     "a healthcheck with test [\"NONE\"] takes no other settings");
	return 0;
}

static int stage_paths_absolute(struct recipe_loader *ld, const struct recipe_strv *v, const char *key)
{
	for (size_t i = 0; i < v->len; i++) {
		if (v->items[i].value[0] != '/')
			return recipe_errorf(ld, recipe_tpos(v->items[i].pos),
					     "'%s' path '%s' must be absolute", key, v->items[i].value);
	}
	return 0;
}

static int stage_steps(struct recipe_loader *ld, const struct toml_value *t, const char *where,
		       const struct recipe_vars *scope, struct recipe_stage *st)
{
	const struct toml_value *v = toml_table_get(t, "steps");

	if (!v)
		return 0;
	if (v->type != TOML_ARRAY)
		return recipe_errorf(ld, v->pos, "'steps' must be an array of tables, got %s",
				     toml_type_name(v->type));
	if (v->u.arr.len > RECIPE_STEPS_MAX)
		return recipe_errorf(ld, v->u.arr.items[RECIPE_STEPS_MAX]->pos,
				     "too many steps in stage '%s' (at most %d)", st->name, RECIPE_STEPS_MAX);
	st->steps = calloc(v->u.arr.len ? v->u.arr.len : 1, sizeof(*st->steps));
	if (!st->steps)
		return ocb_error_sys(ld->err, "out of memory");
	for (size_t i = 0; i < v->u.arr.len; i++) {
		st->steps[i].index = i;
		st->n_steps++;
		if (recipe_load_step(ld, st, v->u.arr.items[i], scope, &st->steps[i]) < 0)
			return -1;
	}
	return 0;
}

static int stage_body(struct recipe_loader *ld, const struct toml_value *t, const char *where,
		      struct recipe_vars *scope, struct recipe_stage *st)
{
	if (stage_step_key_check(ld, t, where) < 0 || recipe_check_keys(ld, t, stage_keys, where) < 0)
		return -1;
	if (!toml_table_get(t, "from"))
		return recipe_errorf(ld, t->pos,
				     "stage '%s' has no 'from' (use from = \"scratch\" for an empty base)",
				     st->name);
	/* 'from' and 'platform' see [args] and the platform variables (like a
	 * Dockerfile's FROM); the rest of the stage sees its env too. */
	if (recipe_read_str(ld, t, "from", &ld->args, &st->from) < 0 || stage_platform(ld, t, st) < 0 ||
	    recipe_read_map(ld, t, "env", &ld->args, false, scope, &st->env) < 0 ||
	    recipe_read_str(ld, t, "workdir", scope, &st->workdir) < 0 ||
	    recipe_read_str(ld, t, "user", scope, &st->user) < 0 ||
	    recipe_read_cmd(ld, t, "entrypoint", &st->entrypoint) < 0 ||
	    recipe_read_cmd(ld, t, "cmd", &st->cmd) < 0 || stage_expose(ld, t, scope, st) < 0 ||
	    recipe_read_map(ld, t, "labels", scope, true, NULL, &st->labels) < 0 ||
	    recipe_read_strv(ld, t, "volumes", scope, false, &st->volumes) < 0 ||
	    stage_paths_absolute(ld, &st->volumes, "volumes") < 0 ||
	    stage_stop_signal(ld, t, scope, st) < 0 || stage_healthcheck(ld, t, where, &st->healthcheck) < 0)
		return -1;
	if (!*st->from.value)
		return recipe_errorf(ld, toml_table_get(t, "from")->pos,
				     "'from' is empty after expansion ('%s')", st->from.raw);
	if (st->workdir.value && !*st->workdir.value)
		return recipe_errorf(ld, toml_table_get(t, "workdir")->pos, "'workdir' is empty");
	if (st->user.value && !*st->user.value)
		return recipe_errorf(ld, toml_table_get(t, "user")->pos, "'user' is empty");
	return stage_steps(ld, t, where, scope, st);
}

int recipe_load_stage(struct recipe_loader *ld, const struct toml_kv *kv, struct recipe_stage *st)
{
	struct recipe_vars scope = RECIPE_VARS_INIT;
	char where[STAGE_NAME_MAX + 32];
	int rc;

	if (stage_name_check(ld, kv) < 0)
		return -1;
	st->name = strdup(kv->key);
	if (!st->name)
		return ocb_error_sys(ld->err, "out of memory");
	st->pos = recipe_pos_at(ld, kv->value->type == TOML_TABLE ? kv->value->pos : kv->key_pos);
	if (kv->value->type != TOML_TABLE)
		return recipe_errorf(ld, kv->value->pos, "stage '%s' must be a table, got %s", st->name,
				     toml_type_name(kv->value->type));
	snprintf(where, sizeof(where), "[stages.%s]", st->name);
	rc = stage_body(ld, kv->value, where, &scope, st);
	recipe_vars_release(&scope);
	return rc;
}
