/* SPDX-License-Identifier: GPL-2.0 */
/* cpu collector: map and event ABI shared with user/collectors/col_cpu.c. */
#ifndef DISCO_CPU_H
#define DISCO_CPU_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CPU_STACK_DEPTH 127	/* PERF_MAX_STACK_DEPTH: a full stack may be cut */
#define CPU_MAX_STACKS 16384	/* stack map entries (user and kernel share it) */
#define CPU_MAX_KEYS 32768	/* distinct (pid, user stack, kernel stack) */

/* Key of the "counts" hash: samples per (thread group, stacks). */
struct cpu_key {
	__u32 tgid;
	__s32 ustack;		/* stack map id, or -errno (kernel thread: -ENOENT) */
	__s32 kstack;		/* stack map id, or -errno */
	__u32 pad;
	char comm[16];
};
_Static_assert(sizeof(struct cpu_key) == 32, "cpu_key ABI");

/* Slots of the per-CPU "counters" array. */
enum cpu_counter {
	CPU_C_SAMPLES = 0,	/* samples of the filtered tasks, idle excluded */
	CPU_C_IDLE,		/* samples of the idle task (pid 0) */
	CPU_C_KEYS_FULL,	/* counts map full: sample lost */
	CPU_C_USTACK_ERR,	/* bpf_get_stackid failed for the user stack */
	CPU_C_KSTACK_ERR,	/* ... for the kernel stack */
	CPU_NCOUNTERS,
};

/* Events: struct stacks_proc_event (bpf/stacks.h), nothing else. */

#endif
