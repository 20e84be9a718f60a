// SPDX-License-Identifier: GPL-2.0
/* A dry run flags what this process could not apply: each knob family says what it lacks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include "tuner.h"

int tune_flag_permissions(struct tune_result *r, const struct snapshot *s, uint64_t cap_eff,
			  uid_t euid, bool live)
{
	int n = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct proposal *p = &r->props[i];
		const struct proc_snap *q = p->pid ? snapshot_proc(s, p->pid) : NULL;
		const char *need = knob_family(p->family)->lacks(p, cap_eff, euid, live,
								  q && q->uid != euid);

		p->cannot[0] = 0;
		if (need) {
			snprintf(p->cannot, sizeof(p->cannot), "this process lacks %s", need);
			n++;
		}
	}
	return n;
}
