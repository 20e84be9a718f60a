// SPDX-License-Identifier: GPL-2.0
/* bench workload "tcp": loopback connect / 100-byte request / response / close. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench.h"
#include "clock.h"

#define TCP_MSG 100

struct tcp_state {
	int lfd;
	struct sockaddr_in addr;
};

/* A new network namespace has lo down; bring it up without ip(8). */
static int lo_up(char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "tcp: socket: %s", strerror(errno));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ret = -errno;
		snprintf(err, errlen, "tcp: SIOCGIFFLAGS lo: %s", strerror(errno));
		goto out;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		ret = -errno;
		snprintf(err, errlen, "tcp: bringing lo up in the private namespace: %s",
			 strerror(errno));
	}
out:
	close(fd);
	return ret;
}

static void bench_tcp_cleanup(void *state)
{
	struct tcp_state *s = state;

	if (!s)
		return;
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
}

static int bench_tcp_prepare(const struct bench_figure *fig, const struct bench_env *env,
			     void **state, char *err, size_t errlen)
{
	struct tcp_state *s;
	socklen_t alen;
	int one = 1, ret;

	(void)fig;
	/* We are the forked child: the namespace dies with us. */
	if (env->private_netns) {
		if (unshare(CLONE_NEWNET)) {
			ret = -errno;
			snprintf(err, errlen, "tcp: unshare(CLONE_NEWNET): %s", strerror(errno));
			return ret;
		}
		ret = lo_up(err, errlen);
		if (ret)
			return ret;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "tcp: socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	s->addr.sin_family = AF_INET;
	s->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	alen = sizeof(s->addr);
	if (bind(s->lfd, (struct sockaddr *)&s->addr, sizeof(s->addr)) ||
	    listen(s->lfd, 1024) ||
	    getsockname(s->lfd, (struct sockaddr *)&s->addr, &alen)) {
		ret = -errno;
		snprintf(err, errlen, "tcp: listening on 127.0.0.1: %s", strerror(errno));
		goto fail;
	}
	*state = s;
	return 0;
fail:
	bench_tcp_cleanup(s);
	return ret;
}

static int xfer(int fd, char *buf, bool out)
{
	size_t done = 0;

	while (done < TCP_MSG) {
		ssize_t r = out ? write(fd, buf + done, TCP_MSG - done) :
				  read(fd, buf + done, TCP_MSG - done);

		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		done += r;
	}
	return 0;
}

/* Answers each connection, then closes first: TIME_WAIT lands on the server
 * side, so the client's ephemeral ports do not run out during the run. */
static void *server(void *arg)
{
	struct tcp_state *s = arg;
	char buf[TCP_MSG];

	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;	/* shutdown() of the listener ends the run */
		}
		if (!xfer(fd, buf, false)) {
			memset(buf, 'r', sizeof(buf));
			xfer(fd, buf, true);
		}
		close(fd);
	}
	return NULL;
}

static int one_transaction(const struct tcp_state *s, char *buf)
{
	int fd, one = 1, ret;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&s->addr, sizeof(s->addr))) {
		ret = -errno;
		goto out;
	}
	ret = xfer(fd, buf, true);
	if (!ret)
		ret = xfer(fd, buf, false);
	/* wait for the server's FIN so it is the active closer */
	if (!ret && read(fd, buf, 1) != 0)
		ret = -EPROTO;
out:
	close(fd);
	return ret;
}

static int bench_tcp_run(void *state, uint64_t duration_ns, uint64_t *ops,
			 uint64_t *elapsed_ns, char *err, size_t errlen)
{
	struct tcp_state *s = state;
	uint64_t n = 0, start, end;
	char buf[TCP_MSG];
	pthread_t t;
	int ret;

	ret = -pthread_create(&t, NULL, server, s);
	if (ret) {
		snprintf(err, errlen, "tcp: pthread_create: %s", strerror(-ret));
		return ret;
	}
	memset(buf, 'q', sizeof(buf));
	start = mono_ns();
	end = start + duration_ns;
	do {
		ret = one_transaction(s, buf);
		if (ret) {
			snprintf(err, errlen, "tcp: transaction %llu on 127.0.0.1:%u: %s",
				 (unsigned long long)n, ntohs(s->addr.sin_port), strerror(-ret));
			break;
		}
		n++;
	} while (mono_ns() < end);
	*elapsed_ns = mono_ns() - start;
	*ops = n;
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(t, NULL);
	return ret;
}

const struct bench_runner bench_tcp_runner = {
	.prepare = bench_tcp_prepare,
	.run = bench_tcp_run,
	.cleanup = bench_tcp_cleanup,
};
