// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for libdisco-alloc.so (user/preload/): the byte sampler, the
 * address set, the stack walk, and the wrappers themselves, built here
 * under test names (da_test_malloc, ...) around the test's own allocator
 * so that `make asan` checks them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "da_core.h"
#include "bpf/alloc.h"

void *da_test_malloc(size_t n);
void da_test_free(void *p);
void *da_test_calloc(size_t k, size_t n);
void *da_test_realloc(void *p, size_t n);
void *da_test_reallocarray(void *p, size_t k, size_t n);
int da_test_posix_memalign(void **out, size_t align, size_t n);
void *da_test_aligned_alloc(size_t align, size_t n);
void *da_test_memalign(size_t align, size_t n);
void *da_test_valloc(size_t n);
void *da_test_pvalloc(size_t n);
void *da_test_mmap(void *a, size_t len, int prot, int flags, int fd, off_t off);
int da_test_munmap(void *a, size_t len);
size_t da_test_malloc_usable_size(void *p);
void da_test_test_resolving(int on);
bool da_test_test_sampled(void *p);
const struct alloc_lib_rec *da_test_test_last(void);
void *da_test_test_pending(void);
void da_test_test_exit_flush(void);
extern struct alloc_lib_pending disco_alloc_pending;

/* Run the wrappers with this mean interval and a fixed seed. */
static void mode(const char *mean)
{
	setenv(ALLOC_LIB_ENV_MEAN, mean, 1);
	setenv(ALLOC_LIB_ENV_SEED, "7", 1);
	da_test_test_resolving(1);
	da_test_test_resolving(0);
}

/* ---- sampler ------------------------------------------------------------------ */

static void test_sampler_mean_one_samples_every_call_with_exact_weight(void **state)
{
	struct da_sampler s = {};
	__u64 b, n;

	da_sampler_seed(&s, 1, 3);
	for (size_t i = 0; i < 1000; i++)
		assert_true(da_sample(&s, i % 7));
	da_weight(&s, 1234, &b, &n);
	assert_int_equal(b, 1234);
	assert_int_equal(n, 1);
}

/* 1 GiB in 64-byte blocks at a 512 KiB mean: ~2048 samples, estimate within 10% */
static void test_sampler_estimates_bytes_and_blocks_without_bias(void **state)
{
	struct da_sampler s = {};
	const size_t blk = 64, nblk = (1u << 30) / 64;
	double eb = 0, en = 0;
	size_t hits = 0;

	da_sampler_seed(&s, 512 << 10, 42);
	for (size_t i = 0; i < nblk; i++) {
		__u64 b, n;

		if (!da_sample(&s, blk))
			continue;
		hits++;
		da_weight(&s, blk, &b, &n);
		eb += b;
		en += n;
	}
	assert_in_range(hits, 1700, 2400);
	assert_true(eb > 0.9 * (1u << 30) && eb < 1.1 * (1u << 30));
	assert_true(en > 0.9 * nblk && en < 1.1 * nblk);
}

static void test_sampler_takes_every_block_much_larger_than_the_mean(void **state)
{
	struct da_sampler s = {};
	__u64 b, n;

	da_sampler_seed(&s, 4096, 1);
	for (int i = 0; i < 100; i++) {
		assert_true(da_sample(&s, 1 << 20));
		da_weight(&s, 1 << 20, &b, &n);
		assert_int_equal(b, 1 << 20);
		assert_int_equal(n, 1);
	}
}

static void test_sampler_same_seed_same_decisions(void **state)
{
	struct da_sampler a = {}, b = {};

	da_sampler_seed(&a, 1000, 99);
	da_sampler_seed(&b, 1000, 99);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(da_sample(&a, (size_t)(i % 300)), da_sample(&b, (size_t)(i % 300)));
}

static void test_sampler_first_call_seeds_a_zeroed_sampler(void **state)
{
	struct da_sampler s = {};

	assert_true(da_sample_first(&s, 1, 1, 5));
	assert_int_equal(s.mean, 1);
	memset(&s, 0, sizeof(s));
	assert_false(da_sample_first(&s, 1, 1ull << 40, 5));
	assert_int_equal(s.mean, 1ull << 40);
}

/* ---- address set ---------------------------------------------------------------- */

static void test_set_insert_remove_and_absent(void **state)
{
	uintptr_t slots[1 << 8] = {};
	uint8_t filter[1 << 4] = {};
	struct da_set set = { slots, 8, filter, 4 };

	assert_false(da_set_remove(&set, 0x1000));
	assert_true(da_set_insert(&set, 0x1000));
	assert_true(da_set_insert(&set, 0x2000));
	assert_true(da_set_remove(&set, 0x1000));
	assert_false(da_set_remove(&set, 0x1000));
	assert_true(da_set_remove(&set, 0x2000));
}

/* Colliding addresses chain; a tombstone is reused; the chain is bounded. */
static void test_set_collisions_reuse_tombstones_and_report_full(void **state)
{
	uintptr_t slots[1 << 4] = {};
	uint8_t filter[1 << 2] = {};
	struct da_set set = { slots, 4, filter, 2 };
	size_t ins = 0;

	for (uintptr_t a = 16; a < 16 * 40; a += 16)
		ins += da_set_insert(&set, a);
	assert_int_equal(ins, 16);	/* every slot taken, the rest refused */
	for (uintptr_t a = 16; a < 16 * 40; a += 16)
		if (da_set_remove(&set, a))
			ins--;
	assert_int_equal(ins, 0);
	/* all tombstones now: inserts reuse them, lookups of others stop */
	assert_true(da_set_insert(&set, 0x5550));
	assert_false(da_set_remove(&set, 0x7770));
	assert_true(da_set_remove(&set, 0x5550));
}

struct set_arg {
	struct da_set *set;
	uintptr_t base;
	int bad;
};

static void *set_worker(void *a)
{
	struct set_arg *sa = a;

	for (int round = 0; round < 200; round++) {
		for (uintptr_t i = 0; i < 100; i++)
			sa->bad += !da_set_insert(sa->set, sa->base + i * 16);
		for (uintptr_t i = 0; i < 100; i++)
			sa->bad += !da_set_remove(sa->set, sa->base + i * 16);
	}
	return NULL;
}

static void test_set_threads_insert_and_remove_their_own_blocks(void **state)
{
	static uintptr_t slots[1 << 14];
	static uint8_t filter[1 << 6];
	struct da_set set = { slots, 14, filter, 6 };
	struct set_arg args[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		args[i] = (struct set_arg){ &set, 0x100000 * (uintptr_t)(i + 1), 0 };
		assert_int_equal(pthread_create(&t[i], NULL, set_worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
	for (size_t i = 0; i < (1u << 14); i++)
		assert_true(slots[i] == 0 || slots[i] == 1);
	/* every member left: every filter counter is back at zero */
	for (size_t i = 0; i < (1u << 6); i++)
		assert_int_equal(filter[i], 0);
}

/* A counter that overflowed stays stuck: members are still found, none is missed. */
static void test_set_filter_counter_sticks_when_full(void **state)
{
	static uintptr_t slots[1 << 12];
	uint8_t filter[2] = {};
	struct da_set set = { slots, 12, filter, 1 };
	size_t n = 0;

	for (uintptr_t a = 0x10000; a < 0x10000 + 16 * 1200; a += 16)
		n += da_set_insert(&set, a);
	assert_int_equal(n, 1200);
	assert_int_equal(filter[0], DA_FILTER_STUCK);
	assert_int_equal(filter[1], DA_FILTER_STUCK);
	for (uintptr_t a = 0x10000; a < 0x10000 + 16 * 1200; a += 16)
		assert_true(da_set_remove(&set, a));
	assert_int_equal(filter[0], DA_FILTER_STUCK);
	assert_false(da_set_remove(&set, 0x10000));
	assert_true(da_set_insert(&set, 0x10000));
	assert_true(da_set_remove(&set, 0x10000));
}

/* ---- stack walk ------------------------------------------------------------------ */

static void test_walk_follows_frames_and_stops_outside_bounds(void **state)
{
	uintptr_t stk[32] = {};
	uintptr_t lo = (uintptr_t)stk, hi = (uintptr_t)(stk + 32);
	__u64 ips[8];

	/* frame at stk[0] -> stk[4] -> stk[10] -> outside */
	stk[0] = (uintptr_t)&stk[4];
	stk[1] = 0x401000;
	stk[4] = (uintptr_t)&stk[10];
	stk[5] = 0x402000;
	stk[10] = hi + 4096;
	stk[11] = 0x403000;
	assert_int_equal(da_walk(lo, lo, hi, ips, 8), 3);
	assert_int_equal(ips[0], 0x401000);
	assert_int_equal(ips[1], 0x402000);
	assert_int_equal(ips[2], 0x403000);
	assert_int_equal(ips[3], 0);
	/* a frame pointing down (no frame pointer there) ends the walk */
	stk[4] = (uintptr_t)&stk[0];
	assert_int_equal(da_walk(lo, lo, hi, ips, 8), 2);
	/* misaligned */
	stk[4] = (uintptr_t)&stk[10] + 3;
	assert_int_equal(da_walk(lo, lo, hi, ips, 8), 2);
	/* the depth limit */
	stk[4] = (uintptr_t)&stk[10];
	assert_int_equal(da_walk(lo, lo, hi, ips, 2), 2);
	/* a first frame outside the bounds gives nothing */
	assert_int_equal(da_walk(lo, lo + 8, hi, ips, 8), 0);
}

static void test_stack_hash_is_nonzero_and_order_sensitive(void **state)
{
	__u64 a[2] = { 1, 2 }, b[2] = { 2, 1 };

	assert_true(da_stack_hash(a, 2) != da_stack_hash(b, 2));
	assert_true(da_stack_hash(a, 0) != 0);
}

static void test_maps_range_parses_the_line_start(void **state)
{
	const char *l = "7ffd1000-7ffd3000 rw-p 00000000 00:00 0   [stack]";
	uintptr_t lo, hi;

	assert_true(da_maps_range(l, strlen(l), &lo, &hi));
	assert_int_equal(lo, 0x7ffd1000);
	assert_int_equal(hi, 0x7ffd3000);
	assert_false(da_maps_range("zz-10 r", 7, &lo, &hi));
	assert_false(da_maps_range("10", 2, &lo, &hi));
	assert_false(da_maps_range("20-10 r", 7, &lo, &hi));
}

static void test_maps_file_parses_offset_inode_and_path(void **state)
{
	const char *l = "7f12a000-7f12c000 r-xp 0001f000 fe:01 1234567   /usr/lib/x y.so";
	const char *anon = "7ffd1000-7ffd3000 rw-p 00000000 00:00 0   [stack]";
	const char *noino = "7f12a000-7f12c000 r-xp 0001f000 fe:01";
	struct da_map m;

	assert_true(da_maps_file(l, strlen(l), &m));
	assert_int_equal(m.lo, 0x7f12a000);
	assert_int_equal(m.hi, 0x7f12c000);
	assert_int_equal(m.off, 0x1f000);
	assert_int_equal(m.ino, 1234567);
	assert_int_equal(m.path_len, strlen("/usr/lib/x y.so"));
	assert_memory_equal(m.path, "/usr/lib/x y.so", m.path_len);
	assert_false(da_maps_file(anon, strlen(anon), &m));
	assert_false(da_maps_file(noino, strlen(noino), &m));
}

/* ---- the wrappers ------------------------------------------------------------------ */

/* Full mode: each call leaves its record, the caller first in its stack. */
static __attribute__((noinline)) void *call_site(size_t n)
{
	void *p = da_test_malloc(n);

	__asm__ volatile("" ::: "memory");
	return p;
}

static void test_wrappers_full_mode_record_every_call_exactly(void **state)
{
	const struct alloc_lib_rec *r = da_test_test_last();
	void *p, *q;
	uintptr_t ret;

	mode("1");
	p = call_site(100);
	assert_non_null(p);
	assert_int_equal(r->fn, AF_MALLOC);
	assert_int_equal(r->weight_bytes, 100);
	assert_int_equal(r->weight_allocs, 1);
	assert_int_equal(r->mean_bytes, 1);
	ret = (uintptr_t)r->stack.ips[0];
	assert_true(ret > (uintptr_t)call_site && ret < (uintptr_t)call_site + 256);
	assert_true(r->depth >= 1);	/* more where the test keeps frame pointers */
	assert_int_equal(r->stack_id, da_stack_hash(r->stack.ips, r->depth));
	q = da_test_calloc(10, 30);
	assert_int_equal(r->fn, AF_CALLOC);
	assert_int_equal(r->weight_bytes, 300);
	for (int i = 0; i < 300; i++)
		assert_int_equal(((char *)q)[i], 0);
	da_test_free(q);
	da_test_free(p);
	da_test_free(NULL);
}

static void test_wrappers_memalign_family_align_and_record(void **state)
{
	const struct alloc_lib_rec *r = da_test_test_last();
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	void *p = NULL, *a, *m, *v, *pv;

	mode("1");
	assert_int_equal(da_test_posix_memalign(&p, 64, 256), 0);
	assert_int_equal((uintptr_t)p % 64, 0);
	assert_int_equal(r->fn, AF_POSIX_MEMALIGN);
	assert_int_equal(r->weight_bytes, 256);
	a = da_test_aligned_alloc(128, 256);
	assert_int_equal((uintptr_t)a % 128, 0);
	assert_int_equal(r->fn, AF_MEMALIGN);
	m = da_test_memalign(256, 100);
	assert_int_equal((uintptr_t)m % 256, 0);
	v = da_test_valloc(10);
	assert_int_equal((uintptr_t)v % pg, 0);
	assert_int_equal(r->fn, AF_VALLOC);
	pv = da_test_pvalloc(10);
	assert_int_equal((uintptr_t)pv % pg, 0);
	assert_int_equal(r->fn, AF_PVALLOC);
	assert_true(da_test_malloc_usable_size(pv) >= pg);
	da_test_free(p);
	da_test_free(a);
	da_test_free(m);
	da_test_free(v);
	da_test_free(pv);
	da_test_free(NULL);
}

static void test_wrappers_mmap_and_munmap_are_recorded(void **state)
{
	const struct alloc_lib_rec *r = da_test_test_last();
	void *p;

	mode("1");
	p = da_test_mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(r->fn, AF_MMAP);
	assert_int_equal(r->weight_bytes, 3 * 4096);
	assert_int_equal(da_test_munmap(p, 3 * 4096), 0);
}

/* Sampled mode: a block far above the mean is sampled, a tiny one is not. */
static void test_wrappers_realloc_moves_a_sampled_block_and_samples_a_grown_one(void **state)
{
	void *big, *small, *q;

	mode("4096");
	big = da_test_malloc(1 << 20);
	assert_true(da_test_test_sampled(big));
	q = da_test_realloc(big, 2 << 20);
	assert_non_null(q);
	if (q != big)
		assert_false(da_test_test_sampled(big));
	assert_true(da_test_test_sampled(q));
	/* shrinking to a tiny size: the new block is very likely unsampled */
	small = da_test_malloc(1);
	assert_false(da_test_test_sampled(small));
	small = da_test_realloc(small, 1 << 20);
	assert_true(da_test_test_sampled(small));
	/* realloc(p, 0) frees: nothing of it stays in the set */
	q = da_test_realloc(q, 0);
	da_test_free(q);
	da_test_free(small);
	assert_false(da_test_test_sampled(small));
	/* reallocarray: overflow refused, the block untouched */
	small = da_test_malloc(8);
	errno = 0;
	assert_null(da_test_reallocarray(small, SIZE_MAX / 2, 4));
	assert_int_equal(errno, ENOMEM);
	small = da_test_reallocarray(small, 1024, 1024);
	assert_true(da_test_test_sampled(small));
	da_test_free(small);
	errno = 0;
	assert_null(da_test_calloc(SIZE_MAX / 2, 4));
	assert_int_equal(errno, ENOMEM);
}

static void test_wrappers_free_of_unsampled_blocks_leaves_set_alone(void **state)
{
	void *p[1000];

	mode("1099511627776");	/* 1 TiB: nothing small is sampled */
	for (int i = 0; i < 1000; i++)
		p[i] = da_test_malloc(64);
	for (int i = 0; i < 1000; i++) {
		assert_false(da_test_test_sampled(p[i]));
		da_test_free(p[i]);
	}
}

/* While dlsym runs, blocks come from the static arena; they outlive it. */
static void test_wrappers_bootstrap_calloc_comes_from_the_arena(void **state)
{
	char *c, *r, *moved;

	da_test_test_resolving(1);
	c = da_test_calloc(10, 10);
	assert_non_null(c);
	for (int i = 0; i < 100; i++)
		assert_int_equal(c[i], 0);
	memset(c, 'x', 100);
	assert_int_equal(da_test_malloc_usable_size(c), 100);
	r = da_test_realloc(c, 200);	/* still bootstrapping: arena again */
	assert_non_null(r);
	assert_int_equal(r[99], 'x');
	da_test_free(c);		/* arena blocks are never freed */
	da_test_test_resolving(0);
	moved = da_test_realloc(r, 300);	/* now into the real allocator */
	assert_non_null(moved);
	assert_int_equal(moved[0], 'x');
	assert_int_equal(moved[99], 'x');
	assert_true(da_test_malloc_usable_size(moved) >= 300);
	da_test_free(moved);
	da_test_free(r);
}

static void *churn_thread(void *a)
{
	unsigned int seed = (unsigned int)(uintptr_t)a;

	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand_r(&seed) % 5000);
		void *p = i % 3 ? da_test_malloc(n) : da_test_calloc(1, n);

		if (n)
			((char *)p)[n - 1] = 1;
		p = i % 5 ? p : da_test_realloc(p, n * 2 + 1);
		da_test_free(p);
	}
	return NULL;
}

/*
 * Threads, then a fork, in sampled mode: no race ASan sees, the child
 * carries on with the parent's set. (Forking while the threads allocate is
 * left to the integration test under glibc: ASan's allocator can deadlock
 * in a child forked mid-allocation, whatever wraps it.)
 */
static void test_wrappers_threads_and_fork_stay_consistent(void **state)
{
	pthread_t t[4];
	int st;
	pid_t pid;
	void *kept;

	mode("4096");
	kept = da_test_malloc(1 << 20);
	assert_true(da_test_test_sampled(kept));
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, (void *)(uintptr_t)(i + 1)), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		churn_thread((void *)(uintptr_t)9);
		/* the parent's sampled block is the child's too, and freed here once */
		if (!da_test_test_sampled(kept))
			_exit(2);
		da_test_free(kept);
		_exit(da_test_test_sampled(kept) ? 3 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(da_test_test_sampled(kept));
	da_test_free(kept);
}

/* Entries of the held-back table: blocks held, and entries owned by a thread. */
static void table_count(int *held, int *owned)
{
	*held = *owned = 0;
	for (int i = 0; i < ALLOC_LIB_PENDING_MAX; i++) {
		*held += __atomic_load_n(&disco_alloc_pending.e[i].blk, __ATOMIC_SEQ_CST) != 0;
		*owned += __atomic_load_n(&disco_alloc_pending.e[i].owner, __ATOMIC_SEQ_CST) != 0;
	}
}

/*
 * Full mode: a free is held back until the thread's next allocation hands
 * it over (one probe per pair), the next free sends the one held before,
 * a large block goes at once, and the flush at exit sends the rest.
 */
static void test_wrappers_full_mode_holds_each_free_until_the_next_allocation(void **state)
{
	void *p, *q, *r, *big;
	int held, owned;

	mode("1");
	assert_int_equal(disco_alloc_pending.magic, ALLOC_LIB_PENDING_MAGIC);
	p = da_test_malloc(100);
	da_test_free(p);
	assert_ptr_equal(da_test_test_pending(), p);
	q = da_test_malloc(100);	/* p is still held: it cannot come back yet */
	assert_ptr_not_equal(q, p);
	assert_null(da_test_test_pending());
	r = da_test_malloc(10);
	da_test_free(q);
	da_test_free(r);		/* q goes now, r waits */
	assert_ptr_equal(da_test_test_pending(), r);
	big = da_test_malloc(1 << 20);	/* hands r over */
	assert_null(da_test_test_pending());
	p = da_test_malloc(10);
	da_test_free(p);
	da_test_free(big);		/* too large to keep from the system */
	assert_ptr_equal(da_test_test_pending(), p);
	table_count(&held, &owned);
	assert_int_equal(held, 1);
	da_test_test_exit_flush();
	assert_null(da_test_test_pending());
	table_count(&held, &owned);
	assert_int_equal(held, 0);
}

static pthread_barrier_t hold_bar;

static void *hold_thread(void *a)
{
	(void)a;
	da_test_free(da_test_malloc(64));
	pthread_barrier_wait(&hold_bar);	/* the main thread counts our held block */
	pthread_barrier_wait(&hold_bar);
	return NULL;			/* exit: the held block goes, the entry is free */
}

/* A thread's held block goes when it exits, and its entry is given up. */
static void test_wrappers_full_mode_thread_exit_sends_the_held_free(void **state)
{
	pthread_t t;
	int held0, owned0, held, owned;

	mode("1");
	da_test_test_exit_flush();
	table_count(&held0, &owned0);
	assert_int_equal(held0, 0);
	pthread_barrier_init(&hold_bar, NULL, 2);
	assert_int_equal(pthread_create(&t, NULL, hold_thread, NULL), 0);
	pthread_barrier_wait(&hold_bar);
	table_count(&held, &owned);
	assert_int_equal(held, 1);
	assert_int_equal(owned, owned0 + 1);
	pthread_barrier_wait(&hold_bar);
	pthread_join(t, NULL);
	table_count(&held, &owned);
	assert_int_equal(held, 0);
	assert_int_equal(owned, owned0);
	pthread_barrier_destroy(&hold_bar);
}

/* A forked child gives the parent's held blocks back unreported and keeps one entry. */
static void test_wrappers_full_mode_fork_child_drops_the_parents_held_frees(void **state)
{
	int st;
	pid_t pid;

	mode("1");
	da_test_free(da_test_malloc(64));
	assert_non_null(da_test_test_pending());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int held, owned;

		table_count(&held, &owned);
		if (held || owned > 1 || da_test_test_pending())
			_exit(2);
		da_test_free(da_test_malloc(64));	/* its own frees are held as before */
		_exit(da_test_test_pending() ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(da_test_test_pending());	/* the parent's is still its own */
	da_test_test_exit_flush();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sampler_mean_one_samples_every_call_with_exact_weight),
		cmocka_unit_test(test_sampler_estimates_bytes_and_blocks_without_bias),
		cmocka_unit_test(test_sampler_takes_every_block_much_larger_than_the_mean),
		cmocka_unit_test(test_sampler_same_seed_same_decisions),
		cmocka_unit_test(test_sampler_first_call_seeds_a_zeroed_sampler),
		cmocka_unit_test(test_set_insert_remove_and_absent),
		cmocka_unit_test(test_set_collisions_reuse_tombstones_and_report_full),
		cmocka_unit_test(test_set_threads_insert_and_remove_their_own_blocks),
		cmocka_unit_test(test_set_filter_counter_sticks_when_full),
		cmocka_unit_test(test_walk_follows_frames_and_stops_outside_bounds),
		cmocka_unit_test(test_stack_hash_is_nonzero_and_order_sensitive),
		cmocka_unit_test(test_maps_range_parses_the_line_start),
		cmocka_unit_test(test_wrappers_full_mode_record_every_call_exactly),
		cmocka_unit_test(test_wrappers_memalign_family_align_and_record),
		cmocka_unit_test(test_wrappers_mmap_and_munmap_are_recorded),
		cmocka_unit_test(test_wrappers_realloc_moves_a_sampled_block_and_samples_a_grown_one),
		cmocka_unit_test(test_wrappers_free_of_unsampled_blocks_leaves_set_alone),
		cmocka_unit_test(test_wrappers_bootstrap_calloc_comes_from_the_arena),
		cmocka_unit_test(test_wrappers_threads_and_fork_stay_consistent),
		cmocka_unit_test(test_wrappers_full_mode_holds_each_free_until_the_next_allocation),
		cmocka_unit_test(test_wrappers_full_mode_thread_exit_sends_the_held_free),
		cmocka_unit_test(test_wrappers_full_mode_fork_child_drops_the_parents_held_frees),
		cmocka_unit_test(test_maps_file_parses_offset_inode_and_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
