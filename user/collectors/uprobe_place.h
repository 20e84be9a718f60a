/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a uprobe may sit in a function. A probe on an instruction the
 * kernel emulates (push reg, relative jmp/jcc/call) costs about 1 µs here;
 * any other instruction is single-stepped out of line, a trap costing
 * 12-17 µs. Moving a probe past the first instructions is only done when
 * it is proven safe for that exact binary, else it stays on the entry.
 */
#ifndef DISCO_UPROBE_PLACE_H
#define DISCO_UPROBE_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Argument registers (x86-64 SysV order). */
enum place_reg {
	PR_RDI = 1 << 0,
	PR_RSI = 1 << 1,
	PR_RDX = 1 << 2,
	PR_RCX = 1 << 3,
	PR_R8 = 1 << 4,
	PR_R9 = 1 << 5,
};

struct place_req {
	const char *func;	/* for messages */
	uint64_t vaddr;		/* link-time address of the entry */
	uint64_t size;		/* symbol size, 0 if unknown */
	unsigned int need_regs;	/* registers the probe reads: must be intact */
	/*
	 * An argument register (one PR_ bit, or 0) whose zero value means the
	 * call does nothing we trace (free(NULL)): a `test r,r; je` on it may
	 * be stepped over, the skipped calls are not needed.
	 */
	unsigned int null_skip_reg;
};

struct place_result {
	uint64_t offset;	/* bytes past the entry where the probe goes */
	bool emulated;		/* the probed instruction is emulated by the kernel */
	char why[400];		/* what was proven, or why it stays at the entry */
};

/*
 * Decide probe offsets for n functions of the ELF file at path. Each
 * result is filled even on failure (offset 0 = entry). Returns 0, or
 * -errno if the file could not be read at all (then every offset is 0).
 */
int uprobe_place(const char *path, const struct place_req *reqs, size_t n,
		 struct place_result *res);

/*
 * The per-function part, on raw code bytes starting at vaddr (no check
 * for branches into the skipped range: uprobe_place adds that). For tests.
 */
void uprobe_place_code(const uint8_t *code, size_t len, const struct place_req *req,
		       struct place_result *res);

#endif
