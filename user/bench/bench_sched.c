// SPDX-License-Identifier: GPL-2.0
/* bench workload "sched": two threads ping-ponging one byte over pipes. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "clock.h"

struct sched_state {
	int ping[2];	/* main -> partner */
	int pong[2];	/* partner -> main */
	bool pinned;
	int cpu;
};


static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void bench_sched_cleanup(void *state)
{
	struct sched_state *s = state;

	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		if (s->ping[i] >= 0)
			close(s->ping[i]);
		if (s->pong[i] >= 0)
			close(s->pong[i]);
	}
	free(s);
}

static int bench_sched_prepare(const struct bench_figure *fig, const struct bench_env *env,
			       void **state, char *err, size_t errlen)
{
	struct sched_state *s;
	cpu_set_t allowed;

	(void)env;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ping[0] = s->ping[1] = s->pong[0] = s->pong[1] = -1;
	if (pipe(s->ping) || pipe(s->pong)) {
		snprintf(err, errlen, "sched: pipe: %s", strerror(errno));
		bench_sched_cleanup(s);
		return -errno;
	}
	s->pinned = fig->variant == 1;
	/* Pinned: both threads share the first CPU we may run on, so every
	 * hand-over is a context switch on one run queue. */
	s->cpu = 0;
	if (!sched_getaffinity(0, sizeof(allowed), &allowed)) {
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, &allowed)) {
				s->cpu = c;
				break;
			}
		}
	}
	*state = s;
	return 0;
}

static void *partner(void *arg)
{
	struct sched_state *s = arg;
	char c;

	for (;;) {
		if (read(s->ping[0], &c, 1) != 1 || c == 'q')
			break;
		if (write(s->pong[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

static int bench_sched_run(void *state, uint64_t duration_ns, uint64_t *ops,
			   uint64_t *elapsed_ns, char *err, size_t errlen)
{
	struct sched_state *s = state;
	uint64_t n = 0, start, end, now;
	pthread_attr_t attr;
	pthread_t t;
	char c = 'p', q = 'q';
	int ret;

	if (s->pinned) {
		ret = pin_self(s->cpu);
		if (ret) {
			snprintf(err, errlen, "sched: cannot pin to CPU %d: %s", s->cpu,
				 strerror(-ret));
			return ret;
		}
	}
	ret = -pthread_attr_init(&attr);
	if (!ret && s->pinned) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(s->cpu, &set);
		ret = -pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (!ret)
		ret = -pthread_create(&t, &attr, partner, s);
	pthread_attr_destroy(&attr);
	if (ret) {
		snprintf(err, errlen, "sched: pthread_create: %s", strerror(-ret));
		return ret;
	}
	start = mono_ns();
	end = start + duration_ns;
	for (;;) {
		if (write(s->ping[1], &c, 1) != 1 || read(s->pong[0], &c, 1) != 1) {
			ret = -EIO;
			snprintf(err, errlen, "sched: pipe round trip failed: %s",
				 strerror(errno));
			break;
		}
		n++;
		/* the clock read is cheap next to a round trip, but not free */
		if (!(n & 63) && (now = mono_ns()) >= end)
			break;
	}
	now = mono_ns();
	if (write(s->ping[1], &q, 1) != 1) {
		close(s->ping[1]);	/* EOF stops the partner as well */
		s->ping[1] = -1;
	}
	pthread_join(t, NULL);
	*ops = n;
	*elapsed_ns = now - start;
	return ret;
}

const struct bench_runner bench_sched_runner = {
	.prepare = bench_sched_prepare,
	.run = bench_sched_run,
	.cleanup = bench_sched_cleanup,
};
