/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The collector interface. A collector is bpf/<name>.bpf.c + bpf/<name>.h
 * (event ABI) + user/col_<name>.c, and one row in the table of collector.c.
 *
 * Record side: start() opens its skeleton, sets rodata from rec_opts,
 * chooses hooks (probe_choose + hook_set_autoload), loads and attaches.
 * The generic loop owns the ring buffers: every event goes to the session
 * file as (collector id, bytes) and to on_event() if set. collect() reads
 * the BPF maps into JSON (histograms via hist_to_json) and is called
 * periodically (STATE blocks, `disco top`, `disco serve`) and at the end.
 *
 * Report side: report_event() validates and folds one recorded event into
 * the collector's report object (events come from an untrusted file);
 * render_text() prints it. Collectors never print on their own.
 */
#ifndef DISCO_COLLECTOR_H
#define DISCO_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>
#include <bpf/libbpf.h>
#include "probe.h"

#define MAX_FILTER_PIDS 64	/* -p options; the BPF filter map also holds COMMAND's children */
#define MAX_HOOKS 16
#define DEFAULT_RING_BYTES (4u << 20)	/* the size bpf/common.bpf.h declares */

struct rec_opts {
	pid_t pids[MAX_FILTER_PIDS];	/* -p (process ids, tgids) */
	int npids;
	pid_t target_pid;		/* child started for -- COMMAND, or 0 */
	const char *cgroup_path;	/* --cgroup */
	uint64_t cgroup_id;		/* resolved from cgroup_path */
	char comm[16];			/* --comm */
	uint64_t min_latency_ns;	/* --min-latency, 0: collector default */
	unsigned int ring_bytes;	/* ring buffer size per collector */
	int bpf_stats;			/* --bpf-stats: enum bpf_stats_mode */
};

/*
 * BPF run-time statistics cost every program run two clock reads on the
 * whole machine while on. Sampled: on for STATS_WINDOW_NS of every
 * STATS_PERIOD_NS (recorder.c), the counts scaled to the session.
 */
enum bpf_stats_mode { BPF_STATS_SAMPLED, BPF_STATS_ON, BPF_STATS_OFF };

/* One program's counters, added up over the windows statistics were on. */
struct prog_acc {
	uint64_t cnt, ns;	/* closed windows */
	uint64_t cnt0, ns0;	/* the kernel's counters when the window opened */
};

/* Flags a collector adds to record/top/serve (--disk, --port, ...). */
struct col_option {
	const char *name;	/* long option, without "--" */
	bool has_arg;
	const char *help;	/* one line for --help */
};

struct col_run {
	const struct collector *col;
	void *skel;			/* the collector's skeleton */
	struct bpf_object *obj;		/* for program stats and the drops map */
	int ring_fd;			/* events ring buffer map fd, -1 if none */
	struct hook_choice hooks[MAX_HOOKS];	/* indexed like col->hooks */
	uint64_t events;		/* counted by the loop */
	void *priv;			/* collector's own userspace state */
	struct recorder *rec;		/* owning recorder (loop-private) */
	struct prog_acc *progs;		/* per program of obj, in its order */
	int nprogs;
	/* the program hooks_apply() kept for each hook, NULL if none */
	const struct bpf_program *hook_progs[MAX_HOOKS];
};

struct report_opts {
	int top;			/* --top N */
	uint64_t start_mono_ns;		/* session start, CLOCK_MONOTONIC */
};

struct collector {
	const char *name;
	uint16_t id;			/* stable, stored in session files */
	const char *help;
	bool default_on;		/* in the default -e set */
	bool needs_target;		/* requires -p or -- COMMAND */
	const struct hook_spec *hooks;
	size_t nhooks;
	const struct col_option *options;	/* NULL-terminated by name, or NULL */
	int (*set_option)(const char *name, const char *arg);

	int (*start)(struct col_run *run, const struct rec_opts *o);
	/*
	 * optional: the -- COMMAND child (o->target_pid, forked but not yet
	 * exec'd when start() ran) has exec'd and its loader has mapped its C
	 * library; it is held there until this returns. For collectors that
	 * probe the target's own libraries (uprobes).
	 */
	int (*target_loaded)(struct col_run *run, pid_t pid);
	void (*on_event)(struct col_run *run, const void *data, size_t len);
	json_t *(*collect)(struct col_run *run);
	void (*stop)(struct col_run *run);

	int (*report_event)(json_t *col, const void *data, size_t len,
			    const struct report_opts *ro);
	/* optional: after the last event (aggregations over events) */
	void (*report_finish)(json_t *col, const struct report_opts *ro);
	void (*render_text)(const json_t *col, FILE *out, const struct report_opts *ro);
};

extern const struct collector *const collectors[];
extern const size_t ncollectors;

const struct collector *collector_find(const char *name);
const struct collector *collector_by_id(uint16_t id);
/*
 * Parse "-e sched,bio" into a bitmask over collectors[]; NULL or "" is the
 * default set. -EINVAL with a message naming the bad collector.
 */
int collector_parse_list(const char *list, uint64_t *mask);

/*
 * For each hook of c: probe_choose() into ch[i], then hooks_resolve_fallbacks().
 * What `disco check` shows and what start() attaches come from here.
 * -ENOTSUP if a required hook has no usable method (nothing logged).
 */
int hooks_choose(const struct collector *c, struct hook_choice *ch);
/*
 * A hook with a fallback_for whose hook got a method is dropped: method
 * HOOK_NONE, not_needed set, reason saying which hook is used instead.
 */
void hooks_resolve_fallbacks(const struct collector *c, struct hook_choice *ch);
/*
 * hooks_choose() for run->col into run->hooks[], then keep
 * exactly the chosen program of progs[i][] (indexed by enum hook_method;
 * NULL where the object has no such variant) and set autoload false on the
 * others. -ENOTSUP if a required hook has no usable method (message logged).
 */
int hooks_apply(struct col_run *run, struct bpf_program *progs[][HOOK_NMETHODS]);
json_t *hooks_to_json(const struct collector *c, const struct hook_choice *hooks);

/*
 * Generic part of every collector's start(): rodata filters are set by
 * COMMON_RODATA() before load; after load fill_pid_filter() fills the
 * filter_pids map. Ring size is applied to the "events" map before load.
 */
#define COMMON_RODATA(skel, o) do {					\
	(skel)->rodata->filter_pid_on = (o)->npids > 0 || (o)->target_pid > 0; \
	(skel)->rodata->filter_cgroup_id = (o)->cgroup_id;		\
	memcpy((void *)(skel)->rodata->filter_comm, (o)->comm, 16);	\
	(skel)->rodata->filter_comm_on = (o)->comm[0] != 0;		\
	(skel)->rodata->ring_wakeup_bytes = ((o)->ring_bytes ?: DEFAULT_RING_BYTES) / 8; \
	(skel)->rodata->filter_follow_forks = (o)->target_pid > 0;	\
	follow_forks_select((skel)->obj, o);				\
} while (0)
/* Load the follow_fork variant this kernel supports, only with a COMMAND. */
void follow_forks_select(struct bpf_object *obj, const struct rec_opts *o);
int fill_pid_filter(struct bpf_map *map, const struct rec_opts *o);
int set_ring_size(struct bpf_map *map, const struct rec_opts *o);
/*
 * Direct-mapped slot tables: *use says whether the kernel can claim slots
 * (BPF cmpxchg). The environment variable env_name=N (a power of two, at
 * most *mask + 1) uses only N slots, so that tests can make entries
 * collide and take the fallback hash, which a real workload rarely does;
 * 0 uses none, as on kernels without BPF cmpxchg.
 */
int slots_setup(const char *col, const char *env_name, volatile __u32 *mask,
		volatile bool *use);

/* Sum of the per-CPU "drops" counter of a collector's object. */
uint64_t collector_drops(const struct col_run *run);
/*
 * Statistics windows: open remembers each program's kernel counters, close
 * adds what they counted since. collector_prog_stats(): per program name,
 * run_count and run_time_ns over the windows (plus the open one's part so
 * far), both multiplied by scale, ns_per_run, and the unscaled
 * measured_runs and measured_run_time_ns (these only grow: counters).
 */
int collector_prog_window(struct col_run *run, bool open);
json_t *collector_prog_stats(const struct col_run *run, bool open, double scale);

/* Small helpers shared by collectors' report code. */
/* "  label  count  p50  p90  p99  p99.9  max" with a header when label is NULL */
void report_print_latency_row(FILE *out, const char *label, const json_t *hist);
/* Terminal histogram (power-of-two rows with bars) of a hist_to_json object. */
void report_print_hist(FILE *out, const json_t *hist, const char *unit);
/* Integer member or 0. */
uint64_t json_u64(const json_t *o, const char *key);
/* A non-empty array of strings (a symbolized stack, a list of names)? */
bool json_is_string_array(const json_t *v);
/* Append to a report array, keeping at most max items (counts the rest). */
void report_append_bounded(json_t *col, const char *key, json_t *item, size_t max);
const char *fmt_ns(uint64_t ns, char *buf, size_t len);
const char *fmt_bytes(uint64_t bytes, char *buf, size_t len);

#endif
