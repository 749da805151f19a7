#include "recipes/recipe_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oci/banned.h"

static int port_invalid(const char *s, const char *why, struct ocb_error *err)
{
	return ocb_error_set(
	    err, OCB_EINVAL, 0,
	    "invalid port '%s': %s (use e.g. \"80\", \"80/tcp\", \"53/udp\", \"8000-8010/tcp\")", s, why);
}

/* A port number 1..65535 at *pp, advancing *pp past its digits. */
static int port_number(const char **pp, uint16_t *out)
{
	const char *p = *pp;
	long v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return -1;
	}
	if (v < 1)
		return -1;
	*out = (uint16_t)v;
	*pp = p;
	return 0;
}

int recipe_port_parse(const char *s, struct recipe_port *port, struct ocb_error *err)
{
	struct recipe_port out = {0};
	const char *p = s;

	if (port_number(&p, &out.first) < 0)
		return port_invalid(s, "expected a port number 1-65535", err);
	out.last = out.first;
	if (*p == '-') {
		p++;
		if (port_number(&p, &out.last) < 0)
			return port_invalid(s, "expected a port number 1-65535 after '-'", err);
		if (out.last < out.first)
			return port_invalid(s, "range ends before it starts", err);
	}
	if (*p != '\0' && *p != '/')
		return port_invalid(s, "expected a port number 1-65535", err);
	if (*p == '\0') {
		snprintf(out.proto, sizeof(out.proto), "tcp");
	} else if (*p == '/' &&
		   (!strcasecmp(p + 1, "tcp") || !strcasecmp(p + 1, "udp") || !strcasecmp(p + 1, "sctp"))) {
		for (size_t i = 0; p[1 + i] && i < sizeof(out.proto) - 1; i++)
			out.proto[i] = (char)(p[1 + i] | 0x20);
	} else {
		return port_invalid(s, "protocol must be tcp, udp or sctp", err);
	}
	*port = out;
	return 0;
}

const char *recipe_port_format(const struct recipe_port *port, char *buf, size_t size)
{
	if (port->first == port->last)
		snprintf(buf, size, "%u/%s", port->first, port->proto);
	else
		snprintf(buf, size, "%u-%u/%s", port->first, port->last, port->proto);
	return buf;
}
