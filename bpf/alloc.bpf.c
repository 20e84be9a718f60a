// SPDX-License-Identifier: GPL-2.0
/*
 * alloc collector: user heap through uprobes on the target's C library
 * (outstanding bytes per call stack, leak candidates, sizes) and kernel
 * allocations through kmem tracepoints (per call site, pages by order).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "hist.bpf.h"
#include "alloc.h"

char LICENSE[] SEC("license") = "GPL";

/* --sample N: track one allocation in N (user side, and kernel addresses) */
const volatile __u32 sample_every = 1;
/* allocations at or above this size are streamed as events (0: never) */
const volatile __u64 big_bytes = 0;
/* track outstanding kernel allocations (the costly part of the kernel side) */
const volatile bool ktrack = true;
/* of which one address in N (--kernel-sample; frees agree without a lookup) */
const volatile __u32 ksample_every = 16;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);		/* pid_tgid */
	__type(value, struct alloc_call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct alloc_key);
	__type(value, struct alloc_info);
} allocs SEC(".maps");

/*
 * The preload path's blocks first go to a direct-mapped table (bpf/alloc.h
 * says how), the others to "allocs": measured per run in full mode (6.18,
 * stats on, churn loop), a hash update at the allocation and a lookup and
 * delete at the free took ~100 ns of lib_free's 230.
 */
/* slots in use - 1; fewer only to make tests exercise the fallback hash */
const volatile __u32 slot_mask = (1 << ALLOC_SLOT_BITS) - 1;
/* claiming a slot needs BPF cmpxchg (5.12); without, all goes to the hash */
const volatile bool use_slots = true;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << ALLOC_SLOT_BITS);
	__type(key, __u32);
	__type(value, struct alloc_slot);
} lslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct alloc_site_key);
	__type(value, struct alloc_site);
} sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct alloc_stack);
} ustacks SEC(".maps");

/* where a stack is built before it is known to be new */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alloc_stack);
} stack_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UC_NR);
	__type(key, __u32);
	__type(value, __u64);
} ucounts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AF_NR);
	__type(key, __u32);
	__type(value, __u64);
} fn_calls SEC(".maps");

/* kernel side */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);		/* call_site */
	__type(value, struct kalloc_site);
} ksites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALLOC_KSLOTS);
	__type(key, __u32);
	__type(value, struct kalloc_slot);
} kslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, __u64);		/* object address */
	__type(value, struct kalloc_info);
} kallocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KC_NR);
	__type(key, __u32);
	__type(value, __u64);
} kcounts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALLOC_MAX_ORDER);
	__type(key, __u32);
	__type(value, struct page_order_stat);
} korders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} ksizes SEC(".maps");

static __always_inline void count(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		(*v)++;
}

/* ======================= user space (uprobes) ========================== */

/*
 * Entry of an allocator. A call made from inside another traced call
 * (realloc(NULL, n) calling malloc, malloc calling mmap) runs on a deeper
 * stack and is ignored: the outer call owns the block and its return site
 * is in the program, not in libc. An entry at the same or a higher stack
 * pointer than a call still marked active means that call's return was
 * never seen (or this is a tail call, as reallocarray -> realloc), so it
 * simply replaces it.
 */
static __always_inline int enter(struct pt_regs *ctx, __u32 fn, __u64 size,
				 __u64 old_ptr, __u64 memptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx);
	struct alloc_call *c = bpf_map_lookup_elem(&calls, &id);

	if (!c) {
		struct alloc_call zero = {};

		bpf_map_update_elem(&calls, &id, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&calls, &id);
		if (!c) {
			count_drop();
			return 0;
		}
	}
	if (c->active && sp < c->sp)
		return 0;
	c->sp = sp;
	c->size = size;
	c->old_ptr = old_ptr;
	c->memptr = memptr;
	c->fn = fn;
	c->active = 1;
	return 0;
}

static __always_inline struct alloc_site *site_get(__u32 tgid, __u64 stack_id, __u32 tid,
						   __u64 now)
{
	struct alloc_site_key k = { .tgid = tgid, .stack_id = stack_id };
	struct alloc_site *s = bpf_map_lookup_elem(&sites, &k);
	struct alloc_event *e;

	if (s)
		return s;
	{
		struct alloc_site zero = {};

		if (bpf_map_update_elem(&sites, &k, &zero, BPF_NOEXIST))
			return bpf_map_lookup_elem(&sites, &k);
	}
	/*
	 * A new stack: tell userspace now, while the process is alive and its
	 * mappings can still be read for symbolization.
	 */
	e = ring_reserve(sizeof(*e));
	if (e) {
		e->type = AE_NEW_SITE;
		e->tgid = tgid;
		e->tid = tid;
		e->fn = 0;
		e->ts_ns = now;
		e->size = 0;
		e->addr = 0;
		e->stack_id = stack_id;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		ring_submit(e);
	}
	return bpf_map_lookup_elem(&sites, &k);
}

/*
 * Forget a tracked block: it was freed, moved or its address came back.
 * Its site's outstanding bytes are the blocks still tracked (summed when
 * read), so nothing else changes: one delete, which fails for a block not
 * tracked, or taken by a concurrent free of the same block.
 */
static __always_inline void untrack(__u32 tgid, __u64 addr, __u32 counter)
{
	struct alloc_key k = { .addr = addr, .tgid = tgid };

	if (!bpf_map_delete_elem(&allocs, &k))
		count(&ucounts, counter);
	else if (counter == UC_FREES)
		count(&ucounts, UC_FREES_UNKNOWN);
}

static __always_inline struct alloc_slot *slot_get(__u64 key)
{
	__u32 i = alloc_slot_of(key, slot_mask);

	if (!use_slots || !key)
		return NULL;
	return bpf_map_lookup_elem(&lslots, &i);
}

/* Forget the block of key if its slot holds it (as untrack); false if not. */
static __always_inline bool slot_untrack(__u64 key, __u32 counter)
{
	struct alloc_slot *sl = slot_get(key);

	if (!sl || sl->key != key)
		return false;
	sl->ts_ns = 0;
	/* a concurrent free of the same block (a double free) took it */
	if (__sync_val_compare_and_swap(&sl->key, key, 0) == key)
		count(&ucounts, counter);
	return true;
}

/*
 * Claim key's slot for a new block; false if another live block holds it.
 * No free of this block can run before the allocation returned to the
 * program, after this: only other keys compete for the slot.
 */
static __always_inline bool slot_track(__u64 key, __u64 bytes, __u64 blocks, __u64 stack_id,
				       __u64 now)
{
	struct alloc_slot *sl = slot_get(key);

	if (!sl)
		return false;
	/* the address is live again: its free was not seen */
	if (sl->key == key)
		slot_untrack(key, UC_REPLACED);
	if (sl->key || __sync_val_compare_and_swap(&sl->key, 0, key))
		return false;
	sl->size = bytes;
	sl->stack_id = stack_id;
	sl->blocks = blocks;
	__asm__ volatile("" ::: "memory");	/* readers take ts_ns != 0 as complete */
	sl->ts_ns = now;
	return true;
}

/*
 * Frame-pointer walk of the user stack from a return probe: ips[0] is the
 * return address into the caller, then the chain of saved %rbp. The
 * kernel's own walker (bpf_get_stackid with BPF_F_USER_STACK) follows
 * whatever %rbp holds when it reaches code built without frame pointers
 * (glibc's __libc_start_call_main), and the fault on that wild address
 * cost ~4.7 us per capture on this machine, more than everything else.
 * Here a frame must lie on this thread's stack, above the previous one,
 * so a wild %rbp ends the walk without a fault. Returns a non-zero hash
 * of the addresses (the stack's id), or 0.
 */
#define USER_STACK_MAX (8ull << 20)

static __always_inline __u64 walk_user_stack(struct pt_regs *ctx, struct alloc_stack *st)
{
	__u64 sp = PT_REGS_SP(ctx), fp = PT_REGS_FP(ctx), h = 0xcbf29ce484222325ull;
	__u64 frame[2];
	int i;

	__builtin_memset(st, 0, sizeof(*st));
	st->ips[0] = PT_REGS_IP(ctx);
	h = (h ^ st->ips[0]) * 0x100000001b3ull;
	for (i = 1; i < ALLOC_STACK_DEPTH; i++) {
		if (fp < sp || fp - sp >= USER_STACK_MAX || (fp & 7))
			break;
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp) || !frame[1])
			break;
		st->ips[i] = frame[1];
		h = (h ^ frame[1]) * 0x100000001b3ull;
		if (frame[0] <= fp)
			break;
		fp = frame[0];
	}
	return h ?: 1;
}

/* The id of the current user stack, stored once per distinct stack. */
static __always_inline __u64 user_stack_id(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct alloc_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	__u64 id;

	if (!st)
		return 0;
	id = walk_user_stack(ctx, st);
	if (!bpf_map_lookup_elem(&ustacks, &id) &&
	    bpf_map_update_elem(&ustacks, &id, st, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&ustacks, &id))
		return 0;
	return id;
}

static __always_inline bool sampled_out(void)
{
	return sample_every > 1 && bpf_get_prandom_u32() % sample_every;
}

/*
 * The clock of allocation times: ktime read once per jiffy per CPU, then
 * reused. Reading the clock costs ~100 ns here (kvm-clock), a fifth of what
 * tracking a block costs, and block ages only decide leak candidates
 * (--min-age, hundreds of ms): a timestamp up to one tick early is fine.
 * bpf_jiffies64() is one load once the verifier has inlined it.
 */
struct clock_cache {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock_cache);
} clock_cache SEC(".maps");

static __always_inline __u64 tick_now(void)
{
	__u32 zero = 0;
	struct clock_cache *c = bpf_map_lookup_elem(&clock_cache, &zero);
	__u64 j = bpf_jiffies64();

	if (!c)
		return bpf_ktime_get_ns();
	if (c->jiffies != j || !c->ns) {
		c->ns = bpf_ktime_get_ns();
		c->jiffies = j;
	}
	return c->ns;
}

/*
 * A block to follow until its free, in the "allocs" hash: bytes and blocks
 * are what it stands for (its own size and 1, unless the preload library
 * sampled it by bytes). false: no room.
 */
static __always_inline bool track_hash(__u32 tgid, __u64 addr, __u64 bytes, __u64 blocks,
				       __u64 stack_id, __u64 now)
{
	struct alloc_key k = { .addr = addr, .tgid = tgid };
	struct alloc_info info = { .size = bytes, .ts_ns = now, .stack_id = stack_id,
				   .blocks = blocks };

	/*
	 * Insert first: the update looks the key up anyway. An address live
	 * again had its free where we could not see it: forget that block.
	 */
	if (!bpf_map_update_elem(&allocs, &k, &info, BPF_NOEXIST))
		return true;
	if (bpf_map_lookup_elem(&allocs, &k))
		untrack(tgid, addr, UC_REPLACED);
	if (!bpf_map_update_elem(&allocs, &k, &info, BPF_ANY))
		return true;
	count(&ucounts, UC_TABLE_FULL);
	count_drop();
	return false;
}

/*
 * A tracked block counts at its site. s: its site when the caller has
 * looked it up already, else NULL.
 */
static __always_inline void tracked(__u64 id, __u64 addr, __u64 size, __u64 bytes,
				    __u64 blocks, __u64 stack_id, __u32 fn, struct alloc_site *s,
				    __u64 now)
{
	__u32 tgid = id >> 32;

	if (!s)
		s = site_get(tgid, stack_id, (__u32)id, now);
	if (s) {
		__sync_fetch_and_add(&s->total_bytes, bytes);
		__sync_fetch_and_add(&s->total_allocs, blocks);
	}
	if (big_bytes && size >= big_bytes) {
		struct alloc_event *e = ring_reserve(sizeof(*e));

		if (e) {
			e->type = AE_BIG_ALLOC;
			e->tgid = tgid;
			e->tid = (__u32)id;
			e->fn = fn;
			e->ts_ns = now;
			e->size = size;
			e->addr = addr;
			e->stack_id = stack_id;
			bpf_get_current_comm(e->comm, sizeof(e->comm));
			ring_submit(e);
		}
	}
}

/*
 * Return of an allocator. The stack is taken here on purpose: at a
 * uretprobe the kernel has already restored the instruction pointer to the
 * return address in the caller (the value at the user stack pointer at the
 * entry), and %rbp is the caller's frame again, so the direct caller is
 * the first frame and frame-pointer unwinding continues from it. (At the entry of malloc, %rbp still belongs to the caller's
 * caller and the caller itself would be skipped; bcc issue 4958.)
 */
static __always_inline int leave(struct pt_regs *ctx, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct alloc_call *c = bpf_map_lookup_elem(&calls, &id);
	struct hist *h;
	__u32 zero = 0;
	__u64 size, stack_id, now;
	__u32 fn;

	/* only the return of the outermost call, whose frame is ours */
	if (!c || !c->active || PT_REGS_SP(ctx) != c->sp + 8)
		return 0;
	c->active = 0;
	fn = c->fn;
	size = c->size;
	count(&fn_calls, fn);

	switch (fn) {
	case AF_REALLOC:
	case AF_REALLOCARRAY:
		/* moved, resized in place (re-attributed here), or freed by size 0 */
		if (c->old_ptr && (ret || size == 0))
			untrack(tgid, c->old_ptr, UC_FREES);
		if (!ret)
			return 0;
		break;
	case AF_POSIX_MEMALIGN:
		if ((int)ret != 0 || !c->memptr)
			return 0;
		if (bpf_probe_read_user(&ret, sizeof(ret), (void *)c->memptr) || !ret)
			return 0;
		break;
	case AF_MMAP:
		if ((__s64)ret == -1)
			return 0;
		break;
	default:
		if (!ret)
			return 0;
	}

	count(&ucounts, UC_ALLOCS);
	h = bpf_map_lookup_elem(&sizes, &zero);
	if (h)
		hist_add(h, size);
	if (sampled_out())
		return 0;
	count(&ucounts, UC_TRACKED);
	stack_id = user_stack_id(ctx);
	if (!stack_id)
		count(&ucounts, UC_STACK_ERRORS);
	now = tick_now();
	if (track_hash(tgid, ret, size, 1, stack_id, now))
		tracked(id, ret, size, size, 1, stack_id, fn, NULL, now);
	return 0;
}

/*
 * n * size, or 0 on overflow (calloc and reallocarray then fail). The
 * barrier keeps clang from turning the check into a 128-bit multiply,
 * which BPF has no instruction for.
 */
static __always_inline __u64 mul_or_zero(__u64 n, __u64 size)
{
	__u64 max = ~0ull;

	__asm__ volatile("" : "+r"(max));
	if (n && size > max / n)
		return 0;
	return n * size;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	return enter(ctx, AF_MALLOC, size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 n, __u64 size)
{
	__u64 total = mul_or_zero(n, size);

	return enter(ctx, AF_CALLOC, total, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	return enter(ctx, AF_REALLOC, size, ptr, 0);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 ptr, __u64 n, __u64 size)
{
	__u64 total = mul_or_zero(n, size);

	return enter(ctx, AF_REALLOCARRAY, total, ptr, 0);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	return enter(ctx, AF_POSIX_MEMALIGN, size, 0, memptr);
}

/* memalign(align, size) and aligned_alloc(align, size) */
SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 align, __u64 size)
{
	return enter(ctx, AF_MEMALIGN, size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(valloc_enter, __u64 size)
{
	return enter(ctx, AF_VALLOC, size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(pvalloc_enter, __u64 size)
{
	return enter(ctx, AF_PVALLOC, size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(mmap_enter, __u64 addr, __u64 len)
{
	return enter(ctx, AF_MMAP, len, 0, 0);
}

/* One return program for every allocator: the call record says which. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, __u64 ret)
{
	return leave(ctx, ret);
}

/*
 * free() and munmap() need no return probe. free may be probed past its
 * NULL check (user/collectors/uprobe_place.c proves where), so ptr is never NULL
 * there; the check stays for the entry fallback. A free from inside
 * realloc is a real free of that block, so nesting does not matter here.
 */
SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	if (ptr) {
		count(&fn_calls, AF_FREE);
		untrack(bpf_get_current_pid_tgid() >> 32, ptr, UC_FREES);
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(munmap_enter, __u64 addr, __u64 len)
{
	count(&fn_calls, AF_MUNMAP);
	untrack(bpf_get_current_pid_tgid() >> 32, addr, UC_FREES);
	return 0;
}

/*
 * Empty programs for the cost a libc-probed call has on this machine:
 * user/collectors/col_alloc.c attaches them at the target's probe places
 * in disco's own libc for a moment at start and times its own calls.
 */
SEC("uprobe")
int cost_enter(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int cost_exit(void *ctx)
{
	return 0;
}

/* ================ libdisco-alloc.so (user/preload/) probes ================= */

/*
 * The library calls these NOP-first functions only for sampled calls
 * (every call with --alloc-sample-bytes 1), after the real allocator
 * returned (allocations) or before the block goes back (frees), so no
 * return probe and no per-thread call state is needed. The library is
 * mapped only in processes started with it: the probes are attached for
 * every process and the pid filter keeps the targets.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alloc_lib_rec);
} lib_scratch SEC(".maps");

/* the sampling mean the preloaded targets run with, and samples they lost */
__u64 lib_mean_bytes = 0;
__u64 lib_lost = 0;

/* A block freed: forgotten (the free probe's work, also the held-back frees'). */
static __always_inline void lib_freed(__u32 tgid, __u64 ptr)
{
	count(&fn_calls, AF_FREE);
	if (!slot_untrack(alloc_slot_key(tgid, ptr), UC_FREES))
		untrack(tgid, ptr, UC_FREES);
}

SEC("uprobe")
int BPF_KPROBE(lib_alloc, __u64 ptr, __u64 size, __u64 recp, __u64 stack_id, __u64 wbytes)
{
	__u64 id = bpf_get_current_pid_tgid(), packed = ctx->r9, wallocs = packed >> 8, now;
	__u32 zero = 0, fn = packed & 0x7f, tgid = id >> 32;
	struct alloc_site_key sk = { .tgid = tgid, .stack_id = stack_id };
	struct alloc_site *s;
	struct hist *h;

	if (!want_current())
		return 0;
	/*
	 * Full mode: wbytes is a block this thread freed before (held back,
	 * so not yet reusable: it cannot be ptr), forgotten first.
	 */
	if (packed & ALLOC_LIB_FULL) {
		if (wbytes)
			lib_freed(tgid, wbytes);
		wbytes = size;
		wallocs = 1;
	}
	if (fn >= AF_NR)
		fn = AF_MALLOC;
	{
		__u32 k = fn;
		__u64 *v = bpf_map_lookup_elem(&fn_calls, &k);

		if (v)
			*v += wallocs;
		k = UC_ALLOCS;
		v = bpf_map_lookup_elem(&ucounts, &k);
		if (v)
			*v += wallocs;
	}
	count(&ucounts, UC_TRACKED);
	h = bpf_map_lookup_elem(&sizes, &zero);
	if (h)
		hist_add_n(h, size, wallocs);
	/*
	 * A site this process has already: its stack is stored. Else the
	 * stack, if not stored yet, comes with the record in one read.
	 */
	s = stack_id ? bpf_map_lookup_elem(&sites, &sk) : NULL;
	if (stack_id && !s && !bpf_map_lookup_elem(&ustacks, &stack_id)) {
		struct alloc_lib_rec *r = bpf_map_lookup_elem(&lib_scratch, &zero);

		if (!r || bpf_probe_read_user(r, sizeof(*r), (void *)recp)) {
			stack_id = 0;
		} else {
			lib_mean_bytes = r->mean_bytes;
			lib_lost = r->lost;
			if (r->stack_id != stack_id ||
			    (bpf_map_update_elem(&ustacks, &stack_id, &r->stack, BPF_NOEXIST) &&
			     !bpf_map_lookup_elem(&ustacks, &stack_id)))
				stack_id = 0;
		}
	}
	if (!stack_id)
		count(&ucounts, UC_STACK_ERRORS);
	now = tick_now();
	if (slot_track(alloc_slot_key(tgid, ptr), wbytes, wallocs, stack_id, now))
		tracked(id, ptr, size, wbytes, wallocs, stack_id, fn, s, now);
	else if (track_hash(tgid, ptr, wbytes, wallocs, stack_id, now))
		tracked(id, ptr, size, wbytes, wallocs, stack_id, fn, NULL, now);
	return 0;
}

/*
 * No filter here: a block of a process that is not a target was never
 * tracked, so its lookup misses anyway, and the filter's own lookup would
 * cost every free of a target.
 */
SEC("uprobe")
int BPF_KPROBE(lib_free, __u64 ptr)
{
	lib_freed(bpf_get_current_pid_tgid() >> 32, ptr);
	return 0;
}

/* ======================= kernel (kmem tracepoints) ===================== */

/* Address sampling: an allocation and its free agree without shared state. */
static __always_inline bool kaddr_sampled(__u64 ptr)
{
	if (ksample_every <= 1)
		return true;
	return ((ptr >> 4) * 0x9E3779B97F4A7C15ull >> 40) % ksample_every == 0;
}

/*
 * A program interrupted on its CPU by another of ours (an allocation in an
 * interrupt) can lose an increment of a per-CPU value, as with any per-CPU
 * map; a slot claimed twice at once ends up with the second site's key.
 */
static __always_inline struct kalloc_site *ksite_get(__u64 call_site)
{
	__u32 slot = kslot_of(call_site);
	struct kalloc_slot *sl = bpf_map_lookup_elem(&kslots, &slot);
	struct kalloc_site *s;

	if (sl) {
		if (sl->call_site == call_site)
			return &sl->s;
		if (!sl->call_site) {
			sl->call_site = call_site;
			return &sl->s;
		}
	}
	s = bpf_map_lookup_elem(&ksites, &call_site);
	if (!s) {
		struct kalloc_site zero = {};

		bpf_map_update_elem(&ksites, &call_site, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&ksites, &call_site);
	}
	return s;
}

static __always_inline void kforget(__u64 ptr, __u32 counter)
{
	struct kalloc_info *i = bpf_map_lookup_elem(&kallocs, &ptr);
	struct kalloc_site *s;
	__u64 site, bytes;

	if (!i)
		return;
	site = i->call_site;
	bytes = i->bytes;
	if (bpf_map_delete_elem(&kallocs, &ptr))
		return;
	count(&kcounts, counter);
	s = ksite_get(site);
	if (s) {
		s->frees++;
		s->outstanding_allocs--;
		s->outstanding_bytes -= bytes;
	}
}

static __always_inline void k_alloc(__u64 call_site, __u64 ptr, __u64 req, __u64 alloc,
				    __u32 kind)
{
	struct kalloc_site *s;
	struct hist *h;
	__u32 zero = 0;

	if (!ptr || !want_current())
		return;
	count(&kcounts, kind);
	s = ksite_get(call_site);
	if (!s)
		return;
	s->allocs++;
	s->bytes_req += req;
	s->bytes_alloc += alloc;
	h = bpf_map_lookup_elem(&ksizes, &zero);
	if (h)
		hist_add(h, req);
	if (!ktrack || !kaddr_sampled(ptr))
		return;
	{
		struct kalloc_info info = { .call_site = call_site, .bytes = alloc,
					    .ts_ns = bpf_ktime_get_ns() };

		if (bpf_map_lookup_elem(&kallocs, &ptr))
			kforget(ptr, KC_REPLACED);
		if (bpf_map_update_elem(&kallocs, &ptr, &info, BPF_ANY)) {
			count(&kcounts, KC_TABLE_FULL);
			count_drop();
			return;
		}
		/* kforget may have taken another site's entry: look ours up again */
		s = ksite_get(call_site);
		if (s) {
			s->outstanding_allocs++;
			s->outstanding_bytes += alloc;
		}
	}
}

/*
 * Frees are never filtered by task: RCU callbacks, softirqs and other
 * tasks free what the traced task allocated, and a free missed that way
 * would show up as a leak.
 */
static __always_inline void k_free(__u64 ptr, __u32 kind)
{
	/* kfree(NULL) and ZERO_SIZE_PTR are traced too */
	if (ptr <= 16)
		return;
	count(&kcounts, kind);
	if (ktrack && kaddr_sampled(ptr))
		kforget(ptr, KC_FREES_TRACKED);
}

static __always_inline void k_page(__u64 page, __u32 order, bool alloc)
{
	struct page_order_stat *st;
	__u32 o = order;

	if (!page)
		return;
	if (alloc && !want_current())
		return;
	if (o >= ALLOC_MAX_ORDER)
		o = ALLOC_MAX_ORDER - 1;
	st = bpf_map_lookup_elem(&korders, &o);
	if (!st)
		return;
	if (alloc) {
		st->allocs++;
		count(&kcounts, KC_PAGE_ALLOC);
	} else {
		st->frees++;
		count(&kcounts, KC_PAGE_FREE);
	}
}

/*
 * kmem_cache_alloc's third argument: the cache since 2c1d697fb8ba
 * ("mm/slab_common: drop kmem_alloc & avoid dereferencing fields when not
 * using", 6.2); before it, bytes_req and bytes_alloc like kmalloc.
 */
static __always_inline void cache_alloc(__u64 call_site, __u64 ptr, __u64 a2, __u64 a3,
					bool direct)
{
	__u64 req = a2, alloc = a3;

	if (!kmem_cache_alloc_has_sizes()) {
		struct kmem_cache *s = (void *)a2;

		/* tp_btf: a typed pointer, read with plain loads */
		if (direct) {
			req = s->object_size;
			alloc = s->size;
		} else {
			req = BPF_CORE_READ(s, object_size);
			alloc = BPF_CORE_READ(s, size);
		}
	}
	k_alloc(call_site, ptr, req, alloc, KC_CACHE_ALLOC);
}

/*
 * tp_btf: arguments as in TP_PROTO. The object pointer of the slab events
 * is a const void *, copied out of the context (tp_btf_void_ptr_arg).
 */
SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc_btf)
{
	__u64 *a = (__u64 *)ctx;

	k_alloc(a[0], tp_btf_void_ptr_arg(a, 1), a[2], a[3], KC_KMALLOC);
	return 0;
}

SEC("tp_btf/kmalloc_node")
int BPF_PROG(kmalloc_node_btf)
{
	__u64 *a = (__u64 *)ctx;

	k_alloc(a[0], tp_btf_void_ptr_arg(a, 1), a[2], a[3], KC_KMALLOC);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(cache_alloc_btf)
{
	__u64 *a = (__u64 *)ctx;

	cache_alloc(a[0], tp_btf_void_ptr_arg(a, 1), a[2], a[3], true);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc_node")
int BPF_PROG(cache_alloc_node_btf)
{
	__u64 *a = (__u64 *)ctx;

	k_alloc(a[0], tp_btf_void_ptr_arg(a, 1), a[2], a[3], KC_CACHE_ALLOC);
	return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_btf)
{
	__u64 *a = (__u64 *)ctx;

	k_free(tp_btf_void_ptr_arg(a, 1), KC_KFREE);
	return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(cache_free_btf)
{
	__u64 *a = (__u64 *)ctx;

	k_free(tp_btf_void_ptr_arg(a, 1), KC_CACHE_FREE);
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc_btf)
{
	__u64 *a = (__u64 *)ctx;

	k_page(a[0], (__u32)a[1], true);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(page_free_btf)
{
	__u64 *a = (__u64 *)ctx;

	k_page(a[0], (__u32)a[1], false);
	return 0;
}

/* raw_tp: the same arguments, untyped */
SEC("raw_tp/kmalloc")
int kmalloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	k_alloc(ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], KC_KMALLOC);
	return 0;
}

SEC("raw_tp/kmalloc_node")
int kmalloc_node_raw(struct bpf_raw_tracepoint_args *ctx)
{
	k_alloc(ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], KC_KMALLOC);
	return 0;
}

SEC("raw_tp/kmem_cache_alloc")
int cache_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	cache_alloc(ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], false);
	return 0;
}

SEC("raw_tp/kmem_cache_alloc_node")
int cache_alloc_node_raw(struct bpf_raw_tracepoint_args *ctx)
{
	k_alloc(ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], KC_CACHE_ALLOC);
	return 0;
}

SEC("raw_tp/kfree")
int kfree_raw(struct bpf_raw_tracepoint_args *ctx)
{
	k_free(ctx->args[1], KC_KFREE);
	return 0;
}

SEC("raw_tp/kmem_cache_free")
int cache_free_raw(struct bpf_raw_tracepoint_args *ctx)
{
	k_free(ctx->args[1], KC_CACHE_FREE);
	return 0;
}

SEC("raw_tp/mm_page_alloc")
int page_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	k_page(ctx->args[0], (__u32)ctx->args[1], true);
	return 0;
}

SEC("raw_tp/mm_page_free")
int page_free_raw(struct bpf_raw_tracepoint_args *ctx)
{
	k_page(ctx->args[0], (__u32)ctx->args[1], false);
	return 0;
}

/* classic tracepoints: the recorded fields (pfn instead of page) */
SEC("tp/kmem/kmalloc")
int kmalloc_tp(void *ctx)
{
	__u64 site, ptr, req, alloc;

	tp_kmem_alloc_fields(ctx, false, &site, &ptr, &req, &alloc);
	k_alloc(site, ptr, req, alloc, KC_KMALLOC);
	return 0;
}

SEC("tp/kmem/kmalloc_node")
int kmalloc_node_tp(void *ctx)
{
	__u64 site, ptr, req, alloc;

	tp_kmem_alloc_fields(ctx, false, &site, &ptr, &req, &alloc);
	k_alloc(site, ptr, req, alloc, KC_KMALLOC);
	return 0;
}

SEC("tp/kmem/kmem_cache_alloc")
int cache_alloc_tp(void *ctx)
{
	__u64 site, ptr, req, alloc;

	tp_kmem_alloc_fields(ctx, true, &site, &ptr, &req, &alloc);
	k_alloc(site, ptr, req, alloc, KC_CACHE_ALLOC);
	return 0;
}

SEC("tp/kmem/kmem_cache_alloc_node")
int cache_alloc_node_tp(void *ctx)
{
	__u64 site, ptr, req, alloc;

	tp_kmem_alloc_fields(ctx, true, &site, &ptr, &req, &alloc);
	k_alloc(site, ptr, req, alloc, KC_CACHE_ALLOC);
	return 0;
}

SEC("tp/kmem/kfree")
int kfree_tp(struct trace_event_raw_kfree *ctx)
{
	k_free((__u64)ctx->ptr, KC_KFREE);
	return 0;
}

SEC("tp/kmem/kmem_cache_free")
int cache_free_tp(struct trace_event_raw_kmem_cache_free *ctx)
{
	k_free((__u64)ctx->ptr, KC_CACHE_FREE);
	return 0;
}

SEC("tp/kmem/mm_page_alloc")
int page_alloc_tp(struct trace_event_raw_mm_page_alloc *ctx)
{
	/* pfn is -1 when the allocation failed */
	k_page(ctx->pfn != (unsigned long)-1 ? 1 : 0, ctx->order, true);
	return 0;
}

SEC("tp/kmem/mm_page_free")
int page_free_tp(struct trace_event_raw_mm_page_free *ctx)
{
	k_page(1, ctx->order, false);
	return 0;
}
