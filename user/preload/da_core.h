/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure parts of libdisco-alloc.so (no system calls, unit tested):
 * Poisson sampling by bytes, the lock-free set of sampled block addresses,
 * and the frame-pointer walk of the caller's stack.
 */
#ifndef DISCO_DA_CORE_H
#define DISCO_DA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/alloc.h"

#define DA_DEFAULT_MEAN_BYTES	ALLOC_LIB_DEFAULT_MEAN

/*
 * One thread's sampler. A zeroed one is valid: its first call takes the
 * slow path, which seeds it. left counts down the bytes to the next sample
 * point; points are a Poisson process over the thread's allocated bytes, so
 * a block of n bytes is sampled with probability 1 - exp(-n / mean).
 */
struct da_sampler {
	int64_t left;
	uint64_t rng;
	uint64_t mean;		/* 0: not seeded yet; 1: every call */
};

void da_sampler_seed(struct da_sampler *s, uint64_t mean, uint64_t seed);
/* A sample point was reached: draw the next one. Always true. */
bool da_sample_hit(struct da_sampler *s);
/* The first call of an unseeded (zeroed) sampler: seed it, then decide. */
bool da_sample_first(struct da_sampler *s, size_t n, uint64_t mean, uint64_t seed);

static inline int64_t da_clamp(size_t n)
{
	return (int64_t)(n > INT64_MAX / 4 ? INT64_MAX / 4 : n);
}

/* Is this block of n bytes sampled? (a seeded sampler) */
static inline bool da_sample(struct da_sampler *s, size_t n)
{
	s->left -= da_clamp(n);
	if (__builtin_expect(s->left > 0, 1))
		return false;
	return da_sample_hit(s);
}

uint64_t da_rand(struct da_sampler *s);

/*
 * What one sample of n bytes stands for (inverse of its probability): an
 * unbiased estimate of the bytes and of the number of blocks. Counts are
 * integers rounded at random so that their sum stays unbiased. Exact (n, 1)
 * with mean 1.
 */
void da_weight(struct da_sampler *s, size_t n, __u64 *bytes, __u64 *blocks);

/*
 * Open-addressed set of block addresses, lock-free: a block is inserted
 * after the allocator returned it and removed before it is given back, so
 * one address is never inserted and removed at once (that would be a
 * double free in the program). A slot goes empty -> address -> tombstone
 * -> address, never back to empty, so a lookup may stop at the first
 * empty slot; probes are bounded by DA_SET_PROBES so tombstones cost at
 * most that many loads.
 *
 * In front of the slots, a small table of counters (how many members hash
 * to each of its buckets; at DA_FILTER_STUCK a bucket stays so for good):
 * almost every free is of an unsampled block, and a zero counter, in
 * cache, answers for it without touching the large table (a cache and TLB
 * miss per free otherwise). A counter is raised before its block reaches
 * the program and lowered after the block left the set, so it is never
 * below the number of its members.
 */
#define DA_SET_PROBES	32
#define DA_FILTER_STUCK	255

struct da_set {
	uintptr_t *slot;	/* 1 << bits entries, zeroed */
	unsigned int bits;
	uint8_t *count;		/* 1 << count_bits counters, zeroed */
	unsigned int count_bits;
};

bool da_set_insert(const struct da_set *set, uintptr_t p);	/* false: no slot in reach */
bool da_set_remove(const struct da_set *set, uintptr_t p);	/* true: it was there */

static inline uint8_t *da_set_counter(const struct da_set *set, uintptr_t p)
{
	return &set->count[((uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - set->count_bits)];
}

/* false: p is certainly not a member (the free path's test, inlined) */
static inline bool da_set_may_hold(const struct da_set *set, uintptr_t p)
{
	return __atomic_load_n(da_set_counter(set, p), __ATOMIC_RELAXED) != 0;
}

/*
 * Frame-pointer walk from the frame at fp (the allocator wrapper's own):
 * ips[0] is its return address into the caller. A frame must lie in
 * [lo, hi - 16], 8-aligned, above the previous one, so that code built
 * without frame pointers ends the walk instead of faulting. Returns the
 * number of addresses stored; ips[n] is 0 when n < max.
 */
unsigned int da_walk(uintptr_t fp, uintptr_t lo, uintptr_t hi, __u64 *ips, unsigned int max);

/* Non-zero 64-bit hash of a stack: its id in BPF's stack table. */
uint64_t da_stack_hash(const __u64 *ips, unsigned int n);

/*
 * The address range at the start of a /proc/self/maps line ("start-end ..."),
 * len bytes long. false when the line does not start with one.
 */
bool da_maps_range(const char *line, size_t len, uintptr_t *lo, uintptr_t *hi);

/* A whole /proc/self/maps line of a file mapping. */
struct da_map {
	uintptr_t lo, hi;
	uint64_t off;		/* file offset of lo */
	uint64_t ino;
	const char *path;	/* into the line, path_len bytes, not terminated */
	size_t path_len;
};

/*
 * "start-end perms offset dev inode path", len bytes long. false unless it
 * has every field and a path starting with '/'.
 */
bool da_maps_file(const char *line, size_t len, struct da_map *m);

#endif
