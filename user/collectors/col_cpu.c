// SPDX-License-Identifier: GPL-2.0
/*
 * cpu collector, userspace side: per-CPU sampling events, stacks -> named
 * frames. Frame-pointer stacks are counted in the kernel; with
 * --call-graph dwarf each sample arrives with a copy of its user stack,
 * is unwound here (libdw) and counted per stack in ustack.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "cmd.h"
#include "collector.h"
#include "log.h"
#include "stacks.h"
#include "untrusted.h"
#include "unwind.h"
#include "ustack.h"
#include "bpf/cpu.h"
#include "bpf/stacks.h"
#include "cpu.skel.h"

#define CPU_DEFAULT_HZ 49	/* off the beat of 100/1000 Hz timers, as perf and profile do */
#define CPU_MAX_STACKS_JSON 2000	/* each snapshot carries them: RSS and report time grow with it */
#define CPU_MAX_PROCS_JSON 512

enum { H_CLOCK, H_EXEC, H_COUNT };

static const struct hook_spec cpu_hooks[H_COUNT] = {
	/* attached per CPU by attach_clock(); the lifecycle only loads it */
	[H_CLOCK] = { "cpu-clock", M(HOOK_PERF_EVENT), false, "on-CPU samples",
		      .progs = "cpu_sample" },
	[H_EXEC] = { "sched:sched_process_exec", HOOK_CHAIN_TP, true,
		     "names in processes that exec during the session", .progs = "cpu_exec" },
};

/* ---- options -------------------------------------------------------------- */

struct cpu_opts {
	uint32_t dwarf_stack;	/* bytes of user stack per sample; 0: frame pointers */
};

static const struct cpu_opts cpu_opts_default = { 0 };

static const struct col_option cpu_options[] = {
	{ "call-graph", true, "cpu: user stacks by fp (frame pointers, default) or dwarf[,SIZE] "
			      "(copy SIZE bytes of stack per sample, default 8192, and unwind "
			      "with libdw: every sample goes through the ring)" },
	{ NULL },
};

/* "fp", "dwarf" or "dwarf,SIZE" (SIZE rounded up to 8 bytes, as perf does). */
static int cpu_set_option(void *opts, const char *name, const char *arg)
{
	struct cpu_opts *op = opts;
	unsigned long long v = CPU_DWARF_DEFAULT_STACK;

	if (strcmp(name, "call-graph"))
		return -EINVAL;
	if (!strcmp(arg, "fp")) {
		op->dwarf_stack = 0;
		return 0;
	}
	if (strncmp(arg, "dwarf", 5) || (arg[5] && arg[5] != ','))
		return -EINVAL;
	if (arg[5] == ',' && (parse_u64(arg + 6, &v) || v < 8 || v > CPU_DWARF_MAX_STACK))
		return -EINVAL;
	op->dwarf_stack = (uint32_t)((v + 7) & ~7ULL);
	return 0;
}

/* A row as the memo knows it: the map key and which user stack (as stack_syms_frames' ukey). */
struct memo_key {
	struct cpu_key k;
	int64_t ukey;
};

struct cpu_priv {
	struct stack_syms *ss;
	struct stack_memo *memo;	/* rows already resolved (struct memo_key) */
	struct bpf_link **links;
	int nlinks;
	unsigned int hz;
	uint32_t dwarf_stack;
	struct unwinder *uw;	/* --call-graph dwarf */
	struct ustack_agg *agg;
	uint64_t dwarf_samples, dwarf_bad, dwarf_lost, unwind_ns;
	uint64_t loads;		/* processes' files reported to the unwinder */
};

static void priv_free(struct cpu_priv *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	stack_memo_free(p->memo);
	stack_syms_free(p->ss);
	unwinder_free(p->uw);
	ustack_agg_free(p->agg);
	free(p);
}

/* One sampling event per CPU, each running the program. */
static int attach_clock(struct cpu_priv *p, struct bpf_program *prog)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = p->hz,
		.freq = 1,
	};

	if (ncpu <= 0)
		return ncpu ?: -ENODEV;
	p->links = calloc(ncpu, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		struct bpf_link *l;

		if (fd < 0) {
			if (errno == ENODEV)	/* possible but offline */
				continue;
			err = -errno;
			log_err("cpu: perf_event_open(cpu-clock, %u Hz) on CPU %d: %s", p->hz, cpu,
				strerror(errno));
			break;
		}
		l = bpf_program__attach_perf_event(prog, fd);
		if (!l) {
			err = -errno;
			close(fd);
			log_err("cpu: attaching to the cpu-clock event of CPU %d: %s", cpu, strerror(-err));
			break;
		}
		p->links[p->nlinks++] = l;	/* the link owns fd */
	}
	if (!err && !p->nlinks)
		err = -ENODEV;
	return err;
}

COLLECTOR_SKEL(cpu);

/* With --call-graph dwarf every sample crosses the ring (8 KiB each). */
static uint32_t cpu_ring_bytes(const void *opts)
{
	const struct cpu_opts *op = opts;

	return op->dwarf_stack ? DEFAULT_RING_BYTES : STACKS_RING_BYTES;
}

static int cpu_configure(struct col_run *run, const struct rec_opts *o)
{
	const struct cpu_opts *op = run->opts;
	struct cpu_priv *p = calloc(1, sizeof(*p));
	struct cpu_bpf *skel = run->skel;

	if (!p)
		return -ENOMEM;
	run->priv = p;
	p->hz = o->sample_hz ?: CPU_DEFAULT_HZ;
	p->dwarf_stack = op->dwarf_stack;
	skel->rodata->dwarf_stack = op->dwarf_stack;
	p->ss = stack_syms_new("cpu");
	p->memo = stack_memo_new(sizeof(struct memo_key));
	if (!p->ss || !p->memo)
		return -ENOMEM;
	if (!p->dwarf_stack)
		return 0;
	p->uw = unwinder_new();
	if (!p->uw) {
		if (errno == ENOTSUP)
			log_err("cpu: --call-graph dwarf is not available in this build of disco "
				"(it needs libdw and x86-64); use --call-graph fp");
		return -errno;
	}
	p->agg = ustack_agg_new();
	return p->agg ? 0 : -ENOMEM;
}

/* The exec and fork programs are attached; the sampling program goes on every CPU. */
static int cpu_start(struct col_run *run, const struct rec_opts *o)
{
	struct cpu_bpf *skel = run->skel;

	(void)o;
	return attach_clock(run->priv, skel->progs.cpu_sample);
}

static void cpu_stop(struct col_run *run)
{
	priv_free(run->priv);
	run->priv = NULL;
}

static uint32_t event_type(const void *data, size_t len)
{
	uint32_t type = 0;

	if (len >= sizeof(type))
		memcpy(&type, data, sizeof(type));
	return type;
}

/* Open pid's files for unwinding, from the maps its symbol view captured. */
static int unwinder_load_proc(struct cpu_priv *p, pid_t pid)
{
	struct proc_syms *ps = stack_syms_proc(p->ss, pid);
	const struct map_entry *m;
	int n, err;

	if (!ps)
		return -ESRCH;
	n = proc_syms_maps(ps, &m);
	err = unwinder_load(p->uw, pid, m, n);
	p->loads++;
	if (err)
		log_debug("cpu: process %d: no unwinding (%s)", pid, strerror(-err));
	return err;
}

/* CPU time of the recorder's thread: what unwinding costs, not waits for a CPU */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* --call-graph dwarf: unwind one sample now and count its stack. */
static void on_dwarf_sample(struct cpu_priv *p, const void *data, size_t len)
{
	uint64_t ips[USTACK_MAX_DEPTH], t0 = thread_cpu_ns();
	struct ustack_sample s;
	bool complete = false, stale = false;
	int n;

	if (!p->agg || ustack_decode(data, len, &s)) {
		p->dwarf_bad++;
		return;
	}
	n = unwinder_unwind(p->uw, &s, ips, USTACK_MAX_DEPTH, &complete, &stale);
	/*
	 * Stopped in code outside every file the unwinder knows: new only
	 * when the captured maps do not cover it either (JIT code in an
	 * anonymous mapping stays where it was: reading the maps again,
	 * once a second per process, would change nothing)
	 */
	if (stale && n > 0)
		stale = !stack_syms_proc(p->ss, (pid_t)s.tgid) ||
			!proc_syms_covers(stack_syms_proc(p->ss, (pid_t)s.tgid), ips[n - 1]);
	/* code mapped after the process was captured: read its maps again */
	if (stale && !stack_syms_capture(p->ss, (pid_t)s.tgid, true) &&
	    !unwinder_load_proc(p, (pid_t)s.tgid))
		n = unwinder_unwind(p->uw, &s, ips, USTACK_MAX_DEPTH, &complete, &stale);
	/* one of more processes than the unwinder keeps open: again from its view */
	else if (n == -ENOENT && !unwinder_load_proc(p, (pid_t)s.tgid))
		n = unwinder_unwind(p->uw, &s, ips, USTACK_MAX_DEPTH, &complete, &stale);
	if (n < 0) {
		/* the process exited before its files were opened */
		ips[0] = s.regs[CPU_DWARF_REG_IP];
		n = 1;
	}
	if (ustack_agg_add(p->agg, s.tgid, s.comm, s.kstack, ips, n, !complete))
		p->dwarf_lost++;
	p->dwarf_samples++;
	p->unwind_ns += thread_cpu_ns() - t0;
}

static void cpu_on_event(struct col_run *run, const void *data, size_t len)
{
	struct cpu_priv *p = run->priv;
	struct stacks_proc_event e;

	if (!p)
		return;
	if (event_type(data, len) == CPU_EV_DWARF) {
		on_dwarf_sample(p, data, len);
		return;
	}
	/* a new process, or one that exec'd: its maps changed */
	stacks_on_proc_event(p->ss, data, len, true, "cpu");
	if (p->uw && len >= sizeof(e)) {
		memcpy(&e, data, sizeof(e));
		unwinder_load_proc(p, (pid_t)e.tgid);
	}
}

/* The copies of user stacks are consumed here, never written to the file. */
static bool cpu_record_event(const void *data, size_t len)
{
	return event_type(data, len) != CPU_EV_DWARF;
}

/* ---- collect ---------------------------------------------------------------- */

/* Depth of a stack map entry (zero-terminated), 0 when the id is an error. */
static int stack_read(int fd, __s32 id, uint64_t *ips)
{
	int n = 0;

	if (id < 0 || bpf_map_lookup_elem(fd, &id, ips))
		return 0;
	while (n < CPU_STACK_DEPTH && ips[n])
		n++;
	return n;
}

/* A stack counted in the kernel (fp, or no user stack), or one unwound here (u). */
struct row {
	struct cpu_key k;
	uint64_t count;
	const struct ustack_row *u;
	size_t uidx;
};

static int rows_push(struct row **rows, size_t *n, size_t *cap, const struct row *r)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct row *v = realloc(*rows, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*rows = v;
		*cap = nc;
	}
	(*rows)[(*n)++] = *r;
	return 0;
}

#define CPU_READ_BATCH 512

/*
 * The kernel's counts in batches, one syscall per CPU_READ_BATCH rows
 * instead of two per row (a live view reads them every refresh).
 * -EINVAL on kernels without batch reads of hash maps.
 */
static int counts_read_batch(int cfd, struct row **rows, size_t *n, size_t *cap)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	struct cpu_key keys[CPU_READ_BATCH];
	uint64_t vals[CPU_READ_BATCH];
	__u64 token = 0, *in = NULL;	/* where the last batch stopped (a bucket, for a hash) */
	int err = 0;

	for (;;) {
		__u32 count = CPU_READ_BATCH;
		int r = bpf_map_lookup_batch(cfd, in, &token, keys, vals, &count, &bo);

		/* ENOENT: this batch, maybe empty, is the last */
		if (r && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < count && !err; i++) {
			struct row row = { .k = keys[i], .count = vals[i] };

			err = rows_push(rows, n, cap, &row);
		}
		if (r || err)
			return err;
		in = &token;
	}
}

/* The same a key at a time. */
static int counts_read_keys(int cfd, struct row **rows, size_t *n, size_t *cap)
{
	struct cpu_key key, prevk;
	bool first = true;
	int err = 0;

	while (!err && !bpf_map_get_next_key(cfd, first ? NULL : &prevk, &key)) {
		struct row r = { .k = key };

		first = false;
		prevk = key;
		if (!bpf_map_lookup_elem(cfd, &key, &r.count))
			err = rows_push(rows, n, cap, &r);
	}
	return err;
}

/* The rows of the kernel's counts map, then those unwound in userspace. */
static size_t rows_read(const struct cpu_priv *p, int cfd, struct row **rows)
{
	size_t n = 0, cap = 0;
	int err;

	*rows = NULL;
	/* refused (before 5.6) or cut short: again a key at a time */
	err = counts_read_batch(cfd, rows, &n, &cap);
	if (err) {
		n = 0;
		err = counts_read_keys(cfd, rows, &n, &cap);
	}
	if (err)
		return n;
	for (size_t i = 0; i < ustack_agg_count(p->agg); i++) {
		const struct ustack_row *u = ustack_agg_row(p->agg, i);
		struct row r = { .count = u->count, .u = u, .uidx = i };

		r.k.tgid = u->pid;
		r.k.kstack = u->kstack;
		memcpy(r.k.comm, u->comm, sizeof(r.k.comm));
		if (rows_push(rows, &n, &cap, &r))
			return n;
	}
	return n;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return (int)x->k.tgid - (int)y->k.tgid;
}

/* The resolved frames of a row: remembered from an earlier snapshot, or resolved now. */
static const struct stack_memo_row *row_frames(struct cpu_priv *p, int sfd, const struct row *r)
{
	uint64_t uips[CPU_STACK_DEPTH], kips[CPU_STACK_DEPTH];
	/* unwound stacks are keyed apart from the kernel's stack ids */
	struct memo_key mk = { r->k, r->u ? (1LL << 32) + (int64_t)r->uidx : r->k.ustack };
	const struct stack_memo_row *have = stack_memo_get(p->memo, &mk);
	struct stack_memo_row m;

	if (have)
		return have;
	m.nk = stack_read(sfd, r->k.kstack, kips);
	m.nu = r->u ? (int)r->u->nframes : stack_read(sfd, r->k.ustack, uips);
	m.frames = stack_syms_frames(p->ss, (pid_t)r->k.tgid, r->k.kstack, kips, m.nk,
				     mk.ukey, r->u ? r->u->ips : uips, m.nu);
	/*
	 * dwarf: the CFI says where a thread's stack ends (its return
	 * address undefined, in _start or clone), even in stripped files
	 */
	m.complete = r->u ? !r->u->truncated
			  : r->k.ustack == -2 || stack_user_complete(m.frames, m.nu, CPU_STACK_DEPTH);
	if (!m.frames || stack_memo_put(p->memo, &mk, &m)) {
		json_decref(m.frames);
		return NULL;
	}
	json_decref(m.frames);
	return stack_memo_get(p->memo, &mk);
}

static json_t *cpu_collect(struct col_run *run)
{
	struct cpu_priv *p = run->priv;
	struct cpu_bpf *skel = run->skel;
	int cfd = bpf_map__fd(skel->maps.counts), sfd = bpf_map__fd(skel->maps.stacks);
	uint64_t c[CPU_NCOUNTERS], truncated = 0, omitted = 0, total = 0;
	json_t *o = json_object(), *stacks = json_array(), *procs = json_object();
	struct row *rows;
	size_t n;

	percpu_counters_read(bpf_map__fd(skel->maps.counters), CPU_NCOUNTERS, c);
	stack_syms_round(p->ss);
	unwinder_prune(p->uw);
	n = rows_read(p, cfd, &rows);
	if (n)
		qsort(rows, n, sizeof(*rows), by_count_desc);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		const struct stack_memo_row *m;
		char comm[16];
		json_t *s;

		untrusted_copy(comm, sizeof(comm), r->k.comm, 16);
		total += r->count;
		if (!run->periodic)
			stacks_proc_add(procs, r->k.tgid, comm, "samples", r->count);
		if (i >= CPU_MAX_STACKS_JSON) {
			omitted += r->count;
			continue;
		}
		m = row_frames(p, sfd, r);
		if (!m)
			continue;
		if (!m->complete)
			truncated += r->count;
		if (run->periodic)
			continue;
		s = json_pack("{s:I, s:s, s:I, s:I, s:I, s:b, s:O}", "pid", (json_int_t)r->k.tgid,
			      "comm", comm, "count", (json_int_t)r->count,
			      "user_frames", (json_int_t)m->nu, "kernel_frames", (json_int_t)m->nk,
			      "truncated", !m->complete, "frames", m->frames);
		if (!r->u && r->k.ustack < 0 && r->k.ustack != -2)
			json_object_set_new(s, "user_stack_error", json_integer(r->k.ustack));
		json_array_append_new(stacks, s);
	}
	free(rows);
	json_object_set_new(o, "frequency_hz", json_integer(p->hz));
	json_object_set_new(o, "call_graph", json_string(p->dwarf_stack ? "dwarf" : "fp"));
	if (p->dwarf_stack) {
		struct elf_cache_stats fs;

		unwinder_file_stats(p->uw, &fs);
		json_object_set_new(o, "dwarf", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}}",
			"stack_bytes", (json_int_t)p->dwarf_stack,
			"samples", (json_int_t)p->dwarf_samples,
			"unwind_ns", (json_int_t)p->unwind_ns,
			"ring_full", (json_int_t)c[CPU_C_DWARF_LOST],
			"short_copies", (json_int_t)c[CPU_C_DWARF_SHORT],
			"bad_events", (json_int_t)p->dwarf_bad,
			"not_counted", (json_int_t)p->dwarf_lost,
			"process_loads", (json_int_t)p->loads,
			"files", "opened", (json_int_t)fs.opens, "reused", (json_int_t)fs.hits,
			"shared_by_build_id", (json_int_t)fs.shared, "evicted", (json_int_t)fs.evicted));
	}
	json_object_set_new(o, "samples", json_integer((json_int_t)total));
	json_object_set_new(o, "idle_samples", json_integer((json_int_t)c[CPU_C_IDLE]));
	json_object_set_new(o, "lost_samples", json_integer((json_int_t)c[CPU_C_KEYS_FULL]));
	json_object_set_new(o, "stack_errors", json_pack("{s:I, s:I}",
		"user", (json_int_t)c[CPU_C_USTACK_ERR], "kernel", (json_int_t)c[CPU_C_KSTACK_ERR]));
	json_object_set_new(o, "truncated_samples", json_integer((json_int_t)truncated));
	json_object_set_new(o, "omitted_samples", json_integer((json_int_t)omitted));
	json_object_set_new(o, "named_frames", json_integer((json_int_t)stack_syms_named(p->ss)));
	json_object_set_new(o, "unnamed_frames", stack_syms_unnamed_json(p->ss));
	if (!run->periodic) {
		json_object_set_new(o, "processes", stacks_procs_sorted(procs, "samples", CPU_MAX_PROCS_JSON));
		json_object_set_new(o, "stacks", stacks);
		json_object_set_new(o, "build_ids", stack_syms_build_ids_json(p->ss));
	} else {
		json_decref(procs);
		json_decref(stacks);
	}
	return o;
}

/* ---- report ----------------------------------------------------------------- */

static int cpu_report_event(json_t *col, const void *data, size_t len,
			    const struct report_opts *ro)
{
	(void)ro;
	return stacks_report_proc_event(col, data, len);
}

static void cpu_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	uint64_t total = json_u64(col, "samples"), idle = json_u64(col, "idle_samples");
	const json_t *procs = json_object_get(col, "processes"), *stacks = json_object_get(col, "stacks");
	const json_t *s, *pr;
	size_t i;

	fprintf(out, "On-CPU samples at %" PRIu64 " Hz: %" PRIu64 " (idle apart: %" PRIu64 ")",
		json_u64(col, "frequency_hz"), total, idle);
	if (total + idle)
		fprintf(out, ", busy %.1f%%", 100.0 * total / (total + idle));
	fputc('\n', out);
	if (json_object_get(col, "dwarf")) {
		const json_t *d = json_object_get(col, "dwarf");
		uint64_t n = json_u64(d, "samples");

		fprintf(out, "User stacks unwound with DWARF CFI from %" PRIu64 "-byte stack copies: "
			"%" PRIu64 " samples, %.1f us of recorder CPU each, %" PRIu64 " lost to a full ring\n",
			json_u64(d, "stack_bytes"), n, n ? json_u64(d, "unwind_ns") / 1e3 / n : 0.0,
			json_u64(d, "ring_full"));
	}
	if (!total)
		return;
	stacks_render_summary(col, out, total, "truncated_samples");
	fprintf(out, "\nTop processes by samples:\n  %-7s %-16s %9s %7s\n", "PID", "COMM", "samples", "share");
	json_array_foreach(procs, i, pr) {
		if ((int)i >= ro->top)
			break;
		fprintf(out, "  %-7" PRIu64 " %-16s %9" PRIu64 " %6.1f%%\n", json_u64(pr, "pid"),
			json_string_value(json_object_get(pr, "comm")) ?: "?", json_u64(pr, "samples"),
			100.0 * json_u64(pr, "samples") / total);
	}
	fprintf(out, "\nTop stacks (leaf first):\n");
	json_array_foreach(stacks, i, s) {
		if ((int)i >= ro->top)
			break;
		stacks_render_one(s, out, 100.0 * json_u64(s, "count") / total, "samples",
				  json_u64(s, "count"));
	}
}

const struct collector col_cpu = {
	.name = "cpu",
	.id = 5,
	.help = "on-CPU profile: sampled stacks (-F HZ), for flame graphs",
	.hooks = cpu_hooks,
	.nhooks = H_COUNT,
	.options = cpu_options,
	.opts_size = sizeof(struct cpu_opts),
	.opts_default = &cpu_opts_default,
	.set_option = cpu_set_option,
	.skel = &cpu_skel,
	.ring_bytes = cpu_ring_bytes,
	.configure = cpu_configure,
	.start = cpu_start,
	.on_event = cpu_on_event,
	.record_event = cpu_record_event,
	.collect = cpu_collect,
	.stop = cpu_stop,
	.report_event = cpu_report_event,
	.report_snapshot = stacks_report_snapshot,
	.render_text = cpu_render_text,
};
