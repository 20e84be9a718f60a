/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel feature probing (SPEC §2): every hook is chosen at runtime from an
 * ordered fallback chain, never assumed.
 */
#ifndef DISCO_PROBE_H
#define DISCO_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

enum hook_method {
	HOOK_NONE = 0,
	HOOK_TP_BTF,
	HOOK_RAW_TP,
	HOOK_TRACEPOINT,
	HOOK_FENTRY,
	HOOK_KPROBE,
	HOOK_UPROBE,
	HOOK_PERF_EVENT,	/* a BPF program on a sampling perf event */
	HOOK_NMETHODS,
};

#define M(x) (1u << (x))
/* The two chains of SPEC §2, in order of preference. */
#define HOOK_CHAIN_TP	(M(HOOK_TP_BTF) | M(HOOK_RAW_TP) | M(HOOK_TRACEPOINT))
#define HOOK_CHAIN_FUNC	(M(HOOK_FENTRY) | M(HOOK_KPROBE))

/*
 * One hook of a collector. For tracepoints name is "category:event"
 * (e.g. "sched:sched_switch"); for kernel functions the function name; for
 * uprobes a library symbol. methods is the set of variants the BPF object
 * has (bit per enum hook_method); they are tried in enum order.
 */
struct hook_spec {
	const char *name;
	unsigned int methods;
	bool optional;		/* the collector still runs without it */
	const char *provides;	/* what is lost without it, for `disco check` */
	/*
	 * NULL, or the name of another hook of the same collector that this
	 * one stands in for: it is only attached when that hook has no
	 * method (two sources of the same samples would count each twice).
	 */
	const char *fallback_for;
	/*
	 * The BPF programs of this hook: comma-separated name stems, each
	 * with one program per method named stem + hook_method_suffix()
	 * ("sched_switch" -> sched_switch_btf, _raw, _tp). The lifecycle
	 * keeps the chosen method's programs and turns the others off.
	 */
	const char *progs;
	/*
	 * 0, or a group number shared by hooks that must all use one method
	 * (their programs share per-task or per-request state kept in a
	 * method-specific way): the latest method a required member of the
	 * group needs is used by all; an optional member that cannot use it
	 * is dropped.
	 */
	unsigned int group;
};

struct hook_choice {
	enum hook_method method;
	char reason[400];	/* why nothing could be chosen: one clause per method */
	bool not_needed;	/* usable, but the hook it falls back for is used */
	bool off;		/* turned off by the collector before choosing (reason says why) */
};

const char *hook_method_name(enum hook_method m);
/* What a program's name adds to its stem for method m: "_btf", "_raw", "_tp", ... */
const char *hook_method_suffix(enum hook_method m);
/* "tp_btf" -> HOOK_TP_BTF; HOOK_NONE if unknown */
enum hook_method hook_method_parse(const char *s);

/*
 * Pick the first method of h->methods that this kernel supports. The
 * environment variable DISCO_FORCE_METHOD (tp_btf, raw_tp, tracepoint,
 * fentry, kprobe) skips the methods before it, so tests can drive the
 * fallback paths on a kernel that would never take them. Returns 0, or
 * -ENOTSUP with ch->reason set.
 */
int probe_choose(const struct hook_spec *h, struct hook_choice *ch);

/* Individual probes: 0 when usable, else -errno; reason filled when given. */
int probe_btf(char *reason, size_t len);
int probe_privileges(char *reason, size_t len);
int probe_tp_btf(const char *event, char *reason, size_t len);
int probe_raw_tp(const char *event, char *reason, size_t len);
int probe_tracepoint(const char *category, const char *event, char *reason, size_t len);
int probe_fentry(const char *func, char *reason, size_t len);
int probe_kprobe(const char *func, char *reason, size_t len);
int probe_uprobe(char *reason, size_t len);
/* A software cpu-clock sampling event can be opened on CPU 0. */
int probe_perf_event(char *reason, size_t len);
int probe_ringbuf(char *reason, size_t len);
int probe_task_storage(char *reason, size_t len);
/* Mounts tracefs at /sys/kernel/tracing if needed (says so once). */
int probe_tracefs(char *reason, size_t len);
/* "none", "integrity", "confidentiality" or "unknown" */
const char *probe_lockdown(void);
bool probe_kernel_has_type(const char *name);
/*
 * Whether BPF hash maps that allocate their entries at run time are safe
 * for tracing programs here: the kernel has the BPF memory allocator
 * (6.1+) and is not PREEMPT_RT.
 */
bool probe_htab_runtime_alloc(void);
/*
 * Number of arguments (after the context) of tracepoint event in the
 * running kernel's BTF (btf_trace_<event>), or -errno.
 */
int probe_tp_nargs(const char *event);
/*
 * Free the kernel BTF the probes parsed (~6 MiB here), which the next
 * probe parses again (~40 ms). The recorder calls it once collectors are
 * loaded: libbpf parses its own copy to load each one.
 */
void probe_release(void);

/* Whole-kernel feature report for `disco check`. */
json_t *probe_kernel_json(void);

#endif
