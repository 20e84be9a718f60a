// SPDX-License-Identifier: GPL-2.0
/*
 * sched collector: run-queue latency (wakeup/new -> on CPU, preempted ->
 * on CPU) per process and cgroup, switches, migrations, outliers with the
 * task that ran instead. Aggregates in the kernel; streams only outliers.
 *
 * Three variants of each hook (tp_btf, raw_tp, tracepoint) share one body;
 * tp_btf keeps per-task timestamps in task storage, the others (no BTF
 * task pointer to key storage on) in an LRU hash keyed by pid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sched.h"
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "hist.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_latency_ns = 10000000;
/* fa2c3254d7cf (5.18) passes prev_state to sched_switch as argument 4 */
const volatile bool switch_has_state = true;

struct tstate {
	__u64 enq_ns;
	__u32 kind;
	__u32 tgid;	/* learned while the task was current (fallbacks) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tstate);
} task_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct tstate);
} pid_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCHED_NHISTS);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_counters);
} counters SEC(".maps");

/*
 * Per-CPU values: every update is a plain add on this CPU's copy, no
 * atomics on the hot path; userspace sums the copies.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sched_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct hist);
} cgroups SEC(".maps");

/* never written: the zeroed value new hash entries are created from */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_proc);
} zero SEC(".maps");

static __always_inline struct sched_counters *cnt(void)
{
	__u32 z = 0;

	return bpf_map_lookup_elem(&counters, &z);
}

static __always_inline struct sched_proc *proc_get(__u32 tgid, const char *comm)
{
	struct sched_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	struct sched_counters *c;
	__u32 z = 0;
	void *zv;

	if (p)
		return p;
	zv = bpf_map_lookup_elem(&zero, &z);
	if (!zv)
		return NULL;
	if (bpf_map_update_elem(&procs, &tgid, zv, BPF_NOEXIST) == -E2BIG) {
		c = cnt();
		if (c)
			c->procs_full++;
		return NULL;
	}
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p && comm)
		bpf_probe_read_kernel_str(p->comm, sizeof(p->comm), comm);
	return p;
}

static __always_inline void cgroup_add(__u64 cgid, __u64 delta)
{
	struct hist *h = bpf_map_lookup_elem(&cgroups, &cgid);
	struct sched_counters *c;
	__u32 z = 0;
	void *zv;

	if (!h) {
		zv = bpf_map_lookup_elem(&zero, &z);
		if (!zv)
			return;
		if (bpf_map_update_elem(&cgroups, &cgid, zv, BPF_NOEXIST) == -E2BIG) {
			c = cnt();
			if (c)
				c->cgroups_full++;
			return;
		}
		h = bpf_map_lookup_elem(&cgroups, &cgid);
		if (!h)
			return;
	}
	hist_add(h, delta);
}

static __always_inline struct tstate *state_get(struct task_struct *t, __u32 pid,
						bool use_storage, bool create)
{
	struct tstate zero_st = {};

	if (use_storage)
		return bpf_task_storage_get(&task_ts, t, 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (create)
		bpf_map_update_elem(&pid_ts, &pid, &zero_st, BPF_NOEXIST);
	return bpf_map_lookup_elem(&pid_ts, &pid);
}

/* Mark a task as entering the run queue. */
static __always_inline void enqueue(struct task_struct *t, __u32 pid, __u32 tgid,
				    __u64 cgid, const char *comm, __u32 kind,
				    bool use_storage)
{
	struct tstate *st;

	if (!pid || !want_task(tgid, cgid, comm))
		return;
	st = state_get(t, pid, use_storage, true);
	if (!st)
		return;
	st->enq_ns = bpf_ktime_get_ns();
	st->kind = kind;
	if (tgid)
		st->tgid = tgid;
}

static __always_inline void account_switch(__u32 tgid, const char *comm, bool voluntary)
{
	struct sched_counters *c = cnt();
	struct sched_proc *p;

	if (c) {
		if (voluntary)
			c->voluntary++;
		else
			c->involuntary++;
	}
	p = proc_get(tgid, comm);
	if (!p)
		return;
	if (voluntary)
		p->voluntary++;
	else
		p->involuntary++;
}

static __always_inline void on_cpu(struct tstate *st, __u32 pid, __u32 tgid, __u64 cgid,
				   const char *comm, __u32 prev_pid, __u32 prev_tgid,
				   const char *prev_comm)
{
	__u64 now = bpf_ktime_get_ns(), delta;
	struct sched_counters *c;
	struct sched_event *e;
	struct sched_proc *p;
	struct hist *h;
	__u32 kind, slot;

	if (!st || !st->enq_ns)
		return;
	delta = now - st->enq_ns;
	kind = st->kind;
	st->enq_ns = 0;
	if (!tgid)
		tgid = st->tgid;

	slot = SCHED_HIST_ALL;
	h = bpf_map_lookup_elem(&hists, &slot);
	if (h)
		hist_add(h, delta);
	slot = kind == SCHED_KIND_PREEMPT ? SCHED_HIST_PREEMPT :
	       kind == SCHED_KIND_NEW ? SCHED_HIST_NEW : SCHED_HIST_WAKEUP;
	h = bpf_map_lookup_elem(&hists, &slot);
	if (h)
		hist_add(h, delta);
	c = cnt();
	if (c)
		c->samples++;
	p = proc_get(tgid, comm);
	if (p)
		hist_add(&p->lat, delta);
	cgroup_add(cgid, delta);

	if (delta < min_latency_ns)
		return;
	if (c)
		c->outliers++;
	e = ring_reserve(sizeof(*e));
	if (!e)
		return;
	e->type = SCHED_EV_OUTLIER;
	e->cpu = bpf_get_smp_processor_id();
	e->ts_ns = now;
	e->latency_ns = delta;
	e->cgroup_id = cgid;
	e->pid = pid;
	e->tgid = tgid;
	e->prev_pid = prev_pid;
	e->prev_tgid = prev_tgid;
	e->kind = kind;
	e->pad = 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	bpf_probe_read_kernel_str(e->prev_comm, sizeof(e->prev_comm), prev_comm);
	ring_submit(e);
}

/* ---- BTF-typed and raw variants: task pointers available ---------------- */

static __always_inline void wakeup_task(struct task_struct *p, __u32 kind, bool use_storage)
{
	__u32 pid = BPF_CORE_READ(p, pid), tgid = BPF_CORE_READ(p, tgid);
	__u64 cgid = filter_cgroup_id ? get_task_cgroup_id(p) : 0;

	enqueue(p, pid, tgid, cgid, p->comm, kind, use_storage);
}

static __always_inline void switch_task(bool preempt, struct task_struct *prev,
					struct task_struct *next, __u32 prev_state,
					bool use_storage)
{
	__u32 prev_pid = BPF_CORE_READ(prev, pid), prev_tgid = BPF_CORE_READ(prev, tgid);
	__u32 next_pid = BPF_CORE_READ(next, pid), next_tgid;
	__u64 cgid;

	if (!switch_has_state)
		prev_state = get_task_state(prev);
	if (prev_pid) {
		bool runnable = preempt || prev_state == 0;

		if (want_current()) {
			account_switch(prev_tgid, prev->comm, !preempt && prev_state != 0);
			if (runnable)
				enqueue(prev, prev_pid, prev_tgid, 0, prev->comm,
					SCHED_KIND_PREEMPT, use_storage);
		}
	}
	if (!next_pid)
		return;
	next_tgid = BPF_CORE_READ(next, tgid);
	cgid = get_task_cgroup_id(next);
	on_cpu(state_get(next, next_pid, use_storage, false), next_pid, next_tgid, cgid,
	       next->comm, prev_pid, prev_tgid, prev->comm);
}

static __always_inline void account_migration(__u32 tgid, const char *comm)
{
	struct sched_counters *c = cnt();
	struct sched_proc *p;

	if (c)
		c->migrations++;
	p = proc_get(tgid, comm);
	if (p)
		p->migrations++;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup_btf, struct task_struct *p)
{
	wakeup_task(p, SCHED_KIND_WAKEUP, true);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new_btf, struct task_struct *p)
{
	wakeup_task(p, SCHED_KIND_NEW, true);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	/* the 4th argument exists only since 5.18; read it only then */
	__u32 prev_state = switch_has_state ? (__u32)ctx[3] : 0;

	switch_task(preempt, prev, next, prev_state, true);
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(sched_migrate_btf, struct task_struct *p, int dest_cpu)
{
	__u32 tgid = p->tgid;

	if (want_task(tgid, 0, p->comm))
		account_migration(tgid, p->comm);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(sched_wakeup_raw, struct task_struct *p)
{
	wakeup_task(p, SCHED_KIND_WAKEUP, false);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new_raw, struct task_struct *p)
{
	wakeup_task(p, SCHED_KIND_NEW, false);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u32 prev_state = switch_has_state ? (__u32)ctx[3] : 0;

	switch_task(preempt, prev, next, prev_state, false);
	return 0;
}

SEC("raw_tp/sched_migrate_task")
int BPF_PROG(sched_migrate_raw, struct task_struct *p, int dest_cpu)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (want_task(tgid, 0, p->comm))
		account_migration(tgid, p->comm);
	return 0;
}

/* ---- classic tracepoints: only pids and comms in the record ------------- */

/*
 * __trace_sched_switch_state() reports a preempted task as TASK_REPORT_MAX
 * (0x100 since 3f5fe9fef5b2, "sched/debug: Fix task state recording/printout",
 * 4.14), never as a sleeping state; real states are single bits below it.
 */
#define TP_PREEMPTED 0x100

SEC("tp/sched/sched_wakeup")
int sched_wakeup_tp(struct trace_event_raw_sched_wakeup_template *ctx)
{
	struct tstate *st = bpf_map_lookup_elem(&pid_ts, &ctx->pid);
	__u32 tgid = st ? st->tgid : 0;

	enqueue(NULL, ctx->pid, tgid, 0, ctx->comm, SCHED_KIND_WAKEUP, false);
	return 0;
}

SEC("tp/sched/sched_wakeup_new")
int sched_wakeup_new_tp(struct trace_event_raw_sched_wakeup_template *ctx)
{
	/* a new thread of the current process, or a new process (tgid = pid) */
	__u64 cur = bpf_get_current_pid_tgid();
	__u32 tgid = ctx->pid;

	/* thread creation runs in the parent: same process unless it forked */
	if ((__u32)cur != ctx->pid && (cur >> 32) != (__u32)cur)
		tgid = cur >> 32;
	enqueue(NULL, ctx->pid, tgid, 0, ctx->comm, SCHED_KIND_NEW, false);
	return 0;
}

SEC("tp/sched/sched_switch")
int sched_switch_tp(struct trace_event_raw_sched_switch *ctx)
{
	__u64 cur = bpf_get_current_pid_tgid();
	__u32 prev_pid = ctx->prev_pid, prev_tgid = cur >> 32, next_pid = ctx->next_pid;
	long state = ctx->prev_state;
	bool preempt = state & TP_PREEMPTED;
	struct tstate *st;

	if (prev_pid) {
		bool runnable = preempt || state == 0;

		if (want_current()) {
			account_switch(prev_tgid, ctx->prev_comm, !preempt && state != 0);
			if (runnable) {
				enqueue(NULL, prev_pid, prev_tgid, 0, ctx->prev_comm,
					SCHED_KIND_PREEMPT, false);
			} else {
				/* remember the tgid for when it is woken */
				st = state_get(NULL, prev_pid, false, true);
				if (st)
					st->tgid = prev_tgid;
			}
		}
	}
	if (!next_pid)
		return 0;
	st = bpf_map_lookup_elem(&pid_ts, &next_pid);
	on_cpu(st, next_pid, 0, 0, ctx->next_comm, prev_pid, prev_tgid, ctx->prev_comm);
	return 0;
}

SEC("tp/sched/sched_migrate_task")
int sched_migrate_tp(struct trace_event_raw_sched_migrate_task *ctx)
{
	struct tstate *st = bpf_map_lookup_elem(&pid_ts, &ctx->pid);

	if (st && st->tgid && want_task(st->tgid, 0, ""))
		account_migration(st->tgid, NULL);
	return 0;
}
