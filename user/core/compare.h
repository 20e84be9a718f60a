/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `disco report --compare BEFORE AFTER`: the distributions of two reports
 * side by side, with the change and whether it is beyond the noise. Pure
 * (no syscalls): report JSON in, comparison JSON out.
 */
#ifndef DISCO_COMPARE_H
#define DISCO_COMPARE_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "hist.h"

/*
 * Where the p-quantile of h can be, from its bucket counts alone: the
 * ranks n*p -+ 1.96 sqrt(n p (1-p)) (a 95% interval for a quantile of n
 * samples), widened to the bounds of the buckets holding them. lo and hi
 * are values in h's unit; -ENODATA without samples.
 */
int compare_quantile_range(const struct hist *h, double p, uint64_t *lo, uint64_t *hi);

/*
 * {"schema": "disco.compare/1", "before": {...}, "after": {...},
 *  "collectors": {name: {key: {"unit", "before_count", "after_count",
 *  "percentiles": {"p50": {"before_<unit>", "after_<unit>", "change_ratio",
 *  "beyond_noise", "before_range_<unit>": [lo, hi], "after_range_<unit>"}, ...},
 *  "verdict": "slower"|"faster"|"larger"|"smaller"|"mixed"|"within noise"|
 *  "no samples"}}}} over the collectors and distributions both have
 * (timeline_reduce's: top-level ones and those of rows merged). A change
 * is beyond the noise when the two ranges do not overlap and each session
 * has at least 5 samples on either side of the quantile.
 */
json_t *compare_reports(const json_t *before, const json_t *after);
int compare_render_text(const json_t *cmp, FILE *out);

#endif
