// SPDX-License-Identifier: GPL-2.0
/*
 * --verify: the trigger of each rule as one number measured over a window
 * (lower is better), and the verdict over repeated windows before and after
 * a change. Pure: snapshots in, numbers out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "tuner.h"

static double secs(const struct snapshot *b, const struct snapshot *a)
{
	return a->time_ns > b->time_ns ? (a->time_ns - b->time_ns) / 1e9 : 0;
}

static uint64_t d(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static int per_s(const struct snapshot *b, const struct snapshot *a, uint64_t n, double *v)
{
	double s = secs(b, a);

	if (s <= 0)
		return -ENODATA;
	*v = n / s;
	return 0;
}

/* A counter's growth over the window: f1 + f2, or the larger of the two. */
struct counter_metric {
	size_t have, f1, f2;	/* offsets in struct counters; f2 0: none */
	bool max;
};

#define CTR(field)	offsetof(struct counters, field)

/*
 * Per second of a -d window; per run when the window is one run of the
 * workload: a run's count of events is the workload's, its length is the
 * machine's, which drifts (a busy host stretched the runs after a change,
 * their rate fell and a change that could not help was kept).
 */
static int m_counter(const struct counter_metric *m, const struct snapshot *b,
		     const struct snapshot *a, bool per_run, double *v)
{
	const char *ca = (const char *)&a->c, *cb = (const char *)&b->c;
	uint64_t n, n2 = 0;

	if (!*(const bool *)(ca + m->have) || !*(const bool *)(cb + m->have))
		return -ENODATA;
	n = d(*(const uint64_t *)(ca + m->f1), *(const uint64_t *)(cb + m->f1));
	if (m->f2)
		n2 = d(*(const uint64_t *)(ca + m->f2), *(const uint64_t *)(cb + m->f2));
	n = m->max ? (n > n2 ? n : n2) : n + n2;
	if (!per_run)
		return per_s(b, a, n, v);
	*v = (double)n;
	return 0;
}

static const struct counter_metric listen_q = { CTR(have_netstat), CTR(listen_overflows),
						CTR(listen_drops), true };
static const struct counter_metric synq = { CTR(have_netstat), CTR(req_q_full_drop),
					    CTR(req_q_full_cookies), false };
static const struct counter_metric softnet = { CTR(have_softnet), CTR(softnet_dropped), 0, false };
static const struct counter_metric pruned = { CTR(have_netstat), CTR(rcv_pruned), 0, false };
static const struct counter_metric swapin = { CTR(have_vmstat), CTR(pswpin), 0, false };

/* ports held in TIME_WAIT, in % of the range in force at the end */
static int m_ports(const struct proposal *p, const struct snapshot *b,
		   const struct snapshot *a, double *v)
{
	const struct sysctl_val *r = &a->sc[SC_PORT_RANGE];

	(void)p;
	(void)b;
	if (!a->have_sockstat || !r->present || r->v[1] < r->v[0])
		return -ENODATA;
	*v = a->tw_sockets * 100.0 / (double)(r->v[1] - r->v[0] + 1);
	return 0;
}

static int m_file_nr(const struct proposal *p, const struct snapshot *b,
		     const struct snapshot *a, double *v)
{
	(void)p;
	(void)b;
	if (!a->have_file_nr || !a->sc[SC_FILE_MAX].present || a->sc[SC_FILE_MAX].v[0] <= 0)
		return -ENODATA;
	*v = a->file_nr_alloc * 100.0 / (double)a->sc[SC_FILE_MAX].v[0];
	return 0;
}

static uint64_t evid_of(const struct proposal *p, const char *key)
{
	for (int i = 0; i < p->nev; i++)
		if (!strcmp(p->ev[i].key, key))
			return p->ev[i].value;
	return 0;
}

static int m_maps(const struct proposal *p, const struct snapshot *b,
		  const struct snapshot *a, double *v)
{
	const struct proc_snap *q = snapshot_proc(a, (pid_t)evid_of(p, "pid"));

	(void)b;
	if (!q || !q->has_maps || !a->sc[SC_MAX_MAP_COUNT].present ||
	    a->sc[SC_MAX_MAP_COUNT].v[0] <= 0)
		return -ENODATA;
	*v = q->nmaps * 100.0 / (double)a->sc[SC_MAX_MAP_COUNT].v[0];
	return 0;
}

static int m_fds(const struct proposal *p, const struct snapshot *b,
		 const struct snapshot *a, double *v)
{
	const struct proc_snap *q = snapshot_proc(a, p->pid);

	(void)b;
	if (p->family != FAM_NOFILE || !q || q->start_time != p->start_time || !q->has_fds ||
	    !q->has_limits || !q->nofile_soft || q->nofile_soft == TUNE_NOFILE_INF)
		return -ENODATA;
	*v = q->nfds * 100.0 / (double)q->nofile_soft;
	return 0;
}

/* the victim's threads runnable but waiting, in % of the window */
static int m_wait(const struct proposal *p, const struct snapshot *b,
		  const struct snapshot *a, double *v)
{
	const struct proc_snap *q = snapshot_proc(a, p->pid), *o = snapshot_proc(b, p->pid);
	double s = secs(b, a);

	if (!q || !o || q->start_time != p->start_time || o->start_time != p->start_time ||
	    !q->has_sched || !o->has_sched || s <= 0)
		return -ENODATA;
	*v = d(q->wait_ns, o->wait_ns) / 1e9 / s * 100.0;
	return 0;
}

/*
 * One row per rule: a counter growth (ctr; per second, or per run under
 * run_name) or a function of the snapshots (fn).
 */
static const struct {
	const char *rule, *name, *run_name;
	const struct counter_metric *ctr;
	int (*fn)(const struct proposal *p, const struct snapshot *b,
		  const struct snapshot *a, double *v);
} metrics[] = {
	{ "somaxconn", "listen_drops_per_s", "listen_drops_per_run", &listen_q, NULL },
	{ "syn-backlog", "syn_queue_full_per_s", "syn_queue_full_per_run", &synq, NULL },
	{ "netdev-backlog", "softnet_drops_per_s", "softnet_drops_per_run", &softnet, NULL },
	{ "tcp-rmem", "rcv_pruned_per_s", "rcv_pruned_per_run", &pruned, NULL },
	{ "port-range", "time_wait_pct_of_range", NULL, NULL, m_ports },
	{ "tw-reuse", "time_wait_pct_of_range", NULL, NULL, m_ports },
	{ "swappiness", "swap_ins_per_s", "swap_ins_per_run", &swapin, NULL },
	{ "max-map-count", "maps_pct_of_limit", NULL, NULL, m_maps },
	{ "file-max", "file_handles_pct", NULL, NULL, m_file_nr },
	{ "nofile", "fds_pct_of_soft_limit", NULL, NULL, m_fds },
	{ "affinity-neighbour", "wait_pct", NULL, NULL, m_wait },
	{ "affinity-numa", "wait_pct", NULL, NULL, m_wait },
	/* tcp-wmem (BDP) and dirty (block IO outliers) need BPF evidence */
};

int tune_measure(const struct proposal *p, const struct snapshot *b, const struct snapshot *a,
		 bool per_run, double *v, const char **name)
{
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		if (strcmp(metrics[i].rule, p->rule))
			continue;
		if (!metrics[i].ctr) {
			*name = metrics[i].name;
			return metrics[i].fn(p, b, a, v);
		}
		*name = per_run ? metrics[i].run_name : metrics[i].name;
		return m_counter(metrics[i].ctr, b, a, per_run, v);
	}
	*name = NULL;
	return -ENODATA;
}

static void range(const double *v, int n, double *lo, double *hi, double *mean)
{
	*lo = *hi = n ? v[0] : 0;
	*mean = 0;
	for (int i = 0; i < n; i++) {
		*lo = v[i] < *lo ? v[i] : *lo;
		*hi = v[i] > *hi ? v[i] : *hi;
		*mean += v[i] / n;
	}
}

/*
 * Keep only when every window after is below every window before: the
 * before windows' spread is the noise we can measure, and the gap must
 * clear it. Fewer than two windows on a side measure no noise at all.
 */
int tune_verdict(const double *before, int nb, const double *after, int na, char *why,
		 size_t len)
{
	double blo, bhi, bmean, alo, ahi, amean;

	range(before, nb, &blo, &bhi, &bmean);
	range(after, na, &alo, &ahi, &amean);
	if (nb < 2 || na < 2) {
		snprintf(why, len, "fewer than 2 windows on a side: no noise estimate");
		return 0;
	}
	if (bhi <= 0) {
		snprintf(why, len, "the trigger did not occur before the change (%.2f in every "
			 "window): nothing to improve", bhi);
		return 0;
	}
	if (ahi < blo) {
		snprintf(why, len, "improved beyond the noise: after %.2f (%.2f..%.2f) below the "
			 "best window before %.2f (before %.2f, spread %.2f..%.2f)", amean, alo,
			 ahi, blo, bmean, blo, bhi);
		return 1;
	}
	snprintf(why, len, "no improvement beyond the noise: after %.2f (%.2f..%.2f) overlaps "
		 "before %.2f (%.2f..%.2f)", amean, alo, ahi, bmean, blo, bhi);
	return 0;
}
