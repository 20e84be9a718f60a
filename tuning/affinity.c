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
