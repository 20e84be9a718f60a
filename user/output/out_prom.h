/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Report JSON -> Prometheus text exposition format (version 0.0.4), used
 * by `disco serve` (/metrics) and `disco report --format prometheus`.
 *
 * Fixed families: disco_build_info{version,kernel} 1,
 * disco_session_start_time_seconds, disco_session_duration_seconds,
 * disco_recorder_cpu_seconds_total, disco_recorder_peak_rss_bytes,
 * disco_bpf_runs_total, disco_bpf_run_seconds_total,
 * disco_bpf_stats_enabled, and per collector (label collector=...):
 * disco_drops_total, disco_events_total, disco_hook_info{hook,method} 1,
 * disco_bpf_program_runs_total{program}, disco_bpf_program_run_seconds_total{program}.
 *
 * Everything else in collectors.<c> is exported by one naming rule, so a
 * new collector needs no edit here; docs/prometheus.md states the rule.
 */
#ifndef DISCO_OUT_PROM_H
#define DISCO_OUT_PROM_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#define PROM_DEFAULT_MAX_SERIES 50
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_opts {
	/*
	 * Label sets per family of rows (cgroups, processes, stacks), the
	 * rest summed into one whose labels say "other"; rows of CPUs,
	 * disks, interfaces and states are all kept.
	 */
	int max_series;
	bool per_pid;	/* keep pid/comm labels instead of summing per cgroup */
};

/* The sentence a human wrote for a family the naming rule makes, or NULL. */
const char *prom_help(const char *family);

/* Render a disco.report/1 object; 0, -ENOMEM or -EIO. */
int prom_render(const json_t *report, FILE *out, const struct prom_opts *po);

/*
 * Write s as a label value body (no quotes): \ " and newline escaped,
 * other control bytes as '?', cut to at most max bytes on a UTF-8
 * character boundary. Exposed for tests.
 */
void prom_escape_label(FILE *out, const char *s, size_t max);

#endif
