/* SPDX-License-Identifier: GPL-2.0 */
/* sched collector: event and map value ABI shared with user/collectors/col_sched.c. */
#ifndef DISCO_SCHED_H
#define DISCO_SCHED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "hist.h"

enum sched_kind {
	SCHED_KIND_WAKEUP = 0,		/* woken from sleep */
	SCHED_KIND_NEW = 1,		/* first run after fork */
	SCHED_KIND_PREEMPT = 2,		/* preempted while runnable */
};

/* slots of the per-CPU "hists" array */
enum sched_hist {
	SCHED_HIST_ALL = 0,
	SCHED_HIST_WAKEUP,
	SCHED_HIST_NEW,
	SCHED_HIST_PREEMPT,
	SCHED_NHISTS,
};

enum sched_event_type {
	SCHED_EV_OUTLIER = 1,
};

/* A run-queue wait over the threshold, with the task that ran instead. */
struct sched_event {
	__u32 type;
	__u32 cpu;
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 latency_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tgid;
	__u32 prev_pid;
	__u32 prev_tgid;
	__u32 kind;		/* enum sched_kind */
	__u32 pad;
	char comm[16];
	char prev_comm[16];
};
_Static_assert(sizeof(struct sched_event) == 88, "sched_event ABI");

struct sched_counters {
	__u64 voluntary;
	__u64 involuntary;
	__u64 migrations;
	__u64 samples;
	__u64 outliers;
	__u64 procs_full;	/* no entry made (table full, no memory): per-process stats lost */
	__u64 procs_retry_ns;	/* this CPU makes no entry before then (not summed) */
};
_Static_assert(sizeof(struct sched_counters) == 56, "sched_counters ABI");

/* the one per-CPU value of "cpu_stats": one lookup per event for all */
struct sched_cpu {
	struct hist h[SCHED_NHISTS];
	struct sched_counters c;
};
_Static_assert(sizeof(struct sched_cpu) == SCHED_NHISTS * sizeof(struct hist) + 56, "sched_cpu ABI");

/*
 * value of the "procs" per-CPU hash, keyed by tgid. cgroup_id is read once,
 * when the entry is made: per-cgroup figures are sums over processes, which
 * keeps cgroup lookups off the per-switch path.
 */
struct sched_proc {
	struct hist lat;
	__u64 voluntary;
	__u64 involuntary;
	__u64 migrations;
	__u64 cgroup_id;
	__u64 comm_ns;		/* when comm was set on this CPU's copy (exec) */
	char comm[16];
};
_Static_assert(sizeof(struct sched_proc) == sizeof(struct hist) + 56, "sched_proc ABI");

#endif
