/* Stop signals as Docker accepts them: a Linux signal name with or without
 * "SIG" in any case ("SIGTERM", "term"), "RTMIN+3" / "SIGRTMAX-1", or a
 * number 1..64. */
#ifndef OCB_RECIPE_SIGNAL_H
#define OCB_RECIPE_SIGNAL_H

#include <stddef.h>

#include "oci/error.h"

/* Parse s; *signum gets the Linux signal number (the same on amd64 and arm64)
 * and canon (when not NULL) the name Docker writes in an image config:
 * "SIGTERM", "SIGRTMIN+3", or the number as given for numeric signals. */
int recipe_signal_parse(const char *s, int *signum, char *canon, size_t canon_size, struct ocb_error *err);

#endif
