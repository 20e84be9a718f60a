// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: the app collector's tp_btf hooks with empty programs
 * (every socket send and receive fires the first two).
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

EMPTY(sock_recv_length)
EMPTY(sock_send_length)
EMPTY(inet_sock_set_state)
