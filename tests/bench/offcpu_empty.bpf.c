// SPDX-License-Identifier: GPL-2.0
/* Benchmark floor: the offcpu collector's hooks (tp_btf) with empty programs. */
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
EMPTY(sched_waking)
EMPTY(sys_exit)
EMPTY(sched_process_exit)
