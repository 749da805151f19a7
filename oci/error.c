#include "oci/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "oci/banned.h"

static void error_vset(struct ocb_error *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int ocb_error_set(struct ocb_error *err, enum ocb_code code, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code == OCB_OK ? OCB_EFAIL : code;
	err->errnum = errnum;
	va_start(ap, fmt);
	error_vset(err, fmt, ap);
	va_end(ap);
	return -1;
}

int ocb_error_sys(struct ocb_error *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!err)
		return -1;
	err->code = saved == ENOENT ? OCB_ENOTFOUND : OCB_EFAIL;
	err->errnum = saved;
	va_start(ap, fmt);
	error_vset(err, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int ocb_error_wrap(struct ocb_error *err, const char *fmt, ...)
{
	char prefix[OCB_ERROR_MSG_MAX];
	size_t plen, mlen;
	va_list ap;
	int n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	plen = strnlen(prefix, sizeof(prefix) - 2);
	prefix[plen++] = ':';
	prefix[plen++] = ' ';
	/* Shift the old message right, truncating its tail if it must. */
	mlen = strnlen(err->msg, sizeof(err->msg) - 1);
	if (plen >= sizeof(err->msg) - 1)
		plen = sizeof(err->msg) - 1;
	if (plen + mlen > sizeof(err->msg) - 1)
		mlen = sizeof(err->msg) - 1 - plen;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
	if (err->code == OCB_OK)
		err->code = OCB_EFAIL;
	return -1;
}

void ocb_error_clear(struct ocb_error *err)
{
	if (!err)
		return;
	err->code = OCB_OK;
	err->errnum = 0;
	err->msg[0] = '\0';
}

const char *ocb_error_format(const struct ocb_error *err, char *buf, size_t size)
{
	if (err->errnum)
		snprintf(buf, size, "%s: %s", err->msg, strerror(err->errnum));
	else
		snprintf(buf, size, "%s", err->msg);
	return buf;
}

int ocb_error_exit_code(const struct ocb_error *err)
{
	switch (err->code) {
	case OCB_OK:
		return 0;
	case OCB_EBUILD:
		return 1;
	/* Input at fault: usage, a recipe, a missing name, and files or
	 * registry answers that are malformed, corrupt (digest), hostile
	 * (escapes) or over a bound. */
	case OCB_EINVAL:
	case OCB_ENOTFOUND:
	case OCB_EDIGEST:
	case OCB_EUNSAFE:
	case OCB_ELIMIT:
		return 2;
	case OCB_EENV:
	case OCB_EAUTH:
		return 3;
	default:
		return 1;
	}
}
