/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stacks captured by BPF (stack map ids) turned into named frames, shared
 * by the cpu, offcpu and alloc collectors: one symbol view per process,
 * captured while it lives, one kallsyms, and a cache per (process, stack).
 */
#ifndef DISCO_STACKS_H
#define DISCO_STACKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>
#include "syms.h"

struct stack_syms;

/*
 * The events ring a stack collector needs when its only events are
 * process announcements (32 bytes each: 16k of them), against 4 MiB
 * for collectors that stream, whose pages all count in the recorder's
 * RSS.
 */
#define STACKS_RING_BYTES (512u << 10)

/* Loads /proc/kallsyms now (a warning if it cannot, or if it is hidden). */
struct stack_syms *stack_syms_new(const char *who);
void stack_syms_free(struct stack_syms *ss);

/*
 * A process seen for the first time, or again after an exec (refresh):
 * read its maps and load the symbols of its binaries and JIT map now, so
 * that its stacks resolve after it exits. Its cached stacks are dropped
 * on refresh. 0 or -errno (the process is already gone).
 */
int stack_syms_capture(struct stack_syms *ss, pid_t pid, bool refresh);
/* The captured view of pid (its maps), or NULL. */
struct proc_syms *stack_syms_proc(struct stack_syms *ss, pid_t pid);

/*
 * Frames of one sample, leaf first: the kernel stack (kips, nk) then the
 * user stack (uips, nu) of pid; each frame {"sym", "module", "offset"}
 * plus "kernel": true for kernel frames. ukey/kkey (stack map ids, or -1)
 * let the result of one stack be reused; pass -1 when there is none.
 * A new reference.
 */
json_t *stack_syms_frames(struct stack_syms *ss, pid_t pid,
			  int64_t kkey, const uint64_t *kips, int nk,
			  int64_t ukey, const uint64_t *uips, int nu);

/*
 * A new round of resolving (one snapshot): a frame outside a process's
 * captured maps re-reads them at most once per round.
 */
void stack_syms_round(struct stack_syms *ss);

/*
 * Rows of a collector's stack table (keyed by its BPF map key) already
 * resolved: a snapshot resolves only the keys it has not seen. Keys are
 * never removed (the BPF maps only grow during a session).
 */
struct stack_memo_row {
	json_t *frames;		/* leaf first, as stack_syms_frames() */
	int nu, nk;		/* user and kernel frames */
	bool complete;		/* stack_user_complete() */
};
struct stack_memo;
struct stack_memo *stack_memo_new(size_t key_size);
void stack_memo_free(struct stack_memo *m);
/* The row of key, or NULL before stack_memo_put(). */
const struct stack_memo_row *stack_memo_get(const struct stack_memo *m, const void *key);
/* Remember row (a new reference to its frames is taken). 0 or -ENOMEM. */
int stack_memo_put(struct stack_memo *m, const void *key, const struct stack_memo_row *row);

/*
 * A user stack unwound to a thread's first function (_start, clone,
 * start_thread, ...) is complete; one that stops before, or fills the
 * depth limit, was cut (frame pointers missing, or too deep).
 */
bool stack_user_complete(const json_t *frames, int nu, int max_depth);

/* {"stripped": n, "process_gone": n, ...}: unnamed frames by reason. */
json_t *stack_syms_unnamed_json(const struct stack_syms *ss);
/* Named frames resolved, for the share the report shows. */
uint64_t stack_syms_named(const struct stack_syms *ss);
/* {"module": "build-id hex"} of the files frames were resolved in, kernel too. */
json_t *stack_syms_build_ids_json(const struct stack_syms *ss);

/* "comm;outermost;...;leaf" (kernel frames suffixed "_[k]"), into a new string. */
char *stack_folded(const char *comm, const json_t *frames);

/* Add v to key of the row of pid in procs ({"pid", "comm", key...}). */
void stacks_proc_add(json_t *procs, uint32_t pid, const char *comm, const char *key, uint64_t v);
/* The rows of procs, largest key first, at most max. Steals procs. */
json_t *stacks_procs_sorted(json_t *procs, const char *key, size_t max);
/*
 * A stacks_proc_event (bpf/stacks.h) from the ring: capture the process
 * (refresh: again, as after an exec). Short or foreign records are ignored.
 */
void stacks_on_proc_event(struct stack_syms *ss, const void *data, size_t len, bool refresh,
			  const char *who);
/* The same record read back from a session: counted in "processes_seen". */
int stacks_report_proc_event(json_t *col, const void *data, size_t len);

/*
 * A snapshot read back: keep its lists ("processes", "stacks", "wakers",
 * "build_ids") when it has them, so a session that ends on a periodic
 * snapshot without them (killed) reports those of its last full one. 0.
 */
int stacks_report_snapshot(json_t *col, const json_t *snap, uint64_t t_ns);

/* Text report helpers shared by the stack collectors. */
/*
 * Truncated share (truncated_key over total) and unnamed frames of a
 * collector object with "stacks".
 */
void stacks_render_summary(const json_t *col, FILE *out, uint64_t total, const char *truncated_key);
/* One stack: share, value with its unit, process, then its frames. */
void stacks_render_one(const json_t *s, FILE *out, double pct, const char *unit, uint64_t value);

#endif
