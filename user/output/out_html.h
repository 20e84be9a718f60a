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

#endif
