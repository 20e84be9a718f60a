// SPDX-License-Identifier: GPL-2.0
/* disco report: print a recorded session. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "compare.h"
#include "log.h"
#include "out_flame.h"
#include "out_html.h"
#include "out_prom.h"
#include "report.h"

const char usage_report[] =
"usage: disco report [FILE] [--format text|json|html|prometheus|folded] [-e COLLECTORS] [--top N]\n"
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
"\n"
"Examples:\n"
"  disco report                         # text summary of ./disco.data\n"
"  disco report run.data --format json | jq '.collectors.sched.runq_latency.p99_ns'\n"
"  disco report -e sched --top 20 run.data\n"
"  disco report run.data --format html > run.html\n"
"  disco report run.data --format prometheus | promtool check metrics\n"
"  disco report cpu.data --format folded | flamegraph.pl > cpu.svg\n"
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
		compare_render_text(cmp, stdout);
	rc = rc || fflush(stdout) ? EXIT_ERR : EXIT_OK;
out:
	json_decref(cmp);
	json_decref(rep[0]);
	json_decref(rep[1]);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'F' },
		{ "event", required_argument, NULL, 'e' },
		{ "top", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "diff", no_argument, NULL, 'D' },
		{ "intervals", no_argument, NULL, 'I' },
		{ "compare", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts ro = { .top = 10 };
	const char *path = NULL, *format = "text", *only = NULL;
	unsigned long long v;
	char err[256] = "";
	json_t *rep;
	int opt, rc = EXIT_OK;
	bool diff = false, intervals = false, format_given = false, compare = false;

	while ((opt = getopt_long(argc, argv, "i:F:e:v", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			path = optarg;
			break;
		case 'F':
			format = optarg;
			format_given = true;
			break;
		case 'e':
			only = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &v) || v == 0 || v > 100000)
				return usage_error("report", "--top needs a number from 1 to 100000, not '%s'", optarg);
			ro.top = (int)v;
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'D':
			diff = true;
			break;
		case 'I':
			intervals = true;
			break;
		case 'C':
			compare = true;
			break;
		default:
			return usage_error("report", "unknown option");
		}
	}
	if (intervals && (format_given || diff))
		return usage_error("report", "--intervals prints text; the JSON report has them under \"intervals\"");
	if (compare) {
		if (path || diff || intervals || argc - optind != 2)
			return usage_error("report", "--compare needs two session files: BEFORE AFTER");
		return report_compare(argv[optind], argv[optind + 1], format, only, &ro);
	}
	if (diff) {
		if (path || argc - optind != 2)
			return usage_error("report", "--diff needs two session files: BEFORE AFTER");
		return report_diff(argv[optind], argv[optind + 1], format, only, &ro);
	}
	if (optind < argc) {
		if (path || optind + 1 < argc)
			return usage_error("report", "give one session file");
		path = argv[optind];
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html") &&
	    strcmp(format, "prometheus") && strcmp(format, "folded"))
		return usage_error("report", "unknown format '%s' (text, json, html, prometheus or folded)", format);
	rep = report_load(path ?: "disco.data", &ro, err, sizeof(err));
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
	} else if (!strcmp(format, "folded")) {
		const char *name = NULL, *why = "";
		const json_t *col = flame_pick(rep, only && !strchr(only, ',') ? only : NULL, &name, &why);

		if (!col) {
			log_err("%s: --format folded: %s", path ?: "disco.data", why);
			rc = EXIT_ERR;
		} else if (folded_write(col, stdout)) {
			rc = EXIT_ERR;
		}
	} else if (!strcmp(format, "html")) {
		if (html_render(rep, stdout, &ro))
			rc = EXIT_ERR;
	} else if (intervals) {
		report_render_intervals(rep, stdout);
	} else {
		report_render_text(rep, stdout, &ro);
	}
	if (fflush(stdout)) {
		log_err("writing the report failed");
		rc = EXIT_ERR;
	}
	json_decref(rep);
	return rc;
}
