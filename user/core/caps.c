// SPDX-License-Identifier: GPL-2.0
/* Capabilities kept after attaching, shared by record and serve. */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/capability.h>
#include "caps.h"
#include "log.h"

int caps_limit(const cap_value_t *keep, int n)
{
	cap_t caps;
	int err = 0;

	/*
	 * Nothing exec'd from here may gain privileges: no setuid, no file
	 * capabilities, and an empty bounding set. Dropping from the bounding
	 * set needs CAP_SETPCAP, which goes next.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	for (int c = 0; c <= 63; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno == EINVAL)
			break;	/* past the kernel's last capability */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	caps = cap_init();
	if (!caps)
		return -errno;
	if (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET) ||
		      cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET)))
		err = -EINVAL;
	else if (cap_set_proc(caps))
		err = -errno;
	cap_free(caps);
	return err;
}

void caps_drop_after_attach(bool writer)
{
	/*
	 * What a running session still uses:
	 * - CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE: /proc/PID/maps, exe and the
	 *   binaries of other users' processes, read at a process's first
	 *   sample or allocation to name its frames;
	 * - CAP_SYSLOG: kernel addresses in /proc/kallsyms;
	 * - CAP_KILL: signalling COMMAND when it runs as another user (-u);
	 * - CAP_SYS_NICE (last, kept only for a session writer): its thread
	 *   runs at SCHED_IDLE and is raised back to normal priority when it
	 *   falls behind (session.c); leaving SCHED_IDLE needs it, as
	 *   RLIMIT_NICE is 0 by default.
	 */
	static const cap_value_t keep[] = {
		CAP_KILL, CAP_SYSLOG, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
		CAP_SYS_NICE,
	};
	int n = sizeof(keep) / sizeof(keep[0]) - !writer;
	int err = caps_limit(keep, n);

	if (err)
		log_warn("could not drop capabilities: %s", strerror(-err));
	else
		log_info("dropped capabilities not needed after attaching");
}
