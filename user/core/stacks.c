// SPDX-License-Identifier: GPL-2.0
/* Stack ids and addresses from BPF -> named frames (JSON), shared by collectors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "collector.h"
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "stacks.h"
#include "untrusted.h"
#include "bpf/stacks.h"

#define PROC_SLOTS 4096		/* open addressing; grows by rehashing */

struct proc_ent {
	pid_t pid;
	uint32_t round;		/* of its last maps refresh for a frame outside them */
	struct proc_syms *ps;
};

#define MAX_USERS 8

/*
 * One JSON object per distinct frame, shared by every stack that holds
 * it, in every collector: kernel frames by address, user frames by the
 * file and the offset in it (the same code in any process). A frame's
 * JSON is ~650 bytes, and a whole-machine session resolves tens of
 * thousands of frames, mostly the same few thousand (the system call
 * entry, libc, each program's main loop): they were a fifth of the
 * recorder's heap. Frames of memory that is no file's stay per stack.
 */
struct frame_ent {
	uint64_t dev, ino, off;	/* kernel frames: dev and ino 0 (a file has an inode), off the address */
	json_t *frame;		/* NULL: a free slot */
	enum sym_status status;
};

#define FRAME_SLOTS 4096	/* open addressing; grows by rehashing */

/*
 * What every collector's view shares (cpu and offcpu see the same
 * processes): kallsyms, the binaries' symbols and the processes' maps,
 * loaded once. Stack ids are per collector, so their caches are not.
 */
struct syms_shared {
	int refs;
	struct syms_cache *cache;
	struct ksyms *ks;
	struct proc_ent *procs;
	size_t nslots, nprocs;
	uint32_t round;		/* stack_syms_round() calls of every user */
	struct stack_syms *users[MAX_USERS];
	struct frame_ent *frames;
	size_t frame_slots, nframes;
};

static struct syms_shared *shared;

struct stack_syms {
	struct syms_shared *sh;
	json_t *ustacks;	/* "pid/id" -> frames of a user stack */
	json_t *kstacks;	/* "id" -> frames of a kernel stack */
	json_t *build_ids;	/* module, as frames name it -> build-id (hex) */
	uint64_t unnamed[SYM_NSTATUS];
	bool rounds;		/* stack_syms_round() is called */
};

static void shared_put(struct syms_shared *sh)
{
	if (!sh || --sh->refs > 0)
		return;
	for (size_t i = 0; sh->procs && i < sh->nslots; i++)
		proc_syms_free(sh->procs[i].ps);
	free(sh->procs);
	for (size_t i = 0; sh->frames && i < sh->frame_slots; i++)
		json_decref(sh->frames[i].frame);
	free(sh->frames);
	ksyms_free(sh->ks);
	syms_cache_free(sh->cache);
	if (shared == sh)
		shared = NULL;
	free(sh);
}

static struct syms_shared *shared_get(const char *who)
{
	struct syms_shared *sh = shared;

	if (sh) {
		sh->refs++;
		return sh;
	}
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	sh->refs = 1;
	sh->cache = syms_cache_new();
	sh->nslots = PROC_SLOTS;
	sh->procs = calloc(sh->nslots, sizeof(*sh->procs));
	sh->frame_slots = FRAME_SLOTS;
	sh->frames = calloc(sh->frame_slots, sizeof(*sh->frames));
	if (!sh->cache || !sh->procs || !sh->frames) {
		shared_put(sh);
		return NULL;
	}
	sh->ks = ksyms_load(NULL);
	if (!sh->ks)
		log_warn("%s: cannot read /proc/kallsyms (%s): kernel frames stay addresses",
			 who, strerror(errno));
	else if (ksyms_hidden(sh->ks))
		log_warn("%s: /proc/kallsyms hides addresses (kptr_restrict): kernel frames stay addresses",
			 who);
	shared = sh;
	return sh;
}

/*
 * The running kernel's build-id from /sys/kernel/notes (its ELF notes,
 * back to back: namesz, descsz, type, then name and desc padded to 4), as
 * perf records it for [kernel.kallsyms].
 */
static void kernel_build_id(json_t *ids)
{
	unsigned char buf[4096];
	char hex[2 * SYMS_BUILD_ID_MAX + 1];
	FILE *f = fopen("/sys/kernel/notes", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0, off = 0;

	if (f)
		fclose(f);
	while (off + 12 <= n) {
		uint32_t h[3];
		size_t name, desc;

		memcpy(h, buf + off, sizeof(h));
		name = off + 12;
		desc = name + ((h[0] + 3u) & ~3u);
		if (h[0] > n || h[1] > n || desc + h[1] > n)
			break;
		if (h[2] == 3 /* NT_GNU_BUILD_ID */ && h[0] == 4 && !memcmp(buf + name, "GNU", 4) &&
		    h[1] > 0 && h[1] <= SYMS_BUILD_ID_MAX) {
			json_object_set_new(ids, "[kernel.kallsyms]",
					    json_string(syms_hex(buf + desc, h[1], hex, sizeof(hex))));
			break;
		}
		off = desc + ((h[1] + 3u) & ~3u);
	}
}

struct stack_syms *stack_syms_new(const char *who)
{
	struct stack_syms *ss = calloc(1, sizeof(*ss));
	int i;

	if (!ss)
		return NULL;
	ss->sh = shared_get(who);
	ss->ustacks = json_object();
	ss->kstacks = json_object();
	ss->build_ids = json_object();
	if (ss->build_ids)
		kernel_build_id(ss->build_ids);
	if (!ss->sh || !ss->ustacks || !ss->kstacks || !ss->build_ids) {
		stack_syms_free(ss);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < MAX_USERS && ss->sh->users[i]; i++)
		;
	if (i == MAX_USERS) {
		stack_syms_free(ss);
		errno = EMFILE;
		return NULL;
	}
	ss->sh->users[i] = ss;
	return ss;
}

void stack_syms_free(struct stack_syms *ss)
{
	if (!ss)
		return;
	for (int i = 0; ss->sh && i < MAX_USERS; i++)
		if (ss->sh->users[i] == ss)
			ss->sh->users[i] = NULL;
	shared_put(ss->sh);
	json_decref(ss->ustacks);
	json_decref(ss->kstacks);
	json_decref(ss->build_ids);
	free(ss);
}

static struct proc_ent *slot(struct proc_ent *v, size_t nslots, pid_t pid)
{
	size_t i = ((uint32_t)pid * 2654435761u) & (nslots - 1);

	while (v[i].pid && v[i].pid != pid)
		i = (i + 1) & (nslots - 1);
	return &v[i];
}

static int grow(struct syms_shared *sh)
{
	size_t n = sh->nslots * 2;
	struct proc_ent *v = calloc(n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < sh->nslots; i++)
		if (sh->procs[i].pid)
			*slot(v, n, sh->procs[i].pid) = sh->procs[i];
	free(sh->procs);
	sh->procs = v;
	sh->nslots = n;
	return 0;
}

static struct frame_ent *frame_slot(struct frame_ent *v, size_t nslots, uint64_t dev,
				    uint64_t ino, uint64_t off)
{
	uint64_t h = (dev * 0x9e3779b97f4a7c15ULL) ^ (ino * 0xc2b2ae3d27d4eb4fULL) ^ off;
	size_t i;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	for (i = h & (nslots - 1); v[i].frame; i = (i + 1) & (nslots - 1))
		if (v[i].dev == dev && v[i].ino == ino && v[i].off == off)
			break;
	return &v[i];
}

/* The shared JSON of a frame seen before (borrowed), or NULL. */
static json_t *frame_find(struct syms_shared *sh, uint64_t dev, uint64_t ino, uint64_t off,
			  enum sym_status *st)
{
	struct frame_ent *e = frame_slot(sh->frames, sh->frame_slots, dev, ino, off);

	if (e->frame)
		*st = e->status;
	return e->frame;
}

/* Keep frame (a reference of its own) for the next stacks that hold it. */
static void frame_remember(struct syms_shared *sh, uint64_t dev, uint64_t ino, uint64_t off,
			   json_t *frame, enum sym_status st)
{
	struct frame_ent *e;

	if (!frame)
		return;
	if ((sh->nframes + 1) * 2 > sh->frame_slots) {
		size_t n = sh->frame_slots * 2;
		struct frame_ent *v = calloc(n, sizeof(*v));

		/* without memory the frame is only not shared */
		if (!v)
			return;
		for (size_t i = 0; i < sh->frame_slots; i++)
			if (sh->frames[i].frame)
				*frame_slot(v, n, sh->frames[i].dev, sh->frames[i].ino,
					    sh->frames[i].off) = sh->frames[i];
		free(sh->frames);
		sh->frames = v;
		sh->frame_slots = n;
	}
	e = frame_slot(sh->frames, sh->frame_slots, dev, ino, off);
	if (e->frame)
		return;
	*e = (struct frame_ent){ dev, ino, off, json_incref(frame), st };
	sh->nframes++;
}

/* Drop the cached user stacks of pid (its maps changed). */
static void forget_stacks(struct stack_syms *ss, pid_t pid)
{
	char prefix[16];
	const char *k;
	json_t *v;
	void *tmp;
	size_t pl = (size_t)snprintf(prefix, sizeof(prefix), "%d/", pid);

	json_object_foreach_safe(ss->ustacks, tmp, k, v)
		if (!strncmp(k, prefix, pl))
			json_object_del(ss->ustacks, k);
}

int stack_syms_capture(struct stack_syms *ss, pid_t pid, bool refresh)
{
	struct syms_shared *sh = ss->sh;
	struct proc_ent *e;
	int err;

	if (pid <= 0)
		return -EINVAL;
	if (sh->nprocs * 2 >= sh->nslots && grow(sh))
		return -ENOMEM;
	e = slot(sh->procs, sh->nslots, pid);
	if (e->pid && !refresh)
		return 0;
	if (e->pid) {
		err = proc_syms_refresh(e->ps);
		if (err)
			return err;
		/* its maps changed (exec): every user's cached stacks of it are stale */
		for (int i = 0; i < MAX_USERS; i++)
			if (sh->users[i])
				forget_stacks(sh->users[i], pid);
	} else {
		struct proc_syms *ps = proc_syms_new(sh->cache, pid);

		if (!ps)
			return -errno;
		e->pid = pid;
		e->ps = ps;
		sh->nprocs++;
	}
	proc_syms_preload(e->ps);
	return 0;
}

static struct proc_syms *proc_view(struct stack_syms *ss, pid_t pid)
{
	struct proc_ent *e = slot(ss->sh->procs, ss->sh->nslots, pid);

	return e->pid ? e->ps : NULL;
}

void stack_syms_round(struct stack_syms *ss)
{
	ss->rounds = true;
	ss->sh->round++;
}

struct proc_syms *stack_syms_proc(struct stack_syms *ss, pid_t pid)
{
	return ss ? proc_view(ss, pid) : NULL;
}

static json_t *frame_json(const struct sym_frame *f, bool kernel)
{
	json_t *o = json_object();
	char sym[sizeof(f->sym)], mod[sizeof(f->module)];

	/* symbol and file names come from other users' binaries and paths */
	untrusted_copy(sym, sizeof(sym), f->sym, sizeof(f->sym));
	untrusted_copy(mod, sizeof(mod), f->module, sizeof(f->module));
	json_object_set_new(o, "sym", sym[0] ? json_string(sym) : json_null());
	json_object_set_new(o, "module", json_string(mod));
	json_object_set_new(o, "offset", json_integer((json_int_t)f->offset));
	if (kernel)
		json_object_set_new(o, "kernel", json_true());
	if (f->status != SYM_NAMED)
		json_object_set_new(o, "unnamed", json_string(sym_status_name(f->status)));
	return o;
}

/*
 * The build-id of a frame's file, once per module (pprof's Mapping.build_id);
 * mod is the frame's module as its JSON shows it.
 */
static void note_build_id(struct stack_syms *ss, struct proc_syms *ps, uint64_t addr,
			  enum sym_status st, const char *mod)
{
	unsigned char id[SYMS_BUILD_ID_MAX];
	char hex[2 * SYMS_BUILD_ID_MAX + 1];
	size_t n;

	if ((st != SYM_NAMED && st != SYM_STRIPPED) || !mod || !mod[0] || mod[0] == '[' ||
	    json_object_get(ss->build_ids, mod))
		return;
	n = proc_syms_build_id(ps, addr, id);
	if (n)
		json_object_set_new(ss->build_ids, mod, json_string(syms_hex(id, n, hex, sizeof(hex))));
}

static json_t *resolve_user(struct stack_syms *ss, pid_t pid, const uint64_t *ips, int n)
{
	struct syms_shared *sh = ss->sh;
	struct proc_ent *e = slot(sh->procs, sh->nslots, pid);
	struct proc_syms *ps = e->pid ? e->ps : NULL;
	json_t *a = json_array(), *fr;
	struct sym_frame f;
	enum sym_status st;
	uint64_t dev, ino, off;
	bool keyed;

	/*
	 * A frame outside the captured maps: the process mapped more since,
	 * or the frame is garbage (a frame-pointer walk through code built
	 * without them). Once per round is enough: the samples are older
	 * than the round, so a refresh in it shows every mapping they saw.
	 * Without rounds (alloc), every time.
	 */
	for (int i = 0; ps && (!ss->rounds || e->round != sh->round) && i < n; i++)
		if (!proc_syms_covers(ps, ips[i])) {
			e->round = sh->round;
			if (!proc_syms_refresh(ps))
				proc_syms_preload(ps);
			break;
		}
	for (int i = 0; i < n; i++) {
		keyed = ps && proc_syms_file_offset(ps, ips[i], &dev, &ino, &off);
		fr = keyed ? json_incref(frame_find(sh, dev, ino, off, &st)) : NULL;
		if (!fr) {
			if (ps) {
				proc_syms_resolve(ps, ips[i], &f);
			} else {
				memset(&f, 0, sizeof(f));
				f.offset = ips[i];
				f.status = SYM_PROCESS_GONE;
			}
			st = f.status;
			fr = frame_json(&f, false);
			if (keyed)
				frame_remember(sh, dev, ino, off, fr, st);
		}
		if (ps)
			note_build_id(ss, ps, ips[i], st,
				      json_string_value(json_object_get(fr, "module")));
		ss->unnamed[st]++;
		json_array_append_new(a, fr);
	}
	return a;
}

static json_t *resolve_kernel(struct stack_syms *ss, const uint64_t *ips, int n)
{
	json_t *a = json_array(), *fr;
	struct sym_frame f;
	enum sym_status st;

	for (int i = 0; i < n; i++) {
		fr = json_incref(frame_find(ss->sh, 0, 0, ips[i], &st));
		if (!fr) {
			ksyms_resolve(ss->sh->ks, ips[i], &f);
			st = f.status;
			fr = frame_json(&f, true);
			frame_remember(ss->sh, 0, 0, ips[i], fr, st);
		}
		ss->unnamed[st]++;
		json_array_append_new(a, fr);
	}
	return a;
}

json_t *stack_syms_frames(struct stack_syms *ss, pid_t pid,
			  int64_t kkey, const uint64_t *kips, int nk,
			  int64_t ukey, const uint64_t *uips, int nu)
{
	json_t *out = json_array(), *part;
	char key[40];

	if (nk > 0) {
		snprintf(key, sizeof(key), "%lld", (long long)kkey);
		part = kkey >= 0 ? json_incref(json_object_get(ss->kstacks, key)) : NULL;
		if (!part) {
			part = resolve_kernel(ss, kips, nk);
			if (kkey >= 0)
				json_object_set(ss->kstacks, key, part);
		}
		json_array_extend(out, part);
		json_decref(part);
	}
	if (nu > 0) {
		snprintf(key, sizeof(key), "%d/%lld", pid, (long long)ukey);
		part = ukey >= 0 ? json_incref(json_object_get(ss->ustacks, key)) : NULL;
		if (!part) {
			part = resolve_user(ss, pid, uips, nu);
			if (ukey >= 0)
				json_object_set(ss->ustacks, key, part);
		}
		json_array_extend(out, part);
		json_decref(part);
	}
	return out;
}

/* ---- rows remembered across snapshots ------------------------------------ */

struct memo_ent {
	bool used;
	struct stack_memo_row row;
	unsigned char key[];	/* key_size bytes */
};

struct stack_memo {
	size_t key_size, ent_size, nslots, n;
	unsigned char *v;
};

static struct memo_ent *memo_at(const struct stack_memo *m, unsigned char *v, size_t i)
{
	return (struct memo_ent *)(v + i * m->ent_size);
}

/* FNV-1a of the key bytes */
static size_t memo_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static struct memo_ent *memo_slot(const struct stack_memo *m, unsigned char *v, size_t nslots,
				  const void *key)
{
	size_t i = memo_hash(key, m->key_size) & (nslots - 1);
	struct memo_ent *e;

	while ((e = memo_at(m, v, i))->used && memcmp(e->key, key, m->key_size))
		i = (i + 1) & (nslots - 1);
	return e;
}

struct stack_memo *stack_memo_new(size_t key_size)
{
	struct stack_memo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->key_size = key_size;
	m->ent_size = (sizeof(struct memo_ent) + key_size + 7) & ~(size_t)7;
	m->nslots = 1024;
	m->v = calloc(m->nslots, m->ent_size);
	if (!m->v) {
		free(m);
		return NULL;
	}
	return m;
}

void stack_memo_free(struct stack_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nslots; i++)
		if (memo_at(m, m->v, i)->used)
			json_decref(memo_at(m, m->v, i)->row.frames);
	free(m->v);
	free(m);
}

const struct stack_memo_row *stack_memo_get(const struct stack_memo *m, const void *key)
{
	const struct memo_ent *e = memo_slot(m, m->v, m->nslots, key);

	return e->used ? &e->row : NULL;
}

static int memo_grow(struct stack_memo *m)
{
	size_t n = m->nslots * 2;
	unsigned char *v = calloc(n, m->ent_size);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->nslots; i++) {
		struct memo_ent *e = memo_at(m, m->v, i);

		if (e->used)
			memcpy(memo_slot(m, v, n, e->key), e, m->ent_size);
	}
	free(m->v);
	m->v = v;
	m->nslots = n;
	return 0;
}

int stack_memo_put(struct stack_memo *m, const void *key, const struct stack_memo_row *row)
{
	struct memo_ent *e;

	if ((m->n + 1) * 2 > m->nslots && memo_grow(m))
		return -ENOMEM;
	e = memo_slot(m, m->v, m->nslots, key);
	if (e->used) {
		json_decref(e->row.frames);
	} else {
		e->used = true;
		memcpy(e->key, key, m->key_size);
		m->n++;
	}
	e->row = *row;
	json_incref(e->row.frames);
	return 0;
}

bool stack_user_complete(const json_t *frames, int nu, int max_depth)
{
	static const char *const roots[] = {
		"_start", "__libc_start_main", "__libc_start_call_main", "clone", "clone3",
		"start_thread", "__clone", "__clone3", "thread_start",
	};
	const json_t *last;
	const char *s;

	if (nu <= 0)
		return true;
	if (nu >= max_depth)
		return false;
	last = json_array_get(frames, json_array_size(frames) - 1);
	s = json_string_value(json_object_get(last, "sym"));
	for (size_t i = 0; s && i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!strcmp(s, roots[i]))
			return true;
	return false;
}

json_t *stack_syms_unnamed_json(const struct stack_syms *ss)
{
	json_t *o = json_object();

	for (int i = SYM_NAMED + 1; i < SYM_NSTATUS; i++)
		json_object_set_new(o, sym_status_name(i), json_integer((json_int_t)ss->unnamed[i]));
	return o;
}

uint64_t stack_syms_named(const struct stack_syms *ss)
{
	return ss->unnamed[SYM_NAMED];
}

json_t *stack_syms_build_ids_json(const struct stack_syms *ss)
{
	return json_copy(ss->build_ids);
}

char *stack_folded(const char *comm, const json_t *frames)
{
	size_t cap = 256, len = 0;
	char *s = malloc(cap), name[300];
	ssize_t i;

	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "%.64s", comm && *comm ? comm : "?");
	/* ';' separates frames and ' ' starts the count: neither may appear inside */
	for (size_t j = 0; j < len; j++)
		if (s[j] == ';' || s[j] == ' ' || s[j] == '\n')
			s[j] = '_';
	for (i = (ssize_t)json_array_size(frames) - 1; i >= 0; i--) {
		const json_t *f = json_array_get(frames, (size_t)i);
		const char *sym = json_string_value(json_object_get(f, "sym"));
		const char *mod = json_string_value(json_object_get(f, "module"));
		bool kernel = json_is_true(json_object_get(f, "kernel"));
		size_t n;

		if (sym)
			n = (size_t)snprintf(name, sizeof(name), "%s%s", sym, kernel ? "_[k]" : "");
		else
			n = (size_t)snprintf(name, sizeof(name), "%s+0x%llx%s", mod && *mod ? mod : "?",
					     (unsigned long long)json_integer_value(json_object_get(f, "offset")),
					     kernel ? "_[k]" : "");
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		for (size_t j = 0; j < n; j++)
			if (name[j] == ';' || name[j] == ' ' || name[j] == '\n')
				name[j] = '_';
		if (len + n + 2 > cap) {
			char *ns;

			while (len + n + 2 > cap)
				cap *= 2;
			ns = realloc(s, cap);
			if (!ns) {
				free(s);
				return NULL;
			}
			s = ns;
		}
		s[len++] = ';';
		memcpy(s + len, name, n);
		len += n;
		s[len] = 0;
	}
	return s;
}

void stacks_proc_add(json_t *procs, uint32_t pid, const char *comm, const char *key, uint64_t v)
{
	char k[16];
	json_t *pr;

	snprintf(k, sizeof(k), "%u", pid);
	pr = json_object_get(procs, k);
	if (!pr) {
		pr = json_pack("{s:I, s:s}", "pid", (json_int_t)pid, "comm", comm);
		json_object_set_new(procs, k, pr);
	}
	json_object_set_new(pr, key, json_integer((json_int_t)(json_u64(pr, key) + v)));
}

static const char *sort_key;

static int by_key_desc(const void *a, const void *b)
{
	uint64_t x = json_u64(*(json_t *const *)a, sort_key), y = json_u64(*(json_t *const *)b, sort_key);

	return x == y ? 0 : x < y ? 1 : -1;
}

json_t *stacks_procs_sorted(json_t *procs, const char *key, size_t max)
{
	size_t n = json_object_size(procs), i = 0;
	json_t **v = calloc(n + 1, sizeof(*v)), *a = json_array(), *x;
	const char *k;

	json_object_foreach(procs, k, x)
		if (v)
			v[i++] = x;
	if (v) {
		sort_key = key;
		qsort(v, i, sizeof(*v), by_key_desc);
		for (size_t j = 0; j < i && j < max; j++)
			json_array_append(a, v[j]);
	}
	free(v);
	json_decref(procs);
	return a;
}

void stacks_on_proc_event(struct stack_syms *ss, const void *data, size_t len, bool refresh,
			  const char *who)
{
	struct stacks_proc_event e;

	if (len < sizeof(e) || !ss)
		return;
	memcpy(&e, data, sizeof(e));
	if (e.type == STACKS_EV_PROC && stack_syms_capture(ss, (pid_t)e.tgid, refresh))
		log_debug("%s: process %u exited before its maps were read", who, e.tgid);
}

int stacks_report_proc_event(json_t *col, const void *data, size_t len)
{
	struct stacks_proc_event e;

	/* records in a session block are only 4-byte aligned: copy first */
	if (len != sizeof(e))
		return -EBADMSG;
	memcpy(&e, data, sizeof(e));
	if (e.type != STACKS_EV_PROC)
		return -EBADMSG;
	json_object_set_new(col, "processes_seen",
			    json_integer((json_int_t)json_u64(col, "processes_seen") + 1));
	return 0;
}

int stacks_report_snapshot(json_t *col, const json_t *snap, uint64_t t_ns)
{
	static const char *const lists[] = { "processes", "stacks", "wakers", "build_ids" };

	(void)t_ns;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_t *v = json_object_get(snap, lists[i]);

		if (json_is_array(v) || json_is_object(v))
			json_object_set(col, lists[i], v);
	}
	return 0;
}

void stacks_render_summary(const json_t *col, FILE *out, uint64_t total, const char *truncated_key)
{
	const json_t *un = json_object_get(col, "unnamed_frames"), *v;
	uint64_t named = json_u64(col, "named_frames"), unnamed = 0;
	const char *k;

	json_object_foreach((json_t *)un, k, v)
		unnamed += json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
	fprintf(out, "User stacks cut short (no frame pointers, or deeper than the limit): %.1f%% of %s\n",
		total ? 100.0 * json_u64(col, truncated_key) / total : 0.0,
		json_object_get(col, "blocked_ns") ? "blocked time" : "samples");
	fprintf(out, "Frames without a name: %" PRIu64 " of %" PRIu64, unnamed, named + unnamed);
	if (unnamed) {
		const char *sep = " (";

		json_object_foreach((json_t *)un, k, v) {
			if (!json_is_integer(v) || !json_integer_value(v))
				continue;
			fprintf(out, "%s%s: %" JSON_INTEGER_FORMAT, sep, k, json_integer_value(v));
			sep = ", ";
		}
		fputc(')', out);
	}
	fputc('\n', out);
}

void stacks_render_one(const json_t *s, FILE *out, double pct, const char *unit, uint64_t value)
{
	const json_t *frames = json_object_get(s, "frames"), *f;
	size_t i, n = json_array_size(frames);

	fprintf(out, "  %5.1f%%  %" PRIu64 " %s  pid %" PRIu64 " %s%s\n", pct, value, unit,
		json_u64(s, "pid"), json_string_value(json_object_get(s, "comm")) ?: "?",
		json_is_true(json_object_get(s, "truncated")) ? "  [stack cut short]" : "");
	json_array_foreach(frames, i, f) {
		const char *sym = json_string_value(json_object_get(f, "sym"));
		const char *mod = json_string_value(json_object_get(f, "module")) ?: "?";

		if (i == 16) {
			fprintf(out, "          ... %zu more\n", n - i);
			break;
		}
		if (sym)
			fprintf(out, "          %s+0x%" PRIx64 " (%s)\n", sym, json_u64(f, "offset"), mod);
		else
			fprintf(out, "          %s+0x%" PRIx64 " [%s]\n", mod, json_u64(f, "offset"),
				json_string_value(json_object_get(f, "unnamed")) ?: "unnamed");
	}
}
