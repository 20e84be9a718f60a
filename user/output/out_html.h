/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Report JSON -> one self-contained HTML page (`disco report --format
 * html`): inline CSS and SVG, no scripts, no external resources. Generic
 * over collectors like out_prom.c: every distribution gets a chart and a
 * percentile table, every array of rows (processes, disks, outliers, ...)
 * a table of its first --top rows, every other number a line in a table.
 */
#ifndef DISCO_OUT_HTML_H
#define DISCO_OUT_HTML_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "collector.h"

/* 0, or -EIO if writing failed. */
int html_render(const json_t *report, FILE *out, const struct report_opts *ro);

/* Text or attribute value: & < > " ' as entities, control bytes as '?'. */
void html_escape(FILE *out, const char *s);

/*
 * Inline SVG bar chart of a distribution on a log axis (bucket counts,
 * ticks at powers of ten, p50/p99 markers); unit "ns" or "bytes".
 * -EINVAL if hist is not a distribution in that unit.
 */
int html_hist_svg(FILE *out, const json_t *hist, const char *unit);

/*
 * Latency heat map of the distribution key of collector col over the
 * report's intervals (timeline.h): columns are intervals, rows powers of
 * two, colour the samples (log); outliers (items with time_ns and
 * latency_ns) as dots. Cells carry data-t0/t1 (ns from the start),
 * data-lo (row's lower bound, ns) and data-n (samples). -ENODATA if
 * there is nothing to draw.
 */
int html_heatmap_svg(FILE *out, const json_t *intervals, const char *col, const char *key,
		     const json_t *outliers, uint64_t duration_ns);
/*
 * Timeline of the same distribution: samples per second (linear) and
 * p99, p50 (log) per interval; points carry data-t0/t1 and data-v.
 * -ENODATA with fewer than two intervals.
 */
int html_timeline_svg(FILE *out, const json_t *intervals, const char *col, const char *key,
		      uint64_t duration_ns);

/* `report --compare --format html`: compare_reports()' JSON as one page. */
int html_compare_render(const json_t *cmp, FILE *out, const char *before, const char *after);

#endif
