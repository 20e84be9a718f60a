/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The collector interface. A collector is bpf/<name>.bpf.c + bpf/<name>.h
 * (event ABI) + user/col_<name>.c, and one row in the table of collector.c.
 *
 * Record side: one lifecycle (lifecycle.c, collector_start()) opens the
 * skeleton, sets the shared rodata, calls configure(), chooses a method
 * per hook row (finding the programs by name), calls prepare(), loads,
 * fills the pid filter, attaches, then calls start() for what is the
 * collector's own. A collector without a skeleton (no BPF) does all of it
 * in start(). The generic loop owns the ring buffers: every event goes to the session
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
#define MAX_COLLECTORS 64	/* collector masks are 64 bits */
#define MAX_HOOKS 16
#define DEFAULT_RING_BYTES (4u << 20)	/* the size bpf/common.bpf.h declares */

/*
 * The session's one events ring, while the recorder starts collectors:
 * tag is the id of the collector being started (collector_start sets it,
 * COMMON_RODATA puts it in front of its records), fd the ring the first
 * one made (-1 before; the recorder sets it), which collector_start makes
 * the others reuse.
 */
struct ring_share {
	int fd;
	uint16_t tag;
	uint32_t bytes;		/* the session's ring size (collectors_ring_bytes()); 0: default */
};
extern struct ring_share ring_share;

struct rec_opts {
	pid_t pids[MAX_FILTER_PIDS];	/* -p (process ids, tgids) */
	int npids;
	pid_t target_pid;		/* child started for -- COMMAND, or 0 */
	const char *cgroup_path;	/* --cgroup */
	uint64_t cgroup_id;		/* resolved from cgroup_path */
	char comm[16];			/* --comm */
	uint64_t min_latency_ns;	/* --min-latency, 0: collector default */
	unsigned int ring_bytes;	/* the events ring's size (all collectors share it) */
	int bpf_stats;			/* --bpf-stats: enum bpf_stats_mode */
	unsigned int sample_hz;		/* -F: sampling frequency, 0: collector default */
	/*
	 * Each collector's own options (its opts_size bytes), by index in
	 * collectors[]; NULL: the collector's defaults. rec_opts_col()
	 * makes one, rec_opts_release() frees them all.
	 */
	void *col_opts[MAX_COLLECTORS];
	/*
	 * The collector options given, as typed: {"bio": {"disk": ["vda"]},
	 * "tcp": {"ipv4": true}}; NULL: none. Goes into the session's
	 * "filters" so that every report says what was left out.
	 */
	json_t *col_given;
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

/*
 * A program that takes the method of one of the collector's hooks when its
 * own tracepoint exists, without being a hook of its own (a tracepoint
 * older kernels have and newer ones fold into another).
 */
struct hook_companion {
	const char *progs;	/* name stem, variants as for hook_spec.progs */
	const char *event;	/* "kmem:kmalloc_node" */
	unsigned int hook;	/* index of the hook whose method it takes */
};

struct rec_opts;
/* A collector's skeleton as the lifecycle sees it: see COLLECTOR_SKEL(). */
struct col_skel {
	void *(*open)(const struct rec_opts *o, struct bpf_object **obj);
	int (*load)(void *skel);
	int (*attach)(void *skel);
	void (*destroy)(void *skel);
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
	const void *opts;		/* the collector's options (col_opts or its defaults) */
	uint64_t session_mask;		/* the session's collectors (bits of collectors[]) */
	/*
	 * collect() is for a periodic STATE block that another one follows:
	 * what only the final report shows (stack lists) may be left out,
	 * but every counter the intervals use must be there.
	 */
	bool periodic;
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
	size_t opts_size;		/* its options structure, set_option's context */
	const void *opts_default;	/* what it holds when no option was given */
	int (*set_option)(void *opts, const char *name, const char *arg);

	/*
	 * optional: -- COMMAND is about to be forked for this collector to
	 * trace: adjust the environment it and its children inherit (alloc
	 * preloads its library). A failure is the collector's own message.
	 */
	int (*prepare_command)(const void *opts);
	const struct col_skel *skel;	/* NULL: no BPF, start() does all */
	/*
	 * optional, comma-separated: maps of the object that other collectors'
	 * objects declare too (same name and definition) and that one session
	 * makes once: the first object loaded that makes one (autocreate)
	 * shares it, later ones reuse it (collector_shared_fd()).
	 */
	const char *shared_maps;
	/*
	 * optional: the events ring this collector needs with these options
	 * when --ring-size is not given; without it DEFAULT_RING_BYTES. The
	 * ring's pages count in the recorder's RSS, so a collector whose
	 * events are rare (process announcements) asks for less.
	 */
	uint32_t (*ring_bytes)(const void *opts);
	const struct hook_companion *companions;
	size_t ncompanions;
	/* optional: object open, before choosing (rodata; hook_off()) */
	int (*configure)(struct col_run *run, const struct rec_opts *o);
	/* optional: hooks chosen (run->hooks), before load */
	int (*prepare)(struct col_run *run, const struct rec_opts *o);
	/* optional with a skeleton: attached; what is the collector's own */
	int (*start)(struct col_run *run, const struct rec_opts *o);
	/*
	 * optional: the -- COMMAND child (o->target_pid, forked but not yet
	 * exec'd when start() ran) has exec'd and its loader has mapped its C
	 * library; it is held there until this returns. For collectors that
	 * probe the target's own libraries (uprobes).
	 */
	int (*target_loaded)(struct col_run *run, pid_t pid);
	void (*on_event)(struct col_run *run, const void *data, size_t len);
	/*
	 * optional: false keeps an event out of the session file (on_event
	 * still gets it): raw material consumed while recording, such as
	 * cpu's copies of user stacks, which hold the target's memory.
	 */
	bool (*record_event)(const void *data, size_t len);
	/*
	 * optional: the session is ending, still attached, before the last
	 * drain of the ring: records for what is still open (connections)
	 */
	int (*end)(struct col_run *run);
	json_t *(*collect)(struct col_run *run);
	/* optional: free run->priv (with a skeleton: before it is destroyed) */
	void (*stop)(struct col_run *run);

	int (*report_event)(json_t *col, const void *data, size_t len,
			    const struct report_opts *ro);
	/*
	 * optional: one periodic snapshot of the session (this collector's
	 * object of a STATE or SUMMARY block, t_ns after the start), in file
	 * order, for figures over time; col is where report_event() folds too.
	 */
	int (*report_snapshot)(json_t *col, const json_t *snap, uint64_t t_ns);
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
 * default set. -EINVAL with why (when not NULL) naming the bad collector.
 */
int collector_parse_list(const char *list, uint64_t *mask, char *why, size_t len);

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
json_t *hooks_to_json(const struct collector *c, const struct hook_choice *hooks);

/*
 * The lifecycle (lifecycle.c). collector_start(): open, configure, choose,
 * prepare, load, filter, attach, start; on failure everything is undone
 * and the message logged. collector_stop() undoes a started run.
 */
int collector_start(struct col_run *run, const struct rec_opts *o);
void collector_stop(struct col_run *run);
/*
 * The events ring of a session of the collectors in mask: --ring-size,
 * else the most any of them asks for (struct collector's ring_bytes).
 */
uint32_t collectors_ring_bytes(uint64_t mask, const struct rec_opts *o);
/*
 * The fd of a map collector_start() shares under that name (an earlier
 * collector of the session made it), -1 if none: from configure() or
 * prepare(), what an earlier collector took over.
 */
int collector_shared_fd(const char *name);
/* The session's collectors have all started (or failed): share nothing more. */
void collector_shares_reset(void);
/* From configure(): hook i is not wanted; reason says why (check, session). */
void hook_off(struct col_run *run, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Which row owns BPF program name: the hook's index, nhooks + the
 * companion's index, -2 for the shared follow_fork programs, -1 for none.
 */
int collector_prog_owner(const struct collector *c, const char *name);
/* Index of c in collectors[], -1 if it is not registered. */
int collector_index(const struct collector *c);
/* The options of collector idx, created with its defaults; NULL on ENOMEM. */
void *rec_opts_col(struct rec_opts *o, size_t idx);
/* Note that collector c was given --name arg (arg NULL: a flag); 0 or -ENOMEM. */
int rec_opts_given(struct rec_opts *o, const struct collector *c, const char *name,
		   const char *arg);
void rec_opts_release(struct rec_opts *o);

/*
 * Rodata every BPF object shares (bpf/common.bpf.h), set between open and
 * load; COLLECTOR_SKEL(x) gives a collector row its .skel = &x_skel.
 */
#define COMMON_RODATA(skel, o) do {					\
	(skel)->rodata->filter_pid_on = (o)->npids > 0 || (o)->target_pid > 0; \
	(skel)->rodata->filter_cgroup_id = (o)->cgroup_id;		\
	memcpy((void *)(skel)->rodata->filter_comm, (o)->comm, 16);	\
	(skel)->rodata->filter_comm_on = (o)->comm[0] != 0;		\
	(skel)->rodata->ring_wakeup_bytes =				\
		((o)->ring_bytes ?: ring_share.bytes ?: DEFAULT_RING_BYTES) / 8; \
	(skel)->rodata->ring_collector = ring_share.tag;		\
	(skel)->rodata->filter_follow_forks = (o)->target_pid > 0;	\
} while (0)

#define COLLECTOR_SKEL(x)						\
static void *x##_skel_open(const struct rec_opts *o, struct bpf_object **obj) \
{									\
	struct x##_bpf *s = x##_bpf__open();				\
									\
	if (s) {							\
		COMMON_RODATA(s, o);					\
		*obj = s->obj;						\
	}								\
	return s;							\
}									\
static int x##_skel_load(void *s)					\
{									\
	return x##_bpf__load(s);					\
}									\
static int x##_skel_attach(void *s)					\
{									\
	return x##_bpf__attach(s);					\
}									\
static void x##_skel_destroy(void *s)					\
{									\
	x##_bpf__destroy(s);						\
}									\
static const struct col_skel x##_skel = {				\
	x##_skel_open, x##_skel_load, x##_skel_attach, x##_skel_destroy, \
}

/*
 * Direct-mapped slot tables: *use says whether the kernel can claim slots
 * (BPF cmpxchg). The environment variable env_name=N (a power of two, at
 * most *mask + 1) uses only N slots, so that tests can make entries
 * collide and take the fallback hash, which a real workload rarely does;
 * 0 uses none, as on kernels without BPF cmpxchg.
 */
int slots_setup(const char *col, const char *env_name, volatile __u32 *mask,
		volatile bool *use);

/* prepare_command() of every collector in mask; the first error. */
int collectors_prepare_command(uint64_t mask, const struct rec_opts *o);

/*
 * out[k] = the sum over CPUs of key k (0 <= k < n) of a per-CPU array of
 * u64 counters; 0 or -errno.
 */
int percpu_counters_read(int fd, uint32_t n, uint64_t *out);
/*
 * Entries of a preallocated per-CPU table keyed by process (BPF hooks on
 * the scheduler and block paths must never allocate, see bpf/sched.bpf.c):
 * room for twice the processes alive plus 256, or more while all CPUs'
 * copies stay under 16 MiB; never over 256 MiB nor max, and never under
 * 256 entries (nor over max). value_size is one CPU's copy.
 */
uint32_t proc_table_entries(uint32_t alive, size_t value_size, int ncpu, uint32_t max);
/* Processes alive now (numeric entries of /proc); 0 when unreadable. */
uint32_t processes_alive(void);
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
/*
 * The active filters of a session ("session.filters": -p, --cgroup, ...,
 * and every collector's options) as one line, "pids=42, min_latency=1ms;
 * bio: disk=vda", into buf; empty values (0, "", [], {}) are left out.
 * Returns how many were active: 0, nothing was filtered.
 */
int report_describe_filters(const json_t *filters, char *buf, size_t len);
/*
 * What became of a hook (an item of hooks_to_json), in the words `check`
 * and `report` both use: its method, "not needed", "opt-in" (off unless an
 * option asks for it) or "unavailable".
 */
const char *hook_state_word(const json_t *hook);
/* "hooks: a=tp_btf b=raw_tp ..." wrapped under 80 columns. */
void report_print_hooks(FILE *out, const json_t *hooks);

#endif
