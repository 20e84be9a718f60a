/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tuner (SPEC §5): a snapshot of /proc and /sys read under a root
 * directory, a table of pure rules turning (snapshot before/after, report
 * evidence) into proposals, and a journal that makes every applied change
 * reversible.
 */
#ifndef DISCO_TUNER_H
#define DISCO_TUNER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>

#define TUNE_MAX_NODES		64
#define TUNE_MAX_TARGETS	64
#define TUNE_NOFILE_INF		UINT64_MAX	/* RLIM_INFINITY */
#define TUNE_VAL_LEN		64
#define TUNE_MAX_EVID		8

/* ---- sysctls the rules read and may write ------------------------------ */
enum sysctl_id {
	SC_SOMAXCONN,
	SC_SYN_BACKLOG,
	SC_NETDEV_BACKLOG,
	SC_RMEM_MAX,
	SC_WMEM_MAX,
	SC_TCP_RMEM,
	SC_TCP_WMEM,
	SC_PORT_RANGE,
	SC_TW_REUSE,
	SC_DIRTY_BG_RATIO,
	SC_DIRTY_RATIO,
	SC_DIRTY_BG_BYTES,
	SC_DIRTY_BYTES,
	SC_SWAPPINESS,
	SC_MAX_MAP_COUNT,
	SC_FILE_MAX,
	SC_NR_OPEN,
	SC_COUNT,
};

struct sysctl_desc {
	const char *name;	/* dotted, e.g. "net.core.somaxconn" */
	int nvals;		/* integers in the value (tcp_rmem: 3) */
	int64_t min, max;	/* bounds of each integer, for validation */
};

extern const struct sysctl_desc sysctl_descs[SC_COUNT];

struct sysctl_val {
	bool present;
	int n;
	int64_t v[3];
};

/* Index into sysctl_descs, or -ENOENT: only known knobs are ever written. */
int sysctl_lookup(const char *name);
/* Parse "4096\t131072 6291456\n" for knob id; -EINVAL if malformed. */
int sysctl_parse_value(int id, const char *text, struct sysctl_val *out);
void sysctl_format(const struct sysctl_val *v, char *buf, size_t len);
/* "<root>/proc/sys/net/core/somaxconn" */
int sysctl_path(const char *root, const char *name, char *buf, size_t len);
/* Read/write through /proc/sys under root; 0 or -errno. */
int sysctl_read(const char *root, int id, struct sysctl_val *out);
int sysctl_write(const char *root, int id, const struct sysctl_val *v);

/* Enter the network namespace named by a path or a PID; saves our own. */
int netns_enter(const char *spec, int *saved_fd);
int netns_leave(int saved_fd);

/* ---- scope: where a run measured and where its changes land ------------ */
/* What makes two runs "the same place": a path can be reused, an inode of a
 * namespace on one boot cannot. */
struct tune_ident {
	uint64_t netns_ino, netns_dev;	/* the namespace net.* knobs live in */
	uint64_t mntns_ino, mntns_dev;	/* with --root: whose mounts resolve it */
	char hostname[65];
	char boot_id[40];		/* /proc/sys/kernel/random/boot_id */
	uint32_t uid;
	int32_t pid;
	char version[32];
};

struct tune_scope {
	char root[256];			/* "/" or --root DIR */
	char netns[256];		/* --netns as given, or "" (ours) */
	bool netns_private;		/* not the host's (pid 1's) namespace */
	struct tune_ident id;
	char journal_dir[512];		/* <root>/var/lib/disco, or --journal DIR */
	bool journal_dir_given;		/* part of every printed command */
};

/* Identify the namespaces, host and boot a run acts on; jdir NULL for the
 * default journal directory. 0 or -errno. */
int scope_identify(struct tune_scope *s, const char *root, const char *netns,
		   const char *jdir);
/* Same namespace, mount namespace (with --root), root and boot; else 0 and
 * why (one phrase) in why. Pure. */
struct journal;
bool scope_same(const struct tune_scope *here, const struct journal *j, char *why, size_t len);
/* " --netns X --root Y": the options that make a command act where this
 * run measured ("" for this system). Pure. */
void scope_args(const struct tune_scope *s, char *buf, size_t len);
/* Prefix that runs a command inside the namespace ("ip netns exec web "),
 * "" when no --netns was given. Pure. */
void scope_ns_exec(const struct tune_scope *s, char *buf, size_t len);
/* Single-quote a word for a shell when it needs it. Pure. */
void shell_quote(const char *in, char *out, size_t len);

/* ---- snapshot ---------------------------------------------------------- */
/* Cumulative counters, differenced between the two ends of the window. */
struct counters {
	uint64_t listen_overflows, listen_drops, backlog_drop;
	uint64_t prune_called, rcv_pruned, req_q_full_drop, req_q_full_cookies;
	uint64_t active_opens, passive_opens, retrans_segs;
	uint64_t softnet_dropped, softnet_squeezed;
	uint64_t pswpin, pswpout;
	bool have_netstat, have_snmp, have_softnet, have_vmstat, have_cpustat;
};

struct proc_snap {
	pid_t pid;
	char comm[16];
	uint64_t start_time;		/* /proc/PID/stat field 22, ticks */
	uint64_t cpu_ticks;		/* utime + stime */
	uint64_t wait_ns;		/* schedstat: time runnable, not running */
	int last_cpu;
	int nthreads;
	uid_t uid;
	char user[32];			/* from <root>/etc/passwd, or the uid */
	char unit[96];			/* systemd unit from the cgroup, or "" */
	uint64_t nofile_soft, nofile_hard;
	bool has_limits, has_fds, has_maps, has_sched, has_numa, target;
	bool kthread;			/* PF_KTHREAD: never a target */
	bool self;			/* disco itself: never a target */
	pid_t ppid;
	uint64_t nfds, nmaps;
	cpu_set_t allowed;		/* Cpus_allowed_list */
	cpu_set_t ran_on;		/* CPUs its threads last ran on (targets) */
	uint64_t node_pages[TUNE_MAX_NODES];	/* numa_maps N<n>= sums */
};

/* A TCP listener from sock_diag: for a listener the kernel reports the
 * effective backlog (min(listen() backlog, somaxconn)) as idiag_wqueue and
 * the accept queue length as idiag_rqueue. */
struct listener {
	uint16_t port;
	uint8_t family;			/* AF_INET, AF_INET6 */
	uint32_t backlog;		/* sk_max_ack_backlog */
	uint32_t queue;			/* connections waiting for accept() */
	uint64_t ino;			/* socket inode: finds the owner */
	uint32_t uid;
	pid_t pid;			/* 0: owner not found */
	char comm[16];
	bool self;
};

struct snapshot {
	uint64_t time_ns;		/* CLOCK_MONOTONIC when taken */
	struct sysctl_val sc[SC_COUNT];
	struct counters c;
	uint64_t tw_sockets, tcp_inuse;
	bool have_sockstat, have_file_nr, have_psi, have_meminfo;
	uint64_t file_nr_alloc, file_nr_max;
	double psi_mem_some10, psi_mem_full10, psi_io_some10, psi_cpu_some10;
	uint64_t mem_total_bytes, mem_available_bytes, dirty_bytes;
	uint64_t writeback_bytes, swap_total_bytes, swap_free_bytes;
	int ncpus;			/* highest online CPU + 1 */
	cpu_set_t online;
	uint64_t cpu_busy[CPU_SETSIZE], cpu_total[CPU_SETSIZE];	/* ticks */
	int nnodes;			/* highest node + 1; 0 = no NUMA info */
	cpu_set_t node_cpus[TUNE_MAX_NODES];
	uint64_t clk_tck;
	struct proc_snap *procs;
	size_t nprocs;
	struct listener *listeners;
	size_t nlisteners;
	bool have_listeners;		/* sock_diag answered (live runs only) */
};

struct snapshot_opts {
	const char *root;		/* "/" or a tree shaped like it */
	const pid_t *targets;		/* detailed: numa_maps, thread CPUs */
	int ntargets;
	bool all_procs;			/* scan every /proc/PID (else targets only) */
	bool listeners;			/* ask sock_diag (root must be this system) */
	pid_t self;			/* disco's own pid: marked, never a target */
};

/* Pure text parsers (no syscalls): 0 or -EINVAL. Fuzzed. */
int parse_netstat(const char *text, struct counters *c);	/* netstat or snmp */
int parse_softnet(const char *text, struct counters *c);
int parse_vmstat(const char *text, struct counters *c);
int parse_cpustat(const char *text, struct snapshot *s);
int parse_sockstat(const char *text, struct snapshot *s);
int parse_meminfo(const char *text, struct snapshot *s);
int parse_psi(const char *text, double *some10, double *full10);
int parse_file_nr(const char *text, struct snapshot *s);
int parse_limits_nofile(const char *text, uint64_t *soft, uint64_t *hard);
/* comm, start time, cpu ticks, last cpu, threads from /proc/PID/stat */
int parse_pid_stat(const char *text, struct proc_snap *p);
int parse_pid_status(const char *text, struct proc_snap *p);
int parse_numa_maps(const char *text, uint64_t pages[TUNE_MAX_NODES]);
/* "0-3,8,10-11" <-> cpu_set_t; parse returns -EINVAL on junk */
int cpulist_parse(const char *text, cpu_set_t *set);
void cpulist_format(const cpu_set_t *set, char *buf, size_t len);
/* Start time (field 22) of PID under root; 0 or -errno. */
int proc_start_time(const char *root, pid_t pid, uint64_t *out);

/* Parse one netlink buffer of inet_diag answers into *v (grown); 1 at
 * NLMSG_DONE, 0 for more to come, -errno on NLMSG_ERROR or junk. Pure. */
int parse_inet_diag(const void *buf, size_t len, struct listener **v, size_t *n, size_t *cap);
/* Every TCP listener of the caller's network namespace; 0 or -errno. */
int listeners_read(struct listener **v, size_t *n);
/* Fill pid/comm of each listener from the snapshot's processes' fds. */
void listeners_owners(const char *root, struct snapshot *s);

/* Read everything a rule needs; 0 or -errno (only for fatal errors). */
int snapshot_take(struct snapshot *s, const struct snapshot_opts *o);
void snapshot_free(struct snapshot *s);
const struct proc_snap *snapshot_proc(const struct snapshot *s, pid_t pid);

/* ---- rules and proposals ----------------------------------------------- */
enum tune_family {
	FAM_SYSCTL,
	FAM_NOFILE,
	FAM_AFFINITY,
	FAM_COUNT,
};

const char *tune_family_name(enum tune_family f);
/* "sysctl,nofile" -> bit mask; -EINVAL on an unknown name */
int tune_family_parse(const char *list, unsigned int *mask);

struct journal_entry;
struct live_knobs;
struct proposal;
/*
 * A knob family's operations: one table each, in the family's own file
 * (sysctl.c, rlimit.c, affinity.c), listed in family.c. Everything that
 * differs between families goes through it.
 */
struct knob_family {
	const char *name;		/* --family, journals, JSON */
	const char *title;		/* heading of its proposals in the text report */
	bool per_process;		/* a knob of one process: pid + start time */
	/* verify: the canonical form of a value (for comparing); -EINVAL if invalid */
	int (*normalize)(const char *knob, const char *in, char *out, size_t len);
	/* read / write the live knob of e (live_knob_ops); 0 or -errno */
	int (*read)(const struct live_knobs *k, const struct journal_entry *e, char *val,
		    size_t len);
	int (*write)(const struct live_knobs *k, const struct journal_entry *e, const char *val);
	/* describe: the privilege changing knob from previous to next needs */
	const char *(*privilege)(const char *knob, const char *previous, const char *next);
	/*
	 * What this process (cap_eff, euid; live: not a --root tree; other:
	 * the target runs as another uid) lacks to apply p, or NULL.
	 */
	const char *(*lacks)(const struct proposal *p, uint64_t cap_eff, uid_t euid, bool live,
			     bool other);
};
extern const struct knob_family *const knob_families[FAM_COUNT];
/* The row of f (f < FAM_COUNT). */
const struct knob_family *knob_family(enum tune_family f);

struct tune_evid {
	char key[40];			/* snake_case; _ns/_bytes suffixes */
	uint64_t value;
};

struct proposal {
	char rule[24];
	enum tune_family family;
	char knob[48];			/* sysctl name, "RLIMIT_NOFILE", "affinity" */
	int sc;				/* sysctl id, or -1 */
	pid_t pid;			/* 0 for sysctls */
	uint64_t start_time;
	char comm[16];
	char current[TUNE_VAL_LEN], proposed[TUNE_VAL_LEN];
	char why[768];
	struct tune_evid ev[TUNE_MAX_EVID];
	int nev;
	char risk[256];
	char persist[1280];
	char undo[1280];
	char cannot[160];		/* why this process could not apply it, or "" */
};

struct tune_result {
	struct proposal *props;
	size_t n, cap;
	/* fixes outside the kernel (an application's listen() backlog): the
	 * knob, current and why say what to change; nothing is applied */
	struct proposal *advice;
	size_t nadvice, advice_cap;
	char (*notes)[256];		/* rules that could not decide, and why */
	size_t nnotes, notes_cap;
};

struct tune_input {
	const struct snapshot *before;	/* NULL: no counter deltas */
	const struct snapshot *after;	/* required */
	const json_t *evidence;		/* a disco.report/1 object, or NULL */
	const pid_t *targets;		/* -p; none: processes from evidence */
	int ntargets;
	bool is_root;			/* hard limits may be raised */
};

struct tune_rule {
	const char *id;
	enum tune_family family;
	const char *summary;
	int (*fn)(const struct tune_input *in, struct tune_result *out);
};

extern const struct tune_rule tune_rules[];
extern const size_t tune_nrules;

struct tune_filter {
	unsigned int families;		/* bit per tune_family; 0 = all */
	const char *const *rules;	/* --rule IDs, or NULL */
	int nrules;
};

/* Thresholds shared by rules, docs and tests. */
#define TUNE_SOMAXCONN_CAP	65535
#define TUNE_SYN_BACKLOG_CAP	262144
#define TUNE_NETDEV_BACKLOG_CAP	262144
#define TUNE_BUF_CAP		(256LL << 20)	/* socket buffer maxima */
#define TUNE_INT_CAP		2147483647LL
#define TUNE_PCT_TRIGGER	75		/* fds, maps, file-nr, ports */
#define TUNE_RUNQ_P99_NS	(2ULL * 1000 * 1000)
#define TUNE_WAIT_FRAC_PCT	20		/* schedstat wait / window */
#define TUNE_NUMA_HOME_PCT	80
#define TUNE_NEIGHBOUR_PCT	10		/* of one CPU, sharing ours */
#define TUNE_TW_SECONDS		60

const struct tune_rule *tune_rule_find(const char *id);
/* Run every selected rule; keeps tcp_rmem/wmem consistent with the
 * selected rmem_max/wmem_max. 0 or -ENOMEM. */
int tune_run(const struct tune_input *in, const struct tune_filter *f,
	     struct tune_result *out);
/* Invariants over a selection (tcp_*mem vs *mem_max, nr_open, one affinity
 * per pid); tune_run calls it, exposed for tests. */
int tune_fix_consistency(const struct snapshot *s, struct tune_result *r);
void tune_result_free(struct tune_result *r);
struct proposal *tune_add(struct tune_result *r, const char *rule,
			  enum tune_family fam);
struct proposal *tune_advise(struct tune_result *r, const char *rule);
void tune_evid(struct proposal *p, const char *key, uint64_t value);
int tune_note(struct tune_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Rewrite each proposal's persistent form and undo so that, copied as
 * shown, they act on the scope that was measured. Pure. */
void tune_scope_commands(const struct tune_scope *s, struct tune_result *r);
/* ---- privileges -------------------------------------------------------- */
/* What a change of this knob needs, in words ("CAP_SYS_RESOURCE (...)"). */
const char *knob_privilege(enum tune_family fam, const char *knob, const char *previous,
			   const char *next);
/* Fill each proposal's cannot[] for what cap_eff/euid could not apply;
 * returns how many. Pure. */
int tune_flag_permissions(struct tune_result *r, const struct snapshot *s, uint64_t cap_eff,
			  uid_t euid, bool live);

/* ---- --verify ----------------------------------------------------------- */
#define TUNE_VERIFY_MAX_WIN	8
/* The trigger of p's rule over the window b..a (lower is better) and its
 * name; per_run: the window is one run of the workload, counters count per
 * run, not per second. -ENODATA when snapshots cannot measure it (BPF-only
 * evidence). */
int tune_measure(const struct proposal *p, const struct snapshot *b, const struct snapshot *a,
		 bool per_run, double *v, const char **name);
/* 1 keep (every window after below every window before), 0 roll back;
 * why says which, with the numbers. */
int tune_verdict(const double *before, int nb, const double *after, int na, char *why,
		 size_t len);

/* Output: text grouped by family (with a sysctl.d snippet) and JSON, both
 * carrying the scope. */
void tune_print_text(FILE *out, const struct tune_result *r, const struct tune_scope *s,
		     bool dry_run);
json_t *tune_to_json(const struct tune_result *r, const struct tune_scope *s);
json_t *scope_to_json(const struct tune_scope *s);

/* ---- limits and affinity (syscalls) ------------------------------------ */
/* "1024:4096", "unlimited" for RLIM_INFINITY */
void nofile_format(uint64_t soft, uint64_t hard, char *buf, size_t len);
int nofile_parse(const char *text, uint64_t *soft, uint64_t *hard);
int nofile_get(pid_t pid, uint64_t *soft, uint64_t *hard);
int nofile_set(pid_t pid, uint64_t soft, uint64_t hard);
/* Every thread of pid under root's /proc/PID/task. */
int affinity_get(pid_t pid, cpu_set_t *set);
int affinity_set_all(const char *root, pid_t pid, const cpu_set_t *set);

/* ---- journal and apply/rollback ---------------------------------------- */
struct journal_entry {
	char rule[24];
	enum tune_family family;
	char knob[48];
	pid_t pid;
	uint64_t start_time;
	char previous[TUNE_VAL_LEN], next[TUNE_VAL_LEN];
	int64_t time_ns;		/* CLOCK_REALTIME when planned */
	char verdict[16];		/* --verify: "kept", "rolled-back", or "" */
	char verify_note[384];		/* the measurement behind the verdict */
};

struct journal {
	char root[256];
	char netns[256];		/* --netns for net.* sysctls, or "" */
	struct tune_ident id;		/* all zero: a journal older than identities */
	int64_t created_ns;
	int64_t rolled_back_ns;		/* 0 while its changes are in force */
	char state_note[256];		/* why it was rolled back, by whom */
	struct journal_entry *e;
	size_t n;
};

#define JOURNAL_MAX_BYTES	(1u << 20)
#define JOURNAL_MAX_ENTRIES	4096

/* Canonical form of a value for comparison; -EINVAL if invalid. */
int knob_normalize(enum tune_family fam, const char *knob, const char *in,
		   char *out, size_t len);
json_t *journal_to_json(const struct journal *j);
int journal_from_json(const json_t *o, struct journal *j, char *err, size_t errlen);
int journal_parse(const char *buf, size_t len, struct journal *j,
		  char *err, size_t errlen);
/* Create 0600, O_EXCL|O_NOFOLLOW, fsync file and directory. */
int journal_write(const char *path, const struct journal *j);
int journal_read(const char *path, struct journal *j, char *err, size_t errlen);
/* Replace an existing journal atomically (temporary file, fsync, rename). */
int journal_update(const char *path, const struct journal *j);
/* The journal-*.json names in dir, newest first (names carry a fixed-width
 * UTC time); *n of them in a malloc'd array of NAME_MAX+1 strings. */
int journal_names(const char *dir, char (**names)[256], size_t *n);
void journal_free(struct journal *j);

/* How a change reaches a knob; tests substitute their own. */
struct knob_ops {
	int (*read)(void *ctx, const struct journal_entry *e, char *val, size_t len);
	int (*write)(void *ctx, const struct journal_entry *e, const char *val);
	void *ctx;
};

/* Live knobs: sysctls under root (net.* inside netns if set), prlimit,
 * sched_setaffinity; PID reuse is detected through the start time. */
struct live_knobs {
	const char *root;
	const char *netns;
	bool live;		/* root is this system: processes may be touched */
	bool net_unreachable;	/* net.* of the journal's namespace: -EXDEV */
};
void live_knob_ops(struct knob_ops *ops, struct live_knobs *ctx);
/* For the families' read/write: -ESRCH when e's process is gone or its
 * PID reused, -EPERM on a --root tree; enter e's network namespace for a
 * net.* knob (*saved: what netns_leave() restores, -1 for nothing). */
int knob_check_pid(const struct live_knobs *k, const struct journal_entry *e);
int knob_enter_ns(const struct live_knobs *k, const struct journal_entry *e, int *saved);

/* Re-read every knob just before applying: previous becomes the live
 * value, entries already at their new value are dropped. */
int journal_refresh(struct journal *j, const struct knob_ops *ops, FILE *out);
/* Write each entry's next value, read it back; on any failure restore what
 * was changed (newest first) and return the first error. */
int tune_apply(const struct journal *j, const struct knob_ops *ops, FILE *out);
/* Restore previous values; drifted knobs are skipped unless force.
 * *left gets the number not restored. 0 or the first -errno. */
int tune_rollback(const struct journal *j, const struct knob_ops *ops,
		  bool force, FILE *out, int *left);

#endif
