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
 * only if a long block is pending. Short blocks, nearly all of them, are
 * told apart at switch-in and at the wakeup without a task storage lookup,
 * from when the task last got a CPU (the kernel's sched_info). The switch
 * side lives in offcpu_switch.bpf.h, which sched's program also runs when
 * both collectors do.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "stacks.bpf.h"
#include "core_fixes.bpf.h"
#include "offcpu_switch.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* one jiffy (HZ 250: 4 ms; userspace sets the kernel's own) */
const volatile __u64 tick_ns = 4000000;

/* the waker's stacks (user and kernel, by id) */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, OFFCPU_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, OFFCPU_USTACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/*
 * On the common path, a task going to sleep and one coming back from a
 * short block, this costs one task storage lookup: prev's. next's storage
 * is only looked at when next may have been off the CPU for --min-block
 * (offcpu_short_since_arrival()).
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(offcpu_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = offcpu_switch_clock(prev);
	struct task_state *ts;

	offcpu_cpu_clock_set(now);
	if (offcpu_sleeps(preempt, offcpu_prev_state(prev)) && prev->pid &&
	    want_task(prev->tgid, filter_cgroup_id ? get_task_cgroup_id(prev) : 0, prev->comm)) {
		ts = bpf_task_storage_get(&task_ts, prev, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (ts)
			offcpu_switch_out(prev, &ts->o, now);
	}
	if (!next->pid || offcpu_short_since_arrival(next, now))
		return 0;
	ts = bpf_task_storage_get(&task_ts, next, NULL, 0);
	if (ts)
		offcpu_switch_in(next, &ts->o, now);
	return 0;
}

/*
 * At most the run queue clock's value now on this CPU, without reading a
 * clock: the value at this CPU's last switch plus the jiffies since, plus
 * one (a jiffy may have nearly passed unseen). 0 if unknown.
 */
static __always_inline __u64 offcpu_cpu_now_max(void)
{
	__u32 zero = 0;
	struct offcpu_cpu_clock *c = bpf_map_lookup_elem(&offcpu_cpu_clock, &zero);

	if (!c || !c->clock)
		return 0;
	return c->clock + (bpf_jiffies64() - c->jiffies + 1) * tick_ns;
}

/*
 * The woken task may have been blocked long enough: remember who woke it.
 * sched_waking, not sched_wakeup: the latter runs on the wakee's CPU, in
 * its interrupt, when the wakeup is queued there (the wakee's CPU idle,
 * or not sharing a cache), so the "waker" was whatever that CPU ran.
 * sched_waking always runs in the waker's context. Most wakeups end
 * short blocks: when even the time since the task last got a CPU is
 * under --waker-min, its storage is not looked at. Else the length so
 * far is judged in jiffies (a few ns to read where the clock costs 50-100
 * here), which may count one less than the ticks that passed: at
 * switch-in the exact length decides whether the waker is kept. A task
 * woken before it got to sleep (its last block ended another run) is not
 * blocked.
 */
SEC("tp_btf/sched_waking")
int BPF_PROG(offcpu_waking_btf, struct task_struct *p)
{
	__u64 arrival = offcpu_arrival(p), now_max = arrival ? offcpu_cpu_now_max() : 0;
	struct task_state *ts;
	struct offcpu_waker *w;
	__u64 id;

	if (now_max && (__s64)(now_max - arrival) < (__s64)offcpu_waker_min_ns)
		return 0;
	ts = bpf_task_storage_get(&task_ts, p, NULL, 0);
	if (!ts || !ts->o.off_ns || ts->o.off_arrival != arrival ||
	    (bpf_jiffies64() - ts->o.off_jiffies + 1) * tick_ns < offcpu_waker_min_ns)
		return 0;
	w = &ts->o.waker;
	ts->o.waker_of = ts->o.off_ns;
	id = bpf_get_current_pid_tgid();
	/* 0 means no waker: the idle task (whose wakeups come from interrupts) is kept as 1 */
	w->tgid = id >> 32 ?: 1;
	w->ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	w->kstack = bpf_get_stackid(ctx, &stacks, 0);
	bpf_get_current_comm(w->comm, sizeof(w->comm));
	return 0;
}

static __always_inline bool none_pending(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&offcpu_pending, &zero);

	return !n || !*n;
}

/* Back in its own context on the way to user space: the user stack of the block. */
static __always_inline void on_sys_exit(void *ctx)
{
	struct task_state *ts;
	char comm[16];
	__s32 ustack;

	if (none_pending())
		return;
	ts = bpf_task_storage_get(&task_ts, bpf_get_current_task_btf(), NULL, 0);
	if (!ts || !ts->o.pend_ns)
		return;
	ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (ustack < 0)
		offcpu_count(OFFCPU_C_USTACK_ERR);
	bpf_get_current_comm(comm, sizeof(comm));
	offcpu_commit(&ts->o, bpf_get_current_pid_tgid() >> 32, comm, ustack);
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

/*
 * A thread that exits with a block pending (the block ended in a page
 * fault, and the next system call was exit_group) never reaches sys_exit
 * again: its block is attributed without a user stack, so that the
 * pending count goes back down (left up, every sys_exit would look up
 * task storage for the rest of the session). Blocks in the exit path
 * itself are attributed at switch-in (PF_EXITING).
 */
static __always_inline void on_exit(void)
{
	struct task_state *ts;
	char comm[16];

	if (none_pending())
		return;
	ts = bpf_task_storage_get(&task_ts, bpf_get_current_task_btf(), NULL, 0);
	if (!ts || !ts->o.pend_ns)
		return;
	bpf_get_current_comm(comm, sizeof(comm));
	offcpu_commit(&ts->o, bpf_get_current_pid_tgid() >> 32, comm, OFFCPU_USTACK_EXITED);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(offcpu_exit_btf)
{
	on_exit();
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(offcpu_exit_raw)
{
	on_exit();
	return 0;
}
