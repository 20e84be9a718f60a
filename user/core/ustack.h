/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stacks unwound in userspace (--call-graph dwarf): decoding the sample
 * events, reading the copied stack, and counting samples per
 * (process, kernel stack, user frames), as the kernel does for fp stacks.
 * Pure logic: no syscalls.
 */
#ifndef DISCO_USTACK_H
#define DISCO_USTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf/cpu.h"

/* The deepest user stack kept (as the kernel's stack map for fp stacks). */
#define USTACK_MAX_DEPTH CPU_STACK_DEPTH

/* One decoded sample; stack points into the event. */
struct ustack_sample {
	uint32_t tgid, tid;
	int32_t kstack;
	char comm[16];
	uint64_t regs[CPU_DWARF_NREGS];
	const uint8_t *stack;	/* copy of the user stack from regs[CPU_DWARF_REG_SP] */
	uint32_t stack_size;
};

/*
 * A struct cpu_dwarf_event of len bytes: 0, -EBADMSG when it is not one,
 * or when the stack it claims is longer than the event.
 */
int ustack_decode(const void *data, size_t len, struct ustack_sample *s);

/*
 * The 8-byte word at addr of the copied stack: true when the whole word is
 * inside the copy (unwinding stops at a read outside it).
 */
bool ustack_read_word(const struct ustack_sample *s, uint64_t addr, uint64_t *val);

/* One distinct stack and its samples. */
struct ustack_row {
	uint32_t pid;
	int32_t kstack;
	char comm[16];
	bool truncated;		/* the unwind stopped before the outermost frame */
	int nframes;
	uint64_t count;
	uint64_t *ips;		/* leaf first */
};

struct ustack_agg;
struct ustack_agg *ustack_agg_new(void);
void ustack_agg_free(struct ustack_agg *a);
/*
 * Count one sample of (pid, kstack, ips[0..n)) (n capped at
 * USTACK_MAX_DEPTH, which makes it truncated). comm is the process's name
 * at its first sample. 0 or -ENOMEM.
 */
int ustack_agg_add(struct ustack_agg *a, uint32_t pid, const char *comm, int32_t kstack,
		   const uint64_t *ips, int n, bool truncated);
/* Distinct stacks; row i stays at index i while the table lives. */
size_t ustack_agg_count(const struct ustack_agg *a);
const struct ustack_row *ustack_agg_row(const struct ustack_agg *a, size_t i);

#endif
