/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Struct layout differences between kernels, in one place (SPEC §2). Each
 * variant names the kernel change that made it.
 */
#ifndef DISCO_CORE_FIXES_BPF_H
#define DISCO_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * 2f064a59a11f ("sched: Change task_struct::state", 5.14) renamed
 * task_struct::state to __state.
 */
struct task_struct___o {
	volatile long int state;
} __attribute__((preserve_access_index));

static __always_inline __u32 get_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)t, state);
}

/*
 * 67c0496e87d1 ("kernfs: convert kernfs_node->id from union kernfs_node_id
 * to u64", 5.5): before it the cgroup id lived in id.id.
 */
union kernfs_node_id___o {
	struct {
		__u32 ino;
		__u32 generation;
	};
	__u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___o {
	union kernfs_node_id___o id;
} __attribute__((preserve_access_index));

static __always_inline __u64 get_task_cgroup_id(struct task_struct *t)
{
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);

	if (bpf_core_type_exists(union kernfs_node_id___o))
		return BPF_CORE_READ((struct kernfs_node___o *)kn, id.id);
	return BPF_CORE_READ(kn, id);
}

/*
 * kmem tracepoints, 2c1d697fb8ba ("mm/slab_common: drop kmem_alloc & avoid
 * dereferencing fields when not using", 6.2): kmalloc and kmem_cache_alloc
 * were events of one class kmem_alloc (call_site, ptr, bytes_req,
 * bytes_alloc, gfp_flags); since then kmem_cache_alloc passes the struct
 * kmem_cache instead of the sizes and each event has its own record
 * (trace_event_raw_kmalloc, trace_event_raw_kmem_cache_alloc). 11e9734bcb6a
 * ("mm/slab_common: unify NUMA and UMA version of tracepoints", 6.2) also
 * dropped kmalloc_node and kmem_cache_alloc_node (optional hooks).
 */
struct trace_event_raw_kmem_alloc___pre62 {
	unsigned long call_site;
	const void *ptr;
	size_t bytes_req;
	size_t bytes_alloc;
} __attribute__((preserve_access_index));

static __always_inline bool kmem_cache_alloc_has_sizes(void)
{
	return bpf_core_type_exists(struct trace_event_raw_kmem_alloc___pre62);
}

/*
 * Classic-tracepoint records of kmalloc and kmem_cache_alloc, either era.
 * Read with BPF_CORE_READ: relocated direct loads get folded into
 * "modified ctx pointer" accesses the verifier refuses.
 */
static __always_inline void tp_kmem_alloc_fields(void *ctx, bool cache, __u64 *site,
						 __u64 *ptr, __u64 *req, __u64 *alloc)
{
	if (kmem_cache_alloc_has_sizes()) {
		struct trace_event_raw_kmem_alloc___pre62 *o = ctx;

		*site = BPF_CORE_READ(o, call_site);
		*ptr = (__u64)BPF_CORE_READ(o, ptr);
		*req = BPF_CORE_READ(o, bytes_req);
		*alloc = BPF_CORE_READ(o, bytes_alloc);
	} else if (cache) {
		struct trace_event_raw_kmem_cache_alloc *n = ctx;

		*site = BPF_CORE_READ(n, call_site);
		*ptr = (__u64)BPF_CORE_READ(n, ptr);
		*req = BPF_CORE_READ(n, bytes_req);
		*alloc = BPF_CORE_READ(n, bytes_alloc);
	} else {
		struct trace_event_raw_kmalloc *n = ctx;

		*site = BPF_CORE_READ(n, call_site);
		*ptr = (__u64)BPF_CORE_READ(n, ptr);
		*req = BPF_CORE_READ(n, bytes_req);
		*alloc = BPF_CORE_READ(n, bytes_alloc);
	}
}

#endif
