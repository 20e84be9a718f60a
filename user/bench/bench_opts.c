// SPDX-License-Identifier: GPL-2.0
/* disco bench command line: parsed into struct bench_opts, no side effects. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

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
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		int i;

		if (!n)
			return arg_error(err, len, "empty workload name in --workload '%s'", list);
		for (i = 0; i < BW_COUNT; i++)
			if (strlen(bench_wl_names[i]) == n && !strncmp(p, bench_wl_names[i], n))
				break;
		if (i == BW_COUNT)
			return arg_error(err, len,
					 "unknown workload '%.*s' in --workload (have: sched, io, tcp, alloc)",
					 (int)(n > 32 ? 32 : n), p);
		*mask |= 1u << i;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*mask)
		return arg_error(err, len, "--workload needs at least one of sched, io, tcp, alloc");
	return 0;
}

/* "5", "0.5", "500ms", "2s", "1m": seconds unless a unit says otherwise. */
static int parse_secs(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
		{ "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "", 1e9 },
	};
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].mult;
		if (v > 3600e9)
			return -ERANGE;
		*ns = (uint64_t)v;
		return 0;
	}
	return -EINVAL;
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

int bench_parse_args(int argc, char **argv, struct bench_opts *o,
		     char *err, size_t errlen)
{
	enum {
		OPT_BASELINE = 256, OPT_MAX_REGRESS, OPT_DIR, OPT_DEVICE,
		OPT_FILE_SIZE, OPT_OVERHEAD, OPT_NO_LATENCY, OPT_COMPARE,
	};
	static const struct option lopts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "max-regress", required_argument, NULL, OPT_MAX_REGRESS },
		{ "compare", required_argument, NULL, OPT_COMPARE },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "file-size", required_argument, NULL, OPT_FILE_SIZE },
		{ "overhead", no_argument, NULL, OPT_OVERHEAD },
		{ "no-latency", no_argument, NULL, OPT_NO_LATENCY },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	char *end;
	int opt;

	memset(o, 0, sizeof(*o));
	o->workloads = BW_ALL;
	o->duration_ns = BENCH_DEFAULT_DURATION_NS;
	o->repeat = BENCH_DEFAULT_REPEAT;
	o->max_regress_pct = BENCH_DEFAULT_REGRESS_PCT;
	o->file_bytes = (uint64_t)BENCH_DEFAULT_FILE_MIB << 20;
	err[0] = 0;
	optind = 0;	/* glibc: full re-initialisation, callers may parse twice */
	opterr = 0;	/* the message is ours, in err */
	while ((opt = getopt_long(argc, argv, ":w:d:r:j:", lopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			if (parse_workloads(optarg, &o->workloads, err, errlen))
				return -EINVAL;
			break;
		case 'd':
			if (parse_secs(optarg, &o->duration_ns) || o->duration_ns < 100000000ULL)
				return arg_error(err, errlen,
						 "--duration '%s' is not a duration between 100ms and 1h (e.g. 5, 0.5, 500ms)",
						 optarg);
			break;
		case 'r':
			if (parse_uint(optarg, BENCH_MAX_REPEAT, &v) || !v)
				return arg_error(err, errlen, "--repeat '%s' is not a count in 1..%d",
						 optarg, BENCH_MAX_REPEAT);
			o->repeat = (unsigned int)v;
			break;
		case 'j':
			o->json_path = optarg;
			break;
		case OPT_BASELINE:
			o->baseline_path = optarg;
			break;
		case OPT_COMPARE:
			o->compare_path = optarg;
			break;
		case OPT_MAX_REGRESS:
			errno = 0;
			o->max_regress_pct = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->max_regress_pct) ||
			    o->max_regress_pct < 0 || o->max_regress_pct > 1000)
				return arg_error(err, errlen,
						 "--max-regress '%s' is not a percentage in 0..1000",
						 optarg);
			o->max_regress_set = true;
			break;
		case OPT_DIR:
			o->dir = optarg;
			break;
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_FILE_SIZE:
			if (parse_uint(optarg, 1 << 20, &v) || !v)
				return arg_error(err, errlen,
						 "--file-size '%s' is not a size in MiB (1..1048576)",
						 optarg);
			o->file_bytes = (uint64_t)v << 20;
			break;
		case OPT_OVERHEAD:
			o->overhead = true;
			break;
		case OPT_NO_LATENCY:
			o->no_latency = true;
			break;
		case ':':
			return arg_error(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		default:
			return arg_error(err, errlen, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return arg_error(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (o->max_regress_set && !o->baseline_path)
		return arg_error(err, errlen, "--max-regress needs --baseline FILE");
	if (o->compare_path && !o->baseline_path)
		return arg_error(err, errlen, "--compare FILE needs --baseline FILE");
	if (o->compare_path && (o->overhead || o->json_path))
		return arg_error(err, errlen,
				 "--compare only compares two saved results: drop --overhead/--json");
	if (o->dir && o->device)
		return arg_error(err, errlen, "--dir and --device exclude each other");
	if (o->overhead && o->no_latency)
		return arg_error(err, errlen, "--overhead measures the collectors: drop --no-latency");
	if (o->overhead && o->baseline_path)
		return arg_error(err, errlen,
				 "--overhead and --baseline exclude each other (compare plain runs)");
	return 0;
}
