// SPDX-License-Identifier: GPL-2.0
/* CPU affinity of a whole process: every thread under /proc/PID/task. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include "tuner.h"

int affinity_get(pid_t pid, cpu_set_t *set)
{
	CPU_ZERO(set);
	return sched_getaffinity(pid, sizeof(*set), set) ? -errno : 0;
}

/*
 * A thread created while we walk the list inherits the mask of its creator,
 * which we may have set already or not: walk until a pass changes nothing
 * new, a few times at most.
 */
int affinity_set_all(const char *root, pid_t pid, const cpu_set_t *set)
{
	char path[PATH_MAX];
	int err = 0, pass, changed = 1;

	snprintf(path, sizeof(path), "%s/proc/%d/task", root, (int)pid);
	for (pass = 0; pass < 4 && changed && !err; pass++) {
		struct dirent *de;
		DIR *d = opendir(path);

		changed = 0;
		if (!d)
			return -errno;
		while ((de = readdir(d))) {
			cpu_set_t now;
			char *end;
			long tid;

			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			tid = strtol(de->d_name, &end, 10);
			if (*end || tid <= 0 || tid > INT_MAX)
				continue;
			if (!sched_getaffinity((pid_t)tid, sizeof(now), &now) &&
			    CPU_EQUAL(&now, set))
				continue;
			if (sched_setaffinity((pid_t)tid, sizeof(*set), set)) {
				/* a thread that exited meanwhile is not an error */
				if (errno == ESRCH)
					continue;
				err = -errno;
				break;
			}
			changed = 1;
		}
		closedir(d);
	}
	return err;
}

/* ---- the CPU affinity knob family ---- */

static int affinity_knob_normalize(const char *knob, const char *in, char *out, size_t len)
{
	cpu_set_t set;

	if (strcmp(knob, "affinity") || cpulist_parse(in, &set) || !CPU_COUNT(&set))
		return -EINVAL;
	cpulist_format(&set, out, len);
	return 0;
}

static int affinity_knob_read(const struct live_knobs *k, const struct journal_entry *e,
			      char *val, size_t len)
{
	cpu_set_t set;
	int err = knob_check_pid(k, e);

	if (err || (err = affinity_get(e->pid, &set)))
		return err;
	cpulist_format(&set, val, len);
	return 0;
}

static int affinity_knob_write(const struct live_knobs *k, const struct journal_entry *e,
			       const char *val)
{
	cpu_set_t set;
	int err;

	if (cpulist_parse(val, &set) || !CPU_COUNT(&set))
		return -EINVAL;
	err = knob_check_pid(k, e);
	return err ? err : affinity_set_all(k->root, e->pid, &set);
}

static const char *affinity_knob_privilege(const char *knob, const char *previous,
					   const char *next)
{
	(void)knob;
	(void)previous;
	(void)next;
	return "CAP_SYS_NICE (or the same uid as the process)";
}

static const char *affinity_knob_lacks(const struct proposal *p, uint64_t cap_eff, uid_t euid,
				       bool live, bool other)
{
	(void)euid;
	if (!live)
		return "a live system (--root is a tree)";
	if (!((cap_eff >> CAP_SYS_NICE) & 1) && other)
		return affinity_knob_privilege(p->knob, p->current, p->proposed);
	return NULL;
}

const struct knob_family knob_family_affinity = {
	.name = "affinity",
	.title = "CPU affinity",
	.per_process = true,
	.normalize = affinity_knob_normalize,
	.read = affinity_knob_read,
	.write = affinity_knob_write,
	.privilege = affinity_knob_privilege,
	.lacks = affinity_knob_lacks,
};
