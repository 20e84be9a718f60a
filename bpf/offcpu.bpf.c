// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu collector: time tasks spend blocked (off CPU in a sleeping
 * state), by kernel and user stack, and for long blocks the waker's stacks.
 *
 * Walking a user stack from BPF costs ~4.6 us on this guest, too much for
 * every switch. So: switch-out stores only a timestamp; switch-in, which
 * knows the block's length, takes the kernel stack of the task coming in
 * (bpf_get_task_stack: where it blocked) for blocks of at least
 * min_block_ns only; the user stack, unchanged while the task was blocked,
 * is taken when the task itself next leaves a system call (sys_exit), and
 * only if a long block is pending.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "offcpu.h"
#include "common.bpf.h"
#include "stacks.bpf.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h; not in vmlinux.h */

const volatile __u64 min_block_ns = 1000000;
const volatile __u64 waker_min_ns = 10000000;

/*
 * Long blocks waiting for their task's sys_exit, machine-wide. Nearly
 * always 0 (a block is pending from its switch-in to the task's next
 * return to user space), so sys_exit, which runs for every system call,
 * mostly ends on this one read instead of a task storage lookup. A task
 * that exits with a block pending leaves it counted: sys_exit then looks
 * up storage every time, as if there were no counter.
 */
__u64 npending;

struct tstate {
	__u64 off_ns;		/* left the CPU asleep at, 0 if not blocked */
	__u64 pend_ns;		/* a long block waiting for its user stack */
	__u64 pend_kstack;
	__u32 pend_waker_tgid;	/* 0: no waker captured */
	__s32 pend_waker_ustack;
	__s32 pend_waker_kstack;
	__u32 pad;
	char pend_waker_comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tstate);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, OFFCPU_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, OFFCPU_USTACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_MAX_STACKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct offcpu_kstack);
} kstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct offcpu_kstack);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_MAX_KEYS);
	__type(key, struct offcpu_key);
	__type(value, struct offcpu_val);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_MAX_KEYS);
	__type(key, struct offcpu_wkey);
	__type(value, struct offcpu_val);
} wakers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OFFCPU_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &slot);

	if (c)
		(*c)++;
}

static __always_inline void add(void *map, const void *key, __u64 ns)
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
			count(OFFCPU_C_KEYS_FULL);
			return;
		}
		__sync_fetch_and_add(&v->blocked_ns, ns);
		__sync_fetch_and_add(&v->count, 1);
	}
}

/* The kernel stack of t (not running) into "kstacks"; its hash, 0 on failure. */
static __always_inline __u64 task_kstack(struct task_struct *t)
{
	__u32 zero = 0;
	struct offcpu_kstack *s = bpf_map_lookup_elem(&scratch, &zero);
	__u64 h = 14695981039346656037ULL;
	long n;

	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	n = bpf_get_task_stack(t, s->ips, sizeof(s->ips), 0);
	if (n <= 0) {
		count(OFFCPU_C_KSTACK_ERR);
		return 0;
	}
	for (int i = 0; i < OFFCPU_KSTACK_DEPTH; i++) {
		if (!s->ips[i])
			break;
		h = (h ^ s->ips[i]) * 1099511628211ULL;
	}
	h |= 1;		/* never 0 */
	bpf_map_update_elem(&kstacks, &h, s, BPF_NOEXIST);
	return h;
}

/* Attribute a pending block to its stacks (ustack taken by the caller). */
static __always_inline void commit(struct tstate *st, __u32 tgid, const char *comm, __s32 ustack)
{
	struct offcpu_wkey wk = {};

	wk.blocked.tgid = tgid;
	wk.blocked.ustack = ustack;
	wk.blocked.kstack = st->pend_kstack;
	__builtin_memcpy(wk.blocked.comm, comm, 16);
	add(&blocked, &wk.blocked, st->pend_ns);
	if (st->pend_waker_tgid) {
		wk.waker_tgid = st->pend_waker_tgid;
		wk.waker_ustack = st->pend_waker_ustack;
		wk.waker_kstack = st->pend_waker_kstack;
		__builtin_memcpy(wk.waker_comm, st->pend_waker_comm, 16);
		add(&wakers, &wk, st->pend_ns);
	}
	st->pend_ns = 0;
	st->pend_waker_tgid = 0;
	__sync_fetch_and_add(&npending, -1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(offcpu_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns(), d;
	struct tstate *st;

	/* leaving asleep (not preempted, not yielding while runnable) */
	if (!preempt && get_task_state(prev) != 0 && prev->pid &&
	    want_task(prev->tgid, filter_cgroup_id ? get_task_cgroup_id(prev) : 0, prev->comm)) {
		st = bpf_task_storage_get(&tasks, prev, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (st)
			st->off_ns = now;
	}
	st = bpf_task_storage_get(&tasks, next, NULL, 0);
	if (!st || !st->off_ns)
		return 0;
	d = now - st->off_ns;
	st->off_ns = 0;
	if (d < min_block_ns) {
		count(OFFCPU_C_SHORT);
		return 0;
	}
	count(OFFCPU_C_BLOCKS);
	/* an earlier block never saw its task return to user space */
	if (st->pend_ns) {
		count(OFFCPU_C_MISSED);
		commit(st, next->tgid, next->comm, OFFCPU_USTACK_MISSED);
	}
	st->pend_kstack = task_kstack(next);
	st->pend_ns = d;
	__sync_fetch_and_add(&npending, 1);
	if (next->flags & PF_KTHREAD)
		commit(st, next->tgid, next->comm, OFFCPU_NO_USTACK);
	return 0;
}

/*
 * The woken task has been blocked long enough: remember who woke it.
 * sched_waking, not sched_wakeup: the latter runs on the wakee's CPU, in
 * its interrupt, when the wakeup is queued there (the wakee's CPU idle,
 * or not sharing a cache), so the "waker" was whatever that CPU ran.
 * sched_waking always runs in the waker's context.
 */
SEC("tp_btf/sched_waking")
int BPF_PROG(offcpu_waking_btf, struct task_struct *p)
{
	struct tstate *st = bpf_task_storage_get(&tasks, p, NULL, 0);
	__u64 id;

	if (!st || !st->off_ns || bpf_ktime_get_ns() - st->off_ns < waker_min_ns)
		return 0;
	id = bpf_get_current_pid_tgid();
	/* 0 means no waker: the idle task (whose wakeups come from interrupts) is kept as 1 */
	st->pend_waker_tgid = id >> 32 ?: 1;
	st->pend_waker_ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	st->pend_waker_kstack = bpf_get_stackid(ctx, &stacks, 0);
	bpf_get_current_comm(st->pend_waker_comm, sizeof(st->pend_waker_comm));
	return 0;
}

/* Back in its own context on the way to user space: the user stack of the block. */
static __always_inline void on_sys_exit(void *ctx)
{
	struct task_struct *t;
	struct tstate *st;
	char comm[16];
	__s32 ustack;

	if (!npending)
		return;
	t = bpf_get_current_task_btf();
	st = bpf_task_storage_get(&tasks, t, NULL, 0);
	if (!st || !st->pend_ns)
		return;
	ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (ustack < 0)
		count(OFFCPU_C_USTACK_ERR);
	bpf_get_current_comm(comm, sizeof(comm));
	commit(st, bpf_get_current_pid_tgid() >> 32, comm, ustack);
	announce(bpf_get_current_pid_tgid() >> 32, comm);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(offcpu_sys_exit_btf)
{
	on_sys_exit(ctx);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(offcpu_sys_exit_raw)
{
	on_sys_exit(ctx);
	return 0;
}
