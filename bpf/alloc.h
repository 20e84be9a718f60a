/* SPDX-License-Identifier: GPL-2.0 */
/* Event and map ABI of the alloc collector (bpf/alloc.bpf.c <-> user/collectors/col_alloc.c). */
#ifndef DISCO_ALLOC_H
#define DISCO_ALLOC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* User frames kept per stack; the first is the allocator's direct caller. */
#define ALLOC_STACK_DEPTH	32
#define ALLOC_MAX_ORDER		16	/* page orders counted; larger share the last */

/* The allocator functions probed in the target's C library. */
enum alloc_fn {
	AF_MALLOC,
	AF_CALLOC,
	AF_REALLOC,
	AF_REALLOCARRAY,
	AF_POSIX_MEMALIGN,
	AF_MEMALIGN,		/* memalign and aligned_alloc */
	AF_VALLOC,
	AF_PVALLOC,
	AF_MMAP,
	AF_FREE,
	AF_MUNMAP,
	AF_NR,
};

/* Per-CPU counters of the user side ("ucounts"), indexed by these. */
enum alloc_ucount {
	UC_ALLOCS,		/* allocations seen returning successfully */
	UC_TRACKED,		/* of which tracked (after --sample) */
	UC_FREES,		/* frees of tracked blocks */
	UC_FREES_UNKNOWN,	/* frees of blocks not tracked (older, sampled out) */
	UC_STACK_ERRORS,	/* stack table full: site without its stack */
	UC_TABLE_FULL,		/* outstanding table full: allocation not tracked */
	UC_REPLACED,		/* an address came back without its free seen */
	UC_NR,
};

/* Per-CPU counters of the kernel side ("kcounts"). */
enum alloc_kcount {
	KC_KMALLOC,
	KC_KFREE,
	KC_CACHE_ALLOC,
	KC_CACHE_FREE,
	KC_PAGE_ALLOC,
	KC_PAGE_FREE,
	KC_FREES_TRACKED,	/* frees matched to a tracked allocation */
	KC_TABLE_FULL,
	KC_REPLACED,
	KC_NR,
};

/* Key of the outstanding-allocation table (user side). */
struct alloc_key {
	__u64 addr;
	__u32 tgid;
	__u32 pad;
};

struct alloc_info {
	__u64 size;		/* bytes (estimated bytes for a sample) */
	__u64 ts_ns;		/* bpf_ktime_get_ns() at the allocation */
	__u64 stack_id;		/* key in the "ustacks" map; 0: none */
	__u64 blocks;		/* blocks it stands for (1 unless sampled by bytes) */
};

/*
 * A user stack, walked by alloc.bpf.c itself (see walk_user_stack there):
 * ips[0] is the return address into the allocator's caller, unused slots
 * are 0. Keyed in "ustacks" by a 64-bit hash of the addresses.
 */
struct alloc_stack {
	__u64 ips[ALLOC_STACK_DEPTH];
};

/*
 * What libdisco-alloc.so (user/preload/) hands its probe function for a
 * sampled allocation, in argument registers: (ptr, size, rec, stack_id,
 * weight_bytes, weight_allocs << 8 | fn), rec pointing to this per-thread
 * record. The library walked the stack itself (a few ns a frame in user
 * space, where each user-memory read from BPF costs far more) and hashed
 * it into stack_id, so BPF reads the record, in one copy, only for a
 * stack it has not stored yet. The weights say what the sample stands for.
 */
#define ALLOC_LIB_NAME		"libdisco-alloc.so"
#define ALLOC_LIB_PROBE_ALLOC	"disco_alloc_probe_alloc"	/* see above */
#define ALLOC_LIB_PROBE_FREE	"disco_alloc_probe_free"	/* (ptr) */
#define ALLOC_LIB_ENV_MEAN	"DISCO_ALLOC_SAMPLE_BYTES"
#define ALLOC_LIB_ENV_SEED	"DISCO_ALLOC_SEED"
/* --alloc-sample-bytes default: the order of tcmalloc's and jemalloc's */
#define ALLOC_LIB_DEFAULT_MEAN	(512u << 10)

/*
 * Full mode (--alloc-sample-bytes 1): a thread's free is held back (the
 * block is not given back to the allocator, so its address cannot come
 * back to anyone) and handed to the thread's next allocation probe, with
 * ALLOC_LIB_FULL in the fn argument: then the weight_bytes register holds
 * that freed block (0: none) and the weights are (size, 1). One kernel
 * entry per malloc+free pair instead of two. Blocks held back are in the
 * library's ALLOC_LIB_PENDING_SYM table: flushed through the free probe at
 * thread and process exit, read by disco at the end of a session on a
 * process that still runs.
 */
#define ALLOC_LIB_FULL		0x80
#define ALLOC_LIB_PENDING_SYM	"disco_alloc_pending"
#define ALLOC_LIB_PENDING_MAGIC	0x6e6570637369640aull	/* "\ndiscpen" */
#define ALLOC_LIB_PENDING_MAX	1024

struct alloc_lib_pend {
	__u64 blk;		/* a block freed and held back; 0: none */
	__u64 owner;		/* non-zero: a thread uses this entry */
};

struct alloc_lib_pending {
	__u64 magic;
	__u64 n;		/* entries in e[] */
	struct alloc_lib_pend e[ALLOC_LIB_PENDING_MAX];
};

struct alloc_lib_rec {
	__u64 stack_id;		/* non-zero hash of stack.ips */
	__u64 weight_bytes;	/* estimated bytes this sample stands for */
	__u64 weight_allocs;	/* estimated blocks (1 in full mode) */
	__u64 mean_bytes;	/* the process's mean sampling interval; 1: every call */
	__u64 lost;		/* samples dropped so far: the address set was full */
	__u32 fn;		/* enum alloc_fn */
	__u32 depth;
	struct alloc_stack stack;
};

/* Key and value of the per-call-stack table ("sites"). */
struct alloc_site_key {
	__u32 tgid;
	__u32 pad;
	__u64 stack_id;
};

/*
 * What a call stack allocated in all. What it holds now is the sum of its
 * blocks still tracked (read from "lslots" and "allocs"), so that a free
 * updates no counter: freed = total - outstanding.
 */
struct alloc_site {
	__u64 total_bytes;
	__u64 total_allocs;
};

/*
 * The preload path's blocks live first in a direct-mapped table ("lslots",
 * 1 << ALLOC_SLOT_BITS entries) indexed by a hash of their key, claimed
 * with a cmpxchg on the key and released with one at the free; a block
 * whose slot another live block holds goes to the "allocs" hash. Key: the
 * tgid and the 16-aligned address in one word (0: free), for tgids below
 * 2^21 and addresses below 2^47; any other block goes to the hash.
 * ts_ns is written last and zeroed before the release: a reader taking a
 * slot whose ts_ns is 0 skips it (being claimed or released).
 */
#define ALLOC_SLOT_BITS		16

struct alloc_slot {
	__u64 key;
	__u64 size;		/* as alloc_info */
	__u64 stack_id;
	__u64 blocks;
	__u64 ts_ns;
};

static inline __u64 alloc_slot_key(__u32 tgid, __u64 addr)
{
	if (tgid >> 21 || addr >> 47 || (addr & 15))
		return 0;
	return (__u64)tgid << 43 | addr >> 4;
}

static inline __u32 alloc_slot_tgid(__u64 key)
{
	return (__u32)(key >> 43);
}

static inline __u64 alloc_slot_addr(__u64 key)
{
	return (key & ((1ull << 43) - 1)) << 4;
}

static inline __u32 alloc_slot_of(__u64 key, __u32 mask)
{
	return (__u32)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* A call in flight between an allocator's entry and its return (per thread). */
struct alloc_call {
	__u64 sp;		/* user stack pointer at entry: tells nesting */
	__u64 size;
	__u64 old_ptr;		/* realloc's block */
	__u64 memptr;		/* posix_memalign's out pointer */
	__u32 fn;
	__u32 active;
};

/* Kernel call-site statistics (per-CPU hash keyed by call_site). */
struct kalloc_site {
	__u64 allocs;
	__u64 bytes_req;
	__u64 bytes_alloc;
	__u64 frees;		/* of allocations made here and seen */
	__s64 outstanding_allocs;	/* per-CPU parts may be negative */
	__s64 outstanding_bytes;
};

/*
 * Direct-mapped per-CPU cache of call sites in front of the ksites hash:
 * slot hash(call_site) % ALLOC_KSLOTS belongs to the first site that lands
 * in it on that CPU; a later site colliding with it goes to the hash. An
 * array slot costs a few loads, a hash lookup a hash computation and a
 * bucket walk, on every kmalloc. Userspace adds slots and hash up per site.
 */
#define ALLOC_KSLOT_BITS	11
#define ALLOC_KSLOTS		(1 << ALLOC_KSLOT_BITS)

struct kalloc_slot {
	__u64 call_site;	/* 0: free */
	struct kalloc_site s;
};

static inline __u32 kslot_of(__u64 call_site)
{
	return (__u32)((call_site * 0x9E3779B97F4A7C15ull) >> (64 - ALLOC_KSLOT_BITS));
}

struct kalloc_info {
	__u64 call_site;
	__u64 bytes;
	__u64 ts_ns;
};

struct page_order_stat {
	__u64 allocs;
	__u64 frees;
};

/* Ring buffer records. */
enum alloc_event_type {
	AE_NEW_SITE = 1,	/* first allocation from a stack: snapshot maps now */
	AE_BIG_ALLOC = 2,	/* one allocation at or above --big */
};

struct alloc_event {
	__u32 type;
	__u32 tgid;
	__u32 tid;
	__u32 fn;
	__u64 ts_ns;
	__u64 size;
	__u64 addr;
	__u64 stack_id;
	char comm[16];
};

_Static_assert(sizeof(struct alloc_key) == 16, "alloc_key ABI");
_Static_assert(sizeof(struct alloc_info) == 32, "alloc_info ABI");
_Static_assert(sizeof(struct alloc_lib_rec) == 48 + ALLOC_STACK_DEPTH * 8, "alloc_lib_rec ABI");
_Static_assert(sizeof(struct alloc_lib_pending) == 16 + ALLOC_LIB_PENDING_MAX * 16,
	       "alloc_lib_pending ABI");
_Static_assert(sizeof(struct alloc_site_key) == 16, "alloc_site_key ABI");
_Static_assert(sizeof(struct alloc_stack) == ALLOC_STACK_DEPTH * 8, "alloc_stack ABI");
_Static_assert(sizeof(struct alloc_site) == 16, "alloc_site ABI");
_Static_assert(sizeof(struct alloc_slot) == 40, "alloc_slot ABI");
_Static_assert(sizeof(struct alloc_call) == 40, "alloc_call ABI");
_Static_assert(sizeof(struct kalloc_site) == 48, "kalloc_site ABI");
_Static_assert(sizeof(struct kalloc_info) == 24, "kalloc_info ABI");
_Static_assert(sizeof(struct kalloc_slot) == 56, "kalloc_slot ABI");
_Static_assert(sizeof(struct page_order_stat) == 16, "page_order_stat ABI");
_Static_assert(sizeof(struct alloc_event) == 64, "alloc_event ABI");

#endif
