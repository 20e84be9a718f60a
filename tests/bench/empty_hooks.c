// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor loader: opens a BPF object of empty programs, loads and
 * attaches every program, prints "attached", and holds until a signal
 * ends it (the kernel detaches the programs when it exits).
 * What the hooks cost with nothing in them, beside what a collector costs.
 *   empty_hooks OBJ.bpf.o
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p;

	if (argc != 2) {
		fprintf(stderr, "usage: empty_hooks OBJ.bpf.o\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		perror("load");
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		if (!bpf_program__attach(p)) {
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
