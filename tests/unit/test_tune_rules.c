// SPDX-License-Identifier: GPL-2.0
/* Every tuning rule: a snapshot that triggers it, one just below, and the caps. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tuner.h"

#define SEC 1000000000ull

struct fx {
	struct snapshot b, a;
	struct proc_snap pb[8], pa[8];
	struct tune_result r;
	json_t *ev;
};

static void set1(struct snapshot *s, int id, int64_t v)
{
	s->sc[id] = (struct sysctl_val){ .present = true, .n = 1, .v = { v } };
}

static void set3(struct snapshot *s, int id, int64_t a, int64_t b, int64_t c)
{
	s->sc[id] = (struct sysctl_val){ .present = true, .n = 3, .v = { a, b, c } };
}

static void base(struct snapshot *s, uint64_t t)
{
	memset(s, 0, sizeof(*s));
	s->time_ns = t;
	set1(s, SC_SOMAXCONN, 4096);
	set1(s, SC_SYN_BACKLOG, 1024);
	set1(s, SC_NETDEV_BACKLOG, 1000);
	set1(s, SC_RMEM_MAX, 212992);
	set1(s, SC_WMEM_MAX, 212992);
	set3(s, SC_TCP_RMEM, 4096, 131072, 6291456);
	set3(s, SC_TCP_WMEM, 4096, 16384, 4194304);
	s->sc[SC_PORT_RANGE] = (struct sysctl_val){ .present = true, .n = 2, .v = { 32768, 60999 } };
	set1(s, SC_TW_REUSE, 2);
	set1(s, SC_DIRTY_BG_RATIO, 10);
	set1(s, SC_DIRTY_RATIO, 20);
	set1(s, SC_DIRTY_BG_BYTES, 0);
	set1(s, SC_DIRTY_BYTES, 0);
	set1(s, SC_SWAPPINESS, 60);
	set1(s, SC_MAX_MAP_COUNT, 65530);
	set1(s, SC_FILE_MAX, 1000000);
	set1(s, SC_NR_OPEN, 1048576);
	s->c.have_netstat = s->c.have_snmp = s->c.have_softnet = true;
	s->c.have_vmstat = s->c.have_cpustat = true;
	s->have_sockstat = s->have_file_nr = s->have_psi = s->have_meminfo = true;
	s->mem_available_bytes = 4ull << 30;
	s->clk_tck = 100;
	s->ncpus = 2;
	CPU_ZERO(&s->online);
	CPU_SET(0, &s->online);
	CPU_SET(1, &s->online);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	base(&f->b, 100 * SEC);
	base(&f->a, 110 * SEC);	/* a 10 s window */
	f->b.procs = f->pb;
	f->a.procs = f->pa;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tune_result_free(&f->r);
	json_decref(f->ev);
	free(f);
	return 0;
}

static int run(struct fx *f, const char *rule, bool before, const pid_t *t, int nt)
{
	const char *rules[1] = { rule };
	struct tune_filter flt = { .rules = rules, .nrules = rule ? 1 : 0 };
	struct tune_input in = { .before = before ? &f->b : NULL, .after = &f->a,
				 .evidence = f->ev, .targets = t, .ntargets = nt, .is_root = true };

	tune_result_free(&f->r);
	assert_int_equal(tune_run(&in, &flt, &f->r), 0);
	return (int)f->r.n;
}

static const struct proposal *knob(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->r.n; i++)
		if (!strcmp(f->r.props[i].knob, name))
			return &f->r.props[i];
	return NULL;
}

static uint64_t evid(const struct proposal *p, const char *key)
{
	for (int i = 0; i < p->nev; i++)
		if (!strcmp(p->ev[i].key, key))
			return p->ev[i].value;
	fail_msg("no evidence %s", key);
	return 0;
}

static bool noted(struct fx *f, const char *needle)
{
	for (size_t i = 0; i < f->r.nnotes; i++)
		if (strstr(f->r.notes[i], needle))
			return true;
	return false;
}

/* ---- somaxconn ---- */
static void test_somaxconn_doubles_on_listen_overflows(void **state)
{
	struct fx *f = *state;
	const struct proposal *p;

	f->b.c.listen_overflows = 100;
	f->a.c.listen_overflows = 137;
	f->a.c.listen_drops = 37;
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 1);
	p = knob(f, "net.core.somaxconn");
	assert_non_null(p);
	assert_string_equal(p->current, "4096");
	assert_string_equal(p->proposed, "8192");
	assert_int_equal(evid(p, "listen_overflows"), 37);
	assert_int_equal(evid(p, "window_ns"), 10 * SEC);
	assert_non_null(strstr(p->why, "37 connections"));
	assert_non_null(strstr(p->persist, "net.core.somaxconn = 8192"));
	assert_non_null(strstr(p->undo, "net.core.somaxconn=\"4096\""));
}

static void test_somaxconn_quiet_without_overflows(void **state)
{
	struct fx *f = *state;

	f->b.c.listen_overflows = f->a.c.listen_overflows = 500;	/* old, not new */
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 0);
}

static void test_somaxconn_capped_at_65535(void **state)
{
	struct fx *f = *state;

	f->a.c.listen_overflows = 5;
	set1(&f->a, SC_SOMAXCONN, 40000);
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 1);
	assert_string_equal(knob(f, "net.core.somaxconn")->proposed, "65535");
	set1(&f->a, SC_SOMAXCONN, 65535);
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 0);
	assert_true(noted(f, "cap"));
}

static void test_somaxconn_uses_session_netstat_delta_without_snapshots(void **state)
{
	struct fx *f = *state;

	f->ev = json_pack("{s:{s:{s:{s:i,s:i}}}, s:{s:I}}", "collectors", "tcp", "netstat_delta",
			  "ListenOverflows", 9, "ListenDrops", 9, "session", "duration_ns",
			  (json_int_t)(5 * SEC));
	assert_int_equal(run(f, "somaxconn", false, NULL, 0), 1);
	assert_int_equal(evid(knob(f, "net.core.somaxconn"), "listen_overflows"), 9);
	assert_int_equal(evid(knob(f, "net.core.somaxconn"), "window_ns"), 5 * SEC);
}

static void test_somaxconn_says_no_delta_available(void **state)
{
	struct fx *f = *state;

	f->a.c.listen_overflows = 999;
	assert_int_equal(run(f, "somaxconn", false, NULL, 0), 0);
	assert_true(noted(f, "no delta available"));
}

/* ---- the listener's own backlog decides ---- */
static struct listener ls_a[2], ls_b[2];

static void listener(struct fx *f, uint32_t backlog, uint32_t queue)
{
	ls_b[0] = (struct listener){ .port = 8080, .family = 2, .backlog = backlog, .queue = 0,
				     .ino = 777, .pid = 4321, .comm = "server" };
	ls_a[0] = ls_b[0];
	ls_a[0].queue = queue;
	f->b.listeners = ls_b;
	f->a.listeners = ls_a;
	f->b.nlisteners = f->a.nlisteners = 1;
	f->b.have_listeners = f->a.have_listeners = true;
}

static void test_somaxconn_not_proposed_when_application_backlog_is_the_limit(void **state)
{
	struct fx *f = *state;
	const struct proposal *a;

	f->a.c.listen_overflows = 250;
	listener(f, 2, 3);	/* listen(fd, 2) with somaxconn 4096 */
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 0);
	assert_int_equal(f->r.nadvice, 1);
	a = &f->r.advice[0];
	assert_int_equal(a->pid, 4321);
	assert_string_equal(a->comm, "server");
	assert_string_equal(a->current, "2");
	assert_int_equal(evid(a, "port"), 8080);
	assert_int_equal(evid(a, "backlog"), 2);
	assert_int_equal(evid(a, "listen_overflows"), 250);
	assert_non_null(strstr(a->why, "the application's backlog (2) is the limit"));
}

static void test_somaxconn_proposed_when_it_capped_the_listener(void **state)
{
	struct fx *f = *state;
	const struct proposal *p;

	set1(&f->a, SC_SOMAXCONN, 16);
	f->a.c.listen_overflows = 250;
	listener(f, 16, 17);	/* listen(fd, 4096) capped at 16 */
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 1);
	assert_int_equal(f->r.nadvice, 0);
	p = knob(f, "net.core.somaxconn");
	assert_string_equal(p->proposed, "128");
	assert_int_equal(evid(p, "port"), 8080);
	assert_non_null(strstr(p->why, "pid 4321 (server) port 8080 has the backlog 16 = somaxconn"));
	assert_non_null(strstr(p->why, "listen() again"));
}

static void test_somaxconn_blames_the_full_listener_not_the_idle_one(void **state)
{
	struct fx *f = *state;

	set1(&f->a, SC_SOMAXCONN, 16);
	f->a.c.listen_overflows = 10;
	listener(f, 2, 3);
	/* an idle listener capped by somaxconn is not the one overflowing */
	ls_a[1] = (struct listener){ .port = 9090, .backlog = 16, .queue = 0, .ino = 778,
				     .pid = 99, .comm = "idle" };
	f->a.nlisteners = 2;
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 0);
	assert_int_equal(f->r.nadvice, 1);
	assert_int_equal(f->r.advice[0].pid, 4321);
}

static void test_disco_own_listener_is_never_blamed(void **state)
{
	struct fx *f = *state;

	f->a.c.listen_overflows = 10;
	listener(f, 2, 3);
	ls_a[0].self = true;
	assert_int_equal(run(f, "somaxconn", true, NULL, 0), 0);
	assert_int_equal(f->r.nadvice, 0);
	assert_true(noted(f, "no TCP listener is left to blame"));
}

/* ---- syn backlog, netdev backlog ---- */
static void test_syn_backlog_on_req_queue_full(void **state)
{
	struct fx *f = *state;

	/* the SYN queue is bounded by the listener's backlog, capped by somaxconn */
	f->a.c.req_q_full_drop = 3;
	assert_int_equal(run(f, "syn-backlog", true, NULL, 0), 1);
	assert_string_equal(knob(f, "net.core.somaxconn")->proposed, "8192");
	assert_null(knob(f, "net.ipv4.tcp_max_syn_backlog"));
	f->a.c.req_q_full_drop = 0;
	assert_int_equal(run(f, "syn-backlog", true, NULL, 0), 0);
}

static void test_syn_backlog_names_the_application_backlog(void **state)
{
	struct fx *f = *state;

	f->a.c.req_q_full_cookies = 40;
	listener(f, 8, 9);
	assert_int_equal(run(f, "syn-backlog", true, NULL, 0), 0);
	assert_int_equal(f->r.nadvice, 1);
	assert_int_equal(evid(&f->r.advice[0], "req_q_full"), 40);
}

static void test_somaxconn_proposed_once_for_two_rules(void **state)
{
	struct fx *f = *state;

	f->a.c.req_q_full_drop = 3;
	f->a.c.listen_overflows = 3;
	assert_int_equal(run(f, NULL, true, NULL, 0) >= 1, 1);
	assert_non_null(knob(f, "net.core.somaxconn"));
	assert_true(noted(f, "already proposed by somaxconn"));
}

static void test_netdev_backlog_on_softnet_drops(void **state)
{
	struct fx *f = *state;

	f->b.c.softnet_dropped = 10;
	f->a.c.softnet_dropped = 11;
	assert_int_equal(run(f, "netdev-backlog", true, NULL, 0), 1);
	assert_string_equal(knob(f, "net.core.netdev_max_backlog")->proposed, "2000");
	f->a.c.softnet_dropped = 10;
	assert_int_equal(run(f, "netdev-backlog", true, NULL, 0), 0);
	set1(&f->a, SC_NETDEV_BACKLOG, 200000);
	f->a.c.softnet_dropped = 20;
	assert_int_equal(run(f, "netdev-backlog", true, NULL, 0), 1);
	assert_string_equal(knob(f, "net.core.netdev_max_backlog")->proposed, "262144");
}

/* ---- tcp buffers ---- */
static json_t *tcp_evidence(uint64_t srtt_p90_ns, uint64_t rx_bytes, uint64_t dur_ns)
{
	return json_pack("{s:{s:{s:{s:I}, s:[{s:I, s:I, s:I}]}}}", "collectors", "tcp",
			 "srtt", "p90_ns", (json_int_t)srtt_p90_ns, "connections",
			 "rx_bytes", (json_int_t)rx_bytes, "tx_bytes", (json_int_t)rx_bytes,
			 "duration_ns", (json_int_t)dur_ns);
}

static void test_tcp_rmem_from_bdp_moves_rmem_max_too(void **state)
{
	struct fx *f = *state;
	const struct proposal *p, *m;
	struct sysctl_val v, mx;

	/* 50 ms x 100 MB/s = 5 MB > 6291456 / 2 */
	f->ev = tcp_evidence(50000000, 1000000000, 10 * SEC);
	assert_int_equal(run(f, "tcp-rmem", false, NULL, 0), 2);
	p = knob(f, "net.ipv4.tcp_rmem");
	m = knob(f, "net.core.rmem_max");
	assert_non_null(p);
	assert_non_null(m);
	assert_true(m < p);	/* the maximum moves first */
	assert_int_equal(sysctl_parse_value(SC_TCP_RMEM, p->proposed, &v), 0);
	assert_int_equal(v.v[0], 4096);
	assert_int_equal(v.v[1], 131072);
	assert_int_equal(v.v[2], 16777216);	/* 2 x 5 MB rounded to 2^n */
	assert_int_equal(sysctl_parse_value(SC_RMEM_MAX, m->proposed, &mx), 0);
	assert_true(v.v[2] <= mx.v[0]);
	assert_int_equal(evid(p, "bdp_bytes"), 5000000);
}

static void test_tcp_rmem_bdp_from_the_fastest_connections_own_srtt(void **state)
{
	struct fx *f = *state;
	const struct proposal *p;

	/*
	 * Samples one per connection: p90 1 ms from many quick local ones
	 * would make the BDP 100 KB; the fast connection's own srtt (50 ms)
	 * x its 100 MB/s makes it 5 MB.
	 */
	f->ev = json_pack("{s:{s:{s:{s:I}, s:[{s:I, s:I, s:I}, {s:I, s:I, s:I, s:I}]}}}",
			  "collectors", "tcp", "srtt", "p90_ns", (json_int_t)1000000,
			  "connections",
			  "rx_bytes", (json_int_t)(1 << 20), "duration_ns", (json_int_t)(10 * SEC),
			  "srtt_ns", (json_int_t)1000000,
			  "rx_bytes", (json_int_t)1000000000, "duration_ns", (json_int_t)(10 * SEC),
			  "srtt_ns", (json_int_t)50000000, "tx_bytes", (json_int_t)0);
	assert_int_equal(run(f, "tcp-rmem", false, NULL, 0), 2);
	p = knob(f, "net.ipv4.tcp_rmem");
	assert_non_null(p);
	assert_int_equal(evid(p, "bdp_bytes"), 5000000);
	assert_int_equal(evid(p, "connection_srtt_ns"), 50000000);
	assert_non_null(strstr(p->why, "its srtt 50000000 ns"));
}

static void test_tcp_rmem_quiet_at_half_of_max(void **state)
{
	struct fx *f = *state;

	/* BDP exactly half of tcp_rmem[2]: 3145728 = 31457280 B/s x 100 ms */
	f->ev = tcp_evidence(100000000, 314572800, 10 * SEC);
	assert_int_equal(run(f, "tcp-rmem", false, NULL, 0), 0);
}

static void test_tcp_rmem_bounded_step_and_int_max(void **state)
{
	struct fx *f = *state;
	struct sysctl_val v;

	/* enormous BDP: at most 4x per step */
	f->ev = tcp_evidence(1000000000, 10000000000ull, 10 * SEC);
	assert_int_equal(run(f, "tcp-rmem", false, NULL, 0), 2);
	assert_int_equal(sysctl_parse_value(SC_TCP_RMEM, knob(f, "net.ipv4.tcp_rmem")->proposed, &v), 0);
	assert_int_equal(v.v[2], 4 * 6291456);
	/* near the hard cap: never past it (and never past INT_MAX) */
	set3(&f->a, SC_TCP_RMEM, 4096, 131072, 200 << 20);
	assert_int_equal(run(f, "tcp-rmem", false, NULL, 0), 2);
	assert_int_equal(sysctl_parse_value(SC_TCP_RMEM, knob(f, "net.ipv4.tcp_rmem")->proposed, &v), 0);
	assert_int_equal(v.v[2], TUNE_BUF_CAP);
	assert_true(v.v[2] <= TUNE_INT_CAP);
	set3(&f->a, SC_TCP_RMEM, 4096, 131072, TUNE_BUF_CAP);
	assert_int_equal(run(f, "tcp-rmem", false, NULL, 0), 0);
	assert_true(noted(f, "cap"));
}

static void test_tcp_rmem_on_receive_pruning(void **state)
{
	struct fx *f = *state;
	struct sysctl_val v;

	f->a.c.rcv_pruned = 4;
	set1(&f->a, SC_RMEM_MAX, 64 << 20);
	assert_int_equal(run(f, "tcp-rmem", true, NULL, 0), 1);	/* rmem_max already big */
	assert_int_equal(sysctl_parse_value(SC_TCP_RMEM, knob(f, "net.ipv4.tcp_rmem")->proposed, &v), 0);
	assert_int_equal(v.v[2], 2 * 6291456);
	f->a.c.rcv_pruned = 0;
	assert_int_equal(run(f, "tcp-rmem", true, NULL, 0), 0);
}

static void test_tcp_rmem_never_above_rmem_max_unless_both_move(void **state)
{
	struct fx *f = *state;
	struct tune_result r = { 0 };
	struct proposal *p = tune_add(&r, "tcp-rmem", FAM_SYSCTL);
	struct sysctl_val v;

	/* a selection where rmem_max does not move: clamp to it */
	p->sc = SC_TCP_RMEM;
	strcpy(p->knob, "net.ipv4.tcp_rmem");
	strcpy(p->current, "4096 131072 6291456");
	strcpy(p->proposed, "4096 131072 25165824");
	set1(&f->a, SC_RMEM_MAX, 16 << 20);
	assert_int_equal(tune_fix_consistency(&f->a, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(sysctl_parse_value(SC_TCP_RMEM, r.props[0].proposed, &v), 0);
	assert_int_equal(v.v[2], 16 << 20);
	/* rmem_max below the current maximum: the change is dropped */
	set1(&f->a, SC_RMEM_MAX, 1 << 20);
	assert_int_equal(tune_fix_consistency(&f->a, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.nnotes, 1);
	tune_result_free(&r);
}

static void test_tcp_wmem_from_bdp(void **state)
{
	struct fx *f = *state;

	f->ev = tcp_evidence(50000000, 1000000000, 10 * SEC);
	assert_int_equal(run(f, "tcp-wmem", false, NULL, 0), 2);
	assert_non_null(knob(f, "net.ipv4.tcp_wmem"));
	assert_non_null(knob(f, "net.core.wmem_max"));
}

static void test_tcp_buffers_degrade_without_evidence(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "tcp-wmem", false, NULL, 0), 0);
	assert_true(noted(f, "no RTT/throughput evidence"));
	/* short connections are no BDP sample */
	f->ev = tcp_evidence(50000000, 1000, 1000000);
	assert_int_equal(run(f, "tcp-wmem", false, NULL, 0), 0);
}

/* ---- ports ---- */
static void test_port_range_and_tw_reuse_on_churn(void **state)
{
	struct fx *f = *state;
	const struct proposal *p;

	/* range 28232; 75% = 21174 ports; 3530 opens in 10 s ~ 21180 in 60 s */
	f->b.c.active_opens = 1000;
	f->a.c.active_opens = 1000 + 3530;
	assert_int_equal(run(f, NULL, true, NULL, 0) >= 2, 1);
	p = knob(f, "net.ipv4.ip_local_port_range");
	assert_non_null(p);
	assert_string_equal(p->proposed, "9072 65535");
	assert_int_equal(evid(p, "projected_ports"), 21180);
	assert_string_equal(knob(f, "net.ipv4.tcp_tw_reuse")->proposed, "1");
}

static void test_port_range_quiet_below_75_percent(void **state)
{
	struct fx *f = *state;

	f->a.c.active_opens = 3528;	/* 21168 projected */
	f->a.tw_sockets = 21000;
	assert_int_equal(run(f, "port-range", true, NULL, 0), 0);
	assert_int_equal(run(f, "tw-reuse", true, NULL, 0), 0);
	f->a.tw_sockets = 21174;
	assert_int_equal(run(f, "port-range", true, NULL, 0), 1);
	set1(&f->a, SC_TW_REUSE, 1);
	assert_int_equal(run(f, "tw-reuse", true, NULL, 0), 0);
}

static void test_port_range_lower_bound_1024(void **state)
{
	struct fx *f = *state;

	f->a.sc[SC_PORT_RANGE].v[0] = 2000;
	f->a.sc[SC_PORT_RANGE].v[1] = 65535;
	f->a.tw_sockets = 60000;
	assert_int_equal(run(f, "port-range", true, NULL, 0), 1);
	assert_string_equal(knob(f, "net.ipv4.ip_local_port_range")->proposed, "1024 65535");
	f->a.sc[SC_PORT_RANGE].v[0] = 1024;
	assert_int_equal(run(f, "port-range", true, NULL, 0), 0);
}

/* ---- memory ---- */
static void test_dirty_on_write_outliers_with_writeback(void **state)
{
	struct fx *f = *state;

	f->ev = json_pack("{s:{s:{s:[{s:s,s:I},{s:s,s:I},{s:s,s:I},{s:s,s:I}]}}}",
			  "collectors", "bio", "outliers", "op", "write", "latency_ns",
			  (json_int_t)90000000, "op", "write", "latency_ns", (json_int_t)1,
			  "op", "write", "latency_ns", (json_int_t)1, "op", "read", "latency_ns",
			  (json_int_t)5);
	f->a.dirty_bytes = 400ull << 20;
	f->a.writeback_bytes = 20ull << 20;	/* 420 MiB >= 10% of 4 GiB */
	assert_int_equal(run(f, "dirty", false, NULL, 0), 2);
	assert_string_equal(knob(f, "vm.dirty_background_ratio")->proposed, "5");
	assert_string_equal(knob(f, "vm.dirty_ratio")->proposed, "10");
	assert_int_equal(evid(knob(f, "vm.dirty_background_ratio"), "write_outliers"), 3);
	f->a.dirty_bytes = 300ull << 20;	/* 320 MiB < 409.6 MiB */
	assert_int_equal(run(f, "dirty", false, NULL, 0), 0);
}

static void test_dirty_needs_bio_evidence(void **state)
{
	struct fx *f = *state;

	f->a.dirty_bytes = 4ull << 30;
	assert_int_equal(run(f, "dirty", true, NULL, 0), 0);
	assert_true(noted(f, "no block IO evidence"));
}

static void test_swappiness_on_swapins_under_pressure(void **state)
{
	struct fx *f = *state;

	f->a.c.pswpin = 100;
	f->a.psi_mem_some10 = 7.5;
	assert_int_equal(run(f, "swappiness", true, NULL, 0), 1);
	assert_string_equal(knob(f, "vm.swappiness")->proposed, "30");
	f->a.psi_mem_some10 = 4.9;
	assert_int_equal(run(f, "swappiness", true, NULL, 0), 0);
	f->a.psi_mem_some10 = 7.5;
	f->a.c.pswpin = 0;
	assert_int_equal(run(f, "swappiness", true, NULL, 0), 0);
}

static void test_max_map_count_at_75_percent(void **state)
{
	struct fx *f = *state;

	f->a.nprocs = 1;
	f->pa[0] = (struct proc_snap){ .pid = 10, .comm = "java", .has_maps = true,
				       .nmaps = 49147 };	/* 75% of 65530 is 49147.5 */
	assert_int_equal(run(f, "max-map-count", true, NULL, 0), 0);
	f->pa[0].nmaps = 49148;
	assert_int_equal(run(f, "max-map-count", true, NULL, 0), 1);
	assert_string_equal(knob(f, "vm.max_map_count")->proposed, "131060");
	set1(&f->a, SC_MAX_MAP_COUNT, 2000000000);
	f->pa[0].nmaps = 1900000000;
	assert_int_equal(run(f, "max-map-count", true, NULL, 0), 1);
	assert_string_equal(knob(f, "vm.max_map_count")->proposed, "2147483647");
}

static void test_file_max_at_75_percent(void **state)
{
	struct fx *f = *state;

	f->a.file_nr_alloc = 749999;
	assert_int_equal(run(f, "file-max", true, NULL, 0), 0);
	f->a.file_nr_alloc = 750000;
	assert_int_equal(run(f, "file-max", true, NULL, 0), 1);
	assert_string_equal(knob(f, "fs.file-max")->proposed, "2000000");
	/* the default file-max (LONG_MAX) is past INT_MAX: never raised */
	set1(&f->a, SC_FILE_MAX, INT64_MAX);
	f->a.file_nr_alloc = 5000;
	assert_int_equal(run(f, "file-max", true, NULL, 0), 0);
	assert_int_equal(f->r.nnotes, 0);
	f->a.file_nr_alloc = INT64_MAX;
	assert_int_equal(run(f, "file-max", true, NULL, 0), 0);
	assert_true(noted(f, "past INT_MAX"));
}

/* ---- fd limits ---- */
static void test_nofile_raises_soft_at_75_percent(void **state)
{
	struct fx *f = *state;
	const struct proposal *p;

	f->a.nprocs = 1;
	f->pa[0] = (struct proc_snap){ .pid = 321, .comm = "srv", .start_time = 5,
				       .has_fds = true, .has_limits = true, .nfds = 47,
				       .nofile_soft = 64, .nofile_hard = 4096 };
	assert_int_equal(run(f, "nofile", true, NULL, 0), 0);
	f->pa[0].nfds = 48;
	assert_int_equal(run(f, "nofile", true, NULL, 0), 1);
	p = knob(f, "RLIMIT_NOFILE");
	assert_int_equal(p->family, FAM_NOFILE);
	assert_int_equal(p->pid, 321);
	assert_int_equal(p->start_time, 5);
	assert_string_equal(p->current, "64:4096");
	assert_string_equal(p->proposed, "128:4096");
	assert_non_null(strstr(p->persist, "LimitNOFILE=128:4096"));
	assert_non_null(strstr(p->undo, "prlimit --pid 321 --nofile=64:4096"));
}

static void test_nofile_threshold_does_not_overflow(void **state)
{
	struct fx *f = *state;

	/* soft x 75 wraps to 59 in 64 bits: 1 fd must not look like 75% */
	f->a.nprocs = 1;
	f->pa[0] = (struct proc_snap){ .pid = 9, .has_fds = true, .has_limits = true,
				       .nfds = 1, .nofile_soft = 245956587649460689ull,
				       .nofile_hard = TUNE_NOFILE_INF };
	assert_int_equal(run(f, "nofile", true, NULL, 0), 0);
	assert_int_equal(f->r.nnotes, 0);
}

static void test_nofile_soft_up_to_hard_then_hard_needs_root(void **state)
{
	struct fx *f = *state;
	const char *rules[] = { "nofile" };
	struct tune_filter flt = { .rules = rules, .nrules = 1 };
	struct tune_input in = { .after = &f->a };

	f->a.nprocs = 1;
	f->pa[0] = (struct proc_snap){ .pid = 9, .has_fds = true, .has_limits = true,
				       .nfds = 60, .nofile_soft = 64, .nofile_hard = 100 };
	/* soft can reach hard: enough (60 < 75% of 100) */
	assert_int_equal(run(f, "nofile", true, NULL, 0), 1);
	assert_string_equal(knob(f, "RLIMIT_NOFILE")->proposed, "100:100");
	/* soft == hard, nearly full: root raises both */
	f->pa[0].nofile_soft = 64;
	f->pa[0].nofile_hard = 64;
	assert_int_equal(run(f, "nofile", true, NULL, 0), 1);
	assert_string_equal(knob(f, "RLIMIT_NOFILE")->proposed, "128:128");
	/* ... without root it can only say so */
	tune_result_free(&f->r);
	assert_int_equal(tune_run(&in, &flt, &f->r), 0);
	assert_int_equal(f->r.n, 0);
	assert_true(noted(f, "needs root"));
}

static void test_nofile_hard_past_nr_open_moves_nr_open(void **state)
{
	struct fx *f = *state;

	set1(&f->a, SC_NR_OPEN, 1024);
	f->a.nprocs = 1;
	f->pa[0] = (struct proc_snap){ .pid = 9, .has_fds = true, .has_limits = true,
				       .nfds = 1000, .nofile_soft = 1024, .nofile_hard = 1024 };
	assert_int_equal(run(f, "nofile", true, NULL, 0), 2);
	assert_string_equal(knob(f, "fs.nr_open")->proposed, "2048");
	assert_string_equal(knob(f, "RLIMIT_NOFILE")->proposed, "2048:2048");
	/* --only nofile: nr_open cannot move, so the hard limit stays within it */
	{
		struct tune_filter flt = { .families = 1u << FAM_NOFILE };
		struct tune_input in = { .after = &f->a, .is_root = true };

		tune_result_free(&f->r);
		assert_int_equal(tune_run(&in, &flt, &f->r), 0);
		assert_int_equal(f->r.n, 1);
		assert_string_equal(f->r.props[0].proposed, "1024:1024");
	}
}

static void test_nofile_targets_only_when_given(void **state)
{
	struct fx *f = *state;
	pid_t t = 8;

	f->a.nprocs = 2;
	f->pa[0] = (struct proc_snap){ .pid = 8, .has_fds = true, .has_limits = true,
				       .nfds = 1, .nofile_soft = 64, .nofile_hard = 64 };
	f->pa[1] = (struct proc_snap){ .pid = 9, .has_fds = true, .has_limits = true,
				       .nfds = 60, .nofile_soft = 64, .nofile_hard = 4096 };
	assert_int_equal(run(f, "nofile", true, &t, 1), 0);
	assert_int_equal(run(f, "nofile", true, NULL, 0), 1);
	assert_int_equal(f->r.props[0].pid, 9);
}

/* ---- affinity ---- */
static void hog_setup(struct fx *f, uint64_t target_wait_ns)
{
	/* target 50 and hog 60 pinned to CPU 0; CPU 1 idle */
	for (int i = 0; i < 2; i++) {
		struct snapshot *s = i ? &f->a : &f->b;
		struct proc_snap *p = i ? f->pa : f->pb;

		s->nprocs = 2;
		p[0] = (struct proc_snap){ .pid = 50, .comm = "app", .start_time = 7,
					   .has_sched = true, .last_cpu = 0 };
		p[1] = (struct proc_snap){ .pid = 60, .comm = "hog", .start_time = 8,
					   .has_sched = true, .last_cpu = 0 };
		CPU_ZERO(&p[0].allowed);
		CPU_SET(0, &p[0].allowed);
		p[1].allowed = p[0].allowed;
		s->cpu_total[0] = s->cpu_total[1] = i ? 2000 : 1000;
		s->cpu_busy[0] = i ? 1000 : 0;	/* CPU 0 fully busy */
		s->cpu_busy[1] = i ? 50 : 0;	/* CPU 1 5% busy */
	}
	f->pa[0].wait_ns = target_wait_ns;
	f->pa[1].cpu_ticks = 900;	/* 9 s of 10 */
	f->pa[1].wait_ns = 1 * SEC;
}

static void test_affinity_moves_target_away_from_pinned_hog(void **state)
{
	struct fx *f = *state;
	const struct proposal *p;
	pid_t t = 50;

	hog_setup(f, 5 * SEC);	/* waiting 50% of the window */
	assert_int_equal(run(f, "affinity-neighbour", true, &t, 1), 1);
	p = knob(f, "affinity");
	assert_int_equal(p->pid, 50);
	assert_int_equal(p->start_time, 7);
	assert_string_equal(p->current, "0");
	assert_string_equal(p->proposed, "1");
	assert_int_equal(evid(p, "neighbour_pid"), 60);
	assert_int_equal(evid(p, "wait_pct"), 50);
	assert_non_null(strstr(p->persist, "taskset -a -p -c 1 50"));
}

static void test_disco_itself_is_never_an_affinity_target_or_neighbour(void **state)
{
	struct fx *f = *state;
	pid_t t = 50;

	hog_setup(f, 5 * SEC);
	f->pa[1].self = true;	/* the busy neighbour is disco */
	assert_int_equal(run(f, "affinity-neighbour", true, &t, 1), 0);
	assert_true(noted(f, "no noisy neighbour"));
	f->pa[1].self = false;
	f->pa[0].self = true;	/* the victim is disco */
	assert_int_equal(run(f, "affinity-neighbour", true, &t, 1), 0);
	assert_true(noted(f, "disco itself"));
}

static void test_disco_itself_is_never_a_nofile_target(void **state)
{
	struct fx *f = *state;
	pid_t t = 321;

	f->a.nprocs = 1;
	f->pa[0] = (struct proc_snap){ .pid = 321, .comm = "disco", .has_fds = true,
				       .has_limits = true, .nfds = 60, .nofile_soft = 64,
				       .nofile_hard = 4096, .self = true };
	assert_int_equal(run(f, "nofile", true, NULL, 0), 0);
	assert_int_equal(run(f, "nofile", true, &t, 1), 0);
	assert_true(noted(f, "disco itself"));
}

static void test_affinity_quiet_below_wait_threshold(void **state)
{
	struct fx *f = *state;
	pid_t t = 50;

	hog_setup(f, 1999999999);	/* 19.99% */
	assert_int_equal(run(f, "affinity-neighbour", true, &t, 1), 0);
	assert_true(noted(f, "below threshold"));
}

static void test_affinity_neighbour_needs_a_tenth_of_a_cpu(void **state)
{
	struct fx *f = *state;
	pid_t t = 50;

	hog_setup(f, 5 * SEC);
	f->pa[1].cpu_ticks = 99;	/* 9.9% of one CPU */
	assert_int_equal(run(f, "affinity-neighbour", true, &t, 1), 0);
	assert_true(noted(f, "no noisy neighbour"));
	f->pa[1].cpu_ticks = 100;
	assert_int_equal(run(f, "affinity-neighbour", true, &t, 1), 1);
}

static void test_affinity_no_spare_cpu(void **state)
{
	struct fx *f = *state;
	pid_t t = 50;

	hog_setup(f, 5 * SEC);
	f->a.cpu_busy[1] = 1000;	/* CPU 1 as busy as CPU 0 */
	assert_int_equal(run(f, "affinity-neighbour", true, &t, 1), 0);
	assert_true(noted(f, "spare capacity"));
}

static void test_affinity_from_sched_evidence_outliers(void **state)
{
	struct fx *f = *state;

	hog_setup(f, 0);
	/* no snapshot deltas: evidence names the target and its neighbour */
	f->ev = json_pack("{s:{s:{s:[{s:i, s:{s:I}}], s:[{s:i, s:i}, {s:i, s:i}]}}}",
			  "collectors", "sched", "processes", "pid", 50, "runq_latency",
			  "p99_ns", (json_int_t)8000000, "outliers", "pid", 50, "prev_pid", 60,
			  "pid", 50, "prev_pid", 60);
	assert_int_equal(run(f, "affinity-neighbour", false, NULL, 0), 1);
	assert_int_equal(evid(knob(f, "affinity"), "runq_p99_ns"), 8000000);
	assert_string_equal(knob(f, "affinity")->proposed, "1");
	assert_non_null(strstr(knob(f, "affinity")->risk, "not measured"));
}

static void test_affinity_moves_only_one_of_mutual_neighbours(void **state)
{
	struct fx *f = *state;

	hog_setup(f, 0);
	/* 50 and 60 keep each other waiting on CPU 0: only the worst moves */
	f->ev = json_pack("{s:{s:{s:[{s:i, s:{s:I}}, {s:i, s:{s:I}}], s:[{s:i, s:i}, {s:i, s:i}]}}}",
			  "collectors", "sched", "processes", "pid", 50, "runq_latency",
			  "p99_ns", (json_int_t)8000000, "pid", 60, "runq_latency", "p99_ns",
			  (json_int_t)9000000, "outliers", "pid", 50, "prev_pid", 60,
			  "pid", 60, "prev_pid", 50);
	assert_int_equal(run(f, "affinity-neighbour", false, NULL, 0), 1);
	assert_int_equal(f->r.props[0].pid, 60);
}

static void test_affinity_skips_unpinned_without_load_data(void **state)
{
	struct fx *f = *state;

	hog_setup(f, 0);
	CPU_SET(1, &f->pa[0].allowed);	/* the target may already run anywhere */
	f->ev = json_pack("{s:{s:{s:[{s:i, s:{s:I}}], s:[{s:i, s:i, s:i}]}}}",
			  "collectors", "sched", "processes", "pid", 50, "runq_latency",
			  "p99_ns", (json_int_t)8000000, "outliers", "pid", 50, "prev_pid", 60,
			  "cpu", 0);
	assert_int_equal(run(f, "affinity-neighbour", false, NULL, 0), 0);
	f->pa[0].kthread = true;
	CPU_CLR(1, &f->pa[0].allowed);
	assert_int_equal(run(f, "affinity-neighbour", false, NULL, 0), 0);
}

static void test_affinity_without_targets_notes_it(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "affinity-neighbour", true, NULL, 0), 0);
	assert_true(noted(f, "no target processes"));
}

static void numa_setup(struct fx *f, uint64_t home, uint64_t other)
{
	struct proc_snap *p = &f->pa[0];

	f->a.ncpus = 4;
	for (int c = 0; c < 4; c++)
		CPU_SET(c, &f->a.online);
	f->a.nnodes = 2;
	CPU_ZERO(&f->a.node_cpus[0]);
	CPU_ZERO(&f->a.node_cpus[1]);
	CPU_SET(0, &f->a.node_cpus[0]);
	CPU_SET(1, &f->a.node_cpus[0]);
	CPU_SET(2, &f->a.node_cpus[1]);
	CPU_SET(3, &f->a.node_cpus[1]);
	f->a.nprocs = 1;
	*p = (struct proc_snap){ .pid = 4242, .comm = "db", .has_numa = true, .target = true };
	p->allowed = f->a.online;
	CPU_ZERO(&p->ran_on);
	CPU_SET(1, &p->ran_on);
	CPU_SET(2, &p->ran_on);
	p->node_pages[1] = home;
	p->node_pages[0] = other;
}

static void test_affinity_numa_pins_to_memory_node(void **state)
{
	struct fx *f = *state;
	pid_t t = 4242;

	numa_setup(f, 8000, 2000);	/* 80% on node 1 */
	assert_int_equal(run(f, "affinity-numa", false, &t, 1), 1);
	assert_string_equal(knob(f, "affinity")->current, "0-3");
	assert_string_equal(knob(f, "affinity")->proposed, "2-3");
	assert_int_equal(evid(knob(f, "affinity"), "home_node"), 1);
}

static void test_affinity_numa_quiet_below_80_percent(void **state)
{
	struct fx *f = *state;
	pid_t t = 4242;

	numa_setup(f, 7999, 2001);
	assert_int_equal(run(f, "affinity-numa", false, &t, 1), 0);
	/* one node only: nothing to do either */
	numa_setup(f, 8000, 2000);
	CPU_CLR(1, &f->pa[0].ran_on);
	assert_int_equal(run(f, "affinity-numa", false, &t, 1), 0);
}

static void test_only_filter_and_unknown_family(void **state)
{
	struct fx *f = *state;
	unsigned int mask;
	struct tune_filter flt;
	struct tune_input in = { .before = &f->b, .after = &f->a };

	assert_int_equal(tune_family_parse("sysctl,affinity", &mask), 0);
	assert_int_equal(mask, (1u << FAM_SYSCTL) | (1u << FAM_AFFINITY));
	assert_int_equal(tune_family_parse("sysctl,bogus", &mask), -EINVAL);
	f->a.c.listen_overflows = 5;
	flt = (struct tune_filter){ .families = 1u << FAM_NOFILE };
	assert_int_equal(tune_run(&in, &flt, &f->r), 0);
	assert_int_equal(f->r.n, 0);
	assert_null(tune_rule_find("nope"));
	assert_non_null(tune_rule_find("somaxconn"));
}

static void test_all_rules_degrade_on_empty_snapshot(void **state)
{
	struct fx *f = *state;
	struct snapshot empty = { 0 };
	struct tune_input in = { .after = &empty };

	assert_int_equal(tune_run(&in, NULL, &f->r), 0);
	assert_int_equal(f->r.n, 0);
	assert_true(f->r.nnotes > 5);
}

static const struct tune_scope host_scope = { .root = "/", .journal_dir = "/var/lib/disco" };

static void test_json_output_schema(void **state)
{
	struct fx *f = *state;
	json_t *j, *p;

	f->a.c.listen_overflows = 5;
	run(f, "somaxconn", true, NULL, 0);
	j = tune_to_json(&f->r, &host_scope);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "disco.tune/1");
	assert_int_equal(json_integer_value(json_object_get(j, "recommendations")), 1);
	p = json_array_get(json_object_get(j, "proposals"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "family")), "sysctl");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "evidence"),
							    "listen_overflows")), 5);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "sysctl_d"), 0)),
			    "net.core.somaxconn = 8192");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "scope"), "root")),
			    "/");
	assert_string_equal(json_string_value(json_object_get(j, "apply_command")),
			    "disco tune --apply");
	json_decref(j);
}

static void test_netns_scope_in_every_command(void **state)
{
	struct fx *f = *state;
	struct tune_scope ns = { .root = "/", .netns = "/run/netns/web", .netns_private = true,
				 .journal_dir = "/var/lib/disco" };
	const struct proposal *p;
	char buf[8192];
	FILE *mem;
	json_t *j;

	f->a.c.listen_overflows = 5;
	run(f, "somaxconn", true, NULL, 0);
	tune_scope_commands(&ns, &f->r);
	p = &f->r.props[0];
	assert_non_null(strstr(p->undo, "ip netns exec web sysctl -w net.core.somaxconn=\"4096\""));
	assert_non_null(strstr(p->undo, "disco tune --rollback --netns /run/netns/web"));
	assert_non_null(strstr(p->persist, "ip netns exec web sysctl -p"));
	assert_null(strstr(p->persist, "/etc/sysctl.d"));
	mem = fmemopen(buf, sizeof(buf), "w");
	tune_print_text(mem, &f->r, &ns, true);
	fclose(mem);
	assert_non_null(strstr(buf, "Apply with: disco tune --apply --netns /run/netns/web"));
	assert_null(strstr(buf, "/etc/sysctl.d/90-disco.conf"));
	j = tune_to_json(&f->r, &ns);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "scope"), "netns")),
			    "/run/netns/web");
	assert_int_equal(json_array_size(json_object_get(j, "sysctl_d")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "netns_sysctl")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "rollback_command")),
			    "disco tune --rollback --netns /run/netns/web");
	json_decref(j);
}

static void test_pid_netns_and_root_scopes_in_commands(void **state)
{
	struct fx *f = *state;
	struct tune_scope pidns = { .root = "/", .netns = "4242", .netns_private = true };
	struct tune_scope tree = { .root = "/srv/my tree" };

	f->a.c.listen_overflows = 5;
	run(f, "somaxconn", true, NULL, 0);
	tune_scope_commands(&pidns, &f->r);
	assert_non_null(strstr(f->r.props[0].undo, "nsenter -t 4242 -n sysctl -w"));
	tune_scope_commands(&tree, &f->r);
	assert_non_null(strstr(f->r.props[0].undo,
			       "> '/srv/my tree/proc/sys/net/core/somaxconn'"));
	assert_non_null(strstr(f->r.props[0].undo, "--rollback --root '/srv/my tree'"));
	assert_non_null(strstr(f->r.props[0].persist, "/srv/my tree/etc/sysctl.d/90-disco.conf"));
}

/* ---- --verify and privileges ---- */
static void test_verdict_keeps_only_beyond_the_spread(void **state)
{
	double before[3] = { 70, 75, 80 }, clean[3] = { 0, 0, 0 }, overlap[3] = { 40, 71, 20 };
	double none[3] = { 0, 0, 0 };
	char why[384];

	(void)state;
	assert_int_equal(tune_verdict(before, 3, clean, 3, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "improved beyond the noise"));
	/* one window after inside the spread before: not proven */
	assert_int_equal(tune_verdict(before, 3, overlap, 3, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "no improvement beyond the noise"));
	assert_int_equal(tune_verdict(none, 3, clean, 3, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "did not occur before"));
	assert_int_equal(tune_verdict(before, 1, clean, 3, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "no noise estimate"));
}

static void test_measure_each_rule_trigger_per_second(void **state)
{
	struct fx *f = *state;
	const char *name;
	double v;

	f->a.c.listen_overflows = 50;
	f->a.c.listen_drops = 40;
	run(f, "somaxconn", true, NULL, 0);
	assert_int_equal(tune_measure(&f->r.props[0], &f->b, &f->a, false, &v, &name), 0);
	assert_string_equal(name, "listen_drops_per_s");
	assert_true(v > 4.99 && v < 5.01);	/* 50 in the 10 s window */
	f->a.c.have_netstat = false;
	assert_int_equal(tune_measure(&f->r.props[0], &f->b, &f->a, false, &v, &name), -ENODATA);
}

/* a window that is one run of the workload counts per run: a slower run is not an improvement */
static void test_measure_counts_per_run_when_the_window_is_the_workload(void **state)
{
	struct fx *f = *state;
	const char *name;
	double v, longer;

	f->a.c.listen_overflows = 50;
	f->a.c.listen_drops = 40;
	run(f, "somaxconn", true, NULL, 0);
	assert_int_equal(tune_measure(&f->r.props[0], &f->b, &f->a, true, &v, &name), 0);
	assert_string_equal(name, "listen_drops_per_run");
	assert_true(v == 50.0);
	f->a.time_ns += 10 * SEC;	/* the same run taking twice as long */
	assert_int_equal(tune_measure(&f->r.props[0], &f->b, &f->a, true, &longer, &name), 0);
	assert_true(longer == v);
	/* summed counters: both added up */
	f->a.c.req_q_full_drop = 7;
	f->a.c.req_q_full_cookies = 3;
	strcpy(f->r.props[0].rule, "syn-backlog");
	assert_int_equal(tune_measure(&f->r.props[0], &f->b, &f->a, true, &v, &name), 0);
	assert_string_equal(name, "syn_queue_full_per_run");
	assert_true(v == 10.0);
}

static void test_measure_says_bpf_only_triggers_cannot_be_measured(void **state)
{
	struct proposal p = { .rule = "tcp-wmem" };
	struct fx *f = *state;
	const char *name;
	double v;

	assert_int_equal(tune_measure(&p, &f->b, &f->a, false, &v, &name), -ENODATA);
	assert_null(name);
}

static void test_dry_run_flags_hard_limit_without_cap_sys_resource(void **state)
{
	struct fx *f = *state;
	const uint64_t all = ~0ull, no_resource = ~(1ull << 24);

	f->a.nprocs = 1;
	f->pa[0] = (struct proc_snap){ .pid = 321, .comm = "srv", .has_fds = true,
				       .has_limits = true, .nfds = 15, .nofile_soft = 16,
				       .nofile_hard = 16 };
	assert_int_equal(run(f, "nofile", true, NULL, 0), 1);
	assert_string_equal(f->r.props[0].proposed, "32:32");
	assert_int_equal(tune_flag_permissions(&f->r, &f->a, all, 0, true), 0);
	assert_int_equal(tune_flag_permissions(&f->r, &f->a, no_resource, 0, true), 1);
	assert_non_null(strstr(f->r.props[0].cannot, "CAP_SYS_RESOURCE"));
	/* sysctls: /proc/sys checks the euid */
	f->a.c.listen_overflows = 5;
	run(f, "somaxconn", true, NULL, 0);
	assert_int_equal(tune_flag_permissions(&f->r, &f->a, all, 1000, true), 1);
	assert_non_null(strstr(f->r.props[0].cannot, "euid 0"));
	assert_int_equal(tune_flag_permissions(&f->r, &f->a, 0, 1000, false), 0);
}

#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_somaxconn_doubles_on_listen_overflows),
		T(test_netns_scope_in_every_command),
		T(test_verdict_keeps_only_beyond_the_spread),
		T(test_measure_each_rule_trigger_per_second),
		T(test_measure_counts_per_run_when_the_window_is_the_workload),
		T(test_measure_says_bpf_only_triggers_cannot_be_measured),
		T(test_dry_run_flags_hard_limit_without_cap_sys_resource),
		T(test_pid_netns_and_root_scopes_in_commands),
		T(test_somaxconn_quiet_without_overflows),
		T(test_somaxconn_capped_at_65535),
		T(test_somaxconn_uses_session_netstat_delta_without_snapshots),
		T(test_somaxconn_says_no_delta_available),
		T(test_syn_backlog_on_req_queue_full),
		T(test_syn_backlog_names_the_application_backlog),
		T(test_somaxconn_proposed_once_for_two_rules),
		T(test_somaxconn_not_proposed_when_application_backlog_is_the_limit),
		T(test_somaxconn_proposed_when_it_capped_the_listener),
		T(test_somaxconn_blames_the_full_listener_not_the_idle_one),
		T(test_disco_own_listener_is_never_blamed),
		T(test_netdev_backlog_on_softnet_drops),
		T(test_tcp_rmem_from_bdp_moves_rmem_max_too),
		T(test_tcp_rmem_bdp_from_the_fastest_connections_own_srtt),
		T(test_tcp_rmem_quiet_at_half_of_max),
		T(test_tcp_rmem_bounded_step_and_int_max),
		T(test_tcp_rmem_on_receive_pruning),
		T(test_tcp_rmem_never_above_rmem_max_unless_both_move),
		T(test_tcp_wmem_from_bdp),
		T(test_tcp_buffers_degrade_without_evidence),
		T(test_port_range_and_tw_reuse_on_churn),
		T(test_port_range_quiet_below_75_percent),
		T(test_port_range_lower_bound_1024),
		T(test_dirty_on_write_outliers_with_writeback),
		T(test_dirty_needs_bio_evidence),
		T(test_swappiness_on_swapins_under_pressure),
		T(test_max_map_count_at_75_percent),
		T(test_file_max_at_75_percent),
		T(test_nofile_raises_soft_at_75_percent),
		T(test_nofile_threshold_does_not_overflow),
		T(test_nofile_soft_up_to_hard_then_hard_needs_root),
		T(test_nofile_hard_past_nr_open_moves_nr_open),
		T(test_nofile_targets_only_when_given),
		T(test_affinity_moves_target_away_from_pinned_hog),
		T(test_affinity_quiet_below_wait_threshold),
		T(test_disco_itself_is_never_an_affinity_target_or_neighbour),
		T(test_disco_itself_is_never_a_nofile_target),
		T(test_affinity_neighbour_needs_a_tenth_of_a_cpu),
		T(test_affinity_no_spare_cpu),
		T(test_affinity_from_sched_evidence_outliers),
		T(test_affinity_moves_only_one_of_mutual_neighbours),
		T(test_affinity_skips_unpinned_without_load_data),
		T(test_affinity_without_targets_notes_it),
		T(test_affinity_numa_pins_to_memory_node),
		T(test_affinity_numa_quiet_below_80_percent),
		T(test_only_filter_and_unknown_family),
		T(test_all_rules_degrade_on_empty_snapshot),
		T(test_json_output_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
