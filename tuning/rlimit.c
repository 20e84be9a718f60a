// SPDX-License-Identifier: GPL-2.0
/* RLIMIT_NOFILE of another process: "soft:hard" text and prlimit(2). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "tuner.h"

static int lim_fmt(uint64_t v, char *buf, size_t len)
{
	if (v == TUNE_NOFILE_INF)
		return snprintf(buf, len, "unlimited");
	return snprintf(buf, len, "%llu", (unsigned long long)v);
}

void nofile_format(uint64_t soft, uint64_t hard, char *buf, size_t len)
{
	int n = lim_fmt(soft, buf, len);

	if (n < 0 || (size_t)n + 1 >= len)
		return;
	buf[n] = ':';
	lim_fmt(hard, buf + n + 1, len - n - 1);
}

static int lim_parse(const char *s, size_t l, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (l == 9 && !strncmp(s, "unlimited", 9)) {
		*v = TUNE_NOFILE_INF;
		return 0;
	}
	if (!l || l > 20 || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || (size_t)(end - s) != l || x == TUNE_NOFILE_INF)
		return -EINVAL;
	*v = x;
	return 0;
}

int nofile_parse(const char *text, uint64_t *soft, uint64_t *hard)
{
	const char *colon = strchr(text, ':');

	if (!colon || lim_parse(text, colon - text, soft) ||
	    lim_parse(colon + 1, strlen(colon + 1), hard) || *soft > *hard)
		return -EINVAL;
	return 0;
}

int nofile_get(pid_t pid, uint64_t *soft, uint64_t *hard)
{
	struct rlimit old;

	if (prlimit(pid, RLIMIT_NOFILE, NULL, &old))
		return -errno;
	*soft = old.rlim_cur == RLIM_INFINITY ? TUNE_NOFILE_INF : old.rlim_cur;
	*hard = old.rlim_max == RLIM_INFINITY ? TUNE_NOFILE_INF : old.rlim_max;
	return 0;
}

int nofile_set(pid_t pid, uint64_t soft, uint64_t hard)
{
	struct rlimit nl = {
		.rlim_cur = soft == TUNE_NOFILE_INF ? RLIM_INFINITY : soft,
		.rlim_max = hard == TUNE_NOFILE_INF ? RLIM_INFINITY : hard,
	};

	return prlimit(pid, RLIMIT_NOFILE, &nl, NULL) ? -errno : 0;
}
