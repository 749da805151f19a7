/* Durations as Go's time.ParseDuration (and so Docker) writes them:
 * "30s", "1m30s", "500ms", "1.5h", "10us", "0". */
#ifndef OCB_RECIPE_DURATION_H
#define OCB_RECIPE_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

/* Parse s into nanoseconds.  A sequence of decimal numbers, each with an
 * optional fraction and a unit (ns, us, µs, ms, s, m, h); "0" needs no unit.
 * Negative durations and overflow past INT64_MAX are OCB_EINVAL. */
int recipe_duration_parse(const char *s, int64_t *ns, struct ocb_error *err);

/* Format ns the way Go prints durations ("1m30s", "500ms", "0s") into buf. */
const char *recipe_duration_format(int64_t ns, char *buf, size_t size);

#endif
