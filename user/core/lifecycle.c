// SPDX-License-Identifier: GPL-2.0
/* The one collector lifecycle: open, configure, choose, load, filter, attach, stop. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collector.h"
#include "probe.h"
#include "log.h"

/* Every BPF object has them (bpf/common.bpf.h): -- COMMAND's children. */
static const struct hook_spec fork_hook = {
	"sched:sched_process_fork", HOOK_CHAIN_TP, true,
	"the processes COMMAND starts", .progs = "follow_fork",
};

/* Does name stand for one stem of the comma-separated list with a method's suffix? */
static bool stems_match(const char *stems, unsigned int methods, const char *name)
{
	for (const char *s = stems; s && *s; ) {
		size_t len = strcspn(s, ",");

		for (int m = 1; m < HOOK_NMETHODS; m++)
			if ((methods & M(m)) && !strncmp(name, s, len) &&
			    !strcmp(name + len, hook_method_suffix(m)))
				return true;
		s += len + (s[len] == ',');
	}
	return false;
}

int collector_prog_owner(const struct collector *c, const char *name)
{
	for (size_t i = 0; i < c->nhooks; i++)
		if (stems_match(c->hooks[i].progs, c->hooks[i].methods, name))
			return (int)i;
	for (size_t j = 0; j < c->ncompanions; j++)
		if (c->companions[j].hook < c->nhooks &&
		    stems_match(c->companions[j].progs, c->hooks[c->companions[j].hook].methods, name))
			return (int)(c->nhooks + j);
	if (stems_match(fork_hook.progs, fork_hook.methods, name))
		return -2;
	return -1;
}

/* Of every variant of the stems, load only those of method keep (HOOK_NONE: none). */
static void progs_select(struct bpf_object *obj, const char *stems, unsigned int methods,
			 enum hook_method keep)
{
	char name[128];

	for (const char *s = stems; s && *s; ) {
		int len = (int)strcspn(s, ",");

		for (int m = 1; m < HOOK_NMETHODS; m++) {
			struct bpf_program *p;

			if (!(methods & M(m)))
				continue;
			snprintf(name, sizeof(name), "%.*s%s", len, s, hook_method_suffix(m));
			p = bpf_object__find_program_by_name(obj, name);
			if (p)
				bpf_program__set_autoload(p, m == (int)keep);
		}
		s += len + (s[len] == ',');
	}
}

void hook_off(struct col_run *run, size_t i, const char *fmt, ...)
{
	va_list ap;

	if (i >= MAX_HOOKS)
		return;
	run->hooks[i].off = true;
	run->hooks[i].method = HOOK_NONE;
	va_start(ap, fmt);
	vsnprintf(run->hooks[i].reason, sizeof(run->hooks[i].reason), fmt, ap);
	va_end(ap);
}

/* Log each hook's choice the same way for every collector. */
static void hooks_log(const struct col_run *run)
{
	const struct collector *c = run->col;

	for (size_t i = 0; i < c->nhooks && i < MAX_HOOKS; i++) {
		const struct hook_choice *ch = &run->hooks[i];
		const struct hook_spec *h = &c->hooks[i];

		if (ch->not_needed || ch->off)
			log_info("%s: %s %s", c->name, h->name, ch->reason);
		else if (ch->method == HOOK_NONE && h->optional)
			log_warn("%s: %s unavailable (%s): %s", c->name, h->name,
				 h->provides ?: "optional", ch->reason);
		else if (ch->method == HOOK_NONE)
			log_err("%s: cannot hook %s: %s", c->name, h->name, ch->reason);
		else
			log_info("%s: %s via %s", c->name, h->name, hook_method_name(ch->method));
	}
}

/* Load the follow_fork variant this kernel supports, only with a COMMAND. */
static void follow_forks_select(struct bpf_object *obj, const struct rec_opts *o)
{
	struct hook_choice ch = { .method = HOOK_NONE };
	bool follow = o->target_pid > 0;

	if (follow && probe_choose(&fork_hook, &ch))
		log_warn("only COMMAND itself is recorded, not the processes it starts: %s", ch.reason);
	progs_select(obj, fork_hook.progs, fork_hook.methods, follow ? ch.method : HOOK_NONE);
}

/* A companion follows its hook's method where its own tracepoint exists. */
static void companions_select(struct col_run *run)
{
	const struct collector *c = run->col;

	for (size_t j = 0; j < c->ncompanions; j++) {
		const struct hook_companion *k = &c->companions[j];
		const struct hook_spec *h = &c->hooks[k->hook];
		enum hook_method m = run->hooks[k->hook].method;
		struct hook_spec one = { k->event, m != HOOK_NONE ? M(m) : 0, true };
		struct hook_choice ch;

		if (m != HOOK_NONE && !probe_choose(&one, &ch))
			log_info("%s: %s via %s", c->name, k->event, hook_method_name(m));
		else
			m = HOOK_NONE;
		progs_select(run->obj, k->progs, h->methods, m);
	}
}

/* Choose every hook's method and keep only the chosen programs. */
static int hooks_apply(struct col_run *run, const struct rec_opts *o)
{
	const struct collector *c = run->col;
	int err = hooks_choose(c, run->hooks);

	hooks_log(run);
	for (size_t i = 0; i < c->nhooks && i < MAX_HOOKS; i++)
		progs_select(run->obj, c->hooks[i].progs, c->hooks[i].methods, run->hooks[i].method);
	companions_select(run);
	follow_forks_select(run->obj, o);
	return err;
}

static int fill_pid_filter(struct bpf_map *map, const struct rec_opts *o)
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

struct ring_share ring_share = { .fd = -1 };

/*
 * Maps shared by name between the objects of one session (struct
 * collector's shared_maps); the fds belong to the object that made them,
 * which lives until the session ends, past collector_shares_reset().
 */
#define MAX_SHARED_MAPS 16
static struct {
	char name[64];
	int fd;
} shared[MAX_SHARED_MAPS];
static int nshared;

int collector_shared_fd(const char *name)
{
	for (int i = 0; i < nshared; i++)
		if (!strcmp(shared[i].name, name))
			return shared[i].fd;
	return -1;
}

void collector_shares_reset(void)
{
	nshared = 0;
}

/* Is name one of the comma-separated list's entries? */
static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = list; s && *s; ) {
		size_t len = strcspn(s, ",");

		if (len == n && !strncmp(s, name, n))
			return true;
		s += len + (s[len] == ',');
	}
	return false;
}

/* Before load: the shared maps an earlier object made are this one's too. */
static int shares_reuse(struct col_run *run)
{
	const struct collector *c = run->col;
	struct bpf_map *map;
	int fd, err = 0;

	bpf_object__for_each_map(map, run->obj) {
		if (!list_has(c->shared_maps, bpf_map__name(map)))
			continue;
		fd = collector_shared_fd(bpf_map__name(map));
		if (fd < 0)
			continue;
		err = bpf_map__reuse_fd(map, fd);
		if (err) {
			log_err("%s: cannot share map %s: %s", c->name, bpf_map__name(map),
				strerror(-err));
			break;
		}
	}
	return err;
}

/* After load: the shared maps this object made, for the later ones. */
static void shares_offer(struct col_run *run)
{
	const struct collector *c = run->col;
	struct bpf_map *map;

	bpf_object__for_each_map(map, run->obj) {
		const char *name = bpf_map__name(map);

		if (!list_has(c->shared_maps, name) || bpf_map__fd(map) < 0 ||
		    collector_shared_fd(name) >= 0 || nshared == MAX_SHARED_MAPS ||
		    strlen(name) >= sizeof(shared[0].name))
			continue;
		strcpy(shared[nshared].name, name);
		shared[nshared++].fd = bpf_map__fd(map);
	}
}

uint32_t collectors_ring_bytes(uint64_t mask, const struct rec_opts *o)
{
	uint32_t most = 0;

	if (o->ring_bytes)
		return o->ring_bytes;
	for (size_t i = 0; i < ncollectors; i++) {
		const struct collector *c = collectors[i];
		const void *opts = o->col_opts[i] ? o->col_opts[i] : c->opts_default;
		uint32_t want;

		if (!(mask & (1ULL << i)))
			continue;
		want = c->ring_bytes ? c->ring_bytes(opts) : DEFAULT_RING_BYTES;
		if (want > most)
			most = want;
	}
	return most ? most : DEFAULT_RING_BYTES;
}

/* The first collector's ring is made at its size; later ones reuse it. */
static int ring_setup(const struct collector *c, struct bpf_map *map,
		      const struct rec_opts *o)
{
	uint32_t bytes = o->ring_bytes ?: ring_share.bytes;
	int err = 0;

	if (ring_share.fd >= 0) {
		err = bpf_map__reuse_fd(map, ring_share.fd);
		if (err)
			log_err("%s: cannot share the events ring: %s", c->name,
				strerror(-err));
	} else if (bytes) {
		err = bpf_map__set_max_entries(map, bytes);
		if (err)
			log_err("%s: cannot size the ring buffer to %u bytes: %s",
				c->name, bytes, strerror(-err));
	}
	return err;
}

int collector_start(struct col_run *run, const struct rec_opts *o)
{
	const struct collector *c = run->col;
	int idx = collector_index(c);
	struct bpf_map *map;
	int err;

	run->opts = idx >= 0 && o->col_opts[idx] ? o->col_opts[idx] : c->opts_default;
	run->ring_fd = -1;
	if (!c->skel)
		return c->start ? c->start(run, o) : 0;
	ring_share.tag = c->id;		/* for COMMON_RODATA */
	run->skel = c->skel->open(o, &run->obj);
	if (!run->skel) {
		err = -errno;
		log_err("%s: cannot open BPF object: %s", c->name, strerror(-err));
		return err;
	}
	err = c->configure ? c->configure(run, o) : 0;
	if (err)
		goto out_stop;
	err = hooks_apply(run, o);
	if (err)
		goto out_stop;
	err = c->prepare ? c->prepare(run, o) : 0;
	if (err)
		goto out_stop;
	map = bpf_object__find_map_by_name(run->obj, "events");
	err = map ? ring_setup(c, map, o) : 0;
	if (err)
		goto out_stop;
	err = shares_reuse(run);
	if (err)
		goto out_stop;
	/*
	 * Without -p or a COMMAND no program looks the filter up: one entry,
	 * not FILTER_PIDS_MAX preallocated at every session start.
	 */
	map = bpf_object__find_map_by_name(run->obj, "filter_pids");
	if (map && !o->npids && o->target_pid <= 0)
		err = bpf_map__set_max_entries(map, 1);
	if (err)
		goto out_stop;
	/* libbpf parses the kernel's BTF again: in the pages ours leaves */
	probe_release();
	err = c->skel->load(run->skel);
	if (err) {
		log_err("%s: cannot load BPF programs: %s (run with -v for the verifier log)",
			c->name, strerror(-err));
		goto out_stop;
	}
	shares_offer(run);
	map = bpf_object__find_map_by_name(run->obj, "filter_pids");
	err = map ? fill_pid_filter(map, o) : 0;
	if (err) {
		log_err("%s: cannot fill the process filter: %s", c->name, strerror(-err));
		goto out_stop;
	}
	err = c->skel->attach(run->skel);
	if (err) {
		log_err("%s: cannot attach: %s", c->name, strerror(-err));
		goto out_stop;
	}
	map = bpf_object__find_map_by_name(run->obj, "events");
	if (map)
		run->ring_fd = bpf_map__fd(map);
	err = c->start ? c->start(run, o) : 0;
	if (err)
		goto out_stop;
	return 0;

out_stop:
	collector_stop(run);
	return err;
}

void collector_stop(struct col_run *run)
{
	const struct collector *c = run->col;

	if (c->stop)
		c->stop(run);
	if (c->skel && run->skel)
		c->skel->destroy(run->skel);
	run->skel = NULL;
	run->obj = NULL;
	run->priv = NULL;
	run->ring_fd = -1;
}

int collector_index(const struct collector *c)
{
	for (size_t i = 0; i < ncollectors; i++)
		if (collectors[i] == c)
			return (int)i;
	return -1;
}

void *rec_opts_col(struct rec_opts *o, size_t idx)
{
	const struct collector *c;

	if (idx >= ncollectors || idx >= MAX_COLLECTORS)
		return NULL;
	c = collectors[idx];
	if (!o->col_opts[idx]) {
		o->col_opts[idx] = calloc(1, c->opts_size ?: 1);
		if (o->col_opts[idx] && c->opts_default)
			memcpy(o->col_opts[idx], c->opts_default, c->opts_size);
	}
	return o->col_opts[idx];
}

int rec_opts_given(struct rec_opts *o, const struct collector *c, const char *name,
		   const char *arg)
{
	json_t *col, *v;

	if (!o->col_given && !(o->col_given = json_object()))
		return -ENOMEM;
	col = json_object_get(o->col_given, c->name);
	if (!col && json_object_set_new(o->col_given, c->name, col = json_object()))
		return -ENOMEM;
	if (!arg)
		return json_object_set_new(col, name, json_true()) ? -ENOMEM : 0;
	/* an option with a value may be repeated (--disk a --disk b) */
	v = json_object_get(col, name);
	if (!json_is_array(v) && json_object_set_new(col, name, v = json_array()))
		return -ENOMEM;
	return json_array_append_new(v, json_string(arg)) ? -ENOMEM : 0;
}

void rec_opts_release(struct rec_opts *o)
{
	for (size_t i = 0; i < MAX_COLLECTORS; i++) {
		free(o->col_opts[i]);
		o->col_opts[i] = NULL;
	}
	json_decref(o->col_given);
	o->col_given = NULL;
}
