#include "oci/epoch.h"

#include <errno.h>
#include <stdlib.h>

#include "oci/banned.h"

int oci_source_date_epoch(int64_t *epoch, struct ocb_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end = NULL;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || end == s)
		return ocb_error_set(err, OCB_EINVAL, 0, "invalid SOURCE_DATE_EPOCH '%.40s'", s);
	*epoch = v;
	return 1;
}
