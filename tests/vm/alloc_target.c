// SPDX-License-Identifier: GPL-2.0
/*
 * Target for the alloc collector inside the qemu VM: a dynamically linked
 * program (its libc is the one the uprobes go on) that leaks VM_LEAKS
 * blocks of VM_LEAK_SIZE bytes from vm_leak() (tests/vm/check.sh requires
 * exactly these, outstanding at that site), then churns malloc/free for
 * argv[1] seconds. Built with frame pointers so stacks unwind.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VM_LEAKS	5
#define VM_LEAK_SIZE	777

static void *keep[256];
static void *volatile sink;

__attribute__((noinline)) void vm_leak(void)
{
	for (int i = 0; i < VM_LEAKS; i++) {
		sink = malloc(VM_LEAK_SIZE);
		__asm__ volatile("" ::: "memory");
	}
}

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

	vm_leak();
	clock_gettime(CLOCK_MONOTONIC, &start);
	/*
	 * The clock every 100 pairs: under TCG a libc-probed pair can take
	 * milliseconds, and 1000 of them overran the 2 s by 15 s
	 */
	do {
		for (int k = 0; k < 100; k++)
			churn(i++);
		/* a leak the collector should see as outstanding */
		if (!(i % 100000))
			(void)!malloc(1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < secs);
	return 0;
}
