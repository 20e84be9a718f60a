// SPDX-License-Identifier: GPL-2.0
/*
 * sched collector: run-queue latency (wakeup/new -> on CPU, preempted ->
 * on CPU) per process and cgroup, switches, migrations, outliers with the
 * task that ran instead. Aggregates in the kernel; streams only outliers.
 *
 * Three variants of each hook (tp_btf, raw_tp, tracepoint) share one body;
 * tp_btf keeps per-task timestamps in task storage, the others (no BTF
 * task pointer to key storage on) in an LRU hash keyed by pid. With the
 * offcpu collector in the same session, sched_offcpu_switch_btf replaces
 * sched_switch_btf and does offcpu's switch side too (offcpu_switch.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sched.h"
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "hist.bpf.h"
#include "offcpu_switch.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_latency_ns = 10000000;
/* fa2c3254d7cf (5.18) passes prev_state to sched_switch as argument 4 */
const volatile bool switch_has_state = true;

/* task storage (task_ts, struct task_state) is declared in offcpu_switch.bpf.h */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct sched_tstate);
} pid_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_cpu);
} cpu_stats SEC(".maps");

/*
 * Per-CPU values: every update is a plain add on this CPU's copy, no
 * atomics on the hot path; userspace sums the copies. Sized at load by
 * col_sched.c. Where probe_htab_runtime_alloc() says so (bpf_mem_alloc,
 * 6.1+, and not PREEMPT_RT) entries are allocated as processes appear;
 * otherwise the table is preallocated (a new entry takes one from a free
 * list) and zeroed whole when the map is made. Not at run time on RT: the
 * allocator's cache is refilled by an irq_work with GFP_NOWAIT per-CPU
 * allocations, which there runs in the SCHED_FIFO irq_work/N thread, whose
 * own switches run this program: seen on Debian's 6.1 RT under qemu, once
 * the atomic per-CPU pool ran dry the irq_work threads failed allocations
 * thousands of times a second ahead of the per-CPU balance worker that
 * refills the pool, and every bpf() program load waited on it. (Before
 * 6.1, RT kernels refuse tracing programs a hash map without
 * preallocation, and others warn.)
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct sched_proc);
} procs SEC(".maps");

/* never written: the zeroed value new hash entries are created from */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_proc);
} zero SEC(".maps");

static __always_inline struct sched_cpu *cpu_stats_get(void)
{
	__u32 z = 0;

	return bpf_map_lookup_elem(&cpu_stats, &z);
}

/*
 * After an entry could not be made (the table is full), this CPU tries to
 * make none for 10 ms: a full table would cost a failed update on every
 * switch. The samples are counted in procs_full.
 */
#define PROCS_RETRY_NS 10000000ULL

/*
 * The per-process entry; made on first sight, when the task (if known) is
 * read once for its cgroup.
 */
static __always_inline struct sched_proc *proc_get(struct sched_cpu *cs, __u32 tgid,
						   const char *comm, struct task_struct *t)
{
	struct sched_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	__u32 z = 0;
	__u64 now;
	void *zv;
	long err;

	if (p)
		return p;
	zv = bpf_map_lookup_elem(&zero, &z);
	if (!zv || !cs)
		return NULL;
	now = bpf_ktime_get_ns();
	if (now < cs->c.procs_retry_ns) {
		cs->c.procs_full++;
		return NULL;
	}
	err = bpf_map_update_elem(&procs, &tgid, zv, BPF_NOEXIST);
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p) {
		cs->c.procs_full++;
		/*
		 * Only a full table waits: the allocator's cache (a table
		 * allocated at run time) is refilled within an interrupt or
		 * two, a busy bucket is free again at once.
		 */
		if (err == -E2BIG)
			cs->c.procs_retry_ns = now + PROCS_RETRY_NS;
		return NULL;
	}
	if (comm)
		bpf_probe_read_kernel_str(p->comm, sizeof(p->comm), comm);
	/* without a task pointer it is learned in account_switch() */
	p->cgroup_id = t ? get_task_cgroup_id(t) : 0;
	return p;
}

static __always_inline struct sched_tstate *state_get(struct task_struct *t, __u32 pid,
						      bool use_storage, bool create)
{
	struct sched_tstate zero_st = {};
	struct task_state *ts;

	if (use_storage) {
		ts = bpf_task_storage_get(&task_ts, t, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
		return ts ? &ts->s : NULL;
	}
	if (create)
		bpf_map_update_elem(&pid_ts, &pid, &zero_st, BPF_NOEXIST);
	return bpf_map_lookup_elem(&pid_ts, &pid);
}

/* Mark a task as entering the run queue at now. */
static __always_inline void enqueue(struct task_struct *t, __u32 pid, __u32 tgid,
				    const char *comm, __u32 kind, __u64 now,
				    bool use_storage)
{
	struct sched_tstate *st;

	if (!pid)
		return;
	st = state_get(t, pid, use_storage, true);
	if (!st)
		return;
	st->enq_ns = now;
	st->kind = kind;
	if (tgid)
		st->tgid = tgid;
}

/* prev (always the current task) leaves the CPU: count the switch */
static __always_inline void account_switch(struct sched_cpu *cs, __u32 tgid, const char *comm,
					   struct task_struct *t, bool voluntary)
{
	struct sched_proc *p;

	if (voluntary)
		cs->c.voluntary++;
	else
		cs->c.involuntary++;
	p = proc_get(cs, tgid, comm, t);
	if (!p)
		return;
	if (!p->cgroup_id)
		p->cgroup_id = bpf_get_current_cgroup_id();
	if (voluntary)
		p->voluntary++;
	else
		p->involuntary++;
}

/* next gets the CPU: its wait since enqueue is one sample */
static __always_inline void on_cpu(struct sched_cpu *cs, struct sched_tstate *st, __u64 now,
				   struct task_struct *t, __u32 pid, __u32 tgid,
				   const char *comm, __u32 prev_pid, __u32 prev_tgid,
				   const char *prev_comm)
{
	struct sched_event *e;
	struct sched_proc *p;
	__u64 delta;
	__u32 kind, slot;

	if (!st || !st->enq_ns)
		return;
	delta = now - st->enq_ns;
	kind = st->kind;
	st->enq_ns = 0;
	if (!tgid)
		tgid = st->tgid;

	hist_add(&cs->h[SCHED_HIST_ALL], delta);
	slot = kind == SCHED_KIND_PREEMPT ? SCHED_HIST_PREEMPT :
	       kind == SCHED_KIND_NEW ? SCHED_HIST_NEW : SCHED_HIST_WAKEUP;
	if (slot < SCHED_NHISTS)
		hist_add(&cs->h[slot], delta);
	cs->c.samples++;
	p = proc_get(cs, tgid, comm, t);
	if (p)
		hist_add(&p->lat, delta);

	if (delta < min_latency_ns)
		return;
	cs->c.outliers++;
	e = ring_reserve(sizeof(*e));
	if (!e)
		return;
	e->type = SCHED_EV_OUTLIER;
	e->cpu = bpf_get_smp_processor_id();
	e->ts_ns = now;
	e->latency_ns = delta;
	e->cgroup_id = p ? p->cgroup_id : 0;
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

static __always_inline void account_migration(__u32 tgid, const char *comm,
					      struct task_struct *t)
{
	struct sched_cpu *cs = cpu_stats_get();
	struct sched_proc *p;

	if (!cs)
		return;
	cs->c.migrations++;
	p = proc_get(cs, tgid, comm, t);
	if (p)
		p->migrations++;
}

/* ---- BTF-typed and raw variants: task pointers available ---------------- */

/*
 * Filters apply to the task that waits (woken or preempted); the task that
 * ran instead is reported whoever it is.
 */
static __always_inline bool want(struct task_struct *t, __u32 tgid)
{
	if (!filter_pid_on && !filter_cgroup_id && !filter_comm_on)
		return true;
	return want_task(tgid, filter_cgroup_id ? get_task_cgroup_id(t) : 0, t->comm);
}

static __always_inline void wakeup_task(struct task_struct *p, __u32 kind, bool use_storage)
{
	__u32 pid = BPF_CORE_READ(p, pid), tgid = BPF_CORE_READ(p, tgid);

	if (want(p, tgid))
		enqueue(p, pid, tgid, p->comm, kind, bpf_ktime_get_ns(), use_storage);
}

/*
 * with_offcpu (task storage only): offcpu's bookkeeping too, on the same
 * filter check and storage entries: the start of a block for a prev going
 * to sleep, its end for next (on offcpu's clock, offcpu_switch_clock()).
 */
static __always_inline void switch_task(bool preempt, struct task_struct *prev,
					struct task_struct *next, __u32 prev_state,
					bool use_storage, bool with_offcpu)
{
	__u32 prev_pid = BPF_CORE_READ(prev, pid), prev_tgid = BPF_CORE_READ(prev, tgid);
	__u32 next_pid = BPF_CORE_READ(next, pid);
	struct sched_cpu *cs = cpu_stats_get();
	__u64 now = bpf_ktime_get_ns(), oc_now = with_offcpu ? offcpu_switch_clock(prev) : 0;
	struct task_state *ts;

	if (!cs)
		return;
	if (with_offcpu)
		offcpu_cpu_clock_set(oc_now);
	if (!switch_has_state)
		prev_state = get_task_state(prev);
	if (prev_pid && want(prev, prev_tgid)) {
		account_switch(cs, prev_tgid, prev->comm, prev, !preempt && prev_state != 0);
		if (preempt || prev_state == 0) {
			enqueue(prev, prev_pid, prev_tgid, prev->comm, SCHED_KIND_PREEMPT,
				now, use_storage);
		} else if (with_offcpu) {
			ts = bpf_task_storage_get(&task_ts, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (ts)
				offcpu_switch_out(prev, &ts->o, oc_now);
		}
	}
	if (!next_pid)
		return;
	if (!with_offcpu) {
		on_cpu(cs, state_get(next, next_pid, use_storage, false), now, next, next_pid,
		       BPF_CORE_READ(next, tgid), next->comm, prev_pid, prev_tgid, prev->comm);
		return;
	}
	ts = bpf_task_storage_get(&task_ts, next, 0, 0);
	if (!ts)
		return;
	on_cpu(cs, &ts->s, now, next, next_pid, next->tgid, next->comm, prev_pid, prev_tgid,
	       prev->comm);
	offcpu_switch_in(next, &ts->o, oc_now);
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

	switch_task(preempt, prev, next, prev_state, true, false);
	return 0;
}

/* Loaded instead of sched_switch_btf when offcpu runs too (col_sched.c). */
SEC("tp_btf/sched_switch")
int BPF_PROG(sched_offcpu_switch_btf, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u32 prev_state = switch_has_state ? (__u32)ctx[3] : 0;

	switch_task(preempt, prev, next, prev_state, true, true);
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(sched_migrate_btf, struct task_struct *p, int dest_cpu)
{
	__u32 tgid = p->tgid;

	if (want(p, tgid))
		account_migration(tgid, p->comm, p);
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

	switch_task(preempt, prev, next, prev_state, false, false);
	return 0;
}

SEC("raw_tp/sched_migrate_task")
int BPF_PROG(sched_migrate_raw, struct task_struct *p, int dest_cpu)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (want(p, tgid))
		account_migration(tgid, p->comm, p);
	return 0;
}

/*
 * A process is often first seen before it execs (disco's own child, a
 * shell's fork): take the new name. The exec runs in the task itself, so
 * bpf_get_current_comm() already returns it in every variant. Only this
 * CPU's copy changes; comm_ns tells userspace which copy is newest.
 */
static __always_inline void on_exec(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sched_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (!p)
		return;
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	p->comm_ns = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec_btf)
{
	on_exec();
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(sched_exec_raw)
{
	on_exec();
	return 0;
}

SEC("tp/sched/sched_process_exec")
int sched_exec_tp(void *ctx)
{
	on_exec();
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
	__u32 pid = ctx->pid;	/* map keys must live on the stack */
	struct sched_tstate *st = bpf_map_lookup_elem(&pid_ts, &pid);
	__u32 tgid = st ? st->tgid : 0;

	/* tgid and cgroup were learned when the task last left a CPU */
	if (want_task(tgid, st ? st->cgid : 0, ctx->comm))
		enqueue(NULL, pid, tgid, ctx->comm, SCHED_KIND_WAKEUP, bpf_ktime_get_ns(), false);
	return 0;
}

SEC("tp/sched/sched_wakeup_new")
int sched_wakeup_new_tp(struct trace_event_raw_sched_wakeup_template *ctx)
{
	__u64 cur = bpf_get_current_pid_tgid();
	__u32 tgid = ctx->pid;

	/* a new thread is woken by its creator, a thread of the same process */
	if ((__u32)cur != ctx->pid && (cur >> 32) != (__u32)cur)
		tgid = cur >> 32;
	if (want_task(tgid, filter_cgroup_id ? bpf_get_current_cgroup_id() : 0, ctx->comm))
		enqueue(NULL, ctx->pid, tgid, ctx->comm, SCHED_KIND_NEW, bpf_ktime_get_ns(), false);
	return 0;
}

SEC("tp/sched/sched_switch")
int sched_switch_tp(struct trace_event_raw_sched_switch *ctx)
{
	__u64 cur = bpf_get_current_pid_tgid();
	__u32 prev_pid = ctx->prev_pid, prev_tgid = cur >> 32, next_pid = ctx->next_pid;
	long state = ctx->prev_state;
	bool preempt = state & TP_PREEMPTED;
	struct sched_cpu *cs = cpu_stats_get();
	__u64 now = bpf_ktime_get_ns();
	struct sched_tstate *st;

	if (!cs)
		return 0;
	if (prev_pid) {
		bool ok = want_current();

		if (ok)
			account_switch(cs, prev_tgid, ctx->prev_comm, NULL, !preempt && state != 0);
		if (preempt || state == 0) {
			if (ok)
				enqueue(NULL, prev_pid, prev_tgid, ctx->prev_comm,
					SCHED_KIND_PREEMPT, now, false);
		} else {
			/* what the wakeup record lacks, learned while current */
			st = state_get(NULL, prev_pid, false, true);
			if (st) {
				st->tgid = prev_tgid;
				if (filter_cgroup_id)
					st->cgid = bpf_get_current_cgroup_id();
			}
		}
	}
	if (!next_pid)
		return 0;
	st = bpf_map_lookup_elem(&pid_ts, &next_pid);
	on_cpu(cs, st, now, NULL, next_pid, 0, ctx->next_comm, prev_pid, prev_tgid, ctx->prev_comm);
	return 0;
}

SEC("tp/sched/sched_migrate_task")
int sched_migrate_tp(struct trace_event_raw_sched_migrate_task *ctx)
{
	__u32 pid = ctx->pid;
	struct sched_tstate *st = bpf_map_lookup_elem(&pid_ts, &pid);

	if (st && st->tgid && want_task(st->tgid, st->cgid, ""))
		account_migration(st->tgid, NULL, NULL);
	return 0;
}
