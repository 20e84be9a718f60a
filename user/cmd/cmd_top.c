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
"Keys: q quit; s next sort (total, count, p99, max), < and > the previous\n"
"or next; p pause (the figures keep counting); / filter the rows by name\n"
"(Enter applies, empty clears, Esc cancels); h show or hide disco's own\n"
"processes (hidden at first). Values from 1 ms are yellow, from 10 ms red,\n"
"unless NO_COLOR is set. Columns that do not fit the terminal are left out\n"
"whole: first the since-start group, then the rows' columns.\n"
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

static int term_cols(void)
{
	struct winsize ws = { 0 };

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_col ? 0 : ws.ws_col;
}

/*
 * A frame clipped to the terminal's rows, so the header never scrolls
 * away, and to its columns as a last resort (the frame is laid out for
 * them): escape sequences (colour, clear screen) take no column.
 */
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
		const char *nl = memchr(p, '\n', end - p), *q = p;
		const char *stop = nl ? nl : end;
		size_t shown = 0;

		while (q < stop) {
			if (*q == '\033') {
				const char *e = q + 1;

				/* CSI: ESC [ parameters final-byte */
				if (e < stop && *e == '[')
					for (e++; e < stop && !(*e >= 0x40 && *e <= 0x7e); e++)
						;
				e = e < stop ? e + 1 : stop;
				fwrite(q, 1, e - q, stdout);
				q = e;
				continue;
			}
			if (shown < cols)
				fputc(*q, stdout);
			shown++;
			q++;
		}
		if (++row < rows && nl)
			fputc('\n', stdout);
		p = nl ? nl + 1 : end;
	}
	fputs("\033[0m", stdout);
}

/* What a key does to the view; true when the frame should be drawn again. */
static bool on_key(char ch, struct top_opts *to, char *filter, size_t flen, bool *editing,
		   char *status, size_t slen, bool *quit)
{
	size_t n = strlen(filter);

	if (*editing) {
		if (ch == '\n' || ch == '\r') {
			*editing = false;
			to->filter = filter;
			to->status = NULL;
		} else if (ch == 27) {	/* Esc */
			*editing = false;
			filter[0] = 0;
			to->filter = NULL;
			to->status = NULL;
		} else if ((ch == 127 || ch == 8) && n) {
			filter[n - 1] = 0;
		} else if (ch >= 0x20 && ch < 0x7f && n + 1 < flen) {
			filter[n] = ch;
			filter[n + 1] = 0;
		}
		if (*editing) {
			snprintf(status, slen, "filter (Enter applies, Esc cancels): %s_", filter);
			to->status = status;
		}
		return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		*quit = true;
		return false;
	case 's':
	case '>':
		to->sort = (to->sort + 1) % TOP_NSORT;
		return true;
	case '<':
		to->sort = (to->sort + TOP_NSORT - 1) % TOP_NSORT;
		return true;
	case 'p':
	case 'P':
		to->paused = !to->paused;
		return true;
	case 'h':
	case 'H':
		to->show_self = !to->show_self;
		return true;
	case '/':
		*editing = true;
		filter[0] = 0;
		to->filter = NULL;
		snprintf(status, slen, "filter (Enter applies, Esc cancels): _");
		to->status = status;
		return true;
	default:
		return false;
	}
}



static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void draw(const json_t *prev, const json_t *cur, const struct top_opts *to)
{
	char *frame = NULL;
	size_t flen = 0;
	FILE *f = open_memstream(&frame, &flen);

	if (f) {
		top_render(f, prev, cur, to);
		if (!fclose(f))
			show_clipped(frame, flen);
	}
	free(frame);
	fflush(stdout);
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

/* The operands INTERVAL [COUNT] (top runs no COMMAND): into a->interval_ns and *count. */
static int top_operands(struct record_args *a, unsigned long long *count)
{
	for (int i = 0; i < a->cmd_argc; i++) {
		const char *w = a->cmd_argv[i];

		if (w[0] < '0' || w[0] > '9' || i > 1)
			return usage_error("top", "top does not run a COMMAND; use -p PID (operands: INTERVAL COUNT)");
	}
	if (a->cmd_argc > 0) {
		const char *bare_interval = a->cmd_argv[0];
		uint64_t v;

		if (a->interval_ns)
			return usage_error("top", "give the interval once: -i or a bare number");
		if (parse_duration(bare_interval, &v) || v < 100000000ULL)
			return usage_error("top", "the interval needs at least 100ms (1, 500ms), not '%s'",
					   bare_interval);
		a->interval_ns = v;
	}
	if (a->cmd_argc > 1) {
		unsigned long long v;

		if (parse_u64(a->cmd_argv[1], &v) || v == 0)
			return usage_error("top", "-n needs a positive number, not '%s'", a->cmd_argv[1]);
		*count = v;
	}
	return EXIT_OK;
}

/* Keys without Enter; ISIG stays on so Ctrl-C is a signal. true when *saved must be restored. */
static bool keys_raw(struct termios *saved)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved))
		return false;
	raw = *saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	/* a stopped top would leave the terminal raw: Ctrl-Z is off while it runs */
	raw.c_cc[VSUSP] = _POSIX_VDISABLE;
	return !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

/*
 * One frame from the snapshots prev and cur: a JSON line, the screen
 * (kept in *shown_* for keys to redraw; not while paused), or a plain
 * snapshot. EXIT_ERR when the JSON line could not be written.
 */
static int show_frame(json_t *prev, json_t *cur, struct top_opts *to, bool json,
		      unsigned long long frame, json_t **shown_prev, json_t **shown_cur)
{
	int rc = EXIT_OK;

	if (json) {
		json_t *line = top_json_line(prev, cur, to->realtime_ns);

		if (json_dumpf(line, stdout, JSON_COMPACT) || putchar('\n') == EOF)
			rc = EXIT_ERR;
		json_decref(line);
	} else if (to->tty) {
		/* paused: the screen stays, the figures go on counting */
		if (!to->paused) {
			json_decref(*shown_prev);
			json_decref(*shown_cur);
			*shown_prev = json_incref(prev);
			*shown_cur = json_incref(cur);
			draw(prev, cur, to);
		}
	} else {
		printf("--- snapshot %llu\n", frame);
		top_render(stdout, prev, cur, to);
		putchar('\n');
	}
	return rc;
}

int cmd_top(int argc, char **argv)
{
	struct record_args a;
	struct recorder *r;
	struct top_opts to = { .rows = 5, .tty = isatty(STDOUT_FILENO), .self_pid = getpid() };
	char filter[64] = "", status[128];
	bool editing = false, quit = false;
	struct sigaction sa = { .sa_handler = on_stop_signal };	/* no SA_RESTART: wake the poll */
	struct termios saved;
	bool keys = false, json = false;
	unsigned long long count = 0, frames = 0;
	uint64_t start, last, period;
	json_t *prev, *cur, *shown_prev = NULL, *shown_cur = NULL;
	int rc = EXIT_OK, err;

	rc = record_parse_args(argc, argv, &opt_cmd_top, &a, &to.rows);
	if (rc != EXIT_OK)
		return rc;
	json = a.json;
	count = a.count;
	rc = top_operands(&a, &count);
	if (rc != EXIT_OK)
		goto out_release;
	period = a.interval_ns ?: 1000000000ULL;
	if (json)
		to.tty = false;
	/* https://no-color.org: set and not empty */
	to.colour = to.tty && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	r = recorder_start(a.mask, &a.o, NULL, false, argc, argv);
	if (!r) {
		rc = EXIT_ERR;
		goto out_release;
	}
	caps_drop_after_attach(false);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	keys = to.tty && keys_raw(&saved);
	if (to.tty)	/* own screen, no cursor */
		fputs("\033[?1049h\033[?25l\033[H\033[Jdisco top: collecting, first figures in a second (q quits)",
		      stdout);
	else if (!a.quiet)
		fprintf(stderr, "disco: collecting; one %s every %.1f s\n", json ? "JSON line" : "snapshot",
			period / 1e9);
	prev = recorder_collect_live(r);
	start = last = mono_ns();
	while (!stop_signal) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		bool redraw = false;
		char ch;

		err = recorder_poll(r, 100);
		if (err < 0 && err != -EINTR) {
			log_err("reading the collectors' events failed: %s", strerror(-err));
			rc = EXIT_ERR;
			break;
		}
		while (keys && poll(&pfd, 1, 0) == 1 && read(STDIN_FILENO, &ch, 1) == 1)
			redraw |= on_key(ch, &to, filter, sizeof(filter), &editing, status, sizeof(status),
					 &quit);
		if (quit)
			break;
		/* a key shows its effect at once, on the figures of the last frame */
		if (redraw && shown_prev && shown_cur)
			draw(shown_prev, shown_cur, &to);
		if (mono_ns() - last < period)
			continue;
		last = mono_ns();
		cur = recorder_collect_live(r);
		to.realtime_ns = real_ns();
		to.width = to.tty ? term_cols() : 0;
		if (show_frame(prev, cur, &to, json, frames + 1, &shown_prev, &shown_cur))
			rc = EXIT_ERR;
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
	json_decref(shown_prev);
	json_decref(shown_cur);
	if (to.tty) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
	}
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	recorder_stop(r, NULL);
out_release:
	rec_opts_release(&a.o);
	return rc;
}
