/* SPDX-License-Identifier: GPL-2.0 */
/* BPF side of the log-linear histogram (see hist.h for the layout). */
#ifndef DISCO_HIST_BPF_H
#define DISCO_HIST_BPF_H

#include "hist.h"

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8)  { v >>= 8;  r += 8; }
	if (v >> 4)  { v >>= 4;  r += 4; }
	if (v >> 2)  { v >>= 2;  r += 2; }
	if (v >> 1)  { r += 1; }
	return r;
}

static __always_inline __u32 hist_slot(__u64 v)
{
	__u32 k, sub;

	if (v < HIST_SUB)
		return v;
	k = log2_u64(v);
	if (k > HIST_MAX_OCTAVE)
		return HIST_SLOTS - 1;
	sub = (v >> (k - HIST_SUB_BITS)) & (HIST_SUB - 1);
	return HIST_SUB + (k - HIST_SUB_BITS) * HIST_SUB + sub;
}

/* For per-CPU maps: no other writer, plain stores are enough. */
static __always_inline void hist_add(struct hist *h, __u64 v)
{
	__u64 s = hist_slot(v);

	if (s >= HIST_SLOTS)
		s = HIST_SLOTS - 1;
	h->slots[s]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

/* n values of v at once (a sample standing for n allocations). */
static __always_inline void hist_add_n(struct hist *h, __u64 v, __u64 n)
{
	__u64 s = hist_slot(v);

	if (s >= HIST_SLOTS)
		s = HIST_SLOTS - 1;
	h->slots[s] += n;
	h->count += n;
	h->sum += v * n;
	if (v > h->max)
		h->max = v;
}

/* For shared (hash) map values updated from several CPUs. */
static __always_inline void hist_add_atomic(struct hist *h, __u64 v)
{
	__u64 s = hist_slot(v);

	if (s >= HIST_SLOTS)
		s = HIST_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[s], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, v);
	/* racy max: a lost update only under a same-instant tie of two CPUs */
	if (v > h->max)
		h->max = v;
}

#endif
