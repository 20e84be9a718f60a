// SPDX-License-Identifier: GPL-2.0
/* sched collector, userspace side: load, read maps into JSON, render. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "col_offcpu.h"
#include "col_sched.h"
#include "collector.h"
#include "hist.h"
#include "log.h"
#include "untrusted.h"
#include "bpf/offcpu.h"
#include "bpf/sched.h"
#include "sched.skel.h"

#define SCHED_DEFAULT_MIN_LATENCY_NS 10000000ULL	/* 10 ms */
#define SCHED_MAX_PROCS_JSON 512
#define SCHED_MAX_OUTLIERS_JSON 10000

enum { H_SWITCH, H_WAKEUP, H_WAKEUP_NEW, H_MIGRATE, H_EXEC, H_COUNT };

/*
 * Group 1: the timestamps of one task must live in one map: tp_btf keeps
 * them in task storage, the fallbacks in a pid map, so switch, wakeup and
 * migrate share a method (exec keeps no per-task state).
 */
static const struct hook_spec sched_hooks[H_COUNT] = {
	[H_SWITCH] = { "sched:sched_switch", HOOK_CHAIN_TP, false,
		       "run-queue latency, context switches",
		       .progs = "sched_switch,sched_offcpu_switch", .group = 1 },
	[H_WAKEUP] = { "sched:sched_wakeup", HOOK_CHAIN_TP, false,
		       "wakeup latency", .progs = "sched_wakeup", .group = 1 },
	[H_WAKEUP_NEW] = { "sched:sched_wakeup_new", HOOK_CHAIN_TP, true,
			   "latency of newly forked tasks",
			   .progs = "sched_wakeup_new", .group = 1 },
	[H_MIGRATE] = { "sched:sched_migrate_task", HOOK_CHAIN_TP, true,
			"migration counts", .progs = "sched_migrate", .group = 1 },
	[H_EXEC] = { "sched:sched_process_exec", HOOK_CHAIN_TP, true,
		     "process names after exec", .progs = "sched_exec" },
};

COLLECTOR_SKEL(sched);

static int sched_configure(struct col_run *run, const struct rec_opts *o)
{
	struct sched_bpf *skel = run->skel;
	int nargs = probe_tp_nargs("sched_switch");

	skel->rodata->min_latency_ns = o->min_latency_ns ?: SCHED_DEFAULT_MIN_LATENCY_NS;
	skel->rodata->switch_has_state = nargs < 0 || nargs >= 4;
	return 0;
}

/*
 * With offcpu in the session and task storage here, one sched_switch
 * program does both collectors' bookkeeping: this object makes offcpu's
 * switch-side maps (offcpu's object reuses them) and loads
 * sched_offcpu_switch_btf instead of sched_switch_btf.
 */
static int sched_prepare(struct col_run *run, const struct rec_opts *o)
{
	int offcpu = collector_index(collector_find("offcpu"));
	bool btf = run->hooks[H_SWITCH].method == HOOK_TP_BTF;
	bool both = btf && offcpu >= 0 && (run->session_mask & (1ULL << offcpu));
	struct sched_bpf *skel = run->skel;
	struct bpf_map *map;

	bpf_map__set_autocreate(skel->maps.task_ts, btf);
	/* the raw_tp and tracepoint programs' per-task state (task_ts's stand-in) */
	bpf_map__set_autocreate(skel->maps.pid_ts, !btf);
	bpf_object__for_each_map(map, run->obj)
		if (!strncmp(bpf_map__name(map), "offcpu_", 7))
			bpf_map__set_autocreate(map, both);
	bpf_program__set_autoload(skel->progs.sched_switch_btf, btf && !both);
	bpf_program__set_autoload(skel->progs.sched_offcpu_switch_btf, both);
	if (both) {
		offcpu_thresholds(o, &skel->rodata->offcpu_min_block_ns,
				  &skel->rodata->offcpu_waker_min_ns);
		log_info("sched: sched_switch program shared with offcpu");
	}
	/*
	 * 4.2 KiB per entry and CPU. Preallocated, the table (16 MiB on 2
	 * CPUs) was zeroed at every session start: ~20 ms of the ~80 ms of
	 * CPU a 1 s -e sched session took here. Where run-time allocation is
	 * safe, entries are made as processes appear instead.
	 */
	if (probe_htab_runtime_alloc())
		bpf_map__set_map_flags(skel->maps.procs,
				       bpf_map__map_flags(skel->maps.procs) | BPF_F_NO_PREALLOC);
	return bpf_map__set_max_entries(skel->maps.procs,
		proc_table_entries(processes_alive(), sizeof(struct sched_proc),
				   libbpf_num_possible_cpus(),
				   bpf_map__max_entries(skel->maps.procs)));
}

/* Sum of the per-CPU "cpu_stats" values. */
static int read_cpu_stats(int fd, struct sched_cpu *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sched_cpu *vals;
	__u32 key = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < ncpu; i++) {
		const struct sched_counters *c = &vals[i].c;

		for (int h = 0; h < SCHED_NHISTS; h++)
			hist_merge(&out->h[h], &vals[i].h[h]);
		out->c.voluntary += c->voluntary;
		out->c.involuntary += c->involuntary;
		out->c.migrations += c->migrations;
		out->c.samples += c->samples;
		out->c.outliers += c->outliers;
		out->c.procs_full += c->procs_full;
	}
out:
	free(vals);
	return err;
}

static int by_wait_desc(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	uint64_t wx = json_u64(json_object_get(x, "runq_latency"), "sum_ns");
	uint64_t wy = json_u64(json_object_get(y, "runq_latency"), "sum_ns");

	if (wx != wy)
		return wx < wy ? 1 : -1;
	return (int)(json_u64(x, "pid") - json_u64(y, "pid"));
}

/* cgroup v2 ids are the inode numbers of the cgroup directories */
static json_t *cg_paths;

static int cg_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char key[32];

	(void)ftw;
	if (type == FTW_D) {
		snprintf(key, sizeof(key), "%" PRIu64, (uint64_t)st->st_ino);
		char clean[PATH_MAX];

		/* cgroup directory names are chosen by whoever may create them */
		untrusted_copy(clean, sizeof(clean), path + strlen("/sys/fs/cgroup"), SIZE_MAX);
		json_object_set_new(cg_paths, key, json_string(clean));
	}
	return 0;
}

struct cg_acc {
	uint64_t id;
	struct hist lat;
	uint64_t procs;
};

static void cg_add(struct cg_acc **cgs, size_t *n, uint64_t id, const struct hist *h)
{
	struct cg_acc *tmp;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*cgs)[i].id == id)
			break;
	if (i == *n) {
		tmp = realloc(*cgs, (*n + 1) * sizeof(**cgs));
		if (!tmp)
			return;
		*cgs = tmp;
		memset(&tmp[i], 0, sizeof(tmp[i]));
		tmp[i].id = id;
		(*n)++;
	}
	hist_merge(&(*cgs)[i].lat, h);
	(*cgs)[i].procs++;
}

static json_t *cgroups_json(struct cg_acc *cgs, size_t n)
{
	json_t *a = json_array();
	char k[32];

	cg_paths = json_object();
	nftw("/sys/fs/cgroup", cg_visit, 16, FTW_PHYS | FTW_MOUNT);
	for (size_t i = 0; i < n; i++) {
		const char *p;

		if (!cgs[i].lat.count)
			continue;
		snprintf(k, sizeof(k), "%" PRIu64, cgs[i].id);
		p = json_string_value(json_object_get(cg_paths, k));
		json_array_append_new(a, json_pack("{s:I, s:s, s:I, s:o}", "cgroup_id", (json_int_t)cgs[i].id,
			"path", p ? (*p ? p : "/") : cgs[i].id ? "(removed)" : "(unknown)",
			"processes", (json_int_t)cgs[i].procs,
			"runq_latency", hist_to_json(&cgs[i].lat, "ns")));
	}
	json_decref(cg_paths);
	cg_paths = NULL;
	return a;
}

/* Per-process table (and per-cgroup sums of it) from the per-CPU hash. */
static void read_procs(int fd, json_t *o)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sched_proc *vals = calloc(ncpu, sizeof(*vals)), v;
	json_t **items = NULL, *a = json_array();
	struct cg_acc *cgs = NULL;
	size_t n = 0, cap = 0, ncg = 0;
	__u32 key, next;
	__u32 *prev = NULL;

	while (vals && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		memset(&v, 0, sizeof(v));
		for (int c = 0; c < ncpu; c++) {
			hist_merge(&v.lat, &vals[c].lat);
			v.voluntary += vals[c].voluntary;
			v.involuntary += vals[c].involuntary;
			v.migrations += vals[c].migrations;
			/* the name set last (at exec) wins over the first seen */
			if (vals[c].comm[0] && (!v.comm[0] || vals[c].comm_ns > v.comm_ns)) {
				memcpy(v.comm, vals[c].comm, sizeof(v.comm));
				v.comm_ns = vals[c].comm_ns;
			}
			if (!v.cgroup_id)
				v.cgroup_id = vals[c].cgroup_id;
		}
		cg_add(&cgs, &ncg, v.cgroup_id, &v.lat);
		if (n == cap) {
			json_t **tmp = realloc(items, (cap = cap ? cap * 2 : 64) * sizeof(*items));

			if (!tmp)
				break;
			items = tmp;
		}
		untrusted_copy(v.comm, sizeof(v.comm), v.comm, sizeof(v.comm));
		items[n++] = json_pack("{s:I, s:s, s:I, s:o, s:I, s:I, s:I}",
			"pid", (json_int_t)key, "comm", v.comm, "cgroup_id", (json_int_t)v.cgroup_id,
			"runq_latency", hist_to_json(&v.lat, "ns"),
			"voluntary_switches", (json_int_t)v.voluntary,
			"involuntary_switches", (json_int_t)v.involuntary,
			"migrations", (json_int_t)v.migrations);
	}
	if (n)
		qsort(items, n, sizeof(*items), by_wait_desc);
	for (size_t i = 0; i < n; i++) {
		if (i < SCHED_MAX_PROCS_JSON)
			json_array_append_new(a, items[i]);
		else
			json_decref(items[i]);
	}
	json_object_set_new(o, "processes", a);
	json_object_set_new(o, "processes_not_listed", json_integer(n > SCHED_MAX_PROCS_JSON ?
				(json_int_t)(n - SCHED_MAX_PROCS_JSON) : 0));
	json_object_set_new(o, "cgroups", cgroups_json(cgs, ncg));
	free(cgs);
	free(items);
	free(vals);
}

static json_t *sched_collect(struct col_run *run)
{
	struct sched_bpf *skel = run->skel;
	static const char *const names[SCHED_NHISTS] = {
		[SCHED_HIST_ALL] = "runq_latency",
		[SCHED_HIST_WAKEUP] = "runq_latency_wakeup",
		[SCHED_HIST_NEW] = "runq_latency_new",
		[SCHED_HIST_PREEMPT] = "runq_latency_preempted",
	};
	struct sched_cpu *cs = malloc(sizeof(*cs));
	json_t *o = json_object();

	if (cs && !read_cpu_stats(bpf_map__fd(skel->maps.cpu_stats), cs)) {
		for (int i = 0; i < SCHED_NHISTS; i++)
			json_object_set_new(o, names[i], hist_to_json(&cs->h[i], "ns"));
		json_object_set_new(o, "switches", json_pack("{s:I, s:I}",
			"voluntary", (json_int_t)cs->c.voluntary,
			"involuntary", (json_int_t)cs->c.involuntary));
		json_object_set_new(o, "migrations", json_integer((json_int_t)cs->c.migrations));
		json_object_set_new(o, "outliers_seen", json_integer((json_int_t)cs->c.outliers));
		json_object_set_new(o, "processes_not_tracked", json_integer((json_int_t)cs->c.procs_full));
	}
	free(cs);
	json_object_set_new(o, "min_latency_ns",
			    json_integer((json_int_t)skel->rodata->min_latency_ns));
	read_procs(bpf_map__fd(skel->maps.procs), o);
	return o;
}

static const char *const kind_names[] = {
	[SCHED_KIND_WAKEUP] = "wakeup",
	[SCHED_KIND_NEW] = "new",
	[SCHED_KIND_PREEMPT] = "preempted",
};

int sched_irq_thread(const char *comm, char *buf, size_t len)
{
	const char *p = comm;
	int irq = 0;

	if (strncmp(p, "irq/", 4))
		return -1;
	for (p += 4; *p >= '0' && *p <= '9' && irq < 100000; p++)
		irq = irq * 10 + (*p - '0');
	if (p == comm + 4 || *p != '-')
		return -1;
	snprintf(buf, len, "%s", p + 1);
	return irq;
}

static int sched_report_event(json_t *col, const void *data, size_t len,
			      const struct report_opts *ro)
{
	struct sched_event ev;
	const struct sched_event *e = &ev;
	char comm[16], prev_comm[16], irq_name[16];
	json_t *o;
	int irq;

	/* records in a session block are only 4-byte aligned: copy first */
	if (len != sizeof(ev))
		return -EBADMSG;
	memcpy(&ev, data, sizeof(ev));
	if (e->type != SCHED_EV_OUTLIER || e->kind > SCHED_KIND_PREEMPT)
		return -EBADMSG;
	untrusted_copy(comm, sizeof(comm), e->comm, sizeof(e->comm));
	untrusted_copy(prev_comm, sizeof(prev_comm), e->prev_comm, sizeof(e->prev_comm));
	o = json_pack("{s:I, s:I, s:I, s:s, s:I, s:I, s:s, s:I, s:I, s:s, s:I}",
		"time_ns", (json_int_t)(e->ts_ns > ro->start_mono_ns ? e->ts_ns - ro->start_mono_ns : 0),
		"pid", (json_int_t)e->tgid, "tid", (json_int_t)e->pid, "comm", comm,
		"cpu", (json_int_t)e->cpu, "latency_ns", (json_int_t)e->latency_ns,
		"kind", kind_names[e->kind],
		"prev_pid", (json_int_t)e->prev_tgid, "prev_tid", (json_int_t)e->prev_pid,
		"prev_comm", prev_comm, "cgroup_id", (json_int_t)e->cgroup_id);
	/* an interrupt handler ran, not a process (irq/NN-name kernel threads) */
	irq = sched_irq_thread(prev_comm, irq_name, sizeof(irq_name));
	if (o && irq >= 0)
		json_object_set_new(o, "prev_irq", json_integer(irq));
	report_append_bounded(col, "outliers", o, SCHED_MAX_OUTLIERS_JSON);
	return 0;
}

/* Who keeps whom waiting: outliers grouped by (victim, task that ran). */
static void sched_report_finish(json_t *col, const struct report_opts *ro)
{
	json_t *outl = json_object_get(col, "outliers"), *agg = json_object(), *e, *v, *a;
	const char *k;
	size_t i;
	char key[64];

	(void)ro;
	json_array_foreach(outl, i, e) {
		snprintf(key, sizeof(key), "%" PRIu64 "/%" PRIu64, json_u64(e, "pid"), json_u64(e, "prev_pid"));
		v = json_object_get(agg, key);
		if (!v) {
			v = json_pack("{s:I, s:s, s:I, s:s, s:I, s:I, s:I}",
				"pid", (json_int_t)json_u64(e, "pid"),
				"comm", json_string_value(json_object_get(e, "comm")) ?: "",
				"neighbour_pid", (json_int_t)json_u64(e, "prev_pid"),
				"neighbour_comm", json_string_value(json_object_get(e, "prev_comm")) ?: "",
				"outliers", (json_int_t)0, "total_latency_ns", (json_int_t)0,
				"max_latency_ns", (json_int_t)0);
			if (json_object_get(e, "prev_irq"))
				json_object_set(v, "neighbour_irq", json_object_get(e, "prev_irq"));
			json_object_set_new(agg, key, v);
		}
		json_object_set_new(v, "outliers", json_integer(json_u64(v, "outliers") + 1));
		json_object_set_new(v, "total_latency_ns",
			json_integer(json_u64(v, "total_latency_ns") + json_u64(e, "latency_ns")));
		if (json_u64(e, "latency_ns") > json_u64(v, "max_latency_ns"))
			json_object_set_new(v, "max_latency_ns", json_integer(json_u64(e, "latency_ns")));
	}
	a = json_array();
	json_object_foreach(agg, k, v)
		json_array_append(a, v);
	json_decref(agg);
	json_object_set_new(col, "neighbours", a);
}

static int by_latency_desc(const void *pa, const void *pb)
{
	uint64_t x = json_u64(*(json_t *const *)pa, "latency_ns");
	uint64_t y = json_u64(*(json_t *const *)pb, "latency_ns");

	return x < y ? 1 : x > y ? -1 : 0;
}

static int by_total_desc(const void *pa, const void *pb)
{
	uint64_t x = json_u64(*(json_t *const *)pa, "total_latency_ns");
	uint64_t y = json_u64(*(json_t *const *)pb, "total_latency_ns");

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Array items sorted by cmp, as a malloc'ed array of borrowed refs. */
static json_t **sorted(const json_t *a, int (*cmp)(const void *, const void *), size_t *n)
{
	json_t **v;

	*n = json_array_size(a);
	v = calloc(*n ?: 1, sizeof(*v));
	if (!v) {
		*n = 0;
		return NULL;
	}
	for (size_t i = 0; i < *n; i++)
		v[i] = json_array_get(a, i);
	qsort(v, *n, sizeof(*v), cmp);
	return v;
}

/*
 * One name per pid in every table: the one the process table holds (taken
 * at fork or exec), with the thread's live name (prctl, pthread_setname)
 * after it where that differs: "stress-ng (stress-ng-cpu)".
 */
static const char *proc_name(const json_t *procs, const json_t *item, const char *pid_key,
			     const char *comm_key, char *buf, size_t len)
{
	const char *live = json_string_value(json_object_get(item, comm_key)) ?: "?";
	uint64_t pid = json_u64(item, pid_key);
	const json_t *p;
	size_t i;

	json_array_foreach(procs, i, p) {
		const char *name = json_string_value(json_object_get(p, "comm"));

		if (json_u64(p, "pid") != pid || !name || !*name)
			continue;
		if (strcmp(name, live))
			snprintf(buf, len, "%s (%s)", name, live);
		else
			snprintf(buf, len, "%s", name);
		return buf;
	}
	snprintf(buf, len, "%s", live);
	return buf;
}

/* "interrupt 24 (virtio0)" for an irq thread, else "PID COMM" as proc_name() */
static void task_label(const json_t *procs, const json_t *o, const char *pid_key,
		       const char *comm_key, const char *irq_key, char *buf, size_t len)
{
	const char *comm = json_string_value(json_object_get(o, comm_key)) ?: "?";
	char name[48];

	if (json_object_get(o, irq_key) && sched_irq_thread(comm, name, sizeof(name)) >= 0)
		snprintf(buf, len, "interrupt %" PRIu64 " (%s)", json_u64(o, irq_key), name);
	else
		snprintf(buf, len, "%" PRIu64 " %s", json_u64(o, pid_key),
			 proc_name(procs, o, pid_key, comm_key, name, sizeof(name)));
}

static void sched_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	const json_t *procs = json_object_get(col, "processes"), *p, *sw;
	size_t i, n;
	json_t **v;
	char b[4][16];

	fprintf(out, "Run-queue latency (time from wakeup or preemption to running):\n");
	report_print_hist(out, json_object_get(col, "runq_latency"), "ns");
	fputc('\n', out);
	report_print_latency_row(out, NULL, NULL);
	report_print_latency_row(out, "all", json_object_get(col, "runq_latency"));
	report_print_latency_row(out, "after wakeup", json_object_get(col, "runq_latency_wakeup"));
	report_print_latency_row(out, "after preemption", json_object_get(col, "runq_latency_preempted"));
	report_print_latency_row(out, "new tasks", json_object_get(col, "runq_latency_new"));
	sw = json_object_get(col, "switches");
	fprintf(out, "\nContext switches: %" PRIu64 " voluntary, %" PRIu64 " involuntary; %" PRIu64 " migrations\n",
		json_u64(sw, "voluntary"), json_u64(sw, "involuntary"), json_u64(col, "migrations"));

	fprintf(out, "\nTop processes by time spent waiting for a CPU:\n");
	fprintf(out, "  %-7s %-16s %9s %9s %9s %9s %9s %9s %9s\n", "PID", "COMM", "total", "waits",
		"p50", "p99", "max", "vol", "invol");
	json_array_foreach(procs, i, p) {
		const json_t *h = json_object_get(p, "runq_latency");

		if ((int)i >= ro->top)
			break;
		fprintf(out, "  %-7" PRIu64 " %-16s %9s %9" PRIu64 " %9s %9s %9s %9" PRIu64 " %9" PRIu64 "\n",
			json_u64(p, "pid"), json_string_value(json_object_get(p, "comm")) ?: "?",
			fmt_ns(json_u64(h, "sum_ns"), b[3], 16), json_u64(h, "count"),
			fmt_ns(json_u64(h, "p50_ns"), b[0], 16), fmt_ns(json_u64(h, "p99_ns"), b[1], 16),
			fmt_ns(json_u64(h, "max_ns"), b[2], 16),
			json_u64(p, "voluntary_switches"), json_u64(p, "involuntary_switches"));
	}

	v = sorted(json_object_get(col, "outliers"), by_latency_desc, &n);
	fprintf(out, "\nOutliers over %s: %zu recorded\n", fmt_ns(json_u64(col, "min_latency_ns"), b[0], 16), n);
	if (n)
		fprintf(out, "  %-10s %-7s %-24s %4s %9s %-10s %s\n", "TIME", "PID", "COMM", "CPU",
			"LATENCY", "AFTER", "RAN INSTEAD (PID COMM)");
	for (i = 0; i < n && (int)i < ro->top; i++) {
		char w[48], r[72];

		task_label(procs, v[i], "prev_pid", "prev_comm", "prev_irq", r, sizeof(r));
		fprintf(out, "  %-10s %-7" PRIu64 " %-24.24s %4" PRIu64 " %9s %-10s %s\n",
			fmt_ns(json_u64(v[i], "time_ns"), b[0], 16), json_u64(v[i], "pid"),
			proc_name(procs, v[i], "pid", "comm", w, sizeof(w)), json_u64(v[i], "cpu"),
			fmt_ns(json_u64(v[i], "latency_ns"), b[1], 16),
			json_string_value(json_object_get(v[i], "kind")) ?: "?", r);
	}
	free(v);

	v = sorted(json_object_get(col, "neighbours"), by_total_desc, &n);
	if (n)
		fprintf(out, "\nNoisy neighbours (who ran while an outlier waited):\n  %-32s %-32s %8s %9s\n",
			"WAITED (PID COMM)", "RAN (PID COMM)", "times", "total");
	for (i = 0; i < n && (int)i < ro->top; i++) {
		char w[72], r[72], wn[48];

		snprintf(w, sizeof(w), "%" PRIu64 " %s", json_u64(v[i], "pid"),
			 proc_name(procs, v[i], "pid", "comm", wn, sizeof(wn)));
		task_label(procs, v[i], "neighbour_pid", "neighbour_comm", "neighbour_irq", r, sizeof(r));
		fprintf(out, "  %-32.32s %-32.32s %8" PRIu64 " %9s\n", w, r, json_u64(v[i], "outliers"),
			fmt_ns(json_u64(v[i], "total_latency_ns"), b[0], 16));
	}
	free(v);
}

const struct collector col_sched = {
	.name = "sched",
	.id = 1,
	.help = "run-queue latency, context switches, migrations, noisy neighbours",
	.default_on = true,
	.hooks = sched_hooks,
	.nhooks = H_COUNT,
	.skel = &sched_skel,
	.shared_maps = OFFCPU_SHARED_MAPS,
	.configure = sched_configure,
	.prepare = sched_prepare,
	.collect = sched_collect,
	.report_event = sched_report_event,
	.report_finish = sched_report_finish,
	.render_text = sched_render_text,
};
