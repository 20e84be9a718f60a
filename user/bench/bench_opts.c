// SPDX-License-Identifier: GPL-2.0
/* disco bench command line: parsed into struct bench_opts, no side effects. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "cmd.h"
#include "opts.h"

static int arg_error(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int arg_error(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_workloads(const char *list, unsigned int *mask, char *err, size_t len)
{
	char have[256];
	const char *p = list;

	bench_workload_names(BENCH_WL_ALL, ", ", have, sizeof(have));
	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		char name[BENCH_NAME_MAX];
		unsigned int bit;

		if (!n)
			return arg_error(err, len, "empty workload name in --workload '%s'", list);
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		bit = n < sizeof(name) ? bench_workload_bit(name) : 0;
		if (!bit)
			return arg_error(err, len, "unknown workload '%.*s' in --workload (have: %s)",
					 (int)(n > 32 ? 32 : n), p, have);
		*mask |= bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*mask)
		return arg_error(err, len, "--workload needs at least one of %s", have);
	return 0;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

enum {
	OPT_BASELINE = 256, OPT_MAX_REGRESS, OPT_DIR, OPT_DEVICE,
	OPT_FILE_SIZE, OPT_OVERHEAD, OPT_NO_LATENCY, OPT_COMPARE,
};

static const struct opt bench_rows[] = {
	{ "workload", 'w', "LIST", "comma-separated subset of the workloads `disco bench --help` lists (default: all)" },
	{ "repeat", 'r', "N", "runs per figure, interleaved across figures (default 5)" },
	{ "baseline", OPT_BASELINE, "FILE", "compare with an earlier result; exit 3 on a regression" },
	{ "max-regress", OPT_MAX_REGRESS, "PCT", "threshold for --baseline in percent (default 10)" },
	{ "compare", OPT_COMPARE, "FILE", "do not run: compare FILE with --baseline" },
	{ "dir", OPT_DIR, "DIR", "where the io file goes (default /var/tmp)" },
	{ "device", OPT_DEVICE, "DEV", "run io on a block device: ITS DATA IS OVERWRITTEN" },
	{ "file-size", OPT_FILE_SIZE, "MIB", "size of the io file (default 64)" },
	{ "overhead", OPT_OVERHEAD, NULL, "each figure without and with its collector" },
	{ "no-latency", OPT_NO_LATENCY, NULL, "throughput only, no collectors" },
	{ NULL },
};

static int bench_set(void *ctx, int key, const char *val, char *err, size_t errlen)
{
	struct bench_opts *o = ctx;
	unsigned long long v;
	char *end;

	switch (key) {
	case 'w':
		if (parse_workloads(val, &o->workloads, err, errlen))
			return EXIT_USAGE;
		break;
	case 'r':
		if (parse_uint(val, BENCH_MAX_REPEAT, &v) || !v)
			return opt_fail(err, errlen, "--repeat '%s' is not a count in 1..%d",
					val, BENCH_MAX_REPEAT);
		o->repeat = (unsigned int)v;
		break;
	case OPT_BASELINE:
		o->baseline_path = val;
		break;
	case OPT_COMPARE:
		o->compare_path = val;
		break;
	case OPT_MAX_REGRESS:
		errno = 0;
		o->max_regress_pct = strtod(val, &end);
		if (errno || end == val || *end || !isfinite(o->max_regress_pct) ||
		    o->max_regress_pct < 0 || o->max_regress_pct > 1000)
			return opt_fail(err, errlen, "--max-regress '%s' is not a percentage in 0..1000",
					val);
		o->max_regress_set = true;
		break;
	case OPT_DIR:
		o->dir = val;
		break;
	case OPT_DEVICE:
		o->device = val;
		break;
	case OPT_FILE_SIZE:
		if (parse_uint(val, 1 << 20, &v) || !v)
			return opt_fail(err, errlen, "--file-size '%s' is not a size in MiB (1..1048576)",
					val);
		o->file_bytes = (uint64_t)v << 20;
		break;
	case OPT_OVERHEAD:
		o->overhead = true;
		break;
	case OPT_NO_LATENCY:
		o->no_latency = true;
		break;
	}
	return EXIT_OK;
}

const struct opt_cmd opt_cmd_bench = {
	.name = "bench",
	.common = CO_OUTPUT | CO_DURATION,
	.json_means = "the result as JSON (schema disco.bench/1) on stdout; tables go to stderr",
	.quiet_means = "no progress lines and no tables",
	.output_means = "write the JSON result to FILE (the old spelling --json FILE still works)",
	.own = bench_rows,
	.set = bench_set,
};

#define BENCH_MAX_ARGS 256

/*
 * The spelling of one release ago, kept working: "--json FILE",
 * "--json=FILE", "-j FILE" wrote the result to FILE ("-": stdout). Bench
 * takes no operands, so a word after -j/--json can only be that FILE.
 * Rewritten into argv2 as "-o FILE" (or "-j" for "-").
 */
static int old_json_spelling(int argc, char **argv, char **argv2, struct bench_opts *o)
{
	int n = 0;

	for (int i = 0; i < argc && n < BENCH_MAX_ARGS - 2; i++) {
		const char *a = argv[i], *file = NULL;

		if (!strcmp(a, "--")) {
			while (i < argc && n < BENCH_MAX_ARGS - 1)
				argv2[n++] = argv[i++];
			break;
		}
		if ((!strcmp(a, "--json") || !strcmp(a, "-j")) && i + 1 < argc &&
		    argv[i + 1][0] && (argv[i + 1][0] != '-' || !strcmp(argv[i + 1], "-")))
			file = argv[++i];
		else if (!strncmp(a, "--json=", 7))
			file = a + 7;
		if (!file) {
			argv2[n++] = argv[i];
			continue;
		}
		o->old_json_spelling = true;
		if (!strcmp(file, "-")) {
			argv2[n++] = "-j";
		} else {
			argv2[n++] = "-o";
			argv2[n++] = (char *)file;
		}
	}
	argv2[n] = NULL;
	return n;
}

int bench_parse_args(int argc, char **argv, struct bench_opts *o,
		     char *err, size_t errlen)
{
	char *argv2[BENCH_MAX_ARGS];
	struct common_opts co;
	int argc2, first;

	memset(o, 0, sizeof(*o));
	o->workloads = BENCH_WL_ALL;
	o->duration_ns = BENCH_DEFAULT_DURATION_NS;
	o->repeat = BENCH_DEFAULT_REPEAT;
	o->max_regress_pct = BENCH_DEFAULT_REGRESS_PCT;
	o->file_bytes = (uint64_t)BENCH_DEFAULT_FILE_MIB << 20;
	err[0] = 0;
	if (argc >= BENCH_MAX_ARGS)
		return arg_error(err, errlen, "too many arguments");
	argc2 = old_json_spelling(argc, argv, argv2, o);
	if (opts_parse_quiet(&opt_cmd_bench, argc2, argv2, &co, NULL, o, &first)) {
		snprintf(err, errlen, "%s", co.msg);
		return -EINVAL;
	}
	if (first < argc2)
		return arg_error(err, errlen, "unexpected argument '%s'", argv2[first]);
	if (co.duration_set) {
		if (co.duration_ns < 100000000ULL || co.duration_ns > 3600000000000ULL)
			return arg_error(err, errlen,
					 "-d %.3gs is not a duration between 100ms and 1h (e.g. 5, 0.5, 500ms)",
					 co.duration_ns / 1e9);
		o->duration_ns = co.duration_ns;
	}
	o->json_stdout = co.json;
	o->json_path = co.output;
	o->quiet = co.quiet;
	if (o->max_regress_set && !o->baseline_path)
		return arg_error(err, errlen, "--max-regress needs --baseline FILE");
	if (o->compare_path && !o->baseline_path)
		return arg_error(err, errlen, "--compare FILE needs --baseline FILE");
	if (o->compare_path && (o->overhead || o->json_path || o->json_stdout))
		return arg_error(err, errlen,
				 "--compare only compares two saved results: drop --overhead/-j/-o");
	if (o->dir && o->device)
		return arg_error(err, errlen, "--dir and --device exclude each other");
	if (o->overhead && o->no_latency)
		return arg_error(err, errlen, "--overhead measures the collectors: drop --no-latency");
	if (o->overhead && o->baseline_path)
		return arg_error(err, errlen,
				 "--overhead and --baseline exclude each other (compare plain runs)");
	return 0;
}
