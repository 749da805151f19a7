/* The image config: image-spec 1.1 plus Docker's Healthcheck extension. */
#include "oci/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/json.h"
#include "oci/strv.h"
#include "oci/banned.h"

static int nomem(struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

void oci_healthcheck_free(struct oci_healthcheck *h)
{
	if (!h)
		return;
	oci_strv_free(h->test);
	free(h);
}

void oci_history_release(struct oci_history *h)
{
	free(h->created);
	free(h->created_by);
	free(h->author);
	free(h->comment);
	memset(h, 0, sizeof(*h));
}

static void exec_config_release(struct oci_exec_config *e)
{
	free(e->user);
	oci_strv_free(e->exposed_ports);
	oci_strv_free(e->env);
	oci_strv_free(e->entrypoint);
	oci_strv_free(e->cmd);
	oci_strv_free(e->volumes);
	free(e->working_dir);
	json_decref(e->labels);
	free(e->stop_signal);
	oci_healthcheck_free(e->healthcheck);
	memset(e, 0, sizeof(*e));
}

void oci_config_release(struct oci_image_config *c)
{
	if (!c)
		return;
	free(c->created);
	free(c->author);
	oci_platform_release(&c->platform);
	exec_config_release(&c->config);
	free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++)
		oci_history_release(&c->history[i]);
	free(c->history);
	json_decref(c->raw);
	memset(c, 0, sizeof(*c));
}

int oci_config_init(struct oci_image_config *c, const struct oci_platform *platform, struct ocb_error *err)
{
	memset(c, 0, sizeof(*c));
	if (oci_platform_copy(&c->platform, platform, err) < 0)
		return -1;
	/* The platform's os.features/os.version stay; they are config fields too. */
	return 0;
}

static int parse_duration(const json_t *obj, const char *key, int64_t *out, struct ocb_error *err)
{
	if (oci_json_get_int(obj, key, out, NULL, err) < 0)
		return -1;
	if (*out < 0)
		return ocb_error_set(err, OCB_EINVAL, 0, "field '%s' must not be negative", key);
	return 0;
}

static int parse_healthcheck(const json_t *cfg, struct oci_healthcheck **out, struct ocb_error *err)
{
	struct oci_healthcheck *h;
	json_t *j;

	if (oci_json_get_object(cfg, "Healthcheck", &j, err) < 0)
		return -1;
	*out = NULL;
	if (!j)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return nomem(err);
	if (oci_json_get_strv(j, "Test", &h->test, err) < 0 ||
	    parse_duration(j, "Interval", &h->interval, err) < 0 ||
	    parse_duration(j, "Timeout", &h->timeout, err) < 0 ||
	    parse_duration(j, "StartPeriod", &h->start_period, err) < 0 ||
	    parse_duration(j, "Retries", &h->retries, err) < 0) {
		oci_healthcheck_free(h);
		return ocb_error_wrap(err, "Healthcheck");
	}
	*out = h;
	return 0;
}

static int parse_exec_config(const json_t *doc, struct oci_exec_config *e, struct ocb_error *err)
{
	json_t *cfg;

	if (oci_json_get_object(doc, "config", &cfg, err) < 0)
		return -1;
	if (!cfg)
		return 0;
	if (oci_json_get_string(cfg, "User", &e->user, err) < 0 ||
	    oci_json_get_key_set(cfg, "ExposedPorts", &e->exposed_ports, err) < 0 ||
	    oci_json_get_strv(cfg, "Env", &e->env, err) < 0 ||
	    oci_json_get_strv(cfg, "Entrypoint", &e->entrypoint, err) < 0 ||
	    oci_json_get_strv(cfg, "Cmd", &e->cmd, err) < 0 ||
	    oci_json_get_key_set(cfg, "Volumes", &e->volumes, err) < 0 ||
	    oci_json_get_string(cfg, "WorkingDir", &e->working_dir, err) < 0 ||
	    oci_json_get_string_map(cfg, "Labels", &e->labels, err) < 0 ||
	    oci_json_get_string(cfg, "StopSignal", &e->stop_signal, err) < 0 ||
	    parse_healthcheck(cfg, &e->healthcheck, err) < 0)
		return ocb_error_wrap(err, "config");
	return 0;
}

static int parse_rootfs(const json_t *doc, struct oci_image_config *c, struct ocb_error *err)
{
	json_t *rootfs, *ids, *item;
	cleanup_free char *type = NULL;
	size_t i;

	if (oci_json_get_object(doc, "rootfs", &rootfs, err) < 0)
		return -1;
	if (!rootfs)
		return ocb_error_set(err, OCB_EINVAL, 0, "missing 'rootfs'");
	if (oci_json_get_string(rootfs, "type", &type, err) < 0 ||
	    oci_json_get_array(rootfs, "diff_ids", &ids, err) < 0)
		return ocb_error_wrap(err, "rootfs");
	if (!type || strcmp(type, "layers") != 0)
		return ocb_error_set(err, OCB_EINVAL, 0, "rootfs: 'type' must be \"layers\"");
	if (!ids || json_array_size(ids) == 0)
		return 0;
	c->diff_ids = calloc(json_array_size(ids), sizeof(*c->diff_ids));
	if (!c->diff_ids)
		return nomem(err);
	json_array_foreach(ids, i, item)
	{
		if (!json_is_string(item))
			return ocb_error_set(err, OCB_EINVAL, 0,
					     "rootfs: 'diff_ids' must be an array of strings");
		if (oci_digest_parse(json_string_value(item), &c->diff_ids[i], err) < 0)
			return ocb_error_wrap(err, "rootfs: diff_ids[%zu]", i);
		c->n_diff_ids++;
	}
	return 0;
}

static int parse_history_entry(const json_t *j, struct oci_history *h, struct ocb_error *err)
{
	if (!json_is_object(j))
		return ocb_error_set(err, OCB_EINVAL, 0, "not an object");
	if (oci_json_get_string(j, "created", &h->created, err) < 0 ||
	    oci_json_get_string(j, "created_by", &h->created_by, err) < 0 ||
	    oci_json_get_string(j, "author", &h->author, err) < 0 ||
	    oci_json_get_string(j, "comment", &h->comment, err) < 0 ||
	    oci_json_get_bool(j, "empty_layer", &h->empty_layer, err) < 0)
		return -1;
	return 0;
}

static int parse_history(const json_t *doc, struct oci_image_config *c, struct ocb_error *err)
{
	json_t *hist, *item;
	size_t i;

	if (oci_json_get_array(doc, "history", &hist, err) < 0)
		return -1;
	if (!hist || json_array_size(hist) == 0)
		return 0;
	c->history = calloc(json_array_size(hist), sizeof(*c->history));
	if (!c->history)
		return nomem(err);
	json_array_foreach(hist, i, item)
	{
		/* Counted first so release frees a half-filled entry. */
		c->n_history++;
		if (parse_history_entry(item, &c->history[i], err) < 0)
			return ocb_error_wrap(err, "history[%zu]", i);
	}
	return 0;
}

static int parse_platform_fields(const json_t *doc, struct oci_platform *p, struct ocb_error *err)
{
	if (oci_json_get_string(doc, "architecture", &p->architecture, err) < 0 ||
	    oci_json_get_string(doc, "os", &p->os, err) < 0 ||
	    oci_json_get_string(doc, "variant", &p->variant, err) < 0 ||
	    oci_json_get_string(doc, "os.version", &p->os_version, err) < 0 ||
	    oci_json_get_strv(doc, "os.features", &p->os_features, err) < 0)
		return -1;
	if (!p->architecture || !p->os)
		return ocb_error_set(err, OCB_EINVAL, 0, "'architecture' and 'os' are required");
	return 0;
}

int oci_config_parse(const char *buf, size_t len, struct oci_image_config *out, struct ocb_error *err)
{
	struct oci_image_config c = {0};
	json_t *doc = NULL;

	if (oci_json_load(buf, len, OCI_JSON_MAX, "image config", &doc, err) < 0)
		return -1;
	c.raw = doc;
	if (oci_json_get_string(doc, "created", &c.created, err) < 0 ||
	    oci_json_get_string(doc, "author", &c.author, err) < 0 ||
	    parse_platform_fields(doc, &c.platform, err) < 0 || parse_exec_config(doc, &c.config, err) < 0 ||
	    parse_rootfs(doc, &c, err) < 0 || parse_history(doc, &c, err) < 0) {
		oci_config_release(&c);
		return ocb_error_wrap(err, "image config");
	}
	*out = c;
	return 0;
}

static json_t *healthcheck_json(const struct oci_healthcheck *h)
{
	json_t *j = json_object();
	bool ok = j != NULL;

	if (!j)
		return NULL;
	oci_json_set_strv(j, "Test", h->test, &ok);
	if (h->interval)
		oci_json_set(j, "Interval", json_integer(h->interval), &ok);
	if (h->timeout)
		oci_json_set(j, "Timeout", json_integer(h->timeout), &ok);
	if (h->start_period)
		oci_json_set(j, "StartPeriod", json_integer(h->start_period), &ok);
	if (h->retries)
		oci_json_set(j, "Retries", json_integer(h->retries), &ok);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Overlay the modelled exec-config fields on cfg (which keeps the others). */
static void overlay_exec_config(json_t *cfg, const struct oci_exec_config *e, bool *ok)
{
	oci_json_set_string(cfg, "User", e->user, ok);
	oci_json_set_key_set(cfg, "ExposedPorts", e->exposed_ports, ok);
	oci_json_set_strv(cfg, "Env", e->env, ok);
	oci_json_set_strv(cfg, "Entrypoint", e->entrypoint, ok);
	oci_json_set_strv(cfg, "Cmd", e->cmd, ok);
	oci_json_set_key_set(cfg, "Volumes", e->volumes, ok);
	oci_json_set_string(cfg, "WorkingDir", e->working_dir, ok);
	oci_json_set_map(cfg, "Labels", e->labels, ok);
	oci_json_set_string(cfg, "StopSignal", e->stop_signal, ok);
	if (e->healthcheck)
		oci_json_set(cfg, "Healthcheck", healthcheck_json(e->healthcheck), ok);
	else
		json_object_del(cfg, "Healthcheck");
}

static json_t *history_json(const struct oci_history *h)
{
	json_t *j = json_object();
	bool ok = j != NULL;

	if (!j)
		return NULL;
	oci_json_set_string(j, "created", h->created, &ok);
	oci_json_set_string(j, "created_by", h->created_by, &ok);
	oci_json_set_string(j, "author", h->author, &ok);
	oci_json_set_string(j, "comment", h->comment, &ok);
	if (h->empty_layer)
		oci_json_set(j, "empty_layer", json_true(), &ok);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *rootfs_json(const struct oci_image_config *c)
{
	json_t *j = json_object(), *ids = json_array();
	bool ok = j && ids;

	for (size_t i = 0; ok && i < c->n_diff_ids; i++)
		if (json_array_append_new(ids, json_string(c->diff_ids[i].str)) < 0)
			ok = false;
	if (j) {
		oci_json_set(j, "type", json_string("layers"), &ok);
		oci_json_set(j, "diff_ids", ids, &ok);
		ids = NULL;
	}
	if (!ok) {
		json_decref(ids);
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *history_array(const struct oci_image_config *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n_history; i++) {
		if (json_array_append_new(a, history_json(&c->history[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int oci_config_serialize(const struct oci_image_config *c, char **buf, size_t *len, struct ocb_error *err)
{
	cleanup_json json_t *doc = c->raw ? json_deep_copy(c->raw) : json_object();
	json_t *cfg;
	bool ok = doc != NULL;

	if (!doc)
		return nomem(err);
	oci_json_set_string(doc, "created", c->created, &ok);
	oci_json_set_string(doc, "author", c->author, &ok);
	oci_json_set_string(doc, "architecture", c->platform.architecture, &ok);
	oci_json_set_string(doc, "os", c->platform.os, &ok);
	oci_json_set_string(doc, "variant", c->platform.variant, &ok);
	oci_json_set_string(doc, "os.version", c->platform.os_version, &ok);
	oci_json_set_strv(doc, "os.features", c->platform.os_features, &ok);

	cfg = json_object_get(doc, "config");
	if (json_is_object(cfg)) {
		json_incref(cfg);
	} else {
		cfg = json_object();
		if (!cfg)
			return nomem(err);
	}
	overlay_exec_config(cfg, &c->config, &ok);
	if (json_object_size(cfg) == 0) {
		json_decref(cfg);
		json_object_del(doc, "config");
	} else {
		oci_json_set(doc, "config", cfg, &ok);
	}
	oci_json_set(doc, "rootfs", rootfs_json(c), &ok);
	if (c->n_history)
		oci_json_set(doc, "history", history_array(c), &ok);
	else
		json_object_del(doc, "history");
	if (!ok)
		return ocb_error_set(err, OCB_EFAIL, 0,
				     "image config: cannot encode (out of memory or invalid UTF-8)");
	return oci_json_dump(doc, buf, len, err);
}

static int history_copy(struct oci_history *dst, const struct oci_history *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->empty_layer = src->empty_layer;
	if ((src->created && !(dst->created = strdup(src->created))) ||
	    (src->created_by && !(dst->created_by = strdup(src->created_by))) ||
	    (src->author && !(dst->author = strdup(src->author))) ||
	    (src->comment && !(dst->comment = strdup(src->comment)))) {
		oci_history_release(dst);
		return -1;
	}
	return 0;
}

int oci_config_add_history(struct oci_image_config *c, const struct oci_history *h, struct ocb_error *err)
{
	struct oci_history *nh = realloc(c->history, (c->n_history + 1) * sizeof(*nh));

	if (!nh)
		return nomem(err);
	c->history = nh;
	if (history_copy(&nh[c->n_history], h) < 0)
		return nomem(err);
	c->n_history++;
	return 0;
}

int oci_config_add_layer(struct oci_image_config *c, const struct oci_digest *diff_id,
			 const struct oci_history *h, struct ocb_error *err)
{
	struct oci_digest *ids = realloc(c->diff_ids, (c->n_diff_ids + 1) * sizeof(*ids));

	if (!ids)
		return nomem(err);
	c->diff_ids = ids;
	ids[c->n_diff_ids++] = *diff_id;
	return h ? oci_config_add_history(c, h, err) : 0;
}

/* The index of KEY in env, or -1. */
static ssize_t env_find(char *const *env, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
			return (ssize_t)i;
	return -1;
}

int oci_config_set_env(struct oci_image_config *c, const char *key, const char *value, struct ocb_error *err)
{
	cleanup_free char *kv = NULL;
	ssize_t i;

	if (!*key || strchr(key, '='))
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid environment variable name '%s'", key);
	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return nomem(err);
	i = env_find(c->config.env, key);
	if (i < 0)
		return oci_strv_push(&c->config.env, kv, err);
	free(c->config.env[i]);
	c->config.env[i] = steal_pointer(&kv);
	return 0;
}

const char *oci_config_get_env(const struct oci_image_config *c, const char *key)
{
	ssize_t i = env_find(c->config.env, key);

	return i < 0 ? NULL : c->config.env[i] + strlen(key) + 1;
}
