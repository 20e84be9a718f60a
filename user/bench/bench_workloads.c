// SPDX-License-Identifier: GPL-2.0
/* disco bench workloads: one row each; adding one is a row here plus its runner file. */
#include <stdio.h>
#include <string.h>
#include "bench.h"

/* Each runner file (bench_<name>.c) defines its runner. */
extern const struct bench_runner bench_sched_runner, bench_io_runner, bench_tcp_runner,
	bench_alloc_runner;

const struct bench_workload bench_workloads[] = {
	{ "sched", "sched", NULL, "runq_latency",
	  "sched_unpinned, sched_pinned: two threads ping-pong one byte over\n"
	  "pipes, free to migrate / both pinned to one CPU (ops = round trips)",
	  &bench_sched_runner,
	  { { "sched_unpinned", "round_trip", 0 },
	    { "sched_pinned", "round_trip", 1 /* pinned */ } } },
	{ "io", "bio", "disks", "latency",
	  "io_randread, io_randwrite: O_DIRECT 4 KiB random reads / writes on\n"
	  "a pre-written file in DIR (or on DEV); tmpfs is refused, it has no\n"
	  "block device behind it",
	  &bench_io_runner,
	  { { "io_randread", "read_4k", 0 }, { "io_randwrite", "write_4k", 1 /* write */ } } },
	{ "tcp", "tcp", NULL, "connect_latency",
	  "tcp: loopback connect, 100-byte request, 100-byte response, close;\n"
	  "inside a private network namespace when root",
	  &bench_tcp_runner,
	  { { "tcp", "connection", 0 } } },
	{ "alloc", "alloc", NULL, "latency",
	  "alloc: malloc/free churn of mixed sizes (16 B .. 256 KiB)",
	  &bench_alloc_runner,
	  { { "alloc", "malloc_free", 0 } } },
};
const size_t bench_nworkloads = sizeof(bench_workloads) / sizeof(bench_workloads[0]);

_Static_assert(sizeof(bench_workloads) / sizeof(bench_workloads[0]) <= BENCH_MAX_WORKLOADS,
	       "--workload is a 32-bit mask");

const struct bench_workload *bench_workload_find(const char *name)
{
	for (size_t i = 0; i < bench_nworkloads; i++)
		if (!strcmp(bench_workloads[i].name, name))
			return &bench_workloads[i];
	return NULL;
}

unsigned int bench_workload_bit(const char *name)
{
	const struct bench_workload *w = bench_workload_find(name);

	return w ? 1u << (w - bench_workloads) : 0;
}

void bench_workload_names(unsigned int mask, const char *sep, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < bench_nworkloads && n < len; i++)
		if (mask & (1u << i))
			n += snprintf(buf + n, len - n, "%s%s", n ? sep : "",
				      bench_workloads[i].name);
}

void bench_workloads_help(FILE *out)
{
	fprintf(out, "\nWorkloads (-w), the figures they produce, and the collector's latency\n"
		"histogram that is recorded while they run:\n");
	for (size_t i = 0; i < bench_nworkloads; i++) {
		const struct bench_workload *w = &bench_workloads[i];
		const char *p = w->help;

		fprintf(out, "  %-7s collector %s, latency %s%s%s\n", w->name, w->collector,
			w->hist_array ? w->hist_array : "", w->hist_array ? "[]." : "",
			w->hist_key);
		while (*p) {
			size_t n = strcspn(p, "\n");

			fprintf(out, "          %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
}
