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
 * new collector needs no edit here (docs/prometheus.md has the details):
 * - the name is disco_<c>_<key path>, keys joined with '_', camelCase and
 *   other characters folded to snake_case;
 * - a distribution (object with "buckets") is a histogram; its unit comes
 *   from its "sum_<unit>" key: ns becomes _seconds (values / 1e9), bytes
 *   stays _bytes. Buckets are cut at powers of two (2^10 ns = 1.024 us up
 *   to 2^35 ns = 34.4 s for time, 1 B to 32 GiB for sizes), plus +Inf:
 *   every power of two is a log-linear bucket edge, so these are exact;
 * - an integer is a counter (_total) unless its key names a level
 *   (prefixes min_ max_ oldest_ outstanding_ current_ peak_, suffixes
 *   _not_listed _per_sec, keys elapsed_ns duration_ns processes
 *   sites_seen), which is a gauge; a key ending _ns is converted to _seconds;
 *   a real number is a gauge; booleans and strings are not exported;
 * - an array of objects is a set of per-entity series: each object's
 *   strings, string arrays (joined with ';', e.g. stacks) and identity
 *   integers (pid, tid, cpu, order, sport, dport, netns, *_id, *_pid) are
 *   labels, the rest metrics as above. Only the top N objects (ranked by
 *   the count of their first distribution, else kept in the collector's
 *   order) are exported, to bound cardinality. Arrays of event records
 *   (objects with "time_ns", and "outliers", "timeline") are not metrics;
 * - an object whose keys are not identifiers is a map: each key becomes
 *   a label key="..." (top N entries, like arrays);
 * - "filters", "sampling", "targets" (settings, not measurements) are skipped.
 */
#ifndef DISCO_OUT_PROM_H
#define DISCO_OUT_PROM_H

#include <stdio.h>
#include <jansson.h>

#define PROM_DEFAULT_TOP 10
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_opts {
	int top;	/* per-entity series kept per array/map, > 0 */
};

/* Render a disco.report/1 object; 0, -ENOMEM or -EIO. */
int prom_render(const json_t *report, FILE *out, const struct prom_opts *po);

/*
 * Write s as a label value body (no quotes): \ " and newline escaped,
 * other control bytes as '?', cut to at most max bytes on a UTF-8
 * character boundary. Exposed for tests.
 */
void prom_escape_label(FILE *out, const char *s, size_t max);

#endif
