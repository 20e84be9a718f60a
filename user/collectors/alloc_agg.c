// SPDX-License-Identifier: GPL-2.0
/* Merging and ordering of allocation sites (no syscalls: unit tested). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_agg.h"
#include "bpf/alloc.h"

const char *const alloc_site_val_names[ASV_NR] = {
	[ASV_OUTSTANDING_BYTES] = "outstanding_bytes",
	[ASV_OUTSTANDING_ALLOCS] = "outstanding_allocs",
	[ASV_LEAK_BYTES] = "leak_bytes",
	[ASV_LEAK_ALLOCS] = "leak_allocs",
	[ASV_TOTAL_BYTES] = "total_bytes",
	[ASV_TOTAL_ALLOCS] = "total_allocs",
	[ASV_FREED_BYTES] = "freed_bytes",
	[ASV_FREED_ALLOCS] = "freed_allocs",
	[ASV_OUTSTANDING_SAMPLES] = "outstanding_samples",
};

void alloc_site_keystr(char *buf, size_t len, uint32_t pid, uint64_t stack_id)
{
	snprintf(buf, len, "%u/%llx", pid, (unsigned long long)stack_id);
}

static uint64_t jv(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static int by_outstanding_desc(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	uint64_t x = jv(a, "outstanding_bytes"), y = jv(b, "outstanding_bytes");

	if (x != y)
		return x < y ? 1 : -1;
	x = jv(a, "total_bytes");
	y = jv(b, "total_bytes");
	if (x != y)
		return x < y ? 1 : -1;
	return 0;
}

/* The merge key: frames joined by newlines (frames never contain one). */
static char *stack_key(const json_t *stack)
{
	size_t i, len = 1;
	const json_t *f;
	char *k, *p;

	json_array_foreach(stack, i, f)
		len += strlen(json_string_value(f) ?: "?") + 1;
	k = malloc(len);
	if (!k)
		return NULL;
	p = k;
	json_array_foreach(stack, i, f) {
		const char *s = json_string_value(f) ?: "?";
		size_t l = strlen(s);

		memcpy(p, s, l);
		p += l;
		*p++ = '\n';
	}
	*p = 0;
	return k;
}

json_t *alloc_merge_sites(const struct alloc_site_row *rows, size_t n, uint64_t scale,
			  size_t max)
{
	json_t *byk = json_object(), *out = json_array(), *v, **items = NULL;
	const char *k;
	size_t i, m = 0;

	if (!byk || !out)
		goto out;
	if (!scale)
		scale = 1;
	for (i = 0; i < n; i++) {
		char *key = stack_key(rows[i].stack);
		json_t *s;

		if (!key)
			continue;
		s = json_object_get(byk, key);
		if (!s) {
			s = json_pack("{s:O, s:[]}", "stack", rows[i].stack, "pids");
			for (int j = 0; j < ASV_NR; j++)
				json_object_set_new(s, alloc_site_val_names[j], json_integer(0));
			json_object_set_new(byk, key, s);
		}
		for (int j = 0; j < ASV_NR; j++)
			json_object_set_new(s, alloc_site_val_names[j],
				json_integer((json_int_t)(jv(s, alloc_site_val_names[j]) +
							  rows[i].v[j] *
							  (j == ASV_OUTSTANDING_SAMPLES ? 1 : scale))));
		{
			json_t *pids = json_object_get(s, "pids"), *p;
			size_t pi;
			int seen = 0;

			json_array_foreach(pids, pi, p)
				if ((uint64_t)json_integer_value(p) == rows[i].pid)
					seen = 1;
			if (!seen)
				json_array_append_new(pids, json_integer(rows[i].pid));
		}
		free(key);
	}
	items = calloc(json_object_size(byk) + 1, sizeof(*items));
	if (!items)
		goto out;
	json_object_foreach(byk, k, v)
		items[m++] = v;
	qsort(items, m, sizeof(*items), by_outstanding_desc);
	for (i = 0; i < m && i < max; i++)
		json_array_append(out, items[i]);
out:
	free(items);
	json_decref(byk);
	return out;
}

/* "sym+0xOFF (module)" -> {"sym", "module"}; anything else is its own sym */
static json_t *flame_frame(const char *f)
{
	const char *plus = strstr(f, "+0x"), *open = strrchr(f, '(');
	const char *close = open ? strchr(open, ')') : NULL;
	json_t *o;

	if (!plus || plus == f)
		return json_pack("{s:s}", "sym", f);
	o = json_pack("{s:s%}", "sym", f, (size_t)(plus - f));
	if (o && open && close && close > open + 1)
		json_object_set_new(o, "module", json_stringn(open + 1, (size_t)(close - open - 1)));
	return o;
}

json_t *alloc_flame_stacks(const json_t *sites)
{
	json_t *out = json_array(), *s;
	size_t i, j;

	json_array_foreach(sites, i, s) {
		uint64_t bytes = jv(s, "outstanding_bytes");
		json_t *frames, *f;

		if (!bytes)
			continue;
		frames = json_array();
		json_array_foreach(json_object_get(s, "stack"), j, f)
			json_array_append_new(frames, flame_frame(json_string_value(f) ?: "?"));
		json_array_append_new(out, json_pack("{s:s, s:o, s:I}", "comm", "heap", "frames", frames,
						     "bytes", (json_int_t)bytes));
	}
	return out;
}

size_t alloc_held_add(struct alloc_held *out, size_t n, size_t cap, uint32_t tgid,
		      const struct alloc_lib_pending *t)
{
	if (t->magic != ALLOC_LIB_PENDING_MAGIC || t->n != ALLOC_LIB_PENDING_MAX)
		return n;
	for (size_t i = 0; i < ALLOC_LIB_PENDING_MAX && n < cap; i++)
		if (t->e[i].blk)
			out[n++] = (struct alloc_held){ .tgid = tgid, .addr = t->e[i].blk };
	return n;
}

static int held_cmp(const void *pa, const void *pb)
{
	const struct alloc_held *a = pa, *b = pb;

	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

void alloc_held_sort(struct alloc_held *h, size_t n)
{
	if (n)
		qsort(h, n, sizeof(*h), held_cmp);
}

bool alloc_held_has(const struct alloc_held *h, size_t n, uint32_t tgid, uint64_t addr)
{
	struct alloc_held k = { .tgid = tgid, .addr = addr };

	return n && bsearch(&k, h, n, sizeof(*h), held_cmp);
}
