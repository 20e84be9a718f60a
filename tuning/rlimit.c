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
#include <linux/capability.h>
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

/* ---- the RLIMIT_NOFILE knob family ---- */

static int nofile_knob_normalize(const char *knob, const char *in, char *out, size_t len)
{
	uint64_t soft, hard;

	if (strcmp(knob, "RLIMIT_NOFILE") || nofile_parse(in, &soft, &hard))
		return -EINVAL;
	nofile_format(soft, hard, out, len);
	return 0;
}

static int nofile_knob_read(const struct live_knobs *k, const struct journal_entry *e,
			    char *val, size_t len)
{
	uint64_t soft = 0, hard = 0;
	int err = knob_check_pid(k, e);

	if (err || (err = nofile_get(e->pid, &soft, &hard)))
		return err;
	nofile_format(soft, hard, val, len);
	return 0;
}

static int nofile_knob_write(const struct live_knobs *k, const struct journal_entry *e,
			     const char *val)
{
	uint64_t soft, hard;
	int err;

	if (nofile_parse(val, &soft, &hard))
		return -EINVAL;
	err = knob_check_pid(k, e);
	return err ? err : nofile_set(e->pid, soft, hard);
}

/* Raising the hard limit needs CAP_SYS_RESOURCE even over one's own process. */
static bool raises_hard(const char *previous, const char *next)
{
	uint64_t ps, ph, ns, nh;

	return !nofile_parse(previous, &ps, &ph) && !nofile_parse(next, &ns, &nh) && nh > ph;
}

static const char *nofile_knob_privilege(const char *knob, const char *previous,
					 const char *next)
{
	(void)knob;
	if (raises_hard(previous, next))
		return "CAP_SYS_RESOURCE (raising a hard RLIMIT_NOFILE)";
	return "CAP_SYS_RESOURCE (or the same uid as the process)";
}

static const char *nofile_knob_lacks(const struct proposal *p, uint64_t cap_eff, uid_t euid,
				     bool live, bool other)
{
	(void)euid;
	if (!live)
		return "a live system (--root is a tree)";
	if (!((cap_eff >> CAP_SYS_RESOURCE) & 1) && (raises_hard(p->current, p->proposed) || other))
		return nofile_knob_privilege(p->knob, p->current, p->proposed);
	return NULL;
}

const struct knob_family knob_family_nofile = {
	.name = "nofile",
	.title = "File descriptor limits (RLIMIT_NOFILE)",
	.per_process = true,
	.normalize = nofile_knob_normalize,
	.read = nofile_knob_read,
	.write = nofile_knob_write,
	.privilege = nofile_knob_privilege,
	.lacks = nofile_knob_lacks,
};
