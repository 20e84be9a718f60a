// SPDX-License-Identifier: GPL-2.0
/* disco: command table and dispatcher; the only place that exits. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "cmd.h"
#include "collector.h"
#include "log.h"
#include "opts.h"

static const struct cmd commands[] = {
	{ "check", cmd_check, 0, "show which collectors and hooks can run on this kernel", usage_check },
	{ "record", cmd_record, CMD_ROOT | CMD_COLOPTS, "record a profiling session to a file", usage_record },
	{ "report", cmd_report, 0, "print a recorded session (text, json, html, prometheus)", usage_report },
	{ "top", cmd_top, CMD_ROOT | CMD_COLOPTS, "live view of the collectors, refreshed every second", usage_top },
	{ "serve", cmd_serve, CMD_ROOT | CMD_COLOPTS, "serve /metrics for Prometheus with collectors attached", usage_serve },
	{ "tune", cmd_tune, 0, "recommend sysctls, fd limits, CPU affinity; --apply, --rollback", usage_tune },
	{ "bench", cmd_bench, 0, "kernel benchmarks for CI, baselines, overhead", usage_bench,
	  bench_workloads_help },
};

static const char usage_main[] =
"usage: disco [-v] COMMAND [ARGS]\n"
"\n"
"DiscoMachina: measure what the kernel does to a workload (eBPF), and say\n"
"with evidence what to change (sysctls, fd limits, CPU affinity).\n"
"\n"
"Options:\n"
"  -v, --verbose   more output (-vv: debug, including libbpf's messages)\n"
"  -V, --version   print the version\n"
"  -h, --help      this help; `disco COMMAND --help` for a command\n"
"\n"
"`disco help --man` prints the OPTIONS section of disco(8) and\n"
"`disco help --bash-completion` a completion script, both from the tables.\n"
"\n"
"Commands:\n";

static const char examples_main[] =
"\nExamples:\n"
"  disco check                      # what can run on this kernel\n"
"  disco record -d 10               # 10 s whole-machine session -> disco.data\n"
"  disco report                     # summary of disco.data\n"
"  disco tune                       # dry-run tuning report (changes nothing)\n";

static void print_main_usage(FILE *f)
{
	fputs(usage_main, f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs(examples_main, f);
}

static void print_cmd_usage(const struct cmd *c)
{
	fputs(c->usage, stdout);
	if (c->more_help)
		c->more_help(stdout);
	if (!(c->flags & CMD_COLOPTS))
		return;
	printf("\nCollector options:\n");
	for (size_t i = 0; i < ncollectors; i++)
		for (const struct col_option *o = collectors[i]->options; o && o->name; o++)
			printf("  --%s%s%*s[%s] %s\n", o->name, o->has_arg ? " ARG" : "",
			       (int)(20 - strlen(o->name) - (o->has_arg ? 4 : 0)), "",
			       collectors[i]->name, o->help);
}

static const struct cmd *cmd_select(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *c;
	int opt;

	/* '+': stop at the command name, its options are its own */
	while ((opt = getopt_long(argc, argv, "+vVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			log_verbosity++;
			break;
		case 'V':
			printf("disco %s\n", DISCO_VERSION);
			return EXIT_OK;
		case 'h':
			print_main_usage(stdout);
			return EXIT_OK;
		default:
			print_main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		/* generated from the option tables: docs/disco.8, completion */
		if (optind + 1 < argc && !strcmp(argv[optind + 1], "--man")) {
			opts_print_man(stdout);
			return EXIT_OK;
		}
		if (optind + 1 < argc && !strcmp(argv[optind + 1], "--bash-completion")) {
			opts_print_completion(stdout);
			return EXIT_OK;
		}
		if (optind + 1 < argc && (c = cmd_select(argv[optind + 1]))) {
			print_cmd_usage(c);
			return EXIT_OK;
		}
		print_main_usage(stdout);
		return EXIT_OK;
	}
	c = cmd_select(argv[optind]);
	if (!c) {
		fprintf(stderr, "disco: '%s' is not a command (see 'disco --help')\n", argv[optind]);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			print_cmd_usage(c);
			return EXIT_OK;
		}
	}
	log_setup_libbpf();
	if ((c->flags & CMD_ROOT) && geteuid() != 0) {
		log_err("'disco %s' needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN to load and attach BPF programs): run it with sudo",
			c->name);
		return EXIT_ERR;
	}
	optind = 0;	/* glibc: full re-initialisation for the command's getopt */
	return c->func(argc, argv);
}
