/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frames of `disco top`: two report snapshots (recorder_collect() a second
 * apart) -> the last interval's figures next to the cumulative ones.
 * Pure: the terminal handling lives in cmd_top.c.
 */
#ifndef DISCO_OUT_TOP_H
#define DISCO_OUT_TOP_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "hist.h"

struct top_opts {
	int rows;	/* worst rows shown per table (processes, disks, ...) */
	bool tty;	/* clear the screen before the frame */
};

/* One frame: per collector, the distributions, counter rates and worst rows. */
void top_render(FILE *out, const json_t *prev, const json_t *cur, const struct top_opts *o);

#endif
