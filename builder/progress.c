#include "builder/progress.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci/cleanup.h"
#include "oci/banned.h"

#define PROGRESS_MAX_LIVE 64
#define PROGRESS_TICK_MS  250

struct progress_live {
	unsigned id;
	int64_t start_ms;
	char *label; /* "[stage 2/4] RUN make" */
	char *last;  /* the last output line, or NULL */
};

struct progress {
	enum progress_mode mode;
	FILE *out;
	pthread_mutex_t lock;
	unsigned next_id;
	int64_t t0;
	struct progress_live live[PROGRESS_MAX_LIVE];
	size_t n_live;
	size_t drawn; /* live lines currently on the terminal (tty) */
	pthread_t ticker;
	bool ticking, stop;
	pthread_cond_t cond;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int progress_mode_parse(const char *s, enum progress_mode *out, struct ocb_error *err)
{
	static const struct {
		const char *name;
		enum progress_mode mode;
	} modes[] = {{"auto", PROGRESS_AUTO},
		     {"plain", PROGRESS_PLAIN},
		     {"tty", PROGRESS_TTY},
		     {"json", PROGRESS_JSON}};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(s, modes[i].name)) {
			*out = modes[i].mode;
			return 0;
		}
	}
	return ocb_error_set(err, OCB_EINVAL, 0, "--progress '%s': expected auto, plain, tty or json", s);
}

static struct progress_live *live_find(struct progress *p, unsigned id)
{
	for (size_t i = 0; i < p->n_live; i++)
		if (p->live[i].id == id)
			return &p->live[i];
	return NULL;
}

static void live_remove(struct progress *p, unsigned id)
{
	struct progress_live *l = live_find(p, id);

	if (!l)
		return;
	free(l->label);
	free(l->last);
	*l = p->live[--p->n_live];
}

/* tty: erase the live lines drawn last time (cursor back up over them). */
static void tty_erase(struct progress *p)
{
	if (p->mode != PROGRESS_TTY || !p->drawn)
		return;
	fprintf(p->out, "\r\033[%zuA\033[J", p->drawn);
	p->drawn = 0;
}

static void tty_draw(struct progress *p)
{
	int64_t now = now_ms();

	if (p->mode != PROGRESS_TTY)
		return;
	for (size_t i = 0; i < p->n_live; i++) {
		const struct progress_live *l = &p->live[i];
		fprintf(p->out, "\033[1m=> #%u %s %.1fs\033[0m", l->id, l->label,
			(double)(now - l->start_ms) / 1000.0);
		if (l->last)
			fprintf(p->out, "  \033[2m%.80s\033[0m", l->last);
		fputs("\033[K\n", p->out);
		p->drawn++;
	}
	fflush(p->out);
}

static void *ticker_main(void *arg)
{
	struct progress *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PROGRESS_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (p->n_live) {
			tty_erase(p);
			tty_draw(p);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int progress_new(struct progress **out, enum progress_mode mode, FILE *stream, struct ocb_error *err)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	if (mode == PROGRESS_AUTO)
		mode = isatty(fileno(stream)) ? PROGRESS_TTY : PROGRESS_PLAIN;
	p->mode = mode;
	p->out = stream;
	p->t0 = now_ms();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (mode == PROGRESS_TTY && pthread_create(&p->ticker, NULL, ticker_main, p) == 0)
		p->ticking = true;
	*out = p;
	return 0;
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	if (p->ticking) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->ticker, NULL);
	}
	tty_erase(p);
	while (p->n_live)
		live_remove(p, p->live[0].id);
	fflush(p->out);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* One JSON event line (caller holds the lock); takes ownership of o. */
static void emit_json(struct progress *p, json_t *o)
{
	char *s;

	if (!o)
		return;
	json_object_set_new(o, "time_ms", json_integer(now_ms() - p->t0));
	s = json_dumps(o, JSON_COMPACT);
	if (s) {
		fprintf(p->out, "%s\n", s);
		free(s);
	}
	json_decref(o);
	fflush(p->out);
}

/* A permanent line: above the live area on a tty. */
static void emit_line(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit_line(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	tty_erase(p);
	va_start(ap, fmt);
	vfprintf(p->out, fmt, ap);
	va_end(ap);
	fputc('\n', p->out);
	tty_draw(p);
	fflush(p->out);
}

unsigned progress_step_start(struct progress *p, const char *stage, size_t index, size_t total,
			     const char *name)
{
	cleanup_free char *label = NULL;
	unsigned id;

	if (asprintf(&label, "[%s %zu/%zu] %s", stage, index + 1, total, name) < 0)
		label = NULL;
	pthread_mutex_lock(&p->lock);
	id = ++p->next_id;
	if (p->mode == PROGRESS_JSON) {
		emit_json(p, json_pack("{s:I, s:s, s:s, s:I, s:I, s:s}", "id", (json_int_t)id, "event",
				       "start", "stage", stage, "step", (json_int_t)index + 1, "total",
				       (json_int_t)total, "name", name));
	} else {
		emit_line(p, "#%u %s", id, label ? label : name);
		if (p->mode == PROGRESS_TTY && p->n_live < PROGRESS_MAX_LIVE && label) {
			struct progress_live *l = &p->live[p->n_live++];
			*l = (struct progress_live){
			    .id = id, .start_ms = now_ms(), .label = steal_pointer(&label)};
			tty_erase(p);
			tty_draw(p);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return id;
}

void progress_step_line(struct progress *p, unsigned id, const char *line)
{
	struct progress_live *l;

	pthread_mutex_lock(&p->lock);
	if (p->mode == PROGRESS_JSON) {
		emit_json(
		    p, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "event", "output", "line", line));
	} else if (p->mode == PROGRESS_TTY && (l = live_find(p, id))) {
		/* Like BuildKit: the output scrolls above, the live line shows the latest. */
		free(l->last);
		l->last = strdup(line);
		emit_line(p, "#%u %s", id, line);
	} else {
		emit_line(p, "#%u %.3f %s", id, (double)(now_ms() - p->t0) / 1000.0, line);
	}
	pthread_mutex_unlock(&p->lock);
}

static void step_end(struct progress *p, unsigned id, const char *event, const char *text, int64_t ms)
{
	pthread_mutex_lock(&p->lock);
	live_remove(p, id);
	if (p->mode == PROGRESS_JSON) {
		json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "event", event);
		if (o && ms >= 0)
			json_object_set_new(o, "duration_ms", json_integer(ms));
		if (o && text)
			json_object_set_new(o, "message", json_string(text));
		emit_json(p, o);
	} else if (ms >= 0) {
		emit_line(p, "#%u DONE %.1fs", id, (double)ms / 1000.0);
	} else {
		emit_line(p, "#%u %s", id, text);
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_step_cached(struct progress *p, unsigned id)
{
	step_end(p, id, "cached", "CACHED", -1);
}

void progress_step_done(struct progress *p, unsigned id, int64_t duration_ms)
{
	step_end(p, id, "done", NULL, duration_ms < 0 ? 0 : duration_ms);
}

void progress_step_error(struct progress *p, unsigned id, const char *message)
{
	cleanup_free char *text = NULL;

	if (p->mode == PROGRESS_JSON) {
		step_end(p, id, "error", message, -1);
		return;
	}
	if (asprintf(&text, "ERROR: %s", message) < 0)
		text = NULL;
	step_end(p, id, "error", text ? text : "ERROR", -1);
}

void progress_info(struct progress *p, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->mode == PROGRESS_JSON)
		emit_json(p, json_pack("{s:s, s:s}", "event", "info", "message", msg));
	else
		emit_line(p, "%s", msg);
	pthread_mutex_unlock(&p->lock);
}
