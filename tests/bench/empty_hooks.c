// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor loader: opens a BPF object of empty programs, loads and
 * attaches every program, prints "attached", and holds until a signal
 * ends it (the kernel detaches the programs when it exits). A perf_event
 * program goes on a cpu-clock sampling event on every CPU at HZ (default
 * 99), as the cpu collector's.
 * What the hooks cost with nothing in them, beside what a collector costs.
 *   empty_hooks OBJ.bpf.o [HZ]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>

static int attach_clock(struct bpf_program *p, unsigned int hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = hz,
		.freq = 1,
	};
	int ncpu = libbpf_num_possible_cpus();

	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0 || !bpf_program__attach_perf_event(p, fd))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: empty_hooks OBJ.bpf.o [HZ]\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		perror("load");
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		if (bpf_program__type(p) == BPF_PROG_TYPE_PERF_EVENT) {
			if (attach_clock(p, argc == 3 ? (unsigned int)atoi(argv[2]) : 99)) {
				perror(bpf_program__name(p));
				return 1;
			}
		} else if (!bpf_program__attach(p)) {
			perror(bpf_program__name(p));
			return 1;
		}
	/* a shell starts background jobs with SIGINT ignored: end on it anyway */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	printf("attached\n");
	fflush(stdout);
	for (;;)
		pause();
}
