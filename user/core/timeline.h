/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session over time: the periodic snapshots (STATE blocks, every 2 s or
 * every `record -i` interval) are cumulative; the difference of two is what
 * happened in between. Pure logic over the report JSON (no syscalls), for
 * the HTML heat maps and timelines, `record -i` and `report --intervals`.
 */
#ifndef DISCO_TIMELINE_H
#define DISCO_TIMELINE_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Most snapshots kept: beyond it every other one is dropped (intervals merge). */
#define TIMELINE_MAX_SNAPSHOTS	1024

/*
 * The cumulative figures of one snapshot (a report-shaped object with
 * session.duration_ns and collectors): {"t_ns", "collectors": {name:
 * {"dists": {key: distribution}, "counters": {key: n}}}}. dists are the
 * collector's top-level distributions, then (as "rows.key") those of its
 * arrays of rows merged over the rows, unless a top-level one has the
 * same name; counters are its integers (not durations), nested one level
 * as "object.key". NULL if snap has no collectors.
 */
json_t *timeline_reduce(const json_t *snap);
/*
 * What happened between two reduced snapshots (prev NULL: since the
 * start): {"start_ns", "end_ns", "collectors": {name: {"dists": {key:
 * hist_to_json of the difference}, "counters": {key: difference}}}}.
 */
json_t *timeline_delta(const json_t *prev, const json_t *cur);
/*
 * Append a reduced snapshot (reference stolen) to snaps; past
 * TIMELINE_MAX_SNAPSHOTS every other one is dropped. 0 or -ENOMEM.
 */
int timeline_add(json_t *snaps, json_t *reduced);
/*
 * The intervals between consecutive snapshots, the first from the start.
 * A last interval under half the one before (the final summary
 * right after a snapshot) is merged into it.
 */
json_t *timeline_intervals(const json_t *snaps);
/* The first latency ("ns") distribution key in a dists object, or NULL. */
const char *timeline_primary(const json_t *dists);
/*
 * One compact line per collector for an interval, the first starting with
 * the wall-clock time of its end (HH:MM:SS local, like `runqlat -T`):
 * "12:00:01  sched  runq_latency  512 (256/s)  p50 4.0us  p99 2.1ms  max 9.9ms".
 * start_realtime_ns is the session's start.
 */
void timeline_print_interval(FILE *out, const json_t *interval, uint64_t start_realtime_ns);

#endif
