// SPDX-License-Identifier: GPL-2.0
/* TCP listeners from netlink sock_diag: each one's backlog, accept queue and owning process. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include "tuner.h"

#define TCP_LISTEN_STATE	10	/* include/net/tcp_states.h */

/*
 * NLMSG_NEXT without its wrap: a last message whose length is not aligned
 * steps past the end of the buffer, which took NLMSG_NEXT's size_t length
 * below zero, to a huge value, and the walk read past the buffer (found by
 * fuzz_procparse). Here such a message ends the walk.
 */
static const struct nlmsghdr *next_msg(const struct nlmsghdr *h, size_t *left)
{
	size_t step = NLMSG_ALIGN(h->nlmsg_len);

	if (step > *left)
		step = *left;
	*left -= step;
	return (const struct nlmsghdr *)((const char *)h + step);
}

int parse_inet_diag(const void *buf, size_t len, struct listener **v, size_t *n, size_t *cap)
{
	const struct nlmsghdr *h = buf;
	size_t left = len;

	for (; NLMSG_OK(h, left); h = next_msg(h, &left)) {
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		struct listener *l;

		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EINVAL;
			return e->error ? e->error : -EINVAL;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			return -EINVAL;
		if (m->idiag_state != TCP_LISTEN_STATE)
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			struct listener *nv = realloc(*v, nc * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			*v = nv;
			*cap = nc;
		}
		l = &(*v)[(*n)++];
		memset(l, 0, sizeof(*l));
		l->family = m->idiag_family;
		l->port = ntohs(m->id.idiag_sport);
		l->backlog = m->idiag_wqueue;
		l->queue = m->idiag_rqueue;
		l->ino = m->idiag_inode;
		l->uid = m->idiag_uid;
	}
	return left ? -EINVAL : 0;
}

static int dump_family(int fd, uint8_t family, struct listener **v, size_t *n, size_t *cap)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = family },
		.r = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = 1u << TCP_LISTEN_STATE },
	};
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int ret = 0;

	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		return -errno;
	while (!ret) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		ret = parse_inet_diag(buf, (size_t)r, v, n, cap);
	}
	return ret < 0 ? ret : 0;
}

int listeners_read(struct listener **v, size_t *n)
{
	size_t cap = 0;
	int fd, err;

	*v = NULL;
	*n = 0;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	err = dump_family(fd, AF_INET, v, n, &cap);
	/* a kernel without IPv6 answers ENOENT for the family: not an error */
	if (!err) {
		int e6 = dump_family(fd, AF_INET6, v, n, &cap);

		if (e6 && e6 != -ENOENT && e6 != -EAFNOSUPPORT)
			err = e6;
	}
	close(fd);
	if (err) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return err;
}

static struct listener *by_ino(struct snapshot *s, uint64_t ino)
{
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].ino == ino)
			return &s->listeners[i];
	return NULL;
}

/* The process holding each listening socket: /proc/PID/fd/N -> socket:[INO]. */
void listeners_owners(const char *root, struct snapshot *s)
{
	char path[PATH_MAX], link[64];

	for (size_t i = 0; i < s->nprocs && s->nlisteners; i++) {
		const struct proc_snap *p = &s->procs[i];
		struct dirent *de;
		DIR *d;

		if (p->kthread)
			continue;
		snprintf(path, sizeof(path), "%s/proc/%d/fd", root, (int)p->pid);
		d = opendir(path);
		while (d && (de = readdir(d))) {
			unsigned long long ino;
			struct listener *l;
			ssize_t k;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/proc/%d/fd/%s", root, (int)p->pid, de->d_name);
			k = readlink(path, link, sizeof(link) - 1);
			if (k <= 0)
				continue;
			link[k] = 0;
			if (sscanf(link, "socket:[%llu]", &ino) != 1 || !(l = by_ino(s, ino)) ||
			    l->pid)
				continue;
			/* the lowest pid holding it: the parent of a pre-forked pool */
			l->pid = p->pid;
			l->self = p->self;
			snprintf(l->comm, sizeof(l->comm), "%s", p->comm);
		}
		if (d)
			closedir(d);
	}
}
