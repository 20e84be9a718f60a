/* SPDX-License-Identifier: GPL-2.0 */
/* The system collector's snapshot of /proc and /sys under a root, exposed for tests. */
#ifndef DISCO_COL_SYSTEM_H
#define DISCO_COL_SYSTEM_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define SYS_TOP_CGROUPS 10	/* cgroups listed by pressure */
#define SYS_MAX_CGROUPS 1024	/* cgroups looked at per snapshot */

struct sys_cg_prev {
	char *path;
	uint64_t stall_us;	/* some cpu + memory + io, µs */
};

struct sys_state {
	char root[PATH_MAX];	/* "/" or a tree shaped like it (--system-root) */
	long hz;		/* USER_HZ of /proc/stat */
	long page_bytes;
	struct sys_cg_prev *prev;	/* pressure totals of the last snapshot */
	size_t nprev;
};

/*
 * One snapshot: cumulative counters and current levels, shaped as the
 * "system" object of docs/json-schema.md. Files that are missing are left
 * out; NULL only when out of memory.
 */
json_t *system_snapshot(struct sys_state *s);
void system_state_free(struct sys_state *s);

#endif
