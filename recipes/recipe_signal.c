#include "recipes/recipe_signal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oci/banned.h"

#define SIGNAL_RTMIN 34
#define SIGNAL_RTMAX 64

/* Linux numbers (asm-generic: amd64 and arm64 agree), not the host's
 * <signal.h>, because the image runs on the target. */
static const struct {
	const char *name;
	int num;
} signal_names[] = {
    {"HUP", 1},
    {"INT", 2},
    {"QUIT", 3},
    {"ILL", 4},
    {"TRAP", 5},
    {"ABRT", 6},
    {"IOT", 6},
    {"BUS", 7},
    {"FPE", 8},
    {"KILL", 9},
    {"USR1", 10},
    {"SEGV", 11},
    {"USR2", 12},
    {"PIPE", 13},
    {"ALRM", 14},
    {"TERM", 15},
    {"STKFLT", 16},
    {"CHLD", 17},
    {"CONT", 18},
    {"STOP", 19},
    {"TSTP", 20},
    {"TTIN", 21},
    {"TTOU", 22},
    {"URG", 23},
    {"XCPU", 24},
    {"XFSZ", 25},
    {"VTALRM", 26},
    {"PROF", 27},
    {"WINCH", 28},
    {"IO", 29},
    {"POLL", 29},
    {"PWR", 30},
    {"SYS", 31},
    {"RTMIN", SIGNAL_RTMIN},
    {"RTMAX", SIGNAL_RTMAX},
};

static int signal_invalid(const char *s, struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EINVAL, 0,
			     "invalid signal '%s' (use a name like \"SIGTERM\" or a number 1-%d)", s,
			     SIGNAL_RTMAX);
}

/* A decimal number 0..999 filling all of p. */
static int signal_small_number(const char *p, int *out)
{
	char *end;
	long v;

	if (*p < '0' || *p > '9' || strlen(p) > 3)
		return -1;
	v = strtol(p, &end, 10);
	if (*end)
		return -1;
	*out = (int)v;
	return 0;
}

static int signal_by_name(const char *name, int *num)
{
	for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
		if (!strcasecmp(name, signal_names[i].name)) {
			*num = signal_names[i].num;
			return 0;
		}
	}
	/* RTMIN+n and RTMAX-n */
	if (!strncasecmp(name, "RTMIN+", 6) || !strncasecmp(name, "RTMAX-", 6)) {
		int n, v;
		if (signal_small_number(name + 6, &n) < 0)
			return -1;
		v = name[3] == 'I' || name[3] == 'i' ? SIGNAL_RTMIN + n : SIGNAL_RTMAX - n;
		if (v < SIGNAL_RTMIN || v > SIGNAL_RTMAX)
			return -1;
		*num = v;
		return 0;
	}
	return -1;
}

int recipe_signal_parse(const char *s, int *signum, char *canon, size_t canon_size, struct ocb_error *err)
{
	const char *name = s;
	int num;

	if (signal_small_number(s, &num) == 0) {
		if (num < 1 || num > SIGNAL_RTMAX)
			return signal_invalid(s, err);
		if (canon)
			snprintf(canon, canon_size, "%d", num);
		*signum = num;
		return 0;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	if (signal_by_name(name, &num) < 0)
		return signal_invalid(s, err);
	if (canon) {
		size_t i;
		int n = snprintf(canon, canon_size, "SIG%s", name);
		for (i = 3; n > 0 && i < (size_t)n && i < canon_size; i++)
			canon[i] = (char)(canon[i] >= 'a' && canon[i] <= 'z' ? canon[i] - 32 : canon[i]);
	}
	*signum = num;
	return 0;
}
