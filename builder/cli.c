#include "builder/cli.h"

#include <stdarg.h>
#include <stdio.h>

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
