/* A step's output: complete lines to the progress output, the last ones kept
 * for the message of a failed step. */
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "builder/progress.h"
#include "oci/banned.h"

void build_steplog_init(struct build_steplog *log, struct progress *p, unsigned id)
{
	memset(log, 0, sizeof(*log));
	log->progress = p;
	log->id = id;
}

static void emit(struct build_steplog *log)
{
	size_t slot = log->n_lines % BUILD_TAIL_LINES;

	log->partial[log->plen] = '\0';
	if (log->progress)
		progress_step_line(log->progress, log->id, log->partial);
	free(log->tail[slot]);
	log->tail[slot] = strdup(log->partial);
	log->n_lines++;
	log->plen = 0;
}

void build_steplog_write(struct build_steplog *log, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			emit(log);
			continue;
		}
		if (buf[i] == '\r')
			continue;
		log->partial[log->plen++] = buf[i];
		if (log->plen == sizeof(log->partial) - 1)
			emit(log); /* an overlong line is cut */
	}
}

void build_steplog_finish(struct build_steplog *log)
{
	if (log->plen)
		emit(log);
}

char *build_steplog_tail(const struct build_steplog *log)
{
	size_t first = log->n_lines > BUILD_TAIL_LINES ? log->n_lines - BUILD_TAIL_LINES : 0;
	size_t total = 1;
	char *out, *p;

	for (size_t i = first; i < log->n_lines; i++) {
		const char *l = log->tail[i % BUILD_TAIL_LINES];
		total += (l ? strlen(l) : 0) + 1;
	}
	if (!(out = malloc(total)))
		return NULL;
	p = out;
	for (size_t i = first; i < log->n_lines; i++) {
		const char *l = log->tail[i % BUILD_TAIL_LINES];
		size_t n = l ? strlen(l) : 0;
		memcpy(p, l ? l : "", n);
		p += n;
		*p++ = '\n';
	}
	*p = '\0';
	return out;
}

void build_steplog_release(struct build_steplog *log)
{
	for (size_t i = 0; i < BUILD_TAIL_LINES; i++)
		free(log->tail[i]);
	memset(log->tail, 0, sizeof(log->tail));
}
