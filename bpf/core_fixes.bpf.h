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

#endif
