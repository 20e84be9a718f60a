// SPDX-License-Identifier: GPL-2.0
/* disco report: print a recorded session. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "log.h"
#include "out_html.h"
#include "out_prom.h"
#include "report.h"

const char usage_report[] =
"usage: disco report [FILE] [--format text|json|html|prometheus] [-e COLLECTORS] [--top N]\n"
"       disco report [FILE] --intervals [-e COLLECTORS]\n"
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
"  -e, --event LIST      only these collectors (sched,bio,tcp,alloc)\n"
"      --top N           rows per table, per-process series (default 10)\n"
"      --intervals       one timestamped line per collector and interval (the\n"
"                        snapshots: every 2 s, or every `record -i` interval)\n"
"\n"
"Examples:\n"
"  disco report                         # text summary of ./disco.data\n"
"  disco report run.data --format json | jq '.collectors.sched.runq_latency.p99_ns'\n"
"  disco report -e sched --top 20 run.data\n"
"  disco report run.data --format html > run.html\n"
"  disco report run.data --format prometheus | promtool check metrics\n"
"  disco report run.data --intervals -e sched   # replay of record -i\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'F' },
		{ "event", required_argument, NULL, 'e' },
		{ "top", required_argument, NULL, 't' },
		{ "intervals", no_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts ro = { .top = 10 };
	const char *path = NULL, *format = NULL, *only = NULL;
	bool intervals = false;
	unsigned long long v;
	char err[256] = "";
	json_t *rep;
	int opt, rc = EXIT_OK;

	while ((opt = getopt_long(argc, argv, "i:F:e:v", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			path = optarg;
			break;
		case 'F':
			format = optarg;
			break;
		case 'e':
			only = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &v) || v == 0 || v > 100000)
				return usage_error("report", "--top needs a number from 1 to 100000, not '%s'", optarg);
			ro.top = (int)v;
			break;
		case 'I':
			intervals = true;
			break;
		case 'v':
			log_verbosity++;
			break;
		default:
			return usage_error("report", "unknown option");
		}
	}
	if (optind < argc) {
		if (path || optind + 1 < argc)
			return usage_error("report", "give one session file");
		path = argv[optind];
	}
	if (intervals && format)
		return usage_error("report", "--intervals prints text; the JSON report has them under \"intervals\"");
	format = format ?: "text";
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html") &&
	    strcmp(format, "prometheus"))
		return usage_error("report", "unknown format '%s' (text, json, html or prometheus)", format);
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
		struct prom_opts po = { .top = ro.top };

		if (prom_render(rep, stdout, &po))
			rc = EXIT_ERR;
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
