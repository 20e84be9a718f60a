// SPDX-License-Identifier: GPL-2.0
/* cpu collector, userspace side: per-CPU sampling events, stacks -> named frames. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "collector.h"
#include "log.h"
#include "stacks.h"
#include "untrusted.h"
#include "bpf/cpu.h"
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

struct cpu_priv {
	struct stack_syms *ss;
	struct stack_memo *memo;	/* keys of "counts" already resolved */
	struct bpf_link **links;
	int nlinks;
	unsigned int hz;
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

static int cpu_configure(struct col_run *run, const struct rec_opts *o)
{
	struct cpu_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	run->priv = p;
	p->hz = o->sample_hz ?: CPU_DEFAULT_HZ;
	p->ss = stack_syms_new("cpu");
	p->memo = stack_memo_new(sizeof(struct cpu_key));
	return p->ss && p->memo ? 0 : -ENOMEM;
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

/* A process's first sample (or first after exec): capture its maps now. */
static void cpu_on_event(struct col_run *run, const void *data, size_t len)
{
	struct cpu_priv *p = run->priv;

	/* a new process, or one that exec'd: its maps changed */
	stacks_on_proc_event(p ? p->ss : NULL, data, len, true, "cpu");
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

struct row {
	struct cpu_key k;
	uint64_t count;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return (int)x->k.tgid - (int)y->k.tgid;
}

/* The resolved frames of a row: remembered from an earlier snapshot, or resolved now. */
static const struct stack_memo_row *row_frames(struct cpu_priv *p, int sfd, const struct cpu_key *k)
{
	uint64_t uips[CPU_STACK_DEPTH], kips[CPU_STACK_DEPTH];
	const struct stack_memo_row *have = stack_memo_get(p->memo, k);
	struct stack_memo_row r;

	if (have)
		return have;
	r.nu = stack_read(sfd, k->ustack, uips);
	r.nk = stack_read(sfd, k->kstack, kips);
	r.frames = stack_syms_frames(p->ss, (pid_t)k->tgid, k->kstack, kips, r.nk, k->ustack, uips, r.nu);
	r.complete = k->ustack == -2 || stack_user_complete(r.frames, r.nu, CPU_STACK_DEPTH);
	if (!r.frames || stack_memo_put(p->memo, k, &r)) {
		json_decref(r.frames);
		return NULL;
	}
	json_decref(r.frames);
	return stack_memo_get(p->memo, k);
}

static json_t *cpu_collect(struct col_run *run)
{
	struct cpu_priv *p = run->priv;
	struct cpu_bpf *skel = run->skel;
	int cfd = bpf_map__fd(skel->maps.counts), sfd = bpf_map__fd(skel->maps.stacks);
	uint64_t c[CPU_NCOUNTERS], truncated = 0, omitted = 0, total = 0;
	json_t *o = json_object(), *stacks = json_array(), *procs = json_object();
	struct cpu_key key, prevk;
	bool first = true;
	struct row *rows = NULL;
	size_t n = 0, cap = 0;

	percpu_counters_read(bpf_map__fd(skel->maps.counters), CPU_NCOUNTERS, c);
	stack_syms_round(p->ss);
	while (!bpf_map_get_next_key(cfd, first ? NULL : &prevk, &key)) {
		__u64 v;

		first = false;
		prevk = key;
		if (n == cap) {
			struct row *nr = realloc(rows, (cap = cap ? cap * 2 : 1024) * sizeof(*rows));

			if (!nr)
				break;
			rows = nr;
		}
		rows[n].k = key;
		if (bpf_map_lookup_elem(cfd, &key, &v))
			continue;
		rows[n++].count = v;
	}
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
		m = row_frames(p, sfd, &r->k);
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
		if (r->k.ustack < 0 && r->k.ustack != -2)
			json_object_set_new(s, "user_stack_error", json_integer(r->k.ustack));
		json_array_append_new(stacks, s);
	}
	free(rows);
	json_object_set_new(o, "frequency_hz", json_integer(p->hz));
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
	.skel = &cpu_skel,
	.configure = cpu_configure,
	.start = cpu_start,
	.on_event = cpu_on_event,
	.collect = cpu_collect,
	.stop = cpu_stop,
	.report_event = cpu_report_event,
	.report_snapshot = stacks_report_snapshot,
	.render_text = cpu_render_text,
};
