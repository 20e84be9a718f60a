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
	CPU_C_DWARF_LOST,	/* --call-graph dwarf: ring full, counted without a user stack */
	CPU_C_DWARF_SHORT,	/* ... the stack copy read less than asked (top of the stack) */
	CPU_NCOUNTERS,
};

/*
 * --call-graph dwarf: one ring event per sample of a user task, with its
 * user registers and a copy of the top of its user stack, unwound in
 * userspace (libdw). They cannot be counted per stack in the kernel.
 */
#define CPU_EV_DWARF 2		/* after STACKS_EV_PROC */
#define CPU_DWARF_NREGS 17	/* x86-64 DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
#define CPU_DWARF_REG_SP 7
#define CPU_DWARF_REG_IP 16
#define CPU_DWARF_DEFAULT_STACK 8192	/* as perf's --call-graph dwarf */
#define CPU_DWARF_MAX_STACK 65528	/* perf's limit too */

struct cpu_dwarf_event {
	__u32 type;		/* CPU_EV_DWARF */
	__u32 tgid;
	__u32 tid;
	__s32 kstack;		/* stack map id, or -errno */
	char comm[16];
	__u64 regs[CPU_DWARF_NREGS];
	__u32 stack_size;	/* bytes of stack[] that were read (from regs[SP] up) */
	__u32 pad;
	__u8 stack[];		/* the event is sized for --call-graph dwarf,SIZE */
};
_Static_assert(sizeof(struct cpu_dwarf_event) == 176, "cpu_dwarf_event ABI");

/* Events: struct stacks_proc_event (bpf/stacks.h), then cpu_dwarf_event. */

#endif
