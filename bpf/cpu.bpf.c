// SPDX-License-Identifier: GPL-2.0
/*
 * cpu collector: on-CPU sampling from a software cpu-clock perf event on
 * every CPU. Counts are aggregated in the kernel per (process, user stack,
 * kernel stack); only a process's first sample (and the first after an
 * exec) reaches the ring, so userspace can capture its maps while it lives.
 * With --call-graph dwarf, each sample of a user task is a ring event
 * instead: its registers and the top of its stack, unwound in userspace.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cpu.h"
#include "common.bpf.h"
#include "stacks.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h; not in vmlinux.h */
#define ENOSPC 28

/* --call-graph dwarf: bytes of user stack copied per sample; 0: frame pointers */
const volatile __u32 dwarf_stack = 0;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, CPU_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, CPU_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_KEYS);
	__type(key, struct cpu_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CPU_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &slot);

	if (c)
		(*c)++;
}

#if defined(__TARGET_ARCH_x86)
/* The user registers in DWARF order (bpf/cpu.h). */
static __always_inline void dwarf_regs(const struct pt_regs *r, __u64 *v)
{
	v[0] = r->ax;
	v[1] = r->dx;
	v[2] = r->cx;
	v[3] = r->bx;
	v[4] = r->si;
	v[5] = r->di;
	v[6] = r->bp;
	v[7] = r->sp;
	v[8] = r->r8;
	v[9] = r->r9;
	v[10] = r->r10;
	v[11] = r->r11;
	v[12] = r->r12;
	v[13] = r->r13;
	v[14] = r->r14;
	v[15] = r->r15;
	v[16] = r->ip;
}

/*
 * One ring event with the task's user registers (saved on entry to the
 * kernel, whether the sample hit user or kernel code) and the top of its
 * user stack. False when the ring is full.
 */
static __always_inline bool sample_dwarf(struct task_struct *task, const struct cpu_key *key,
					 __u32 tid)
{
	struct cpu_dwarf_event *e;
	struct pt_regs regs;
	__u64 sp, top, len = dwarf_stack;

	/* bpf_task_pt_regs takes a BTF pointer: the current task's */
	if (bpf_probe_read_kernel(&regs, sizeof(regs),
				  (void *)bpf_task_pt_regs(bpf_get_current_task_btf())))
		return false;
	e = ring_reserve(sizeof(*e) + dwarf_stack);
	if (!e) {
		count(CPU_C_DWARF_LOST);
		return false;
	}
	e->type = CPU_EV_DWARF;
	e->tgid = key->tgid;
	e->tid = tid;
	e->kstack = key->kstack;
	__builtin_memcpy(e->comm, key->comm, sizeof(e->comm));
	dwarf_regs(&regs, e->regs);
	e->pad = 0;
	sp = regs.sp;
	/* the main thread's stack ends above start_stack: read no further */
	top = BPF_CORE_READ(task, mm, start_stack);
	if (sp < top && top - sp < len)
		len = top - sp;
	/* a read that crosses the end of the mapping fails whole: ask less */
	for (int i = 0; i < 4; i++) {
		if (len > dwarf_stack)
			len = dwarf_stack;
		if (!len || !bpf_probe_read_user(e->stack, len, (void *)sp))
			break;
		count(CPU_C_DWARF_SHORT);
		len = i < 3 ? len >> 2 : 0;
	}
	e->stack_size = len;
	ring_submit(e);
	return true;
}
#else
static __always_inline bool sample_dwarf(struct task_struct *task, const struct cpu_key *key,
					 __u32 tid)
{
	return false;	/* userspace refuses --call-graph dwarf on this architecture */
}
#endif

SEC("perf_event")
int cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct cpu_key key = {};
	__u64 one = 1, *v;

	if ((__u32)id == 0) {
		count(CPU_C_IDLE);
		return 0;
	}
	if (!want_current())
		return 0;
	key.tgid = id >> 32;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, flags) & PF_KTHREAD) {
		key.ustack = -2;	/* -ENOENT: no user stack */
	} else if (dwarf_stack) {
		key.kstack = bpf_get_stackid(ctx, &stacks, 0);
		if (key.kstack < 0)
			count(CPU_C_KSTACK_ERR);
		/* first the process, so that userspace has its maps to unwind with */
		announce(key.tgid, key.comm);
		if (sample_dwarf(task, &key, (__u32)id)) {
			count(CPU_C_SAMPLES);
			return 0;
		}
		key.ustack = -ENOSPC;	/* counted below, without a user stack */
		count(CPU_C_USTACK_ERR);
		goto add;
	} else {
		key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (key.ustack < 0)
			count(CPU_C_USTACK_ERR);
	}
	key.kstack = bpf_get_stackid(ctx, &stacks, 0);
	if (key.kstack < 0)
		count(CPU_C_KSTACK_ERR);
add:
	count(CPU_C_SAMPLES);
	v = bpf_map_lookup_elem(&counts, &key);
	if (v) {
		__sync_fetch_and_add(v, 1);
	} else if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&counts, &key);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			count(CPU_C_KEYS_FULL);
	}
	if (key.ustack != -2)
		announce(key.tgid, key.comm);
	return 0;
}

/* An exec replaces the maps: the next sample announces the process again. */
static __always_inline void on_exec(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	bpf_map_delete_elem(&seen, &tgid);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(cpu_exec_btf)
{
	on_exec();
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(cpu_exec_raw)
{
	on_exec();
	return 0;
}

SEC("tp/sched/sched_process_exec")
int cpu_exec_tp(void *ctx)
{
	on_exec();
	return 0;
}
