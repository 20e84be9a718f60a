// SPDX-License-Identifier: GPL-2.0
/* disco tune: evidence -> recommendations; dry run, --apply with a journal, --rollback. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "collector.h"
#include "log.h"
#include "opts.h"
#include "recorder.h"
#include "report.h"
#include "safepath.h"
#include "tuner.h"
#include "clock.h"

const char usage_tune[] =
"usage: disco tune [--from FILE | -d SECS [--no-sample]] [-p PID]... [--only LIST]\n"
"                  [--rule ID]... [--root DIR] [--netns PATH|PID] [-j] [-q]\n"
"                  [--apply [--journal FILE|DIR] [--verify [--windows N]] [-- COMMAND...]]\n"
"       disco tune --rollback [JOURNAL] [--force] [--root DIR] [--netns PATH|PID]\n"
"                  [--journal DIR]\n"
"       disco tune --journals [--root DIR] [--netns PATH|PID] [--journal DIR] [--json]\n"
"\n"
"Turn evidence into recommendations for sysctls, fd limits (RLIMIT_NOFILE) and\n"
"CPU affinity. Each one says what to change (current -> proposed), why, the\n"
"numbers that triggered it, the risk, its persistent form and how to undo it.\n"
"The default is a dry run: nothing is written, and the exit status is 0\n"
"whether or not anything is recommended.\n"
"\n"
"Evidence:\n"
"  --from FILE        a session recorded by `disco record` (its counters and\n"
"                     latencies; no root needed); /proc and /sys are read once\n"
"  -d, --duration S   otherwise sample for S seconds (default 10) with the sched\n"
"                     and tcp collectors (root), reading /proc and /sys counters\n"
"                     at the start and the end of the window\n"
"      --no-sample    no BPF: only the /proc and /sys counters over the window\n"
"                     (no root needed); -d 0 takes a single snapshot\n"
"  -p, --pid PID      a process to consider for fd limits and affinity\n"
"                     (repeatable; default: all processes for fd limits, and the\n"
"                     processes with high run-queue latency for affinity)\n"
"\n"
"Selection and output:\n"
"      --only LIST    families to propose: sysctl,nofile,affinity\n"
"      --rule ID      only this rule (repeatable); --list-rules shows them\n"
"      --root DIR     read (and with --apply write sysctls) under DIR instead of /\n"
"      --netns P      read and change net.* sysctls inside the network namespace\n"
"                     of PID P, or of the file P (e.g. /run/netns/NAME)\n"
"  -j, --json         one disco.tune/1 JSON object on stdout\n"
"  -q, --quiet        no \"sampling for\" line\n"
"  -v, --verbose      more messages\n"
"\n"
"Changing things (root, except sysctls under --root):\n"
"      --apply        write a journal (fsync'd, 0600) with every previous value,\n"
"                     then apply and read back each change; on any failure undo\n"
"                     what was changed and exit 1\n"
"      --verify       after applying, measure each rule's trigger again (listen\n"
"                     drops/s, SYN queue drops/s, softnet drops/s, pruning/s,\n"
"                     swap-ins/s, fds %% of the limit, run-queue wait %%...) over\n"
"                     N windows (default 3) of the same length as N windows\n"
"                     measured just before; keep a change only if every window\n"
"                     after is below every window before (the spread before is\n"
"                     the noise), else roll it back through the journal. Before\n"
"                     -> after is printed and written into the journal\n"
"      --windows N    windows on each side for --verify (2-8)\n"
"      -- COMMAND     a workload: run once per window (also during the first\n"
"                     window), so before and after see the same load; it runs\n"
"                     in the --netns namespace\n"
"      --journal F    where to write it: a file, or a directory that keeps the\n"
"                     journals (default <root>/var/lib/disco; journal-TIME.json);\n"
"                     with --rollback and --journals: the directory to look in\n"
"      --rollback [J] restore the values recorded in journal J; without J the\n"
"                     newest journal of this scope (same root, network namespace\n"
"                     and boot) not yet rolled back; a journal of another scope\n"
"                     is only taken when named. A knob changed by someone else\n"
"                     since is reported and left alone; net.* knobs are only\n"
"                     restored in the namespace the journal was written in.\n"
"                     Exit 1 if anything was not restored\n"
"      --force        with --rollback: restore drifted knobs too\n"
"      --journals     list the journals (scope, time, changes, state)\n"
"\n"
"Examples:\n"
"  disco tune                           # 10 s sample, dry-run report\n"
"  disco tune --from disco.data --json  # from a recorded session, as JSON\n"
"  disco tune --no-sample -d 5 -p 1234  # counters only, fd/affinity for pid 1234\n"
"  disco tune --only sysctl --apply     # apply the sysctl recommendations\n"
"  disco tune --rollback                # undo the last --apply\n"
"  disco tune --netns /run/netns/web --rule somaxconn --apply\n";

#define MAX_RULE_ARGS 32

struct tune_args {
	const char *from, *root, *netns, *journal, *rollback_path;
	uint64_t duration_ns;
	bool quiet;		/* -q: no "sampling for" line */
	bool no_sample, json, apply, rollback, force, list_rules, journals, verify;
	int windows;
	char **cmd;			/* after --: the workload */
	pid_t pids[TUNE_MAX_TARGETS];
	int npids;
	struct tune_filter filter;
	const char *rules[MAX_RULE_ARGS];
};

enum {
	OPT_FROM = 256, OPT_NO_SAMPLE, OPT_ONLY, OPT_RULE, OPT_ROOT, OPT_NETNS,
	OPT_APPLY, OPT_JOURNAL, OPT_ROLLBACK, OPT_FORCE, OPT_LIST_RULES, OPT_JOURNALS,
	OPT_VERIFY, OPT_WINDOWS,
};

/* --journal DIR names the journal directory; --journal FILE one journal. */
static const char *journal_dir_arg(const struct tune_args *a)
{
	struct stat st;

	if (!a->journal)
		return NULL;
	if (!stat(a->journal, &st) && S_ISDIR(st.st_mode))
		return a->journal;
	return a->journals ? a->journal : NULL;
}

static const struct opt tune_rows[] = {
	{ "from", OPT_FROM, "FILE", "evidence from a recorded session" },
	{ "no-sample", OPT_NO_SAMPLE, NULL, "no BPF: only /proc and /sys counters" },
	{ "only", OPT_ONLY, "LIST", "families to propose: sysctl,nofile,affinity" },
	{ "rule", OPT_RULE, "ID", "only this rule (repeatable)" },
	{ "list-rules", OPT_LIST_RULES, NULL, "list the rules" },
	{ "root", OPT_ROOT, "DIR", "read (and write sysctls) under DIR instead of /" },
	{ "netns", OPT_NETNS, "PATH|PID", "net.* sysctls of that network namespace" },
	{ "apply", OPT_APPLY, NULL, "apply, with a journal" },
	{ "journal", OPT_JOURNAL, "FILE|DIR", "the journal (or its directory)" },
	{ "rollback", OPT_ROLLBACK, "[J]", "restore what journal J recorded" },
	{ "force", OPT_FORCE, NULL, "with --rollback: restore drifted knobs too" },
	{ "journals", OPT_JOURNALS, NULL, "list the journals" },
	{ "verify", OPT_VERIFY, NULL, "after applying, measure each rule's trigger again" },
	{ "windows", OPT_WINDOWS, "N", "windows on each side for --verify (2-8, default 3)" },
	{ NULL },
};

static int tune_set(void *ctx, int key, const char *val, char *msg, size_t len)
{
	struct tune_args *a = ctx;
	unsigned long long v;

	switch (key) {
	case OPT_FROM:
		a->from = val;
		break;
	case OPT_NO_SAMPLE:
		a->no_sample = true;
		break;
	case OPT_ONLY:
		if (tune_family_parse(val, &a->filter.families))
			return opt_fail(msg, len, "--only takes sysctl,nofile,affinity, not '%s'", val);
		break;
	case OPT_RULE:
		if (!tune_rule_find(val))
			return opt_fail(msg, len, "no rule '%s' (see --list-rules)", val);
		if (a->filter.nrules == MAX_RULE_ARGS)
			return opt_fail(msg, len, "too many --rule options");
		a->rules[a->filter.nrules++] = val;
		break;
	case OPT_LIST_RULES:
		a->list_rules = true;
		break;
	case OPT_ROOT:
		a->root = val;
		break;
	case OPT_NETNS:
		a->netns = val;
		break;
	case OPT_APPLY:
		a->apply = true;
		break;
	case OPT_JOURNAL:
		a->journal = val;
		break;
	case OPT_ROLLBACK:
		a->rollback = true;
		a->rollback_path = val;
		break;
	case OPT_FORCE:
		a->force = true;
		break;
	case OPT_JOURNALS:
		a->journals = true;
		break;
	case OPT_VERIFY:
		a->verify = true;
		break;
	case OPT_WINDOWS:
		if (parse_u64(val, &v) || v < 2 || v > TUNE_VERIFY_MAX_WIN)
			return opt_fail(msg, len, "--windows takes 2 to %d, not '%s'", TUNE_VERIFY_MAX_WIN, val);
		a->windows = (int)v;
		break;
	}
	return EXIT_OK;
}

const struct opt_cmd opt_cmd_tune = {
	.name = "tune",
	.common = CO_PID | CO_DURATION,
	.json_means = "one disco.tune/1 JSON object on stdout",
	.quiet_means = "no \"sampling for\" line",
	.own = tune_rows,
	.set = tune_set,
};

static int parse_args(int argc, char **argv, struct tune_args *a)
{
	struct common_opts co;
	int rc, optind;

	memset(a, 0, sizeof(*a));
	a->root = "/";
	a->filter.rules = a->rules;
	a->windows = 3;
	rc = opts_parse(&opt_cmd_tune, argc, argv, &co, NULL, a, &optind);
	if (rc != EXIT_OK)
		return rc;
	a->duration_ns = co.duration_set ? co.duration_ns : 10ULL * 1000000000ULL;
	a->json = co.json;
	a->quiet = co.quiet;
	for (int i = 0; i < co.npids && i < TUNE_MAX_TARGETS; i++)
		a->pids[a->npids++] = co.pids[i];
	if (optind > 1 && optind <= argc && !strcmp(argv[optind - 1], "--")) {
		if (optind == argc)
			return usage_error("tune", "-- needs a COMMAND");
		a->cmd = &argv[optind];
		optind = argc;
	}
	if (a->rollback && !a->rollback_path && optind < argc)
		a->rollback_path = argv[optind++];
	/* --rollback --journal FILE: that journal (a directory: the newest in it) */
	if (a->rollback && !a->rollback_path && a->journal && !journal_dir_arg(a))
		a->rollback_path = a->journal;
	if (optind < argc)
		return usage_error("tune", "unexpected argument '%s'", argv[optind]);
	if (a->rollback && a->apply)
		return usage_error("tune", "--apply and --rollback exclude each other");
	if (a->journals && (a->rollback || a->apply))
		return usage_error("tune", "--journals only lists: no --apply or --rollback");
	if (a->verify && !a->apply)
		return usage_error("tune", "--verify checks what --apply changed: give --apply");
	if (a->cmd && !a->verify)
		return usage_error("tune", "-- COMMAND is the --verify workload: give --verify");
	if (a->verify && a->from)
		return usage_error("tune", "--verify measures live windows: not with --from");
	if (a->force && !a->rollback)
		return usage_error("tune", "--force only applies to --rollback");
	if (a->journal && !a->apply && !a->rollback && !a->journals)
		return usage_error("tune", "--journal only applies to --apply, --rollback and --journals");
	if (a->from && a->no_sample)
		return usage_error("tune", "--from and --no-sample exclude each other");
	if (!*a->root)
		return usage_error("tune", "--root needs a directory");
	return EXIT_OK;
}

static bool live_root(const struct tune_args *a)
{
	char real[PATH_MAX];

	return realpath(a->root, real) && !strcmp(real, "/");
}

/* mkdir -p for the journal directory; 0700 for what we create. */
static int make_dirs(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* listeners: ask sock_diag too (the evidence windows; --verify's need no owners) */
static int take_snapshot(const struct tune_args *a, struct snapshot *s,
			 const pid_t *targets, int ntargets, bool listeners)
{
	struct snapshot_opts o = { .root = a->root, .targets = targets, .ntargets = ntargets,
				   .all_procs = true, .listeners = listeners && live_root(a),
				   .self = getpid() };
	int saved = -1, err;

	/* /proc/net and /proc/sys/net follow the reader's network namespace */
	if (a->netns && (err = netns_enter(a->netns, &saved))) {
		log_err("--netns %s: %s", a->netns, strerror(-err));
		return err;
	}
	err = snapshot_take(s, &o);
	if ((a->netns && netns_leave(saved)) || err) {
		log_err("snapshot of %s failed: %s", a->root, strerror(err ? -err : errno));
		snapshot_free(s);
		return err ? err : -EIO;
	}
	return 0;
}



/* Fresh evidence: the sched and tcp collectors, system-wide, for the window. */
static json_t *sample(const struct tune_args *a, int argc, char **argv)
{
	static const char *const wanted[] = { "sched", "tcp" };
	struct rec_opts o = { 0 };
	json_t *summary = NULL;
	struct recorder *r;
	uint64_t mask = 0, start;

	for (size_t k = 0; k < sizeof(wanted) / sizeof(wanted[0]); k++) {
		for (size_t i = 0; i < ncollectors; i++)
			if (!strcmp(collectors[i]->name, wanted[k]))
				mask |= 1ULL << i;
	}
	if (!mask) {
		log_err("no sched or tcp collector in this build: use --from FILE or --no-sample");
		return NULL;
	}
	r = recorder_start(mask, &o, NULL, false, argc, argv);
	if (!r)
		return NULL;
	catch_stop_signals();
	start = mono_ns();
	while (!stop_signal && mono_ns() - start < a->duration_ns)
		if (recorder_poll(r, 100) < 0)
			break;
	recorder_poll(r, 0);
	if (recorder_stop(r, &summary)) {
		json_decref(summary);
		summary = NULL;
		log_err("the sampling session failed");
	}
	return summary;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Targets for the end snapshot: -p, or the evidence's slow processes. */
static int evidence_pids(const json_t *ev, pid_t *out, int max)
{
	const json_t *pr;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(json_object_get(json_object_get(ev, "collectors"),
							    "sched"), "processes"), i, pr) {
		json_int_t pid = json_integer_value(json_object_get(pr, "pid"));

		if (n < max && pid > 0 && pid <= INT_MAX)
			out[n++] = (pid_t)pid;
	}
	return n;
}

static int64_t now_realtime_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000LL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Without a path: the newest journal of this scope whose changes are still
 * in force. The newer ones passed over are listed with the reason.
 */
static int pick_journal(const struct tune_scope *here, char *path, size_t len)
{
	char (*names)[256] = NULL, why[256], err[256];
	size_t n = 0, i;
	int rc = journal_names(here->journal_dir, &names, &n);

	if (rc) {
		log_err("no journal in %s (%s): give its path", here->journal_dir, strerror(-rc));
		return rc;
	}
	rc = -ENOENT;
	for (i = 0; i < n; i++) {
		struct journal j;

		snprintf(path, len, "%s/%s", here->journal_dir, names[i]);
		if (journal_read(path, &j, err, sizeof(err))) {
			printf("skipped %s: %s\n", names[i], err);
			continue;
		}
		if (!scope_same(here, &j, why, sizeof(why)))
			printf("skipped %s: %s (name it to roll it back)\n", names[i], why);
		else if (j.rolled_back_ns)
			printf("skipped %s: already rolled back%s%s\n", names[i],
			       j.state_note[0] ? ": " : "", j.state_note);
		else
			rc = 0;
		journal_free(&j);
		if (!rc)
			break;
	}
	if (rc)
		log_err("no journal of this scope (root %s, network namespace %llu:%llu, this boot) "
			"is still in force in %s", here->root, (unsigned long long)here->id.netns_dev,
			(unsigned long long)here->id.netns_ino, here->journal_dir);
	free(names);
	return rc;
}

/*
 * net.* knobs are restored only in the namespace the journal was written
 * in: ours, the --netns given, or the one its recorded --netns still names.
 */
static void rollback_netns(const struct tune_args *a, const struct tune_scope *here,
			   const struct journal *j, struct live_knobs *lk)
{
	struct tune_scope there;

	lk->netns = a->netns;
	if (!j->id.netns_ino) {
		/* an old journal: only its path is known */
		if (!a->netns)
			lk->netns = j->netns;
		return;
	}
	if (here->id.netns_ino == j->id.netns_ino && here->id.netns_dev == j->id.netns_dev)
		return;
	if (!a->netns && j->netns[0] && !scope_identify(&there, a->root, j->netns, NULL) &&
	    there.id.netns_ino == j->id.netns_ino && there.id.netns_dev == j->id.netns_dev) {
		lk->netns = j->netns;
		return;
	}
	lk->netns = NULL;
	lk->net_unreachable = true;
}

/* A journal of another scope, named explicitly: say what will be touched. */
static void say_touches(const struct journal *j, const struct live_knobs *lk, const char *why)
{
	printf("note: this journal was %s; it is rolled back because it was named. It touches:\n",
	       why);
	for (size_t i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->e[i];

		if (knob_family(e->family)->per_process)
			printf("  %s of pid %d (start time %llu)\n", e->knob, (int)e->pid,
			       (unsigned long long)e->start_time);
		else if (strncmp(e->knob, "net.", 4))
			printf("  %s (global)\n", e->knob);
		else if (lk->net_unreachable)
			printf("  %s: not touched, its namespace %llu:%llu is not reachable from here\n",
			       e->knob, (unsigned long long)j->id.netns_dev,
			       (unsigned long long)j->id.netns_ino);
		else
			printf("  %s in network namespace %s\n", e->knob,
			       lk->netns && *lk->netns ? lk->netns : "of this process");
	}
}

static int do_rollback(const struct tune_args *a, const struct tune_scope *here)
{
	char path[PATH_MAX], err[256], why[256];
	struct live_knobs lk = { .root = a->root };
	struct journal j;
	struct knob_ops ops;
	int left = 0, rc;

	if (a->rollback_path)
		snprintf(path, sizeof(path), "%s", a->rollback_path);
	else if (pick_journal(here, path, sizeof(path)))
		return EXIT_ERR;
	if (journal_read(path, &j, err, sizeof(err))) {
		log_err("journal %s", err);
		return EXIT_ERR;
	}
	if (strcmp(j.root, a->root)) {
		log_err("%s was written for --root %s, not %s", path, j.root, a->root);
		journal_free(&j);
		return EXIT_ERR;
	}
	if (live_root(a) && geteuid() != 0) {
		log_err("--rollback changes kernel settings and process limits: run it as root");
		journal_free(&j);
		return EXIT_ERR;
	}
	rollback_netns(a, here, &j, &lk);
	if (!scope_same(here, &j, why, sizeof(why)))
		say_touches(&j, &lk, why);
	if (j.rolled_back_ns)
		printf("note: %s was already rolled back (%s); restoring again\n", path, j.state_note);
	lk.live = live_root(a);
	live_knob_ops(&ops, &lk);
	printf("rolling back %zu change(s) from %s\n", j.n, path);
	rc = tune_rollback(&j, &ops, a->force, stdout, &left);
	if (!left && !rc) {
		char t[32];

		j.rolled_back_ns = now_realtime_ns();
		fmt_time(j.rolled_back_ns, t, sizeof(t));
		snprintf(j.state_note, sizeof(j.state_note), "rolled back at %s by uid %u pid %d",
			 t, (unsigned)getuid(), (int)getpid());
		if (journal_update(path, &j))
			log_warn("%s: could not record the rollback in the journal", path);
	}
	journal_free(&j);
	if (left) {
		log_err("%d change(s) not restored%s", left, a->force ? "" :
			" (--force restores knobs changed since)");
		return EXIT_ERR;
	}
	return rc ? EXIT_ERR : EXIT_OK;
}

/* --journals: every journal of the directory with its scope and state. */
static int list_journals(const struct tune_args *a, const struct tune_scope *here)
{
	char (*names)[256] = NULL, path[PATH_MAX], err[256], why[256], t[32];
	json_t *arr = json_array();
	size_t n = 0;
	int rc = journal_names(here->journal_dir, &names, &n);

	if (rc && rc != -ENOENT) {
		log_err("%s: %s", here->journal_dir, strerror(-rc));
		json_decref(arr);
		return EXIT_ERR;
	}
	if (!a->json)
		printf("%-44s %-20s %-7s %-12s %s\n", "JOURNAL", "CREATED", "CHANGES", "STATE",
		       "SCOPE");
	for (size_t i = 0; i < n; i++) {
		struct journal j;
		bool same;
		const char *state;

		snprintf(path, sizeof(path), "%s/%s", here->journal_dir, names[i]);
		if (journal_read(path, &j, err, sizeof(err))) {
			if (!a->json)
				printf("%-44s unreadable: %s\n", names[i], err);
			continue;
		}
		same = scope_same(here, &j, why, sizeof(why));
		state = j.rolled_back_ns ? "rolled-back" : "in-force";
		fmt_time(j.created_ns, t, sizeof(t));
		if (a->json)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:i, s:s, s:s, s:b, s:s, s:I, s:I, s:s, s:s}",
				"path", path, "created_ns", (json_int_t)j.created_ns, "changes", (int)j.n,
				"state", state, "state_note", j.state_note, "this_scope", same,
				"other_scope", why, "netns_inode", (json_int_t)j.id.netns_ino,
				"netns_dev", (json_int_t)j.id.netns_dev, "netns", j.netns,
				"hostname", j.id.hostname));
		else
			printf("%-44s %-20s %-7zu %-12s %s\n", names[i], t, j.n, state,
			       same ? "this scope" : why);
		journal_free(&j);
	}
	if (a->json) {
		json_t *o = json_pack("{s:s, s:o, s:o}", "schema", "disco.tune.journals/1",
				      "scope", scope_to_json(here), "journals", arr);

		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else {
		json_decref(arr);
		if (!n)
			printf("(no journals in %s)\n", here->journal_dir);
	}
	free(names);
	return EXIT_OK;
}

/* ---- --verify ------------------------------------------------------------ */

/* One (rule, pid): its changes are kept or rolled back together. */
struct verify_unit {
	const struct proposal *p;
	const char *metric;
	double before[TUNE_VERIFY_MAX_WIN], after[TUNE_VERIFY_MAX_WIN];
	int nb, na, err;
	bool keep;
	char why[384];
};

struct verify {
	struct verify_unit u[TUNE_MAX_TARGETS];
	int n;
	int windows;
	int workload_failures;
	size_t rejected;		/* changes rolled back by the verdict */
};

static void verify_plan(const struct tune_result *res, struct verify *v, int windows)
{
	memset(v, 0, sizeof(*v));
	v->windows = windows;
	for (size_t i = 0; i < res->n; i++) {
		const struct proposal *p = &res->props[i];
		bool prerequisite = false;
		int k;

		/* fs.nr_open raised for a hard limit stands or falls with it */
		for (size_t o = 0; !knob_family(p->family)->per_process && o < res->n; o++)
			prerequisite |= knob_family(res->props[o].family)->per_process &&
					!strcmp(res->props[o].rule, p->rule);
		if (prerequisite)
			continue;
		for (k = 0; k < v->n; k++)
			if (!strcmp(v->u[k].p->rule, p->rule) && v->u[k].p->pid == p->pid)
				break;
		if (k == v->n && v->n < TUNE_MAX_TARGETS)
			v->u[v->n++].p = p;
	}
}

/* The workload, once, in the measured network namespace; its exit status. */
static int run_workload(const struct tune_args *a)
{
	int status, saved;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		if (a->netns && netns_enter(a->netns, &saved))
			_exit(126);
		if (a->json)
			dup2(STDERR_FILENO, STDOUT_FILENO);	/* stdout is the JSON */
		execvp(a->cmd[0], a->cmd);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The load of one window: the workload once, or -d of waiting. */
static int window_load(const struct tune_args *a, int *failures)
{
	int st;

	if (!a->cmd) {
		sleep_ns(a->duration_ns);
		return 0;
	}
	st = run_workload(a);
	if (st == 126 || st == 127 || st < 0) {
		log_err("cannot run the workload %s (exit %d)", a->cmd[0], st);
		return -ENOEXEC;
	}
	*failures += st != 0;
	return 0;
}

/* N windows; each unit's trigger measured in each. */
static int verify_measure(const struct tune_args *a, struct verify *v, bool after)
{
	for (int w = 0; w < v->windows; w++) {
		struct snapshot b = { 0 }, e = { 0 };
		int err;

		if (take_snapshot(a, &b, a->pids, a->npids, false))
			return -EIO;
		err = window_load(a, &v->workload_failures);
		if (err || take_snapshot(a, &e, a->pids, a->npids, false)) {
			snapshot_free(&b);
			return err ? err : -EIO;
		}
		for (int k = 0; k < v->n; k++) {
			struct verify_unit *u = &v->u[k];
			double x;
			int r = tune_measure(u->p, &b, &e, a->cmd != NULL, &x, &u->metric);

			if (r) {
				u->err = r;
				continue;
			}
			if (after)
				u->after[u->na++] = x;
			else
				u->before[u->nb++] = x;
		}
		snapshot_free(&b);
		snapshot_free(&e);
	}
	return 0;
}

static void verify_decide(struct verify *v)
{
	for (int k = 0; k < v->n; k++) {
		struct verify_unit *u = &v->u[k];

		if (u->err || !u->metric) {
			u->keep = false;
			snprintf(u->why, sizeof(u->why), "its trigger cannot be measured from /proc "
				 "counters (%s needs BPF evidence): a change that cannot prove itself "
				 "is not kept", u->p->rule);
			continue;
		}
		u->keep = tune_verdict(u->before, u->nb, u->after, u->na, u->why, sizeof(u->why)) == 1;
	}
}

static struct verify_unit *unit_of(struct verify *v, const struct journal_entry *e)
{
	for (int k = 0; k < v->n; k++)
		if (!strcmp(v->u[k].p->rule, e->rule) &&
		    (!knob_family(e->family)->per_process || v->u[k].p->pid == e->pid))
			return &v->u[k];
	return NULL;
}

static void print_values(FILE *out, const double *x, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%.2f", i ? " " : "", x[i]);
}

static json_t *values_json(const double *x, int n)
{
	json_t *arr = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_real(x[i]));
	return arr;
}

/*
 * After the change: measure, decide, roll back the units that did not
 * improve (through the journal, drift-checked), record every verdict in
 * the journal. 0, or -errno when a rollback left something changed.
 */
static int verify_after_apply(const struct tune_args *a, struct verify *v, struct journal *j,
			      const char *path, const struct knob_ops *ops, FILE *out,
			      json_t *jout)
{
	struct journal undo = *j;
	json_t *arr = json_array();
	int err, left = 0, kept = 0;

	fprintf(out, "verify: measuring %d window(s) after the change\n", v->windows);
	err = verify_measure(a, v, true);
	if (err) {
		for (int k = 0; k < v->n; k++) {
			v->u[k].keep = false;
			snprintf(v->u[k].why, sizeof(v->u[k].why), "the windows after the change "
				 "could not be measured (%s)", strerror(-err));
		}
	} else {
		verify_decide(v);
	}
	undo.e = calloc(j->n + 1, sizeof(*undo.e));
	if (!undo.e) {
		json_decref(arr);
		return -ENOMEM;
	}
	undo.n = 0;
	for (size_t i = 0; i < j->n; i++) {
		struct journal_entry *e = &j->e[i];
		struct verify_unit *u = unit_of(v, e);

		snprintf(e->verdict, sizeof(e->verdict), "%s", u && u->keep ? "kept" : "rolled-back");
		snprintf(e->verify_note, sizeof(e->verify_note), "%s", u ? u->why : "not measured");
		if (!u || !u->keep)
			undo.e[undo.n++] = *e;
		else
			kept++;
	}
	for (int k = 0; k < v->n; k++) {
		struct verify_unit *u = &v->u[k];

		fprintf(out, "verify %s%s%.0d: %s before [", u->p->rule, u->p->pid ? " pid " : "",
			u->p->pid, u->metric ? u->metric : "(unmeasurable)");
		print_values(out, u->before, u->nb);
		fprintf(out, "] -> after [");
		print_values(out, u->after, u->na);
		fprintf(out, "]: %s: %s\n", u->keep ? "KEPT" : "ROLLED BACK", u->why);
		json_array_append_new(arr, json_pack("{s:s, s:i, s:s?, s:o, s:o, s:s, s:s}",
			"rule", u->p->rule, "pid", (int)u->p->pid, "metric", u->metric,
			"before", values_json(u->before, u->nb), "after", values_json(u->after, u->na),
			"verdict", u->keep ? "kept" : "rolled-back", "why", u->why));
	}
	if (v->workload_failures)
		fprintf(out, "verify: the workload exited non-zero in %d window(s)\n",
			v->workload_failures);
	if (undo.n) {
		fprintf(out, "verify: rolling back %zu change(s) that did not prove themselves\n",
			undo.n);
		err = tune_rollback(&undo, ops, false, out, &left);
	}
	if (!kept && !left && !err) {
		j->rolled_back_ns = now_realtime_ns();
		snprintf(j->state_note, sizeof(j->state_note),
			 "rolled back by --verify: no change improved its trigger");
	}
	if (journal_update(path, j))
		log_warn("%s: could not record the verification in the journal", path);
	v->rejected = undo.n;
	if (jout)
		json_object_set_new(jout, "verify", arr);
	else
		json_decref(arr);
	free(undo.e);
	return left ? (err ? err : -EBUSY) : err;
}

/*
 * The journal of what --apply will change: one entry per proposal, less
 * the per-process ones on a --root tree (said on out). 0 or -ENOMEM.
 */
static int plan_journal(const struct tune_args *a, const struct tune_scope *sc,
			const struct tune_result *res, const struct timespec *now, bool live,
			FILE *out, struct journal *j)
{
	snprintf(j->root, sizeof(j->root), "%s", a->root);
	snprintf(j->netns, sizeof(j->netns), "%s", a->netns ? a->netns : "");
	j->id = sc->id;
	j->created_ns = (int64_t)now->tv_sec * 1000000000LL + now->tv_nsec;
	j->e = calloc(res->n + 1, sizeof(*j->e));
	if (!j->e)
		return -ENOMEM;
	for (size_t i = 0; i < res->n; i++) {
		const struct proposal *p = &res->props[i];
		struct journal_entry *e = &j->e[j->n];

		if (knob_family(p->family)->per_process && !live) {
			fprintf(out, "pid %d %s: not applied: --root %s is not this system's live "
				"processes\n", (int)p->pid, p->knob, a->root);
			continue;
		}
		snprintf(e->rule, sizeof(e->rule), "%s", p->rule);
		e->family = p->family;
		snprintf(e->knob, sizeof(e->knob), "%s", p->knob);
		e->pid = knob_family(p->family)->per_process ? p->pid : 0;
		e->start_time = p->start_time;
		snprintf(e->previous, sizeof(e->previous), "%s", p->current);
		snprintf(e->next, sizeof(e->next), "%s", p->proposed);
		e->time_ns = j->created_ns;
		j->n++;
	}
	return 0;
}

/* --journal FILE, or a new name by the time in the scope's journal directory (created). */
static int journal_path(const struct tune_args *a, const struct tune_scope *sc,
			const struct timespec *now, char *path, size_t len)
{
	struct tm tm;
	int err;

	if (a->journal && !sc->journal_dir_given) {
		snprintf(path, len, "%s", a->journal);
		return 0;
	}
	if ((err = make_dirs(sc->journal_dir))) {
		log_err("%s: %s", sc->journal_dir, strerror(-err));
		return err;
	}
	gmtime_r(&now->tv_sec, &tm);
	snprintf(path, len, "%s/journal-%04d%02d%02dT%02d%02d%02d.%09ld.json",
		 sc->journal_dir, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, now->tv_nsec);
	return 0;
}

static int do_apply(const struct tune_args *a, const struct tune_scope *sc,
		    const struct tune_result *res, FILE *out, struct verify *v, json_t *jout)
{
	char path[PATH_MAX + 64], args[640], unsafe[PATH_MAX + 80];
	struct live_knobs lk = { .root = a->root, .netns = a->netns };
	struct journal j = { 0 };
	struct knob_ops ops;
	struct timespec now;
	bool live = live_root(a);
	int err;

	if (live && geteuid() != 0) {
		log_err("--apply changes kernel settings and process limits: run it as root");
		return EXIT_ERR;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (plan_journal(a, sc, res, &now, live, out, &j))
		return EXIT_ERR;
	lk.live = live;
	live_knob_ops(&ops, &lk);
	if ((err = journal_refresh(&j, &ops, out))) {
		log_err("cannot read a knob before changing it: nothing was changed");
		goto out_err;
	}
	if (!j.n) {
		fprintf(out, "nothing to apply\n");
		journal_free(&j);
		return EXIT_OK;
	}
	if (journal_path(a, sc, &now, path, sizeof(path)))
		goto out_err;
	if ((err = safepath_check_dirs(path, getuid(), unsafe, sizeof(unsafe)))) {
		log_err("journal %s: %s: nothing was changed", path, unsafe);
		goto out_err;
	}
	if ((err = journal_write(path, &j))) {
		log_err("journal %s: %s: nothing was changed", path, strerror(-err));
		goto out_err;
	}
	fprintf(out, "journal: %s\n", path);
	if ((err = tune_apply(&j, &ops, out))) {
		log_err("apply failed (%s); the changes made were rolled back", strerror(-err));
		goto out_err;
	}
	scope_args(sc, args, sizeof(args));
	fprintf(out, "applied %zu change(s); undo with: disco tune --rollback %s%s\n", j.n, path,
		args);
	if (jout)
		json_object_set_new(jout, "journal", json_string(path));
	if (v && (err = verify_after_apply(a, v, &j, path, &ops, out, jout))) {
		log_err("--verify could not restore every change it rejected (%s): see %s",
			strerror(-err), path);
		goto out_err;
	}
	if (v && v->rejected) {
		/* the system is as it was for those, but the tuning did not happen */
		log_err("--verify rolled back %zu of %zu change(s): they did not improve their "
			"trigger (see %s)", v->rejected, j.n, path);
		goto out_err;
	}
	journal_free(&j);
	return EXIT_OK;
out_err:
	journal_free(&j);
	return EXIT_ERR;
}

/* CapEff of this process from /proc/self/status; 0 if unreadable. */
static uint64_t cap_effective(void)
{
	char line[256];
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* Print the proposals, apply them, verify; with --json one object at the
 * end carrying the verification too. */
static int report_and_apply(const struct tune_args *a, const struct tune_scope *scope,
			    const struct tune_result *res)
{
	json_t *j = a->json ? tune_to_json(res, scope) : NULL;
	FILE *out = a->json ? stderr : stdout;
	struct verify *v = NULL;
	int rc = EXIT_OK;

	if (!a->json)
		tune_print_text(stdout, res, scope, !a->apply);
	fflush(stdout);
	if (a->apply && a->verify && res->n) {
		v = calloc(1, sizeof(*v));
		if (!v) {
			rc = EXIT_ERR;
			goto out;
		}
		verify_plan(res, v, a->windows);
		fprintf(out, "verify: measuring %d window(s) before the change (%s each)\n",
			v->windows, a->cmd ? "one run of the workload" : "-d");
		if (verify_measure(a, v, false)) {
			log_err("--verify: the windows before the change could not be measured: "
				"nothing was changed");
			rc = EXIT_ERR;
			goto out;
		}
	}
	if (a->apply)
		rc = do_apply(a, scope, res, out, v, j);
out:
	if (j) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	}
	free(v);
	return rc;
}

/*
 * The evidence: a recorded session (--from), or a window of -d: snapshots
 * at both ends, with BPF sampling, one run of COMMAND or a plain wait in
 * between. Neither: *ev stays NULL and there is no "before". EXIT_*.
 */
static int gather_evidence(struct tune_args *a, int argc, char **argv,
			   struct snapshot *before, bool *have_before, json_t **ev)
{
	/* a workload's window is its run: counters, like every verify window */
	bool bpf = !a->no_sample && !a->cmd;
	char err[256];
	int failures = 0;

	if (a->from) {
		struct report_opts ro = { 0 };

		*ev = report_load(a->from, &ro, err, sizeof(err));
		if (!*ev)
			log_err("%s: %s", a->from, err);
		return *ev ? EXIT_OK : EXIT_ERR;
	}
	if (!a->duration_ns)
		return EXIT_OK;
	if (bpf && geteuid() != 0) {
		log_err("sampling with BPF needs root: run as root, or use --from FILE "
			"or --no-sample");
		return EXIT_ERR;
	}
	if (take_snapshot(a, before, a->pids, a->npids, true))
		return EXIT_ERR;
	*have_before = true;
	if (!a->json && !a->quiet && a->cmd)
		fprintf(stderr, "disco: the window is one run of %s (counters only)\n",
			a->cmd[0]);
	else if (!a->json && !a->quiet)
		fprintf(stderr, "disco: sampling for %.1fs%s\n", a->duration_ns / 1e9,
			bpf ? " (sched, tcp)" : " (counters only)");
	if (bpf) {
		*ev = sample(a, argc, argv);
		return *ev ? EXIT_OK : EXIT_ERR;
	}
	if (a->cmd)
		return window_load(a, &failures) ? EXIT_ERR : EXIT_OK;
	sleep_ns(a->duration_ns);
	return EXIT_OK;
}

int cmd_tune(int argc, char **argv)
{
	struct snapshot before = { 0 }, after = { 0 };
	struct tune_result res = { 0 };
	struct tune_args a;
	struct tune_scope scope;
	json_t *ev = NULL;
	pid_t targets[TUNE_MAX_TARGETS];
	bool have_before = false;
	const char *bad_root;
	struct stat st;
	int rc, nt;

	rc = parse_args(argc, argv, &a);
	if (rc != EXIT_OK)
		return rc;
	if (a.list_rules) {
		for (size_t i = 0; i < tune_nrules; i++)
			printf("%-20s %-9s %s\n", tune_rules[i].id,
			       tune_family_name(tune_rules[i].family), tune_rules[i].summary);
		return EXIT_OK;
	}
	/* else every knob would be listed as unreadable, and the exit 0 */
	bad_root = stat(a.root, &st) ? strerror(errno) :
		   !S_ISDIR(st.st_mode) ? "not a directory" : NULL;
	if (bad_root) {
		log_err("--root %s: %s", a.root, bad_root);
		return EXIT_ERR;
	}
	rc = scope_identify(&scope, a.root, a.netns, journal_dir_arg(&a));
	if (rc) {
		log_err("cannot identify the scope (--netns %s, --root %s): %s",
			a.netns ? a.netns : "none", a.root, strerror(-rc));
		return EXIT_ERR;
	}
	if (a.journals)
		return list_journals(&a, &scope);
	if (a.rollback)
		return do_rollback(&a, &scope);
	rc = gather_evidence(&a, argc, argv, &before, &have_before, &ev);
	if (rc != EXIT_OK)
		goto out;
	nt = a.npids ? a.npids : evidence_pids(ev, targets, TUNE_MAX_TARGETS);
	if (take_snapshot(&a, &after, a.npids ? a.pids : targets, nt, true)) {
		rc = EXIT_ERR;
		goto out;
	}
	{
		struct tune_input in = {
			.before = have_before ? &before : NULL, .after = &after, .evidence = ev,
			.targets = a.pids, .ntargets = a.npids, .is_root = geteuid() == 0,
		};

		if (tune_run(&in, &a.filter, &res)) {
			log_err("out of memory");
			rc = EXIT_ERR;
			goto out;
		}
		tune_scope_commands(&scope, &res);
	}
	tune_flag_permissions(&res, &after, cap_effective(), geteuid(), live_root(&a));
	rc = report_and_apply(&a, &scope, &res);
out:
	tune_result_free(&res);
	snapshot_free(&before);
	snapshot_free(&after);
	json_decref(ev);
	return rc;
}
