/* Shared helpers for the cmocka unit tests. */
#ifndef OCB_TESTUTIL_H
#define OCB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "oci/error.h"

/* Fail the test with the error message when rc < 0. */
#define assert_ok(expr)                                                                            \
	do {                                                                                       \
		struct ocb_error *e_ = &test_err;                                                  \
		if ((expr) < 0)                                                                    \
			fail_msg("%s failed: %s", #expr, e_->msg);                                 \
	} while (0)

extern struct ocb_error test_err;

/* A fresh temp directory (mkdtemp under $TMPDIR); free with testutil_rmtree. */
char *testutil_mkdtemp(void);
/* rm -rf path (refuses "/" and empty). */
void testutil_rmtree(const char *path);
/* Write a file (creating parents is the caller's job). */
void testutil_write_file(const char *path, const void *data, size_t len);

#endif
