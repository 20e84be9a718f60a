// SPDX-License-Identifier: GPL-2.0
/* Benchmark floor: the alloc collector's default kernel hooks with empty programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/kmalloc")
int BPF_PROG(empty_kmalloc)
{
	return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(empty_cache_alloc)
{
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(empty_page_alloc)
{
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(empty_page_free)
{
	return 0;
}
