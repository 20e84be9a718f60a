// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: the hooks of -e sched,offcpu together (tp_btf), one
 * empty program on each, sched_switch included once (one program does
 * both collectors' part there).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define EMPTY(tp)				\
	SEC("tp_btf/" #tp)			\
	int BPF_PROG(empty_##tp)		\
	{					\
		return 0;			\
	}

EMPTY(sched_switch)
EMPTY(sched_wakeup)
EMPTY(sched_wakeup_new)
EMPTY(sched_migrate_task)
EMPTY(sched_process_exec)
EMPTY(sched_waking)
EMPTY(sys_exit)
EMPTY(sched_process_exit)
