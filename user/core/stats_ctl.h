/* SPDX-License-Identifier: GPL-2.0 */
/* Turning BPF run-time statistics on and off after capabilities are dropped. */
#ifndef DISCO_STATS_CTL_H
#define DISCO_STATS_CTL_H

#include <stdbool.h>
#include <sys/types.h>

struct stats_ctl {
	pid_t pid;	/* helper process, 0 if none */
	int sock;	/* our end of its socket pair, -1 if none */
};

/*
 * Fork the helper while we still have CAP_SYS_ADMIN: it keeps it and does
 * only this: a '1' on its socket turns statistics on (it holds the fd
 * BPF_ENABLE_STATS returns), a '0' turns them off; it answers each with
 * one byte, 0 or an errno value, and exits when the socket closes, which
 * also turns them off if we die. 0 or -errno.
 */
int stats_ctl_start(struct stats_ctl *c);
/* 0, or -errno from the helper (or from talking to it) */
int stats_ctl_set(struct stats_ctl *c, bool on);
/* Close the socket and reap the helper (statistics end with it). */
void stats_ctl_stop(struct stats_ctl *c);

#endif
