/* SPDX-License-Identifier: GPL-2.0 */
/* Options shared by the commands that run collectors (record, top, serve). */
#ifndef DISCO_RECORD_OPTS_H
#define DISCO_RECORD_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include "collector.h"

struct record_args {
	struct rec_opts o;
	uint64_t mask;
	uint64_t duration_ns;
	uint64_t interval_ns;	/* -i: one summary (and snapshot) per interval */
	unsigned long long count;	/* -n: stop after COUNT intervals */
	const char *output;
	const char *user;
	bool force, quiet, system_wide;
	int cmd_argc;		/* COMMAND after "--" */
	char **cmd_argv;
};

/*
 * Parse argv of `disco <cmd>`; EXIT_OK or EXIT_USAGE (message printed).
 * Validates what can be validated up front: pids exist, the cgroup is a
 * cgroup v2 directory, durations and sizes are numbers.
 */
int record_parse_args(int argc, char **argv, const char *cmd, const char *usage,
		      struct record_args *a);

#endif
