/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace side of the log-linear histogram: merge, percentiles, JSON. */
#ifndef DISCO_USER_HIST_H
#define DISCO_USER_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "bpf/hist.h"

unsigned int hist_slot_of(uint64_t v);
uint64_t hist_slot_lo(unsigned int slot);
/* exclusive upper bound */
uint64_t hist_slot_hi(unsigned int slot);
void hist_add_value(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* Nearest-rank percentile, p in [0, 1]; bucket midpoint, clamped to max. */
uint64_t hist_percentile(const struct hist *h, double p);

/*
 * {"count", "sum_<unit>", "p50_<unit>", "p90_<unit>", "p99_<unit>",
 *  "p999_<unit>", "max_<unit>", "buckets": [[lo, hi, count], ...]}
 * with unit "ns" or "bytes"; only non-empty buckets are listed.
 */
json_t *hist_to_json(const struct hist *h, const char *unit);
/* Does v look like a hist_to_json object (buckets and count)? */
bool hist_json_is_distribution(const json_t *v);
/* "ns" or "bytes" from its sum_ key; NULL if neither. */
const char *hist_json_unit(const json_t *v);
/* Inverse of hist_to_json; -EINVAL on malformed input. */
int hist_from_json(const json_t *j, const char *unit, struct hist *h);

/*
 * The samples that arrived between two snapshots of one distribution:
 * cur - prev per bucket (prev NULL: all of cur). max is exact when it grew
 * in the interval, else the top of the highest bucket that received
 * samples (clamped to the cumulative max). -EINVAL if cur is not a
 * distribution in unit; a prev that does not parse counts as empty.
 */
int hist_interval(const json_t *cur, const json_t *prev, const char *unit, struct hist *out);

#endif
