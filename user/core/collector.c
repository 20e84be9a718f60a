// SPDX-License-Identifier: GPL-2.0
/* Collector registry and the generic parts every collector shares. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include "collector.h"
#include "log.h"

extern const struct collector col_sched;
extern const struct collector col_bio;
extern const struct collector col_tcp;
extern const struct collector col_alloc;
extern const struct collector col_cpu;
extern const struct collector col_offcpu;
extern const struct collector col_system;
extern const struct collector col_app;

/* One row per collector; the id is what session files store. */
const struct collector *const collectors[] = {
	&col_sched,
	&col_bio,
	&col_tcp,
	&col_alloc,
	&col_cpu,
	&col_offcpu,
	&col_system,
	&col_app,
};
const size_t ncollectors = sizeof(collectors) / sizeof(collectors[0]);

const struct collector *collector_find(const char *name)
{
	for (size_t i = 0; i < ncollectors; i++)
		if (!strcmp(collectors[i]->name, name))
			return collectors[i];
	return NULL;
}

const struct collector *collector_by_id(uint16_t id)
{
	for (size_t i = 0; i < ncollectors; i++)
		if (collectors[i]->id == id)
			return collectors[i];
	return NULL;
}

int collector_parse_list(const char *list, uint64_t *mask, char *why, size_t len)
{
	char *copy, *tok, *save = NULL;
	int err = 0;

	*mask = 0;
	if (!list || !*list) {
		for (size_t i = 0; i < ncollectors; i++)
			if (collectors[i]->default_on)
				*mask |= 1ULL << i;
		return 0;
	}
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i, used;

		for (i = 0; i < ncollectors; i++)
			if (!strcmp(collectors[i]->name, tok))
				break;
		if (i == ncollectors) {
			used = why ? (size_t)snprintf(why, len, "unknown collector '%s' (have:", tok) : len;
			for (i = 0; i < ncollectors && used < len; i++)
				used += snprintf(why + used, len - used, " %s", collectors[i]->name);
			if (used < len)
				snprintf(why + used, len - used, ")");
			err = -EINVAL;
			break;
		}
		*mask |= 1ULL << i;
	}
	free(copy);
	if (!err && !*mask) {
		if (why)
			snprintf(why, len, "no collector in '%s'", list);
		err = -EINVAL;
	}
	return err;
}

void hooks_resolve_fallbacks(const struct collector *c, struct hook_choice *ch)
{
	size_t n = c->nhooks < MAX_HOOKS ? c->nhooks : MAX_HOOKS;

	for (size_t i = 0; i < n; i++) {
		const char *main_hook = c->hooks[i].fallback_for;

		if (!main_hook || ch[i].method == HOOK_NONE)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (j == i || strcmp(c->hooks[j].name, main_hook) ||
			    ch[j].method == HOOK_NONE)
				continue;
			ch[i].method = HOOK_NONE;
			ch[i].not_needed = true;
			snprintf(ch[i].reason, sizeof(ch[i].reason),
				 "not needed: %s is used instead (%s)", main_hook,
				 hook_method_name(ch[j].method));
			break;
		}
	}
}

/*
 * Hooks of one group share a method: the latest any required member
 * needs (an optional one decides when no required member has a method).
 * A member on another method is probed again on that one; an optional
 * member that cannot use it is dropped, a required one fails the choice.
 */
static int hooks_resolve_group(const struct collector *c, struct hook_choice *ch,
			       unsigned int group)
{
	size_t n = c->nhooks < MAX_HOOKS ? c->nhooks : MAX_HOOKS;
	enum hook_method req = HOOK_NONE, opt = HOOK_NONE, m;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		if (c->hooks[i].group != group || ch[i].method == HOOK_NONE)
			continue;
		if (c->hooks[i].optional && ch[i].method > opt)
			opt = ch[i].method;
		else if (!c->hooks[i].optional && ch[i].method > req)
			req = ch[i].method;
	}
	m = req != HOOK_NONE ? req : opt;
	for (size_t i = 0; i < n; i++) {
		struct hook_spec one;
		enum hook_method had = ch[i].method;

		if (c->hooks[i].group != group || had == HOOK_NONE || had == m)
			continue;
		one = c->hooks[i];
		one.methods &= M(m);
		if (!probe_choose(&one, &ch[i]))
			continue;
		snprintf(ch[i].reason, sizeof(ch[i].reason),
			 "%s cannot join the %s its group uses (it has %s)",
			 c->hooks[i].name, hook_method_name(m), hook_method_name(had));
		if (!c->hooks[i].optional)
			err = -ENOTSUP;
	}
	return err;
}

/*
 * DISCO_FORCE_METHOD names a method a hook does not have but its stand-in
 * (a hook whose fallback_for names it) does: drop the hook, so that the
 * stand-in is used, as on a kernel where the hook is missing (app's
 * socket tracepoints, tp_btf and raw_tp only, and its syscall stand-ins).
 */
static void hooks_force_stand_ins(const struct collector *c, struct hook_choice *ch)
{
	const char *force = getenv("DISCO_FORCE_METHOD");
	enum hook_method m = force ? hook_method_parse(force) : HOOK_NONE;
	size_t n = c->nhooks < MAX_HOOKS ? c->nhooks : MAX_HOOKS;

	if (m == HOOK_NONE)
		return;
	for (size_t j = 0; j < n; j++) {
		const char *main_hook = c->hooks[j].fallback_for;

		if (!main_hook || !(c->hooks[j].methods & M(m)) || ch[j].method == HOOK_NONE)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(c->hooks[i].name, main_hook) || (c->hooks[i].methods & M(m)))
				continue;
			ch[i].method = HOOK_NONE;
			snprintf(ch[i].reason, sizeof(ch[i].reason),
				 "DISCO_FORCE_METHOD=%s: %s stands in for it", force, c->hooks[j].name);
		}
	}
}

int hooks_choose(const struct collector *c, struct hook_choice *ch)
{
	size_t n = c->nhooks < MAX_HOOKS ? c->nhooks : MAX_HOOKS;
	unsigned int done = 0;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		ch[i].not_needed = false;
		if (ch[i].off) {
			ch[i].method = HOOK_NONE;
			continue;
		}
		if (probe_choose(&c->hooks[i], &ch[i]) && !c->hooks[i].optional)
			err = -ENOTSUP;
	}
	hooks_force_stand_ins(c, ch);
	hooks_resolve_fallbacks(c, ch);
	for (size_t i = 0; i < n; i++) {
		unsigned int g = c->hooks[i].group;

		if (!g || g > 31 || (done & (1u << g)))
			continue;
		done |= 1u << g;
		if (hooks_resolve_group(c, ch, g))
			err = -ENOTSUP;
	}
	return err;
}

json_t *hooks_to_json(const struct collector *c, const struct hook_choice *hooks)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->nhooks && i < MAX_HOOKS; i++) {
		json_t *h = json_pack("{s:s, s:b}", "hook", c->hooks[i].name,
				      "optional", c->hooks[i].optional);

		if (hooks[i].method != HOOK_NONE) {
			json_object_set_new(h, "method", json_string(hook_method_name(hooks[i].method)));
		} else {
			json_object_set_new(h, "method", json_null());
			json_object_set_new(h, "reason", json_string(hooks[i].reason));
			/* a hook that is not needed loses nothing */
			if (hooks[i].not_needed)
				json_object_set_new(h, "not_needed", json_true());
			else if (c->hooks[i].provides)
				json_object_set_new(h, "unavailable", json_string(c->hooks[i].provides));
		}
		json_array_append_new(a, h);
	}
	return a;
}

/*
 * Direct-mapped slot tables (bio's requests, tcp's connections) are
 * claimed with BPF cmpxchg, which kernels before 5.12 (5ffa25502b5a "bpf:
 * Add instructions for atomic_[cmp]xchg") refuse: there everything goes
 * to the collector's hash map. Releases are the best we have; a program
 * probe would cost a load.
 */
static bool kernel_has_bpf_cmpxchg(void)
{
	struct utsname u;
	unsigned int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > 5 || (ma == 5 && mi >= 12);
}

int slots_setup(const char *col, const char *env_name, volatile __u32 *mask,
		volatile bool *use)
{
	const char *env = getenv(env_name);
	unsigned long n;
	char *end;

	*use = kernel_has_bpf_cmpxchg();
	if (!*use)
		log_debug("%s: no BPF cmpxchg before Linux 5.12, state kept in a hash map", col);
	if (!env || !*env)
		return 0;
	errno = 0;
	n = strtoul(env, &end, 10);
	if (errno || *end || (n & (n - 1)) || n > *mask + 1ul) {
		log_err("%s=%s: not 0 or a power of two up to %lu", env_name, env, *mask + 1ul);
		return -EINVAL;
	}
	if (n == 0)
		*use = false;
	else
		*mask = n - 1;
	log_debug("%s: %lu slots", col, *use ? n : 0);
	return 0;
}

int collectors_prepare_command(uint64_t mask, const struct rec_opts *o)
{
	int err = 0;

	for (size_t i = 0; i < ncollectors && !err; i++)
		if ((mask & (1ULL << i)) && collectors[i]->prepare_command)
			err = collectors[i]->prepare_command(o->col_opts[i] ?: collectors[i]->opts_default);
	return err;
}

uint64_t collector_drops(const struct col_run *run)
{
	struct bpf_map *m = run->obj ? bpf_object__find_map_by_name(run->obj, "drops") : NULL;
	int ncpu = libbpf_num_possible_cpus();
	uint64_t total = 0, *vals;
	__u32 zero = 0;

	if (!m || ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(m), &zero, vals))
		for (int i = 0; i < ncpu; i++)
			total += vals[i];
	free(vals);
	return total;
}

/* The kernel's run count and time of a loaded program; false if not loaded. */
static bool prog_counters(const struct bpf_program *p, uint64_t *cnt, uint64_t *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(p);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return true;
}

int collector_prog_window(struct col_run *run, bool open)
{
	struct bpf_program *p;
	uint64_t cnt, ns;
	int i = 0;

	if (!run->obj)
		return 0;
	if (!run->progs) {
		bpf_object__for_each_program(p, run->obj)
			run->nprogs++;
		run->progs = calloc(run->nprogs ?: 1, sizeof(*run->progs));
		if (!run->progs)
			return -ENOMEM;
	}
	bpf_object__for_each_program(p, run->obj) {
		struct prog_acc *a = &run->progs[i++];

		if (i > run->nprogs || !prog_counters(p, &cnt, &ns))
			continue;
		if (open) {
			a->cnt0 = cnt;
			a->ns0 = ns;
		} else {
			a->cnt += cnt - a->cnt0;
			a->ns += ns - a->ns0;
		}
	}
	return 0;
}

json_t *collector_prog_stats(const struct col_run *run, bool open, double scale)
{
	json_t *a = json_array(), *o;
	struct bpf_program *p;
	uint64_t cnt, ns;
	int i = 0, h;

	if (!run->obj || !run->progs)
		return a;
	bpf_object__for_each_program(p, run->obj) {
		const struct prog_acc *acc = &run->progs[i++];
		uint64_t c, t;

		if (i > run->nprogs || !prog_counters(p, &cnt, &ns))
			continue;
		c = acc->cnt + (open ? cnt - acc->cnt0 : 0);
		t = acc->ns + (open ? ns - acc->ns0 : 0);
		o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
			"name", bpf_program__name(p),
			"run_count", (json_int_t)(c * scale + 0.5),
			"run_time_ns", (json_int_t)(t * scale + 0.5),
			"ns_per_run", (json_int_t)(c ? t / c : 0),
			"measured_runs", (json_int_t)c,
			"measured_run_time_ns", (json_int_t)t);
		/* whose events these runs are: make vmtest's kernel table asks per hook */
		h = collector_prog_owner(run->col, bpf_program__name(p));
		if (h >= (int)run->col->nhooks)
			h = (int)run->col->companions[h - run->col->nhooks].hook;
		if (o && h >= 0 && h < (int)run->col->nhooks)
			json_object_set_new(o, "hook", json_string(run->col->hooks[h].name));
		json_array_append_new(a, o);
	}
	return a;
}

#define PROC_TABLE_MIN		256u
#define PROC_TABLE_SOFT_BYTES	(16ull << 20)
#define PROC_TABLE_HARD_BYTES	(256ull << 20)

uint32_t proc_table_entries(uint32_t alive, size_t value_size, int ncpu, uint32_t max)
{
	/* the kernel rounds a per-CPU value up to 8 bytes */
	uint64_t per = ((value_size + 7) & ~(size_t)7) * (uint64_t)(ncpu > 0 ? ncpu : 1);
	uint64_t n = 2ull * alive + PROC_TABLE_MIN;

	if (!per)
		per = 1;
	if (n < PROC_TABLE_SOFT_BYTES / per)
		n = PROC_TABLE_SOFT_BYTES / per;
	if (n > PROC_TABLE_HARD_BYTES / per)
		n = PROC_TABLE_HARD_BYTES / per;
	if (n < PROC_TABLE_MIN)
		n = PROC_TABLE_MIN;
	if (n > max)
		n = max;
	return (uint32_t)n;
}

uint32_t processes_alive(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	uint32_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	return n;
}

int percpu_counters_read(int fd, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	int err = 0;

	memset(out, 0, n * sizeof(*out));
	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < n && !err; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			err = -errno;
			break;
		}
		for (int i = 0; i < ncpu; i++)
			out[k] += vals[i];
	}
	free(vals);
	return err;
}
