// SPDX-License-Identifier: GPL-2.0
/*
 * cpu collector: on-CPU sampling from a software cpu-clock perf event on
 * every CPU. Counts are aggregated in the kernel per (process, user stack,
 * kernel stack); only a process's first sample (and the first after an
 * exec) reaches the ring, so userspace can capture its maps while it lives.
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
	} else {
		key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (key.ustack < 0)
			count(CPU_C_USTACK_ERR);
	}
	key.kstack = bpf_get_stackid(ctx, &stacks, 0);
	if (key.kstack < 0)
		count(CPU_C_KSTACK_ERR);
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
