// SPDX-License-Identifier: GPL-2.0
/* bench workload "alloc": malloc/free churn of mixed sizes over a live pool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "clock.h"

/* Enough live blocks that frees hit many size classes and the heap stays warm. */
#define ALLOC_SLOTS 4096

struct alloc_state {
	void *slot[ALLOC_SLOTS];
	uint64_t rng;
};

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

/*
 * Mostly small (tcache/fastbin), some medium, a few large (mmap threshold
 * is 128 KiB by default, so 1 in 64 exercises mmap/munmap too).
 */
static size_t pick_size(uint64_t r)
{
	unsigned int k = r & 63;

	if (k < 48)
		return 16 + (r >> 8) % 240;		/* 16..255 */
	if (k < 60)
		return 256 + (r >> 8) % 7936;		/* 256..8191 */
	if (k < 63)
		return 8192 + (r >> 8) % 57344;		/* 8 KiB..64 KiB */
	return 131072 + (r >> 8) % 131072;		/* 128..256 KiB */
}

static void bench_alloc_cleanup(void *state)
{
	struct alloc_state *s = state;

	if (!s)
		return;
	for (size_t i = 0; i < ALLOC_SLOTS; i++)
		free(s->slot[i]);
	free(s);
}

static int bench_alloc_prepare(const struct bench_figure *fig, const struct bench_env *env,
			       void **state, char *err, size_t errlen)
{
	struct alloc_state *s;

	(void)fig;
	(void)env;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "alloc: out of memory");
		return -ENOMEM;
	}
	s->rng = 0x853c49e6748fea9bULL ^ (uint64_t)getpid();
	*state = s;
	return 0;
}

static int bench_alloc_run(void *state, uint64_t duration_ns, uint64_t *ops,
			   uint64_t *elapsed_ns, char *err, size_t errlen)
{
	struct alloc_state *s = state;
	uint64_t n = 0, start, end;
	int ret = 0;

	start = mono_ns();
	end = start + duration_ns;
	do {
		for (int i = 0; i < 64; i++) {
			uint64_t r = next_rand(&s->rng);
			size_t k = (r >> 32) % ALLOC_SLOTS;
			size_t size = pick_size(r);

			/* one op = one free (if occupied) plus one malloc */
			free(s->slot[k]);
			s->slot[k] = malloc(size);
			if (!s->slot[k]) {
				ret = -ENOMEM;
				snprintf(err, errlen, "alloc: malloc(%zu) failed", size);
				goto out;
			}
			/* touch both ends so the memory is really handed out */
			((volatile char *)s->slot[k])[0] = (char)r;
			((volatile char *)s->slot[k])[size - 1] = (char)r;
			n++;
		}
	} while (mono_ns() < end);
out:
	*elapsed_ns = mono_ns() - start;
	*ops = n;
	return ret;
}

const struct bench_runner bench_alloc_runner = {
	.prepare = bench_alloc_prepare,
	.run = bench_alloc_run,
	.cleanup = bench_alloc_cleanup,
};
