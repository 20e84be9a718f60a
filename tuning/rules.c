// SPDX-License-Identifier: GPL-2.0
/*
 * The tuning rules: one table row and one pure function each, from
 * (snapshot before/after, report evidence) to proposals. No syscalls here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tuner.h"

#define SYSCTL_D	"/etc/sysctl.d/90-disco.conf"
#define NR_OPEN_MAX	1073741816LL	/* sysctl_nr_open_max on 64-bit */

/* ---- result plumbing ----------------------------------------------------- */

static struct proposal *grow(struct proposal **v, size_t *n, size_t *cap, const char *rule,
			     enum tune_family fam)
{
	struct proposal *p;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct proposal *np = realloc(*v, nc * sizeof(*np));

		if (!np)
			return NULL;
		*v = np;
		*cap = nc;
	}
	p = &(*v)[(*n)++];
	memset(p, 0, sizeof(*p));
	snprintf(p->rule, sizeof(p->rule), "%s", rule);
	p->family = fam;
	p->sc = -1;
	return p;
}

struct proposal *tune_add(struct tune_result *r, const char *rule, enum tune_family fam)
{
	return grow(&r->props, &r->n, &r->cap, rule, fam);
}

struct proposal *tune_advise(struct tune_result *r, const char *rule)
{
	return grow(&r->advice, &r->nadvice, &r->advice_cap, rule, FAM_SYSCTL);
}

void tune_evid(struct proposal *p, const char *key, uint64_t value)
{
	if (p->nev >= TUNE_MAX_EVID)
		return;
	snprintf(p->ev[p->nev].key, sizeof(p->ev[0].key), "%s", key);
	p->ev[p->nev++].value = value;
}

int tune_note(struct tune_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nnotes == r->notes_cap) {
		size_t cap = r->notes_cap ? r->notes_cap * 2 : 8;
		char (*nn)[256] = realloc(r->notes, cap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		r->notes = nn;
		r->notes_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
	return 0;
}

void tune_result_free(struct tune_result *r)
{
	if (!r)
		return;
	free(r->props);
	free(r->advice);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}

/* ---- evidence access ----------------------------------------------------- */

static const json_t *ev_col(const struct tune_input *in, const char *col)
{
	const json_t *c;

	if (!json_is_object(in->evidence))
		return NULL;
	c = json_object_get(json_object_get(in->evidence, "collectors"), col);
	return json_is_object(c) ? c : NULL;
}

/* Non-negative integer member, or false. */
static bool jget_u64(const json_t *o, const char *key, uint64_t *v)
{
	const json_t *x = json_is_object(o) ? json_object_get(o, key) : NULL;

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return false;
	*v = (uint64_t)json_integer_value(x);
	return true;
}

static uint64_t window_ns(const struct tune_input *in)
{
	uint64_t d = 0;

	if (in->before && in->after->time_ns > in->before->time_ns)
		return in->after->time_ns - in->before->time_ns;
	if (json_is_object(in->evidence))
		jget_u64(json_object_get(in->evidence, "session"), "duration_ns", &d);
	return d;
}

/* part >= pct% of whole, without overflow for any 64-bit values */
static bool at_pct(uint64_t part, uint64_t whole, unsigned int pct)
{
	return (unsigned __int128)part * 100 >= (unsigned __int128)whole * pct;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * Counter growth over the window: from the two snapshots, else from the
 * session's tcp.netstat_delta (ev_key), else -ENODATA.
 */
static int counter_delta(const struct tune_input *in, size_t off, bool have_before,
			 const char *ev_key, uint64_t *out)
{
	const json_t *tcp;

	if (in->before && have_before) {
		*out = sub0(*(const uint64_t *)((const char *)&in->after->c + off),
			    *(const uint64_t *)((const char *)&in->before->c + off));
		return 0;
	}
	tcp = ev_col(in, "tcp");
	if (ev_key && tcp && jget_u64(json_object_get(tcp, "netstat_delta"), ev_key, out))
		return 0;
	return -ENODATA;
}

#define NETSTAT_DELTA(in, field, key, out) \
	counter_delta(in, offsetof(struct counters, field), \
		      (in)->before && (in)->before->c.have_netstat && (in)->after->c.have_netstat, \
		      key, out)

static const struct sysctl_val *cur(const struct tune_input *in, int id)
{
	const struct sysctl_val *v = &in->after->sc[id];

	return v->present ? v : NULL;
}

static void fmt_secs(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%.1fs", ns / 1e9);
}

/* Fill the sysctl parts of a proposal: current, proposed, persist, undo. */
static void sysctl_prop(struct proposal *p, int id, const struct sysctl_val *from,
			const struct sysctl_val *to)
{
	p->sc = id;
	snprintf(p->knob, sizeof(p->knob), "%s", sysctl_descs[id].name);
	sysctl_format(from, p->current, sizeof(p->current));
	sysctl_format(to, p->proposed, sizeof(p->proposed));
	snprintf(p->persist, sizeof(p->persist), "%s = %s   (in " SYSCTL_D ")",
		 p->knob, p->proposed);
	snprintf(p->undo, sizeof(p->undo), "sysctl -w %s=\"%s\" (or: disco tune --rollback)",
		 p->knob, p->current);
}

/* A single-integer sysctl raised to value. */
static struct proposal *raise_sysctl(struct tune_result *out, const char *rule, int id,
				     const struct sysctl_val *from, int64_t value)
{
	struct sysctl_val to = *from;
	struct proposal *p = tune_add(out, rule, FAM_SYSCTL);

	if (!p)
		return NULL;
	to.v[0] = value;
	sysctl_prop(p, id, from, &to);
	return p;
}

static int64_t doubled(int64_t v, int64_t floor, int64_t cap)
{
	int64_t n = v > cap / 2 ? cap : v * 2;

	if (n < floor)
		n = floor;
	return n > cap ? cap : n;
}

/* ---- net rules ----------------------------------------------------------- */

/*
 * Which listeners a queue overflow can be blamed on: those whose accept
 * queue was full at either end of the window, else every listener. Split by
 * what limits each: a backlog below somaxconn is what the application asked
 * for (raising somaxconn changes nothing), a backlog at somaxconn may have
 * been capped by it. disco's own listeners are left out.
 */
#define MAX_BLAME 8
struct blame {
	const struct listener *capped[MAX_BLAME], *app[MAX_BLAME];
	uint32_t capped_q[MAX_BLAME], app_q[MAX_BLAME];	/* longest queue seen */
	int ncapped, napp, nfull;
};

static const struct listener *listener_before(const struct tune_input *in, uint64_t ino)
{
	for (size_t i = 0; in->before && i < in->before->nlisteners; i++)
		if (in->before->listeners[i].ino == ino)
			return &in->before->listeners[i];
	return NULL;
}

static void blame_listeners(const struct tune_input *in, int64_t somaxconn, struct blame *b)
{
	memset(b, 0, sizeof(*b));
	for (int pass = 0; pass < 2 && !b->ncapped && !b->napp; pass++) {
		for (size_t i = 0; i < in->after->nlisteners; i++) {
			const struct listener *l = &in->after->listeners[i];
			const struct listener *o = listener_before(in, l->ino);
			uint32_t q = o && o->queue > l->queue ? o->queue : l->queue;
			bool full = q >= l->backlog;

			if (l->self || (pass == 0 && !full))
				continue;
			b->nfull += full;
			if ((int64_t)l->backlog >= somaxconn && b->ncapped < MAX_BLAME) {
				b->capped_q[b->ncapped] = q;
				b->capped[b->ncapped++] = l;
			} else if ((int64_t)l->backlog < somaxconn && b->napp < MAX_BLAME) {
				b->app_q[b->napp] = q;
				b->app[b->napp++] = l;
			}
		}
	}
}

static void listener_name(const struct listener *l, char *buf, size_t len)
{
	if (l->pid)
		snprintf(buf, len, "pid %d (%s) port %u", (int)l->pid, l->comm, l->port);
	else
		snprintf(buf, len, "port %u (owner not found)", l->port);
}

/* The application's listen() backlog is the limit: say so, propose nothing. */
static int advise_app_backlog(const struct tune_input *in, struct tune_result *out,
			      const char *rule, const char *trigger, uint64_t count,
			      const struct blame *b, int64_t somaxconn)
{
	char ws[32], who[64];

	fmt_secs(ws, sizeof(ws), window_ns(in));
	for (int i = 0; i < b->napp; i++) {
		const struct listener *l = b->app[i];
		struct proposal *p = tune_advise(out, rule);

		if (!p)
			return -ENOMEM;
		listener_name(l, who, sizeof(who));
		snprintf(p->knob, sizeof(p->knob), "listen() backlog");
		p->pid = l->pid;
		snprintf(p->comm, sizeof(p->comm), "%s", l->comm);
		snprintf(p->current, sizeof(p->current), "%u", l->backlog);
		snprintf(p->proposed, sizeof(p->proposed), "larger, in the application");
		snprintf(p->why, sizeof(p->why),
			 "%llu %s in %s; %s listens with a backlog of %u (accept queue %u%s), below "
			 "net.core.somaxconn=%lld: the application's backlog (%u) is the limit, so "
			 "raising somaxconn would change nothing",
			 (unsigned long long)count, trigger, ws, who, l->backlog, b->app_q[i],
			 b->app_q[i] >= l->backlog ? ", full" : "", (long long)somaxconn, l->backlog);
		snprintf(p->persist, sizeof(p->persist),
			 "raise the backlog the application passes to listen() (its configuration, "
			 "e.g. a backlog/somaxconn option), or make it accept() faster");
		snprintf(p->risk, sizeof(p->risk), "none from disco: nothing is applied");
		snprintf(p->undo, sizeof(p->undo), "-");
		tune_evid(p, "pid", (uint64_t)l->pid);
		tune_evid(p, "port", l->port);
		tune_evid(p, "backlog", l->backlog);
		tune_evid(p, "accept_queue", b->app_q[i]);
		tune_evid(p, "somaxconn", (uint64_t)somaxconn);
		tune_evid(p, trigger[0] == 'c' ? "listen_overflows" : "req_q_full", count);
		tune_evid(p, "window_ns", window_ns(in));
	}
	return 0;
}

/* The capped listeners as evidence in a somaxconn proposal's why. */
static void capped_why(const struct blame *b, char *buf, size_t len)
{
	char who[64];

	listener_name(b->capped[0], who, sizeof(who));
	snprintf(buf, len, "%s has the backlog %u = somaxconn (accept queue %u): it asked for at "
		 "least that and listen() capped it%s; the new value takes effect when the "
		 "application calls listen() again (restart it)", who, b->capped[0]->backlog,
		 b->capped_q[0], b->ncapped > 1 ? ", as other listeners" : "");
}

static int rule_somaxconn(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_SOMAXCONN);
	uint64_t ovf = 0, drops = 0, win = window_ns(in);
	struct proposal *p;
	struct blame b;
	char ws[32], cause[384];
	int e1, e2;

	if (!v)
		return tune_note(out, "somaxconn: net.core.somaxconn not readable");
	e1 = NETSTAT_DELTA(in, listen_overflows, "ListenOverflows", &ovf);
	e2 = NETSTAT_DELTA(in, listen_drops, "ListenDrops", &drops);
	if (e1 && e2)
		return tune_note(out, "somaxconn: no delta available for ListenOverflows/ListenDrops");
	if (!ovf && !drops)
		return 0;
	snprintf(cause, sizeof(cause), "listen() backlogs are capped at somaxconn=%lld, but the "
		 "listeners' own backlogs could not be read (sock_diag needs a live run, not "
		 "--from or --root): check them with ss -ltn (Send-Q)", (long long)v->v[0]);
	if (in->after->have_listeners) {
		blame_listeners(in, v->v[0], &b);
		if (b.napp && advise_app_backlog(in, out, "somaxconn", "connections overflowed",
						 ovf, &b, v->v[0]))
			return -ENOMEM;
		if (!b.ncapped)
			return b.napp ? 0 : tune_note(out, "somaxconn: %llu listen overflows but no "
						      "TCP listener is left to blame (closed "
						      "meanwhile?)", (unsigned long long)ovf);
		capped_why(&b, cause, sizeof(cause));
	}
	if (v->v[0] >= TUNE_SOMAXCONN_CAP)
		return tune_note(out, "somaxconn: %llu listen overflows, but net.core.somaxconn is "
				 "already at its cap %d", (unsigned long long)ovf, TUNE_SOMAXCONN_CAP);
	p = raise_sysctl(out, "somaxconn", SC_SOMAXCONN, v,
			 doubled(v->v[0], 128, TUNE_SOMAXCONN_CAP));
	if (!p)
		return -ENOMEM;
	fmt_secs(ws, sizeof(ws), win);
	snprintf(p->why, sizeof(p->why),
		 "%llu connections overflowed a full accept queue (%llu listen drops) in %s; %s",
		 (unsigned long long)ovf, (unsigned long long)drops, ws, cause);
	tune_evid(p, "listen_overflows", ovf);
	tune_evid(p, "listen_drops", drops);
	tune_evid(p, "window_ns", win);
	if (in->after->have_listeners) {
		tune_evid(p, "pid", (uint64_t)b.capped[0]->pid);
		tune_evid(p, "port", b.capped[0]->port);
		tune_evid(p, "backlog", b.capped[0]->backlog);
		tune_evid(p, "accept_queue", b.capped_q[0]);
	}
	snprintf(p->risk, sizeof(p->risk),
		 "low: longer accept queues hold more pending connections (memory, queueing delay); "
		 "only applications passing a larger backlog to listen() benefit, after they listen "
		 "again");
	return 0;
}

/*
 * TCPReqQFullDrop/DoCookies count SYNs that found the listener's request
 * queue full, and that queue is bounded by the listener's backlog
 * (min(listen() backlog, somaxconn)), not by tcp_max_syn_backlog (which
 * only drops, uncounted here, with syncookies off). So the fix is the same
 * as for accept queue overflows: somaxconn when it capped the backlog, the
 * application's backlog otherwise.
 */
static int rule_syn_backlog(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_SOMAXCONN);
	uint64_t full = 0, cookies = 0;
	struct proposal *p;
	struct blame b;
	char cause[384];
	int e1, e2;

	if (!v)
		return tune_note(out, "syn-backlog: net.core.somaxconn not readable");
	e1 = NETSTAT_DELTA(in, req_q_full_drop, "TCPReqQFullDrop", &full);
	e2 = NETSTAT_DELTA(in, req_q_full_cookies, "TCPReqQFullDoCookies", &cookies);
	if (e1 && e2)
		return tune_note(out, "syn-backlog: no delta available for TCPReqQFullDrop");
	if (!full && !cookies)
		return 0;
	snprintf(cause, sizeof(cause), "the SYN queue is bounded by the listener's backlog, "
		 "capped at somaxconn=%lld; the listeners' own backlogs could not be read (check "
		 "ss -ltn)", (long long)v->v[0]);
	if (in->after->have_listeners) {
		blame_listeners(in, v->v[0], &b);
		if (b.napp && advise_app_backlog(in, out, "syn-backlog", "SYNs found the SYN "
						 "queue full", full + cookies, &b, v->v[0]))
			return -ENOMEM;
		if (!b.ncapped)
			return b.napp ? 0 : tune_note(out, "syn-backlog: SYN queue full but no TCP "
						      "listener is left to blame");
		capped_why(&b, cause, sizeof(cause));
	}
	if (v->v[0] >= TUNE_SOMAXCONN_CAP)
		return tune_note(out, "syn-backlog: SYN queue full, but somaxconn is at its cap");
	p = raise_sysctl(out, "syn-backlog", SC_SOMAXCONN, v,
			 doubled(v->v[0], 128, TUNE_SOMAXCONN_CAP));
	if (!p)
		return -ENOMEM;
	snprintf(p->why, sizeof(p->why),
		 "%llu SYNs were dropped and %llu answered with syncookies because a listener's "
		 "SYN queue was full; %s", (unsigned long long)full, (unsigned long long)cookies,
		 cause);
	tune_evid(p, "req_q_full_drop", full);
	tune_evid(p, "req_q_full_cookies", cookies);
	tune_evid(p, "window_ns", window_ns(in));
	snprintf(p->risk, sizeof(p->risk),
		 "low: more half-open and pending connections kept per listener (memory under a "
		 "SYN flood; syncookies still apply)");
	return 0;
}

static int rule_netdev_backlog(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_NETDEV_BACKLOG);
	uint64_t dropped, squeezed;
	struct proposal *p;

	if (!v)
		return tune_note(out, "netdev-backlog: net.core.netdev_max_backlog not readable");
	if (!in->before || !in->before->c.have_softnet || !in->after->c.have_softnet)
		return tune_note(out, "netdev-backlog: no delta available for softnet_stat");
	dropped = sub0(in->after->c.softnet_dropped, in->before->c.softnet_dropped);
	squeezed = sub0(in->after->c.softnet_squeezed, in->before->c.softnet_squeezed);
	if (!dropped)
		return 0;
	if (v->v[0] >= TUNE_NETDEV_BACKLOG_CAP)
		return tune_note(out, "netdev-backlog: backlog drops, but netdev_max_backlog is at its cap");
	p = raise_sysctl(out, "netdev-backlog", SC_NETDEV_BACKLOG, v,
			 doubled(v->v[0], 1000, TUNE_NETDEV_BACKLOG_CAP));
	if (!p)
		return -ENOMEM;
	snprintf(p->why, sizeof(p->why),
		 "%llu packets were dropped because a CPU's input backlog was full "
		 "(softnet_stat dropped column)", (unsigned long long)dropped);
	tune_evid(p, "softnet_dropped", dropped);
	tune_evid(p, "softnet_time_squeeze", squeezed);
	tune_evid(p, "window_ns", window_ns(in));
	snprintf(p->risk, sizeof(p->risk),
		 "low: a longer per-CPU queue absorbs bursts at the price of more memory and latency "
		 "under sustained overload");
	return 0;
}

/*
 * Bandwidth-delay product: the fastest connection's throughput in the
 * given direction times its own smoothed RTT (its record's srtt_ns), or
 * the p90 of the RTT samples where the record has none. *from_conn says
 * which. 0 if the evidence has none.
 */
static uint64_t bdp_bytes(const struct tune_input *in, const char *bytes_key,
			  uint64_t *srtt_ns, uint64_t *rate_bps, bool *from_conn)
{
	const json_t *tcp = ev_col(in, "tcp"), *conns, *c;
	uint64_t p90 = 0, own = 0, best = 0;
	size_t i;

	*srtt_ns = *rate_bps = 0;
	*from_conn = false;
	if (!tcp)
		return 0;
	(void)jget_u64(json_object_get(tcp, "srtt"), "p90_ns", &p90);	/* 0 if absent */
	conns = json_object_get(tcp, "connections");
	json_array_foreach(conns, i, c) {
		uint64_t bytes, dur, rate, srtt;

		/* short connections never leave slow start: not a BDP sample */
		if (!jget_u64(c, bytes_key, &bytes) || !jget_u64(c, "duration_ns", &dur) ||
		    dur < 10000000ull || bytes < (64u << 10))
			continue;
		rate = (uint64_t)((double)bytes * 1e9 / (double)dur);
		if (rate > best) {
			best = rate;
			own = jget_u64(c, "srtt_ns", &srtt) ? srtt : 0;
		}
	}
	*from_conn = own > 0;
	*srtt_ns = own ? own : p90;
	if (!*srtt_ns)
		return 0;
	*rate_bps = best;
	return (uint64_t)((double)*srtt_ns * (double)best / 1e9);
}

static int64_t pow2_at_least(int64_t v)
{
	int64_t p = 4096;

	while (p < v && p < (1LL << 40))
		p <<= 1;
	return p;
}

static int rule_tcp_buf(const struct tune_input *in, struct tune_result *out, bool rx)
{
	const char *rule = rx ? "tcp-rmem" : "tcp-wmem";
	int id = rx ? SC_TCP_RMEM : SC_TCP_WMEM, max_id = rx ? SC_RMEM_MAX : SC_WMEM_MAX;
	const struct sysctl_val *v = cur(in, id), *mx = cur(in, max_id);
	uint64_t srtt, rate, bdp, pruned = 0;
	int64_t target = 0, cap;
	struct sysctl_val to;
	struct proposal *p;
	bool have_pruned, from_conn;

	if (!v || !mx)
		return tune_note(out, "%s: %s or %s not readable", rule, sysctl_descs[id].name,
				 sysctl_descs[max_id].name);
	bdp = bdp_bytes(in, rx ? "rx_bytes" : "tx_bytes", &srtt, &rate, &from_conn);
	have_pruned = rx && !NETSTAT_DELTA(in, rcv_pruned, "RcvPruned", &pruned);
	if (!srtt && !have_pruned)
		return tune_note(out, "%s: no RTT/throughput evidence%s", rule,
				 rx ? " and no RcvPruned delta" : "");
	if (bdp > (uint64_t)v->v[2] / 2)
		target = pow2_at_least((int64_t)(bdp > (uint64_t)TUNE_BUF_CAP ? TUNE_BUF_CAP : bdp) * 2);
	if (pruned && target < v->v[2] * 2)
		target = v->v[2] * 2;
	if (!target)
		return 0;
	/* bounded step, hard cap, never past INT_MAX */
	cap = TUNE_BUF_CAP < TUNE_INT_CAP ? TUNE_BUF_CAP : TUNE_INT_CAP;
	if (target > v->v[2] * 4)
		target = v->v[2] * 4;
	if (target > cap)
		target = cap;
	if (target <= v->v[2])
		return tune_note(out, "%s: buffers look small (BDP %llu bytes) but %s is at its cap",
				 rule, (unsigned long long)bdp, sysctl_descs[id].name);
	/* the core maximum moves first so tcp_*mem[2] never exceeds it */
	if (target > mx->v[0]) {
		p = raise_sysctl(out, rule, max_id, mx, target);
		if (!p)
			return -ENOMEM;
		snprintf(p->why, sizeof(p->why), "raised together with %s so that its maximum "
			 "(%lld) stays within %s", sysctl_descs[id].name, (long long)target,
			 sysctl_descs[max_id].name);
		tune_evid(p, "bdp_bytes", bdp);
		snprintf(p->risk, sizeof(p->risk),
			 "low: only an upper bound for SO_%s; memory is used only by sockets that ask",
			 rx ? "RCVBUF" : "SNDBUF");
	}
	to = *v;
	to.v[2] = target;
	p = tune_add(out, rule, FAM_SYSCTL);
	if (!p)
		return -ENOMEM;
	sysctl_prop(p, id, v, &to);
	if (bdp > (uint64_t)v->v[2] / 2)
		snprintf(p->why, sizeof(p->why),
			 "bandwidth-delay product %llu bytes (%s srtt %llu ns x %llu bytes/s on the "
			 "fastest connection) exceeds half of the %s maximum %lld",
			 (unsigned long long)bdp, from_conn ? "its" : "p90", (unsigned long long)srtt,
			 (unsigned long long)rate, rx ? "receive" : "send", (long long)v->v[2]);
	else
		snprintf(p->why, sizeof(p->why),
			 "%llu packets were pruned from receive queues that hit their buffer limit",
			 (unsigned long long)pruned);
	tune_evid(p, "bdp_bytes", bdp);
	tune_evid(p, from_conn ? "connection_srtt_ns" : "srtt_p90_ns", srtt);
	tune_evid(p, "throughput_bytes", rate);
	if (rx)
		tune_evid(p, "rcv_pruned", pruned);
	snprintf(p->risk, sizeof(p->risk),
		 "medium: each busy connection may use up to %lld bytes of %s buffer; watch "
		 "tcp_mem pressure with many connections", (long long)target, rx ? "receive" : "send");
	return 0;
}

static int rule_tcp_rmem(const struct tune_input *in, struct tune_result *out)
{
	return rule_tcp_buf(in, out, true);
}

static int rule_tcp_wmem(const struct tune_input *in, struct tune_result *out)
{
	return rule_tcp_buf(in, out, false);
}

/* Ports held in TIME_WAIT now, or projected from outbound churn. */
static int port_demand(const struct tune_input *in, uint64_t *tw, uint64_t *opens,
		       uint64_t *projected)
{
	uint64_t win = window_ns(in);
	const json_t *tcp = ev_col(in, "tcp");
	bool have_opens = false;

	*tw = in->after->have_sockstat ? in->after->tw_sockets : 0;
	*opens = 0;
	if (in->before && in->before->c.have_snmp && in->after->c.have_snmp) {
		*opens = sub0(in->after->c.active_opens, in->before->c.active_opens);
		have_opens = true;
	} else if (tcp && jget_u64(json_object_get(tcp, "counters"), "active_opens", opens)) {
		have_opens = true;
	}
	*projected = 0;
	if (have_opens && win)
		*projected = (uint64_t)((double)*opens * TUNE_TW_SECONDS * 1e9 / (double)win);
	if (!in->after->have_sockstat && !have_opens)
		return -ENODATA;
	return 0;
}

static int rule_port_range(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_PORT_RANGE);
	uint64_t tw, opens, proj, demand, size;
	struct sysctl_val to;
	struct proposal *p;
	int64_t lo;

	if (!v)
		return tune_note(out, "port-range: net.ipv4.ip_local_port_range not readable");
	if (port_demand(in, &tw, &opens, &proj))
		return tune_note(out, "port-range: no TIME_WAIT count or connection delta available");
	size = v->v[1] >= v->v[0] ? (uint64_t)(v->v[1] - v->v[0] + 1) : 0;
	demand = tw > proj ? tw : proj;
	if (!size || !at_pct(demand, size, TUNE_PCT_TRIGGER))
		return 0;
	to = *v;
	to.v[1] = 65535;
	lo = 65535 - 2 * (int64_t)size + 1;
	to.v[0] = lo < 1024 ? 1024 : (lo > v->v[0] ? v->v[0] : lo);
	if (to.v[0] == v->v[0] && to.v[1] == v->v[1])
		return tune_note(out, "port-range: %llu ports in demand, range already spans 1024-65535",
				 (unsigned long long)demand);
	p = tune_add(out, "port-range", FAM_SYSCTL);
	if (!p)
		return -ENOMEM;
	sysctl_prop(p, SC_PORT_RANGE, v, &to);
	snprintf(p->why, sizeof(p->why),
		 "%llu local ports are or will be held (%llu in TIME_WAIT, %llu outbound opens "
		 "projected over %ds of TIME_WAIT) against a range of %llu",
		 (unsigned long long)demand, (unsigned long long)tw, (unsigned long long)proj,
		 TUNE_TW_SECONDS, (unsigned long long)size);
	tune_evid(p, "time_wait_sockets", tw);
	tune_evid(p, "active_opens", opens);
	tune_evid(p, "projected_ports", proj);
	tune_evid(p, "port_range_size", size);
	snprintf(p->risk, sizeof(p->risk),
		 "medium: services listening on ports inside the new range may find them taken; "
		 "reserve those with net.ipv4.ip_local_reserved_ports");
	return 0;
}

static int rule_tw_reuse(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_TW_REUSE), *r = cur(in, SC_PORT_RANGE);
	uint64_t tw, opens, proj, demand, size;
	struct proposal *p;

	if (!v || !r)
		return tune_note(out, "tw-reuse: tcp_tw_reuse or ip_local_port_range not readable");
	if (port_demand(in, &tw, &opens, &proj))
		return tune_note(out, "tw-reuse: no TIME_WAIT count or connection delta available");
	size = r->v[1] >= r->v[0] ? (uint64_t)(r->v[1] - r->v[0] + 1) : 0;
	demand = tw > proj ? tw : proj;
	if (!size || !at_pct(demand, size, TUNE_PCT_TRIGGER) || v->v[0] == 1)
		return 0;
	p = raise_sysctl(out, "tw-reuse", SC_TW_REUSE, v, 1);
	if (!p)
		return -ENOMEM;
	snprintf(p->why, sizeof(p->why),
		 "outbound connections are running out of local ports (%llu in demand, range %llu); "
		 "tcp_tw_reuse=%lld does not reuse TIME_WAIT ports for them",
		 (unsigned long long)demand, (unsigned long long)size, (long long)v->v[0]);
	tune_evid(p, "time_wait_sockets", tw);
	tune_evid(p, "projected_ports", proj);
	tune_evid(p, "port_range_size", size);
	snprintf(p->risk, sizeof(p->risk),
		 "low: reuse only happens when TCP timestamps prove the old segments stale (PAWS); "
		 "affects outgoing connections only");
	return 0;
}

/* ---- memory rules -------------------------------------------------------- */

static int rule_dirty(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *bg = cur(in, SC_DIRTY_BG_RATIO), *fg = cur(in, SC_DIRTY_RATIO);
	const struct sysctl_val *bgb = cur(in, SC_DIRTY_BG_BYTES), *fgb = cur(in, SC_DIRTY_BYTES);
	const json_t *bio = ev_col(in, "bio"), *o;
	uint64_t writes = 0, pending, thresh, worst = 0;
	int64_t nbg, nfg;
	struct proposal *p;
	size_t i;

	if (!bg || !fg)
		return tune_note(out, "dirty: vm.dirty_*ratio not readable");
	if (!bio)
		return tune_note(out, "dirty: no block IO evidence (record with -e bio and use --from)");
	if (!in->after->have_meminfo)
		return tune_note(out, "dirty: /proc/meminfo not readable");
	if ((bgb && bgb->v[0]) || (fgb && fgb->v[0]))
		return tune_note(out, "dirty: vm.dirty_bytes/dirty_background_bytes are set; ratios "
				 "are ignored by the kernel");
	json_array_foreach(json_object_get(bio, "outliers"), i, o) {
		const json_t *op = json_object_get(o, "op");
		uint64_t lat;

		if (!json_is_string(op) || strcmp(json_string_value(op), "write"))
			continue;
		writes++;
		if (jget_u64(o, "latency_ns", &lat) && lat > worst)
			worst = lat;
	}
	pending = in->after->dirty_bytes + in->after->writeback_bytes;
	thresh = in->after->mem_available_bytes / 100 * (uint64_t)bg->v[0];
	if (writes < 3 || pending < thresh || bg->v[0] <= 1)
		return 0;
	nbg = bg->v[0] / 2 > 1 ? bg->v[0] / 2 : 1;
	p = raise_sysctl(out, "dirty", SC_DIRTY_BG_RATIO, bg, nbg);
	if (!p)
		return -ENOMEM;
	snprintf(p->why, sizeof(p->why),
		 "%llu block writes were latency outliers (worst %llu ns) while %llu bytes were "
		 "dirty or under writeback, past the background threshold of %llu bytes: start "
		 "writeback earlier, in smaller batches",
		 (unsigned long long)writes, (unsigned long long)worst,
		 (unsigned long long)pending, (unsigned long long)thresh);
	tune_evid(p, "write_outliers", writes);
	tune_evid(p, "worst_write_latency_ns", worst);
	tune_evid(p, "dirty_writeback_bytes", pending);
	tune_evid(p, "background_threshold_bytes", thresh);
	snprintf(p->risk, sizeof(p->risk),
		 "medium: more, smaller writebacks; workloads rewriting the same pages write more");
	nfg = fg->v[0] / 2;
	if (nfg < nbg * 2)
		nfg = nbg * 2;
	if (nfg < fg->v[0]) {
		p = raise_sysctl(out, "dirty", SC_DIRTY_RATIO, fg, nfg);
		if (!p)
			return -ENOMEM;
		snprintf(p->why, sizeof(p->why),
			 "lowered with dirty_background_ratio so writers are throttled before a large "
			 "backlog of dirty pages builds up");
		tune_evid(p, "write_outliers", writes);
		tune_evid(p, "dirty_writeback_bytes", pending);
		snprintf(p->risk, sizeof(p->risk),
			 "medium: heavy writers are throttled sooner (shorter stalls, lower burst rate)");
	}
	return 0;
}

static int rule_swappiness(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_SWAPPINESS);
	uint64_t swapins;
	struct proposal *p;
	int64_t n;

	if (!v)
		return tune_note(out, "swappiness: vm.swappiness not readable");
	if (!in->before || !in->before->c.have_vmstat || !in->after->c.have_vmstat)
		return tune_note(out, "swappiness: no delta available for pswpin");
	if (!in->after->have_psi)
		return tune_note(out, "swappiness: no memory pressure (PSI) information");
	swapins = sub0(in->after->c.pswpin, in->before->c.pswpin);
	if (!swapins || in->after->psi_mem_some10 < 5.0 || v->v[0] <= 10)
		return 0;
	n = v->v[0] / 2 > 10 ? v->v[0] / 2 : 10;
	p = raise_sysctl(out, "swappiness", SC_SWAPPINESS, v, n);
	if (!p)
		return -ENOMEM;
	snprintf(p->why, sizeof(p->why),
		 "%llu pages were swapped in while memory pressure was %.1f%% (some, avg10): "
		 "the working set is being swapped out; prefer dropping page cache",
		 (unsigned long long)swapins, in->after->psi_mem_some10);
	tune_evid(p, "pswpin", swapins);
	tune_evid(p, "psi_memory_some_avg10_pct_x100",
		  (uint64_t)(in->after->psi_mem_some10 * 100));
	snprintf(p->risk, sizeof(p->risk),
		 "medium: page cache shrinks first; file-heavy workloads may read more from disk");
	return 0;
}

static int rule_max_map_count(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_MAX_MAP_COUNT);
	const struct proc_snap *worst = NULL;
	struct proposal *p;

	if (!v)
		return tune_note(out, "max-map-count: vm.max_map_count not readable");
	for (size_t i = 0; i < in->after->nprocs; i++) {
		const struct proc_snap *q = &in->after->procs[i];

		if (q->has_maps && !q->self && at_pct(q->nmaps, (uint64_t)v->v[0], TUNE_PCT_TRIGGER) &&
		    (!worst || q->nmaps > worst->nmaps))
			worst = q;
	}
	if (!worst)
		return 0;
	if (v->v[0] >= TUNE_INT_CAP)
		return tune_note(out, "max-map-count: already at INT_MAX");
	p = raise_sysctl(out, "max-map-count", SC_MAX_MAP_COUNT, v,
			 doubled(v->v[0], 65530, TUNE_INT_CAP));
	if (!p)
		return -ENOMEM;
	snprintf(p->why, sizeof(p->why),
		 "process %d (%s) has %llu memory mappings, %llu%% of vm.max_map_count=%lld; "
		 "mmap() fails with ENOMEM at the limit", (int)worst->pid, worst->comm,
		 (unsigned long long)worst->nmaps,
		 (unsigned long long)(worst->nmaps * 100 / (uint64_t)(v->v[0] ? v->v[0] : 1)),
		 (long long)v->v[0]);
	tune_evid(p, "pid", (uint64_t)worst->pid);
	tune_evid(p, "map_count", worst->nmaps);
	snprintf(p->risk, sizeof(p->risk),
		 "low: each mapping costs kernel memory only when used");
	return 0;
}

static int rule_file_max(const struct tune_input *in, struct tune_result *out)
{
	const struct sysctl_val *v = cur(in, SC_FILE_MAX);
	struct proposal *p;

	if (!v || !in->after->have_file_nr)
		return tune_note(out, "file-max: fs.file-max or file-nr not readable");
	if (!at_pct(in->after->file_nr_alloc, (uint64_t)v->v[0], TUNE_PCT_TRIGGER))
		return 0;
	if (v->v[0] >= TUNE_INT_CAP)
		return tune_note(out, "file-max: file handles at %llu of %lld, already past INT_MAX",
				 (unsigned long long)in->after->file_nr_alloc, (long long)v->v[0]);
	p = raise_sysctl(out, "file-max", SC_FILE_MAX, v, doubled(v->v[0], 8192, TUNE_INT_CAP));
	if (!p)
		return -ENOMEM;
	snprintf(p->why, sizeof(p->why),
		 "%llu file handles allocated of fs.file-max=%lld (%llu%%); open() fails with "
		 "ENFILE system-wide at the limit", (unsigned long long)in->after->file_nr_alloc,
		 (long long)v->v[0],
		 (unsigned long long)(in->after->file_nr_alloc * 100 / (uint64_t)(v->v[0] ? v->v[0] : 1)));
	tune_evid(p, "file_handles", in->after->file_nr_alloc);
	tune_evid(p, "file_max", (uint64_t)v->v[0]);
	snprintf(p->risk, sizeof(p->risk), "low: a ceiling; memory is used per open file only");
	return 0;
}

/* ---- targets ------------------------------------------------------------- */

/* disco itself and its children: never a target, never a neighbour */
static bool is_self(const struct tune_input *in, pid_t pid)
{
	const struct proc_snap *q = snapshot_proc(in->after, pid);

	return q && q->self;
}

static bool has_pid(const pid_t *v, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

/* Processes from the evidence whose run-queue p99 is high, worst first. */
static int evidence_targets(const struct tune_input *in, pid_t *out, int max)
{
	const json_t *sched = ev_col(in, "sched"), *pr;
	uint64_t p99s[TUNE_MAX_TARGETS];
	int n = 0;
	size_t i;

	if (!sched)
		return 0;
	json_array_foreach(json_object_get(sched, "processes"), i, pr) {
		uint64_t pid, p99;
		int k;

		if (!jget_u64(pr, "pid", &pid) || !pid || pid > INT32_MAX || is_self(in, (pid_t)pid) ||
		    !jget_u64(json_object_get(pr, "runq_latency"), "p99_ns", &p99) ||
		    p99 < TUNE_RUNQ_P99_NS || has_pid(out, n, (pid_t)pid))
			continue;
		if (n == max && p99 <= p99s[n - 1])
			continue;
		k = n < max ? n++ : n - 1;
		while (k > 0 && p99s[k - 1] < p99) {
			out[k] = out[k - 1];
			p99s[k] = p99s[k - 1];
			k--;
		}
		out[k] = (pid_t)pid;
		p99s[k] = p99;
	}
	return n;
}

static int targets_of(const struct tune_input *in, pid_t *out, int max)
{
	int n = 0;

	if (in->ntargets > 0) {
		for (int i = 0; i < in->ntargets && n < max; i++)
			out[n++] = in->targets[i];
		return n;
	}
	return evidence_targets(in, out, max);
}

/* ---- fd limits ----------------------------------------------------------- */

static int nofile_one(const struct tune_input *in, struct tune_result *out,
		      const struct proc_snap *q)
{
	const struct sysctl_val *nr = cur(in, SC_NR_OPEN);
	uint64_t soft = q->nofile_soft, hard = q->nofile_hard, ns, nh = hard;
	int64_t nr_open = nr ? nr->v[0] : NR_OPEN_MAX;
	bool raise_hard = false;
	struct proposal *p;
	const char *user;

	if (q->kthread || q->self || !q->has_fds || !q->has_limits || soft == TUNE_NOFILE_INF ||
	    !soft)
		return 0;
	if (!at_pct(q->nfds, soft, TUNE_PCT_TRIGGER))
		return 0;
	/* double, and at least enough to bring usage under half */
	ns = soft > (uint64_t)NR_OPEN_MAX / 2 ? (uint64_t)NR_OPEN_MAX : soft * 2;
	if (ns < q->nfds * 2)
		ns = q->nfds * 2;
	if (ns > (uint64_t)NR_OPEN_MAX)
		ns = NR_OPEN_MAX;
	if (hard != TUNE_NOFILE_INF && ns > hard) {
		/* the hard limit is only raised if soft=hard is not enough */
		if (at_pct(q->nfds, hard, TUNE_PCT_TRIGGER) && in->is_root) {
			raise_hard = true;
			nh = ns;
		} else {
			ns = hard;
		}
	}
	if (ns <= soft && !raise_hard)
		return tune_note(out, "nofile: pid %d (%s) uses %llu of %llu fds; the hard limit "
				 "must rise and that needs root", (int)q->pid, q->comm,
				 (unsigned long long)q->nfds, (unsigned long long)soft);
	if (raise_hard && nh > (uint64_t)nr_open) {
		/* fs.nr_open bounds every hard limit: move it in the same rule */
		struct sysctl_val to;

		if (!nr)
			return tune_note(out, "nofile: pid %d needs fs.nr_open above %lld (not readable)",
					 (int)q->pid, (long long)nr_open);
		to = *nr;
		to.v[0] = (int64_t)nh;
		p = tune_add(out, "nofile", FAM_SYSCTL);
		if (!p)
			return -ENOMEM;
		sysctl_prop(p, SC_NR_OPEN, nr, &to);
		snprintf(p->why, sizeof(p->why),
			 "the hard RLIMIT_NOFILE of pid %d must rise to %llu, above fs.nr_open",
			 (int)q->pid, (unsigned long long)nh);
		tune_evid(p, "pid", (uint64_t)q->pid);
		tune_evid(p, "open_fds", q->nfds);
		snprintf(p->risk, sizeof(p->risk), "low: a ceiling for per-process fd limits");
	}
	p = tune_add(out, "nofile", FAM_NOFILE);
	if (!p)
		return -ENOMEM;
	snprintf(p->knob, sizeof(p->knob), "RLIMIT_NOFILE");
	p->pid = q->pid;
	p->start_time = q->start_time;
	snprintf(p->comm, sizeof(p->comm), "%s", q->comm);
	nofile_format(soft, hard, p->current, sizeof(p->current));
	nofile_format(ns, nh, p->proposed, sizeof(p->proposed));
	snprintf(p->why, sizeof(p->why),
		 "pid %d (%s) has %llu open fds, %llu%% of its soft limit %llu; at the limit "
		 "open(), accept() and socket() fail with EMFILE", (int)q->pid, q->comm,
		 (unsigned long long)q->nfds, (unsigned long long)(q->nfds * 100 / soft),
		 (unsigned long long)soft);
	tune_evid(p, "open_fds", q->nfds);
	tune_evid(p, "soft_limit", soft);
	tune_evid(p, "hard_limit", hard == TUNE_NOFILE_INF ? 0 : hard);
	user = q->user[0] ? q->user : "USER";
	if (q->unit[0])
		snprintf(p->persist, sizeof(p->persist),
			 "/etc/systemd/system/%s.d/disco-nofile.conf: [Service] LimitNOFILE=%llu:%llu; "
			 "/etc/security/limits.d/90-disco.conf: %s soft nofile %llu / %s hard nofile %llu",
			 q->unit, (unsigned long long)ns, (unsigned long long)nh, user,
			 (unsigned long long)ns, user, (unsigned long long)nh);
	else
		snprintf(p->persist, sizeof(p->persist),
			 "/etc/security/limits.d/90-disco.conf: %s soft nofile %llu / %s hard nofile "
			 "%llu (or LimitNOFILE=%llu:%llu in its systemd unit)", user,
			 (unsigned long long)ns, user, (unsigned long long)nh,
			 (unsigned long long)ns, (unsigned long long)nh);
	snprintf(p->undo, sizeof(p->undo), "prlimit --pid %d --nofile=%s (or: disco tune --rollback)",
		 (int)q->pid, p->current);
	snprintf(p->risk, sizeof(p->risk),
		 "low: a leak grows further before it fails; programs using select() cannot use fds "
		 "above 1023");
	return 0;
}

static int rule_nofile(const struct tune_input *in, struct tune_result *out)
{
	int err;

	if (in->ntargets > 0) {
		for (int i = 0; i < in->ntargets; i++) {
			const struct proc_snap *q = snapshot_proc(in->after, in->targets[i]);

			if (q && q->self) {
				err = tune_note(out, "nofile: pid %d is disco itself: not a target",
						(int)in->targets[i]);
			} else if (!q || !q->has_fds || !q->has_limits) {
				err = tune_note(out, "nofile: pid %d: fd count or limits not readable",
						(int)in->targets[i]);
			} else {
				err = nofile_one(in, out, q);
			}
			if (err)
				return err;
		}
		return 0;
	}
	for (size_t i = 0; i < in->after->nprocs; i++)
		if ((err = nofile_one(in, out, &in->after->procs[i])))
			return err;
	return 0;
}

/* ---- affinity ------------------------------------------------------------ */

/* CPU demand per CPU in milli-CPUs: busy time plus run-queue waiting of the
 * processes last seen there. -ENODATA without two snapshots. */
static int cpu_load(const struct tune_input *in, uint64_t *load)
{
	const struct snapshot *a = in->after, *b = in->before;
	uint64_t win = window_ns(in);

	if (!b || !b->c.have_cpustat || !a->c.have_cpustat || !win)
		return -ENODATA;
	for (int c = 0; c < a->ncpus; c++) {
		uint64_t tot = sub0(a->cpu_total[c], b->cpu_total[c]);

		load[c] = tot ? sub0(a->cpu_busy[c], b->cpu_busy[c]) * 1000 / tot : 0;
	}
	for (size_t i = 0; i < a->nprocs; i++) {
		const struct proc_snap *q = &a->procs[i], *o = snapshot_proc(b, q->pid);

		if (!o || o->start_time != q->start_time || !q->has_sched || !o->has_sched ||
		    q->last_cpu < 0 || q->last_cpu >= a->ncpus)
			continue;
		load[q->last_cpu] += sub0(q->wait_ns, o->wait_ns) * 1000 / win;
	}
	return 0;
}

struct neighbours {
	pid_t pid[16];
	uint64_t hits[16];
	int n;
};

static void nb_add(struct neighbours *nb, pid_t pid, uint64_t hits)
{
	for (int i = 0; i < nb->n; i++)
		if (nb->pid[i] == pid) {
			nb->hits[i] += hits;
			return;
		}
	if (nb->n < 16) {
		nb->pid[nb->n] = pid;
		nb->hits[nb->n++] = hits;
		return;
	}
	/* full: keep the 16 heaviest */
	for (int i = 0, min = 0; i < nb->n; i++) {
		if (nb->hits[i] < nb->hits[min])
			min = i;
		if (i == nb->n - 1 && nb->hits[min] < hits) {
			nb->pid[min] = pid;
			nb->hits[min] = hits;
		}
	}
}

/* How much pid waits for a CPU: run-queue p99 from the sched evidence, % of the window runnable. */
static void cpu_wait_of(const struct tune_input *in, const struct proc_snap *t, pid_t pid,
			uint64_t *p99, uint64_t *wait_pct)
{
	const json_t *sched = ev_col(in, "sched"), *x;
	const struct proc_snap *tb = in->before ? snapshot_proc(in->before, pid) : NULL;
	uint64_t win = window_ns(in);
	size_t i;

	*p99 = *wait_pct = 0;
	json_array_foreach(sched ? json_object_get(sched, "processes") : NULL, i, x) {
		uint64_t v;

		if (jget_u64(x, "pid", &v) && v == (uint64_t)pid)
			jget_u64(json_object_get(x, "runq_latency"), "p99_ns", p99);
	}
	if (tb && tb->start_time == t->start_time && tb->has_sched && t->has_sched && win)
		*wait_pct = sub0(t->wait_ns, tb->wait_ns) * 100 / win;
}

/*
 * Neighbours: who ran instead (outliers, and the CPUs pid waited on), and
 * busy processes sharing its CPUs.
 */
static void find_neighbours(const struct tune_input *in, const struct proc_snap *t, pid_t pid,
			    struct neighbours *nb, cpu_set_t *waited_on)
{
	const struct snapshot *a = in->after;
	const json_t *sched = ev_col(in, "sched"), *x;
	uint64_t win = window_ns(in);
	size_t i;

	CPU_ZERO(waited_on);
	json_array_foreach(sched ? json_object_get(sched, "outliers") : NULL, i, x) {
		uint64_t v, prev, cpu;

		if (!jget_u64(x, "pid", &v) || v != (uint64_t)pid)
			continue;
		if (jget_u64(x, "cpu", &cpu) && cpu < CPU_SETSIZE)
			CPU_SET(cpu, waited_on);
		if (jget_u64(x, "prev_pid", &prev) && prev && prev != (uint64_t)pid &&
		    prev <= INT32_MAX && !is_self(in, (pid_t)prev))
			nb_add(nb, (pid_t)prev, 1);
	}
	for (i = 0; in->before && win && i < a->nprocs; i++) {
		const struct proc_snap *q = &a->procs[i], *o = snapshot_proc(in->before, q->pid);
		cpu_set_t common;
		uint64_t used;

		if (q->pid == pid || q->self || !o || o->start_time != q->start_time)
			continue;
		/* a real share of a CPU over the window, on CPUs we may use */
		used = sub0(q->cpu_ticks, o->cpu_ticks) * 1000000000ull / a->clk_tck;
		CPU_AND(&common, &q->allowed, &t->allowed);
		if (used * 100 >= win * TUNE_NEIGHBOUR_PCT && CPU_COUNT(&common))
			nb_add(nb, q->pid, used / 1000000);
	}
}

/*
 * Moving every process that crowds the same CPUs onto the same spare CPUs
 * only moves the contention: one move per crowded CPU set (the worst
 * victim, which comes first) and per neighbour, then re-measure. The
 * proposal that already moves one of this crowd, or NULL.
 */
static const struct proposal *crowd_moved_first(const struct tune_result *out,
						const struct proc_snap *t,
						const struct neighbours *nb)
{
	char mask[TUNE_VAL_LEN];

	cpulist_format(&t->allowed, mask, sizeof(mask));
	for (size_t m = 0; m < out->n; m++) {
		const struct proposal *o = &out->props[m];
		bool crowd = !strcmp(o->rule, "affinity-neighbour") && !strcmp(o->current, mask);

		for (int k = 0; !crowd && k < nb->n; k++)
			crowd = o->family == FAM_AFFINITY && o->pid == nb->pid[k];
		if (crowd)
			return o;
	}
	return NULL;
}

/*
 * CPUs to avoid: where pinned neighbours must run. An unpinned one can
 * move and its demand is in the measured load; without load data the CPUs
 * the target waited on (outliers) count as busy instead. Also picks the
 * heaviest neighbour (*best).
 */
static void busy_cpus(const struct snapshot *a, const struct neighbours *nb,
		      const cpu_set_t *waited_on, bool have_load, cpu_set_t *busy, int *best)
{
	*best = 0;
	CPU_ZERO(busy);
	if (!have_load)
		CPU_OR(busy, busy, waited_on);
	for (int k = 0; k < nb->n; k++) {
		const struct proc_snap *q = snapshot_proc(a, nb->pid[k]);

		if (!q)
			continue;
		if (CPU_COUNT(&q->allowed) && CPU_COUNT(&q->allowed) < CPU_COUNT(&a->online))
			CPU_OR(busy, busy, &q->allowed);
		if (nb->hits[k] > nb->hits[*best])
			*best = k;
	}
}

/* Mean load (milli-CPUs) over the online CPUs of set; 0 without load data. */
static uint64_t mean_load(const struct snapshot *a, const cpu_set_t *set, const uint64_t *load,
			  bool have_load)
{
	uint64_t sum = 0;
	int n = 0;

	for (int c = 0; have_load && c < a->ncpus; c++)
		if (CPU_ISSET(c, set)) {
			sum += load[c];
			n++;
		}
	return n ? sum / n : 0;
}

/* Spare CPUs: online, not busy, and (with load data) at least one CPU's worth less demand. */
static int spare_cpus(const struct snapshot *a, const cpu_set_t *busy, const uint64_t *load,
		      bool have_load, uint64_t cur_load, cpu_set_t *cand)
{
	int n = 0;

	CPU_ZERO(cand);
	for (int c = 0; c < a->ncpus; c++) {
		if (!CPU_ISSET(c, &a->online) || CPU_ISSET(c, busy))
			continue;
		if (have_load && load[c] + 1000 > cur_load)
			continue;
		CPU_SET(c, cand);
		n++;
	}
	return n;
}

static int no_spare_note(struct tune_result *out, const struct snapshot *a,
			 const struct proc_snap *t, pid_t pid, const cpu_set_t *busy,
			 const uint64_t *load, bool have_load, uint64_t cur_load)
{
	uint64_t lo = UINT64_MAX;
	char b[TUNE_VAL_LEN];

	for (int c = 0; have_load && c < a->ncpus; c++)
		if (CPU_ISSET(c, &a->online) && !CPU_ISSET(c, busy) && load[c] < lo)
			lo = load[c];
	/* busy: where pinned neighbours run, or (no load data) where it waited */
	cpulist_format(busy, b, sizeof(b));
	return tune_note(out, "affinity: pid %d (%s) suffers from neighbours but no CPU has "
			 "spare capacity (busy CPUs %s; load of its CPUs %llu milli-CPUs, least "
			 "loaded other CPU %llu)", (int)pid, t->comm, b[0] ? b : "none",
			 (unsigned long long)cur_load,
			 (unsigned long long)(lo == UINT64_MAX ? 0 : lo));
}

/* What the proposal moving pid to cand says: why, evidence, how to persist and undo. */
static void neighbour_words(struct proposal *p, const struct snapshot *a,
			    const struct proc_snap *t, const struct neighbours *nb, int best,
			    uint64_t p99, uint64_t wait_pct, const cpu_set_t *cand,
			    const uint64_t *load, bool have_load, uint64_t cur_load)
{
	char sig[96];

	if (p99 >= TUNE_RUNQ_P99_NS)
		snprintf(sig, sizeof(sig), "run-queue latency p99 %llu ns", (unsigned long long)p99);
	else
		snprintf(sig, sizeof(sig), "its threads runnable but waiting %llu%% of "
			 "the window", (unsigned long long)wait_pct);
	snprintf(p->why, sizeof(p->why),
		 "pid %d (%s) waits for CPU (%s) behind %d busy neighbour(s), e.g. pid %d; "
		 "CPUs %s have spare capacity", (int)p->pid, t->comm, sig, nb->n,
		 (int)nb->pid[best], p->proposed);
	tune_evid(p, "runq_p99_ns", p99);
	tune_evid(p, "wait_pct", wait_pct);
	tune_evid(p, "neighbours", (uint64_t)nb->n);
	tune_evid(p, "neighbour_pid", (uint64_t)nb->pid[best]);
	if (have_load) {
		tune_evid(p, "current_cpu_load_milli", cur_load);
		tune_evid(p, "proposed_cpu_load_milli", mean_load(a, cand, load, have_load));
	}
	snprintf(p->persist, sizeof(p->persist), "taskset -a -p -c %s %d%s%s%s%s", p->proposed,
		 (int)p->pid, t->unit[0] ? "; /etc/systemd/system/" : "", t->unit,
		 t->unit[0] ? ".d/disco-affinity.conf: [Service] CPUAffinity=" : "",
		 t->unit[0] ? p->proposed : "");
	snprintf(p->undo, sizeof(p->undo), "taskset -a -p -c %s %d (or: disco tune --rollback)",
		 p->current, (int)p->pid);
	snprintf(p->risk, sizeof(p->risk), "medium: a pinned process cannot use other CPUs if "
		 "these get busy; threads created later inherit the mask%s",
		 have_load ? "" : " (CPU load was not measured: no sampling window)");
}

static int affinity_neighbour_one(const struct tune_input *in, struct tune_result *out,
				  pid_t pid, const uint64_t *load, bool have_load)
{
	const struct snapshot *a = in->after;
	const struct proc_snap *t = snapshot_proc(a, pid);
	const struct proposal *first;
	uint64_t p99, wait_pct, cur_load;
	struct neighbours nb = { 0 };
	cpu_set_t busy, cand, mine, waited_on;
	struct proposal *p;
	int best;

	/* evidence names many processes: only -p targets get a note when skipped */
	if (!t || !CPU_COUNT(&t->allowed) || t->kthread || t->self)
		return in->ntargets ? tune_note(out, "affinity: pid %d not found, disco itself, a "
						"kernel thread, or its CPU mask unreadable",
						(int)pid) : 0;
	cpu_wait_of(in, t, pid, &p99, &wait_pct);
	if (p99 < TUNE_RUNQ_P99_NS && wait_pct < TUNE_WAIT_FRAC_PCT)
		return in->ntargets ? tune_note(out, "affinity: pid %d (%s): run-queue latency below "
						"threshold (p99 %llu ns, waiting %llu%%)", (int)pid,
						t->comm, (unsigned long long)p99,
						(unsigned long long)wait_pct) : 0;
	find_neighbours(in, t, pid, &nb, &waited_on);
	if (!nb.n)
		return in->ntargets ? tune_note(out, "affinity: pid %d (%s) waits for CPU but no "
						"noisy neighbour was identified", (int)pid,
						t->comm) : 0;
	first = crowd_moved_first(out, t, &nb);
	if (first)
		return in->ntargets ? tune_note(out, "affinity: pid %d (%s): pid %d "
						"that shares its CPUs is moved first; re-run tune "
						"after", (int)pid, t->comm, (int)first->pid) : 0;
	busy_cpus(a, &nb, &waited_on, have_load, &busy, &best);
	CPU_AND(&mine, &t->allowed, &a->online);
	/* the scheduler may already move an unpinned process anywhere: without
	 * load data there is no evidence that a narrower set would be better */
	if (!have_load && CPU_EQUAL(&mine, &a->online))
		return in->ntargets ? tune_note(out, "affinity: pid %d (%s) may run on every CPU "
						"and CPU load was not measured (use -d)",
						(int)pid, t->comm) : 0;
	cur_load = mean_load(a, &mine, load, have_load);
	if (!spare_cpus(a, &busy, load, have_load, cur_load, &cand))
		return no_spare_note(out, a, t, pid, &busy, load, have_load, cur_load);
	if (CPU_EQUAL(&cand, &t->allowed))
		return 0;
	p = tune_add(out, "affinity-neighbour", FAM_AFFINITY);
	if (!p)
		return -ENOMEM;
	snprintf(p->knob, sizeof(p->knob), "affinity");
	p->pid = pid;
	p->start_time = t->start_time;
	snprintf(p->comm, sizeof(p->comm), "%s", t->comm);
	cpulist_format(&t->allowed, p->current, sizeof(p->current));
	cpulist_format(&cand, p->proposed, sizeof(p->proposed));
	neighbour_words(p, a, t, &nb, best, p99, wait_pct, &cand, load, have_load, cur_load);
	return 0;
}

static int rule_affinity_neighbour(const struct tune_input *in, struct tune_result *out)
{
	static uint64_t load[CPU_SETSIZE];
	pid_t t[TUNE_MAX_TARGETS];
	int n = targets_of(in, t, TUNE_MAX_TARGETS), err;
	bool have_load;

	if (!n)
		return tune_note(out, "affinity-neighbour: no target processes (give -p PID, or "
				 "sched evidence with high run-queue latency)");
	memset(load, 0, sizeof(load));
	have_load = !cpu_load(in, load);
	for (int i = 0; i < n; i++)
		if ((err = affinity_neighbour_one(in, out, t[i], load, have_load)))
			return err;
	return 0;
}

static int rule_affinity_numa(const struct tune_input *in, struct tune_result *out)
{
	const struct snapshot *a = in->after;
	pid_t t[TUNE_MAX_TARGETS];
	int n;

	if (a->nnodes < 2)
		return 0;
	n = targets_of(in, t, TUNE_MAX_TARGETS);
	for (int i = 0; i < n; i++) {
		const struct proc_snap *q = snapshot_proc(a, t[i]);
		uint64_t total = 0, home_pages = 0;
		int home = 0, spans = 0;
		cpu_set_t cpus;
		struct proposal *p;

		if (!q || !q->has_numa || q->kthread || q->self)
			continue;
		for (int k = 0; k < a->nnodes; k++) {
			cpu_set_t c;

			total += q->node_pages[k];
			if (q->node_pages[k] > home_pages) {
				home_pages = q->node_pages[k];
				home = k;
			}
			CPU_AND(&c, &q->ran_on, &a->node_cpus[k]);
			spans += CPU_COUNT(&c) > 0;
		}
		/* a small process is not worth pinning */
		if (total < 1024 || home_pages * 100 < total * TUNE_NUMA_HOME_PCT || spans < 2)
			continue;
		CPU_AND(&cpus, &a->node_cpus[home], &a->online);
		if (!CPU_COUNT(&cpus) || CPU_EQUAL(&cpus, &q->allowed))
			continue;
		p = tune_add(out, "affinity-numa", FAM_AFFINITY);
		if (!p)
			return -ENOMEM;
		snprintf(p->knob, sizeof(p->knob), "affinity");
		p->pid = q->pid;
		p->start_time = q->start_time;
		snprintf(p->comm, sizeof(p->comm), "%s", q->comm);
		cpulist_format(&q->allowed, p->current, sizeof(p->current));
		cpulist_format(&cpus, p->proposed, sizeof(p->proposed));
		snprintf(p->why, sizeof(p->why),
			 "pid %d (%s) runs on %d NUMA nodes while %llu%% of its memory is on node %d: "
			 "remote accesses cost latency", (int)q->pid, q->comm, spans,
			 (unsigned long long)(home_pages * 100 / total), home);
		tune_evid(p, "home_node", (uint64_t)home);
		tune_evid(p, "home_pages", home_pages);
		tune_evid(p, "total_pages", total);
		tune_evid(p, "nodes_used", (uint64_t)spans);
		snprintf(p->persist, sizeof(p->persist), "taskset -a -p -c %s %d (or numactl "
			 "--cpunodebind=%d at start)%s%s%s", p->proposed, (int)q->pid, home,
			 q->unit[0] ? "; CPUAffinity=" : "", q->unit[0] ? p->proposed : "",
			 q->unit[0] ? " in its unit" : "");
		snprintf(p->undo, sizeof(p->undo), "taskset -a -p -c %s %d (or: disco tune --rollback)",
			 p->current, (int)q->pid);
		snprintf(p->risk, sizeof(p->risk),
			 "medium: the process is limited to one node's CPUs; memory allocated later "
			 "follows the CPUs it runs on");
	}
	return 0;
}

const struct tune_rule tune_rules[] = {
	{ "somaxconn", FAM_SYSCTL, "listen queue overflows: somaxconn when it capped the listener's backlog, else the application's backlog", rule_somaxconn },
	{ "syn-backlog", FAM_SYSCTL, "SYN queue drops: somaxconn when it capped the listener's backlog, else the application's backlog", rule_syn_backlog },
	{ "netdev-backlog", FAM_SYSCTL, "net.core.netdev_max_backlog on softnet drops", rule_netdev_backlog },
	{ "tcp-rmem", FAM_SYSCTL, "tcp_rmem/rmem_max from bandwidth-delay product or pruning", rule_tcp_rmem },
	{ "tcp-wmem", FAM_SYSCTL, "tcp_wmem/wmem_max from bandwidth-delay product", rule_tcp_wmem },
	{ "port-range", FAM_SYSCTL, "ip_local_port_range on TIME_WAIT/outbound churn", rule_port_range },
	{ "tw-reuse", FAM_SYSCTL, "tcp_tw_reuse on local port exhaustion", rule_tw_reuse },
	{ "dirty", FAM_SYSCTL, "vm.dirty_*ratio on write latency with heavy writeback", rule_dirty },
	{ "swappiness", FAM_SYSCTL, "vm.swappiness on swap-ins under memory pressure", rule_swappiness },
	{ "max-map-count", FAM_SYSCTL, "vm.max_map_count on processes near it", rule_max_map_count },
	{ "file-max", FAM_SYSCTL, "fs.file-max when file handles pass 75%", rule_file_max },
	{ "nofile", FAM_NOFILE, "RLIMIT_NOFILE of processes at 75% of it (and fs.nr_open)", rule_nofile },
	{ "affinity-neighbour", FAM_AFFINITY, "CPU affinity away from noisy neighbours", rule_affinity_neighbour },
	{ "affinity-numa", FAM_AFFINITY, "CPU affinity to the NUMA node holding the memory", rule_affinity_numa },
};
const size_t tune_nrules = sizeof(tune_rules) / sizeof(tune_rules[0]);

const struct tune_rule *tune_rule_find(const char *id)
{
	for (size_t i = 0; i < tune_nrules; i++)
		if (!strcmp(tune_rules[i].id, id))
			return &tune_rules[i];
	return NULL;
}

static bool rule_selected(const struct tune_filter *f, const char *id)
{
	if (!f || !f->nrules)
		return true;
	for (int i = 0; i < f->nrules; i++)
		if (!strcmp(f->rules[i], id))
			return true;
	return false;
}

static const struct proposal *find_knob(const struct tune_result *r, int sc)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->props[i].family == FAM_SYSCTL && r->props[i].sc == sc)
			return &r->props[i];
	return NULL;
}

static void drop_prop(struct tune_result *r, size_t i)
{
	memmove(&r->props[i], &r->props[i + 1], (r->n - i - 1) * sizeof(r->props[0]));
	r->n--;
}

/*
 * Invariants over the whole selection: tcp_*mem[2] never above the core
 * maximum that will be in force; fd hard limits never above fs.nr_open;
 * one affinity change per process.
 */
int tune_fix_consistency(const struct snapshot *s, struct tune_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct proposal *p = &r->props[i];
		int max_id = p->sc == SC_TCP_RMEM ? SC_RMEM_MAX : p->sc == SC_TCP_WMEM ? SC_WMEM_MAX : -1;
		struct sysctl_val cur_v, to, lim;
		const struct proposal *mp;

		if (p->family == FAM_AFFINITY) {
			for (size_t k = 0; k < i; k++)
				if (r->props[k].family == FAM_AFFINITY && r->props[k].pid == p->pid) {
					if (tune_note(r, "%s: pid %d already has an affinity proposal "
						      "from %s", p->rule, (int)p->pid, r->props[k].rule))
						return -ENOMEM;
					drop_prop(r, i--);
					break;
				}
			continue;
		}
		if (p->family == FAM_NOFILE) {
			uint64_t soft, hard, lim_nr;
			const struct proposal *np = find_knob(r, SC_NR_OPEN);

			if (nofile_parse(p->proposed, &soft, &hard) || hard == TUNE_NOFILE_INF)
				continue;
			if (np && !sysctl_parse_value(SC_NR_OPEN, np->proposed, &lim))
				lim_nr = (uint64_t)lim.v[0];
			else if (s->sc[SC_NR_OPEN].present)
				lim_nr = (uint64_t)s->sc[SC_NR_OPEN].v[0];
			else
				continue;
			if (hard <= lim_nr)
				continue;
			hard = lim_nr;
			if (soft > hard)
				soft = hard;
			nofile_format(soft, hard, p->proposed, sizeof(p->proposed));
			continue;
		}
		if (p->family == FAM_SYSCTL && find_knob(r, p->sc) != p) {
			/* two rules, one cause (somaxconn for overflows and SYN drops) */
			if (tune_note(r, "%s: %s already proposed by %s", p->rule, p->knob,
				      find_knob(r, p->sc)->rule))
				return -ENOMEM;
			drop_prop(r, i--);
			continue;
		}
		if (max_id < 0)
			continue;
		if (sysctl_parse_value(p->sc, p->proposed, &to) ||
		    sysctl_parse_value(p->sc, p->current, &cur_v))
			continue;
		mp = find_knob(r, max_id);
		if (mp) {
			if (sysctl_parse_value(max_id, mp->proposed, &lim))
				continue;
		} else if (s->sc[max_id].present) {
			lim = s->sc[max_id];
		} else {
			continue;
		}
		if (to.v[2] <= lim.v[0])
			continue;
		to.v[2] = lim.v[0];
		if (to.v[2] <= cur_v.v[2]) {
			if (tune_note(r, "%s: %s cannot grow past %s=%lld unless both move",
				      p->rule, p->knob, sysctl_descs[max_id].name, (long long)lim.v[0]))
				return -ENOMEM;
			drop_prop(r, i--);
			continue;
		}
		sysctl_format(&to, p->proposed, sizeof(p->proposed));
		snprintf(p->persist, sizeof(p->persist), "%s = %s   (in " SYSCTL_D ")",
			 p->knob, p->proposed);
	}
	return 0;
}

int tune_run(const struct tune_input *in, const struct tune_filter *f, struct tune_result *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < tune_nrules; i++) {
		const struct tune_rule *r = &tune_rules[i];
		size_t first = out->n;
		int err;

		if (!rule_selected(f, r->id))
			continue;
		err = r->fn(in, out);
		if (err)
			return err;
		/* --only filters what is proposed, whichever rule proposed it */
		for (size_t k = first; f && f->families && k < out->n; k++)
			if (!(f->families & (1u << out->props[k].family)))
				drop_prop(out, k--);
	}
	return tune_fix_consistency(in->after, out);
}
