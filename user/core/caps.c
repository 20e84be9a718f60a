// SPDX-License-Identifier: GPL-2.0
/* Capabilities kept after attaching, shared by record and serve. */
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include "caps.h"
#include "log.h"

void caps_drop_after_attach(bool writer)
{
	/*
	 * CAP_SYS_NICE (last, kept only for a session writer): its thread
	 * runs at SCHED_IDLE and is raised back to normal priority when it
	 * falls behind (session.c); leaving SCHED_IDLE needs it, as
	 * RLIMIT_NICE is 0 by default.
	 */
	static const cap_value_t keep[] = {
		CAP_KILL, CAP_SYSLOG, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
		CAP_SYS_NICE,
	};
	int n = sizeof(keep) / sizeof(keep[0]) - !writer;
	cap_t caps = cap_init();

	if (!caps)
		return;
	cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET);
	cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET);
	if (cap_set_proc(caps))
		log_warn("could not drop capabilities: %s", strerror(errno));
	else
		log_info("dropped capabilities not needed after attaching");
	cap_free(caps);
}
