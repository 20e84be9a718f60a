// SPDX-License-Identifier: GPL-2.0
/*
 * Target for the sched collector's real-time check inside the qemu VM: one
 * SCHED_FIFO task (priority 50) that sleeps 1 ms and wakes for argv[1]
 * seconds while two normal tasks spin on both CPUs, so the report shows how
 * long each kind waited for a CPU after its wakeups. The report names a
 * process by what it exec'd: the initramfs links this program as
 * /bin/rt_fifo50 (run that) and /bin/cfs_hog (the spinners, exec'd).
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	struct sched_param sp = { .sched_priority = 50 };
	struct timespec t0, ms = { 0, 1000000 };
	pid_t hogs[2];
	long wakeups = 0;
	int status = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strstr(argv[0], "cfs_hog")) {
		while (since(&t0) < secs)
			;
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		hogs[i] = fork();
		if (hogs[i] == 0) {
			execl("/bin/cfs_hog", "cfs_hog", argc > 1 ? argv[1] : "2", (char *)NULL);
			perror("rt_target: exec /bin/cfs_hog");
			_exit(1);
		}
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		perror("rt_target: sched_setscheduler SCHED_FIFO");
		status = 1;
	}
	while (!status && since(&t0) < secs) {
		nanosleep(&ms, NULL);
		wakeups++;
	}
	for (int i = 0; i < 2; i++) {
		if (hogs[i] > 0) {
			kill(hogs[i], SIGKILL);
			waitpid(hogs[i], NULL, 0);
		}
	}
	printf("rt_target: %ld wakeups\n", wakeups);
	return status;
}
