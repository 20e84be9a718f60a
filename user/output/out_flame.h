/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stacks of a collector ("stacks": [{"comm", "frames", "count" or
 * "blocked_ns"}], see docs/json-schema.md) as Brendan Gregg's folded
 * format, as an inline SVG flame graph, and compared between two sessions.
 * Generic over collectors: any collector object with "stacks" works.
 */
#ifndef DISCO_OUT_FLAME_H
#define DISCO_OUT_FLAME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* The value of one stack: "count" (samples), "blocked_ns" or "bytes". */
uint64_t flame_stack_value(const json_t *stack, const char **unit);

/*
 * The outermost frame of a stack marked "truncated" (it did not reach its
 * thread's first function), so that no output shows it as complete.
 */
#define FLAME_TRUNCATED "[truncated]"

/* "comm;outermost;...;leaf VALUE" per stack (comm;[truncated];... when cut short). 0 or -EIO. */
int folded_write(const json_t *col, FILE *out);

/*
 * The collector of report (name, or the only one with stacks when name is
 * NULL). NULL with *why set when there is none or several.
 */
const json_t *flame_pick(const json_t *report, const char *name, const char **picked,
			 const char **why);

/*
 * Flame graph of col as one <svg> (hover: name, value, share; click: zoom).
 * With before, a differential one: shaped like col, each frame coloured by
 * how its share changed from before (red grew, blue shrank). 0 or -EIO.
 */
int flame_svg(FILE *out, const json_t *col, const json_t *before);

/*
 * "stack VALUE_BEFORE VALUE_AFTER" per stack of either (the input of
 * flamegraph.pl for a differential graph, as difffolded.pl writes it).
 */
int folded_diff_write(const json_t *before, const json_t *after, FILE *out);

/* Text: totals, then the --top stacks whose share changed most, with sign. */
int flame_diff_text(const json_t *before, const json_t *after, FILE *out, int top);

/* A whole HTML page with the differential flame graph and the text table. */
int flame_diff_html(const json_t *before, const json_t *after, FILE *out, const char *title);

#endif
