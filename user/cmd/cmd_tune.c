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
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "collector.h"
#include "log.h"
#include "recorder.h"
#include "report.h"
#include "tuner.h"
#include "clock.h"

const char usage_tune[] =
"usage: disco tune [--from FILE | -d SECS [--no-sample]] [-p PID]... [--only LIST]\n"
"                  [--rule ID]... [--root DIR] [--netns PATH|PID] [--json]\n"
"                  [--apply [--journal FILE]]\n"
"       disco tune --rollback [JOURNAL] [--force] [--root DIR] [--netns PATH|PID]\n"
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
"      --json         one disco.tune/1 JSON object on stdout\n"
"\n"
"Changing things (root, except sysctls under --root):\n"
"      --apply        write a journal (fsync'd, 0600) with every previous value,\n"
"                     then apply and read back each change; on any failure undo\n"
"                     what was changed and exit 1\n"
"      --journal FILE where to write it (default <root>/var/lib/disco/journal-TIME.json)\n"
"      --rollback [J] restore the values recorded in journal J (default: newest);\n"
"                     a knob changed by someone else since is reported and left\n"
"                     alone; exit 1 if anything was not restored\n"
"      --force        with --rollback: restore drifted knobs too\n"
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
	bool no_sample, json, apply, rollback, force, list_rules;
	pid_t pids[TUNE_MAX_TARGETS];
	int npids;
	struct tune_filter filter;
	const char *rules[MAX_RULE_ARGS];
};

enum {
	OPT_FROM = 256, OPT_NO_SAMPLE, OPT_ONLY, OPT_RULE, OPT_ROOT, OPT_NETNS, OPT_JSON,
	OPT_APPLY, OPT_JOURNAL, OPT_ROLLBACK, OPT_FORCE, OPT_LIST_RULES,
};

static int parse_args(int argc, char **argv, struct tune_args *a)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, OPT_FROM },
		{ "duration", required_argument, NULL, 'd' },
		{ "no-sample", no_argument, NULL, OPT_NO_SAMPLE },
		{ "pid", required_argument, NULL, 'p' },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "list-rules", no_argument, NULL, OPT_LIST_RULES },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "apply", no_argument, NULL, OPT_APPLY },
		{ "journal", required_argument, NULL, OPT_JOURNAL },
		{ "rollback", optional_argument, NULL, OPT_ROLLBACK },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int opt;

	memset(a, 0, sizeof(*a));
	a->root = "/";
	a->duration_ns = 10ULL * 1000000000ULL;
	a->filter.rules = a->rules;
	while ((opt = getopt_long(argc, argv, "d:p:v", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FROM:
			a->from = optarg;
			break;
		case 'd':
			if (parse_duration_ns(optarg, &v))
				return usage_error("tune", "-d needs a duration (10, 500ms, 2s), not '%s'",
						   optarg);
			a->duration_ns = v;
			break;
		case OPT_NO_SAMPLE:
			a->no_sample = true;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || !v || v > INT_MAX)
				return usage_error("tune", "-p needs a process id, not '%s'", optarg);
			if (a->npids == TUNE_MAX_TARGETS)
				return usage_error("tune", "at most %d -p options", TUNE_MAX_TARGETS);
			a->pids[a->npids++] = (pid_t)v;
			break;
		case OPT_ONLY:
			if (tune_family_parse(optarg, &a->filter.families))
				return usage_error("tune", "--only takes sysctl,nofile,affinity, not '%s'",
						   optarg);
			break;
		case OPT_RULE:
			if (!tune_rule_find(optarg))
				return usage_error("tune", "no rule '%s' (see --list-rules)", optarg);
			if (a->filter.nrules == MAX_RULE_ARGS)
				return usage_error("tune", "too many --rule options");
			a->rules[a->filter.nrules++] = optarg;
			break;
		case OPT_LIST_RULES:
			a->list_rules = true;
			break;
		case OPT_ROOT:
			a->root = optarg;
			break;
		case OPT_NETNS:
			a->netns = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_APPLY:
			a->apply = true;
			break;
		case OPT_JOURNAL:
			a->journal = optarg;
			break;
		case OPT_ROLLBACK:
			a->rollback = true;
			a->rollback_path = optarg;
			break;
		case OPT_FORCE:
			a->force = true;
			break;
		case 'v':
			log_verbosity++;
			break;
		default:
			return usage_error("tune", "unknown option");
		}
	}
	if (a->rollback && !a->rollback_path && optind < argc)
		a->rollback_path = argv[optind++];
	if (optind < argc)
		return usage_error("tune", "unexpected argument '%s'", argv[optind]);
	if (a->rollback && a->apply)
		return usage_error("tune", "--apply and --rollback exclude each other");
	if (a->force && !a->rollback)
		return usage_error("tune", "--force only applies to --rollback");
	if (a->journal && !a->apply)
		return usage_error("tune", "--journal only applies to --apply");
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

static void journal_dir(const struct tune_args *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s%svar/lib/disco", a->root,
		 a->root[strlen(a->root) - 1] == '/' ? "" : "/");
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

static int take_snapshot(const struct tune_args *a, struct snapshot *s,
			 const pid_t *targets, int ntargets)
{
	struct snapshot_opts o = { .root = a->root, .targets = targets, .ntargets = ntargets,
				   .all_procs = true };
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

static int do_rollback(const struct tune_args *a)
{
	char path[PATH_MAX], err[256], dir[PATH_MAX];
	struct live_knobs lk = { .root = a->root };
	struct journal j;
	struct knob_ops ops;
	int left = 0, rc;

	if (a->rollback_path) {
		snprintf(path, sizeof(path), "%s", a->rollback_path);
	} else {
		journal_dir(a, dir, sizeof(dir));
		rc = journal_latest(dir, path, sizeof(path));
		if (rc) {
			log_err("no journal in %s (%s): give its path", dir, strerror(-rc));
			return EXIT_ERR;
		}
	}
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
	lk.netns = a->netns ? a->netns : j.netns;
	lk.live = live_root(a);
	live_knob_ops(&ops, &lk);
	printf("rolling back %zu change(s) from %s\n", j.n, path);
	rc = tune_rollback(&j, &ops, a->force, stdout, &left);
	journal_free(&j);
	if (left) {
		log_err("%d change(s) not restored%s", left, a->force ? "" :
			" (--force restores knobs changed since)");
		return EXIT_ERR;
	}
	return rc ? EXIT_ERR : EXIT_OK;
}

static int do_apply(const struct tune_args *a, const struct tune_result *res, FILE *out)
{
	char path[PATH_MAX + 64], dir[PATH_MAX];
	struct live_knobs lk = { .root = a->root, .netns = a->netns };
	struct journal j = { 0 };
	struct knob_ops ops;
	struct timespec now;
	bool live = live_root(a);
	struct tm tm;
	int err;

	if (live && geteuid() != 0) {
		log_err("--apply changes kernel settings and process limits: run it as root");
		return EXIT_ERR;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(j.root, sizeof(j.root), "%s", a->root);
	snprintf(j.netns, sizeof(j.netns), "%s", a->netns ? a->netns : "");
	j.created_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	j.e = calloc(res->n + 1, sizeof(*j.e));
	if (!j.e)
		return EXIT_ERR;
	for (size_t i = 0; i < res->n; i++) {
		const struct proposal *p = &res->props[i];
		struct journal_entry *e = &j.e[j.n];

		if (p->family != FAM_SYSCTL && !live) {
			fprintf(out, "pid %d %s: not applied: --root %s is not this system's live "
				"processes\n", (int)p->pid, p->knob, a->root);
			continue;
		}
		snprintf(e->rule, sizeof(e->rule), "%s", p->rule);
		e->family = p->family;
		snprintf(e->knob, sizeof(e->knob), "%s", p->knob);
		e->pid = p->family == FAM_SYSCTL ? 0 : p->pid;
		e->start_time = p->start_time;
		snprintf(e->previous, sizeof(e->previous), "%s", p->current);
		snprintf(e->next, sizeof(e->next), "%s", p->proposed);
		e->time_ns = j.created_ns;
		j.n++;
	}
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
	if (a->journal) {
		snprintf(path, sizeof(path), "%s", a->journal);
	} else {
		journal_dir(a, dir, sizeof(dir));
		if ((err = make_dirs(dir))) {
			log_err("%s: %s", dir, strerror(-err));
			goto out_err;
		}
		gmtime_r(&now.tv_sec, &tm);
		snprintf(path, sizeof(path), "%s/journal-%04d%02d%02dT%02d%02d%02d.%09ld.json", dir,
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, now.tv_nsec);
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
	fprintf(out, "applied %zu change(s); undo with: disco tune --rollback %s%s%s\n", j.n, path,
		live ? "" : " --root ", live ? "" : a->root);
	journal_free(&j);
	return EXIT_OK;
out_err:
	journal_free(&j);
	return EXIT_ERR;
}

int cmd_tune(int argc, char **argv)
{
	struct snapshot before = { 0 }, after = { 0 };
	struct tune_result res = { 0 };
	struct tune_args a;
	json_t *ev = NULL;
	pid_t targets[TUNE_MAX_TARGETS];
	bool have_before = false;
	int rc, nt;
	char err[256];

	rc = parse_args(argc, argv, &a);
	if (rc != EXIT_OK)
		return rc;
	if (a.list_rules) {
		for (size_t i = 0; i < tune_nrules; i++)
			printf("%-20s %-9s %s\n", tune_rules[i].id,
			       tune_family_name(tune_rules[i].family), tune_rules[i].summary);
		return EXIT_OK;
	}
	if (a.rollback)
		return do_rollback(&a);

	if (a.from) {
		struct report_opts ro = { 0 };

		ev = report_load(a.from, &ro, err, sizeof(err));
		if (!ev) {
			log_err("%s: %s", a.from, err);
			return EXIT_ERR;
		}
	} else if (a.duration_ns) {
		bool bpf = !a.no_sample;

		if (bpf && geteuid() != 0) {
			log_err("sampling with BPF needs root: run as root, or use --from FILE "
				"or --no-sample");
			return EXIT_ERR;
		}
		if (take_snapshot(&a, &before, a.pids, a.npids))
			return EXIT_ERR;
		have_before = true;
		if (!a.json)
			fprintf(stderr, "disco: sampling for %.1fs%s\n", a.duration_ns / 1e9,
				bpf ? " (sched, tcp)" : " (counters only)");
		if (bpf) {
			ev = sample(&a, argc, argv);
			if (!ev) {
				rc = EXIT_ERR;
				goto out;
			}
		} else {
			sleep_ns(a.duration_ns);
		}
	}
	nt = a.npids ? a.npids : evidence_pids(ev, targets, TUNE_MAX_TARGETS);
	if (take_snapshot(&a, &after, a.npids ? a.pids : targets, nt)) {
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
	}
	if (a.json) {
		json_t *j = tune_to_json(&res);

		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		tune_print_text(stdout, &res, !a.apply);
	}
	fflush(stdout);
	rc = a.apply ? do_apply(&a, &res, a.json ? stderr : stdout) : EXIT_OK;
out:
	tune_result_free(&res);
	snapshot_free(&before);
	snapshot_free(&after);
	json_decref(ev);
	return rc;
}
