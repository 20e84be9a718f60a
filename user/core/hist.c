// SPDX-License-Identifier: GPL-2.0
/* Log-linear histogram arithmetic; pure, no syscalls (unit-tested). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "hist.h"

unsigned int hist_slot_of(uint64_t v)
{
	unsigned int k, sub;

	if (v < HIST_SUB)
		return v;
	k = 63 - __builtin_clzll(v);
	if (k > HIST_MAX_OCTAVE)
		return HIST_SLOTS - 1;
	sub = (v >> (k - HIST_SUB_BITS)) & (HIST_SUB - 1);
	return HIST_SUB + (k - HIST_SUB_BITS) * HIST_SUB + sub;
}

uint64_t hist_slot_lo(unsigned int slot)
{
	unsigned int k, sub;

	if (slot < HIST_SUB)
		return slot;
	k = (slot - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	sub = (slot - HIST_SUB) % HIST_SUB;
	return (1ULL << k) + ((uint64_t)sub << (k - HIST_SUB_BITS));
}

uint64_t hist_slot_hi(unsigned int slot)
{
	if (slot >= HIST_SLOTS - 1)
		return UINT64_MAX;
	return hist_slot_lo(slot + 1);
}

void hist_add_value(struct hist *h, uint64_t v)
{
	h->slots[hist_slot_of(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned int i = 0; i < HIST_SLOTS; i++)
		dst->slots[i] += src->slots[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t total = 0, rank, seen = 0, lo, hi, mid;
	unsigned int i;

	for (i = 0; i < HIST_SLOTS; i++)
		total += h->slots[i];
	if (!total)
		return 0;
	if (p >= 1.0)
		return h->max;
	rank = (uint64_t)(p * (double)total);
	if ((double)rank < p * (double)total)
		rank++;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_SLOTS; i++) {
		seen += h->slots[i];
		if (seen >= rank)
			break;
	}
	if (i >= HIST_SLOTS)
		i = HIST_SLOTS - 1;
	lo = hist_slot_lo(i);
	hi = hist_slot_hi(i);
	if (i < HIST_SUB || hi == UINT64_MAX)
		mid = lo;
	else
		mid = lo + (hi - lo) / 2;
	if (h->max && mid > h->max)
		mid = h->max;
	return mid;
}

static void set_u64(json_t *o, const char *key, const char *unit, uint64_t v)
{
	char name[32];

	snprintf(name, sizeof(name), "%s_%s", key, unit);
	json_object_set_new(o, name, json_integer((json_int_t)v));
}

json_t *hist_to_json(const struct hist *h, const char *unit)
{
	json_t *o = json_object(), *b = json_array();
	static const struct {
		const char *key;
		double p;
	} pct[] = {
		{ "p50", 0.50 }, { "p90", 0.90 }, { "p99", 0.99 }, { "p999", 0.999 },
	};

	json_object_set_new(o, "count", json_integer((json_int_t)h->count));
	set_u64(o, "sum", unit, h->sum);
	for (unsigned int i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		set_u64(o, pct[i].key, unit, hist_percentile(h, pct[i].p));
	set_u64(o, "max", unit, h->max);
	for (unsigned int i = 0; i < HIST_SLOTS; i++) {
		uint64_t hi = hist_slot_hi(i);

		if (!h->slots[i])
			continue;
		json_array_append_new(b, json_pack("[III]", (json_int_t)hist_slot_lo(i),
			(json_int_t)(hi == UINT64_MAX ? INT64_MAX : hi),
			(json_int_t)h->slots[i]));
	}
	json_object_set_new(o, "buckets", b);
	return o;
}

static int get_nonneg(const json_t *o, const char *key, __u64 *v)
{
	const json_t *x = json_object_get(o, key);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -EINVAL;
	*v = (__u64)json_integer_value(x);
	return 0;
}

bool hist_json_is_distribution(const json_t *v)
{
	return json_is_object(v) && json_is_array(json_object_get(v, "buckets")) &&
	       json_is_integer(json_object_get(v, "count"));
}

const char *hist_json_unit(const json_t *v)
{
	if (json_is_integer(json_object_get(v, "sum_ns")))
		return "ns";
	if (json_is_integer(json_object_get(v, "sum_bytes")))
		return "bytes";
	return NULL;
}

int hist_from_json(const json_t *j, const char *unit, struct hist *h)
{
	char name[32];
	const json_t *b, *e;
	size_t i;

	memset(h, 0, sizeof(*h));
	if (!json_is_object(j))
		return -EINVAL;
	b = json_object_get(j, "buckets");
	if (!json_is_array(b))
		return -EINVAL;
	json_array_foreach(b, i, e) {
		json_int_t lo, cnt;

		if (!json_is_array(e) || json_array_size(e) != 3 ||
		    !json_is_integer(json_array_get(e, 0)) ||
		    !json_is_integer(json_array_get(e, 2)))
			return -EINVAL;
		lo = json_integer_value(json_array_get(e, 0));
		cnt = json_integer_value(json_array_get(e, 2));
		if (lo < 0 || cnt < 0)
			return -EINVAL;
		h->slots[hist_slot_of((uint64_t)lo)] += (uint64_t)cnt;
		h->count += (uint64_t)cnt;
	}
	/* without these a histogram read back would report max 0 silently */
	snprintf(name, sizeof(name), "sum_%s", unit);
	if (get_nonneg(j, name, &h->sum))
		return -EINVAL;
	snprintf(name, sizeof(name), "max_%s", unit);
	if (get_nonneg(j, name, &h->max))
		return -EINVAL;
	return 0;
}

int hist_interval(const json_t *cur, const json_t *prev, const char *unit, struct hist *out)
{
	struct hist p;
	int top = -1;

	if (hist_from_json(cur, unit, out))
		return -EINVAL;
	if (!prev || hist_from_json(prev, unit, &p))
		return 0;
	out->count = 0;
	for (int i = 0; i < HIST_SLOTS; i++) {
		/* a counter that went down was reset (process gone, pid reused) */
		out->slots[i] = out->slots[i] >= p.slots[i] ? out->slots[i] - p.slots[i] : out->slots[i];
		out->count += out->slots[i];
		if (out->slots[i])
			top = i;
	}
	out->sum = out->sum >= p.sum ? out->sum - p.sum : out->sum;
	if (top < 0) {
		out->sum = 0;
		out->max = 0;
	} else if (out->max <= p.max) {
		uint64_t hi = hist_slot_hi(top);

		/* the interval's max is not kept: bound it by its highest bucket */
		if (hi != UINT64_MAX && hi - 1 < out->max)
			out->max = hi - 1;
	}
	return 0;
}
