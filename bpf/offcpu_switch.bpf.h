/* SPDX-License-Identifier: GPL-2.0 */
/*
 * offcpu's side of sched_switch, and the per-task state it shares with
 * sched: included by offcpu.bpf.c (its own switch program) and by
 * sched.bpf.c, whose sched_offcpu_switch_btf does both collectors'
 * bookkeeping in one program when both run (one clock read, one filter
 * check, one task storage lookup per task). The maps declared here are
 * then made by sched's object and reused by offcpu's (OFFCPU_SHARED_MAPS,
 * collector_start()). Include after common.bpf.h and core_fixes.bpf.h.
 */
#ifndef DISCO_OFFCPU_SWITCH_BPF_H
#define DISCO_OFFCPU_SWITCH_BPF_H

#include "offcpu.h"

/* include/linux/sched.h; not in vmlinux.h */
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000

const volatile __u64 offcpu_min_block_ns = 1000000;
const volatile __u64 offcpu_waker_min_ns = 10000000;

/* sched: when the task entered the run queue (fallbacks keep it in a pid map) */
struct sched_tstate {
	__u64 enq_ns;
	__u32 kind;
	__u32 tgid;	/* learned while the task was current (fallbacks) */
	__u64 cgid;	/* same, only kept when filtering by cgroup */
};

struct offcpu_waker {
	__u32 tgid;		/* 0: none */
	__s32 ustack;
	__s32 kstack;
	__u32 pad;
	char comm[16];
};

struct offcpu_tstate {
	__u64 off_ns;		/* left the CPU asleep at (offcpu_switch_clock), 0 if not */
	__u64 off_jiffies;	/* the same in jiffies, for sched_waking */
	__u64 off_arrival;	/* offcpu_arrival() of the task then: which run it ended */
	__u64 pend_ns;		/* a long block waiting for its user stack */
	__u64 pend_kstack;
	/*
	 * off_ns of the block "waker" woke: a waker is for that block only,
	 * so it is never cleared on the common path (a store to one more
	 * cache line of the storage on every switch)
	 */
	__u64 waker_of;
	struct offcpu_waker waker;	/* who woke the block in progress */
	struct offcpu_waker pend_waker;	/* who woke the pending block */
};

struct task_state {
	struct sched_tstate s;
	struct offcpu_tstate o;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} task_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_MAX_STACKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct offcpu_kstack);
} offcpu_kstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct offcpu_kstack);
} offcpu_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_MAX_KEYS);
	__type(key, struct offcpu_key);
	__type(value, struct offcpu_val);
} offcpu_blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_MAX_KEYS);
	__type(key, struct offcpu_wkey);
	__type(value, struct offcpu_val);
} offcpu_wakers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OFFCPU_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_counters SEC(".maps");

/*
 * Long blocks waiting for their task's sys_exit, machine-wide. Nearly
 * always 0 (a block is pending from its switch-in to the task's next
 * return to user space, or its exit), so sys_exit, which runs for every
 * system call, mostly ends on this one read instead of a task storage
 * lookup. A map, not a global: both objects must see the same one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_pending SEC(".maps");

/*
 * Per CPU: the run queue's clock at this CPU's last switch and the
 * jiffies then, so that sched_waking can bound the time since then
 * without reading a clock (offcpu_cpu_now_max()).
 */
struct offcpu_cpu_clock {
	__u64 clock;
	__u64 jiffies;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct offcpu_cpu_clock);
} offcpu_cpu_clock SEC(".maps");

static __always_inline void offcpu_count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&offcpu_counters, &slot);

	if (c)
		(*c)++;
}

static __always_inline void offcpu_pending_add(__s64 n)
{
	__u32 zero = 0;
	__u64 *p = bpf_map_lookup_elem(&offcpu_pending, &zero);

	if (p)
		__sync_fetch_and_add(p, n);
}

static __always_inline void offcpu_add(void *map, const void *key, __u64 ns)
{
	struct offcpu_val *v = bpf_map_lookup_elem(map, key), nv = { ns, 1 };

	if (v) {
		__sync_fetch_and_add(&v->blocked_ns, ns);
		__sync_fetch_and_add(&v->count, 1);
		return;
	}
	if (bpf_map_update_elem(map, key, &nv, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(map, key);
		if (!v) {
			offcpu_count(OFFCPU_C_KEYS_FULL);
			return;
		}
		__sync_fetch_and_add(&v->blocked_ns, ns);
		__sync_fetch_and_add(&v->count, 1);
	}
}

/* The kernel stack of t (not running) into "offcpu_kstacks"; its hash, 0 on failure. */
static __always_inline __u64 offcpu_task_kstack(struct task_struct *t)
{
	__u32 zero = 0;
	struct offcpu_kstack *s = bpf_map_lookup_elem(&offcpu_scratch, &zero);
	__u64 h = 14695981039346656037ULL;
	long n;

	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	n = bpf_get_task_stack(t, s->ips, sizeof(s->ips), 0);
	if (n <= 0) {
		offcpu_count(OFFCPU_C_KSTACK_ERR);
		return 0;
	}
	for (int i = 0; i < OFFCPU_KSTACK_DEPTH; i++) {
		if (!s->ips[i])
			break;
		h = (h ^ s->ips[i]) * 1099511628211ULL;
	}
	h |= 1;		/* never 0 */
	bpf_map_update_elem(&offcpu_kstacks, &h, s, BPF_NOEXIST);
	return h;
}

/* Attribute a pending block to its stacks (ustack taken by the caller). */
static __always_inline void offcpu_commit(struct offcpu_tstate *st, __u32 tgid, const char *comm,
					  __s32 ustack)
{
	struct offcpu_wkey wk = {};

	wk.blocked.tgid = tgid;
	wk.blocked.ustack = ustack;
	wk.blocked.kstack = st->pend_kstack;
	__builtin_memcpy(wk.blocked.comm, comm, 16);
	offcpu_add(&offcpu_blocked, &wk.blocked, st->pend_ns);
	if (st->pend_waker.tgid) {
		wk.waker_tgid = st->pend_waker.tgid;
		wk.waker_ustack = st->pend_waker.ustack;
		wk.waker_kstack = st->pend_waker.kstack;
		__builtin_memcpy(wk.waker_comm, st->pend_waker.comm, 16);
		offcpu_add(&offcpu_wakers, &wk, st->pend_ns);
	}
	st->pend_ns = 0;
	st->pend_waker.tgid = 0;
	offcpu_pending_add(-1);
}

/*
 * The time of this switch for offcpu: the run queue's clock, which
 * __schedule() has just updated (sched_clock, in ns), read from memory
 * where bpf_ktime_get_ns() costs 50-100 ns here. Blocks are measured as
 * switch-in minus switch-out on that clock, as the kernel's own
 * schedstats do; where it is not stable across CPUs, a block that seems
 * to end before it began counts as short (offcpu_switch_in).
 */
static __always_inline __u64 offcpu_switch_clock(struct task_struct *prev)
{
	/* se.cfs_rq exists with CONFIG_FAIR_GROUP_SCHED (Debian: yes) */
	if (bpf_core_field_exists(prev->se.cfs_rq))
		return prev->se.cfs_rq->rq->clock;
	return bpf_ktime_get_ns();
}

/*
 * When t last got a CPU (sched_info_arrive(), CONFIG_SCHED_INFO), on the
 * same run queue clock: a block that t is in, or that ends now, began
 * after it. 0 where unknown (no such field, or offcpu_switch_clock() is
 * not the run queue's clock), which turns off what relies on it: every
 * switch-in and wakeup then looks at the task's storage.
 */
static __always_inline __u64 offcpu_arrival(struct task_struct *t)
{
	if (bpf_core_field_exists(t->sched_info.last_arrival) && bpf_core_field_exists(t->se.cfs_rq))
		return t->sched_info.last_arrival;
	return 0;
}

/* The state prev leaves the CPU in: a plain load (BPF_CORE_READ would call a helper). */
static __always_inline __u32 offcpu_prev_state(struct task_struct *prev)
{
	if (bpf_core_field_exists(prev->__state))
		return prev->__state;
	return ((struct task_struct___o *)prev)->state;
}

/* Every switch: this CPU's clock and jiffies now (struct offcpu_cpu_clock). */
static __always_inline void offcpu_cpu_clock_set(__u64 now)
{
	__u32 zero = 0;
	struct offcpu_cpu_clock *c = bpf_map_lookup_elem(&offcpu_cpu_clock, &zero);

	if (c) {
		c->clock = now;
		c->jiffies = bpf_jiffies64();
	}
}

/*
 * At most how long next can have been off the CPU, from when it last got
 * one: under --min-block, a block that ends now (if next is coming back
 * from one, not from a preemption) is short, and its storage is left
 * alone. Its off_ns stays set; the next time the task goes to sleep, or
 * comes back after at least --min-block, counts it as short
 * (offcpu_switch_out(), offcpu_switch_in()).
 */
static __always_inline bool offcpu_short_since_arrival(struct task_struct *next, __u64 now)
{
	__u64 a = offcpu_arrival(next);

	return a && (__s64)(now - a) < (__s64)offcpu_min_block_ns;
}

/*
 * prev goes to sleep at now. The jiffies are for sched_waking, which may
 * not read the coarse clock (tracing programs) and would pay 50-100 ns
 * for the exact one on every wakeup here: a helper that returns a
 * variable costs a few. A block still marked ended in a switch-in that
 * offcpu_short_since_arrival() found short.
 */
static __always_inline void offcpu_switch_out(struct task_struct *prev, struct offcpu_tstate *st,
					      __u64 now)
{
	if (st->off_ns)
		offcpu_count(OFFCPU_C_SHORT);
	st->off_ns = now;
	st->off_jiffies = bpf_jiffies64();
	st->off_arrival = offcpu_arrival(prev);
}

/* Is prev, leaving the CPU, going to sleep (not preempted, not yielding while runnable)? */
static __always_inline bool offcpu_sleeps(bool preempt, __u32 prev_state)
{
	return !preempt && prev_state != 0;
}

/*
 * next gets the CPU after st->off_ns: a block of at least min_block_ns
 * gets its kernel stack now (where next sleeps) and waits for its user
 * stack; shorter ones are only counted. A block that did not end the
 * task's last run (it ran since, and was preempted) ended short at a
 * switch-in not looked at.
 */
static __always_inline void offcpu_switch_in(struct task_struct *next, struct offcpu_tstate *st,
					     __u64 now)
{
	__u64 d, off = st->off_ns;
	unsigned int flags;

	if (!off)
		return;
	d = now - off;
	st->off_ns = 0;
	if ((__s64)d < (__s64)offcpu_min_block_ns || st->off_arrival != offcpu_arrival(next)) {
		offcpu_count(OFFCPU_C_SHORT);
		return;
	}
	offcpu_count(OFFCPU_C_BLOCKS);
	/* an earlier block never saw its task return to user space */
	if (st->pend_ns) {
		offcpu_count(OFFCPU_C_MISSED);
		offcpu_commit(st, next->tgid, next->comm, OFFCPU_USTACK_MISSED);
	}
	/* sched_waking judged the length in jiffies: the exact one decides */
	if (st->waker_of == off && d >= offcpu_waker_min_ns)
		st->pend_waker = st->waker;
	st->pend_kstack = offcpu_task_kstack(next);
	st->pend_ns = d;
	offcpu_pending_add(1);
	/* neither returns to user space: no user stack to wait for */
	flags = next->flags;
	if (flags & PF_KTHREAD)
		offcpu_commit(st, next->tgid, next->comm, OFFCPU_NO_USTACK);
	else if (flags & PF_EXITING)
		offcpu_commit(st, next->tgid, next->comm, OFFCPU_USTACK_EXITED);
}

#endif
