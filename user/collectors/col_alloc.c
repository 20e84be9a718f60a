// SPDX-License-Identifier: GPL-2.0
/* alloc collector, userspace side: place and attach uprobes, read maps, symbolize, render. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "alloc_agg.h"
#include "cmd.h"
#include "collector.h"
#include "hist.h"
#include "log.h"
#include "syms.h"
#include "untrusted.h"
#include "uprobe_place.h"
#include "bpf/alloc.h"
#include "alloc.skel.h"
#include "clock.h"

#define ALLOC_DEFAULT_MIN_AGE_NS 500000000ULL	/* 500 ms */
#define ALLOC_MAX_SITES_JSON 200
#define ALLOC_MAX_KSITES_JSON 100
#define ALLOC_MAX_BIG_JSON 1000
#define ALLOC_MAX_LINKS 512
/*
 * Outstanding kernel objects are not tracked by default (--kernel-sample N
 * tracks one address in N): tracking costs a hash insert and delete per
 * object, system-wide. At 1 in 16 open/close throughput was 0.68 of
 * untraced in tests/bench/alloc.sh. Counts, bytes and rates per call site
 * are exact either way.
 */
#define ALLOC_DEFAULT_KSAMPLE 0

enum {
	H_KMALLOC, H_KFREE, H_CACHE_ALLOC, H_CACHE_FREE, H_PAGE_ALLOC, H_PAGE_FREE,
	H_UPROBE, H_COUNT,
};

/* libc's functions (-p, or without the preload library) and the library's two */
#define UPROBE_PROGS "malloc_enter,calloc_enter,realloc_enter,reallocarray_enter," \
		     "posix_memalign_enter,memalign_enter,valloc_enter,pvalloc_enter," \
		     "mmap_enter,alloc_exit,free_enter,munmap_enter,lib_alloc,lib_free," \
		     "cost_enter,cost_exit"

static const struct hook_spec alloc_hooks[H_COUNT] = {
	[H_KMALLOC] = { "kmem:kmalloc", HOOK_CHAIN_TP, false, "kernel kmalloc by call site",
			.progs = "kmalloc" },
	[H_KFREE] = { "kmem:kfree", HOOK_CHAIN_TP, true, "outstanding kmalloc objects",
		      .progs = "kfree" },
	[H_CACHE_ALLOC] = { "kmem:kmem_cache_alloc", HOOK_CHAIN_TP, false,
			    "kernel slab allocations by call site", .progs = "cache_alloc" },
	[H_CACHE_FREE] = { "kmem:kmem_cache_free", HOOK_CHAIN_TP, true, "outstanding slab objects",
			   .progs = "cache_free" },
	[H_PAGE_ALLOC] = { "kmem:mm_page_alloc", HOOK_CHAIN_TP, true, "page allocations by order",
			   .progs = "page_alloc" },
	[H_PAGE_FREE] = { "kmem:mm_page_free", HOOK_CHAIN_TP, true, "page frees by order",
			  .progs = "page_free" },
	/* attached per binary by attach_proc(); the lifecycle only loads them */
	[H_UPROBE] = { "libc:malloc,free,...", M(HOOK_UPROBE), true,
		       "user-space heap of the target (-p PID or -- COMMAND)",
		       .progs = UPROBE_PROGS },
};

/*
 * kmalloc_node and kmem_cache_alloc_node exist only before 6.2
 * (11e9734bcb6a "mm/slab_common: unify NUMA and UMA version of
 * tracepoints"). They are not hooks of their own, which would warn on
 * every newer kernel: they follow kmalloc's method where they exist.
 */
static const struct hook_companion alloc_companions[] = {
	{ "kmalloc_node", "kmem:kmalloc_node", H_KMALLOC },
	{ "cache_alloc_node", "kmem:kmem_cache_alloc_node", H_KMALLOC },
};

/* ---- options -------------------------------------------------------------- */

struct alloc_opts {
	uint64_t min_age_ns;
	uint64_t sample;
	uint64_t big_bytes;
	uint64_t ksample;
	uint64_t sample_bytes;	/* the preload library's mean interval */
	bool kernel_only, user_only, probe_entry, libc_uprobes;
};

static const struct alloc_opts alloc_opts_default = {
	ALLOC_DEFAULT_MIN_AGE_NS, 1, 0, ALLOC_DEFAULT_KSAMPLE, ALLOC_LIB_DEFAULT_MEAN,
	false, false, false, false
};

static const struct col_option alloc_options[] = {
	{ "min-age", true, "alloc: outstanding this long = leak candidate (default 500ms)" },
	{ "alloc-sample-bytes", true, "alloc: -- COMMAND (preloaded): sample one allocation per "
				      "N bytes on average (default 512 KiB; 1 = every call, exact)" },
	{ "sample", true, "alloc: libc uprobes (-p): track one allocation in N and scale the figures" },
	{ "big", true, "alloc: record each allocation of at least BYTES as an event" },
	{ "kernel-sample", true, "alloc: track outstanding kernel objects for one address in N "
				 "(default 0 = none, 1 = all)" },
	{ "kernel-only", false, "alloc: kernel allocations only, even with a target" },
	{ "user-only", false, "alloc: the target's heap only, no kernel tracepoints" },
	{ "probe-entry", false, "alloc: keep every uprobe on the function entry" },
	{ "libc-uprobes", false, "alloc: -- COMMAND without the preload library: uprobes on its "
				 "libc, as with -p" },
	{ NULL },
};

static int alloc_set_option(void *opts, const char *name, const char *arg)
{
	struct alloc_opts *opt = opts;
	unsigned long long v;

	if (!strcmp(name, "min-age"))
		return parse_duration(arg, &opt->min_age_ns) ? -EINVAL : 0;
	if (!strcmp(name, "sample")) {
		if (parse_u64(arg, &v) || v < 1 || v > 1000000)
			return -EINVAL;
		opt->sample = v;
		return 0;
	}
	if (!strcmp(name, "alloc-sample-bytes")) {
		if (parse_u64(arg, &v) || v < 1 || v > (1ULL << 40))
			return -EINVAL;
		opt->sample_bytes = v;
		return 0;
	}
	if (!strcmp(name, "kernel-sample")) {
		if (parse_u64(arg, &v) || v > 1000000)
			return -EINVAL;
		opt->ksample = v;
		return 0;
	}
	if (!strcmp(name, "big"))
		return parse_u64(arg, &v) ? -EINVAL : (opt->big_bytes = v, 0);
	if (!strcmp(name, "kernel-only"))
		return (opt->kernel_only = true, 0);
	if (!strcmp(name, "user-only"))
		return (opt->user_only = true, 0);
	if (!strcmp(name, "probe-entry"))
		return (opt->probe_entry = true, 0);
	if (!strcmp(name, "libc-uprobes"))
		return (opt->libc_uprobes = true, 0);
	return -EINVAL;
}

/* ---- the probed functions ---------------------------------------------- */

struct ufunc {
	const char *name;
	unsigned int need;	/* argument registers the entry program reads */
	unsigned int null_skip;
	bool ret;		/* needs the return value */
};

/* indexed by enum alloc_fn (aligned_alloc shares AF_MEMALIGN) */
static const struct ufunc ufuncs[] = {
	{ "malloc", PR_RDI, 0, true },
	{ "calloc", PR_RDI | PR_RSI, 0, true },
	{ "realloc", PR_RDI | PR_RSI, 0, true },
	{ "reallocarray", PR_RDI | PR_RSI | PR_RDX, 0, true },
	{ "posix_memalign", PR_RDI | PR_RSI | PR_RDX, 0, true },
	{ "memalign", PR_RDI | PR_RSI, 0, true },
	{ "valloc", PR_RDI, 0, true },
	{ "pvalloc", PR_RDI, 0, true },
	{ "mmap", PR_RDI | PR_RSI, 0, true },
	{ "free", PR_RDI, PR_RDI, false },
	{ "munmap", PR_RDI | PR_RSI, 0, false },
	{ "aligned_alloc", PR_RDI | PR_RSI, 0, true },
};
#define NUFUNCS (sizeof(ufuncs) / sizeof(ufuncs[0]))

static const char *const fn_names[AF_NR] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "memalign",
	"valloc", "pvalloc", "mmap", "free", "munmap",
};

static struct bpf_program *entry_prog(struct alloc_bpf *s, size_t i)
{
	switch (i) {
	case AF_MALLOC: return s->progs.malloc_enter;
	case AF_CALLOC: return s->progs.calloc_enter;
	case AF_REALLOC: return s->progs.realloc_enter;
	case AF_REALLOCARRAY: return s->progs.reallocarray_enter;
	case AF_POSIX_MEMALIGN: return s->progs.posix_memalign_enter;
	case AF_MEMALIGN: return s->progs.memalign_enter;
	case AF_VALLOC: return s->progs.valloc_enter;
	case AF_PVALLOC: return s->progs.pvalloc_enter;
	case AF_MMAP: return s->progs.mmap_enter;
	case AF_FREE: return s->progs.free_enter;
	case AF_MUNMAP: return s->progs.munmap_enter;
	default: return s->progs.memalign_enter;	/* aligned_alloc */
	}
}

/* ---- state ---------------------------------------------------------------- */

struct alloc_proc {
	pid_t pid;
	struct proc_syms *ps;
	json_t *info;		/* {"pid", "libc", "probes": [...]} */
	uint64_t held_addr;	/* its library's ALLOC_LIB_PENDING_SYM table; 0: none */
};

/* Where probes go in one binary, computed once (the sweep costs ~0.3 s). */
struct placed_bin {
	char path[512];
	uint64_t dev, ino;
	struct elf_func f[NUFUNCS];
	int ferr[NUFUNCS];
	struct place_result pr[NUFUNCS];
};

/* targets, plus the processes they start under the preload library */
#define ALLOC_MAX_PROCS 256

struct alloc_priv {
	struct syms_cache *cache;
	struct alloc_proc procs[ALLOC_MAX_PROCS];
	int nprocs;
	struct placed_bin *bins[MAX_FILTER_PIDS + 1];
	int nbins;
	json_t *frames;		/* "pid/stackid" -> [frame, ...] */
	struct ksyms *ks;
	struct bpf_link *links[ALLOC_MAX_LINKS];
	int nlinks;
	bool user_on, kernel_on;
	const struct alloc_opts *opt;
	uint64_t start_ns, last_t, last_allocs, last_bytes;
	json_t *timeline;
	/* the preload path (libdisco-alloc.so) */
	uint64_t lib_dev, lib_ino;	/* the library whose probes are attached */
	uint64_t lib_held_off;		/* file offset of its held-back frees table; 0: none */
	bool lib_used;			/* some target runs with it */
	bool libc_used;			/* some target is probed in its libc */
	double libc_pair_ns;		/* a libc-probed malloc+free's measured cost; 0: none */
};


static struct alloc_proc *proc_get(struct alloc_priv *p, pid_t pid)
{
	for (int i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid == pid)
			return &p->procs[i];
	return NULL;
}

static bool is_own_allocator(const char *base);

/*
 * The allocator of pid: a library of its own (jemalloc, tcmalloc, ...)
 * if one is mapped and defines malloc, else the main executable if it
 * defines malloc (static binaries), else the mapped libc. Returns the
 * index in maps or -ENOENT.
 */
static int find_libc(pid_t pid, const struct map_entry *m, int n, char *path, size_t len)
{
	char buf[512], exe[256] = "";
	struct elf_func f;
	ssize_t el;

	for (int i = 0; i < n; i++) {
		const char *b = strrchr(m[i].path, '/');

		if (!m[i].exec || !b || !is_own_allocator(b + 1))
			continue;
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", pid, m[i].path);
		if (elf_find_func(buf, "malloc", &f))
			continue;
		snprintf(path, len, "%s", buf);
		return i;
	}
	/*
	 * The main executable by name: its first mapping is read-only (ELF
	 * header), the text is a later one.
	 */
	snprintf(buf, sizeof(buf), "/proc/%d/exe", pid);
	el = readlink(buf, exe, sizeof(exe) - 1);
	exe[el > 0 ? el : 0] = 0;
	for (int i = 0; i < n; i++) {
		const char *b = strrchr(m[i].path, '/');

		if (!m[i].exec || !b)
			continue;
		b++;
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", pid, m[i].path);
		if ((exe[0] && !strcmp(m[i].path, exe)) ||
		    !strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5)) {
			if (elf_find_func(buf, "malloc", &f))
				continue;
			snprintf(path, len, "%s", buf);
			return i;
		}
	}
	return -ENOENT;
}

static struct placed_bin *place_bin(struct alloc_priv *p, const char *path,
				    const struct map_entry *m)
{
	struct place_req reqs[NUFUNCS];
	size_t nreq = 0, idx[NUFUNCS];
	struct placed_bin *b;

	for (int i = 0; i < p->nbins; i++)
		if (p->bins[i]->dev == m->dev && p->bins[i]->ino == m->ino)
			return p->bins[i];
	if (p->nbins == (int)(sizeof(p->bins) / sizeof(p->bins[0])))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->dev = m->dev;
	b->ino = m->ino;
	for (size_t i = 0; i < NUFUNCS; i++) {
		b->ferr[i] = elf_find_func(path, ufuncs[i].name, &b->f[i]);
		snprintf(b->pr[i].why, sizeof(b->pr[i].why), "entry%s",
			 p->opt->probe_entry ? ": --probe-entry" : "");
		if (b->ferr[i] || p->opt->probe_entry)
			continue;
		reqs[nreq] = (struct place_req){ ufuncs[i].name, b->f[i].vaddr, b->f[i].size,
						 ufuncs[i].need, ufuncs[i].null_skip };
		idx[nreq++] = i;
	}
	if (nreq) {
		struct place_result res[NUFUNCS];

		uprobe_place(path, reqs, nreq, res);
		for (size_t j = 0; j < nreq; j++)
			b->pr[idx[j]] = res[j];
	}
	p->bins[p->nbins++] = b;
	return b;
}

static int attach_one(struct alloc_priv *p, struct bpf_program *prog, pid_t pid,
		      const char *path, uint64_t off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret);
	struct bpf_link *l;

	if (p->nlinks == ALLOC_MAX_LINKS)
		return -E2BIG;
	l = bpf_program__attach_uprobe_opts(prog, pid, path, off, &uo);
	if (!l)
		return -errno;
	p->links[p->nlinks++] = l;
	return 0;
}

/* ---- libdisco-alloc.so: the preload path ------------------------------------ */

/* The library installed beside this disco binary, or -ENOENT. */
static int lib_beside_binary(char *buf, size_t len)
{
	char exe[400], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(buf, len, "%s/%s", exe, ALLOC_LIB_NAME);
	return access(buf, R_OK) ? -ENOENT : 0;
}

/*
 * Before -- COMMAND is forked: preload the library into it (and so into
 * its children) with the sampling interval. Ahead of an LD_PRELOAD already
 * set, so that an allocator preloaded there (jemalloc, tcmalloc) is
 * wrapped rather than hiding the wrappers. Without the library (a static
 * disco, an install without it) the libc uprobes take over, as with -p.
 */
static int alloc_prepare_command(const void *opts)
{
	const struct alloc_opts *opt = opts;
	char lib[512], *v;
	const char *old = getenv("LD_PRELOAD");
	char mean[24];
	int err = 0;

	if (opt->kernel_only || opt->libc_uprobes)
		return 0;
	if (lib_beside_binary(lib, sizeof(lib))) {
		log_warn("alloc: %s is not installed beside disco: the command's malloc family is "
			 "probed in its C library instead (uprobes: microseconds per call)", ALLOC_LIB_NAME);
		return 0;
	}
	if (old && *old) {
		if (asprintf(&v, "%s:%s", lib, old) < 0)
			return -ENOMEM;
	} else {
		v = strdup(lib);
		if (!v)
			return -ENOMEM;
	}
	snprintf(mean, sizeof(mean), "%llu", (unsigned long long)opt->sample_bytes);
	if (setenv("LD_PRELOAD", v, 1) || setenv(ALLOC_LIB_ENV_MEAN, mean, 1)) {
		err = -errno;
		log_err("alloc: cannot set LD_PRELOAD for the command: %s", strerror(errno));
	}
	free(v);
	return err;
}

static int find_preload_lib(const struct map_entry *m, int n)
{
	for (int i = 0; i < n; i++) {
		const char *b = strrchr(m[i].path, '/');

		if (m[i].exec && b && !strcmp(b + 1, ALLOC_LIB_NAME))
			return i;
	}
	return -ENOENT;
}

/* auxv value of key in pid, or -1 when unreadable */
static long auxv_get(pid_t pid, unsigned long key)
{
	char path[48];
	unsigned long av[2];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fread(av, sizeof(av), 1, f) == 1 && av[0] != AT_NULL)
		if (av[0] == key)
			v = (long)av[1];
	fclose(f);
	return v < 0 ? 0 : v;
}

static bool is_own_allocator(const char *base)
{
	static const char *const known[] = { "libjemalloc", "libtcmalloc", "libmimalloc",
					     "libhoard", "libsnmalloc" };

	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		if (!strncmp(base, known[k], strlen(known[k])))
			return true;
	return false;
}

/* An allocator of its own mapped in the process (it, not libc, serves malloc). */
static const char *own_allocator(const struct map_entry *m, int n)
{
	for (int i = 0; i < n; i++) {
		const char *b = strrchr(m[i].path, '/');

		if (m[i].exec && b && is_own_allocator(b + 1))
			return b + 1;
	}
	return NULL;
}

static void note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(json_t *notes, const char *fmt, ...)
{
	char buf[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warn("alloc: %s", buf);
	json_array_append_new(notes, json_string(buf));
}

/* The program pid runs ("" when unreadable). */
static void exe_of(pid_t pid, char *exe, size_t len)
{
	char path[48];
	ssize_t el;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	el = readlink(path, exe, len - 1);
	exe[el > 0 ? el : 0] = 0;
}

/*
 * Python (the interpreter, or a program embedding libpython): pymalloc
 * carves objects of up to 512 bytes out of arenas it takes from malloc,
 * so what malloc sees is arenas and large objects, not Python objects.
 */
static void python_note(json_t *notes, pid_t pid, const char *exe, const struct map_entry *m, int n)
{
	const char *b = strrchr(exe, '/');
	bool py = b && !strncmp(b + 1, "python", 6);

	for (int i = 0; i < n && !py; i++) {
		b = strrchr(m[i].path, '/');
		py = m[i].exec && b && !strncmp(b + 1, "libpython", 9);
	}
	if (py)
		note(notes, "pid %d is Python: pymalloc serves objects of up to 512 bytes from arenas "
		     "it takes from malloc, so sites show its arenas, not those objects "
		     "(PYTHONMALLOC=malloc shows each object)", pid);
}

/*
 * Why a target is probed in its C library: said once per process, in the
 * log and in the report (targets[].notes), so that nothing is silently
 * missed. What a probed call costs comes with it, measured at start.
 */
static json_t *explain_libc_path(pid_t pid, const struct map_entry *m, int n, bool libc_uprobes,
				 double pair_ns)
{
	json_t *notes = json_array();
	const char *own = own_allocator(m, n);
	char exe[256], lib[512];

	exe_of(pid, exe, sizeof(exe));
	if (auxv_get(pid, AT_BASE) == 0)
		note(notes, "pid %d (%s) is statically linked: %s cannot be preloaded into it; "
		     "its own malloc is probed if it has a symbol for it", pid, exe, ALLOC_LIB_NAME);
	else if (auxv_get(pid, AT_SECURE) > 0)
		note(notes, "pid %d (%s) runs set-user-ID or with capabilities: the loader ignores "
		     "LD_PRELOAD; its libc is probed", pid, exe);
	else if (!libc_uprobes && !lib_beside_binary(lib, sizeof(lib)))
		note(notes, "pid %d runs without %s: its libc is probed with uprobes; start it with "
		     "LD_PRELOAD=%s for the cheap path", pid, ALLOC_LIB_NAME, lib);
	if (pair_ns > 0)
		note(notes, "pid %d: each malloc+free pair probed in %s costs about %.1f us here "
		     "(measured now, the traps alone)", pid, own ? own : "libc", pair_ns / 1000);
	if (own)
		note(notes, "pid %d uses its own allocator (%s): its malloc family is probed instead of "
		     "libc's (uprobes); preloading %s ahead of it wraps it more cheaply", pid, own,
		     ALLOC_LIB_NAME);
	python_note(notes, pid, exe, m, n);
	return notes;
}

/*
 * A target running with the library: its two NOP-first probe functions,
 * attached once per library file for every process that maps it (children
 * of -- COMMAND included); the pid filter in BPF keeps the targets.
 */
static int attach_lib(struct alloc_priv *p, struct alloc_bpf *skel, pid_t pid,
		      const struct map_entry *lm, const struct map_entry *m, int n)
{
	struct alloc_proc *pr = &p->procs[p->nprocs];
	struct elf_func fa, ff;
	char path[600], libc[MAP_PATH_MAX];
	const char *own = own_allocator(m, n);
	int err;

	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, lm->path);
	if (p->lib_dev != lm->dev || p->lib_ino != lm->ino) {
		err = elf_find_func(path, ALLOC_LIB_PROBE_ALLOC, &fa);
		if (!err)
			err = elf_find_func(path, ALLOC_LIB_PROBE_FREE, &ff);
		if (err) {
			log_err("alloc: %s in process %d has no probe functions: %s", lm->path, pid,
				strerror(-err));
			return err;
		}
		err = attach_one(p, skel->progs.lib_alloc, -1, path, fa.file_off, false);
		if (!err)
			err = attach_one(p, skel->progs.lib_free, -1, path, ff.file_off, false);
		if (err) {
			log_err("alloc: cannot attach to %s: %s", lm->path, strerror(-err));
			return err;
		}
		p->lib_dev = lm->dev;
		p->lib_ino = lm->ino;
		/* a library without the table (older) holds nothing back */
		p->lib_held_off = elf_find_object(path, ALLOC_LIB_PENDING_SYM, &fa) ? 0 : fa.file_off;
	}
	pr->pid = pid;
	pr->held_addr = 0;
	for (int i = 0; i < n && p->lib_held_off; i++)
		if (m[i].dev == lm->dev && m[i].ino == lm->ino && m[i].file_off <= p->lib_held_off &&
		    p->lib_held_off + sizeof(struct alloc_lib_pending) <=
			    m[i].file_off + (m[i].end - m[i].start))
			pr->held_addr = m[i].start + (p->lib_held_off - m[i].file_off);
	pr->ps = proc_syms_new(p->cache, pid);
	/* a path from the traced process's maps: any bytes its owner chose */
	untrusted_copy(libc, sizeof(libc), lm->path, strlen(lm->path));
	pr->info = json_pack("{s:i, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "pid", pid,
			     "method", "preload", "libc", libc, "probes",
			     "function", ALLOC_LIB_PROBE_ALLOC, "placement", "5-byte NOP",
			     "function", ALLOC_LIB_PROBE_FREE, "placement", "5-byte NOP");
	if (own)
		json_object_set_new(pr->info, "allocator",
				    json_pack("{s:s, s:b}", "library", own, "wrapped", true));
	{
		json_t *notes = json_array();
		char exe[256];

		exe_of(pid, exe, sizeof(exe));
		python_note(notes, pid, exe, m, n);
		if (json_array_size(notes))
			json_object_set_new(pr->info, "notes", notes);
		else
			json_decref(notes);
	}
	p->nprocs++;
	p->lib_used = true;
	log_debug("alloc: pid %d runs with %s: probing its NOP sites", pid, lm->path);
	return 0;
}

/* A process the preloaded target started: symbolized like a target. */
static struct alloc_proc *proc_follow(struct alloc_priv *p, pid_t pid)
{
	struct alloc_proc *pr;

	if (!p->lib_used || p->nprocs == ALLOC_MAX_PROCS)
		return NULL;
	pr = &p->procs[p->nprocs++];
	pr->pid = pid;
	pr->ps = proc_syms_new(p->cache, pid);
	pr->info = NULL;	/* not a target of its own */
	pr->held_addr = 0;	/* its frees held at session end, if it runs then, count as outstanding */
	return pr;
}

/* ---- what a libc-probed call costs here --------------------------------------- */

static __attribute__((noinline)) uint64_t time_pairs(int n)
{
	static void *volatile sink;
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (int i = 0; i < n; i++) {
		sink = malloc(64);
		free(sink);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	return (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ULL + (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
}

/*
 * ns per malloc+free pair that the probes of b add, measured on disco's
 * own calls: empty programs at the places the target gets (malloc's entry
 * and return, free), when disco maps the same library; 0 when it cannot
 * (a static disco, another libc, no permission). The traps dominate: the
 * programs add about a microsecond more per pair (tests/bench/alloc.sh).
 */
static double measure_pair_ns(struct alloc_bpf *skel, const struct placed_bin *b)
{
	struct bpf_link *l[3] = {};
	struct map_entry *maps = NULL;
	char *text = NULL, path[600];
	size_t len = 0;
	uint64_t base, probed;
	double ns = 0;
	int n = -1, self = -1;
	FILE *f = fopen("/proc/self/maps", "re");

	if (f) {
		if (getdelim(&text, &len, '\0', f) > 0)
			n = maps_parse(text, &maps);
		fclose(f);
	}
	for (int i = 0; i < n && self < 0; i++)
		if (maps[i].exec && maps[i].dev == b->dev && maps[i].ino == b->ino)
			self = i;
	if (self >= 0 && !b->ferr[AF_MALLOC] && !b->ferr[AF_FREE]) {
		LIBBPF_OPTS(bpf_uprobe_opts, ent);
		LIBBPF_OPTS(bpf_uprobe_opts, ret, .retprobe = true);
		uint64_t mo = b->f[AF_MALLOC].file_off + b->pr[AF_MALLOC].offset;
		uint64_t fo = b->f[AF_FREE].file_off + b->pr[AF_FREE].offset;

		snprintf(path, sizeof(path), "%s", maps[self].path);
		base = time_pairs(2000);
		l[0] = bpf_program__attach_uprobe_opts(skel->progs.cost_enter, getpid(), path, mo, &ent);
		l[1] = bpf_program__attach_uprobe_opts(skel->progs.cost_exit, getpid(), path, mo, &ret);
		l[2] = bpf_program__attach_uprobe_opts(skel->progs.cost_enter, getpid(), path, fo, &ent);
		if (l[0] && l[1] && l[2]) {
			probed = time_pairs(2000);
			ns = probed > base ? (double)(probed - base) / 2000 : 0;
		}
		for (int i = 0; i < 3; i++)
			bpf_link__destroy(l[i]);
	}
	if (ns <= 0)
		log_debug("alloc: the cost of a libc-probed call could not be measured here");
	free(maps);
	free(text);
	return ns;
}

/* The mappings of process pid into *maps: their count, or -ESRCH (logged). */
static int read_proc_maps(pid_t pid, struct map_entry **maps)
{
	char mpath[64], *text = NULL;
	int nmaps, err;
	FILE *f;

	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", pid);
	f = fopen(mpath, "re");
	if (!f) {
		log_err("alloc: cannot read the mappings of process %d: %s", pid, strerror(errno));
		return -ESRCH;
	}
	{
		size_t len = 0;

		err = getdelim(&text, &len, '\0', f) < 0 ? -EIO : 0;
		fclose(f);
	}
	if (err) {
		free(text);
		log_err("alloc: cannot read the mappings of process %d", pid);
		return -ESRCH;
	}
	nmaps = maps_parse(text, maps);
	free(text);
	if (nmaps <= 0) {
		log_err("alloc: process %d has no mappings (exited?)", pid);
		free(*maps);
		*maps = NULL;
		return -ESRCH;
	}
	return nmaps;
}

/*
 * Probe each malloc-family function of the placed libc b in process pid,
 * one entry of probes per function: how many were attached.
 */
static int attach_libc_funcs(struct alloc_priv *p, struct alloc_bpf *skel, pid_t pid,
			     const char *libc, const struct placed_bin *b, json_t *probes)
{
	uint64_t done_offs[NUFUNCS];
	int err, ndone = 0, attached = 0;

	for (size_t i = 0; i < NUFUNCS; i++) {
		struct bpf_program *ep = entry_prog(skel, i);
		uint64_t off;
		bool dup = false;

		if (b->ferr[i]) {
			json_array_append_new(probes, json_pack("{s:s, s:s}", "function", ufuncs[i].name,
				"error", b->ferr[i] == -ENOENT ? "symbol not found" : strerror(-b->ferr[i])));
			continue;
		}
		off = b->f[i].file_off + b->pr[i].offset;
		/* aliases (memalign and aligned_alloc) share one address: probe it once */
		for (int j = 0; j < ndone; j++)
			dup |= done_offs[j] == b->f[i].file_off;
		if (dup)
			continue;
		done_offs[ndone++] = b->f[i].file_off;
		err = attach_one(p, ep, pid, libc, off, false);
		if (!err && ufuncs[i].ret)
			err = attach_one(p, skel->progs.alloc_exit, pid, libc, off, true);
		json_array_append_new(probes, json_pack("{s:s, s:I, s:b, s:s}",
			"function", ufuncs[i].name, "offset", (json_int_t)b->pr[i].offset,
			"emulated", b->pr[i].emulated, "placement", b->pr[i].why));
		if (err) {
			log_warn("alloc: cannot attach to %s in %s: %s", ufuncs[i].name, libc,
				 strerror(-err));
			continue;
		}
		log_debug("alloc: %s %s", ufuncs[i].name, b->pr[i].why);
		attached++;
	}
	return attached;
}

/* Attach the malloc family of one process; fills proc->info. */
static int attach_proc(struct alloc_priv *p, struct alloc_bpf *skel, pid_t pid)
{
	struct alloc_proc *pr;
	char libc[512];
	struct map_entry *maps = NULL;
	struct placed_bin *b;
	int nmaps, li, err, attached;
	json_t *probes, *notes;

	nmaps = read_proc_maps(pid, &maps);
	if (nmaps < 0)
		return nmaps;
	if (p->nprocs == ALLOC_MAX_PROCS) {
		free(maps);
		return -E2BIG;
	}
	pr = &p->procs[p->nprocs];
	pr->held_addr = 0;
	li = find_preload_lib(maps, nmaps);
	if (li >= 0) {
		err = attach_lib(p, skel, pid, &maps[li], maps, nmaps);
		free(maps);
		return err;
	}
	li = find_libc(pid, maps, nmaps, libc, sizeof(libc));
	if (li < 0) {
		/* a static program without symbols, say: reported, not an error */
		json_decref(explain_libc_path(pid, maps, nmaps, p->opt->libc_uprobes, 0));
		log_warn("alloc: no C library with a malloc symbol found in process %d: "
			 "its heap is not traced", pid);
		free(maps);
		return 0;
	}
	b = place_bin(p, libc, &maps[li]);
	if (!b) {
		free(maps);
		return -ENOMEM;
	}
	if (!p->libc_pair_ns)
		p->libc_pair_ns = measure_pair_ns(skel, b);
	notes = explain_libc_path(pid, maps, nmaps, p->opt->libc_uprobes, p->libc_pair_ns);
	probes = json_array();
	attached = attach_libc_funcs(p, skel, pid, libc, b, probes);
	free(maps);
	if (!attached) {
		json_decref(probes);
		json_decref(notes);
		log_err("alloc: no allocator function of %s could be probed in process %d", libc, pid);
		return -ENOENT;
	}
	pr->pid = pid;
	pr->ps = proc_syms_new(p->cache, pid);
	{
		char root[48];
		size_t rl = (size_t)snprintf(root, sizeof(root), "/proc/%d/root", pid);

		/* the library as the process names it */
		pr->info = json_pack("{s:i, s:s, s:s, s:o}", "pid", pid, "method", "libc-uprobes",
				     "libc", strncmp(libc, root, rl) ? libc : libc + rl, "probes", probes);
		json_object_set_new(pr->info, "notes", notes);
	}
	p->nprocs++;
	p->libc_used = true;
	return 0;
}

static void priv_free(struct alloc_priv *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	for (int i = 0; i < p->nprocs; i++) {
		proc_syms_free(p->procs[i].ps);
		json_decref(p->procs[i].info);
	}
	for (int i = 0; i < p->nbins; i++)
		free(p->bins[i]);
	json_decref(p->frames);
	json_decref(p->timeline);
	ksyms_free(p->ks);
	syms_cache_free(p->cache);
	free(p);
}

COLLECTOR_SKEL(alloc);

static int alloc_configure(struct col_run *run, const struct rec_opts *o)
{
	const struct alloc_opts *opt = run->opts;
	struct alloc_priv *p = calloc(1, sizeof(*p));
	bool has_target = o->npids > 0 || o->target_pid > 0;
	struct alloc_bpf *skel = run->skel;

	if (!p)
		return -ENOMEM;
	run->priv = p;
	p->opt = opt;
	p->cache = syms_cache_new();
	p->frames = json_object();
	p->timeline = json_array();
	p->user_on = has_target && !opt->kernel_only;
	p->kernel_on = !opt->user_only;
	if (opt->user_only && opt->kernel_only) {
		log_err("alloc: --user-only and --kernel-only exclude each other");
		return -EINVAL;
	}
	if (opt->user_only && !has_target) {
		log_err("alloc: --user-only needs a target: -p PID or -- COMMAND");
		return -EINVAL;
	}
	if (!has_target && !opt->kernel_only)
		log_info("alloc: no target process: kernel allocations only (system-wide)");

	skel->rodata->sample_every = (__u32)opt->sample;
	skel->rodata->big_bytes = opt->big_bytes;
	skel->rodata->ktrack = opt->ksample > 0;
	skel->rodata->ksample_every = (__u32)(opt->ksample ?: 1);
	for (int h = 0; !p->kernel_on && h < H_UPROBE; h++)
		hook_off(run, h, "off (--user-only)");
	/*
	 * Slab frees matter only to outstanding-object tracking; not
	 * attaching them halves the events of a kmalloc-heavy workload.
	 */
	if (p->kernel_on && !opt->ksample) {
		hook_off(run, H_KFREE, "off: only needed to track outstanding objects (--kernel-sample N)");
		hook_off(run, H_CACHE_FREE, "off: only needed to track outstanding objects (--kernel-sample N)");
	}
	if (!p->user_on)
		hook_off(run, H_UPROBE, has_target ? "off (--kernel-only)" :
			 "no target process (-p PID or -- COMMAND)");
	if (!p->kernel_on) {
		bpf_map__set_max_entries(skel->maps.kallocs, 1);
		bpf_map__set_max_entries(skel->maps.ksites, 1);
		bpf_map__set_max_entries(skel->maps.kslots, 1);
	}
	if (!p->user_on) {
		bpf_map__set_max_entries(skel->maps.allocs, 1);
		bpf_map__set_max_entries(skel->maps.lslots, 1);
		bpf_map__set_max_entries(skel->maps.ustacks, 1);
		bpf_map__set_max_entries(skel->maps.calls, 1);
		skel->rodata->slot_mask = 0;
		skel->rodata->use_slots = false;
		return 0;
	}
	return slots_setup("alloc", "DISCO_ALLOC_SLOTS", &skel->rodata->slot_mask,
			   &skel->rodata->use_slots);
}

static int alloc_prepare(struct col_run *run, const struct rec_opts *o)
{
	const struct alloc_priv *p = run->priv;

	(void)o;
	if (p->user_on && run->hooks[H_UPROBE].method != HOOK_UPROBE) {
		log_err("alloc: uprobes unavailable: %s", run->hooks[H_UPROBE].reason);
		return -ENOTSUP;
	}
	return 0;
}

/* Attached (tracepoints; the uprobes are placed per binary here). */
static int alloc_start(struct col_run *run, const struct rec_opts *o)
{
	struct alloc_priv *p = run->priv;
	int err;

	if (p->kernel_on) {
		p->ks = ksyms_load(NULL);
		if (!p->ks)
			log_warn("alloc: cannot read /proc/kallsyms (%s): kernel call sites stay raw",
				 strerror(errno));
		else if (ksyms_hidden(p->ks))
			log_warn("alloc: kernel addresses are hidden (kptr_restrict): kernel call sites shown raw");
	}
	if (p->user_on) {
		for (int i = 0; i < o->npids; i++) {
			err = attach_proc(p, run->skel, o->pids[i]);
			if (err)
				return err;
		}
		/* the -- COMMAND child has not exec'd yet: see alloc_target_loaded */
	}
	p->start_ns = p->last_t = mono_ns();
	return 0;
}

/* -- COMMAND: its C library is mapped now, its code has not run yet. */
static int alloc_target_loaded(struct col_run *run, pid_t pid)
{
	struct alloc_priv *p = run->priv;

	if (!p->user_on)
		return 0;
	return attach_proc(p, run->skel, pid);
}

static void alloc_stop(struct col_run *run)
{
	priv_free(run->priv);
	run->priv = NULL;
}

/* ---- symbolization -------------------------------------------------------- */

/*
 * Frames of (pid, stackid), symbolized once and kept: the process may be
 * gone by the time the report is built. Called on the new-site event, so
 * normally while the process still runs.
 */
static const json_t *site_frames(struct col_run *run, uint32_t pid, uint64_t stack_id)
{
	struct alloc_priv *p = run->priv;
	struct alloc_bpf *skel = run->skel;
	struct alloc_stack st = {};
	__u64 *ips = st.ips;
	struct alloc_proc *pr;
	char key[40], buf[512];
	json_t *a;

	alloc_site_keystr(key, sizeof(key), pid, stack_id);
	a = json_object_get(p->frames, key);
	if (a)
		return a;
	a = json_array();
	if (!stack_id || bpf_map_lookup_elem(bpf_map__fd(skel->maps.ustacks), &stack_id, &st)) {
		json_array_append_new(a, json_string("[stack unavailable]"));
		goto out;
	}
	pr = proc_get(p, pid);
	if (!pr)
		pr = proc_follow(p, pid);
	if (pr && !pr->ps)
		pr->ps = proc_syms_new(p->cache, pid);
	if (pr && pr->ps) {
		/* a frame outside the known mappings: the process mapped more (or exec'd) */
		for (int i = 0; i < ALLOC_STACK_DEPTH && ips[i]; i++)
			if (!proc_syms_covers(pr->ps, ips[i])) {
				proc_syms_refresh(pr->ps);
				break;
			}
	}
	for (int i = 0; i < ALLOC_STACK_DEPTH && ips[i]; i++) {
		if (pr && pr->ps)
			proc_syms_format(pr->ps, ips[i], buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)ips[i]);
		/* symbol and file names come from the traced process's binaries */
		untrusted_copy(buf, sizeof(buf), buf, sizeof(buf));
		json_array_append_new(a, json_string(buf));
	}
out:
	json_object_set_new(p->frames, key, a);
	return a;
}

static void alloc_on_event(struct col_run *run, const void *data, size_t len)
{
	const struct alloc_event *e = data;

	if (len < sizeof(*e) || !run->priv)
		return;
	if (e->type == AE_NEW_SITE || e->type == AE_BIG_ALLOC)
		site_frames(run, e->tgid, e->stack_id);
}

/* ---- collect ---------------------------------------------------------------- */

static void read_percpu_hist(int fd, struct hist *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct hist *v = calloc(ncpu, sizeof(*v));
	__u32 k = 0;

	memset(out, 0, sizeof(*out));
	if (v && !bpf_map_lookup_elem(fd, &k, v))
		for (int c = 0; c < ncpu; c++)
			hist_merge(out, &v[c]);
	free(v);
}

/* The columns of leak_ages' table, per site. */
enum { LA_LEAK_ALLOCS, LA_LEAK_BYTES, LA_SAMPLES, LA_OUT_ALLOCS, LA_OUT_BYTES, LA_NR };

static void la_add(json_t *e, int col, uint64_t n)
{
	json_array_set_new(e, col, json_integer(json_integer_value(json_array_get(e, col)) +
						 (json_int_t)n));
}

static uint64_t la_get(const json_t *e, int col)
{
	return e ? (uint64_t)json_integer_value(json_array_get(e, col)) : 0;
}

/* What leak_ages fills, and the blocks it skips. */
struct leak_scan {
	json_t *o;
	uint64_t now, min_age_ns, *oldest_ns;
	const struct alloc_held *held;	/* freed but held back: not outstanding */
	size_t nheld;
	uint64_t held_seen;		/* tracked blocks found among them: frees */
};

/* One outstanding block into leak_ages' table. */
static void leak_age_add(struct leak_scan *ls, uint32_t tgid, uint64_t addr,
			 const struct alloc_info *v)
{
	json_t *o = ls->o;
	uint64_t now = ls->now, min_age_ns = ls->min_age_ns, *oldest_ns = ls->oldest_ns;
	char key[40];
	json_t *e;

	if (!v->ts_ns || v->ts_ns > now)
		return;
	if (alloc_held_has(ls->held, ls->nheld, tgid, addr)) {
		ls->held_seen++;
		return;
	}
	if (now - v->ts_ns > *oldest_ns)
		*oldest_ns = now - v->ts_ns;
	alloc_site_keystr(key, sizeof(key), tgid, v->stack_id);
	e = json_object_get(o, key);
	if (!e) {
		e = json_array();
		for (int c = 0; c < LA_NR; c++)
			json_array_append_new(e, json_integer(0));
		json_object_set_new(o, key, e);
	}
	if (now - v->ts_ns >= min_age_ns) {
		la_add(e, LA_LEAK_ALLOCS, v->blocks);
		la_add(e, LA_LEAK_BYTES, v->size);
	}
	la_add(e, LA_SAMPLES, 1);
	la_add(e, LA_OUT_ALLOCS, v->blocks);
	la_add(e, LA_OUT_BYTES, v->size);
}

/*
 * The blocks in the direct-mapped table, read through a read-only mapping
 * of it (one syscall, not one per slot). A slot is taken when its key
 * reads the same before and after its fields and its ts_ns is set.
 */
static void leak_ages_slots(struct leak_scan *ls, const struct bpf_map *m)
{
	size_t n = bpf_map__max_entries(m), len = n * sizeof(struct alloc_slot);
	const volatile struct alloc_slot *sl;
	void *mem;

	len = (len + (size_t)sysconf(_SC_PAGESIZE) - 1) & ~((size_t)sysconf(_SC_PAGESIZE) - 1);
	mem = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(m), 0);
	if (mem == MAP_FAILED) {
		log_warn("alloc: cannot map the block table (%s): leak ages incomplete",
			 strerror(errno));
		return;
	}
	sl = mem;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = sl[i].key;
		struct alloc_info v;

		if (!key)
			continue;
		v.ts_ns = sl[i].ts_ns;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		v.size = sl[i].size;
		v.stack_id = sl[i].stack_id;
		v.blocks = sl[i].blocks;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (sl[i].key != key)
			continue;
		leak_age_add(ls, alloc_slot_tgid(key), alloc_slot_addr(key), &v);
	}
	munmap(mem, len);
}

/*
 * The blocks the preloaded targets still running freed in full mode and
 * hold back (bpf/alloc.h, ALLOC_LIB_FULL), read from each one's table:
 * *n of them, sorted, malloc'd. A process gone (its table flushed at
 * exit) or unreadable holds nothing.
 */
static struct alloc_held *held_blocks(const struct alloc_priv *p, size_t *n)
{
	size_t cap = 0, have = 0;
	struct alloc_held *h = NULL;
	struct alloc_lib_pending *t = NULL;

	for (int i = 0; i < p->nprocs; i++) {
		const struct alloc_proc *pr = &p->procs[i];
		struct iovec loc, rem;

		if (!pr->held_addr)
			continue;
		if (!t && !(t = malloc(sizeof(*t))))
			break;
		loc = (struct iovec){ t, sizeof(*t) };
		rem = (struct iovec){ (void *)(uintptr_t)pr->held_addr, sizeof(*t) };
		if (process_vm_readv(pr->pid, &loc, 1, &rem, 1, 0) != (ssize_t)sizeof(*t))
			continue;
		if (have + ALLOC_LIB_PENDING_MAX > cap) {
			struct alloc_held *nh = realloc(h, (cap + ALLOC_LIB_PENDING_MAX) * sizeof(*h));

			if (!nh)
				break;
			h = nh;
			cap += ALLOC_LIB_PENDING_MAX;
		}
		have = alloc_held_add(h, have, cap, (uint32_t)pr->pid, t);
	}
	free(t);
	alloc_held_sort(h, have);
	*n = have;
	return h;
}

/*
 * Per site, from the outstanding blocks: the LA_* columns, where leak
 * candidates are older than --min-age, samples counts every entry (what a
 * sampled estimate rests on) and outstanding sums them all.
 */
static json_t *leak_ages(const struct alloc_priv *p, const struct alloc_bpf *skel, uint64_t now,
			 uint64_t *oldest_ns, uint64_t *held_frees)
{
	int fd = bpf_map__fd(skel->maps.allocs);
	struct alloc_key k, next, *prev = NULL;
	struct alloc_info v;
	struct leak_scan ls = { .o = json_object(), .now = now, .min_age_ns = p->opt->min_age_ns,
				.oldest_ns = oldest_ns };
	struct alloc_held *held = held_blocks(p, &ls.nheld);

	ls.held = held;
	*oldest_ns = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &v))
			leak_age_add(&ls, k.tgid, k.addr, &v);
	}
	if (skel->rodata->use_slots)
		leak_ages_slots(&ls, skel->maps.lslots);
	free(held);
	*held_frees = ls.held_seen;
	return ls.o;
}

static json_t *user_json(struct col_run *run, uint64_t now)
{
	struct alloc_priv *p = run->priv;
	struct alloc_bpf *skel = run->skel;
	int sfd = bpf_map__fd(skel->maps.sites);
	struct alloc_site_key k, next, *prev = NULL;
	struct alloc_site_row *rows = NULL;
	uint64_t uc[UC_NR], fc[AF_NR], oldest = 0, out_b = 0, out_n = 0, held_frees = 0;
	size_t n = 0, cap = 0;
	json_t *o = json_object(), *leaks, *targets = json_array(), *calls = json_object();
	struct hist h;
	double secs = (now - p->start_ns) / 1e9;

	leaks = leak_ages(p, skel, now, &oldest, &held_frees);
	while (!bpf_map_get_next_key(sfd, prev, &next)) {
		struct alloc_site v;
		const json_t *lk;
		char key[40];

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(sfd, &k, &v))
			continue;
		if (n == cap) {
			struct alloc_site_row *t = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*rows));

			if (!t)
				break;
			rows = t;
		}
		alloc_site_keystr(key, sizeof(key), k.tgid, k.stack_id);
		lk = json_object_get(leaks, key);
		rows[n] = (struct alloc_site_row){ .pid = k.tgid, .stack = site_frames(run, k.tgid, k.stack_id) };
		/* a block tracked a moment before its site counted it: freed clamps at 0 */
		rows[n].v[ASV_OUTSTANDING_BYTES] = la_get(lk, LA_OUT_BYTES);
		rows[n].v[ASV_OUTSTANDING_ALLOCS] = la_get(lk, LA_OUT_ALLOCS);
		rows[n].v[ASV_LEAK_ALLOCS] = la_get(lk, LA_LEAK_ALLOCS);
		rows[n].v[ASV_LEAK_BYTES] = la_get(lk, LA_LEAK_BYTES);
		rows[n].v[ASV_TOTAL_BYTES] = v.total_bytes;
		rows[n].v[ASV_TOTAL_ALLOCS] = v.total_allocs;
		rows[n].v[ASV_FREED_BYTES] = v.total_bytes > rows[n].v[ASV_OUTSTANDING_BYTES] ?
					     v.total_bytes - rows[n].v[ASV_OUTSTANDING_BYTES] : 0;
		rows[n].v[ASV_FREED_ALLOCS] = v.total_allocs > rows[n].v[ASV_OUTSTANDING_ALLOCS] ?
					      v.total_allocs - rows[n].v[ASV_OUTSTANDING_ALLOCS] : 0;
		rows[n].v[ASV_OUTSTANDING_SAMPLES] = la_get(lk, LA_SAMPLES);
		out_b += rows[n].v[ASV_OUTSTANDING_BYTES];
		out_n += rows[n].v[ASV_OUTSTANDING_ALLOCS];
		n++;
	}
	json_decref(leaks);
	json_object_set_new(o, "sites", alloc_merge_sites(rows, n, p->opt->sample, ALLOC_MAX_SITES_JSON));
	/* outstanding bytes by stack for `disco report --format folded` and flame graphs */
	json_object_set_new(o, "stacks", alloc_flame_stacks(json_object_get(o, "sites")));
	json_object_set_new(o, "sites_seen", json_integer((json_int_t)n));
	free(rows);

	percpu_counters_read(bpf_map__fd(skel->maps.ucounts), UC_NR, uc);
	percpu_counters_read(bpf_map__fd(skel->maps.fn_calls), AF_NR, fc);
	/* frees made and still held back by full-mode targets (leak_ages) */
	uc[UC_FREES] += held_frees;
	fc[AF_FREE] += held_frees;
	read_percpu_hist(bpf_map__fd(skel->maps.sizes), &h);
	for (int i = 0; i < AF_NR; i++)
		json_object_set_new(calls, fn_names[i], json_integer((json_int_t)fc[i]));
	json_object_set_new(o, "sizes", hist_to_json(&h, "bytes"));
	json_object_set_new(o, "counters", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		"allocs", (json_int_t)uc[UC_ALLOCS], "tracked", (json_int_t)uc[UC_TRACKED],
		"frees", (json_int_t)uc[UC_FREES], "frees_untracked", (json_int_t)uc[UC_FREES_UNKNOWN],
		"stack_errors", (json_int_t)uc[UC_STACK_ERRORS],
		"table_full", (json_int_t)uc[UC_TABLE_FULL],
		"reused_without_free", (json_int_t)uc[UC_REPLACED], "calls", calls));
	json_object_set_new(o, "outstanding_bytes", json_integer((json_int_t)(out_b * p->opt->sample)));
	json_object_set_new(o, "outstanding_allocs", json_integer((json_int_t)(out_n * p->opt->sample)));
	json_object_set_new(o, "oldest_outstanding_ns", json_integer((json_int_t)oldest));
	json_object_set_new(o, "rate", json_pack("{s:f, s:f}",
		"allocs_per_sec", secs > 0 ? uc[UC_ALLOCS] / secs : 0.0,
		"bytes_per_sec", secs > 0 ? h.sum / secs : 0.0));
	/* the rate over time: one point per collect (each STATE block, ~1 s) */
	if (now - p->last_t >= 500000000ULL) {
		json_array_append_new(p->timeline, json_pack("{s:I, s:I, s:I, s:I}",
			"time_ns", (json_int_t)(now - p->start_ns),
			"interval_ns", (json_int_t)(now - p->last_t),
			"allocs", (json_int_t)(uc[UC_ALLOCS] - p->last_allocs),
			"bytes", (json_int_t)(h.sum - p->last_bytes)));
		p->last_t = now;
		p->last_allocs = uc[UC_ALLOCS];
		p->last_bytes = h.sum;
	}
	json_object_set_new(o, "timeline", json_deep_copy(p->timeline));
	for (int i = 0; i < p->nprocs; i++)
		if (p->procs[i].info)
			json_array_append(targets, p->procs[i].info);
	json_object_set_new(o, "targets", targets);
	return o;
}

static int by_kbytes_desc(const void *pa, const void *pb)
{
	uint64_t x = json_u64(*(json_t *const *)pa, "bytes_alloc");
	uint64_t y = json_u64(*(json_t *const *)pb, "bytes_alloc");

	return x < y ? 1 : x > y ? -1 : 0;
}

/* One kernel call site, summed over CPUs, the slot cache and the hash. */
struct ksite_sum {
	__u64 call_site;
	struct kalloc_site s;
};

static void ksite_add(struct kalloc_site *to, const struct kalloc_site *v)
{
	to->allocs += v->allocs;
	to->bytes_req += v->bytes_req;
	to->bytes_alloc += v->bytes_alloc;
	to->frees += v->frees;
	to->outstanding_allocs += v->outstanding_allocs;
	to->outstanding_bytes += v->outstanding_bytes;
}

static int ksite_push(struct ksite_sum **arr, size_t *n, size_t *cap, __u64 site,
		      const struct kalloc_site *v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 512;
		struct ksite_sum *t = realloc(*arr, nc * sizeof(**arr));

		if (!t)
			return -ENOMEM;
		*arr = t;
		*cap = nc;
	}
	(*arr)[*n].call_site = site;
	(*arr)[*n].s = *v;
	(*n)++;
	return 0;
}

static int by_call_site(const void *pa, const void *pb)
{
	__u64 x = ((const struct ksite_sum *)pa)->call_site;
	__u64 y = ((const struct ksite_sum *)pb)->call_site;

	return x < y ? -1 : x > y;
}

/*
 * Every (site, per-CPU part) from the slot cache (one batch read) and the
 * hash, merged per site: sorted by call site, then runs added up. Returns
 * the number of sites in *out, or -errno.
 */
static ssize_t ksites_read(struct alloc_bpf *skel, int ncpu, struct ksite_sum **out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int sfd = bpf_map__fd(skel->maps.kslots), hfd = bpf_map__fd(skel->maps.ksites);
	struct kalloc_slot *slots = calloc((size_t)ALLOC_KSLOTS * ncpu, sizeof(*slots));
	struct kalloc_site *v = calloc(ncpu, sizeof(*v));
	__u32 *keys = calloc(ALLOC_KSLOTS, sizeof(*keys)), count = ALLOC_KSLOTS, batch;
	struct ksite_sum *arr = NULL;
	size_t n = 0, cap = 0, m = 0;
	__u64 key, next, *prev = NULL;
	int err = -ENOMEM;

	if (!slots || !v || !keys)
		goto out;
	/* ENOENT: the batch reached the end, which is where it ends here */
	if (bpf_map_lookup_batch(sfd, NULL, &batch, keys, slots, &count, &bo) && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	err = 0;
	for (__u32 i = 0; i < count; i++)
		for (int c = 0; c < ncpu; c++) {
			const struct kalloc_slot *sl = &slots[(size_t)i * ncpu + c];

			if (sl->call_site && (err = ksite_push(&arr, &n, &cap, sl->call_site, &sl->s)))
				goto out;
		}
	while (!bpf_map_get_next_key(hfd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(hfd, &key, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			if ((err = ksite_push(&arr, &n, &cap, key, &v[c])))
				goto out;
	}
	if (n)
		qsort(arr, n, sizeof(*arr), by_call_site);
	for (size_t i = 0; i < n; i++) {
		if (m && arr[m - 1].call_site == arr[i].call_site)
			ksite_add(&arr[m - 1].s, &arr[i].s);
		else
			arr[m++] = arr[i];
	}
	*out = arr;
	arr = NULL;
	err = 0;
out:
	free(arr);
	free(keys);
	free(v);
	free(slots);
	return err ? err : (ssize_t)m;
}

static json_t *kernel_json(struct col_run *run, uint64_t now)
{
	struct alloc_priv *p = run->priv;
	struct alloc_bpf *skel = run->skel;
	int ncpu = libbpf_num_possible_cpus();
	struct ksite_sum *all = NULL;
	ssize_t nsites;
	struct page_order_stat *ov = calloc(ncpu, sizeof(*ov));
	json_t *o = json_object(), *sites = json_array(), *orders = json_array(), **items = NULL;
	uint64_t kc[KC_NR];
	double secs = (now - p->start_ns) / 1e9;
	size_t n = 0, cap = 0;
	struct hist h;
	char buf[256], abuf[32];

	nsites = ksites_read(skel, ncpu, &all);
	if (nsites < 0)
		log_warn("alloc: cannot read kernel call sites: %s", strerror((int)-nsites));
	for (ssize_t i = 0; i < nsites; i++) {
		const struct kalloc_site s = all[i].s;
		__u64 key = all[i].call_site;

		if (!s.allocs)
			continue;
		if (n == cap) {
			json_t **t = realloc(items, (cap = cap ? cap * 2 : 256) * sizeof(*items));

			if (!t)
				break;
			items = t;
		}
		ksyms_format(p->ks, key, buf, sizeof(buf));
		snprintf(abuf, sizeof(abuf), "0x%llx", (unsigned long long)key);
		items[n++] = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:I, s:I}",
			"call_site", buf, "address", abuf,
			"allocs", (json_int_t)s.allocs, "bytes_req", (json_int_t)s.bytes_req,
			"bytes_alloc", (json_int_t)s.bytes_alloc,
			"allocs_per_sec", secs > 0 ? s.allocs / secs : 0.0,
			"outstanding_allocs", (json_int_t)(s.outstanding_allocs > 0 ?
							  s.outstanding_allocs * (int64_t)p->opt->ksample : 0),
			"outstanding_bytes", (json_int_t)(s.outstanding_bytes > 0 ?
							 s.outstanding_bytes * (int64_t)p->opt->ksample : 0));
	}
	free(all);
	if (n)
		qsort(items, n, sizeof(*items), by_kbytes_desc);
	for (size_t i = 0; i < n; i++) {
		if (i < ALLOC_MAX_KSITES_JSON)
			json_array_append_new(sites, items[i]);
		else
			json_decref(items[i]);
	}
	free(items);
	for (__u32 ord = 0; ov && ord < ALLOC_MAX_ORDER; ord++) {
		uint64_t a = 0, f = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.korders), &ord, ov))
			continue;
		for (int c = 0; c < ncpu; c++) {
			a += ov[c].allocs;
			f += ov[c].frees;
		}
		if (a || f)
			json_array_append_new(orders, json_pack("{s:i, s:I, s:I, s:I}", "order", ord,
				"allocs", (json_int_t)a, "frees", (json_int_t)f,
				"alloc_bytes", (json_int_t)(a * 4096ULL << ord)));
	}
	free(ov);
	percpu_counters_read(bpf_map__fd(skel->maps.kcounts), KC_NR, kc);
	read_percpu_hist(bpf_map__fd(skel->maps.ksizes), &h);
	json_object_set_new(o, "sites", sites);
	json_object_set_new(o, "page_orders", orders);
	json_object_set_new(o, "sizes", hist_to_json(&h, "bytes"));
	json_object_set_new(o, "addresses_hidden", json_boolean(!p->ks || ksyms_hidden(p->ks)));
	/* outstanding figures are estimates from one address in N */
	json_object_set_new(o, "outstanding_sampling", json_pack("{s:I, s:b}",
		"one_in", (json_int_t)p->opt->ksample, "scaled", p->opt->ksample > 1));
	json_object_set_new(o, "counters", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"kmalloc", (json_int_t)kc[KC_KMALLOC], "kfree", (json_int_t)kc[KC_KFREE],
		"kmem_cache_alloc", (json_int_t)kc[KC_CACHE_ALLOC],
		"kmem_cache_free", (json_int_t)kc[KC_CACHE_FREE],
		"page_alloc", (json_int_t)kc[KC_PAGE_ALLOC], "page_free", (json_int_t)kc[KC_PAGE_FREE],
		"frees_matched", (json_int_t)kc[KC_FREES_TRACKED],
		"table_full", (json_int_t)kc[KC_TABLE_FULL],
		"reused_without_free", (json_int_t)kc[KC_REPLACED]));
	json_object_set_new(o, "rate", json_pack("{s:f, s:f, s:f}",
		"kmalloc_per_sec", secs > 0 ? kc[KC_KMALLOC] / secs : 0.0,
		"kmem_cache_alloc_per_sec", secs > 0 ? kc[KC_CACHE_ALLOC] / secs : 0.0,
		"page_alloc_per_sec", secs > 0 ? kc[KC_PAGE_ALLOC] / secs : 0.0));
	return o;
}

/*
 * How the user-side figures were obtained: libc uprobes, one call in
 * one_in tracked (scaled); or the preload library, sampled by bytes with a
 * mean interval (mean_bytes 1: every call, exact). Estimates say so.
 */
static json_t *sampling_json(struct col_run *run)
{
	struct alloc_priv *p = run->priv;
	struct alloc_bpf *skel = run->skel;
	uint64_t mean = skel->bss->lib_mean_bytes ?: p->opt->sample_bytes;
	json_t *o = json_pack("{s:I, s:b, s:b}", "one_in", (json_int_t)p->opt->sample,
			      "scaled", p->opt->sample > 1 && p->libc_used, "preload", p->lib_used);

	if (p->lib_used) {
		json_object_set_new(o, "mean_bytes", json_integer((json_int_t)mean));
		json_object_set_new(o, "lost_samples", json_integer((json_int_t)skel->bss->lib_lost));
	}
	json_object_set_new(o, "estimates", json_boolean((p->lib_used && mean > 1) ||
							 (p->libc_used && p->opt->sample > 1)));
	if (p->libc_pair_ns > 0)
		json_object_set_new(o, "libc_pair_ns", json_integer((json_int_t)p->libc_pair_ns));
	return o;
}

static json_t *alloc_collect(struct col_run *run)
{
	struct alloc_priv *p = run->priv;
	uint64_t now = mono_ns();
	json_t *o = json_object(), *u;

	json_object_set_new(o, "sampling", sampling_json(run));
	json_object_set_new(o, "min_age_ns", json_integer((json_int_t)p->opt->min_age_ns));
	json_object_set_new(o, "user_enabled", json_boolean(p->user_on));
	json_object_set_new(o, "kernel_enabled", json_boolean(p->kernel_on));
	if (p->user_on) {
		u = user_json(run, now);
		/* the keys SPEC's report shape names sit at the top level */
		json_object_update(o, u);
		json_decref(u);
	} else {
		json_object_set_new(o, "sites", json_array());
	}
	if (p->kernel_on)
		json_object_set_new(o, "kernel", kernel_json(run, now));
	return o;
}

/* ---- report side ------------------------------------------------------------ */

static int alloc_report_event(json_t *col, const void *data, size_t len,
			      const struct report_opts *ro)
{
	struct alloc_event ev;
	const struct alloc_event *e = &ev;
	char comm[16];
	int i;

	/* records in a session block are only 4-byte aligned: copy first */
	if (len != sizeof(ev))
		return -EBADMSG;
	memcpy(&ev, data, sizeof(ev));
	if ((e->type != AE_NEW_SITE && e->type != AE_BIG_ALLOC) || e->fn >= AF_NR)
		return -EBADMSG;
	if (e->type == AE_NEW_SITE)
		return 0;
	for (i = 0; i < 15 && e->comm[i]; i++)
		comm[i] = (e->comm[i] >= 0x20 && e->comm[i] < 0x7f) ? e->comm[i] : '?';
	comm[i] = 0;
	report_append_bounded(col, "big_allocations", json_pack("{s:I, s:I, s:I, s:s, s:s, s:I}",
		"time_ns", (json_int_t)(e->ts_ns > ro->start_mono_ns ? e->ts_ns - ro->start_mono_ns : 0),
		"pid", (json_int_t)e->tgid, "tid", (json_int_t)e->tid, "comm", comm,
		"function", fn_names[e->fn], "size_bytes", (json_int_t)e->size), ALLOC_MAX_BIG_JSON);
	return 0;
}

static void print_stack(FILE *out, const json_t *stack, int max)
{
	const json_t *f;
	size_t i;

	json_array_foreach(stack, i, f) {
		if ((int)i >= max) {
			fprintf(out, "        ... %zu more\n", json_array_size(stack) - i);
			break;
		}
		fprintf(out, "        %s\n", json_string_value(f) ?: "?");
	}
}

static int by_total_desc(const void *pa, const void *pb)
{
	uint64_t x = json_u64(*(json_t *const *)pa, "total_bytes");
	uint64_t y = json_u64(*(json_t *const *)pb, "total_bytes");

	return x < y ? 1 : x > y ? -1 : 0;
}

static void render_sampling(FILE *out, const json_t *col, const json_t *samp)
{
	const json_t *t;
	char b[16];
	size_t i;

	if (json_is_true(json_object_get(samp, "scaled")))
		fprintf(out, "  SAMPLED: one allocation in %" PRIu64 " tracked; per-site figures are "
			"scaled estimates\n", json_u64(samp, "one_in"));
	if (json_is_true(json_object_get(samp, "preload"))) {
		if (json_u64(samp, "mean_bytes") <= 1)
			fprintf(out, "  preload library, exact: every call recorded (--alloc-sample-bytes 1)\n");
		else
			fprintf(out, "  SAMPLED by bytes (preload library, Poisson, mean interval %s): counts "
				"and bytes are estimates; a site's outstanding estimate resting on k "
				"samples is within about +-196/sqrt(k) %% (95%%)\n",
				fmt_bytes(json_u64(samp, "mean_bytes"), b, sizeof(b)));
		if (json_u64(samp, "lost_samples"))
			fprintf(out, "  %" PRIu64 " samples lost (the library's address set was full)\n",
				json_u64(samp, "lost_samples"));
	}
	json_array_foreach(json_object_get(col, "targets"), i, t) {
		const json_t *n;
		size_t j;

		json_array_foreach(json_object_get(t, "notes"), j, n)
			fprintf(out, "  note: %s\n", json_string_value(n) ?: "?");
	}
}

/* The sites holding the most outstanding bytes, with the leak candidates. */
static void render_outstanding_sites(FILE *out, const json_t *sites, const json_t *samp,
				     const struct report_opts *ro)
{
	const json_t *s;
	char b[3][16];
	size_t i;
	int shown = 0;

	json_array_foreach(sites, i, s) {
		if (shown >= ro->top || !json_u64(s, "outstanding_allocs"))
			break;
		fprintf(out, "  %10s %8" PRIu64 " %10s %8" PRIu64 " %10s %8" PRIu64 "\n",
			fmt_bytes(json_u64(s, "outstanding_bytes"), b[0], 16),
			json_u64(s, "outstanding_allocs"),
			fmt_bytes(json_u64(s, "leak_bytes"), b[1], 16), json_u64(s, "leak_allocs"),
			fmt_bytes(json_u64(s, "total_bytes"), b[2], 16), json_u64(s, "total_allocs"));
		if (json_is_true(json_object_get(samp, "estimates")) &&
		    json_u64(s, "outstanding_samples"))
			fprintf(out, "      (estimate from %" PRIu64 " samples: +-%.0f%%)\n",
				json_u64(s, "outstanding_samples"),
				196.0 / sqrt((double)json_u64(s, "outstanding_samples")));
		print_stack(out, json_object_get(s, "stack"), 8);
		shown++;
	}
	if (!shown)
		fprintf(out, "  (nothing outstanding)\n");
}

/* The sites that allocated the most bytes in all, freed or not. */
static void render_allocating_sites(FILE *out, const json_t *sites, const struct report_opts *ro)
{
	json_t **v;
	char b[16];
	size_t i, n;

	n = json_array_size(sites);
	v = calloc(n + 1, sizeof(*v));
	for (i = 0; v && i < n; i++)
		v[i] = json_array_get(sites, i);
	if (v)
		qsort(v, n, sizeof(*v), by_total_desc);
	fprintf(out, "\nTop allocating sites:\n");
	for (i = 0; v && i < n && (int)i < ro->top; i++) {
		fprintf(out, "  %10s in %" PRIu64 " allocations, %" PRIu64 " freed\n",
			fmt_bytes(json_u64(v[i], "total_bytes"), b, 16),
			json_u64(v[i], "total_allocs"), json_u64(v[i], "freed_allocs"));
		print_stack(out, json_object_get(v[i], "stack"), 3);
	}
	free(v);
}

/* The traced processes' heap: counters, top sites, allocation sizes. */
static void render_user_heap(FILE *out, const json_t *col, const json_t *samp,
			     const struct report_opts *ro)
{
	const json_t *sites = json_object_get(col, "sites");
	const json_t *c = json_object_get(col, "counters"), *t;
	char b[16];
	size_t i;

	fprintf(out, "User-space heap");
	json_array_foreach(json_object_get(col, "targets"), i, t)
		fprintf(out, "%s pid %" PRIu64 " (%s)", i ? "," : " of", json_u64(t, "pid"),
			json_string_value(json_object_get(t, "libc")) ?: "?");
	fprintf(out, ":\n");
	render_sampling(out, col, samp);
	fprintf(out, "  %" PRIu64 " allocations (%.0f/s), %" PRIu64 " frees of tracked blocks; "
		"outstanding %s in %" PRIu64 " blocks\n", json_u64(c, "allocs"),
		json_real_value(json_object_get(json_object_get(col, "rate"), "allocs_per_sec")),
		json_u64(c, "frees"), fmt_bytes(json_u64(col, "outstanding_bytes"), b, 16),
		json_u64(col, "outstanding_allocs"));
	fprintf(out, "\nTop outstanding allocation sites (leak candidates: older than %s):\n",
		fmt_ns(json_u64(col, "min_age_ns"), b, 16));
	fprintf(out, "  %10s %8s %10s %8s %10s %8s\n", "OUTSTAND", "BLOCKS", "LEAK", "BLOCKS",
		"TOTAL", "ALLOCS");
	render_outstanding_sites(out, sites, samp, ro);
	render_allocating_sites(out, sites, ro);
	fprintf(out, "\nAllocation sizes:\n");
	report_print_hist(out, json_object_get(col, "sizes"), "bytes");
}

/* Kernel allocations: counters, top call sites, pages by order. */
static void render_kernel_allocs(FILE *out, const json_t *k, const struct report_opts *ro)
{
	const json_t *c = json_object_get(k, "counters"), *r = json_object_get(k, "rate"), *o, *s;
	char b[2][16];
	size_t i;

	fprintf(out, "\nKernel allocations%s:\n", json_is_true(json_object_get(k, "addresses_hidden")) ?
		" (addresses hidden by kptr_restrict: raw call sites)" : "");
	fprintf(out, "  kmalloc %" PRIu64 " (%.0f/s); kmem_cache_alloc %" PRIu64
		" (%.0f/s); pages %" PRIu64 " allocated, %" PRIu64 " freed\n",
		json_u64(c, "kmalloc"), json_real_value(json_object_get(r, "kmalloc_per_sec")),
		json_u64(c, "kmem_cache_alloc"),
		json_real_value(json_object_get(r, "kmem_cache_alloc_per_sec")),
		json_u64(c, "page_alloc"), json_u64(c, "page_free"));
	if (json_u64(json_object_get(k, "outstanding_sampling"), "one_in"))
		fprintf(out, "  kfree %" PRIu64 ", kmem_cache_free %" PRIu64 "\n",
			json_u64(c, "kfree"), json_u64(c, "kmem_cache_free"));
	else
		fprintf(out, "  slab frees not traced (--kernel-sample N tracks outstanding objects)\n");
	if (json_u64(json_object_get(k, "outstanding_sampling"), "one_in") > 1)
		fprintf(out, "  outstanding objects sampled: one address in %" PRIu64
			", scaled estimates\n",
			json_u64(json_object_get(k, "outstanding_sampling"), "one_in"));
	fprintf(out, "\n  %-44s %10s %10s %10s %10s\n", "CALL SITE", "ALLOCS", "PER SEC", "BYTES",
		"OUTSTAND");
	json_array_foreach(json_object_get(k, "sites"), i, s) {
		if ((int)i >= ro->top)
			break;
		fprintf(out, "  %-44.44s %10" PRIu64 " %10.0f %10s %10s\n",
			json_string_value(json_object_get(s, "call_site")) ?: "?",
			json_u64(s, "allocs"), json_real_value(json_object_get(s, "allocs_per_sec")),
			fmt_bytes(json_u64(s, "bytes_alloc"), b[0], 16),
			fmt_bytes(json_u64(s, "outstanding_bytes"), b[1], 16));
	}
	fprintf(out, "\n  Pages by order:\n  %5s %10s %10s %10s\n", "ORDER", "ALLOCS", "FREES", "BYTES");
	json_array_foreach(json_object_get(k, "page_orders"), i, o)
		fprintf(out, "  %5" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10s\n", json_u64(o, "order"),
			json_u64(o, "allocs"), json_u64(o, "frees"),
			fmt_bytes(json_u64(o, "alloc_bytes"), b[0], 16));
}

static void alloc_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	const json_t *k, *samp;
	size_t n;

	samp = json_object_get(col, "sampling");
	if (json_is_true(json_object_get(col, "user_enabled")))
		render_user_heap(out, col, samp, ro);
	k = json_object_get(col, "kernel");
	if (k)
		render_kernel_allocs(out, k, ro);
	n = json_array_size(json_object_get(col, "big_allocations"));
	if (n)
		fprintf(out, "\n%zu allocations at or above the --big threshold recorded\n", n);
}

const struct collector col_alloc = {
	.name = "alloc",
	.id = 4,
	.help = "heap of a target (leaks, sizes, call stacks) and kernel allocations",
	.default_on = false,
	/* without a target it still records kernel allocations system-wide */
	.needs_target = false,
	.hooks = alloc_hooks,
	.nhooks = H_COUNT,
	.options = alloc_options,
	.opts_size = sizeof(struct alloc_opts),
	.opts_default = &alloc_opts_default,
	.set_option = alloc_set_option,
	.prepare_command = alloc_prepare_command,
	.skel = &alloc_skel,
	.companions = alloc_companions,
	.ncompanions = sizeof(alloc_companions) / sizeof(alloc_companions[0]),
	.configure = alloc_configure,
	.prepare = alloc_prepare,
	.start = alloc_start,
	.target_loaded = alloc_target_loaded,
	.on_event = alloc_on_event,
	.collect = alloc_collect,
	.stop = alloc_stop,
	.report_event = alloc_report_event,
	.render_text = alloc_render_text,
};
