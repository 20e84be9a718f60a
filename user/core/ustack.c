// SPDX-License-Identifier: GPL-2.0
/* Userspace-unwound stacks: sample decoding, the stack copy, counts per stack. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ustack.h"

int ustack_decode(const void *data, size_t len, struct ustack_sample *s)
{
	struct cpu_dwarf_event e;

	/* ring records are 8-byte aligned, session records only 4: copy */
	if (len < sizeof(e))
		return -EBADMSG;
	memcpy(&e, data, sizeof(e));
	if (e.type != CPU_EV_DWARF || e.stack_size > len - sizeof(e) ||
	    e.stack_size > CPU_DWARF_MAX_STACK)
		return -EBADMSG;
	s->tgid = e.tgid;
	s->tid = e.tid;
	s->kstack = e.kstack;
	memcpy(s->comm, e.comm, sizeof(s->comm));
	memcpy(s->regs, e.regs, sizeof(s->regs));
	s->stack = (const uint8_t *)data + sizeof(e);
	s->stack_size = e.stack_size;
	return 0;
}

bool ustack_read_word(const struct ustack_sample *s, uint64_t addr, uint64_t *val)
{
	uint64_t sp = s->regs[CPU_DWARF_REG_SP];

	if (addr < sp || addr - sp > s->stack_size || s->stack_size - (addr - sp) < sizeof(*val))
		return false;
	memcpy(val, s->stack + (addr - sp), sizeof(*val));
	return true;
}

#define AGG_MIN_SLOTS 1024

struct ustack_agg {
	struct ustack_row *rows;
	size_t nrows, cap;
	uint32_t *slots;	/* row index + 1; 0: empty */
	size_t nslots;
};

struct ustack_agg *ustack_agg_new(void)
{
	struct ustack_agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->nslots = AGG_MIN_SLOTS;
	a->slots = calloc(a->nslots, sizeof(*a->slots));
	if (!a->slots) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

void ustack_agg_free(struct ustack_agg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nrows; i++)
		free(a->rows[i].ips);
	free(a->rows);
	free(a->slots);
	free(a);
}

/* FNV-1a over the key's words */
static uint64_t key_hash(uint32_t pid, int32_t kstack, const uint64_t *ips, int n, bool trunc)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint64_t w[3] = { pid, (uint32_t)kstack, (uint64_t)n << 1 | trunc };

	for (int i = 0; i < 3 + n; i++) {
		h ^= i < 3 ? w[i] : ips[i - 3];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static bool row_is(const struct ustack_row *r, uint32_t pid, int32_t kstack, const uint64_t *ips,
		   int n, bool trunc)
{
	return r->pid == pid && r->kstack == kstack && r->nframes == n && r->truncated == trunc &&
	       !memcmp(r->ips, ips, (size_t)n * sizeof(*ips));
}

static uint32_t *find_slot(uint32_t *slots, size_t nslots, const struct ustack_row *rows,
			   uint64_t h, uint32_t pid, int32_t kstack, const uint64_t *ips, int n,
			   bool trunc)
{
	size_t i = h & (nslots - 1);

	while (slots[i] && !row_is(&rows[slots[i] - 1], pid, kstack, ips, n, trunc))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int rehash(struct ustack_agg *a)
{
	size_t n = a->nslots * 2;
	uint32_t *v = calloc(n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t r = 0; r < a->nrows; r++) {
		const struct ustack_row *x = &a->rows[r];
		uint64_t h = key_hash(x->pid, x->kstack, x->ips, x->nframes, x->truncated);

		*find_slot(v, n, a->rows, h, x->pid, x->kstack, x->ips, x->nframes, x->truncated) =
			(uint32_t)r + 1;
	}
	free(a->slots);
	a->slots = v;
	a->nslots = n;
	return 0;
}

int ustack_agg_add(struct ustack_agg *a, uint32_t pid, const char *comm, int32_t kstack,
		   const uint64_t *ips, int n, bool truncated)
{
	struct ustack_row *r;
	uint32_t *slot;
	uint64_t h;

	if (n < 0)
		n = 0;
	if (n > USTACK_MAX_DEPTH) {
		n = USTACK_MAX_DEPTH;
		truncated = true;
	}
	h = key_hash(pid, kstack, ips, n, truncated);
	slot = find_slot(a->slots, a->nslots, a->rows, h, pid, kstack, ips, n, truncated);
	if (*slot) {
		a->rows[*slot - 1].count++;
		return 0;
	}
	if ((a->nrows + 1) * 2 > a->nslots) {
		if (rehash(a))
			return -ENOMEM;
		slot = find_slot(a->slots, a->nslots, a->rows, h, pid, kstack, ips, n, truncated);
	}
	if (a->nrows == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct ustack_row *v = realloc(a->rows, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->rows = v;
		a->cap = cap;
	}
	r = &a->rows[a->nrows];
	r->ips = malloc((size_t)(n ?: 1) * sizeof(*ips));
	if (!r->ips)
		return -ENOMEM;
	memcpy(r->ips, ips, (size_t)n * sizeof(*ips));
	r->pid = pid;
	r->kstack = kstack;
	memset(r->comm, 0, sizeof(r->comm));
	memcpy(r->comm, comm, strnlen(comm, sizeof(r->comm) - 1));
	r->truncated = truncated;
	r->nframes = n;
	r->count = 1;
	*slot = (uint32_t)++a->nrows;
	return 0;
}

size_t ustack_agg_count(const struct ustack_agg *a)
{
	return a ? a->nrows : 0;
}

const struct ustack_row *ustack_agg_row(const struct ustack_agg *a, size_t i)
{
	return a && i < a->nrows ? &a->rows[i] : NULL;
}
