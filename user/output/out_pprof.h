/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stacks of one collector as a pprof profile (the Profile message of
 * user/output/profile.proto, gzip-compressed), the file `go tool pprof`,
 * Pyroscope and Parca read: `disco report --format pprof`.
 *
 * cpu: sample types samples/count and cpu/nanoseconds (period 1 s / -F);
 * offcpu: blocks/count and blocked/nanoseconds; alloc (its "sites"):
 * alloc_objects, alloc_space, inuse_objects, inuse_space, already scaled
 * by the sampling weight. Any other collector with "stacks": its value
 * (flame_stack_value). Frames keep their module as the Mapping (kernel
 * frames under [kernel.kallsyms] or [module]), with its build-id from the
 * collector's "build_ids" when it has one; an unnamed frame is the
 * function "module+0xOFF" at that file offset. Each sample has the labels
 * pid (number) and comm; a stack cut short has the label truncated=yes and
 * an outermost frame "[truncated]"; the stacks past those listed in
 * the report are one sample "[other stacks]", so the totals are the
 * session's. Idle samples (pid 0) are left out, as in the folded output.
 */
#ifndef DISCO_OUT_PPROF_H
#define DISCO_OUT_PPROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

struct pprof_meta {
	int64_t time_ns;	/* session start, ns since the epoch (0: unknown) */
	int64_t duration_ns;
	const char *comment;	/* one free-text line, or NULL */
};

/*
 * The serialized Profile (not compressed) of col, the object of collector
 * name, into *buf (malloc'd) and *len. 0; -ENODATA when col has no stacks;
 * -ENOMEM.
 */
int pprof_encode(const json_t *col, const char *name, const struct pprof_meta *m,
		 uint8_t **buf, size_t *len);

/* The same gzip-compressed, as pprof files are, written to out. 0 or -errno. */
int pprof_write(const json_t *col, const char *name, const struct pprof_meta *m, FILE *out);

#endif
