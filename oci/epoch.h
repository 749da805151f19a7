/* SOURCE_DATE_EPOCH (reproducible-builds.org): the one place it is read. */
#ifndef OCB_EPOCH_H
#define OCB_EPOCH_H

#include <stdint.h>

#include "oci/error.h"

/* 1 with *epoch set when SOURCE_DATE_EPOCH is set, 0 when it is unset or
 * empty, -1 (OCB_EINVAL) when it is not a non-negative decimal integer. */
int oci_source_date_epoch(int64_t *epoch, struct ocb_error *err);

#endif
