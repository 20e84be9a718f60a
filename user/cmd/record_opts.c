// SPDX-License-Identifier: GPL-2.0
/* Argument parsing shared by record/top/serve, incl. collectors' options. */
#include <errno.h>
#include <getopt.h>
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
	OPT_CGROUP = 256,
	OPT_COMM,
	OPT_MIN_LATENCY,
	OPT_RING,
	OPT_BPF_STATS,
	OPT_COLLECTOR = 1000,	/* + index into the flattened collector options */
};

static const struct option base_opts[] = {
	{ "event", required_argument, NULL, 'e' },
	{ "pid", required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "system-wide", no_argument, NULL, 'a' },
	{ "duration", required_argument, NULL, 'd' },
	{ "min-latency", required_argument, NULL, OPT_MIN_LATENCY },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "user", required_argument, NULL, 'u' },
	{ "ring-size", required_argument, NULL, OPT_RING },
	{ "bpf-stats", required_argument, NULL, OPT_BPF_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "freq", required_argument, NULL, 'F' },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'n' },
};
#define NBASE (sizeof(base_opts) / sizeof(base_opts[0]))
#define MAX_COLOPTS 64

int record_parse_args(int argc, char **argv, const char *cmd, const char *usage,
		      struct record_args *a)
{
	struct option opts[NBASE + MAX_COLOPTS + 1];
	const struct collector *owner[MAX_COLOPTS];
	const char *names[MAX_COLOPTS];
	const char *events = NULL;
	unsigned long long v;
	struct statfs sfs;
	struct stat st;
	size_t n = NBASE, nc = 0;
	int opt, err;

	(void)usage;
	memset(a, 0, sizeof(*a));
	a->output = "disco.data";
	memcpy(opts, base_opts, sizeof(base_opts));
	for (size_t i = 0; i < ncollectors; i++) {
		for (const struct col_option *co = collectors[i]->options; co && co->name; co++) {
			if (nc == MAX_COLOPTS)
				break;
			owner[nc] = collectors[i];
			names[nc] = co->name;
			opts[n++] = (struct option){ co->name, co->has_arg ? required_argument : no_argument,
						     NULL, OPT_COLLECTOR + (int)nc };
			nc++;
		}
	}
	opts[n] = (struct option){ NULL, 0, NULL, 0 };

	while ((opt = getopt_long(argc, argv, "+e:p:ad:o:fqu:vF:i:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			events = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || v == 0 || v > 4194304)
				return usage_error(cmd, "-p needs a process id, not '%s'", optarg);
			if (a->o.npids == MAX_FILTER_PIDS)
				return usage_error(cmd, "at most %d -p options", MAX_FILTER_PIDS);
			if (kill((pid_t)v, 0) && errno == ESRCH) {
				log_err("no process with pid %llu (-p)", v);
				return EXIT_ERR;
			}
			a->o.pids[a->o.npids++] = (pid_t)v;
			break;
		case OPT_CGROUP:
			if (stat(optarg, &st) || !S_ISDIR(st.st_mode) || statfs(optarg, &sfs) ||
			    sfs.f_type != CGROUP2_SUPER_MAGIC) {
				log_err("--cgroup %s: not a cgroup v2 directory (e.g. /sys/fs/cgroup/system.slice/foo.service)",
					optarg);
				return EXIT_ERR;
			}
			a->o.cgroup_path = optarg;
			a->o.cgroup_id = st.st_ino;
			break;
		case OPT_COMM:
			if (strlen(optarg) > 15)
				log_warn("--comm '%s': the kernel keeps 15 characters, matching '%.15s'", optarg, optarg);
			snprintf(a->o.comm, sizeof(a->o.comm), "%s", optarg);
			break;
		case 'a':
			a->system_wide = true;
			break;
		case 'd':
			if (parse_duration_ns(optarg, &v) || v == 0)
				return usage_error(cmd, "-d needs a duration such as 10, 500ms, 2m; not '%s'", optarg);
			a->duration_ns = v;
			break;
		case OPT_MIN_LATENCY:
			if (parse_duration_ns(optarg, &v))
				return usage_error(cmd, "--min-latency needs a duration such as 10ms, not '%s'", optarg);
			/* 0 in rec_opts means "collector default": 0 here is 1 ns, every sample */
			a->o.min_latency_ns = v ? v : 1;
			break;
		case 'o':
			if (!*optarg)
				return usage_error(cmd, "-o needs a file name");
			a->output = optarg;
			break;
		case 'f':
			a->force = true;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'u':
			a->user = optarg;
			break;
		case OPT_RING:
			if (parse_u64(optarg, &v) || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
				return usage_error(cmd, "--ring-size needs a power of two from 4096 to 1 GiB, not '%s'", optarg);
			a->o.ring_bytes = (unsigned int)v;
			break;
		case OPT_BPF_STATS:
			if (!strcmp(optarg, "sampled"))
				a->o.bpf_stats = BPF_STATS_SAMPLED;
			else if (!strcmp(optarg, "on"))
				a->o.bpf_stats = BPF_STATS_ON;
			else if (!strcmp(optarg, "off"))
				a->o.bpf_stats = BPF_STATS_OFF;
			else
				return usage_error(cmd, "--bpf-stats takes sampled, on or off, not '%s'", optarg);
			break;
		case 'F':
			if (parse_u64(optarg, &v) || v == 0 || v > 10000)
				return usage_error(cmd, "-F needs a sampling frequency from 1 to 10000 Hz, not '%s'", optarg);
			a->o.sample_hz = (unsigned int)v;
			break;
		case 'i':
			if (parse_duration_ns(optarg, &v) || v < 100000000ULL)
				return usage_error(cmd, "-i needs an interval of at least 100ms (1, 500ms, 1m), not '%s'",
						   optarg);
			a->interval_ns = v;
			break;
		case 'n':
			if (parse_u64(optarg, &v) || v == 0)
				return usage_error(cmd, "-n needs a positive count of intervals, not '%s'", optarg);
			a->count = v;
			break;
		case 'v':
			log_verbosity++;
			break;
		default:
			if (opt >= OPT_COLLECTOR && opt < OPT_COLLECTOR + (int)nc) {
				const struct collector *c = owner[opt - OPT_COLLECTOR];
				void *ctx = rec_opts_col(&a->o, (size_t)collector_index(c));

				err = c->set_option && ctx ? c->set_option(ctx, names[opt - OPT_COLLECTOR], optarg) :
					-EINVAL;
				if (err)
					return usage_error(cmd, "bad value for --%s: '%s'", names[opt - OPT_COLLECTOR],
							   optarg ?: "");
				break;
			}
			return usage_error(cmd, "unknown option");
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") && optind > 0 && strcmp(argv[optind], "--")) {
			/* getopt stopped at a non-option: require the "--" */
			return usage_error(cmd, "unexpected argument '%s' (put a command after --)", argv[optind]);
		}
		if (!strcmp(argv[optind], "--"))
			optind++;
		a->cmd_argc = argc - optind;
		a->cmd_argv = argv + optind;
	}
	if (a->user && !a->cmd_argc)
		return usage_error(cmd, "-u USER only applies to a COMMAND after --");
	if (a->count && !a->interval_ns)
		return usage_error(cmd, "-n COUNT counts intervals: give -i SECS too");
	if (a->system_wide && !a->cmd_argc)
		return usage_error(cmd, "-a only applies with a COMMAND after --");
	if (collector_parse_list(events, &a->mask))
		return usage_error(cmd, "bad collector list '%s'", events ?: "");
	return EXIT_OK;
}
