// SPDX-License-Identifier: GPL-2.0
/*
 * libdisco-alloc.so: LD_PRELOAD wrappers of the malloc family that call the
 * real allocator and, for the calls sampled by bytes, a probe function
 * whose first instruction is a 5-byte NOP, where disco's uprobes sit (a
 * uprobe on a NOP costs about one kernel entry; on glibc's own entries
 * 5-18 us). Sampling is decided here, before any kernel entry; the stack
 * is walked here too and handed over in one per-thread record.
 *
 * Rules of this file: nothing on the sampled path allocates or takes a
 * lock; a call made from inside a wrapper (the real allocator calling
 * malloc, dlsym calling calloc) goes straight through; before dlsym has
 * found the real functions, blocks come from a static arena.
 *
 * Environment: DISCO_ALLOC_SAMPLE_BYTES (mean interval, 1 = every call;
 * default DA_DEFAULT_MEAN_BYTES), DISCO_ALLOC_SEED (fixed seed for tests).
 *
 * Built with DA_PREFIX (unit tests), the wrappers are named DA_PREFIX##name
 * and wrap the program's own allocator instead of interposing on it.
 *
 * The fast paths (malloc, calloc and free not sampled) touch no thread
 * state but the sampler's byte count, make no call but the tail call to the
 * real function, and keep no frame: everything else is on the slow paths.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "da_core.h"
#include "bpf/alloc.h"

#define EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#ifdef DA_PREFIX
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define WRAP(name) CAT(DA_PREFIX, name)
#define NEXT RTLD_DEFAULT
#else
#define WRAP(name) name
#define NEXT RTLD_NEXT
#endif

/*
 * The probe functions: a 5-byte NOP, then return. Assembler, so that no
 * prologue comes before the NOP. Arguments in %rdi, %rsi, %rdx, %rcx,
 * %r8, %r9 (bpf/alloc.h says which).
 */
__asm__(".text\n"
	".globl " ALLOC_LIB_PROBE_ALLOC "\n"
	".type " ALLOC_LIB_PROBE_ALLOC ", @function\n"
	".p2align 4\n"
	ALLOC_LIB_PROBE_ALLOC ":\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	"	ret\n"
	".size " ALLOC_LIB_PROBE_ALLOC ", .-" ALLOC_LIB_PROBE_ALLOC "\n"
	".globl " ALLOC_LIB_PROBE_FREE "\n"
	".type " ALLOC_LIB_PROBE_FREE ", @function\n"
	".p2align 4\n"
	ALLOC_LIB_PROBE_FREE ":\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	"	ret\n"
	".size " ALLOC_LIB_PROBE_FREE ", .-" ALLOC_LIB_PROBE_FREE "\n");

EXPORT void disco_alloc_probe_alloc(void *ptr, size_t size, const struct alloc_lib_rec *rec,
				    uint64_t stack_id, uint64_t weight_bytes, uint64_t allocs_fn);
EXPORT void disco_alloc_probe_free(void *ptr);

static struct {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	size_t (*malloc_usable_size)(void *);
} real;
static int real_ready;		/* every pointer above is set */

static uint64_t cfg_mean = DA_DEFAULT_MEAN_BYTES;
static uint64_t cfg_seed;
static bool cfg_seed_fixed;
static uint64_t thread_seq;	/* threads seeded so far (seed per thread) */
static uint64_t lost;		/* samples dropped: no slot in the set */

/* Sampled blocks (sampled mode only: in full mode every free is probed). */
#define SET_BITS 20
#define FILTER_BITS 14		/* 16 KiB of counters: stays in cache */
static uintptr_t set_slots[1 << SET_BITS];
static uint8_t set_filter[1 << FILTER_BITS];
static const struct da_set set = { set_slots, SET_BITS, set_filter, FILTER_BITS };

/*
 * What free's fast path reads: the set's counters in sampled mode; before
 * the real functions are known, and in full mode, a table of ones, so that
 * every free takes the slow path without a test of its own for either.
 */
static const uint8_t gate_all[1 << FILTER_BITS] = { [0 ... (1 << FILTER_BITS) - 1] = 1 };
static const uint8_t *free_gate = gate_all;

struct da_thread {
	struct da_sampler s;
	int depth;		/* > 0: inside a wrapper; nested calls pass through */
	int resolving;		/* inside dlsym: allocate from the arena */
	uintptr_t stk_lo, stk_hi;	/* the mapping holding this thread's stack */
	bool stk_unknown;	/* /proc/self/maps could not say: not asked again */
	int pend_state;		/* 0: no entry yet; 1: pend is ours; 2: frees go at once */
	struct alloc_lib_pend *pend;	/* full mode: this thread's entry of disco_alloc_pending */
	struct alloc_lib_rec rec;
};

static __thread struct da_thread tls __attribute__((tls_model("initial-exec")));

/* ---- bootstrap arena: what dlsym allocates before malloc is known ---------- */

#define ARENA_BYTES (64u << 10)
static char arena[ARENA_BYTES] __attribute__((aligned(64)));
static size_t arena_used;

static bool in_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + ARENA_BYTES;
}

/* A header of 16 bytes before each block holds its size; never freed. */
static void *arena_alloc(size_t n, size_t align)
{
	size_t off, need, old;

	if (align < 16)
		align = 16;
	if (n > ARENA_BYTES || (align & (align - 1)) || align > 4096)
		return NULL;
	old = __atomic_load_n(&arena_used, __ATOMIC_RELAXED);
	do {
		off = (old + 16 + align - 1) & ~(align - 1);
		need = off + ((n + 15) & ~(size_t)15);
		if (need > ARENA_BYTES)
			return NULL;
	} while (!__atomic_compare_exchange_n(&arena_used, &old, need, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	*(size_t *)(arena + off - 16) = n;
	return arena + off;	/* static storage: already zero */
}

static size_t arena_size(const void *p)
{
	return *(const size_t *)((const char *)p - 16);
}

/* ---- configuration and the real functions ----------------------------------- */

static uint64_t env_u64(const char *name, bool *set_out)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long x;

	if (set_out)
		*set_out = false;
	if (!v || !*v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end)
		return 0;
	if (set_out)
		*set_out = true;
	return x;
}

#define RESOLVE(f) (*(void **)&real.f = dlsym(NEXT, #f))

/* 0 when the real functions are known; -1 from inside dlsym itself. */
static int resolve(void)
{
	uint64_t m;

	if (__atomic_load_n(&real_ready, __ATOMIC_ACQUIRE))
		return 0;
	if (tls.resolving)
		return -1;
	tls.resolving = 1;
	RESOLVE(malloc);
	RESOLVE(free);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(posix_memalign);
	RESOLVE(aligned_alloc);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(pvalloc);
	RESOLVE(mmap);
	RESOLVE(munmap);
	RESOLVE(malloc_usable_size);
	tls.resolving = 0;
	if (!real.malloc || !real.free || !real.calloc || !real.realloc || !real.memalign ||
	    !real.posix_memalign || !real.mmap || !real.munmap)
		return -1;
	m = env_u64(ALLOC_LIB_ENV_MEAN, NULL);
	cfg_mean = m ? m : DA_DEFAULT_MEAN_BYTES;
	cfg_seed = env_u64(ALLOC_LIB_ENV_SEED, &cfg_seed_fixed);
	__atomic_store_n(&free_gate, cfg_mean == 1 ? gate_all : set_filter, __ATOMIC_RELEASE);
	__atomic_store_n(&real_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

static inline bool full_mode(void)
{
	return cfg_mean == 1;
}

static uint64_t thread_seed(void)
{
	uint64_t n = __atomic_fetch_add(&thread_seq, 1, __ATOMIC_RELAXED);

	if (cfg_seed_fixed)
		return cfg_seed * 0x9E3779B97F4A7C15ull + n;
	return (uint64_t)__builtin_ia32_rdtsc() ^ (uint64_t)(uintptr_t)&tls ^ (n << 32);
}

/* Set in a forked child whose probe functions cannot be called (see below). */
static int probes_off;

/*
 * The /proc/self/maps line of the mapping holding addr into out (cap
 * bytes, a line longer than that is skipped), its length in *len; read
 * with buffers on the stack (no allocation).
 */
static bool maps_line_of(uintptr_t addr, char *out, size_t cap, size_t *len)
{
	char buf[2048];
	size_t have = 0;
	bool found = false;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (!found) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		size_t start = 0;
		uintptr_t lo, hi;

		if (r <= 0)
			break;
		have += (size_t)r;
		for (size_t i = 0; i < have && !found; i++) {
			if (buf[i] != '\n')
				continue;
			if (da_maps_range(buf + start, i - start, &lo, &hi) && addr >= lo && addr < hi &&
			    i - start <= cap) {
				memcpy(out, buf + start, i - start);
				*len = i - start;
				found = true;
			}
			start = i + 1;
		}
		if (start == 0 && have == sizeof(buf))
			start = have;	/* a line longer than the buffer: skip it */
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	close(fd);
	return found;
}

/* The file mapping of this library's probe functions (read at load). */
static struct {
	char path[1024];
	uintptr_t lo, hi;
	uint64_t off;
	dev_t dev;
	ino_t ino;		/* 0: unknown */
} probe_file;

static void probe_file_find(void)
{
	char line[1200];
	struct da_map m;
	struct stat st;
	size_t len;

	if (!maps_line_of((uintptr_t)disco_alloc_probe_alloc, line, sizeof(line), &len) ||
	    !da_maps_file(line, len, &m) || m.path_len >= sizeof(probe_file.path))
		return;
	memcpy(probe_file.path, m.path, m.path_len);
	probe_file.path[m.path_len] = 0;
	/* the file at that path now must be the one mapped */
	if (stat(probe_file.path, &st) || st.st_ino != m.ino)
		return;
	probe_file.lo = m.lo;
	probe_file.hi = m.hi;
	probe_file.off = m.off;
	probe_file.dev = st.st_dev;
	probe_file.ino = st.st_ino;
}

/*
 * A kernel that optimizes uprobes on 5-byte NOPs (6.18 here) rewrites the
 * probe's NOP into a call to a "[uprobes-trampoline]" page of this process;
 * fork copies the rewritten text but not that page, so a child calling the
 * probe before exec jumps to nothing (SIGSEGV). The child maps the page
 * holding the probe again from the library's file: mapping a file range
 * makes the kernel install the breakpoints of the uprobes registered on it
 * at that moment, under the same locks as a uprobe's registration and
 * removal, so a disco detaching at the same time leaves either the
 * breakpoint with its uprobe or the plain NOP, never a breakpoint no
 * uprobe owns (which patching the bytes here could: read the call, the
 * uprobe goes, write int3 -> SIGTRAP). If the file is not the one mapped
 * any more or the mapping fails, the child records nothing until it execs.
 */
static void remap_probe(void (*fn)(void))
{
	uintptr_t at = (uintptr_t)fn, pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t page = at & ~(pg - 1);
	struct stat st;
	int fd;

	if (*(volatile unsigned char *)at != 0xe8)	/* a NOP or a breakpoint: fine */
		return;
	if (!probe_file.ino || page < probe_file.lo || page + pg > probe_file.hi) {
		probes_off = 1;
		return;
	}
	fd = open(probe_file.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_dev != probe_file.dev || st.st_ino != probe_file.ino ||
	    mmap((void *)page, pg, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd,
		 (off_t)(probe_file.off + (page - probe_file.lo))) == MAP_FAILED)
		probes_off = 1;
	if (fd >= 0)
		close(fd);
}

/* ---- full mode: frees held back until the thread's next allocation ------ */

/*
 * bpf/alloc.h says why (ALLOC_LIB_FULL). An entry's block is taken with an
 * exchange by whoever reports it, its thread or the flush at exit, so it
 * is reported and given back exactly once. A block larger than
 * DEFER_MAX_BYTES goes back at once: a freed buffer of megabytes is not
 * kept from the system while its thread idles.
 */
#define DEFER_MAX_BYTES (256u << 10)

EXPORT struct alloc_lib_pending disco_alloc_pending = {
	.magic = ALLOC_LIB_PENDING_MAGIC,
	.n = ALLOC_LIB_PENDING_MAX,
};
static pthread_key_t pend_key;
static int pend_key_ok;
static int defer_stopped;	/* exit flushed the table: frees go at once */

/* A free reported now: the probe, then the block goes back. */
static void free_now(void *p)
{
	if (likely(!probes_off))
		disco_alloc_probe_free(p);
	tls.depth++;
	real.free(p);
	tls.depth--;
}

static void pend_flush(struct alloc_lib_pend *e)
{
	uintptr_t b = __atomic_exchange_n(&e->blk, 0, __ATOMIC_SEQ_CST);

	if (b)
		free_now((void *)b);
}

/* Thread exit (its key's destructor): the block held goes, later frees at once. */
static void pend_thread_exit(void *v)
{
	struct alloc_lib_pend *e = v;

	tls.pend_state = 2;
	tls.pend = NULL;
	pend_flush(e);
	__atomic_store_n(&e->owner, 0, __ATOMIC_RELEASE);
}

/* This thread's entry, claimed at its first free; NULL: free at once. */
static struct alloc_lib_pend *pend_entry(void)
{
	struct alloc_lib_pend *e = disco_alloc_pending.e;

	if (likely(tls.pend_state))
		return tls.pend;
	/* before the constructor made the key: this free goes at once, the next may wait */
	if (!__atomic_load_n(&pend_key_ok, __ATOMIC_ACQUIRE))
		return NULL;
	tls.pend_state = 2;
	if (!real.malloc_usable_size || __atomic_load_n(&defer_stopped, __ATOMIC_SEQ_CST))
		return NULL;
	for (int i = 0; i < ALLOC_LIB_PENDING_MAX; i++) {
		__u64 none = 0;
		int err;

		if (__atomic_load_n(&e[i].owner, __ATOMIC_RELAXED) ||
		    !__atomic_compare_exchange_n(&e[i].owner, &none, 1, false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		/* a key past glibc's first 32 allocates: that call passes through */
		tls.depth++;
		err = pthread_setspecific(pend_key, &e[i]);
		tls.depth--;
		if (err) {
			__atomic_store_n(&e[i].owner, 0, __ATOMIC_RELEASE);
			return NULL;
		}
		tls.pend = &e[i];
		tls.pend_state = 1;
		return tls.pend;
	}
	return NULL;
}

/* A free in full mode: held back; the block held before goes now. */
static void free_full(void *p)
{
	struct alloc_lib_pend *e = pend_entry();
	uintptr_t old;
	size_t sz = 0;

	if (e) {
		tls.depth++;
		sz = real.malloc_usable_size(p);
		tls.depth--;
	}
	if (!e || sz > DEFER_MAX_BYTES) {
		free_now(p);
		return;
	}
	old = __atomic_exchange_n(&e->blk, (uintptr_t)p, __ATOMIC_SEQ_CST);
	if (old)
		free_now((void *)old);
	/* exit flushed the table meanwhile: nobody else would take this one */
	if (unlikely(__atomic_load_n(&defer_stopped, __ATOMIC_SEQ_CST)))
		pend_flush(e);
}

/* The block a full-mode allocation hands over with its probe (0: none). */
static uintptr_t pend_take(void)
{
	if (tls.pend_state != 1)
		return 0;
	return __atomic_exchange_n(&tls.pend->blk, 0, __ATOMIC_SEQ_CST);
}

/*
 * Exit (after the program's own exit handlers): every thread's held block
 * goes now, and any later free at once. A process killed, or ended by
 * _exit, keeps at most one block per thread held: disco reads the table
 * of a process still running when its session ends.
 */
__attribute__((destructor)) static void da_fini(void)
{
	__atomic_store_n(&defer_stopped, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&real_ready, __ATOMIC_ACQUIRE))
		return;
	for (int i = 0; i < ALLOC_LIB_PENDING_MAX; i++)
		pend_flush(&disco_alloc_pending.e[i]);
}

/*
 * After fork: the child draws its own sample points, not the parent's.
 * The blocks held back were freed by the parent's threads, which report
 * them: the child gives its copies back unreported, and keeps only its
 * own thread's entry.
 */
static void atfork_child(void)
{
	tls.s.rng ^= (uint64_t)getpid() * 0x9E3779B97F4A7C15ull;
	remap_probe((void (*)(void))disco_alloc_probe_alloc);
	remap_probe((void (*)(void))disco_alloc_probe_free);
	for (int i = 0; i < ALLOC_LIB_PENDING_MAX; i++) {
		struct alloc_lib_pend *e = &disco_alloc_pending.e[i];
		uintptr_t b = e->blk;

		e->blk = 0;
		if (b) {
			tls.depth++;
			real.free((void *)b);
			tls.depth--;
		}
		if (e != tls.pend)
			e->owner = 0;
	}
}

__attribute__((constructor)) static void da_init(void)
{
	if (resolve())
		return;
	probe_file_find();
	pthread_atfork(NULL, NULL, atfork_child);
	if (!pthread_key_create(&pend_key, pend_thread_exit))
		__atomic_store_n(&pend_key_ok, 1, __ATOMIC_RELEASE);
}

/* ---- the sampled path --------------------------------------------------------- */

/*
 * The bounds of the mapping holding addr (this thread's stack), from
 * /proc/self/maps. Once per thread, and again only when the stack moved
 * (a signal stack, a coroutine).
 */
static bool stack_bounds(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	size_t len;

	return maps_line_of(addr, line, sizeof(line), &len) && da_maps_range(line, len, lo, hi);
}

static __attribute__((noinline)) void sampled(void *p, size_t n, unsigned int fn, void *fp)
{
	struct alloc_lib_rec *r = &tls.rec;
	uintptr_t f = (uintptr_t)fp;

	if (!full_mode() && !da_set_insert(&set, (uintptr_t)p)) {
		__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
		return;
	}
	if ((f < tls.stk_lo || f >= tls.stk_hi) && !tls.stk_unknown) {
		tls.depth++;
		if (!stack_bounds(f, &tls.stk_lo, &tls.stk_hi)) {
			tls.stk_lo = tls.stk_hi = 0;
			tls.stk_unknown = true;
		}
		tls.depth--;
	}
	r->depth = da_walk(f, tls.stk_lo, tls.stk_hi, r->stack.ips, ALLOC_STACK_DEPTH);
	if (!r->depth) {
		/* stack unknown: at least the caller, from the wrapper's own frame */
		r->stack.ips[0] = ((const uintptr_t *)f)[1];
		r->depth = 1;
		if (ALLOC_STACK_DEPTH > 1)
			r->stack.ips[1] = 0;
	}
	r->stack_id = da_stack_hash(r->stack.ips, r->depth);
	da_weight(&tls.s, n, &r->weight_bytes, &r->weight_allocs);
	r->mean_bytes = cfg_mean;
	r->lost = __atomic_load_n(&lost, __ATOMIC_RELAXED);
	r->fn = fn;
	if (full_mode()) {
		uintptr_t f = pend_take();

		if (likely(!probes_off))
			disco_alloc_probe_alloc(p, n, r, r->stack_id, f, fn | ALLOC_LIB_FULL);
		if (f) {
			tls.depth++;
			real.free((void *)f);
			tls.depth--;
		}
		return;
	}
	if (unlikely(probes_off))
		return;
	disco_alloc_probe_alloc(p, n, r, r->stack_id, r->weight_bytes, r->weight_allocs << 8 | fn);
}

/*
 * Is this top-level call of n bytes sampled? Taken when n reaches the
 * bytes left to the next sample point (a fast path found n < left), so
 * the point is crossed; also the first call of a thread (left 0, not
 * seeded) and every call in full mode (left 0). A nested call passes
 * without taking the point.
 */
static bool sample_slow(size_t n)
{
	if (tls.depth)
		return false;
	if (!tls.s.mean)
		return da_sample_first(&tls.s, n, cfg_mean, thread_seed());
	return da_sample(&tls.s, n);
}

/* The fast paths' test: n bytes do not reach the next sample point. */
static __attribute__((always_inline)) inline bool below_point(size_t n)
{
	int64_t left = tls.s.left;

	if (likely(n < (uint64_t)left)) {
		tls.s.left = left - (int64_t)n;
		return true;
	}
	return false;
}

static __attribute__((always_inline)) inline void after_alloc(void *p, size_t n, unsigned int fn,
							       void *fp)
{
	if (likely(p != NULL) && (!tls.depth && !below_point(n)) && sample_slow(n))
		sampled(p, n, fn, fp);
}

/* Must this block's free be seen? (a sampled block, or every block in full mode) */
static __attribute__((always_inline)) inline bool free_probed(void *p)
{
	return !tls.depth && (full_mode() || unlikely(da_set_may_hold(&set, (uintptr_t)p)));
}

/* Before the block goes back: a later owner of the address must not be confused with it. */
static __attribute__((always_inline)) inline bool before_free(void *p)
{
	if (free_probed(p) && (full_mode() || da_set_remove(&set, (uintptr_t)p))) {
		if (likely(!probes_off))
			disco_alloc_probe_free(p);
		return true;
	}
	return false;
}

/* ---- the wrappers ------------------------------------------------------------- */

#define FP() __builtin_frame_address(0)

/* Calls of the real allocator: anything it calls back passes through. */
#define REAL(call) ({ tls.depth++; __auto_type r_ = (call); tls.depth--; r_; })

/*
 * A wrapper's fast path keeps no frame, and its call of the slow path must
 * be a tail call (the stack walk starts at the slow path's frame): GCC's
 * -O2 makes it one (the unit tests check the caller comes first), clang
 * is told to.
 */
#ifdef __clang__
#define FAST
#define TAIL __attribute__((musttail))
#else
#define FAST __attribute__((optimize("omit-frame-pointer")))
#define TAIL
#endif

/*
 * malloc, calloc and free, the hot ones: the fast path decides and leaves
 * to the real function by a tail call; all else is in a slow path the
 * wrapper tail-calls, so that the slow path's frame takes the wrapper's
 * place, with the caller's saved %rbp and return address: the frame the
 * stack walk starts from.
 */
static __attribute__((noinline)) void *malloc_slow(size_t n)
{
	void *p;

	if (unlikely(!real_ready) && resolve())
		return arena_alloc(n, 16);
	if (!sample_slow(n))
		return real.malloc(n);
	p = REAL(real.malloc(n));
	if (p)
		sampled(p, n, AF_MALLOC, FP());
	return p;
}

EXPORT FAST void *WRAP(malloc)(size_t n)
{
	if (likely(below_point(n)))
		return real.malloc(n);
	TAIL return malloc_slow(n);
}

static __attribute__((noinline)) void free_slow(void *p)
{
	if (!p || in_arena(p))
		return;
	if (unlikely(!real_ready) && resolve())
		return;	/* not ours to free: only the arena gave out blocks so far */
	if (tls.depth)
		return real.free(p);
	if (full_mode())
		return free_full(p);
	if (da_set_remove(&set, (uintptr_t)p) && likely(!probes_off))
		disco_alloc_probe_free(p);
	tls.depth++;
	real.free(p);
	tls.depth--;
}

/* One load from a small table in cache, and a range test: not sampled, not the arena's. */
EXPORT FAST void WRAP(free)(void *p)
{
	uintptr_t a = (uintptr_t)p;
	const uint8_t *g = __atomic_load_n(&free_gate, __ATOMIC_ACQUIRE);

	if (likely(!g[(uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull >> (64 - FILTER_BITS)] &&
		   a - (uintptr_t)arena >= ARENA_BYTES))
		return real.free(p);
	TAIL return free_slow(p);
}

static __attribute__((noinline)) void *calloc_slow(size_t k, size_t n)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(k, n, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(!real_ready) && resolve())
		return arena_alloc(total, 16);
	if (!sample_slow(total))
		return real.calloc(k, n);
	p = REAL(real.calloc(k, n));
	if (p)
		sampled(p, total, AF_CALLOC, FP());
	return p;
}

EXPORT FAST void *WRAP(calloc)(size_t k, size_t n)
{
	size_t total;

	if (likely(!__builtin_mul_overflow(k, n, &total) && below_point(total)))
		return real.calloc(k, n);
	TAIL return calloc_slow(k, n);
}

/*
 * A sampled old block is forgotten before the real call: once realloc has
 * moved it, another thread may get its address, and its sample must not
 * be taken for ours. If the call fails the block is still the program's
 * and is sampled again at its usable size.
 */
static __attribute__((always_inline)) inline void *do_realloc(void *old, size_t n, unsigned int fn,
							     void *fp)
{
	bool was;
	void *p;

	if (unlikely(in_arena(old))) {
		size_t keep = arena_size(old);

		p = REAL(real.malloc(n));
		if (p)
			memcpy(p, old, keep < n ? keep : n);
		after_alloc(p, n, fn, fp);
		return p;
	}
	was = old && before_free(old);
	p = REAL(real.realloc(old, n));
	if (unlikely(!p)) {
		/* was implies a top-level call: tls.depth is 0 here */
		if (was && n)
			sampled(old, real.malloc_usable_size ?
				REAL(real.malloc_usable_size(old)) : n, fn, fp);
		return NULL;
	}
	after_alloc(p, n, fn, fp);
	return p;
}

EXPORT void *WRAP(realloc)(void *old, size_t n)
{
	if (unlikely(!real_ready) && resolve()) {
		void *p = arena_alloc(n, 16);

		if (p && old && in_arena(old))
			memcpy(p, old, arena_size(old) < n ? arena_size(old) : n);
		return p;
	}
	return do_realloc(old, n, AF_REALLOC, FP());
}

EXPORT void *WRAP(reallocarray)(void *old, size_t k, size_t n)
{
	size_t total;

	if (__builtin_mul_overflow(k, n, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(!real_ready) && resolve())
		return NULL;
	return do_realloc(old, total, AF_REALLOCARRAY, FP());
}

EXPORT int WRAP(posix_memalign)(void **out, size_t align, size_t n)
{
	int err;

	if (unlikely(!real_ready) && resolve()) {
		*out = arena_alloc(n, align);
		return *out ? 0 : ENOMEM;
	}
	err = REAL(real.posix_memalign(out, align, n));
	if (!err)
		after_alloc(*out, n, AF_POSIX_MEMALIGN, FP());
	return err;
}

EXPORT void *WRAP(aligned_alloc)(size_t align, size_t n)
{
	void *p;

	if (unlikely(!real_ready) && resolve())
		return arena_alloc(n, align);
	p = real.aligned_alloc ? REAL(real.aligned_alloc(align, n)) : REAL(real.memalign(align, n));
	after_alloc(p, n, AF_MEMALIGN, FP());
	return p;
}

EXPORT void *WRAP(memalign)(size_t align, size_t n)
{
	void *p;

	if (unlikely(!real_ready) && resolve())
		return arena_alloc(n, align);
	p = REAL(real.memalign(align, n));
	after_alloc(p, n, AF_MEMALIGN, FP());
	return p;
}

EXPORT void *WRAP(valloc)(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	if (unlikely(!real_ready) && resolve())
		return arena_alloc(n, pg);
	p = real.valloc ? REAL(real.valloc(n)) : REAL(real.memalign(pg, n));
	after_alloc(p, n, AF_VALLOC, FP());
	return p;
}

EXPORT void *WRAP(pvalloc)(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), up;
	void *p;

	if (__builtin_add_overflow(n, pg - 1, &up)) {
		errno = ENOMEM;
		return NULL;
	}
	up &= ~(pg - 1);
	if (unlikely(!real_ready) && resolve())
		return arena_alloc(up, pg);
	p = real.pvalloc ? REAL(real.pvalloc(n)) : REAL(real.memalign(pg, up));
	after_alloc(p, n, AF_PVALLOC, FP());
	return p;
}

EXPORT void *WRAP(mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	if (unlikely(!real_ready) && resolve()) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	p = REAL(real.mmap(addr, len, prot, flags, fd, off));
	if (p != MAP_FAILED)
		after_alloc(p, len, AF_MMAP, FP());
	return p;
}

EXPORT int WRAP(munmap)(void *addr, size_t len)
{
	if (unlikely(!real_ready) && resolve()) {
		errno = ENOSYS;
		return -1;
	}
	before_free(addr);
	return REAL(real.munmap(addr, len));
}

EXPORT size_t WRAP(malloc_usable_size)(void *p)
{
	if (!p)
		return 0;
	if (in_arena(p))
		return arena_size(p);
	if ((unlikely(!real_ready) && resolve()) || !real.malloc_usable_size)
		return 0;
	return REAL(real.malloc_usable_size(p));
}

#ifdef DA_PREFIX
/* Unit tests: the bootstrap path on demand, and the set's view of a block. */
EXPORT void WRAP(test_resolving)(int on)
{
	tls.resolving = on;
	if (on) {
		__atomic_store_n(&real_ready, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&free_gate, gate_all, __ATOMIC_RELEASE);
		tls.s.left = 0;	/* every call to the slow path, which sees the above */
	} else {
		/* the environment is read again, and this thread reseeded */
		memset(&tls.s, 0, sizeof(tls.s));
		__atomic_store_n(&thread_seq, 0, __ATOMIC_RELAXED);
		resolve();
	}
}

EXPORT bool WRAP(test_sampled)(void *p)
{
	if (!da_set_remove(&set, (uintptr_t)p))
		return false;
	da_set_insert(&set, (uintptr_t)p);
	return true;
}

EXPORT const struct alloc_lib_rec *WRAP(test_last)(void)
{
	return &tls.rec;
}

/* Full mode: the block this thread holds back (0: none). */
EXPORT void *WRAP(test_pending)(void)
{
	return tls.pend_state == 1 ? (void *)(uintptr_t)tls.pend->blk : NULL;
}

/* The flush at exit, on demand; then frees are held back again. */
EXPORT void WRAP(test_exit_flush)(void)
{
	da_fini();
	__atomic_store_n(&defer_stopped, 0, __ATOMIC_SEQ_CST);
}
#endif
