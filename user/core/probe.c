// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel feature probes: each loads (and where it matters attaches) the
 * smallest possible program of a kind, so the answer is what this kernel
 * really does, not what its version suggests.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "probe.h"

#define TRACEFS "/sys/kernel/tracing"

static const char *const method_names[HOOK_NMETHODS] = {
	[HOOK_NONE] = "none",
	[HOOK_TP_BTF] = "tp_btf",
	[HOOK_RAW_TP] = "raw_tp",
	[HOOK_TRACEPOINT] = "tracepoint",
	[HOOK_FENTRY] = "fentry",
	[HOOK_KPROBE] = "kprobe",
	[HOOK_UPROBE] = "uprobe",
	[HOOK_PERF_EVENT] = "perf_event",
};

const char *hook_method_name(enum hook_method m)
{
	return m < HOOK_NMETHODS ? method_names[m] : "?";
}

/* The user-probe programs are named by what they probe: no suffix. */
static const char *const method_suffixes[HOOK_NMETHODS] = {
	[HOOK_NONE] = "",
	[HOOK_TP_BTF] = "_btf",
	[HOOK_RAW_TP] = "_raw",
	[HOOK_TRACEPOINT] = "_tp",
	[HOOK_FENTRY] = "_fentry",
	[HOOK_KPROBE] = "_kprobe",
	[HOOK_UPROBE] = "",
	[HOOK_PERF_EVENT] = "",
};

const char *hook_method_suffix(enum hook_method m)
{
	return m < HOOK_NMETHODS ? method_suffixes[m] : "";
}

enum hook_method hook_method_parse(const char *s)
{
	for (int m = 1; m < HOOK_NMETHODS; m++)
		if (s && !strcmp(s, method_names[m]))
			return m;
	return HOOK_NONE;
}

static struct btf *vmlinux_btf;
static int vmlinux_btf_err;

static struct btf *get_btf(void)
{
	if (!vmlinux_btf && !vmlinux_btf_err) {
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf)
			vmlinux_btf_err = -errno ?: -ENOENT;
	}
	return vmlinux_btf;
}

void probe_release(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	vmlinux_btf_err = 0;
}

static void say(char *reason, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *reason, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!reason || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, len, fmt, ap);
	va_end(ap);
}

/* An errno from the kernel, explained the way a user can act on it. */
static void say_errno(char *reason, size_t len, const char *what, int err)
{
	const char *hint = "";

	if (err == EPERM || err == EACCES) {
		if (geteuid() != 0)
			hint = " (run as root: needs CAP_BPF + CAP_PERFMON)";
		else
			hint = " (refused by the kernel: lockdown or an LSM policy)";
	} else if (err == 524 /* kernel ENOTSUPP */ || err == EOPNOTSUPP || err == EINVAL) {
		hint = " (not supported by this kernel)";
	}
	say(reason, len, "%s: %s%s", what, strerror(err), hint);
}

int probe_btf(char *reason, size_t len)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		say(reason, len, "no kernel BTF (/sys/kernel/btf/vmlinux missing: kernel built without CONFIG_DEBUG_INFO_BTF)");
		return -ENOENT;
	}
	if (!get_btf()) {
		say(reason, len, "cannot parse kernel BTF: %s", strerror(-vmlinux_btf_err));
		return vmlinux_btf_err;
	}
	return 0;
}

bool probe_kernel_has_type(const char *name)
{
	struct btf *btf = get_btf();

	return btf && btf__find_by_name(btf, name) > 0;
}

/*
 * Before 6.1 (no bpf_mem_alloc) a tracing program's hash map allocated
 * with kmalloc from any context: the verifier warned, and an RT kernel
 * refused. On 6.1 PREEMPT_RT the allocator's refill runs in the
 * irq_work/N threads, whose own switches a sched_switch program sees (a
 * lockup seen under qemu, bpf/sched.bpf.c).
 */
bool probe_htab_runtime_alloc(void)
{
	FILE *f = fopen("/sys/kernel/realtime", "r");
	int rt = 0;

	if (f) {
		rt = fgetc(f) == '1';
		fclose(f);
	}
	return !rt && probe_kernel_has_type("bpf_mem_alloc");
}

int probe_privileges(char *reason, size_t len)
{
	static const struct {
		cap_value_t cap;
		const char *name;
	} need[] = {
		{ CAP_BPF, "CAP_BPF" },
		{ CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	};
	cap_t caps = cap_get_proc();
	char missing[96] = "";
	cap_flag_value_t v;
	int err = 0;

	if (!caps) {
		say(reason, len, "cannot read capabilities: %s", strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (cap_get_flag(caps, need[i].cap, CAP_EFFECTIVE, &v) || v != CAP_SET) {
			/* CAP_SYS_ADMIN alone covers the other two on older kernels */
			if (need[i].cap != CAP_SYS_ADMIN &&
			    !cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v) && v == CAP_SET)
				continue;
			strncat(missing, missing[0] ? ", " : "", sizeof(missing) - strlen(missing) - 1);
			strncat(missing, need[i].name, sizeof(missing) - strlen(missing) - 1);
			err = -EPERM;
		}
	}
	cap_free(caps);
	if (err)
		say(reason, len, "missing %s: run as root (sudo)", missing);
	return err;
}

/* r0 = 0; exit */
static const struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int load_trivial(enum bpf_prog_type type, enum bpf_attach_type eat, int btf_id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = eat,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, "disco_probe", "GPL", ret0, 2, &o);

	return fd < 0 ? -errno : fd;
}

/* Probe results are cached: `check` and `record` ask for the same hooks. */
struct probe_cache {
	enum hook_method m;
	char name[96];
	int err;
	char reason[160];
};
static struct probe_cache cache[128];
static int ncache;

static struct probe_cache *cache_find(enum hook_method m, const char *name)
{
	for (int i = 0; i < ncache; i++)
		if (cache[i].m == m && !strcmp(cache[i].name, name))
			return &cache[i];
	return NULL;
}

static int cache_put(enum hook_method m, const char *name, int err, const char *reason)
{
	if (ncache < (int)(sizeof(cache) / sizeof(cache[0]))) {
		cache[ncache].m = m;
		snprintf(cache[ncache].name, sizeof(cache[ncache].name), "%s", name);
		cache[ncache].err = err;
		snprintf(cache[ncache].reason, sizeof(cache[ncache].reason), "%s", reason);
		ncache++;
	}
	return err;
}

static int attach_btf_prog(enum bpf_attach_type eat, const char *btf_name, int kind,
			   const char *what, char *reason, size_t len)
{
	struct btf *btf = get_btf();
	int id, fd, lfd;

	if (!btf) {
		say(reason, len, "%s: no kernel BTF", what);
		return -ENOENT;
	}
	id = btf__find_by_name_kind(btf, btf_name, kind);
	if (id <= 0) {
		say(reason, len, "%s: %s not in kernel BTF", what, btf_name);
		return -ENOENT;
	}
	fd = load_trivial(BPF_PROG_TYPE_TRACING, eat, id);
	if (fd < 0) {
		say_errno(reason, len, what, -fd);
		return fd;
	}
	lfd = bpf_raw_tracepoint_open(NULL, fd);
	if (lfd < 0) {
		int err = -errno;

		say_errno(reason, len, what, -err);
		close(fd);
		return err;
	}
	close(lfd);
	close(fd);
	return 0;
}

int probe_tp_btf(const char *event, char *reason, size_t len)
{
	struct probe_cache *c = cache_find(HOOK_TP_BTF, event);
	char name[128], why[160] = "";
	int err;

	if (c) {
		say(reason, len, "%s", c->reason);
		return c->err;
	}
	snprintf(name, sizeof(name), "btf_trace_%s", event);
	err = attach_btf_prog(BPF_TRACE_RAW_TP, name, BTF_KIND_TYPEDEF, "tp_btf", why, sizeof(why));
	cache_put(HOOK_TP_BTF, event, err, why);
	say(reason, len, "%s", why);
	return err;
}

int probe_fentry(const char *func, char *reason, size_t len)
{
	struct probe_cache *c = cache_find(HOOK_FENTRY, func);
	char why[160] = "";
	int err;

	if (c) {
		say(reason, len, "%s", c->reason);
		return c->err;
	}
	err = attach_btf_prog(BPF_TRACE_FENTRY, func, BTF_KIND_FUNC, "fentry", why, sizeof(why));
	cache_put(HOOK_FENTRY, func, err, why);
	say(reason, len, "%s", why);
	return err;
}

int probe_raw_tp(const char *event, char *reason, size_t len)
{
	struct probe_cache *c = cache_find(HOOK_RAW_TP, event);
	char why[160] = "";
	int fd, lfd, err = 0;

	if (c) {
		say(reason, len, "%s", c->reason);
		return c->err;
	}
	fd = load_trivial(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0);
	if (fd < 0) {
		err = fd;
		say_errno(why, sizeof(why), "raw_tp", -err);
		goto out;
	}
	lfd = bpf_raw_tracepoint_open(event, fd);
	if (lfd < 0) {
		err = -errno;
		if (err == -ENOENT)
			say(why, sizeof(why), "raw_tp: no tracepoint %s in this kernel", event);
		else
			say_errno(why, sizeof(why), "raw_tp", -err);
	} else {
		close(lfd);
	}
	close(fd);
out:
	cache_put(HOOK_RAW_TP, event, err, why);
	say(reason, len, "%s", why);
	return err;
}

static bool tracefs_mounted(void)
{
	struct statfs st;

	return !statfs(TRACEFS, &st) && st.f_type == TRACEFS_MAGIC;
}

int probe_tracefs(char *reason, size_t len)
{
	static bool said;

	if (tracefs_mounted())
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL)) {
		int err = -errno;

		say(reason, len, "tracefs is not mounted and mounting it at %s failed: %s",
		    TRACEFS, strerror(-err));
		return err;
	}
	if (!said) {
		log_warn("mounted tracefs at %s (classic tracepoints need it)", TRACEFS);
		said = true;
	}
	return 0;
}

int probe_tracepoint(const char *category, const char *event, char *reason, size_t len)
{
	char path[256], key[96];
	struct probe_cache *c;
	char why[160] = "";
	int err, fd;

	snprintf(key, sizeof(key), "%s:%s", category, event);
	c = cache_find(HOOK_TRACEPOINT, key);
	if (c) {
		say(reason, len, "%s", c->reason);
		return c->err;
	}
	err = probe_tracefs(why, sizeof(why));
	if (err)
		goto out;
	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s/id", category, event);
	if (access(path, R_OK)) {
		err = -errno;
		if (err == -ENOENT)
			say(why, sizeof(why), "tracepoint: %s:%s does not exist in this kernel", category, event);
		else
			say_errno(why, sizeof(why), "tracepoint: reading " TRACEFS, -err);
		goto out;
	}
	fd = load_trivial(BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (fd < 0) {
		err = fd;
		say_errno(why, sizeof(why), "tracepoint", -err);
		goto out;
	}
	close(fd);
out:
	cache_put(HOOK_TRACEPOINT, key, err, why);
	say(reason, len, "%s", why);
	return err;
}

static int read_pmu_type(const char *pmu)
{
	char path[128], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = 0;
	return atoi(buf);
}

int probe_kprobe(const char *func, char *reason, size_t len)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	struct probe_cache *c = cache_find(HOOK_KPROBE, func);
	char why[160] = "";
	int type, fd, err = 0;

	if (c) {
		say(reason, len, "%s", c->reason);
		return c->err;
	}
	type = read_pmu_type("kprobe");
	if (type < 0) {
		err = -ENOTSUP;
		say(why, sizeof(why), "kprobe: kernel has no kprobe PMU (built without CONFIG_KPROBES)");
		goto out;
	}
	attr.type = type;
	attr.config1 = (unsigned long)func;	/* kprobe_func */
	fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT || err == -EINVAL)
			say(why, sizeof(why), "kprobe: cannot probe %s (not a traceable function here)", func);
		else
			say_errno(why, sizeof(why), "kprobe", -err);
		goto out;
	}
	close(fd);
out:
	cache_put(HOOK_KPROBE, func, err, why);
	say(reason, len, "%s", why);
	return err;
}

int probe_uprobe(char *reason, size_t len)
{
	if (read_pmu_type("uprobe") < 0) {
		say(reason, len, "kernel has no uprobe PMU (built without CONFIG_UPROBE_EVENTS)");
		return -ENOTSUP;
	}
	return 0;
}

int probe_perf_event(char *reason, size_t len)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = 49,
		.freq = 1,
		.disabled = 1,
	};
	int fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		say_errno(reason, len, "perf_event_open(cpu-clock)", err);
		return -err;
	}
	close(fd);
	return 0;
}

int probe_ringbuf(char *reason, size_t len)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "disco_probe", 0, 0, 4096, NULL);

	if (fd < 0) {
		say_errno(reason, len, "ring buffer map", errno);
		return -errno;
	}
	close(fd);
	return 0;
}

int probe_task_storage(char *reason, size_t len)
{
	int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL);

	if (r == 1)
		return 0;
	if (r < 0) {
		say_errno(reason, len, "task storage map", -r);
		return r;
	}
	say(reason, len, "task storage maps unsupported (kernel before 5.11)");
	return -ENOTSUP;
}

const char *probe_lockdown(void)
{
	static char mode[32];
	char buf[128], *l, *r;
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	if (!f)
		return "unknown";
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return "unknown";
	}
	fclose(f);
	/* "none [integrity] confidentiality": the bracketed one is active */
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!l || !r)
		return "unknown";
	*r = 0;
	snprintf(mode, sizeof(mode), "%s", l + 1);
	return mode;
}

int probe_tp_nargs(const char *event)
{
	struct btf *btf = get_btf();
	const struct btf_type *t;
	char name[128];
	int id;

	if (!btf)
		return -ENOENT;
	snprintf(name, sizeof(name), "btf_trace_%s", event);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	/* typedef -> pointer -> func_proto(void *ctx, args...) */
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_ptr(t))
		return -EINVAL;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -EINVAL;
	return btf_vlen(t) - 1;
}

static int probe_method(enum hook_method m, const char *name, char *reason, size_t len)
{
	char cat[64];
	const char *ev = strchr(name, ':');

	switch (m) {
	case HOOK_TP_BTF:
		return probe_tp_btf(ev ? ev + 1 : name, reason, len);
	case HOOK_RAW_TP:
		return probe_raw_tp(ev ? ev + 1 : name, reason, len);
	case HOOK_TRACEPOINT:
		if (!ev) {
			say(reason, len, "tracepoint: '%s' has no category", name);
			return -EINVAL;
		}
		snprintf(cat, sizeof(cat), "%.*s", (int)(ev - name), name);
		return probe_tracepoint(cat, ev + 1, reason, len);
	case HOOK_FENTRY:
		return probe_fentry(name, reason, len);
	case HOOK_KPROBE:
		return probe_kprobe(name, reason, len);
	case HOOK_UPROBE:
		return probe_uprobe(reason, len);
	case HOOK_PERF_EVENT:
		return probe_perf_event(reason, len);
	default:
		say(reason, len, "unknown method");
		return -EINVAL;
	}
}

int probe_choose(const struct hook_spec *h, struct hook_choice *ch)
{
	const char *force = getenv("DISCO_FORCE_METHOD");
	enum hook_method first = force ? hook_method_parse(force) : HOOK_NONE;
	char why[160];
	size_t used = 0;
	int m;

	ch->method = HOOK_NONE;
	ch->reason[0] = 0;
	/* a forced method only applies to the chain it belongs to */
	if (first != HOOK_NONE && !(h->methods & M(first)))
		first = HOOK_NONE;
	for (m = first ? (int)first : 1; m < HOOK_NMETHODS; m++) {
		if (!(h->methods & M(m)))
			continue;
		why[0] = 0;
		if (!probe_method(m, h->name, why, sizeof(why))) {
			ch->method = m;
			return 0;
		}
		used += snprintf(ch->reason + used, sizeof(ch->reason) - used, "%s%s",
				 used ? "; " : "", why);
		if (used >= sizeof(ch->reason))
			used = sizeof(ch->reason) - 1;
	}
	return -ENOTSUP;
}

json_t *probe_kernel_json(void)
{
	char why[160];
	struct utsname u;
	struct rlimit rl;
	json_t *k = json_object(), *f = json_object();
	static const struct {
		const char *name;
		int (*fn)(char *, size_t);
	} feats[] = {
		{ "btf", probe_btf },
		{ "privileges", probe_privileges },
		{ "ringbuf", probe_ringbuf },
		{ "task_storage", probe_task_storage },
		{ "uprobe", probe_uprobe },
		{ "perf_event", probe_perf_event },
		{ "tracefs", probe_tracefs },
	};

	uname(&u);
	json_object_set_new(k, "release", json_string(u.release));
	json_object_set_new(k, "machine", json_string(u.machine));
	json_object_set_new(k, "lockdown", json_string(probe_lockdown()));
	if (!getrlimit(RLIMIT_MEMLOCK, &rl))
		json_object_set_new(k, "memlock_bytes", rl.rlim_cur == RLIM_INFINITY ?
				    json_string("unlimited") : json_integer((json_int_t)rl.rlim_cur));
	for (size_t i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
		why[0] = 0;
		if (!feats[i].fn(why, sizeof(why)))
			json_object_set_new(f, feats[i].name, json_true());
		else
			json_object_set_new(f, feats[i].name, json_string(why));
	}
	/* representative hooks: the chains every collector relies on */
	why[0] = 0;
	json_object_set_new(f, "tp_btf", probe_tp_btf("sched_switch", why, sizeof(why)) ?
			    json_string(why) : json_true());
	json_object_set_new(f, "raw_tp", probe_raw_tp("sched_switch", why, sizeof(why)) ?
			    json_string(why) : json_true());
	json_object_set_new(f, "tracepoint", probe_tracepoint("sched", "sched_switch", why, sizeof(why)) ?
			    json_string(why) : json_true());
	json_object_set_new(f, "fentry", probe_fentry("do_nanosleep", why, sizeof(why)) ?
			    json_string(why) : json_true());
	json_object_set_new(f, "kprobe", probe_kprobe("do_nanosleep", why, sizeof(why)) ?
			    json_string(why) : json_true());
	json_object_set_new(k, "features", f);
	return k;
}
