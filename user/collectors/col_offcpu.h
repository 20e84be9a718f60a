/* SPDX-License-Identifier: GPL-2.0 */
/* What the offcpu collector tells sched, whose sched_switch program does its part when both run. */
#ifndef DISCO_COL_OFFCPU_H
#define DISCO_COL_OFFCPU_H

#include <linux/types.h>
#include "collector.h"

/* offcpu's --min-block and --waker-min for the session o (its defaults if not given). */
void offcpu_thresholds(const struct rec_opts *o, __u64 *min_block_ns, __u64 *waker_min_ns);

#endif
