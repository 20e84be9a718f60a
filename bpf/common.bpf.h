/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every collector's BPF object shares: filters (set as rodata by
 * COMMON_RODATA() in user/core/collector.h), the events ring buffer with its
 * wakeup discipline, and the per-CPU drop counter the loop reads by name.
 */
#ifndef DISCO_COMMON_BPF_H
#define DISCO_COMMON_BPF_H

#include "ring.h"

/* -p pids, plus the processes a COMMAND starts (followed at fork) */
#define FILTER_PIDS_MAX 8192
#define TASK_COMM_LEN 16
#ifndef E2BIG
#define E2BIG 7	/* errno values are not in vmlinux.h */
#endif

const volatile bool filter_pid_on = false;
const volatile __u64 filter_cgroup_id = 0;
const volatile char filter_comm[TASK_COMM_LEN] = {};
const volatile bool filter_comm_on = false;
/* with -- COMMAND: processes forked by a followed process are followed too */
const volatile bool filter_follow_forks = false;
/* force a consumer wakeup once this much data is waiting (SPEC §3) */
const volatile __u64 ring_wakeup_bytes = 1 << 20;
/* this collector's id, in front of each of its records (struct ring_hdr) */
const volatile __u16 ring_collector = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILTER_PIDS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * One ring for all collectors of a session: the recorder makes the first
 * collector's and the others reuse it (ring_setup in lifecycle.c), so
 * a session maps one ring, not one per collector (the consumer's mapping
 * is all resident: 4 MiB of RSS per 4 MiB ring, user/core/ringread.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

static __always_inline bool comm_match(const char *comm)
{
	if (!filter_comm_on)
		return true;
#pragma unroll
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/*
 * Follow the process tree of -- COMMAND, as perf does: a child of a
 * followed process joins filter_pids. Only loaded when there is a COMMAND
 * (follow_forks_select() in user/core/collector.c picks the variant).
 */
static __always_inline void follow_fork(__u32 parent_tgid, __u32 child_tgid)
{
	__u8 one = 1;

	if (!filter_follow_forks || parent_tgid == child_tgid ||
	    !bpf_map_lookup_elem(&filter_pids, &parent_tgid))
		return;
	bpf_map_update_elem(&filter_pids, &child_tgid, &one, BPF_ANY);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(follow_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	follow_fork(parent->tgid, child->tgid);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(follow_fork_raw, struct task_struct *parent, struct task_struct *child)
{
	follow_fork(BPF_CORE_READ(parent, tgid), BPF_CORE_READ(child, tgid));
	return 0;
}

/*
 * The record has pids only. It fires in the parent, so the parent's tgid
 * is current's; child_pid is the new process's tgid, or a new thread's id
 * (then an id no process has while the thread lives: harmless).
 */
SEC("tp/sched/sched_process_fork")
int follow_fork_tp(struct trace_event_raw_sched_process_fork *ctx)
{
	follow_fork(bpf_get_current_pid_tgid() >> 32, ctx->child_pid);
	return 0;
}

/* Filters for a task given its tgid, cgroup id and comm. */
static __always_inline bool want_task(__u32 tgid, __u64 cgid, const char *comm)
{
	if (filter_pid_on && !bpf_map_lookup_elem(&filter_pids, &tgid))
		return false;
	if (filter_cgroup_id && cgid != filter_cgroup_id)
		return false;
	if (filter_comm_on && !comm_match(comm))
		return false;
	return true;
}

/* Filters for the current task. */
static __always_inline bool want_current(void)
{
	char comm[TASK_COMM_LEN];
	__u32 tgid;

	/* each helper only for a filter that is on: most sessions have none */
	if (filter_pid_on) {
		tgid = bpf_get_current_pid_tgid() >> 32;
		if (!bpf_map_lookup_elem(&filter_pids, &tgid))
			return false;
	}
	if (filter_cgroup_id && bpf_get_current_cgroup_id() != filter_cgroup_id)
		return false;
	if (filter_comm_on) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (!comm_match(comm))
			return false;
	}
	return true;
}

static __always_inline void count_drops(__u64 n)
{
	__u32 zero = 0;
	__u64 *d = bpf_map_lookup_elem(&drops, &zero);

	if (d)
		*d += n;
}

static __always_inline void count_drop(void)
{
	count_drops(1);
}

/*
 * The index of a kernel object's pointer in a direct-mapped table of
 * 2^bits slots, of which mask + 1 are used (Fibonacci hashing of the low
 * half: allocations are at least 8-byte aligned, and the multiply spreads
 * neighbours apart).
 */
static __always_inline __u32 slot_index(__u64 ptr, int bits, __u32 mask)
{
	__u32 i;

	/*
	 * A tp_btf argument is a pointer to the verifier, which refuses to
	 * multiply one; a 32-bit move turns it into a number (for programs
	 * loaded with CAP_PERFMON, as tracing programs are).
	 */
	asm volatile("w0 = w0" : "+{r0}"(ptr));
	i = (__u32)ptr * 0x9e3779b9u;
	return (i >> (32 - bits)) & mask;
}

/*
 * Reserve an event behind its ring_hdr (which says whose it is); a
 * failure is counted, never silent. Submit it with ring_submit*().
 */
static __always_inline void *ring_reserve(__u64 size)
{
	struct ring_hdr *h = bpf_ringbuf_reserve(&events, sizeof(*h) + size, 0);

	if (!h) {
		count_drop();
		return NULL;
	}
	h->collector = ring_collector;
	h->nrec = 0;
	h->pad2 = 0;
	return h + 1;
}

/* A rare event the consumer should see now (it wakes it). */
static __always_inline void ring_submit_wake(void *e)
{
	bpf_ringbuf_submit((struct ring_hdr *)e - 1, BPF_RB_FORCE_WAKEUP);
}

/*
 * Submit without waking the consumer (a wakeup per event costs more than
 * the event; SPEC §3) unless the ring is filling up. The consumer also
 * drains on its own timer.
 */
static __always_inline __u64 ring_submit_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	return avail >= ring_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
					  : BPF_RB_NO_WAKEUP;
}

static __always_inline void ring_submit(void *e)
{
	bpf_ringbuf_submit((struct ring_hdr *)e - 1, ring_submit_flags());
}

/*
 * Copy nrec events of size each, which follow h, to the ring as one
 * record (one reservation for all: its lock is most of a record's cost);
 * a failure counts nrec drops.
 */
static __always_inline void ring_output_batch(struct ring_hdr *h, __u64 size,
					      __u16 nrec)
{
	__u64 len = size * nrec;

	h->collector = ring_collector;
	h->nrec = nrec;
	h->pad2 = 0;
	/* an add, not the or clang makes of it, keeps the verifier's bounds */
	barrier_var(len);
	len += sizeof(*h);
	if (bpf_ringbuf_output(&events, h, len, ring_submit_flags()))
		count_drops(nrec);
}

#endif
