/* Child -> parent messages: async-signal-safe, one write() per message. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "builder/sandbox_impl.h"
#include "oci/banned.h"

void sandbox_send(int info_fd, int type, int errnum, int value, const char *text)
{
	struct sandbox_msg msg;
	struct sbuf sb;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.type = type;
	msg.errnum = errnum;
	msg.value = value;
	sbuf_init(&sb, msg.text, sizeof(msg.text));
	sbuf_add(&sb, text);
	do
		n = write(info_fd, &msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
}

int sandbox_fail(int info_fd, int code, int errnum, ...)
{
	char text[SANDBOX_MSG_TEXT];
	struct sbuf sb;
	const char *s;
	va_list ap;

	sbuf_init(&sb, text, sizeof(text));
	va_start(ap, errnum);
	while ((s = va_arg(ap, const char *)))
		sbuf_add(&sb, s);
	va_end(ap);
	sandbox_send(info_fd, SANDBOX_MSG_ERROR, errnum, code, text);
	errno = errnum;
	return -1;
}
