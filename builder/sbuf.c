#include "builder/sbuf.h"

#include "oci/banned.h"

void sbuf_init(struct sbuf *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	buf[0] = '\0';
}

void sbuf_add(struct sbuf *sb, const char *s)
{
	while (s && *s) {
		if (sb->len + 1 >= sb->cap) {
			sb->len = sb->cap; /* remember the truncation */
			break;
		}
		sb->buf[sb->len++] = *s++;
	}
	sb->buf[sb->len < sb->cap ? sb->len : sb->cap - 1] = '\0';
}

void sbuf_add_uint(struct sbuf *sb, unsigned long v)
{
	char tmp[24];
	size_t i = sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	sbuf_add(sb, tmp + i);
}

int sbuf_ok(const struct sbuf *sb)
{
	return sb->len < sb->cap;
}
