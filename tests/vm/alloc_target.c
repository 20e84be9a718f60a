// SPDX-License-Identifier: GPL-2.0
/*
 * Target for the alloc collector inside the qemu VM: a dynamically linked
 * program (its libc is the one the uprobes go on) churning malloc/free
 * for argv[1] seconds. Built with frame pointers so stacks unwind.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *keep[256];

static void churn(unsigned int i)
{
	size_t size = 16 + (i * 2654435761u) % 4096;

	free(keep[i % 256]);
	keep[i % 256] = malloc(size);
	if (keep[i % 256])
		memset(keep[i % 256], (int)i, 1);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	struct timespec start, now;
	unsigned int i = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		for (int k = 0; k < 1000; k++)
			churn(i++);
		/* a leak the collector should see as outstanding */
		if (!(i % 100000))
			(void)!malloc(1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < secs);
	return 0;
}
