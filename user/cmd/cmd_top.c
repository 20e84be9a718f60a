// SPDX-License-Identifier: GPL-2.0
/* disco top: live terminal view of the collectors, one frame per second. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "caps.h"
#include "cmd.h"
#include "log.h"
#include "opts.h"
#include "out_top.h"
#include "record_opts.h"
#include "recorder.h"
#include "clock.h"

const char usage_top[] =
"usage: disco top [-e LIST] [-p PID]... [--cgroup PATH] [--comm NAME]\n"
"                 [-d SECS] [-i SECS] [-n COUNT] [--top N] [--json] [INTERVAL [COUNT]]\n"
"\n"
"Live view, refreshed every second: per collector the last second's rate,\n"
"p50, p99 and max next to the totals since start, counter rates, and the\n"
"processes (disks, ...) that suffered most in the last second. Quit with q\n"
"or Ctrl-C (Ctrl-Z is disabled while it runs). When standard output is not\n"
"a terminal, one plain snapshot is printed per second instead (for scripts\n"
"and logs). Needs root.\n"
"\n"
"Options:\n"
"  -e, --event LIST        collectors (default: the default ones, see `disco check`)\n"
"  -p, --pid PID           only this process (repeatable)\n"
"      --cgroup PATH       only tasks in this cgroup v2 directory\n"
"      --comm NAME         only tasks with this command name\n"
"      --min-latency TIME  outlier threshold (default 10ms)\n"
"  -d, --duration TIME     stop after TIME\n"
"  -i, --interval TIME     refresh every TIME (default 1 s; also the first\n"
"                          bare number, as in `disco top 2 5`)\n"
"  -n, --count COUNT       stop after COUNT snapshots (also the second number)\n"
"  -j, --json              one JSON object per interval and line (NDJSON,\n"
"                          schema disco.top/1) with its wall-clock time\n"
"      --top N             rows per table of worst processes (default 5)\n"
"  -q, --quiet             no \"collecting\" line when stdout is not a terminal\n"
"  -v, --verbose           more messages\n"
"\n"
"Examples:\n"
"  sudo disco top                      # everything, until q\n"
"  sudo disco top -e sched -p 1234\n"
"  sudo disco top -e sched -n 5 > top.log\n"
"  sudo disco top --json 2 10 | jq -c '.collectors.sched.dists.runq_latency.p99_ns'\n";

/* A frame clipped to the terminal, so the header never scrolls away. */
static void show_clipped(const char *frame, size_t len)
{
	struct winsize ws = { 0 };
	size_t rows, cols, row = 0;
	const char *p = frame, *end = frame + len;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_row || !ws.ws_col) {
		fwrite(frame, 1, len, stdout);
		return;
	}
	rows = ws.ws_row;
	cols = ws.ws_col;
	while (p < end && row < rows) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* the frame starts with the clear-screen sequence: not a column */
		size_t skip = p == frame && !strncmp(p, "\033[H\033[J", 6) ? 6 : 0;

		fwrite(p, 1, n < cols + skip ? n : cols + skip, stdout);
		if (++row < rows && nl)
			fputc('\n', stdout);
		p = nl ? nl + 1 : end;
	}
}



enum { OPT_TOP = 300 };

static const struct opt top_rows[] = {
	{ "top", OPT_TOP, "N", "rows per table of worst processes (default 5)" },
	{ NULL },
};

static int top_set(void *ctx, int key, const char *val, char *msg, size_t len)
{
	int *rows = ctx;
	unsigned long long v;

	(void)key;
	if (parse_u64(val, &v) || v == 0 || v > 1000)
		return opt_fail(msg, len, "--top needs a positive number up to 1000, not '%s'", val);
	*rows = (int)v;
	return EXIT_OK;
}

/* Bare numbers are INTERVAL and COUNT, as vmstat and runqlat take them. */
const struct opt_cmd opt_cmd_top = {
	.name = "top",
	.common = CO_PID | CO_EVENT | CO_DURATION,
	.json_means = "one JSON object per interval and line (NDJSON, schema disco.top/1)",
	.quiet_means = "no \"collecting\" line",
	.own = top_rows,
	.colopts = true,
	.set = top_set,
};

int cmd_top(int argc, char **argv)
{
	struct record_args a;
	struct recorder *r;
	struct top_opts to = { .rows = 5, .tty = isatty(STDOUT_FILENO) };
	struct sigaction sa = { .sa_handler = on_stop_signal };	/* no SA_RESTART: wake the poll */
	struct termios saved, raw;
	bool keys = false, json = false;
	const char *bare_interval = NULL;
	unsigned long long count = 0, frames = 0;
	uint64_t start, last, period;
	json_t *prev, *cur;
	int rc = EXIT_OK, err;

	rc = record_parse_args(argc, argv, &opt_cmd_top, &a, &to.rows);
	if (rc != EXIT_OK)
		return rc;
	json = a.json;
	count = a.count;
	for (int i = 0; i < a.cmd_argc; i++) {
		const char *w = a.cmd_argv[i];

		if (w[0] < '0' || w[0] > '9' || i > 1)
			return usage_error("top", "top does not run a COMMAND; use -p PID (operands: INTERVAL COUNT)");
	}
	if (a.cmd_argc > 0) {
		uint64_t v;

		bare_interval = a.cmd_argv[0];
		if (a.interval_ns)
			return usage_error("top", "give the interval once: -i or a bare number");
		if (parse_duration(bare_interval, &v) || v < 100000000ULL)
			return usage_error("top", "the interval needs at least 100ms (1, 500ms), not '%s'",
					   bare_interval);
		a.interval_ns = v;
	}
	if (a.cmd_argc > 1) {
		unsigned long long v;

		if (parse_u64(a.cmd_argv[1], &v) || v == 0)
			return usage_error("top", "-n needs a positive number, not '%s'", a.cmd_argv[1]);
		count = v;
	}
	period = a.interval_ns ?: 1000000000ULL;
	if (json)
		to.tty = false;
	r = recorder_start(a.mask, &a.o, NULL, false, argc, argv);
	if (!r)
		return EXIT_ERR;
	caps_drop_after_attach(false);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* keys without Enter; ISIG stays on so Ctrl-C is a signal, handled below */
	if (to.tty && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		/* a stopped top would leave the terminal raw: Ctrl-Z is off while it runs */
		raw.c_cc[VSUSP] = _POSIX_VDISABLE;
		keys = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	if (to.tty)	/* own screen, no cursor */
		fputs("\033[?1049h\033[?25l\033[H\033[Jdisco top: collecting, first figures in a second (q quits)",
		      stdout);
	else if (!a.quiet)
		fprintf(stderr, "disco: collecting; one %s every %.1f s\n", json ? "JSON line" : "snapshot",
			period / 1e9);
	prev = recorder_collect(r);
	start = last = mono_ns();
	while (!stop_signal) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		char ch;

		err = recorder_poll(r, 100);
		if (err < 0 && err != -EINTR) {
			log_err("reading the collectors' events failed: %s", strerror(-err));
			rc = EXIT_ERR;
			break;
		}
		if (keys && poll(&pfd, 1, 0) == 1 && read(STDIN_FILENO, &ch, 1) == 1 &&
		    (ch == 'q' || ch == 'Q'))
			break;
		if (mono_ns() - last < period)
			continue;
		last = mono_ns();
		cur = recorder_collect(r);
		if (json) {
			struct timespec ts;
			json_t *line;

			clock_gettime(CLOCK_REALTIME, &ts);
			line = top_json_line(prev, cur, (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec);

			if (json_dumpf(line, stdout, JSON_COMPACT) || putchar('\n') == EOF)
				rc = EXIT_ERR;
			json_decref(line);
		} else if (to.tty) {
			char *frame = NULL;
			size_t flen = 0;
			FILE *f = open_memstream(&frame, &flen);

			if (f) {
				top_render(f, prev, cur, &to);
				if (!fclose(f))
					show_clipped(frame, flen);
			}
			free(frame);
		} else {
			printf("--- snapshot %llu\n", frames + 1);
			top_render(stdout, prev, cur, &to);
			putchar('\n');
		}
		if (fflush(stdout)) {
			json_decref(cur);
			break;	/* reader went away */
		}
		json_decref(prev);
		prev = cur;
		if (count && ++frames >= count)
			break;
		if (a.duration_ns && last - start >= a.duration_ns)
			break;
	}
	json_decref(prev);
	if (to.tty) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
	}
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	recorder_stop(r, NULL);
	rec_opts_release(&a.o);
	return rc;
}
