// SPDX-License-Identifier: GPL-2.0
/* The one option layer: getopt_long built from tables, one wording of every error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "log.h"
#include "opts.h"
#include "record_opts.h"

#define OPT_COLLECTOR 2000	/* + index into the flattened collector options */
#define MAX_ROWS 160
#define PID_MAX_LIMIT 4194304	/* the kernel's upper bound for pid_max */

/* -j, -q and -v: every command takes them. */
const struct opt common_opt_rows[] = {
	{ "json", 'j', NULL, "JSON on stdout" },
	{ "quiet", 'q', NULL, "no progress, status or summary lines" },
	{ "verbose", 'v', NULL, "more messages (-vv: libbpf and debug output)" },
	{ "output", 'o', "FILE", "write to FILE" },
	{ "pid", 'p', "PID", "only this process (repeatable)" },
	{ "event", 'e', "LIST", "collectors, comma-separated" },
	{ "duration", 'd', "DUR", "for DUR: 10 (seconds), 0.5, 500ms, 2m" },
	{ NULL },
};
/* the index of the first row a CO_* flag enables */
#define COMMON_ALWAYS 3

/* A row into getopt's table and its short-option string. */
static void add_row(struct option *lo, size_t *n, char *shorts, size_t *ns,
		    const struct opt *r, int val)
{
	bool optional = r->arg && r->arg[0] == '[';

	lo[(*n)++] = (struct option){ r->name, !r->arg ? no_argument :
				      optional ? optional_argument : required_argument, NULL, val };
	if (r->key > 0 && r->key < 256) {
		shorts[(*ns)++] = (char)r->key;
		if (r->arg)
			shorts[(*ns)++] = ':';
		if (optional)
			shorts[(*ns)++] = ':';
	}
}

int opt_fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

static int set_common(const struct opt_cmd *c, int key, const char *val, struct common_opts *co)
{
	char *m = co->msg;
	size_t ml = sizeof(co->msg);

	unsigned long long v;
	uint64_t ns;

	switch (key) {
	case 'j':
		if (c->no_json)
			return opt_fail(m, ml, "-j: %s", c->no_json);
		co->json = true;
		break;
	case 'q':
		co->quiet = true;
		break;
	case 'v':
		log_verbosity++;
		break;
	case 'o':
		if (!*val)
			return opt_fail(m, ml, "-o needs a file name");
		co->output = val;
		break;
	case 'p':
		if (parse_u64(val, &v) || v == 0 || v > PID_MAX_LIMIT)
			return opt_fail(m, ml, "-p needs a process id, not '%s'", val);
		if (co->npids == MAX_FILTER_PIDS)
			return opt_fail(m, ml, "at most %d -p options", MAX_FILTER_PIDS);
		co->pids[co->npids++] = (pid_t)v;
		break;
	case 'e':
		co->events = val;
		break;
	case 'd':
		if (parse_duration(val, &ns))
			return opt_fail(m, ml, "-d needs a duration such as 10, 0.5, 500ms, 2m; not '%s'",
					 val);
		co->duration_ns = ns;
		co->duration_set = true;
		break;
	}
	return EXIT_OK;
}

/* The option as the user typed it, for the messages: "-d", "--top". */
static void typed(char *buf, size_t len, int opt, char **argv, int idx)
{
	const char *a = idx > 0 ? argv[idx - 1] : "";

	if (opt > 0 && opt < 256 && strncmp(a, "--", 2))
		snprintf(buf, len, "-%c", opt);
	else
		snprintf(buf, len, "%.*s", (int)strcspn(a, "="), a);
}

static bool in_rows(const struct opt *rows, int key)
{
	for (size_t i = 0; rows && rows[i].name; i++)
		if (rows[i].key == key)
			return true;
	return false;
}

static bool col_option_seen(const char *const *cname, size_t nc, const char *name)
{
	for (size_t i = 0; i < nc; i++)
		if (!strcmp(cname[i], name))
			return true;
	return false;
}

/*
 * A collector option goes to every collector that declares the name:
 * `--port 8080` filters tcp's connections and app's servers alike, and
 * each collector keeps it among its own filters.
 */
static int set_collector_option(struct record_args *ra, const struct collector *const *owner,
				const char *const *cname, size_t nc, const char *name,
				const char *arg, char *m, size_t ml)
{
	for (size_t i = 0; i < nc; i++) {
		const struct collector *col = owner[i];
		void *cctx;

		if (strcmp(cname[i], name))
			continue;
		cctx = ra ? rec_opts_col(&ra->o, (size_t)collector_index(col)) : NULL;
		if (!cctx || !col->set_option || col->set_option(cctx, name, arg))
			return opt_fail(m, ml, "bad value for --%s: '%s'", name, arg ?: "");
		if (rec_opts_given(&ra->o, col, name, arg))
			return opt_fail(m, ml, "out of memory");
	}
	return EXIT_OK;
}

int opts_parse_quiet(const struct opt_cmd *c, int argc, char **argv, struct common_opts *co,
		     struct record_args *ra, void *ctx, int *first)
{
	char *m = co->msg;
	size_t ml = sizeof(co->msg);
	struct option lo[MAX_ROWS + 1];
	const struct collector *owner[MAX_ROWS];
	const char *cname[MAX_ROWS];
	char shorts[2 * MAX_ROWS + 3], what[64];
	size_t n = 0, ns = 0, nc = 0;
	int opt, rc = EXIT_OK;

	memset(co, 0, sizeof(*co));
	shorts[ns++] = c->in_order ? '+' : ':';
	if (c->in_order)
		shorts[ns++] = ':';
	for (size_t i = 0; common_opt_rows[i].name; i++)
		if (i < COMMON_ALWAYS || (c->common & (1u << (i - COMMON_ALWAYS))))
			add_row(lo, &n, shorts, &ns, &common_opt_rows[i], common_opt_rows[i].key);
	for (size_t i = 0; c->own && c->own[i].name && n < MAX_ROWS; i++)
		add_row(lo, &n, shorts, &ns, &c->own[i], c->own[i].key);
	for (size_t i = 0; c->colopts && record_run_rows[i].name && n < MAX_ROWS; i++)
		add_row(lo, &n, shorts, &ns, &record_run_rows[i], record_run_rows[i].key);
	for (size_t i = 0; c->colopts && i < ncollectors; i++) {
		for (const struct col_option *o = collectors[i]->options; o && o->name; o++) {
			struct opt r = { o->name, 0, o->has_arg ? "ARG" : NULL, o->help };

			if (n == MAX_ROWS || nc == MAX_ROWS)
				break;
			owner[nc] = collectors[i];
			cname[nc] = o->name;
			/* a name several collectors take (--port) is one getopt row */
			if (!col_option_seen(cname, nc, o->name))
				add_row(lo, &n, shorts, &ns, &r, OPT_COLLECTOR + (int)nc);
			nc++;
		}
	}
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	shorts[ns] = 0;

	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;	/* the messages are ours */
	while (rc == EXIT_OK && (opt = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (opt == ':') {
			typed(what, sizeof(what), optopt, argv, optind);
			rc = opt_fail(m, ml, "%s needs a value", what);
		} else if (opt == '?') {
			if (optopt)
				snprintf(what, sizeof(what), "-%c", optopt);
			else
				typed(what, sizeof(what), 0, argv, optind);
			rc = opt_fail(m, ml, "unknown option '%s'", what);
		} else if (opt < 256 && in_rows(common_opt_rows, opt)) {
			rc = set_common(c, opt, optarg, co);
		} else if (c->colopts && ra && in_rows(record_run_rows, opt)) {
			rc = record_run_set(ra, opt, optarg, m, ml);
		} else if (opt >= OPT_COLLECTOR && opt < OPT_COLLECTOR + (int)nc) {
			rc = set_collector_option(ra, owner, cname, nc,
						  cname[opt - OPT_COLLECTOR], optarg, m, ml);
		} else {
			rc = c->set ? c->set(ctx, opt, optarg, m, ml) : opt_fail(m, ml, "unknown option");
		}
	}
	*first = optind;
	return rc;
}

int opts_parse(const struct opt_cmd *c, int argc, char **argv, struct common_opts *co,
	       struct record_args *ra, void *ctx, int *first)
{
	int rc = opts_parse_quiet(c, argc, argv, co, ra, ctx, first);

	if (rc == EXIT_USAGE && co->msg[0])
		usage_error(c->name, "%s", co->msg);
	return rc;
}

const struct opt_cmd *const opt_cmds[] = {
	&opt_cmd_check, &opt_cmd_record, &opt_cmd_report, &opt_cmd_top,
	&opt_cmd_serve, &opt_cmd_tune, &opt_cmd_bench, NULL,
};

/* Each row a command takes, in --help order: shared, own, shared by the recorders, collectors'. */
void opts_for_each(const struct opt_cmd *c, void (*fn)(const struct opt *r, void *arg), void *arg)
{
	for (size_t i = 0; common_opt_rows[i].name; i++) {
		struct opt r = common_opt_rows[i];

		if (i >= COMMON_ALWAYS && !(c->common & (1u << (i - COMMON_ALWAYS))))
			continue;
		if (r.key == 'j')
			r.help = c->no_json ? "refused: see above" : c->json_means ?: r.help;
		else if (r.key == 'q' && c->quiet_means)
			r.help = c->quiet_means;
		else if (r.key == 'o' && c->output_means)
			r.help = c->output_means;
		fn(&r, arg);
	}
	for (size_t i = 0; c->own && c->own[i].name; i++)
		fn(&c->own[i], arg);
	for (size_t i = 0; c->colopts && record_run_rows[i].name; i++)
		fn(&record_run_rows[i], arg);
	for (size_t i = 0; c->colopts && i < ncollectors; i++) {
		for (const struct col_option *o = collectors[i]->options; o && o->name; o++) {
			struct opt r = { o->name, 0, o->has_arg ? "ARG" : NULL, o->help };

			fn(&r, arg);
		}
	}
}

/* roff: a '-' is '\-', a backslash is '\e'. */
static void man_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
}

static void man_row(const struct opt *r, void *arg)
{
	FILE *f = arg;

	fputs(".TP\n.B ", f);
	if (r->key > 0 && r->key < 256)
		fprintf(f, "\\-%c, ", r->key);
	fputs("\\-\\-", f);
	man_text(f, r->name);
	if (r->arg) {
		fputs(" \\fI", f);
		man_text(f, r->arg);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	man_text(f, r->help);
	fputc('\n', f);
}

void opts_print_man(FILE *f)
{
	fputs(".SH OPTIONS\n"
	      "Generated from the option tables by\n"
	      ".BR \"disco help \\-\\-man\" ;\n"
	      "every command also takes\n"
	      ".BR \\-h \", \" \\-\\-help .\n", f);
	for (size_t i = 0; opt_cmds[i]; i++) {
		fprintf(f, ".SS disco %s\n", opt_cmds[i]->name);
		if (opt_cmds[i]->no_json) {
			fputs("\\-j is refused: ", f);
			man_text(f, opt_cmds[i]->no_json);
			fputs(".\n", f);
		}
		opts_for_each(opt_cmds[i], man_row, f);
	}
}

static void completion_row(const struct opt *r, void *arg)
{
	FILE *f = arg;

	if (r->key > 0 && r->key < 256)
		fprintf(f, " -%c", r->key);
	fprintf(f, " --%s", r->name);
}

void opts_print_completion(FILE *f)
{
	fputs("# bash completion for disco, generated by `disco help --bash-completion`\n"
	      "_disco()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} words\n"
	      "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n\t\twords=\"help", f);
	for (size_t i = 0; opt_cmds[i]; i++)
		fprintf(f, " %s", opt_cmds[i]->name);
	fputs("\"\n\telse\n\t\tcase $cmd in\n", f);
	for (size_t i = 0; opt_cmds[i]; i++) {
		fprintf(f, "\t\t%s) words=\"", opt_cmds[i]->name);
		opts_for_each(opt_cmds[i], completion_row, f);
		fputs(" --help\";;\n", f);
	}
	fputs("\t\t*) words=\"\";;\n\t\tesac\n\tfi\n"
	      "\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\n"
	      "complete -o default -F _disco disco\n", f);
}
