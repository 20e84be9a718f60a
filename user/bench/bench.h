/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `disco bench`: workloads that measure their own throughput, the result
 * model (JSON "disco.bench/1"), and the baseline comparison CI fails on.
 *
 * bench_stats.c and bench_opts.c are pure (unit-tested, fuzzed); the
 * workloads are one row each in bench_workloads.c, their runners
 * (bench_sched.c, bench_io.c, ...) and bench_run.c do the syscalls.
 */
#ifndef DISCO_BENCH_H
#define DISCO_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#define BENCH_SCHEMA		"disco.bench/1"
#define BENCH_NAME_MAX		32
#define BENCH_NOTE_MAX		192
#define BENCH_MAX_SERIES	64
/* Bounds a hostile baseline cannot push past. */
#define BENCH_MAX_REPEAT	1000
#define BENCH_DEFAULT_REPEAT	5
#define BENCH_DEFAULT_DURATION_NS	5000000000ULL
#define BENCH_DEFAULT_REGRESS_PCT	10.0
#define BENCH_DEFAULT_FILE_MIB	64
#define BENCH_IO_BLOCK		4096

/* At most this many workloads: --workload is a bitmask over the table. */
#define BENCH_MAX_WORKLOADS	32
#define BENCH_MAX_FIGURES	4

/* One measured run of one figure. */
struct bench_sample {
	double ops_per_sec;
	uint64_t ops;
	uint64_t elapsed_ns;
	bool has_latency;	/* the collector recorded at least one event */
	uint64_t lat_count;
	uint64_t p50_ns;
	uint64_t p99_ns;
};

struct bench_samples {
	struct bench_sample *v;
	size_t n, cap;
};

/* One figure: e.g. "sched_pinned", measured by workload "sched". */
struct bench_series {
	char name[BENCH_NAME_MAX];
	char workload[BENCH_NAME_MAX];
	char collector[BENCH_NAME_MAX];
	char unit[BENCH_NAME_MAX];	/* what one op is: "round_trip", ... */
	char latency_note[BENCH_NOTE_MAX];	/* why latency is missing, or "" */
	bool collector_failed;	/* runtime only: start failed, do not retry */
	struct bench_samples traced;	/* with the collector attached */
	struct bench_samples untraced;	/* --overhead: without it, interleaved */
};

struct bench_result {
	char hostname[65];
	char model[128];
	unsigned int cpus;
	char kernel[65];
	char version[64];
	uint64_t duration_ns;
	unsigned int repeat;
	bool overhead;
	size_t nseries;
	struct bench_series series[BENCH_MAX_SERIES];
};

enum bench_metric {
	BM_OPS,		/* ops/s, higher is better */
	BM_P50,		/* kernel latency p50 ns, lower is better */
	BM_P99,
	BM_COUNT,
};

struct bench_stats {
	size_t n;
	double median, min, max;
	double spread;		/* (max - min) / median; 0 for one sample */
};

/* ---- pure: statistics, result model, JSON (bench_stats.c) ---- */
void bench_stats_of(const double *v, size_t n, struct bench_stats *st);
/* -ENODATA when no sample has the metric (latency unavailable). */
int bench_series_stats(const struct bench_series *s, enum bench_metric m,
		       bool untraced, struct bench_stats *st);
const char *bench_metric_name(enum bench_metric m);

struct bench_series *bench_result_add_series(struct bench_result *r,
					     const char *name, const char *workload,
					     const char *collector, const char *unit);
struct bench_series *bench_result_find(const struct bench_result *r, const char *name);
int bench_samples_add(struct bench_samples *s, const struct bench_sample *x);
void bench_result_free(struct bench_result *r);

json_t *bench_result_to_json(const struct bench_result *r);
/*
 * Strict reader for results and baselines (untrusted): schema, types,
 * ranges, name charset, repeat count are all checked. Statistics are
 * recomputed from the raw repeats, never taken from the file. -EINVAL
 * with err set; r is freed on failure.
 */
int bench_result_from_json(const json_t *j, struct bench_result *r,
			   char *err, size_t errlen);

struct bench_workload;
/*
 * Fill s->has_latency/p50/p99 from a recorder snapshot ("disco.report/1")
 * with the histogram workload w is judged by; -ENODATA with note set when
 * its collector has no such distribution or recorded no events.
 */
int bench_latency_from_report(const json_t *report, const struct bench_workload *w,
			      struct bench_sample *s, char *note, size_t notelen);

/* ---- pure: baseline comparison ---- */
struct bench_cmp {
	char name[BENCH_NAME_MAX];
	enum bench_metric metric;
	bool have_base, have_now;
	struct bench_stats base, now;
	double change;		/* (now - base) / base */
	double threshold;	/* max(pct, base spread, now spread), fraction */
	bool worse;		/* moved the wrong way */
	bool regress;		/* worse by more than threshold */
	const char *note;	/* "only in baseline", ... or NULL */
};

#define BENCH_MAX_CMP (BENCH_MAX_SERIES * BM_COUNT * 2)

/*
 * Compare now against base. A figure regresses when it moved the wrong
 * way by more than max_regress_pct AND by more than the run-to-run spread
 * of either side. Returns the number of regressions (>= 0).
 */
int bench_compare(const struct bench_result *base, const struct bench_result *now,
		  double max_regress_pct, struct bench_cmp *rows, size_t maxrows,
		  size_t *nrows);
void bench_compare_print(FILE *out, const struct bench_result *base,
			 const struct bench_result *now, double max_regress_pct,
			 const struct bench_cmp *rows, size_t nrows);
void bench_result_print(FILE *out, const struct bench_result *r);
/* --overhead: median traced / median untraced throughput per figure. */
void bench_overhead_print(FILE *out, const struct bench_result *r);

/* ---- pure: command line (bench_opts.c) ---- */
struct bench_opts {
	unsigned int workloads;		/* bit i: bench_workloads[i] */
	uint64_t duration_ns;
	unsigned int repeat;
	const char *json_path;		/* -o FILE: the JSON result there */
	bool json_stdout;		/* -j: on stdout (the tables go to stderr) */
	bool quiet;			/* -q: no tables */
	bool old_json_spelling;		/* --json FILE was used: say it is deprecated */
	const char *baseline_path;
	const char *compare_path;	/* compare this saved result, do not run */
	double max_regress_pct;
	bool max_regress_set;
	const char *dir;
	const char *device;
	uint64_t file_bytes;
	bool overhead;
	bool no_latency;
};

/* 0, or -EINVAL with err set to one line naming the bad argument. */
int bench_parse_args(int argc, char **argv, struct bench_opts *o,
		     char *err, size_t errlen);

/* ---- workloads (bench_workloads.c: the table; bench_*.c: the runners) ---- */
struct bench_env {
	const char *io_path;	/* pre-written file, or the --device */
	bool io_is_device;
	uint64_t io_bytes;	/* region used for random offsets */
	char *io_tmpdir;	/* the directory io_path was created in, or NULL */
	bool private_netns;	/* tcp: unshare(CLONE_NEWNET) in the child */
};

/* One figure of a workload: one series in the result. */
struct bench_figure {
	const char *name;	/* "sched_pinned": a row, and a key in the JSON */
	const char *unit;	/* what one op is: "round_trip", ... */
	int variant;		/* told to the runner's prepare() */
};

/*
 * What a workload runs. setup() runs once per invocation in disco itself
 * (a file to read, say), teardown() undoes it; both may be NULL.
 * prepare() runs in the forked child before the collector starts (so its
 * setup is not measured); run() measures for duration_ns and reports ops
 * and the elapsed time it measured itself.
 */
struct bench_runner {
	int (*setup)(const struct bench_opts *o, struct bench_env *env, char *err,
		     size_t errlen);
	void (*teardown)(struct bench_env *env);
	int (*prepare)(const struct bench_figure *fig, const struct bench_env *env,
		       void **state, char *err, size_t errlen);
	int (*run)(void *state, uint64_t duration_ns, uint64_t *ops,
		   uint64_t *elapsed_ns, char *err, size_t errlen);
	void (*cleanup)(void *state);
};

/*
 * One row per workload. Its figures are judged by one latency histogram
 * of its collector's report: collectors.<collector>.<hist_key>, or, with
 * hist_array, the merge of <hist_key> over every object of that array.
 */
struct bench_workload {
	const char *name;		/* --workload NAME; "workload" in the JSON */
	const char *collector;		/* attached to the child while it runs */
	const char *hist_array;		/* NULL, or e.g. "disks" */
	const char *hist_key;		/* e.g. "runq_latency" */
	const char *help;		/* --help: the figures and what one op is */
	const struct bench_runner *runner;
	struct bench_figure figures[BENCH_MAX_FIGURES];	/* up to a NULL name */
};

extern const struct bench_workload bench_workloads[];
extern const size_t bench_nworkloads;
/* Every workload's bit: the default --workload. */
#define BENCH_WL_ALL ((unsigned int)((1ULL << bench_nworkloads) - 1))

/* The row called name, or NULL. */
const struct bench_workload *bench_workload_find(const char *name);
/* Its bit in bench_opts.workloads (0 for an unknown name). */
unsigned int bench_workload_bit(const char *name);
/* "sched,io,..." of the workloads whose bit is in mask, joined by sep. */
void bench_workload_names(unsigned int mask, const char *sep, char *buf, size_t len);
/* The Workloads section of `disco bench --help`. */
void bench_workloads_help(FILE *out);

/* ---- runner (bench_run.c) ---- */
/*
 * Run figure fig of w once in a forked child. With trace, w's collector is
 * started on the child (pid filter) through the recorder; when it cannot
 * be, the throughput is still recorded, *attached is false and note says
 * why; attached with no latency to show also sets note.
 */
int bench_run_once(const struct bench_workload *w, const struct bench_figure *fig,
		   const struct bench_env *env, uint64_t duration_ns, bool trace,
		   struct bench_sample *out, bool *attached, char *note, size_t notelen);
/* hostname, cpus, model, kernel release, version. */
void bench_fill_machine(struct bench_result *r);

#endif
