// SPDX-License-Identifier: GPL-2.0
/* A collector's stacks as a gzip'd pprof Profile (profile.proto, through protobuf-c). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include "collector.h"
#include "out_flame.h"
#include "out_pprof.h"
#include "proto/profile.pb-c.h"

#define PPROF_MAX_TYPES 4
#define PPROF_MAX_LABELS 3
#define PPROF_MAX_FRAMES 1024	/* more than any unwinder gives */
#define PPROF_GZIP_LEVEL 6

/* One allocation of the profile being built: all freed together. */
struct chunk {
	struct chunk *next;
	max_align_t data[];
};

/* A growable array of pointers. */
struct vec {
	void **v;
	size_t n, cap;
};

struct pb {
	struct chunk *mem;
	const json_t *build_ids;	/* the collector's {"module": "hex"} */
	json_t *ids;		/* "s:str", "f:func", "l:loc", "m:module" -> index or id */
	struct vec strs, fns, locs, maps, samples;
	Pprof__ValueType *types[PPROF_MAX_TYPES];
	size_t ntypes;
	bool oom;
};

static void *pb_alloc(struct pb *pb, size_t size)
{
	struct chunk *c = calloc(1, sizeof(*c) + size);

	if (!c) {
		pb->oom = true;
		return NULL;
	}
	c->next = pb->mem;
	pb->mem = c;
	return c->data;
}

static char *pb_strdup(struct pb *pb, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pb_alloc(pb, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

static int vec_push(struct pb *pb, struct vec *v, void *item)
{
	if (!item)
		return -ENOMEM;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void **nv = realloc(v->v, cap * sizeof(*nv));

		if (!nv) {
			pb->oom = true;
			return -ENOMEM;
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = item;
	return 0;
}

static uint64_t id_get(struct pb *pb, char kind, const char *key)
{
	char k[600];

	snprintf(k, sizeof(k), "%c:%s", kind, key);
	return (uint64_t)json_integer_value(json_object_get(pb->ids, k));
}

static void id_set(struct pb *pb, char kind, const char *key, uint64_t id)
{
	char k[600];

	snprintf(k, sizeof(k), "%c:%s", kind, key);
	if (json_object_set_new(pb->ids, k, json_integer((json_int_t)id)))
		pb->oom = true;
}

/* Index of s in the string table (index 0 is ""). */
static int64_t str_ix(struct pb *pb, const char *s)
{
	uint64_t ix;

	if (!s || !*s)
		return 0;
	ix = id_get(pb, 's', s);
	if (ix)
		return (int64_t)ix;
	if (vec_push(pb, &pb->strs, pb_strdup(pb, s)))
		return 0;
	id_set(pb, 's', s, pb->strs.n - 1);
	return (int64_t)(pb->strs.n - 1);
}

static Pprof__ValueType *value_type(struct pb *pb, const char *type, const char *unit)
{
	Pprof__ValueType *vt = pb_alloc(pb, sizeof(*vt));

	if (vt) {
		pprof__value_type__init(vt);
		vt->type = str_ix(pb, type);
		vt->unit = str_ix(pb, unit);
	}
	return vt;
}

static void add_type(struct pb *pb, const char *type, const char *unit)
{
	if (pb->ntypes < PPROF_MAX_TYPES)
		pb->types[pb->ntypes++] = value_type(pb, type, unit);
}

/* The mapping of a module: one per file name, kernel modules in brackets as perf shows them. */
static Pprof__Mapping *mapping_of(struct pb *pb, const char *module, bool kernel)
{
	char name[160];
	uint64_t id;
	Pprof__Mapping *m;

	if (kernel && module[0] != '[')
		snprintf(name, sizeof(name), "[%s]", module);
	else
		snprintf(name, sizeof(name), "%s", module);
	id = id_get(pb, 'm', name);
	if (id)
		return pb->maps.v[id - 1];
	m = pb_alloc(pb, sizeof(*m));
	if (vec_push(pb, &pb->maps, m))
		return NULL;
	pprof__mapping__init(m);
	m->id = pb->maps.n;
	m->filename = str_ix(pb, name);
	m->build_id = str_ix(pb, json_string_value(json_object_get(pb->build_ids, module)));
	/* every location has its function: readers need not symbolize */
	m->has_functions = true;
	id_set(pb, 'm', name, m->id);
	return m;
}

static uint64_t function_of(struct pb *pb, const char *name, const char *module)
{
	char key[512];
	uint64_t id;
	Pprof__Function *f;

	snprintf(key, sizeof(key), "%s|%s", name, module);
	id = id_get(pb, 'f', key);
	if (id)
		return id;
	f = pb_alloc(pb, sizeof(*f));
	if (vec_push(pb, &pb->fns, f))
		return 0;
	pprof__function__init(f);
	f->id = pb->fns.n;
	f->name = str_ix(pb, name);
	f->system_name = f->name;
	id_set(pb, 'f', key, f->id);
	return f->id;
}

/*
 * The location of one frame. A named frame is its function, whatever the
 * offset in it (no address: the session keeps none); an unnamed one is
 * "module+0xOFF" at address OFF of a mapping that starts at file offset 0,
 * so a reader that has the file could still find it. module NULL: one of
 * our marker frames, in no mapping.
 */
static uint64_t location_of(struct pb *pb, const char *sym, const char *module, uint64_t off,
			    bool kernel)
{
	char key[512], fname[400];
	Pprof__Location *l;
	Pprof__Line *line;
	Pprof__Mapping *m = NULL;
	uint64_t id;

	if (sym && *sym)
		snprintf(fname, sizeof(fname), "%s", sym);
	else
		snprintf(fname, sizeof(fname), "%s+0x%" PRIx64, module, off);
	snprintf(key, sizeof(key), "%c|%s|%s", kernel ? 'k' : 'u', module ?: "", fname);
	id = id_get(pb, 'l', key);
	if (id)
		return id;
	if (module && !(m = mapping_of(pb, module, kernel)))
		return 0;
	l = pb_alloc(pb, sizeof(*l));
	line = pb_alloc(pb, sizeof(*line));
	if (!l || !line)
		return 0;
	pprof__location__init(l);
	pprof__line__init(line);
	line->function_id = function_of(pb, fname, module ?: "");
	l->line = pb_alloc(pb, sizeof(*l->line));
	if (!l->line || vec_push(pb, &pb->locs, l))
		return 0;
	l->line[0] = line;
	l->n_line = 1;
	l->id = pb->locs.n;
	if (!m)
		goto out;
	l->mapping_id = m->id;
	if (!(sym && *sym)) {
		l->address = off;
		if (m->memory_limit <= off)
			m->memory_limit = off + 1;
	}
out:
	id_set(pb, 'l', key, l->id);
	return l->id;
}

/* One sample: locations leaf first, values, and its labels. */
struct sample_in {
	uint64_t loc[PPROF_MAX_FRAMES];
	size_t nloc;
	int64_t v[PPROF_MAX_TYPES];
	int64_t pid;		/* < 0: none */
	const char *comm;
	bool truncated;
};

static Pprof__Label *label(struct pb *pb, const char *key, const char *str, int64_t num)
{
	Pprof__Label *l = pb_alloc(pb, sizeof(*l));

	if (l) {
		pprof__label__init(l);
		l->key = str_ix(pb, key);
		if (str)
			l->str = str_ix(pb, str);
		else
			l->num = num;
	}
	return l;
}

static void add_sample(struct pb *pb, const struct sample_in *in)
{
	Pprof__Sample *s = pb_alloc(pb, sizeof(*s));
	size_t nl = 0;

	if (!s)
		return;
	pprof__sample__init(s);
	s->location_id = pb_alloc(pb, (in->nloc + 1) * sizeof(*s->location_id));
	s->value = pb_alloc(pb, pb->ntypes * sizeof(*s->value));
	s->label = pb_alloc(pb, PPROF_MAX_LABELS * sizeof(*s->label));
	if (!s->location_id || !s->value || !s->label)
		return;
	memcpy(s->location_id, in->loc, in->nloc * sizeof(*s->location_id));
	s->n_location_id = in->nloc;
	memcpy(s->value, in->v, pb->ntypes * sizeof(*s->value));
	s->n_value = pb->ntypes;
	if (in->pid >= 0)
		s->label[nl++] = label(pb, "pid", NULL, in->pid);
	if (in->comm && *in->comm)
		s->label[nl++] = label(pb, "comm", in->comm, 0);
	if (in->truncated)
		s->label[nl++] = label(pb, "truncated", "yes", 0);
	s->n_label = nl;
	vec_push(pb, &pb->samples, s);
}

/* Frames {"sym", "module", "offset", "kernel"} (leaf first) into in->loc. */
static void frames_in(struct pb *pb, const json_t *frames, struct sample_in *in)
{
	const json_t *f;
	size_t i;

	json_array_foreach(frames, i, f) {
		const char *mod = json_string_value(json_object_get(f, "module"));
		bool kernel = json_is_true(json_object_get(f, "kernel"));

		if (in->nloc >= PPROF_MAX_FRAMES - 1)
			break;
		if (!mod || !*mod)
			mod = kernel ? "[kernel.kallsyms]" : "?";
		in->loc[in->nloc++] = location_of(pb, json_string_value(json_object_get(f, "sym")), mod,
			(uint64_t)json_integer_value(json_object_get(f, "offset")), kernel);
	}
	/* outermost, as in the folded output: a stack that did not reach its thread's first function */
	if (in->truncated)
		in->loc[in->nloc++] = location_of(pb, FLAME_TRUNCATED, NULL, 0, false);
}

/* A frame of an alloc site: "sym+0xOFF (module)", "module+0xOFF" or a bare name. */
static void site_frame_in(struct pb *pb, const char *s, struct sample_in *in)
{
	const char *plus = strstr(s, "+0x"), *open = strrchr(s, '(');
	size_t n = strlen(s);
	char sym[300], mod[160];
	uint64_t off = plus ? strtoull(plus + 3, NULL, 16) : 0;

	if (in->nloc >= PPROF_MAX_FRAMES - 1)
		return;
	if (plus && plus > s && open && open > plus && n && s[n - 1] == ')') {
		snprintf(sym, sizeof(sym), "%.*s", (int)(plus - s), s);
		snprintf(mod, sizeof(mod), "%.*s", (int)(s + n - 1 - open - 1), open + 1);
		in->loc[in->nloc++] = location_of(pb, sym, mod, off, false);
	} else if (plus && plus > s) {
		snprintf(mod, sizeof(mod), "%.*s", (int)(plus - s), s);
		in->loc[in->nloc++] = location_of(pb, NULL, mod, off, false);
	} else {
		in->loc[in->nloc++] = location_of(pb, s, "?", 0, false);
	}
}

/* A sample with one pseudo-frame: what the report counted but did not list. */
static void add_other(struct pb *pb, const int64_t *v)
{
	struct sample_in *in = calloc(1, sizeof(*in));

	if (!in) {
		pb->oom = true;
		return;
	}
	in->pid = -1;
	in->loc[in->nloc++] = location_of(pb, "[other stacks]", NULL, 0, false);
	memcpy(in->v, v, sizeof(in->v));
	add_sample(pb, in);
	free(in);
}

static int64_t ju(const json_t *o, const char *k)
{
	return (int64_t)json_u64(o, k);
}

/* cpu, offcpu and any other collector's "stacks" */
static int stacks_in(struct pb *pb, const json_t *col, const char *name, Pprof__Profile *p)
{
	const json_t *stacks = json_object_get(col, "stacks"), *s;
	bool cpu = !strcmp(name, "cpu"), offcpu = !strcmp(name, "offcpu");
	int64_t period = 0, other[PPROF_MAX_TYPES] = { 0 };
	struct sample_in *in;
	const char *unit = "count";
	size_t i;

	if (!json_is_array(stacks))
		return -ENODATA;
	if (cpu) {
		int64_t hz = ju(col, "frequency_hz");

		period = hz > 0 ? 1000000000LL / hz : 0;
		add_type(pb, "samples", "count");
		add_type(pb, "cpu", "nanoseconds");
		p->period_type = value_type(pb, "cpu", "nanoseconds");
		p->period = period;
		p->default_sample_type = str_ix(pb, "cpu");
		other[0] = ju(col, "omitted_samples");
		other[1] = other[0] * period;
	} else if (offcpu) {
		add_type(pb, "blocks", "count");
		add_type(pb, "blocked", "nanoseconds");
		p->default_sample_type = str_ix(pb, "blocked");
		/* how many blocks the unlisted stacks had is not kept */
		other[1] = ju(col, "omitted_ns");
	} else {
		flame_stack_value(json_array_get(stacks, 0), &unit);
		add_type(pb, name, !strcmp(unit, "ns") ? "nanoseconds" :
				   !strcmp(unit, "samples") ? "count" : unit);
	}
	in = malloc(sizeof(*in));
	if (!in)
		return -ENOMEM;
	json_array_foreach(stacks, i, s) {
		const json_t *pid = json_object_get(s, "pid");

		memset(in, 0, sizeof(*in));
		in->pid = json_is_integer(pid) ? json_integer_value(pid) : -1;
		in->comm = json_string_value(json_object_get(s, "comm"));
		in->truncated = json_is_true(json_object_get(s, "truncated"));
		frames_in(pb, json_object_get(s, "frames"), in);
		if (cpu) {
			in->v[0] = ju(s, "count");
			in->v[1] = in->v[0] * period;
		} else if (offcpu) {
			in->v[0] = ju(s, "count");
			in->v[1] = ju(s, "blocked_ns");
		} else {
			in->v[0] = (int64_t)flame_stack_value(s, NULL);
		}
		add_sample(pb, in);
	}
	free(in);
	if (other[0] || other[1])
		add_other(pb, other);
	return 0;
}

/* alloc: every site, with what was allocated and what is still outstanding */
static int sites_in(struct pb *pb, const json_t *col, Pprof__Profile *p)
{
	static const char *const keys[] = {
		"total_allocs", "total_bytes", "outstanding_allocs", "outstanding_bytes",
	};
	const json_t *samp = json_object_get(col, "sampling"), *s, *f;
	struct sample_in *in;
	size_t i, j;

	add_type(pb, "alloc_objects", "count");
	add_type(pb, "alloc_space", "bytes");
	add_type(pb, "inuse_objects", "count");
	add_type(pb, "inuse_space", "bytes");
	p->default_sample_type = str_ix(pb, "inuse_space");
	if (json_u64(samp, "mean_bytes") > 1) {
		p->period_type = value_type(pb, "space", "bytes");
		p->period = ju(samp, "mean_bytes");
	} else if (json_u64(samp, "one_in") > 1) {
		p->period_type = value_type(pb, "alloc_objects", "count");
		p->period = ju(samp, "one_in");
	}
	in = malloc(sizeof(*in));
	if (!in)
		return -ENOMEM;
	json_array_foreach(json_object_get(col, "sites"), i, s) {
		const json_t *pids = json_object_get(s, "pids");

		memset(in, 0, sizeof(*in));
		/* a site merges processes: its pid only when there is one */
		in->pid = json_array_size(pids) == 1 ? json_integer_value(json_array_get(pids, 0)) : -1;
		json_array_foreach(json_object_get(s, "stack"), j, f)
			site_frame_in(pb, json_string_value(f) ?: "?", in);
		for (j = 0; j < PPROF_MAX_TYPES; j++)
			in->v[j] = ju(s, keys[j]);
		add_sample(pb, in);
	}
	free(in);
	return 0;
}

static void pb_free(struct pb *pb)
{
	while (pb->mem) {
		struct chunk *c = pb->mem;

		pb->mem = c->next;
		free(c);
	}
	free(pb->strs.v);
	free(pb->fns.v);
	free(pb->locs.v);
	free(pb->maps.v);
	free(pb->samples.v);
	json_decref(pb->ids);
}

int pprof_encode(const json_t *col, const char *name, const struct pprof_meta *m,
		 uint8_t **buf, size_t *len)
{
	struct pb pb = { .ids = json_object(), .build_ids = json_object_get(col, "build_ids") };
	Pprof__Profile p = PPROF__PROFILE__INIT;
	int64_t comment;
	int err = -ENOMEM;

	*buf = NULL;
	*len = 0;
	if (!pb.ids || vec_push(&pb, &pb.strs, pb_strdup(&pb, "")))
		goto out;
	if (!strcmp(name, "alloc") && json_is_array(json_object_get(col, "sites")))
		err = sites_in(&pb, col, &p);
	else
		err = stacks_in(&pb, col, name, &p);
	if (err)
		goto out;
	p.time_nanos = m ? m->time_ns : 0;
	p.duration_nanos = m ? m->duration_ns : 0;
	if (m && m->comment) {
		comment = str_ix(&pb, m->comment);
		p.comment = &comment;
		p.n_comment = 1;
	}
	err = -ENOMEM;
	if (pb.oom)
		goto out;
	p.sample_type = pb.types;
	p.n_sample_type = pb.ntypes;
	p.sample = (Pprof__Sample **)pb.samples.v;
	p.n_sample = pb.samples.n;
	p.mapping = (Pprof__Mapping **)pb.maps.v;
	p.n_mapping = pb.maps.n;
	p.location = (Pprof__Location **)pb.locs.v;
	p.n_location = pb.locs.n;
	p.function = (Pprof__Function **)pb.fns.v;
	p.n_function = pb.fns.n;
	p.string_table = (char **)pb.strs.v;
	p.n_string_table = pb.strs.n;
	*len = pprof__profile__get_packed_size(&p);
	*buf = malloc(*len ?: 1);
	if (!*buf)
		goto out;
	if (pprof__profile__pack(&p, *buf) != *len) {
		free(*buf);
		*buf = NULL;
		err = -EIO;
		goto out;
	}
	err = 0;
out:
	pb_free(&pb);
	return err;
}

int pprof_write(const json_t *col, const char *name, const struct pprof_meta *m, FILE *out)
{
	struct libdeflate_compressor *c = NULL;
	uint8_t *raw = NULL, *gz = NULL;
	size_t len, bound, n;
	int err;

	err = pprof_encode(col, name, m, &raw, &len);
	if (err)
		goto out;
	err = -ENOMEM;
	c = libdeflate_alloc_compressor(PPROF_GZIP_LEVEL);
	if (!c)
		goto out;
	bound = libdeflate_gzip_compress_bound(c, len);
	gz = malloc(bound);
	if (!gz)
		goto out;
	n = libdeflate_gzip_compress(c, raw, len, gz, bound);
	err = -EIO;
	if (!n)
		goto out;
	if (fwrite(gz, 1, n, out) != n || fflush(out))
		goto out;
	err = 0;
out:
	libdeflate_free_compressor(c);
	free(gz);
	free(raw);
	return err;
}
