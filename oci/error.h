/* ocb_error: the one error idiom of ocb.
 *
 * A function that can fail returns 0 on success and -1 on failure, and takes
 * `struct ocb_error *err` as its last argument.  The failing function fills the
 * error (message, errno, code); every caller on the way up may prepend context
 * with ocb_error_wrap(); the CLI prints it once.  Library code never prints.
 *
 * This header (with cleanup.h) is the shared base of every module: recipes/
 * uses it too, and nothing else from oci/. */
#ifndef OCB_ERROR_H
#define OCB_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* The few failures callers branch on (like libgit2's GIT_ENOTFOUND). */
enum ocb_code {
	OCB_OK = 0,
	OCB_EFAIL,     /* anything else: see errnum and message */
	OCB_ENOTFOUND, /* blob, image, stage, file not found */
	OCB_EDIGEST,   /* content does not match its digest */
	OCB_EINVAL,    /* bad input: usage, recipe, malformed document */
	OCB_EUNSAFE,   /* untrusted input tried to escape (path, link) */
	OCB_EEXIST,    /* already exists */
	OCB_EAUTH,     /* authentication refused */
	OCB_EENV,      /* environment: privilege, binfmt, network unreachable */
	OCB_EBUILD,    /* a build step failed */
	OCB_ELIMIT,    /* a size or count bound was exceeded */
};

#define OCB_ERROR_MSG_MAX 2048

struct ocb_error {
	enum ocb_code code;
	int errnum; /* errno at the failure, 0 if none */
	char msg[OCB_ERROR_MSG_MAX];
};

#define OCB_ERROR_INIT                                                                                       \
	{                                                                                                    \
		OCB_OK, 0,                                                                                   \
		{                                                                                            \
			0                                                                                    \
		}                                                                                            \
	}

/* Fill *err (which may be NULL) and return -1, so a caller writes
 * `return ocb_error_set(err, OCB_EINVAL, 0, "bad digest '%s'", s);`. */
int ocb_error_set(struct ocb_error *err, enum ocb_code code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same with errno captured and code OCB_EFAIL (OCB_ENOTFOUND for ENOENT). */
int ocb_error_sys(struct ocb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend "context: " to the message; keeps code and errnum.  Returns -1. */
int ocb_error_wrap(struct ocb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ocb_error_clear(struct ocb_error *err);
/* Writes "msg: strerror(errnum)" (or just msg) into buf. */
const char *ocb_error_format(const struct ocb_error *err, char *buf, size_t size);
/* CLI exit code for this error: 1 build failure, 2 usage/input, 3 environment. */
int ocb_error_exit_code(const struct ocb_error *err);

#endif
