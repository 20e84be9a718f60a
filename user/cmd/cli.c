// SPDX-License-Identifier: GPL-2.0
/* Small command-line helpers shared by every command (in the library so tests link them). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "disco %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'disco %s --help')\n", cmd);
	return EXIT_USAGE;
}

int parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "", 1e9 },
	};
	char *end;
	double v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].mult;
		if (v >= 18e18)
			return -ERANGE;
		*ns = (uint64_t)(v + 0.5);
		return 0;
	}
	return -EINVAL;
}


volatile sig_atomic_t stop_signal;
/* SIGINT's and SIGTERM's dispositions as this process got them */
static struct sigaction inherited_int, inherited_term;
static bool inherited_saved;

void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void stop_signals_caught(int flags)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = flags };

	sigaction(SIGINT, &sa, inherited_saved ? NULL : &inherited_int);
	sigaction(SIGTERM, &sa, inherited_saved ? NULL : &inherited_term);
	inherited_saved = true;
}

void catch_stop_signals(void)
{
	/* no SA_RESTART: a signal must wake the loop's poll or wait */
	stop_signals_caught(0);
}

/*
 * Called first thing: a stop signal while loading and attaching is kept
 * for the loop, which then ends at once with a complete file, instead of
 * killing the process half set up or, when SIGINT came in ignored (a
 * non-interactive shell starts background jobs so), being lost while the
 * recorder runs on. SA_RESTART: setup's system calls carry on.
 */
void catch_stop_signals_early(void)
{
	stop_signals_caught(SA_RESTART);
}

void restore_inherited_stop_signals(void)
{
	if (!inherited_saved)
		return;
	sigaction(SIGINT, &inherited_int, NULL);
	sigaction(SIGTERM, &inherited_term, NULL);
}
