/* SPDX-License-Identifier: GPL-2.0 */
/* Pure helpers of the sched collector, exported for the unit tests. */
#ifndef DISCO_COL_SCHED_H
#define DISCO_COL_SCHED_H

#include <stddef.h>

/*
 * A threaded interrupt handler's name, "irq/NN-name" (every handler on
 * PREEMPT_RT, those requested threaded elsewhere; the kernel truncates it
 * to 15 characters): NN, with name copied to buf. -1 for any other task.
 */
int sched_irq_thread(const char *comm, char *buf, size_t len);

#endif
