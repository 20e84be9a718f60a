// SPDX-License-Identifier: GPL-2.0
/* The rows record, top and serve share: filters, ring size, statistics, COMMAND. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "cmd.h"
#include "log.h"
#include "record_opts.h"

enum {
	OPT_CGROUP = 1000,
	OPT_COMM,
	OPT_MIN_LATENCY,
	OPT_RING,
	OPT_BPF_STATS,
};

const struct opt record_run_rows[] = {
	{ "cgroup", OPT_CGROUP, "PATH", "only tasks in this cgroup v2 directory" },
	{ "comm", OPT_COMM, "NAME", "only tasks with this command name" },
	{ "system-wide", 'a', NULL, "with COMMAND: record every process, not just COMMAND" },
	{ "min-latency", OPT_MIN_LATENCY, "TIME", "outlier threshold (default 10ms)" },
	{ "freq", 'F', "HZ", "sampling frequency of -e cpu, per CPU (default 49)" },
	{ "force", 'f', NULL, "overwrite FILE if it exists (never through a symlink)" },
	{ "user", 'u', "USER", "run COMMAND as USER instead of root" },
	{ "ring-size", OPT_RING, "BYTES", "events ring shared by the collectors (power of 2, default 4 MiB; 512 KiB for cpu and offcpu alone)" },
	{ "bpf-stats", OPT_BPF_STATS, "MODE", "what each BPF program costs: sampled, on, off" },
	{ "interval", 'i', "TIME", "one summary (top: snapshot) per TIME, at least 100ms" },
	{ "count", 'n', "COUNT", "stop after COUNT intervals" },
	{ NULL },
};

int record_run_set(struct record_args *a, int key, const char *val, char *msg, size_t len)
{
	unsigned long long v;
	uint64_t ns;
	struct statfs sfs;
	struct stat st;

	switch (key) {
	case OPT_CGROUP:
		if (stat(val, &st) || !S_ISDIR(st.st_mode) || statfs(val, &sfs) ||
		    sfs.f_type != CGROUP2_SUPER_MAGIC) {
			log_err("--cgroup %s: not a cgroup v2 directory (e.g. /sys/fs/cgroup/system.slice/foo.service)",
				val);
			return EXIT_ERR;
		}
		a->o.cgroup_path = val;
		a->o.cgroup_id = st.st_ino;
		break;
	case OPT_COMM:
		if (strlen(val) > 15)
			log_warn("--comm '%s': the kernel keeps 15 characters, matching '%.15s'", val, val);
		snprintf(a->o.comm, sizeof(a->o.comm), "%s", val);
		break;
	case 'a':
		a->system_wide = true;
		break;
	case OPT_MIN_LATENCY:
		if (parse_duration(val, &ns))
			return opt_fail(msg, len, "--min-latency needs a duration such as 10ms, not '%s'", val);
		/* 0 in rec_opts means "collector default": 0 here is 1 ns, every sample */
		a->o.min_latency_ns = ns ? ns : 1;
		break;
	case 'F':
		if (parse_u64(val, &v) || v == 0 || v > 10000)
			return opt_fail(msg, len, "-F needs a sampling frequency from 1 to 10000 Hz, not '%s'", val);
		a->o.sample_hz = (unsigned int)v;
		break;
	case 'f':
		a->force = true;
		break;
	case 'u':
		a->user = val;
		break;
	case OPT_RING:
		if (parse_u64(val, &v) || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
			return opt_fail(msg, len, "--ring-size needs a power of two from 4096 to 1 GiB, not '%s'", val);
		a->o.ring_bytes = (unsigned int)v;
		break;
	case OPT_BPF_STATS:
		if (!strcmp(val, "sampled"))
			a->o.bpf_stats = BPF_STATS_SAMPLED;
		else if (!strcmp(val, "on"))
			a->o.bpf_stats = BPF_STATS_ON;
		else if (!strcmp(val, "off"))
			a->o.bpf_stats = BPF_STATS_OFF;
		else
			return opt_fail(msg, len, "--bpf-stats takes sampled, on or off, not '%s'", val);
		break;
	case 'i':
		if (parse_duration(val, &ns) || ns < 100000000ULL)
			return opt_fail(msg, len, "-i needs an interval of at least 100ms (1, 500ms, 1m), not '%s'",
					val);
		a->interval_ns = ns;
		break;
	case 'n':
		if (parse_u64(val, &v) || v == 0)
			return opt_fail(msg, len, "-n needs a positive count of intervals, not '%s'", val);
		a->count = v;
		break;
	default:
		return opt_fail(msg, len, "unknown option");
	}
	return EXIT_OK;
}

static int parse_args(int argc, char **argv, const struct opt_cmd *c, struct record_args *a,
		      void *ctx)
{
	const char *cmd = c->name;
	char why[200];
	int rc, first;

	memset(a, 0, sizeof(*a));
	rc = opts_parse(c, argc, argv, &a->co, a, ctx, &first);
	if (rc != EXIT_OK)
		return rc;
	for (int i = 0; i < a->co.npids; i++) {
		if (kill(a->co.pids[i], 0) && errno == ESRCH) {
			log_err("no process with pid %d (-p)", a->co.pids[i]);
			return EXIT_ERR;
		}
		a->o.pids[a->o.npids++] = a->co.pids[i];
	}
	if (a->co.duration_set && !a->co.duration_ns)
		return usage_error(cmd, "-d needs a duration such as 10, 500ms, 2m; not '0'");
	a->duration_ns = a->co.duration_ns;
	a->output = a->co.output ?: "disco.data";
	a->quiet = a->co.quiet;
	a->json = a->co.json;
	if (first < argc && !c->in_order) {
		/* the command reads its operands itself (top: INTERVAL COUNT) */
		a->cmd_argc = argc - first;
		a->cmd_argv = argv + first;
	} else if (first < argc) {
		if (first > 0 && strcmp(argv[first - 1], "--") && strcmp(argv[first], "--")) {
			/* the options stopped at a word that is not one: require the "--" */
			return usage_error(cmd, "unexpected argument '%s' (put a command after --)", argv[first]);
		}
		if (!strcmp(argv[first], "--"))
			first++;
		a->cmd_argc = argc - first;
		a->cmd_argv = argv + first;
	}
	if (a->user && !a->cmd_argc)
		return usage_error(cmd, "-u USER only applies to a COMMAND after --");
	if (a->system_wide && !a->cmd_argc)
		return usage_error(cmd, "-a only applies with a COMMAND after --");
	if (collector_parse_list(a->co.events, &a->mask, why, sizeof(why)))
		return usage_error(cmd, "-e %s: %s", a->co.events ?: "", why);
	return EXIT_OK;
}

int record_parse_args(int argc, char **argv, const struct opt_cmd *c, struct record_args *a,
		      void *ctx)
{
	int rc = parse_args(argc, argv, c, a, ctx);

	/* the callers release the collectors' options only after a success */
	if (rc != EXIT_OK)
		rec_opts_release(&a->o);
	return rc;
}
