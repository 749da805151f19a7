/* Async-signal-safe string building into a fixed buffer (truncating), for
 * the code that runs between clone() and execve() where snprintf and malloc
 * are off limits. */
#ifndef OCB_SBUF_H
#define OCB_SBUF_H

#include <stddef.h>

struct sbuf {
	char *buf;
	size_t cap, len;
};

/* buf must have cap >= 1; it is always NUL-terminated. */
void sbuf_init(struct sbuf *sb, char *buf, size_t cap);
void sbuf_add(struct sbuf *sb, const char *s);
void sbuf_add_uint(struct sbuf *sb, unsigned long v);
/* True when everything added fitted. */
int sbuf_ok(const struct sbuf *sb);

#endif
