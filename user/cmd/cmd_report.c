// SPDX-License-Identifier: GPL-2.0
/* disco report: print a recorded session. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "compare.h"
#include "log.h"
#include "opts.h"
#include "out_flame.h"
#include "out_html.h"
#include "out_pprof.h"
#include "out_prom.h"
#include "report.h"

const char usage_report[] =
"usage: disco report [FILE] [--format text|json|html|prometheus|folded|pprof] [-e COLLECTORS] [--top N]\n"
"       disco report --diff BEFORE AFTER [--format text|folded|html] [-e COLLECTOR]\n"
"       disco report [FILE] --intervals [-e COLLECTORS]\n"
"       disco report --compare BEFORE AFTER [--format text|json|html] [-e COLLECTORS]\n"
"\n"
"Print the session recorded by `disco record` (default file: disco.data).\n"
"A file cut off by a crash is read up to its last whole block and marked\n"
"incomplete; a corrupted file is an error naming the byte offset.\n"
"\n"
"Options:\n"
"  -i, --input FILE      session file (same as the FILE argument)\n"
"  -F, --format FMT      text (default), json (schema: docs/json-schema.md),\n"
"                        html (one self-contained page with SVG charts) or\n"
"                        prometheus (the text `disco serve` gives on /metrics)\n"
"                        or folded (stacks of -e cpu/offcpu, one \"comm;frame;...\n"
"                        count\" line each: flamegraph.pl, inferno, speedscope)\n"
"                        or pprof (the same stacks as a gzip'd pprof profile for\n"
"                        go tool pprof, Pyroscope, Parca; a file, never a terminal)\n"
"      --diff            compare the stacks of two sessions: text (the stacks\n"
"                        whose share changed most), folded (\"stack before after\",\n"
"                        flamegraph.pl's differential input) or html (a\n"
"                        differential flame graph: red grew, blue shrank)\n"
"  -e, --event LIST      only these collectors (sched,bio,tcp,alloc)\n"
"      --top N           rows per table, per-process series (default 10)\n"
"      --compare         two sessions' percentiles side by side, the change, and\n"
"                        whether it exceeds the noise (95% ranges of each\n"
"                        percentile from the bucket counts do not overlap):\n"
"                        before/after tuning, kernel A vs B (schema disco.compare/1)\n"
"      --intervals       one timestamped line per collector and interval (the\n"
"                        snapshots: every 2 s, or every `record -i` interval)\n"
"  -j, --json            same as --format json\n"
"  -q, --quiet           accepted (report prints only the report)\n"
"  -v, --verbose         more messages\n"
"\n"
"Examples:\n"
"  disco report                         # text summary of ./disco.data\n"
"  disco report run.data --format json | jq '.collectors.sched.runq_latency.p99_ns'\n"
"  disco report -e sched --top 20 run.data\n"
"  disco report run.data --format html > run.html\n"
"  disco report run.data --format prometheus | promtool check metrics\n"
"  disco report cpu.data --format folded | flamegraph.pl > cpu.svg\n"
"  disco report cpu.data --format pprof > cpu.pb.gz && go tool pprof -top cpu.pb.gz\n"
"  disco report --diff before.data after.data --format html > diff.html\n"
"  disco report run.data --intervals -e sched   # replay of record -i\n"
"  disco report --compare before.data after.data -e sched\n";

/* --diff BEFORE AFTER: the stacks of one collector in two sessions. */
static int report_diff(const char *bpath, const char *apath, const char *format,
		       const char *only, const struct report_opts *ro)
{
	const char *paths[2] = { bpath, apath }, *name[2] = { NULL, NULL }, *why = "";
	const json_t *col[2];
	json_t *rep[2] = { NULL, NULL };
	char err[256] = "", title[512];
	int rc = EXIT_ERR;

	if (strcmp(format, "text") && strcmp(format, "folded") && strcmp(format, "html"))
		return usage_error("report", "--diff writes text, folded or html, not '%s'", format);
	for (int i = 0; i < 2; i++) {
		rep[i] = report_load(paths[i], ro, err, sizeof(err));
		if (!rep[i]) {
			log_err("%s: %s", paths[i], err);
			goto out;
		}
		col[i] = flame_pick(rep[i], only, &name[i], &why);
		if (!col[i]) {
			log_err("%s: %s", paths[i], why);
			goto out;
		}
	}
	if (strcmp(name[0], name[1])) {
		log_err("the sessions have stacks of different collectors (%s, %s): choose one with -e",
			name[0], name[1]);
		goto out;
	}
	snprintf(title, sizeof(title), "%s: %s -> %s", name[0], bpath, apath);
	if (!strcmp(format, "folded"))
		rc = folded_diff_write(col[0], col[1], stdout);
	else if (!strcmp(format, "html"))
		rc = flame_diff_html(col[0], col[1], stdout, title);
	else
		rc = flame_diff_text(col[0], col[1], stdout, ro->top);
	rc = rc ? EXIT_ERR : EXIT_OK;
out:
	json_decref(rep[0]);
	json_decref(rep[1]);
	return rc;
}

/* --compare BEFORE AFTER: every distribution of both, side by side. */
static int report_compare(const char *bpath, const char *apath, const char *format,
			  const char *only, const struct report_opts *ro)
{
	const char *paths[2] = { bpath, apath };
	json_t *rep[2] = { NULL, NULL }, *cmp = NULL;
	char err[256] = "";
	int rc = EXIT_ERR;

	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html"))
		return usage_error("report", "--compare writes text, json or html, not '%s'", format);
	for (int i = 0; i < 2; i++) {
		rep[i] = report_load(paths[i], ro, err, sizeof(err));
		if (!rep[i]) {
			log_err("%s: %s", paths[i], err);
			goto out;
		}
		if (report_filter(rep[i], only)) {
			rc = usage_error("report", "bad collector list '%s'", only);
			goto out;
		}
	}
	cmp = compare_reports(rep[0], rep[1]);
	rc = 0;
	if (!strcmp(format, "json"))
		rc = json_dumpf(cmp, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) || fputc('\n', stdout) == EOF;
	else if (!strcmp(format, "html"))
		rc = html_compare_render(cmp, stdout, bpath, apath) != 0;
	else
		rc = compare_render_text(cmp, stdout) != 0;
	rc = rc || fflush(stdout) ? EXIT_ERR : EXIT_OK;
out:
	json_decref(cmp);
	json_decref(rep[0]);
	json_decref(rep[1]);
	return rc;
}

/* --format pprof: col (collector name) of rep, with the session's times. */
static int report_pprof(const json_t *rep, const json_t *col, const char *name, const char *path)
{
	const json_t *sess = json_object_get(rep, "session");
	char comment[512];
	struct pprof_meta m = {
		.time_ns = (int64_t)json_u64(sess, "start_realtime_ns"),
		.duration_ns = (int64_t)json_u64(sess, "duration_ns"),
		.comment = comment,
	};
	int err;

	snprintf(comment, sizeof(comment), "disco %s: -e %s of %s (%s)", DISCO_VERSION, name, path,
		 json_string_value(json_object_get(sess, "hostname")) ?: "?");
	err = pprof_write(col, name, &m, stdout);
	if (err)
		log_err("%s: --format pprof: %s", path, strerror(-err));
	return err;
}

enum { OPT_TOP = 300, OPT_DIFF, OPT_INTERVALS, OPT_COMPARE };

struct report_args {
	const char *path, *format;
	int top;
	bool diff, intervals, format_given, compare;
};

static const struct opt report_rows[] = {
	{ "input", 'i', "FILE", "session file (same as the FILE argument)" },
	{ "format", 'F', "FMT", "text (default), json, html, prometheus, folded or pprof" },
	{ "top", OPT_TOP, "N", "rows per table, per-process series (default 10)" },
	{ "diff", OPT_DIFF, NULL, "BEFORE AFTER: the stacks of one collector in two sessions" },
	{ "compare", OPT_COMPARE, NULL, "BEFORE AFTER: percentiles side by side, beyond the noise or not" },
	{ "intervals", OPT_INTERVALS, NULL, "one timestamped line per collector and interval" },
	{ NULL },
};

static int report_set(void *ctx, int key, const char *val, char *msg, size_t len)
{
	struct report_args *ra = ctx;
	unsigned long long v;

	switch (key) {
	case 'i':
		ra->path = val;
		break;
	case 'F':
		ra->format = val;
		ra->format_given = true;
		break;
	case OPT_DIFF:
		ra->diff = true;
		break;
	case OPT_COMPARE:
		ra->compare = true;
		break;
	case OPT_INTERVALS:
		ra->intervals = true;
		break;
	default:
		if (parse_u64(val, &v) || v == 0 || v > 100000)
			return opt_fail(msg, len, "--top needs a number from 1 to 100000, not '%s'", val);
		ra->top = (int)v;
	}
	return EXIT_OK;
}

const struct opt_cmd opt_cmd_report = {
	.name = "report",
	.common = CO_EVENT,
	.json_means = "same as --format json (schema disco.report/1; --compare: disco.compare/1)",
	.quiet_means = "accepted: report prints only the report",
	.own = report_rows,
	.set = report_set,
};

int cmd_report(int argc, char **argv)
{
	struct report_args ra = { NULL, "text", 10, false, false, false, false };
	struct report_opts ro = { .top = 10 };
	struct common_opts co;
	const char *path, *format, *only;
	char err[256] = "";
	json_t *rep, *d;
	size_t i;
	bool diff, intervals, format_given, compare;
	int rc, first;

	rc = opts_parse(&opt_cmd_report, argc, argv, &co, NULL, &ra, &first);
	if (rc != EXIT_OK)
		return rc;
	/* -j is --format json */
	if (co.json && strcmp(ra.format, "text") && strcmp(ra.format, "json"))
		return usage_error("report", "-j and --format %s: choose one", ra.format);
	path = ra.path;
	format = co.json ? "json" : ra.format;
	format_given = ra.format_given || co.json;
	only = co.events;
	ro.top = ra.top;
	diff = ra.diff;
	intervals = ra.intervals;
	compare = ra.compare;
	if (diff && co.json)
		return usage_error("report", "-j: --diff writes text, folded or html");
	if (intervals && (format_given || diff))
		return usage_error("report", "--intervals prints text; the JSON report has them under \"intervals\"");
	if (compare) {
		if (path || diff || intervals || argc - first != 2)
			return usage_error("report", "--compare needs two session files: BEFORE AFTER");
		return report_compare(argv[first], argv[first + 1], format, only, &ro);
	}
	if (diff) {
		if (path || argc - first != 2)
			return usage_error("report", "--diff needs two session files: BEFORE AFTER");
		return report_diff(argv[first], argv[first + 1], format, only, &ro);
	}
	if (first < argc) {
		if (path || first + 1 < argc)
			return usage_error("report", "give one session file");
		path = argv[first];
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html") &&
	    strcmp(format, "prometheus") && strcmp(format, "folded") && strcmp(format, "pprof"))
		return usage_error("report", "unknown format '%s' (text, json, html, prometheus, folded or pprof)",
				   format);
	if (!strcmp(format, "pprof") && isatty(STDOUT_FILENO))
		return usage_error("report", "--format pprof writes a binary file: redirect it (> cpu.pb.gz)");
	/* a damaged file: the report of what was read, then the damage and exit 1 */
	rep = report_load_partial(path ?: "disco.data", &ro, err, sizeof(err));
	if (!rep) {
		log_err("%s: %s", path ?: "disco.data", err);
		return EXIT_ERR;
	}
	if (report_filter(rep, only)) {
		json_decref(rep);
		return usage_error("report", "bad collector list '%s'", only);
	}
	if (!strcmp(format, "json")) {
		if (json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) || fputc('\n', stdout) == EOF)
			rc = EXIT_ERR;
	} else if (!strcmp(format, "prometheus")) {
		/* one session, offline: per process, the top N */
		struct prom_opts po = { .max_series = ro.top, .per_pid = true };

		if (prom_render(rep, stdout, &po))
			rc = EXIT_ERR;
	} else if (!strcmp(format, "folded") || !strcmp(format, "pprof")) {
		const char *name = NULL, *why = "";
		const json_t *col = flame_pick(rep, only && !strchr(only, ',') ? only : NULL, &name, &why);

		if (!col) {
			log_err("%s: --format %s: %s", path ?: "disco.data", format, why);
			rc = EXIT_ERR;
		} else if (!strcmp(format, "pprof")) {
			if (report_pprof(rep, col, name, path ?: "disco.data"))
				rc = EXIT_ERR;
		} else if (folded_write(col, stdout)) {
			rc = EXIT_ERR;
		}
	} else if (!strcmp(format, "html")) {
		if (html_render(rep, stdout, &ro))
			rc = EXIT_ERR;
	} else if (intervals) {
		if (report_render_intervals(rep, stdout))
			rc = EXIT_ERR;
	} else if (report_render_text(rep, stdout, &ro)) {
		rc = EXIT_ERR;
	}
	if (fflush(stdout)) {
		log_err("writing the report failed");
		rc = EXIT_ERR;
	}
	json_array_foreach(json_object_get(json_object_get(rep, "session"), "damage"), i, d) {
		log_err("%s: %s", path ?: "disco.data", json_string_value(d) ?: "damaged");
		rc = EXIT_ERR;
	}
	json_decref(rep);
	return rc;
}
