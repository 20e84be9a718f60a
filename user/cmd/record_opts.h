/* SPDX-License-Identifier: GPL-2.0 */
/* Options shared by the commands that run collectors (record, top, serve). */
#ifndef DISCO_RECORD_OPTS_H
#define DISCO_RECORD_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include "collector.h"
#include "opts.h"

struct record_args {
	struct common_opts co;	/* -j -q -o -p -e -d as given */
	struct rec_opts o;
	uint64_t mask;
	uint64_t duration_ns;
	uint64_t interval_ns;	/* -i: one summary (and snapshot) per interval */
	unsigned long long count;	/* -n: stop after COUNT intervals */
	const char *output;
	const char *user;
	bool force, quiet, json, system_wide;
	int cmd_argc;		/* COMMAND after "--" */
	char **cmd_argv;
};

/* Filters, ring size, statistics, -a -f -u -F: the rows record, top and serve share. */
extern const struct opt record_run_rows[];
int record_run_set(struct record_args *a, int key, const char *val, char *msg, size_t len);

/*
 * Parse argv of `disco <cmd>` with the command's table c (its own rows go
 * to c->set(ctx, ...)); EXIT_OK, or the exit status after one line.
 * Validates what can be validated up front: pids exist, the cgroup is a
 * cgroup v2 directory, durations and sizes are numbers.
 */
int record_parse_args(int argc, char **argv, const struct opt_cmd *c, struct record_args *a,
		      void *ctx);

#endif
