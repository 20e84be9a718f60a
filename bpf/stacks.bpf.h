/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the stack collectors' BPF objects share: announcing each process
 * once (after common.bpf.h, for the ring), so that userspace reads its
 * maps and binaries while it is alive.
 */
#ifndef DISCO_STACKS_BPF_H
#define DISCO_STACKS_BPF_H

#include "stacks.h"

/* processes already announced */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, STACKS_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u8);
} seen SEC(".maps");

/* One ring event per new process; rare, so the consumer is woken now. */
static __always_inline void announce(__u32 tgid, const char *comm)
{
	struct stacks_proc_event *e;
	__u8 one = 1;

	if (bpf_map_update_elem(&seen, &tgid, &one, BPF_NOEXIST))
		return;
	e = ring_reserve(sizeof(*e));
	if (!e)
		return;
	e->type = STACKS_EV_PROC;
	e->tgid = tgid;
	__builtin_memcpy(e->comm, comm, sizeof(e->comm));
	ring_submit_wake(e);
}

#endif
