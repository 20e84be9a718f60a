// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark baseline loader: attaches the naive probe set (uprobe and
 * uretprobe on malloc's entry, uprobe on free's entry) to one process,
 * prints "attached", and holds until stdin closes. With "noret", no
 * uretprobe: the floor of the preload library's two NOP probe functions.
 *   alloc_naive PID BINARY MALLOC_OFFSET FREE_OFFSET [noret]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "alloc_naive.skel.h"

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_uprobe_opts, ent);
	LIBBPF_OPTS(bpf_uprobe_opts, ret, .retprobe = true);
	struct alloc_naive_bpf *s;
	char c;
	int pid;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: alloc_naive PID BINARY MALLOC_OFF FREE_OFF [noret]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	s = alloc_naive_bpf__open_and_load();
	if (!s)
		return 1;
	if (!bpf_program__attach_uprobe_opts(s->progs.naive_malloc, pid, argv[2],
					     strtoul(argv[3], NULL, 0), &ent) ||
	    (argc == 5 && !bpf_program__attach_uprobe_opts(s->progs.naive_malloc_ret, pid, argv[2],
							   strtoul(argv[3], NULL, 0), &ret)) ||
	    !bpf_program__attach_uprobe_opts(s->progs.naive_free, pid, argv[2],
					     strtoul(argv[4], NULL, 0), &ent)) {
		perror("attach");
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	alloc_naive_bpf__destroy(s);
	return 0;
}
