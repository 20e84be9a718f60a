// SPDX-License-Identifier: GPL-2.0
/* disco bench: run the workloads, write JSON, compare with a baseline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bench.h"
#include "cmd.h"
#include "log.h"
#include "safepath.h"

const char usage_bench[] =
"usage: disco bench [-w LIST] [-d SECS] [-r N] [-j] [-o FILE] [-q]\n"
"                   [--baseline FILE [--max-regress PCT]] [--overhead]\n"
"                   [--dir DIR | --device DEV] [--file-size MIB] [--no-latency]\n"
"       disco bench --compare FILE --baseline FILE [--max-regress PCT]\n"
"\n"
"Kernel benchmarks for CI. Each workload measures its own throughput while\n"
"its collector records kernel latency for it (the list is at the end).\n"
"Each workload runs in its own child process; the collector follows only\n"
"that process. Without root (or when a collector cannot start) the\n"
"throughput is still measured and the result says why latency is missing.\n"
"\n"
"Options:\n"
"  -w, --workload LIST   comma-separated subset of the workloads (default: all)\n"
"  -d, --duration SECS   length of one run: 5, 0.5, 500ms, 1m (default 5)\n"
"  -r, --repeat N        runs per figure, interleaved across figures (default 5)\n"
"  -j, --json            the result as JSON on stdout (schema disco.bench/1); the\n"
"                        tables go to stderr\n"
"  -o, --output FILE     write the JSON result to FILE (--json FILE, the old\n"
"                        spelling, still works for one release)\n"
"  -q, --quiet           no progress lines and no tables: exit status, -j/-o, errors\n"
"  -v, --verbose         more messages\n"
"      --baseline FILE   compare with an earlier -o result; exit 3 when a\n"
"                        figure got worse by more than PCT and more than the\n"
"                        run-to-run spread (max-min)/median of either side\n"
"      --max-regress PCT threshold for --baseline in percent (default 10)\n"
"      --compare FILE    do not run: compare FILE (an earlier -o result)\n"
"                        with --baseline, same table and exit status\n"
"      --overhead        run every figure alternately without and with its\n"
"                        collector (A/B/A/B) and print the throughput ratio\n"
"      --dir DIR         where the io file goes (default /var/tmp)\n"
"      --device DEV      run io on a block device instead: ITS DATA IS OVERWRITTEN\n"
"      --file-size MIB   size of the io file (default 64)\n"
"      --no-latency      throughput only, no collectors\n"
"\n"
"Exit status: 0 ok, 1 runtime error, 2 usage error, 3 regression against --baseline.\n"
"\n"
"Examples:\n"
"  disco bench -o base.json                     # all workloads, 5 x 5 s each\n"
"  disco bench -w sched,tcp -d 2 -r 3           # a quick subset\n"
"  disco bench --baseline base.json --max-regress 5 -o now.json\n"
"                                               # CI: fails (exit 3) on a regression\n"
"  disco bench --compare now.json --baseline base.json\n"
"                                               # compare two saved results\n"
"  disco bench --overhead -w sched -d 2         # what the sched collector costs\n"
"  disco bench -w io --device /dev/loop7        # io on a scratch block device\n";

/* Baselines are small; anything this big is not one. */
#define BASELINE_MAX_BYTES (16u << 20)

static int load_result(const char *what, const char *path, struct bench_result *base)
{
	char err[256];
	json_error_t jerr;
	struct stat st;
	json_t *j;
	int ret;

	if (stat(path, &st)) {
		log_err("bench: %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (st.st_size > BASELINE_MAX_BYTES) {
		log_err("bench: %s %s is larger than %u MiB: not a bench result", what, path,
			BASELINE_MAX_BYTES >> 20);
		return -EFBIG;
	}
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		log_err("bench: %s %s: %s (line %d, column %d)", what, path, jerr.text,
			jerr.line, jerr.column);
		return -EINVAL;
	}
	ret = bench_result_from_json(j, base, err, sizeof(err));
	if (ret)
		log_err("bench: %s %s: %s", what, path, err);
	json_decref(j);
	return ret;
}

static int write_json(const char *path, const struct bench_result *r)
{
	json_t *j = bench_result_to_json(r);
	char why[PATH_MAX + 80];
	int fd, ret = 0;

	if (!j) {
		log_err("bench: out of memory building JSON");
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		ret = json_dumpf(j, stdout, JSON_INDENT(2)) ? -EIO : 0;
		fputc('\n', stdout);
		goto out;
	}
	if (safepath_check_dirs(path, getuid(), why, sizeof(why))) {
		ret = -EPERM;
		log_err("bench: refusing to write %s: %s", path, why);
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		log_err("bench: cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (json_dumpfd(j, fd, JSON_INDENT(2)) || write(fd, "\n", 1) != 1 || fsync(fd)) {
		ret = -EIO;
		log_err("bench: writing %s failed: %s", path, strerror(errno));
	}
	if (close(fd) && !ret) {
		ret = -errno;
		log_err("bench: writing %s failed: %s", path, strerror(errno));
	}
out:
	json_decref(j);
	return ret;
}

static void progress(const struct bench_workload *w, const struct bench_figure *fig,
		     unsigned int rep, unsigned int n, bool traced, const struct bench_sample *x)
{
	char lat[64] = "";

	if (x->has_latency)
		snprintf(lat, sizeof(lat), ", %s p50 %lluns p99 %lluns", w->collector,
			 (unsigned long long)x->p50_ns, (unsigned long long)x->p99_ns);
	/* progress on stderr: a CI log should show the bench is alive */
	fprintf(stderr, "bench: %-15s %u/%u%s %.0f ops/s%s\n", fig->name, rep + 1, n,
		traced ? "" : " untraced", x->ops_per_sec, lat);
}

/* One run of one figure; a collector that failed to start is not retried. */
static int run_figure(const struct bench_workload *w, const struct bench_figure *fig,
		      const struct bench_env *env, const struct bench_opts *o,
		      struct bench_series *s, unsigned int rep, bool traced)
{
	struct bench_sample x;
	char note[BENCH_NOTE_MAX] = "";
	bool trace = traced && !o->no_latency && !s->collector_failed, attached;
	int ret;

	ret = bench_run_once(w, fig, env, o->duration_ns, trace, &x, &attached, note,
			     sizeof(note));
	if (ret)
		return ret;
	if (trace && !attached)
		s->collector_failed = true;
	if (trace && note[0] && !s->latency_note[0]) {
		snprintf(s->latency_note, sizeof(s->latency_note), "%s", note);
		log_warn("bench: %s: latency unavailable: %s", fig->name, note);
	}
	if (!o->quiet)
		progress(w, fig, rep, o->repeat, traced, &x);
	return bench_samples_add(traced ? &s->traced : &s->untraced, &x);
}

/* Parent-side setup of every selected workload that has one (io's file). */
static int setup_workloads(struct bench_opts *o, struct bench_env *env)
{
	char err[256], others[256];

	for (size_t i = 0; i < bench_nworkloads; i++) {
		const struct bench_workload *w = &bench_workloads[i];

		if (!(o->workloads & (1u << i)) || !w->runner->setup)
			continue;
		if (w->runner->setup(o, env, err, sizeof(err))) {
			/* only what was set up is torn down */
			o->workloads &= (1u << i) - 1;
			bench_workload_names(BENCH_WL_ALL & ~(1u << i), ",", others,
					     sizeof(others));
			log_err("bench: %s (or leave %s out: --workload %s)", err, w->name, others);
			return -EINVAL;
		}
	}
	return 0;
}

static void teardown_workloads(unsigned int mask, struct bench_env *env)
{
	for (size_t i = 0; i < bench_nworkloads; i++)
		if ((mask & (1u << i)) && bench_workloads[i].runner->teardown)
			bench_workloads[i].runner->teardown(env);
}

/* One series per figure of every selected workload. */
static int add_series(struct bench_result *res, unsigned int mask)
{
	for (size_t i = 0; i < bench_nworkloads; i++) {
		const struct bench_workload *w = &bench_workloads[i];

		for (const struct bench_figure *f = w->figures;
		     (mask & (1u << i)) && f < w->figures + BENCH_MAX_FIGURES && f->name; f++)
			if (!bench_result_add_series(res, f->name, w->name, w->collector,
						     f->unit)) {
				log_err("bench: too many figures");
				return -E2BIG;
			}
	}
	return 0;
}

/*
 * Repeats are the outer loop: slow drift on a shared machine then spreads
 * over every figure instead of biasing the last one.
 */
static int run_rounds(struct bench_result *res, const struct bench_env *env,
		      const struct bench_opts *o)
{
	int ret = 0;

	for (unsigned int rep = 0; rep < o->repeat; rep++) {
		for (size_t i = 0; i < bench_nworkloads; i++) {
			const struct bench_workload *w = &bench_workloads[i];

			for (const struct bench_figure *f = w->figures;
			     f < w->figures + BENCH_MAX_FIGURES && f->name; f++) {
				struct bench_series *s = bench_result_find(res, f->name);

				if (!s)
					continue;
				if (o->overhead)
					ret = run_figure(w, f, env, o, s, rep, false);
				if (!ret)
					ret = run_figure(w, f, env, o, s, rep, true);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

/* EXIT_OK, EXIT_REGRESS when a figure regressed, EXIT_ERR. */
static int compare_baseline(const struct bench_result *base, const struct bench_result *res,
			    const struct bench_opts *o, FILE *human)
{
	struct bench_cmp *rows = calloc(BENCH_MAX_CMP, sizeof(*rows));
	size_t nrows = 0;
	int nreg;

	if (!rows) {
		log_err("bench: out of memory");
		return EXIT_ERR;
	}
	nreg = bench_compare(base, res, o->max_regress_pct, rows, BENCH_MAX_CMP, &nrows);
	if (human) {
		fputc('\n', human);
		bench_compare_print(human, base, res, o->max_regress_pct, rows, nrows);
	}
	if (nreg > 0 && human)
		fprintf(human, "\n%d figure(s) regressed\n", nreg);
	free(rows);
	return nreg > 0 ? EXIT_REGRESS : EXIT_OK;
}

/* Measure every selected figure and print/write the result. */
static int measure(struct bench_result *res, struct bench_env *env, struct bench_opts *o,
		   FILE *human)
{
	bench_fill_machine(res);
	res->duration_ns = o->duration_ns;
	res->repeat = o->repeat;
	res->overhead = o->overhead;
	env->private_netns = geteuid() == 0;
	if (o->no_latency)
		log_info("bench: --no-latency: collectors stay detached");
	else if (geteuid() != 0)
		log_warn("bench: not root: throughput only, kernel latency needs root (CAP_BPF, CAP_PERFMON)");
	if (setup_workloads(o, env) || add_series(res, o->workloads) ||
	    run_rounds(res, env, o))
		return -1;
	if (human)
		bench_result_print(human, res);
	if (human && o->overhead) {
		fputc('\n', human);
		bench_overhead_print(human, res);
	}
	if (o->json_path && write_json(o->json_path, res))
		return -1;
	if (o->json_stdout && write_json("-", res))
		return -1;
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	static struct bench_result res, base;
	struct bench_env env = { 0 };
	struct bench_opts o;
	char err[256];
	FILE *human = stdout;
	unsigned long errors_before = log_errors();
	int status = EXIT_ERR;

	memset(&res, 0, sizeof(res));
	memset(&base, 0, sizeof(base));
	if (bench_parse_args(argc, argv, &o, err, sizeof(err)))
		return usage_error("bench", "%s", err);
	if (o.old_json_spelling)
		fprintf(stderr, "disco bench: --json FILE is deprecated and goes in the next release: "
			"use -o FILE (-j prints the JSON on stdout)\n");
	if (o.quiet)
		human = NULL;
	if (o.baseline_path && load_result("baseline", o.baseline_path, &base))
		return EXIT_ERR;
	if (o.compare_path) {
		o.workloads = 0;	/* nothing to run or set up */
		if (load_result("result", o.compare_path, &res)) {
			bench_result_free(&base);
			return EXIT_ERR;
		}
	} else {
		/* JSON on stdout keeps stdout parseable: tables go to stderr then */
		if (o.json_stdout && human)
			human = stderr;
		if (measure(&res, &env, &o, human))
			goto out;
	}
	status = o.baseline_path ? compare_baseline(&base, &res, &o, human) : EXIT_OK;
out:
	/* a figure that could not be measured is not a clean run */
	if (status != EXIT_ERR && log_errors() > errors_before) {
		log_err("bench: %lu error(s) above: some figures were not measured",
			log_errors() - errors_before);
		status = EXIT_ERR;
	}
	fflush(stdout);
	teardown_workloads(o.workloads, &env);
	bench_result_free(&res);
	bench_result_free(&base);
	return status;
}
