#include "builder/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "oci/banned.h"

int cli_usage_error(struct ocb_error *err, const char *cmd, const char *fmt, ...)
{
	char msg[OCB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ocb_error_set(err, OCB_EINVAL, 0, "%s: %s (see 'ocb %s --help')", cmd, msg, cmd);
}

int cli_parse_wait(const char *cmd, const char *s, long *out, struct ocb_error *err)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > CLI_WAIT_MAX_SECONDS)
		return cli_usage_error(err, cmd, "--wait: '%s' is not a number of seconds", s);
	*out = v;
	return 0;
}
