/* Command-line options that set image config fields (ocb import), shared so
 * every command that makes an image spells them the same way. */
#ifndef OCB_CLI_CONFIG_H
#define OCB_CLI_CONFIG_H

#include <getopt.h>

#include "oci/error.h"
#include "oci/image.h"

/* Option codes (returned by getopt_long) start here; commands use smaller ones. */
enum {
	CLI_CONFIG_OPT_FIRST = 1000,
	CLI_OPT_ENTRYPOINT = CLI_CONFIG_OPT_FIRST,
	CLI_OPT_CMD,
	CLI_OPT_ENV,
	CLI_OPT_USER,
	CLI_OPT_WORKDIR,
	CLI_OPT_EXPOSE,
	CLI_OPT_LABEL,
	CLI_OPT_VOLUME,
	CLI_OPT_STOP_SIGNAL,
	CLI_OPT_HEALTHCHECK,
	CLI_OPT_HEALTH_INTERVAL,
	CLI_OPT_HEALTH_TIMEOUT,
	CLI_OPT_HEALTH_START_PERIOD,
	CLI_OPT_HEALTH_RETRIES,
	CLI_CONFIG_OPT_LAST,
};

#define CLI_CONFIG_LONG_OPTIONS                                                                              \
	{"entrypoint", required_argument, NULL, CLI_OPT_ENTRYPOINT},                                         \
	    {"cmd", required_argument, NULL, CLI_OPT_CMD}, {"env", required_argument, NULL, CLI_OPT_ENV},    \
	    {"user", required_argument, NULL, CLI_OPT_USER},                                                 \
	    {"workdir", required_argument, NULL, CLI_OPT_WORKDIR},                                           \
	    {"expose", required_argument, NULL, CLI_OPT_EXPOSE},                                             \
	    {"label", required_argument, NULL, CLI_OPT_LABEL},                                               \
	    {"volume", required_argument, NULL, CLI_OPT_VOLUME},                                             \
	    {"stop-signal", required_argument, NULL, CLI_OPT_STOP_SIGNAL},                                   \
	    {"healthcheck", required_argument, NULL, CLI_OPT_HEALTHCHECK},                                   \
	    {"health-interval", required_argument, NULL, CLI_OPT_HEALTH_INTERVAL},                           \
	    {"health-timeout", required_argument, NULL, CLI_OPT_HEALTH_TIMEOUT},                             \
	    {"health-start-period", required_argument, NULL, CLI_OPT_HEALTH_START_PERIOD},                   \
	{                                                                                                    \
		"health-retries", required_argument, NULL, CLI_OPT_HEALTH_RETRIES                            \
	}

#define CLI_CONFIG_HELP                                                                                      \
	"  --entrypoint JSON|STRING   entrypoint: a JSON array, or a string run by /bin/sh -c\n"             \
	"  --cmd JSON|STRING          default arguments (same forms)\n"                                      \
	"  --env K=V                  environment variable (repeatable)\n"                                   \
	"  --user USER[:GROUP]        user the container runs as\n"                                          \
	"  --workdir DIR              working directory\n"                                                   \
	"  --expose PORT[/tcp|udp]    exposed port (repeatable)\n"                                           \
	"  --label K=V                label (repeatable)\n"                                                  \
	"  --volume DIR               volume (repeatable)\n"                                                 \
	"  --stop-signal SIG          stop signal (SIGTERM, TERM or a number)\n"                             \
	"  --healthcheck TEST         'CMD arg...', 'CMD-SHELL command' or NONE\n"                           \
	"  --health-interval D        --health-timeout D  --health-start-period D  (30s, 1m30s)\n"           \
	"  --health-retries N\n"

static inline int cli_config_is_option(int opt)
{
	return opt >= CLI_CONFIG_OPT_FIRST && opt < CLI_CONFIG_OPT_LAST;
}

/* Apply one option (opt from getopt_long, arg its argument) to c. */
int cli_config_apply(struct oci_image_config *c, int opt, const char *arg, struct ocb_error *err);

#endif
