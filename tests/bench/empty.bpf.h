/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Benchmark floors: EMPTY(tp) is one empty tp_btf program on tracepoint tp,
 * the cost of the hook alone, for tests/bench/NAME_empty.bpf.c.
 */
#ifndef DISCO_BENCH_EMPTY_BPF_H
#define DISCO_BENCH_EMPTY_BPF_H

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

#endif
