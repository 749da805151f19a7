#include <stdio.h>

#include "builder/cli.h"
#include "builder/version.h"
#include "oci/banned.h"

int cmd_version(int argc, char **argv, struct ocb_error *err)
{
	printf("ocb %s\n", OCB_VERSION);
	return 0;
}
