// SPDX-License-Identifier: GPL-2.0
/* Benchmark baseline: the naive probe set (empty programs) of bpftrace scripts and memleak. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("uprobe")
int BPF_KPROBE(naive_malloc)
{
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(naive_malloc_ret)
{
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(naive_free)
{
	return 0;
}
