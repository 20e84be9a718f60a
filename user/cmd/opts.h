/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one option layer: every command's flags are rows of tables, parsed by
 * opts_parse(). The shared flags mean the same in every command that takes
 * them; a command adds its own rows (and record/top/serve the collectors').
 */
#ifndef DISCO_OPTS_H
#define DISCO_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "collector.h"

/* One row: --name / -key, its value's name (NULL: a flag), one help line. */
struct opt {
	const char *name;	/* long name, without "--" */
	int key;		/* short letter, or a number >= 256 without one */
	const char *arg;	/* "FILE", "PID", ...: NULL for a flag; "[J]": value optional */
	const char *help;
};

/* The shared flags a command takes besides -j, -q and -v (which all take). */
enum {
	CO_OUTPUT = 1 << 0,	/* -o, --output FILE */
	CO_PID = 1 << 1,	/* -p, --pid PID (repeatable) */
	CO_EVENT = 1 << 2,	/* -e, --event LIST */
	CO_DURATION = 1 << 3,	/* -d, --duration DUR */
};

struct common_opts {
	char msg[256];			/* what was wrong, when parsing failed */
	bool json;			/* -j: JSON on stdout */
	bool quiet;			/* -q */
	const char *output;		/* -o */
	pid_t pids[MAX_FILTER_PIDS];	/* -p */
	int npids;
	const char *events;		/* -e */
	uint64_t duration_ns;		/* -d */
	bool duration_set;
};

struct opt_cmd {
	const char *name;		/* "record" */
	unsigned int common;		/* CO_* */
	const char *no_json;		/* why -j is refused, or NULL: it gives JSON */
	const char *json_means;		/* what -j prints here (help, man page) */
	const char *quiet_means;	/* what -q leaves out here */
	const char *output_means;	/* what -o writes here */
	const struct opt *own;		/* ended by a row without a name; may be NULL */
	bool colopts;			/* record_run_rows and the collectors' own options */
	bool in_order;			/* options end at the first operand (COMMAND) */
	/*
	 * One of its own rows was given: EXIT_OK; EXIT_USAGE with the
	 * reason in msg (opt_fail()); EXIT_ERR after logging it.
	 */
	int (*set)(void *ctx, int key, const char *val, char *msg, size_t len);
};

/* The rows of the shared flags (for help, the man page test, completion). */
extern const struct opt common_opt_rows[];
/* Every command's table (in its cmd_*.c), for the tests and completion. */
extern const struct opt_cmd *const opt_cmds[];	/* ended by NULL */
extern const struct opt_cmd opt_cmd_check, opt_cmd_record, opt_cmd_report, opt_cmd_top,
	opt_cmd_serve, opt_cmd_tune, opt_cmd_bench;

/*
 * Parse argv of `disco CMD` (argv[0] is CMD): shared flags into *co, the
 * rows of record_run_rows and the collectors' options into *ra (colopts
 * only), the command's own through
 * set(ctx, ...). *first is the index of the first operand. EXIT_OK, or the
 * exit status after one line on stderr ("disco CMD: -d needs a value").
 */
struct record_args;
int opts_parse(const struct opt_cmd *c, int argc, char **argv, struct common_opts *co,
	       struct record_args *ra, void *ctx, int *first);
/* The same, printing nothing: a usage error leaves its reason in co->msg. */
int opts_parse_quiet(const struct opt_cmd *c, int argc, char **argv, struct common_opts *co,
		     struct record_args *ra, void *ctx, int *first);
/* Format the reason of a usage error into msg; returns EXIT_USAGE. */
int opt_fail(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));


/* fn() for every row command c takes, in the order --help and the man page list them. */
void opts_for_each(const struct opt_cmd *c, void (*fn)(const struct opt *r, void *arg), void *arg);
/* The OPTIONS section of docs/disco.8, from the tables. */
void opts_print_man(FILE *f);
/* A bash completion script, from the tables. */
void opts_print_completion(FILE *f);

#endif
