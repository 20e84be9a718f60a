/* SPDX-License-Identifier: GPL-2.0 */
/* Command table entries (one row per command in main.c). */
#ifndef DISCO_CMD_H
#define DISCO_CMD_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

enum cmd_flags {
	CMD_ROOT = 1 << 0,	/* needs root / CAP_BPF: checked by the dispatcher */
	CMD_COLOPTS = 1 << 1,	/* takes collectors' own options: listed in --help */
};

struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);	/* returns the exit status */
	unsigned int flags;
	const char *summary;	/* one line for `disco --help` */
	const char *usage;	/* full text for `disco CMD --help`, with examples */
	void (*more_help)(FILE *f);	/* NULL, or what follows usage: lists from tables */
};

/* Exit statuses (SPEC §9) */
enum {
	EXIT_OK = 0,
	EXIT_ERR = 1,
	EXIT_USAGE = 2,
	EXIT_REGRESS = 3,
};

/* Print "disco CMD: msg" and the usage hint; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Strict number parsing for option values: 0 or -EINVAL. */
int parse_u64(const char *s, unsigned long long *out);
/* "10" (seconds), "0.5", "500ms", "2s", "1m", "250us", "10ns": 0, -EINVAL or -ERANGE */
int parse_duration(const char *s, uint64_t *ns);

/* Set by SIGINT/SIGTERM once catch_stop_signals() ran: loops end cleanly. */
extern volatile sig_atomic_t stop_signal;
void on_stop_signal(int sig);
void catch_stop_signals(void);
/* The same from the start, restarting system calls while setting up. */
void catch_stop_signals_early(void);
/* In a child before exec: SIGINT and SIGTERM as this process got them. */
void restore_inherited_stop_signals(void);

int cmd_check(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_serve(int argc, char **argv);

extern const char usage_check[], usage_record[], usage_report[], usage_top[],
	usage_tune[], usage_bench[], usage_serve[];

#endif
