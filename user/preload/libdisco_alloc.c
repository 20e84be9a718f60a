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

struct da_thread {
	struct da_sampler s;
	int depth;		/* > 0: inside a wrapper; nested calls pass through */
	int resolving;		/* inside dlsym: allocate from the arena */
	uintptr_t stk_lo, stk_hi;	/* the mapping holding this thread's stack */
	bool stk_unknown;	/* /proc/self/maps could not say: not asked again */
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

/* After fork: the child draws its own sample points, not the parent's. */
static void atfork_child(void)
{
	tls.s.rng ^= (uint64_t)getpid() * 0x9E3779B97F4A7C15ull;
	remap_probe((void (*)(void))disco_alloc_probe_alloc);
	remap_probe((void (*)(void))disco_alloc_probe_free);
}

__attribute__((constructor)) static void da_init(void)
{
	if (resolve())
		return;
	probe_file_find();
	pthread_atfork(NULL, NULL, atfork_child);
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
	if (unlikely(probes_off))
		return;
	disco_alloc_probe_alloc(p, n, r, r->stack_id, r->weight_bytes, r->weight_allocs << 8 | fn);
}

static __attribute__((noinline)) bool sample_slow(size_t n)
{
	if (!tls.s.mean)
		return da_sample_first(&tls.s, n, cfg_mean, thread_seed());
	return da_sample_hit(&tls.s);
}

/* Is this top-level call of n bytes sampled? One subtraction and a branch. */
static __attribute__((always_inline)) inline bool take_sample(size_t n)
{
	if (unlikely(tls.depth))
		return false;
	tls.s.left -= da_clamp(n);
	return unlikely(tls.s.left <= 0) && sample_slow(n);
}

static __attribute__((always_inline)) inline void after_alloc(void *p, size_t n, unsigned int fn,
							       void *fp)
{
	if (likely(p != NULL) && take_sample(n))
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
 * malloc, calloc and free, the hot ones, decide before the real call and
 * leave to it by a tail call when nothing is to be recorded: no frame of
 * theirs stays around the real allocator's work. The frame handed to the
 * sampled path is the wrapper's: when the wrapper tail-called it, its
 * frame took that very place, with the same saved %rbp and return address.
 */
static __attribute__((noinline)) void *malloc_sampled(size_t n, void *fp)
{
	void *p = REAL(real.malloc(n));

	if (p)
		sampled(p, n, AF_MALLOC, fp);
	return p;
}

EXPORT void *WRAP(malloc)(size_t n)
{
	if (unlikely(!real_ready) && resolve())
		return arena_alloc(n, 16);
	if (likely(!take_sample(n)))
		return real.malloc(n);
	return malloc_sampled(n, FP());
}

static __attribute__((noinline)) void free_probed_slow(void *p)
{
	before_free(p);
	tls.depth++;
	real.free(p);
	tls.depth--;
}

EXPORT void WRAP(free)(void *p)
{
	if (!p || unlikely(in_arena(p)))
		return;
	if (unlikely(!real_ready) && resolve())
		return;	/* not ours to free: only the arena gave out blocks so far */
	if (unlikely(free_probed(p)))
		return free_probed_slow(p);
	real.free(p);
}

static __attribute__((noinline)) void *calloc_sampled(size_t k, size_t n, size_t total, void *fp)
{
	void *p = REAL(real.calloc(k, n));

	if (p)
		sampled(p, total, AF_CALLOC, fp);
	return p;
}

EXPORT void *WRAP(calloc)(size_t k, size_t n)
{
	size_t total;

	if (__builtin_mul_overflow(k, n, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(!real_ready) && resolve())
		return arena_alloc(total, 16);
	if (likely(!take_sample(total)))
		return real.calloc(k, n);
	return calloc_sampled(k, n, total, FP());
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
#endif
