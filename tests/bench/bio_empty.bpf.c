// SPDX-License-Identifier: GPL-2.0
/* Benchmark floor: the bio collector's default hooks with empty programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/block_rq_insert")
int BPF_PROG(empty_insert)
{
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(empty_issue)
{
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(empty_complete)
{
	return 0;
}
