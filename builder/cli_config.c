#include "builder/cli_config.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cleanup.h"
#include "oci/strv.h"
#include "recipes/recipe_duration.h"
#include "recipes/recipe_port.h"
#include "recipes/recipe_signal.h"
#include "oci/banned.h"

static int nomem(struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
}

/* A JSON array of strings, or a plain string taken as a shell command. */
static int parse_command(const char *opt, const char *arg, char ***out, struct ocb_error *err)
{
	char **v = NULL;
	json_t *j;

	if (arg[0] != '[') {
		if (oci_strv_push(&v, "/bin/sh", err) < 0 || oci_strv_push(&v, "-c", err) < 0 ||
		    oci_strv_push(&v, arg, err) < 0)
			goto fail;
		goto done;
	}
	j = json_loads(arg, JSON_DECODE_ANY, NULL);
	if (!j || !json_is_array(j)) {
		json_decref(j);
		return ocb_error_set(err, OCB_EINVAL, 0, "--%s '%s' is not a JSON array of strings", opt,
				     arg);
	}
	for (size_t i = 0; i < json_array_size(j); i++) {
		const char *s = json_string_value(json_array_get(j, i));
		if (!s) {
			json_decref(j);
			oci_strv_free(v);
			return ocb_error_set(err, OCB_EINVAL, 0, "--%s: element %zu is not a string", opt, i);
		}
		if (oci_strv_push(&v, s, err) < 0) {
			json_decref(j);
			goto fail;
		}
	}
	json_decref(j);
	if (!v && oci_strv_copy(&v, (char *const[]){NULL}, err) < 0)
		goto fail;
done:
	oci_strv_free(*out);
	*out = v;
	return 0;
fail:
	oci_strv_free(v);
	return -1;
}

static int split_kv(const char *opt, const char *arg, char **key, const char **value, struct ocb_error *err)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return ocb_error_set(err, OCB_EINVAL, 0, "--%s '%s' is not KEY=VALUE", opt, arg);
	*key = strndup(arg, (size_t)(eq - arg));
	if (!*key)
		return nomem(err);
	*value = eq + 1;
	return 0;
}

static int set_string(char **field, const char *arg, struct ocb_error *err)
{
	char *s = strdup(arg);

	if (!s)
		return nomem(err);
	free(*field);
	*field = s;
	return 0;
}

static int add_unique(char ***v, const char *s, struct ocb_error *err)
{
	if (oci_strv_contains(*v, s))
		return 0;
	return oci_strv_push(v, s, err);
}

static struct oci_healthcheck *healthcheck(struct oci_image_config *c)
{
	if (!c->config.healthcheck)
		c->config.healthcheck = calloc(1, sizeof(*c->config.healthcheck));
	return c->config.healthcheck;
}

/* "CMD a b" -> ["CMD","a","b"]; "CMD-SHELL cmd line" -> ["CMD-SHELL","cmd line"];
 * "NONE" -> ["NONE"]; a JSON array is taken as is. */
static int parse_healthcheck_test(const char *arg, char ***out, struct ocb_error *err)
{
	char **v = NULL;

	if (arg[0] == '[')
		return parse_command("healthcheck", arg, out, err);
	if (!strcmp(arg, "NONE")) {
		if (oci_strv_push(&v, "NONE", err) < 0)
			return -1;
	} else if (!strncmp(arg, "CMD-SHELL ", 10)) {
		if (oci_strv_push(&v, "CMD-SHELL", err) < 0 || oci_strv_push(&v, arg + 10, err) < 0)
			goto fail;
	} else if (!strncmp(arg, "CMD ", 4)) {
		cleanup_free char *copy = strdup(arg + 4);
		char *save = NULL;
		if (!copy)
			return nomem(err);
		if (oci_strv_push(&v, "CMD", err) < 0)
			goto fail;
		for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
			if (oci_strv_push(&v, w, err) < 0)
				goto fail;
	} else {
		return ocb_error_set(err, OCB_EINVAL, 0,
				     "--healthcheck '%s' must start with CMD, CMD-SHELL or be NONE", arg);
	}
	oci_strv_free(*out);
	*out = v;
	return 0;
fail:
	oci_strv_free(v);
	return -1;
}

static int parse_retries(const char *arg, int64_t *out, struct ocb_error *err)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > INT_MAX)
		return ocb_error_set(err, OCB_EINVAL, 0,
				     "--health-retries '%s' is not a non-negative integer", arg);
	*out = v;
	return 0;
}

static int set_label(struct oci_image_config *c, const char *arg, struct ocb_error *err)
{
	cleanup_free char *key = NULL;
	const char *value;

	if (split_kv("label", arg, &key, &value, err) < 0)
		return -1;
	if (!c->config.labels && !(c->config.labels = json_object()))
		return nomem(err);
	if (json_object_set_new(c->config.labels, key, json_string(value)) < 0)
		return ocb_error_set(err, OCB_EINVAL, 0, "--label '%s' is not valid UTF-8", arg);
	return 0;
}

static int set_env(struct oci_image_config *c, const char *arg, struct ocb_error *err)
{
	cleanup_free char *key = NULL;
	const char *value;

	if (split_kv("env", arg, &key, &value, err) < 0)
		return -1;
	return oci_config_set_env(c, key, value, err);
}

/* Docker writes a range as one ExposedPorts key per port. */
static int add_port(struct oci_image_config *c, const char *arg, struct ocb_error *err)
{
	struct recipe_port port;
	char key[32];

	if (recipe_port_parse(arg, &port, err) < 0)
		return ocb_error_wrap(err, "--expose");
	for (unsigned p = port.first; p <= port.last; p++) {
		snprintf(key, sizeof(key), "%u/%s", p, port.proto);
		if (add_unique(&c->config.exposed_ports, key, err) < 0)
			return -1;
	}
	return 0;
}

static int set_signal(struct oci_image_config *c, const char *arg, struct ocb_error *err)
{
	char canon[32];
	int signum;

	if (recipe_signal_parse(arg, &signum, canon, sizeof(canon), err) < 0)
		return ocb_error_wrap(err, "--stop-signal");
	return set_string(&c->config.stop_signal, canon, err);
}

static int set_duration(const char *opt, const char *arg, int64_t *out, struct ocb_error *err)
{
	if (recipe_duration_parse(arg, out, err) < 0)
		return ocb_error_wrap(err, "--%s", opt);
	return 0;
}

int cli_config_apply(struct oci_image_config *c, int opt, const char *arg, struct ocb_error *err)
{
	struct oci_exec_config *e = &c->config;

	if (opt >= CLI_OPT_HEALTHCHECK && opt <= CLI_OPT_HEALTH_RETRIES && !healthcheck(c))
		return nomem(err);
	switch (opt) {
	case CLI_OPT_ENTRYPOINT:
		return parse_command("entrypoint", arg, &e->entrypoint, err);
	case CLI_OPT_CMD:
		return parse_command("cmd", arg, &e->cmd, err);
	case CLI_OPT_ENV:
		return set_env(c, arg, err);
	case CLI_OPT_USER:
		return set_string(&e->user, arg, err);
	case CLI_OPT_WORKDIR:
		if (arg[0] != '/')
			return ocb_error_set(err, OCB_EINVAL, 0, "--workdir '%s' must be an absolute path",
					     arg);
		return set_string(&e->working_dir, arg, err);
	case CLI_OPT_EXPOSE:
		return add_port(c, arg, err);
	case CLI_OPT_LABEL:
		return set_label(c, arg, err);
	case CLI_OPT_VOLUME:
		if (arg[0] != '/')
			return ocb_error_set(err, OCB_EINVAL, 0, "--volume '%s' must be an absolute path",
					     arg);
		return add_unique(&e->volumes, arg, err);
	case CLI_OPT_STOP_SIGNAL:
		return set_signal(c, arg, err);
	case CLI_OPT_HEALTHCHECK:
		return parse_healthcheck_test(arg, &e->healthcheck->test, err);
	case CLI_OPT_HEALTH_INTERVAL:
		return set_duration("health-interval", arg, &e->healthcheck->interval, err);
	case CLI_OPT_HEALTH_TIMEOUT:
		return set_duration("health-timeout", arg, &e->healthcheck->timeout, err);
	case CLI_OPT_HEALTH_START_PERIOD:
		return set_duration("health-start-period", arg, &e->healthcheck->start_period, err);
	case CLI_OPT_HEALTH_RETRIES:
		return parse_retries(arg, &e->healthcheck->retries, err);
	default:
		return ocb_error_set(err, OCB_EINVAL, 0, "unknown config option %d", opt);
	}
}
