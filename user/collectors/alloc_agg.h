/* SPDX-License-Identifier: GPL-2.0 */
/* Pure aggregation of the alloc collector: merging call-stack sites into the report. */
#ifndef DISCO_ALLOC_AGG_H
#define DISCO_ALLOC_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum alloc_site_val {
	ASV_OUTSTANDING_BYTES,
	ASV_OUTSTANDING_ALLOCS,
	ASV_LEAK_BYTES,		/* outstanding and older than --min-age */
	ASV_LEAK_ALLOCS,
	ASV_TOTAL_BYTES,
	ASV_TOTAL_ALLOCS,
	ASV_FREED_BYTES,
	ASV_FREED_ALLOCS,
	ASV_OUTSTANDING_SAMPLES,	/* blocks actually seen behind the outstanding figures */
	ASV_NR,
};

extern const char *const alloc_site_val_names[ASV_NR];

/* One (process, stack id) row read from the BPF maps. */
struct alloc_site_row {
	uint32_t pid;
	const json_t *stack;	/* array of frame strings (borrowed) */
	uint64_t v[ASV_NR];
};

/*
 * Merge rows whose symbolized stacks are identical (several stack ids or
 * processes of one program end in the same frames), multiply by scale
 * (--sample N; the sample counts stay as they are), sort by outstanding bytes, then total bytes, and keep at
 * most max sites. Each site: {"stack", "pids", <alloc_site_val_names>}.
 */
json_t *alloc_merge_sites(const struct alloc_site_row *rows, size_t n, uint64_t scale,
			  size_t max);

/*
 * The merged sites as flame-graph stacks (user/output/out_flame.h):
 * {"comm": "heap", "frames": [{"sym", "module"}, ...] leaf first, "bytes"}
 * per site with outstanding bytes, from frames formatted "sym+0xOFF (module)".
 */
json_t *alloc_flame_stacks(const json_t *sites);

/*
 * Blocks a preloaded process in full mode freed and still holds back
 * (bpf/alloc.h, ALLOC_LIB_FULL) when the session ends: freed, not
 * outstanding. Appends the non-zero blocks of a table read from process
 * tgid (ignored unless its magic and size are right) to out, cap entries
 * at most; returns the new count.
 */
struct alloc_held {
	uint32_t tgid;
	uint64_t addr;
};
struct alloc_lib_pending;

size_t alloc_held_add(struct alloc_held *out, size_t n, size_t cap, uint32_t tgid,
		      const struct alloc_lib_pending *t);
void alloc_held_sort(struct alloc_held *h, size_t n);
/* Is (tgid, addr) among the n sorted blocks? */
bool alloc_held_has(const struct alloc_held *h, size_t n, uint32_t tgid, uint64_t addr);

/* Key "pid/stack_id" used to join rows from different maps. */
void alloc_site_keystr(char *buf, size_t len, uint32_t pid, uint64_t stack_id);

#endif
