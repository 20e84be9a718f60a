// SPDX-License-Identifier: GPL-2.0
/* offcpu collector, userspace side: blocked time by stack, and who woke long blocks. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "cmd.h"
#include "col_offcpu.h"
#include "collector.h"
#include "log.h"
#include "stacks.h"
#include "untrusted.h"
#include "bpf/offcpu.h"
#include "offcpu.skel.h"

/*
 * 1 ms: below it blocks are mostly lock handoffs and pipe ping-pong that
 * cost the switch hook a stack walk each without changing a profile
 * (perf's offcputime examples use the same bound).
 */
#define OFFCPU_DEFAULT_MIN_BLOCK_NS 1000000ULL
#define OFFCPU_DEFAULT_WAKER_MIN_NS 10000000ULL
#define OFFCPU_MAX_STACKS_JSON 2000	/* as CPU_MAX_STACKS_JSON */
#define OFFCPU_MAX_WAKERS_JSON 1000
#define OFFCPU_MAX_PROCS_JSON 512

enum { H_SWITCH, H_WAKEUP, H_SYS_EXIT, H_EXIT, H_COUNT };

/* tp_btf only for the scheduler hooks: they need task pointers (storage, task stacks) */
static const struct hook_spec offcpu_hooks[H_COUNT] = {
	[H_SWITCH] = { "sched:sched_switch", M(HOOK_TP_BTF), false,
		       "blocked time and kernel stacks", .progs = "offcpu_switch" },
	[H_WAKEUP] = { "sched:sched_waking", M(HOOK_TP_BTF), true,
		       "the waker's stacks for long blocks", .progs = "offcpu_waking" },
	[H_SYS_EXIT] = { "raw_syscalls:sys_exit", M(HOOK_TP_BTF) | M(HOOK_RAW_TP), false,
			 "user stacks of blocks", .progs = "offcpu_sys_exit" },
	[H_EXIT] = { "sched:sched_process_exit", M(HOOK_TP_BTF) | M(HOOK_RAW_TP), true,
		     "blocks pending when a thread exits (else every system call pays a lookup)",
		     .progs = "offcpu_exit" },
};

struct offcpu_opts {
	uint64_t min_block_ns, waker_min_ns;
};

static const struct offcpu_opts offcpu_defaults = {
	OFFCPU_DEFAULT_MIN_BLOCK_NS, OFFCPU_DEFAULT_WAKER_MIN_NS,
};

static const struct col_option offcpu_options[] = {
	{ "min-block", true, "offcpu: count blocks at least this long (default 1ms)" },
	{ "waker-min", true, "offcpu: take the waker's stacks for blocks this long (default 10ms)" },
	{ NULL },
};

static int offcpu_set_option(void *opts, const char *name, const char *arg)
{
	struct offcpu_opts *op = opts;
	uint64_t v;

	if (parse_duration(arg, &v) || v == 0)
		return -EINVAL;
	if (!strcmp(name, "min-block"))
		op->min_block_ns = v;
	else if (!strcmp(name, "waker-min"))
		op->waker_min_ns = v;
	else
		return -EINVAL;
	return 0;
}

void offcpu_thresholds(const struct rec_opts *o, __u64 *min_block_ns, __u64 *waker_min_ns)
{
	int idx = collector_index(collector_find("offcpu"));
	const struct offcpu_opts *op = idx >= 0 && o->col_opts[idx] ? o->col_opts[idx] : &offcpu_defaults;

	*min_block_ns = op->min_block_ns;
	*waker_min_ns = op->waker_min_ns;
}

COLLECTOR_SKEL(offcpu);

/* Its only events are process announcements. */
static uint32_t offcpu_ring_bytes(const void *opts)
{
	(void)opts;
	return STACKS_RING_BYTES;
}

struct offcpu_priv {
	struct stack_syms *ss;
	struct stack_memo *memo;	/* keys of "blocked" already resolved */
};

static int offcpu_configure(struct col_run *run, const struct rec_opts *o)
{
	const struct offcpu_opts *op = run->opts;
	struct offcpu_bpf *skel = run->skel;
	struct offcpu_priv *p = calloc(1, sizeof(*p));
	struct timespec tick;

	(void)o;
	skel->rodata->offcpu_min_block_ns = op->min_block_ns;
	skel->rodata->offcpu_waker_min_ns = op->waker_min_ns;
	/* the coarse clock's resolution is the kernel's tick, a jiffy */
	if (!clock_getres(CLOCK_MONOTONIC_COARSE, &tick) && !tick.tv_sec && tick.tv_nsec)
		skel->rodata->tick_ns = tick.tv_nsec;
	/* sched's object made the switch-side maps: its sched_switch program does this part */
	if (collector_shared_fd("offcpu_blocked") >= 0)
		hook_off(run, H_SWITCH, "done by sched's sched_switch program (one program for both)");
	if (!p)
		return -ENOMEM;
	run->priv = p;
	p->ss = stack_syms_new("offcpu");
	p->memo = stack_memo_new(sizeof(struct offcpu_key));
	return p->ss && p->memo ? 0 : -ENOMEM;
}

/* Served by sched's program, the hook loses nothing: "not needed", not "unavailable". */
static int offcpu_prepare(struct col_run *run, const struct rec_opts *o)
{
	(void)o;
	if (run->hooks[H_SWITCH].off)
		run->hooks[H_SWITCH].not_needed = true;
	return 0;
}

static void offcpu_stop(struct col_run *run)
{
	struct offcpu_priv *p = run->priv;

	if (p) {
		stack_memo_free(p->memo);
		stack_syms_free(p->ss);
		free(p);
	}
	run->priv = NULL;
}

static void offcpu_on_event(struct col_run *run, const void *data, size_t len)
{
	struct offcpu_priv *p = run->priv;

	stacks_on_proc_event(p ? p->ss : NULL, data, len, false, "offcpu");
}

/* ---- collect ---------------------------------------------------------------- */

struct ctx {
	struct stack_syms *ss;
	struct stack_memo *memo;
	int stacks_fd, kstacks_fd;
};

static int ustack_read(int fd, __s32 id, uint64_t *ips)
{
	int n = 0;

	if (id < 0 || bpf_map_lookup_elem(fd, &id, ips))
		return 0;
	while (n < OFFCPU_USTACK_DEPTH && ips[n])
		n++;
	return n;
}

/*
 * Frames of a blocked task, kernel stack (by hash) then user stack:
 * remembered from an earlier snapshot, or resolved now. NULL without memory.
 */
static const struct stack_memo_row *blocked_frames(const struct ctx *c, const struct offcpu_key *k)
{
	const struct stack_memo_row *have = stack_memo_get(c->memo, k);
	uint64_t uips[OFFCPU_USTACK_DEPTH];
	struct offcpu_kstack ks = {};
	struct stack_memo_row r = {};

	if (have)
		return have;
	r.nu = ustack_read(c->stacks_fd, k->ustack, uips);
	if (k->kstack && !bpf_map_lookup_elem(c->kstacks_fd, &k->kstack, &ks))
		while (r.nk < OFFCPU_KSTACK_DEPTH && ks.ips[r.nk])
			r.nk++;
	r.frames = stack_syms_frames(c->ss, (pid_t)k->tgid, (int64_t)(k->kstack >> 1),
				     (const uint64_t *)ks.ips, r.nk, k->ustack, uips, r.nu);
	r.complete = k->ustack == OFFCPU_NO_USTACK ||
		     (k->ustack >= 0 && stack_user_complete(r.frames, r.nu, OFFCPU_USTACK_DEPTH));
	if (!r.frames || stack_memo_put(c->memo, k, &r)) {
		json_decref(r.frames);
		return NULL;
	}
	json_decref(r.frames);
	return stack_memo_get(c->memo, k);
}

static bool starts_with(const char *s, const char *p)
{
	return s && !strncmp(s, p, strlen(p));
}

/*
 * The waker's stacks, without the frames of the tracing itself (the BPF
 * program, the tracepoint). A wakeup from an interrupt (a timer ending a
 * sleep) ran on whatever task it interrupted: its user stack says nothing
 * about the wakeup, so only the kernel frames are kept.
 */
static json_t *waker_frames(const struct ctx *c, const struct offcpu_wkey *w, bool *irq)
{
	uint64_t uips[OFFCPU_USTACK_DEPTH], kips[OFFCPU_USTACK_DEPTH];
	int nu = ustack_read(c->stacks_fd, w->waker_ustack, uips);
	int nk = ustack_read(c->stacks_fd, w->waker_kstack, kips);
	json_t *f, *a;
	size_t i;

	a = stack_syms_frames(c->ss, (pid_t)w->waker_tgid, w->waker_kstack, kips, nk, -1, NULL, 0);
	*irq = false;
	while (json_array_size(a)) {
		const char *s = json_string_value(json_object_get(json_array_get(a, 0), "sym"));

		/* the tracing, then the wakeup machinery: what is left is who woke */
		if (!starts_with(s, "bpf_") && !starts_with(s, "__bpf_") && !starts_with(s, "__traceiter_") &&
		    !starts_with(s, "trace_") && !starts_with(s, "ttwu_") && !starts_with(s, "try_to_wake_up") &&
		    !starts_with(s, "wake_up_") && !starts_with(s, "__wake_up"))
			break;
		json_array_remove(a, 0);
	}
	json_array_foreach(a, i, f) {
		const char *s = json_string_value(json_object_get(f, "sym"));

		if (starts_with(s, "asm_sysvec_") || starts_with(s, "asm_common_interrupt") ||
		    starts_with(s, "__irq_exit_rcu") || starts_with(s, "hrtimer_interrupt"))
			*irq = true;
	}
	if (*irq || !nu)
		return a;
	/* the waker's user stack resolves only if its maps were captured */
	if (w->waker_tgid > 1)
		stack_syms_capture(c->ss, (pid_t)w->waker_tgid, false);
	json_array_extend(a, f = stack_syms_frames(c->ss, (pid_t)w->waker_tgid, -1, NULL, 0,
						   w->waker_ustack, uips, nu));
	json_decref(f);
	return a;
}

struct brow {
	struct offcpu_wkey k;	/* blocked only: waker fields zero */
	struct offcpu_val v;
};

static int by_ns_desc(const void *a, const void *b)
{
	const struct brow *x = a, *y = b;

	if (x->v.blocked_ns != y->v.blocked_ns)
		return x->v.blocked_ns < y->v.blocked_ns ? 1 : -1;
	return (int)x->k.blocked.tgid - (int)y->k.blocked.tgid;
}

/* Every entry of a hash keyed by ksize bytes (blocked: offcpu_key, wakers: offcpu_wkey). */
static struct brow *read_rows(int fd, size_t ksize, size_t *n_out)
{
	struct offcpu_wkey key = {}, prev = {};
	struct brow *rows = NULL;
	size_t n = 0, cap = 0;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &prev, &key)) {
		first = false;
		memcpy(&prev, &key, ksize);
		if (n == cap) {
			struct brow *nr = realloc(rows, (cap = cap ? cap * 2 : 256) * sizeof(*rows));

			if (!nr)
				break;
			rows = nr;
		}
		memset(&rows[n], 0, sizeof(rows[n]));
		memcpy(&rows[n].k, &key, ksize);
		if (!bpf_map_lookup_elem(fd, &key, &rows[n].v))
			n++;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), by_ns_desc);
	*n_out = n;
	return rows;
}

static json_t *offcpu_collect(struct col_run *run)
{
	const struct offcpu_opts *op = run->opts;
	struct offcpu_bpf *skel = run->skel;
	struct offcpu_priv *p = run->priv;
	struct ctx c = { p->ss, p->memo, bpf_map__fd(skel->maps.stacks), bpf_map__fd(skel->maps.offcpu_kstacks) };
	uint64_t cnt[OFFCPU_NCOUNTERS], total = 0, truncated = 0, omitted = 0;
	json_t *o = json_object(), *stacks = json_array(), *wakers = json_array(), *procs = json_object();
	struct brow *rows;
	size_t n, i;

	percpu_counters_read(bpf_map__fd(skel->maps.offcpu_counters), OFFCPU_NCOUNTERS, cnt);
	stack_syms_round(c.ss);
	rows = read_rows(bpf_map__fd(skel->maps.offcpu_blocked), sizeof(struct offcpu_key), &n);
	for (i = 0; i < n; i++) {
		const struct offcpu_key *k = &rows[i].k.blocked;
		const struct stack_memo_row *m;
		char comm[16];
		json_t *s;

		untrusted_copy(comm, sizeof(comm), k->comm, 16);
		total += rows[i].v.blocked_ns;
		if (!run->periodic) {
			stacks_proc_add(procs, k->tgid, comm, "blocked_ns", rows[i].v.blocked_ns);
			stacks_proc_add(procs, k->tgid, comm, "blocks", rows[i].v.count);
		}
		if (i >= OFFCPU_MAX_STACKS_JSON) {
			omitted += rows[i].v.blocked_ns;
			continue;
		}
		m = blocked_frames(&c, k);
		if (!m)
			continue;
		if (!m->complete)
			truncated += rows[i].v.blocked_ns;
		if (run->periodic)
			continue;
		s = json_pack("{s:I, s:s, s:I, s:I, s:I, s:b, s:O}", "pid", (json_int_t)k->tgid,
			      "comm", comm, "blocked_ns", (json_int_t)rows[i].v.blocked_ns,
			      "count", (json_int_t)rows[i].v.count, "user_frames", (json_int_t)m->nu,
			      "truncated", !m->complete, "frames", m->frames);
		if (k->ustack == OFFCPU_USTACK_MISSED)
			json_object_set_new(s, "user_stack", json_string("not captured: blocked again before returning to user space"));
		else if (k->ustack == OFFCPU_USTACK_EXITED)
			json_object_set_new(s, "user_stack", json_string("not captured: the thread exited before returning to user space"));
		json_array_append_new(stacks, s);
	}
	free(rows);
	/* wakers: only in the final report (no counters come from them) */
	rows = run->periodic ? NULL : read_rows(bpf_map__fd(skel->maps.offcpu_wakers), sizeof(struct offcpu_wkey), &n);
	for (i = 0; rows && i < n && i < OFFCPU_MAX_WAKERS_JSON; i++) {
		const struct offcpu_wkey *w = &rows[i].k;
		const struct stack_memo_row *m = blocked_frames(&c, &w->blocked);
		char comm[16], wcomm[16];
		json_t *wf;
		bool irq;

		if (!m)
			continue;
		untrusted_copy(comm, sizeof(comm), w->blocked.comm, 16);
		untrusted_copy(wcomm, sizeof(wcomm), w->waker_comm, 16);
		wf = waker_frames(&c, w, &irq);
		json_array_append_new(wakers, json_pack("{s:I, s:s, s:I, s:I, s:O, s:I, s:s, s:b, s:o}",
			"pid", (json_int_t)w->blocked.tgid, "comm", comm,
			"blocked_ns", (json_int_t)rows[i].v.blocked_ns, "count", (json_int_t)rows[i].v.count,
			"frames", m->frames,
			"waker_pid", (json_int_t)(irq ? 0 : w->waker_tgid),
			"waker_comm", irq ? "[interrupt]" : wcomm, "waker_in_interrupt", irq, "waker_frames", wf));
	}
	free(rows);
	json_object_set_new(o, "min_block_ns", json_integer((json_int_t)op->min_block_ns));
	json_object_set_new(o, "waker_min_ns", json_integer((json_int_t)op->waker_min_ns));
	json_object_set_new(o, "blocked_ns", json_integer((json_int_t)total));
	json_object_set_new(o, "blocks", json_integer((json_int_t)cnt[OFFCPU_C_BLOCKS]));
	json_object_set_new(o, "short_blocks", json_integer((json_int_t)cnt[OFFCPU_C_SHORT]));
	json_object_set_new(o, "lost_blocks", json_integer((json_int_t)cnt[OFFCPU_C_KEYS_FULL]));
	json_object_set_new(o, "user_stacks_missed", json_integer((json_int_t)cnt[OFFCPU_C_MISSED]));
	json_object_set_new(o, "stack_errors", json_pack("{s:I, s:I}",
		"user", (json_int_t)cnt[OFFCPU_C_USTACK_ERR], "kernel", (json_int_t)cnt[OFFCPU_C_KSTACK_ERR]));
	json_object_set_new(o, "truncated_ns", json_integer((json_int_t)truncated));
	json_object_set_new(o, "omitted_ns", json_integer((json_int_t)omitted));
	json_object_set_new(o, "named_frames", json_integer((json_int_t)stack_syms_named(c.ss)));
	json_object_set_new(o, "unnamed_frames", stack_syms_unnamed_json(c.ss));
	if (!run->periodic) {
		json_object_set_new(o, "processes", stacks_procs_sorted(procs, "blocked_ns", OFFCPU_MAX_PROCS_JSON));
		json_object_set_new(o, "stacks", stacks);
		json_object_set_new(o, "build_ids", stack_syms_build_ids_json(c.ss));
		json_object_set_new(o, "wakers", wakers);
	} else {
		json_decref(procs);
		json_decref(stacks);
		json_decref(wakers);
	}
	return o;
}

/* ---- report ----------------------------------------------------------------- */

static int offcpu_report_event(json_t *col, const void *data, size_t len,
			        const struct report_opts *ro)
{
	(void)ro;
	return stacks_report_proc_event(col, data, len);
}

/* The first named user frame of a leaf-first stack (else the first named one). */
static const char *first_user_sym(const json_t *frames)
{
	const char *any = NULL;
	const json_t *f;
	size_t i;

	json_array_foreach(frames, i, f) {
		const char *s = json_string_value(json_object_get(f, "sym"));

		if (!s)
			continue;
		if (!json_is_true(json_object_get(f, "kernel")))
			return s;
		if (!any)
			any = s;
	}
	return any ? any : "?";
}

static void offcpu_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	uint64_t total = json_u64(col, "blocked_ns");
	const json_t *s, *pr;
	char b[2][16];
	size_t i;

	fprintf(out, "Off-CPU: %s blocked in %" PRIu64 " blocks of at least %s (%" PRIu64 " shorter ones not counted)\n",
		fmt_ns(total, b[0], sizeof(b[0])), json_u64(col, "blocks"),
		fmt_ns(json_u64(col, "min_block_ns"), b[1], sizeof(b[1])), json_u64(col, "short_blocks"));
	if (!total)
		return;
	stacks_render_summary(col, out, total, "truncated_ns");
	fprintf(out, "\nTop processes by blocked time:\n  %-7s %-16s %10s %8s %7s\n", "PID", "COMM",
		"blocked", "blocks", "share");
	json_array_foreach(json_object_get(col, "processes"), i, pr) {
		if ((int)i >= ro->top)
			break;
		fprintf(out, "  %-7" PRIu64 " %-16s %10s %8" PRIu64 " %6.1f%%\n", json_u64(pr, "pid"),
			json_string_value(json_object_get(pr, "comm")) ?: "?",
			fmt_ns(json_u64(pr, "blocked_ns"), b[0], sizeof(b[0])), json_u64(pr, "blocks"),
			100.0 * json_u64(pr, "blocked_ns") / total);
	}
	fprintf(out, "\nTop stacks by blocked time (leaf first):\n");
	json_array_foreach(json_object_get(col, "stacks"), i, s) {
		if ((int)i >= ro->top)
			break;
		fmt_ns(json_u64(s, "blocked_ns"), b[0], sizeof(b[0]));
		stacks_render_one(s, out, 100.0 * json_u64(s, "blocked_ns") / total, b[0], json_u64(s, "count"));
	}
	if (json_array_size(json_object_get(col, "wakers")))
		fprintf(out, "\nLong blocks (at least %s) and who ended them:\n",
			fmt_ns(json_u64(col, "waker_min_ns"), b[0], sizeof(b[0])));
	json_array_foreach(json_object_get(col, "wakers"), i, s) {
		if ((int)i >= ro->top)
			break;
		fprintf(out, "  %s in %" PRIu64 " blocks: %s (pid %" PRIu64 " %s) <- woken by %s (pid %" PRIu64 " %s)\n",
			fmt_ns(json_u64(s, "blocked_ns"), b[0], sizeof(b[0])), json_u64(s, "count"),
			first_user_sym(json_object_get(s, "frames")), json_u64(s, "pid"),
			json_string_value(json_object_get(s, "comm")) ?: "?",
			first_user_sym(json_object_get(s, "waker_frames")), json_u64(s, "waker_pid"),
			json_string_value(json_object_get(s, "waker_comm")) ?: "?");
	}
}

const struct collector col_offcpu = {
	.name = "offcpu",
	.id = 6,
	.help = "off-CPU profile: time blocked by stack, and the wakers of long blocks",
	.hooks = offcpu_hooks,
	.nhooks = H_COUNT,
	.options = offcpu_options,
	.opts_size = sizeof(struct offcpu_opts),
	.opts_default = &offcpu_defaults,
	.set_option = offcpu_set_option,
	.skel = &offcpu_skel,
	.shared_maps = OFFCPU_SHARED_MAPS,
	.ring_bytes = offcpu_ring_bytes,
	.configure = offcpu_configure,
	.prepare = offcpu_prepare,
	.on_event = offcpu_on_event,
	.collect = offcpu_collect,
	.stop = offcpu_stop,
	.report_event = offcpu_report_event,
	.report_snapshot = stacks_report_snapshot,
	.render_text = offcpu_render_text,
};
