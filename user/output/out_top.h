/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames of `disco top`: two report snapshots (recorder_collect() a second
 * apart) -> the last interval's figures next to the cumulative ones.
 * Pure: the terminal handling lives in cmd_top.c.
 */
#ifndef DISCO_OUT_TOP_H
#define DISCO_OUT_TOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "hist.h"

/* What the worst-rows tables are sorted by (the `s`, `<` and `>` keys). */
enum top_sort {
	TOP_SORT_TOTAL,		/* time (bytes) per second: who suffered most */
	TOP_SORT_COUNT,
	TOP_SORT_P99,
	TOP_SORT_MAX,
	TOP_NSORT,
};

struct top_opts {
	int rows;	/* worst rows shown per table (processes, disks, ...) */
	bool tty;	/* clear the screen before the frame */
	bool colour;	/* values over thresholds in colour (not with NO_COLOR) */
	int width;	/* terminal columns; 0: no limit */
	enum top_sort sort;
	const char *filter;	/* only rows whose name contains it */
	bool show_self;		/* list disco's own processes too */
	long self_pid;		/* disco's pid: its rows are hidden unless show_self */
	bool paused;
	uint64_t realtime_ns;	/* wall clock of the frame, for the header */
	const char *status;	/* a line under the header (the filter being typed) */
};

extern const char *const top_sort_names[TOP_NSORT];

/* One frame: per collector, the distributions, counter rates and worst rows. */
void top_render(FILE *out, const json_t *prev, const json_t *cur, const struct top_opts *o);

/*
 * `top --json`: one line's object, {"schema": "disco.top/1", "time" (ISO
 * 8601 UTC), "time_realtime_ns", "start_ns", "end_ns", "collectors":
 * {name: {"dists", "counters"}}} with the interval's figures (timeline.h).
 */
json_t *top_json_line(const json_t *prev, const json_t *cur, uint64_t realtime_ns);

#endif
