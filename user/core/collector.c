// SPDX-License-Identifier: GPL-2.0
/* Collector registry and the generic parts every collector shares. */
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

/* One row per collector; the id is what session files store. */
const struct collector *const collectors[] = {
	&col_sched,
	&col_bio,
	&col_tcp,
	&col_alloc,
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

int collector_parse_list(const char *list, uint64_t *mask)
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
		size_t i;

		for (i = 0; i < ncollectors; i++)
			if (!strcmp(collectors[i]->name, tok))
				break;
		if (i == ncollectors) {
			fprintf(stderr, "disco: unknown collector '%s' (have:", tok);
			for (i = 0; i < ncollectors; i++)
				fprintf(stderr, " %s", collectors[i]->name);
			fprintf(stderr, ")\n");
			err = -EINVAL;
			break;
		}
		*mask |= 1ULL << i;
	}
	free(copy);
	if (!err && !*mask)
		err = -EINVAL;
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

int hooks_choose(const struct collector *c, struct hook_choice *ch)
{
	int err = 0;

	for (size_t i = 0; i < c->nhooks && i < MAX_HOOKS; i++) {
		ch[i].not_needed = false;
		if (probe_choose(&c->hooks[i], &ch[i]) && !c->hooks[i].optional)
			err = -ENOTSUP;
	}
	hooks_resolve_fallbacks(c, ch);
	return err;
}

int hooks_apply(struct col_run *run, struct bpf_program *progs[][HOOK_NMETHODS])
{
	const struct collector *c = run->col;
	int err = hooks_choose(c, run->hooks);

	for (size_t i = 0; i < c->nhooks && i < MAX_HOOKS; i++) {
		struct hook_choice *ch = &run->hooks[i];

		if (ch->not_needed)
			log_info("%s: %s %s", c->name, c->hooks[i].name, ch->reason);
		else if (ch->method == HOOK_NONE && c->hooks[i].optional)
			log_warn("%s: %s unavailable (%s): %s", c->name, c->hooks[i].name,
				 c->hooks[i].provides ?: "optional", ch->reason);
		else if (ch->method == HOOK_NONE)
			log_err("%s: cannot hook %s: %s", c->name, c->hooks[i].name, ch->reason);
		else
			log_info("%s: %s via %s", c->name, c->hooks[i].name,
				 hook_method_name(ch->method));
		for (int m = 1; m < HOOK_NMETHODS; m++)
			if (progs[i][m])
				bpf_program__set_autoload(progs[i][m], m == (int)ch->method);
		run->hook_progs[i] = ch->method != HOOK_NONE ? progs[i][ch->method] : NULL;
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

int fill_pid_filter(struct bpf_map *map, const struct rec_opts *o)
{
	__u8 one = 1;
	int fd = bpf_map__fd(map);

	for (int i = 0; i < o->npids; i++) {
		__u32 pid = o->pids[i];

		if (bpf_map_update_elem(fd, &pid, &one, BPF_ANY))
			return -errno;
	}
	if (o->target_pid > 0) {
		__u32 pid = o->target_pid;

		if (bpf_map_update_elem(fd, &pid, &one, BPF_ANY))
			return -errno;
	}
	return 0;
}

void follow_forks_select(struct bpf_object *obj, const struct rec_opts *o)
{
	static const struct hook_spec fork_hook = {
		"sched:sched_process_fork", HOOK_CHAIN_TP, true,
		"the processes COMMAND starts",
	};
	static const char *const names[HOOK_NMETHODS] = {
		[HOOK_TP_BTF] = "follow_fork_btf",
		[HOOK_RAW_TP] = "follow_fork_raw",
		[HOOK_TRACEPOINT] = "follow_fork_tp",
	};
	struct hook_choice ch = { .method = HOOK_NONE };
	bool follow = o->target_pid > 0;

	if (follow && probe_choose(&fork_hook, &ch))
		log_warn("only COMMAND itself is recorded, not the processes it starts: %s", ch.reason);
	for (int m = 1; m < HOOK_NMETHODS; m++) {
		struct bpf_program *p = names[m] ? bpf_object__find_program_by_name(obj, names[m]) : NULL;

		if (p)
			bpf_program__set_autoload(p, follow && m == (int)ch.method);
	}
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

int set_ring_size(struct bpf_map *map, const struct rec_opts *o)
{
	if (!o->ring_bytes)
		return 0;
	return bpf_map__set_max_entries(map, o->ring_bytes);
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
	int i = 0;

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
		/* which hook's events these runs are (make vmtest's kernel table) */
		for (size_t h = 0; h < run->col->nhooks && h < MAX_HOOKS; h++)
			if (run->hook_progs[h] == p)
				json_object_set_new(o, "hook", json_string(run->col->hooks[h].name));
		json_array_append_new(a, o);
	}
	return a;
}
