/* Build progress output (`--progress plain|tty|json|auto`).
 *
 * Every step gets an id (#1, #2, ... in the order steps start) and these
 * events: start ("[stage 2/4] RUN make"), output lines, and one of cached,
 * done (with its duration) or error.  Events from parallel stages are
 * serialised under one lock and written a whole line at a time, so lines
 * never interleave.
 *
 *   plain   one line per event:  #3 [backend 2/4] RUN go build ...
 *                                #3 0.412 output line
 *                                #3 DONE 1.2s   /  #3 CACHED
 *   tty     the finished events scroll; below them one live line per running
 *           step (its elapsed time and last output line), redrawn in place
 *   json    one JSON object per line: {"id":3,"event":"start","stage":...}
 *
 * progress functions never fail: output errors are ignored (a closed pipe
 * must not stop the build). */
#ifndef OCB_PROGRESS_H
#define OCB_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "oci/error.h"

enum progress_mode {
	PROGRESS_AUTO,
	PROGRESS_PLAIN,
	PROGRESS_TTY,
	PROGRESS_JSON,
};

struct progress;

/* "auto", "plain", "tty", "json"; OCB_EINVAL otherwise. */
int progress_mode_parse(const char *s, enum progress_mode *out, struct ocb_error *err);
/* AUTO becomes TTY when out is a terminal, else PLAIN. */
int progress_new(struct progress **out, enum progress_mode mode, FILE *stream, struct ocb_error *err);
/* Clears the live area and frees; NULL is fine. */
void progress_free(struct progress *p);

/* A new step: index is 0-based, name what it does ("RUN make").  Returns its id. */
unsigned progress_step_start(struct progress *p, const char *stage, size_t index, size_t total,
			     const char *name);
/* One complete output line of the step (without its newline). */
void progress_step_line(struct progress *p, unsigned id, const char *line);
void progress_step_cached(struct progress *p, unsigned id);
void progress_step_done(struct progress *p, unsigned id, int64_t duration_ms);
void progress_step_error(struct progress *p, unsigned id, const char *message);
/* A free-standing message ("resolving busybox:latest", "writing image ..."). */
void progress_info(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
