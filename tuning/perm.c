// SPDX-License-Identifier: GPL-2.0
/* Which privilege a change needs, so a dry run can flag what this process could not apply and EPERM can name it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include "tuner.h"

#define HAS(caps, c)	(((caps) >> (c)) & 1)

const char *knob_privilege(enum tune_family fam, const char *knob, const char *previous,
			   const char *next)
{
	uint64_t ps, ph, ns, nh;

	switch (fam) {
	case FAM_SYSCTL:
		/* /proc/sys checks the euid, not a capability; net.* of a
		 * namespace also accept CAP_NET_ADMIN over its user namespace */
		return strncmp(knob, "net.", 4) ? "euid 0 (root)" :
		       "euid 0 (root), or CAP_NET_ADMIN over the namespace's user namespace";
	case FAM_NOFILE:
		if (!nofile_parse(previous, &ps, &ph) && !nofile_parse(next, &ns, &nh) && nh > ph)
			return "CAP_SYS_RESOURCE (raising a hard RLIMIT_NOFILE)";
		return "CAP_SYS_RESOURCE (or the same uid as the process)";
	case FAM_AFFINITY:
		return "CAP_SYS_NICE (or the same uid as the process)";
	default:
		return "root";
	}
}

int tune_flag_permissions(struct tune_result *r, const struct snapshot *s, uint64_t cap_eff,
			  uid_t euid, bool live)
{
	int n = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct proposal *p = &r->props[i];
		const struct proc_snap *q = p->pid ? snapshot_proc(s, p->pid) : NULL;
		bool other = q && q->uid != euid;
		uint64_t ps, ph, ns, nh;
		const char *need = NULL;

		p->cannot[0] = 0;
		switch (p->family) {
		case FAM_SYSCTL:
			if (live && euid != 0)
				need = knob_privilege(p->family, p->knob, p->current, p->proposed);
			break;
		case FAM_NOFILE:
			if (!live)
				need = "a live system (--root is a tree)";
			else if (!HAS(cap_eff, CAP_SYS_RESOURCE) &&
				 ((!nofile_parse(p->current, &ps, &ph) &&
				   !nofile_parse(p->proposed, &ns, &nh) && nh > ph) || other))
				need = knob_privilege(p->family, p->knob, p->current, p->proposed);
			break;
		case FAM_AFFINITY:
			if (!live)
				need = "a live system (--root is a tree)";
			else if (!HAS(cap_eff, CAP_SYS_NICE) && other)
				need = knob_privilege(p->family, p->knob, p->current, p->proposed);
			break;
		default:
			break;
		}
		if (need) {
			snprintf(p->cannot, sizeof(p->cannot), "this process lacks %s", need);
			n++;
		}
	}
	return n;
}
