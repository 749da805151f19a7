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
#define assert_ok(expr)                                                                                      \
	do {                                                                                                 \
		struct ocb_error *e_ = &test_err;                                                            \
		if ((expr) < 0)                                                                              \
			fail_msg("%s failed: %s", #expr, e_->msg);                                           \
	} while (0)

extern struct ocb_error test_err;

/* A fresh temp directory (mkdtemp under $TMPDIR); free with testutil_rmtree. */
char *testutil_mkdtemp(void);
/* rm -rf path (refuses "/" and empty). */
void testutil_rmtree(const char *path);
/* Write a file (creating parents is the caller's job). */
void testutil_write_file(const char *path, const void *data, size_t len);

struct oci_layout;
struct oci_descriptor;
/* A one-layer image in layout l: a gzip tar layer holding "hello.txt" with
 * content, a config for platform ("linux/amd64") with an entrypoint, env and
 * a healthcheck, stored with oci_layout_put_image; *out gets the manifest
 * descriptor.  Fails the test on error. */
void testutil_make_image(struct oci_layout *l, const char *platform, const char *content,
			 struct oci_descriptor *out);
/* The bytes of a tar holding one regular file name=content (malloc'd). */
void *testutil_make_tar(const char *name, const char *content, size_t *len);

#endif
