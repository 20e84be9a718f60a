/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log-linear histogram shared by BPF and userspace (ABI).
 *
 * Values below 16 get one slot each; above, every power of two [2^k, 2^k+1)
 * is cut into 16 equal sub-buckets. Reporting a bucket's midpoint is then
 * within 1/32 (3.1%) of any value in it, inside SPEC §3's 4% bound.
 */
#ifndef DISCO_HIST_H
#define DISCO_HIST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HIST_SUB_BITS	4
#define HIST_SUB	(1 << HIST_SUB_BITS)
/* 2^36 ns is 68 s; larger values share the last slot, max stays exact. */
#define HIST_MAX_OCTAVE	35
#define HIST_SLOTS	(HIST_SUB + (HIST_MAX_OCTAVE - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	__u64 slots[HIST_SLOTS];
	__u64 count;
	__u64 sum;
	__u64 max;
};

_Static_assert(sizeof(struct hist) == (HIST_SLOTS + 3) * 8, "hist ABI");

#endif
