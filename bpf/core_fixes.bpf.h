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

/* ---- tcp collector ---- */

/*
 * bf9765145b85 ("sock: Make sk_protocol a 16-bit value", 5.6): before it
 * sk_protocol was an 8-bit bitfield next to sk_type. The probed bitfield
 * read handles both the bitfield and the plain u16; through a BTF pointer
 * (direct) the relocated load does the same without a helper call.
 */
static __always_inline __u16 get_sk_protocol(const struct sock *sk, bool direct)
{
	if (direct)
		return BPF_CORE_READ_BITFIELD(sk, sk_protocol);
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/*
 * Before the reset-reason work (6.10, "tcp: rstreason: ... to
 * tcp_send_reset tracepoint") tcp_send_reset was an event of the
 * tcp_event_sk_skb class; its record starts the same way (skbaddr,
 * skaddr), only the type name differs.
 *
 * So was tcp_retransmit_skb until "tcp: trace retransmit failures in
 * tcp_retransmit_skb" (net-next, July 2025, 6.17) made it a TRACE_EVENT of
 * its own with an err field (and a third TP_PROTO argument): on 6.1 there
 * is no struct trace_event_raw_tcp_retransmit_skb at all, and a
 * relocation against it fails the load (EINVAL).
 */
struct trace_event_raw_tcp_event_sk_skb___o {
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

/*
 * The classic tcp_probe record gained skaddr in 6.x; before that a
 * sample cannot be tied to its socket (only ports and family).
 */
static __always_inline const void *
tcp_probe_rec_skaddr(struct trace_event_raw_tcp_probe *ctx)
{
	if (bpf_core_field_exists(ctx->skaddr))
		return ctx->skaddr;
	return 0;
}

/*
 * sk_flags moved from struct sock into sock_common as skc_flags (and
 * sk_flags became a #define for it) in the 6.x sock_common reshuffle;
 * older kernels have the member in struct sock itself.
 */
struct sock___o {
	unsigned long sk_flags;
} __attribute__((preserve_access_index));

static __always_inline unsigned long get_sk_flags(const struct sock *sk, bool direct)
{
	const struct sock___o *o = (const void *)sk;

	if (bpf_core_field_exists(sk->__sk_common.skc_flags))
		return direct ? sk->__sk_common.skc_flags :
				BPF_CORE_READ(sk, __sk_common.skc_flags);
	return direct ? o->sk_flags : BPF_CORE_READ(o, sk_flags);
}

/* ---- bio collector ---- */

/*
 * d152c682f03c ("block: add an explicit ->disk backpointer to the
 * request_queue", 5.15) and f3fa33acca9f ("block: remove the ->rq_disk
 * field in struct request", 5.16): the disk of a request moved from
 * request::rq_disk to request::q->disk.
 */
struct request_queue___x {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request___x {
	struct request_queue___x *q;
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/* direct: rq is a BTF pointer (tp_btf) and may be dereferenced as such */
static __always_inline struct gendisk *get_rq_disk(struct request *rq, bool direct)
{
	struct request___x *r = (void *)rq;

	if (bpf_core_field_exists(r->rq_disk))
		return direct ? r->rq_disk : BPF_CORE_READ(r, rq_disk);
	return direct ? r->q->disk : BPF_CORE_READ(r, q, disk);
}

/*
 * a54895fa057c ("block: remove the request_queue to argument request based
 * tracepoints", 5.11) turned block_rq_insert/issue/requeue/merge from
 * (struct request_queue *, struct request *) into (struct request *).
 * Telling the two prototypes apart from BTF in the program needs the
 * type-match relocation (bpf_core_type_matches), which clang 14 cannot
 * emit ("Incorrect flag for llvm.bpf.preserve.type.info"), so userspace
 * counts the arguments of btf_trace_block_rq_issue (probe_tp_nargs) and
 * passes has_queue_arg as rodata. It is a load-time constant: the
 * verifier never walks the other branch, so neither a tp_btf program nor
 * a raw_tp attach sees an access past the real arguments.
 */
static __always_inline struct request *block_rq_tp_arg(__u64 *ctx, bool has_queue_arg)
{
	struct request *rq;

	/*
	 * Written as two fixed-offset loads: left to itself clang folds the
	 * branch into ctx[has_queue_arg], a modified context pointer the
	 * verifier refuses.
	 */
	if (has_queue_arg)
		asm volatile("%0 = *(u64 *)(%1 + 8)" : "=r"(rq) : "r"(ctx));
	else
		asm volatile("%0 = *(u64 *)(%1 + 0)" : "=r"(rq) : "r"(ctx));
	return rq;
}

/* ---- alloc collector ---- */

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

/*
 * 1271a40eeafa ("bpf: Allow access to const void pointer arguments in
 * tracing programs", 6.16): before it btf_ctx_access() let a tp_btf or
 * fentry program load a void * argument but refused a const void * one
 * ("func 'kmalloc' arg1 type UNKNOWN is not a struct": the void check came
 * before the modifiers were skipped). kmalloc, kmem_cache_alloc, kfree and
 * kmem_cache_free pass the object that way. A fixed-offset load still goes
 * through btf_ctx_access(); copying the slot out of the context with
 * bpf_probe_read_kernel() does not, on every kernel. (The context pointer
 * as a helper argument needs allow_ptr_leaks, i.e. CAP_PERFMON, which a
 * tracing program needs anyway.)
 */
static __always_inline __u64 tp_btf_void_ptr_arg(__u64 *ctx, int n)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &ctx[n]);
	return v;
}

#endif
