// SPDX-License-Identifier: GPL-2.0
/* Benchmark floor: the cpu collector's sampling event (cpu-clock) with an empty program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("perf_event")
int empty_sample(struct bpf_perf_event_data *ctx)
{
	return 0;
}
