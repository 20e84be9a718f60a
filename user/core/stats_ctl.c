// SPDX-License-Identifier: GPL-2.0
/* A forked helper that keeps CAP_SYS_ADMIN to switch BPF statistics for the recorder. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include "caps.h"
#include "stats_ctl.h"

static const cap_value_t stats_cap = CAP_SYS_ADMIN;

static ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static ssize_t write_retry(int fd, const void *buf, size_t n)
{
	ssize_t r;

	do
		r = write(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static __attribute__((noreturn)) void helper_main(int sock)
{
	int stats_fd = -1;
	unsigned char cmd, ans;

	/* nothing of the recorder's: no BPF objects, no session file */
	if (dup2(sock, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	sock = 3;
	prctl(PR_SET_NAME, "disco-stats");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Ctrl-C reaches the whole group: the recorder decides when we end */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	/*
	 * BPF_ENABLE_STATS is the one thing this process does, and the
	 * kernel allows it with CAP_SYS_ADMIN alone: bpf_enable_stats()
	 * checks capable(CAP_SYS_ADMIN), and the unprivileged_bpf_disabled
	 * gate of older bpf() (bpf_capable()) accepts it too. Measured on
	 * 6.18: statistics switch with this set. Nothing else is kept.
	 */
	if (caps_limit(&stats_cap, 1))
		_exit(1);
	while (read_retry(sock, &cmd, 1) == 1) {
		ans = 0;
		if (cmd == '1' && stats_fd < 0) {
			stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
			if (stats_fd < 0)
				ans = (unsigned char)(errno ?: EIO);
		} else if (cmd == '0' && stats_fd >= 0) {
			close(stats_fd);
			stats_fd = -1;
		}
		if (write_retry(sock, &ans, 1) != 1)
			break;
	}
	_exit(0);
}

int stats_ctl_start(struct stats_ctl *c)
{
	int sv[2];
	pid_t pid;

	c->pid = 0;
	c->sock = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0)
		helper_main(sv[1]);
	close(sv[1]);
	c->pid = pid;
	c->sock = sv[0];
	return 0;
}

int stats_ctl_set(struct stats_ctl *c, bool on)
{
	unsigned char cmd = on ? '1' : '0', ans;

	ssize_t r;

	if (c->sock < 0)
		return -ENOTCONN;
	/* MSG_NOSIGNAL: a dead helper is an error, not a SIGPIPE */
	do
		r = send(c->sock, &cmd, 1, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r != 1 || read_retry(c->sock, &ans, 1) != 1)
		return -EPIPE;
	return ans ? -(int)ans : 0;
}

void stats_ctl_stop(struct stats_ctl *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	if (c->pid > 0)
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	c->pid = 0;
}
