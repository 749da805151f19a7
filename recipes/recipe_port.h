/* Exposed ports as Docker's EXPOSE takes them: "80", "80/tcp", "53/udp",
 * "9000/sctp", a range "8000-8010/tcp".  The protocol defaults to tcp. */
#ifndef OCB_RECIPE_PORT_H
#define OCB_RECIPE_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

struct recipe_port {
	uint16_t first, last; /* last == first for a single port */
	char proto[5];	      /* "tcp", "udp" or "sctp" */
};

int recipe_port_parse(const char *s, struct recipe_port *port, struct ocb_error *err);
/* "80/tcp" or "8000-8010/tcp" into buf. */
const char *recipe_port_format(const struct recipe_port *port, char *buf, size_t size);

#endif
