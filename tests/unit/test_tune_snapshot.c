// SPDX-License-Identifier: GPL-2.0
/* Snapshot parsing: the /proc text parsers and a fixture tree (2 NUMA nodes). */
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
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include "tuner.h"

static const char *fixture(void)
{
	const char *d = getenv("TUNE_FIXTURES");

	return d ? d : "tests/data/tune/numa2";
}

static void test_snapshot_fixture_reads_sysctls(void **state)
{
	struct snapshot s;
	struct snapshot_opts o = { .root = fixture(), .all_procs = true };

	assert_int_equal(snapshot_take(&s, &o), 0);
	assert_true(s.sc[SC_SOMAXCONN].present);
	assert_int_equal(s.sc[SC_SOMAXCONN].v[0], 4096);
	assert_int_equal(s.sc[SC_TCP_RMEM].n, 3);
	assert_int_equal(s.sc[SC_TCP_RMEM].v[2], 6291456);
	assert_int_equal(s.sc[SC_PORT_RANGE].v[0], 32768);
	assert_int_equal(s.sc[SC_PORT_RANGE].v[1], 60999);
	assert_int_equal(s.sc[SC_FILE_MAX].v[0], INT64_MAX);
	assert_int_equal(s.sc[SC_NR_OPEN].v[0], 1048576);
	snapshot_free(&s);
}

static void test_snapshot_fixture_reads_counters(void **state)
{
	struct snapshot s;
	struct snapshot_opts o = { .root = fixture() };

	assert_int_equal(snapshot_take(&s, &o), 0);
	assert_true(s.c.have_netstat);
	assert_int_equal(s.c.listen_overflows, 17);
	assert_int_equal(s.c.listen_drops, 19);
	assert_int_equal(s.c.rcv_pruned, 3);
	assert_int_equal(s.c.req_q_full_drop, 2);
	assert_int_equal(s.c.active_opens, 5000);
	assert_int_equal(s.c.retrans_segs, 42);
	assert_int_equal(s.c.softnet_dropped, 5);
	assert_int_equal(s.c.softnet_squeezed, 1);
	assert_int_equal(s.tw_sockets, 300);
	assert_int_equal(s.c.pswpin, 10);
	assert_int_equal(s.mem_available_bytes, 4000000ull * 1024);
	assert_int_equal(s.dirty_bytes, 20000ull * 1024);
	assert_int_equal(s.file_nr_alloc, 2080);
	assert_true(s.have_psi);
	assert_true(s.psi_mem_some10 > 12.49 && s.psi_mem_some10 < 12.51);
	assert_int_equal(s.cpu_total[2], 100 + 50 + 1000 + 3 + 1);
	assert_int_equal(s.cpu_busy[2], 151);
	snapshot_free(&s);
}

static void test_snapshot_fixture_two_numa_nodes(void **state)
{
	struct snapshot s;
	struct snapshot_opts o = { .root = fixture() };

	assert_int_equal(snapshot_take(&s, &o), 0);
	assert_int_equal(s.ncpus, 4);
	assert_int_equal(s.nnodes, 2);
	assert_true(CPU_ISSET(0, &s.node_cpus[0]) && CPU_ISSET(1, &s.node_cpus[0]));
	assert_true(CPU_ISSET(2, &s.node_cpus[1]) && CPU_ISSET(3, &s.node_cpus[1]));
	assert_false(CPU_ISSET(2, &s.node_cpus[0]));
	snapshot_free(&s);
}

static void test_snapshot_fixture_process_near_fd_limit(void **state)
{
	pid_t t = 4242;
	struct snapshot s;
	struct snapshot_opts o = { .root = fixture(), .targets = &t, .ntargets = 1,
				   .all_procs = true };
	const struct proc_snap *p;

	assert_int_equal(snapshot_take(&s, &o), 0);
	assert_int_equal(s.nprocs, 2);
	p = snapshot_proc(&s, 4242);
	assert_non_null(p);
	assert_string_equal(p->comm, "my server");
	assert_int_equal(p->start_time, 123456);
	assert_int_equal(p->cpu_ticks, 1000);
	assert_int_equal(p->nofile_soft, 16);
	assert_int_equal(p->nofile_hard, 4096);
	assert_int_equal(p->nfds, 13);
	assert_int_equal(p->nmaps, 20);
	assert_int_equal(p->wait_ns, 2000000);
	assert_string_equal(p->user, "www");
	assert_string_equal(p->unit, "myserver.service");
	assert_true(p->has_numa);
	assert_int_equal(p->node_pages[0], 50);
	assert_int_equal(p->node_pages[1], 3150);
	/* threads last ran on CPU 1 (node 0) and CPU 2 (node 1) */
	assert_true(CPU_ISSET(1, &p->ran_on));
	assert_true(CPU_ISSET(2, &p->ran_on));
	assert_int_equal(CPU_COUNT(&p->allowed), 4);
	/* not a target: no numa details */
	p = snapshot_proc(&s, 77);
	assert_non_null(p);
	assert_false(p->has_numa);
	assert_int_equal(p->nfds, 3);
	assert_null(snapshot_proc(&s, 78));
	snapshot_free(&s);
}

static void test_snapshot_missing_root_is_empty_not_fatal(void **state)
{
	struct snapshot s;
	struct snapshot_opts o = { .root = "/nonexistent/disco-tune", .all_procs = true };

	assert_int_equal(snapshot_take(&s, &o), 0);
	assert_false(s.sc[SC_SOMAXCONN].present);
	assert_false(s.c.have_netstat);
	assert_int_equal(s.nprocs, 0);
	snapshot_free(&s);
}

static void test_parse_netstat_rejects_mismatched_lines(void **state)
{
	struct counters c = { 0 };

	assert_int_equal(parse_netstat("TcpExt: A B\nIpExt: 1 2\n", &c), -EINVAL);
	assert_int_equal(parse_netstat("garbage", &c), -EINVAL);
	assert_int_equal(parse_netstat("", &c), -EINVAL);
	/* a value line shorter than the names line stops quietly */
	assert_int_equal(parse_netstat("TcpExt: ListenDrops ListenOverflows\nTcpExt: 5\n", &c), 0);
	assert_int_equal(c.listen_drops, 5);
	assert_int_equal(c.listen_overflows, 0);
}

static void test_parse_pid_stat_comm_with_parens_and_spaces(void **state)
{
	struct proc_snap p = { 0 };

	assert_int_equal(parse_pid_stat("9 (a) b (c)) R 1 9 9 0 -1 0 0 0 0 0 3 4 0 0 20 0 5 0 777 0 0 "
					"0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0", &p), 0);
	assert_string_equal(p.comm, "a) b (c)");
	assert_int_equal(p.start_time, 777);
	assert_int_equal(p.cpu_ticks, 7);
	assert_int_equal(p.nthreads, 5);
	assert_false(p.kthread);
	assert_int_equal(parse_pid_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 "
					"3 0 0", &p), 0);
	assert_true(p.kthread);
	assert_int_equal(parse_pid_stat("9 (x R 1", &p), -EINVAL);
	assert_int_equal(parse_pid_stat("9 (x) R 1 2", &p), -EINVAL);
}

static void test_parse_limits_unlimited(void **state)
{
	uint64_t s, h;

	assert_int_equal(parse_limits_nofile("Max open files  unlimited  unlimited files\n", &s, &h), 0);
	assert_true(s == TUNE_NOFILE_INF && h == TUNE_NOFILE_INF);
	assert_int_equal(parse_limits_nofile("Max open files  12x 4 files\n", &s, &h), -EINVAL);
	assert_int_equal(parse_limits_nofile("Max processes 1 2\n", &s, &h), -EINVAL);
}

static void test_cpulist_round_trip(void **state)
{
	cpu_set_t s;
	char buf[64];

	assert_int_equal(cpulist_parse("0-3,8,10-11\n", &s), 0);
	assert_int_equal(CPU_COUNT(&s), 7);
	cpulist_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,8,10-11");
	assert_int_equal(cpulist_parse("3-1", &s), -EINVAL);
	assert_int_equal(cpulist_parse("1,,2", &s), -EINVAL);
	assert_int_equal(cpulist_parse("99999", &s), -EINVAL);
	assert_int_equal(cpulist_parse("1-", &s), -EINVAL);
}

static void test_parse_numa_maps_rejects_huge_node(void **state)
{
	uint64_t pages[TUNE_MAX_NODES];

	assert_int_equal(parse_numa_maps("7f00 default anon=1 N0=1 N3=4\n", pages), 0);
	assert_int_equal(pages[3], 4);
	assert_int_equal(parse_numa_maps("7f00 default anon=1 N999=1\n", pages), -EINVAL);
}

static void test_sysctl_value_bounds(void **state)
{
	struct sysctl_val v;

	assert_int_equal(sysctl_parse_value(SC_TCP_RMEM, "4096\t87380\t6291456\n", &v), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(sysctl_parse_value(SC_TCP_RMEM, "4096 87380", &v), -EINVAL);
	assert_int_equal(sysctl_parse_value(SC_SOMAXCONN, "2147483648", &v), -EINVAL);
	assert_int_equal(sysctl_parse_value(SC_SOMAXCONN, "-1", &v), -EINVAL);
	assert_int_equal(sysctl_parse_value(SC_TW_REUSE, "3", &v), -EINVAL);
	assert_int_equal(sysctl_parse_value(SC_SOMAXCONN, "12abc", &v), -EINVAL);
	assert_int_equal(sysctl_lookup("kernel.core_pattern"), -ENOENT);
}

/* Append one netlink message of type with payload len bytes. */
static size_t nl_put(char *buf, size_t off, uint16_t type, const void *payload, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(buf + off);

	memset(h, 0, NLMSG_SPACE(len));
	h->nlmsg_len = NLMSG_LENGTH(len);
	h->nlmsg_type = type;
	memcpy(NLMSG_DATA(h), payload, len);
	return off + NLMSG_SPACE(len);
}

static void test_inet_diag_listener_backlog_is_wqueue(void **state)
{
	static char buf[1024] __attribute__((aligned(4)));
	struct inet_diag_msg m = { .idiag_family = 2, .idiag_state = 10, .idiag_rqueue = 3,
				   .idiag_wqueue = 2, .idiag_inode = 5555, .idiag_uid = 1000 };
	struct inet_diag_msg est = m;
	struct listener *v = NULL;
	size_t n = 0, cap = 0, off = 0;
	int done = 0;

	(void)state;
	m.id.idiag_sport = htons(8080);
	est.idiag_state = 1;	/* an established socket is not a listener */
	off = nl_put(buf, off, SOCK_DIAG_BY_FAMILY, &m, sizeof(m));
	off = nl_put(buf, off, SOCK_DIAG_BY_FAMILY, &est, sizeof(est));
	assert_int_equal(parse_inet_diag(buf, off, &v, &n, &cap), 0);
	off = nl_put(buf, 0, NLMSG_DONE, &done, sizeof(done));
	assert_int_equal(parse_inet_diag(buf, off, &v, &n, &cap), 1);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].port, 8080);
	assert_int_equal(v[0].backlog, 2);
	assert_int_equal(v[0].queue, 3);
	assert_int_equal(v[0].ino, 5555);
	/* a truncated message is junk, not a listener */
	off = nl_put(buf, 0, SOCK_DIAG_BY_FAMILY, &m, sizeof(m));
	assert_int_equal(parse_inet_diag(buf, off - 8, &v, &n, &cap), -EINVAL);
	free(v);
}

/*
 * A last message whose length is not a multiple of 4, in a buffer that ends
 * with it: the walk stops there (found by fuzz_procparse: it used to read
 * past the buffer; the exact-size heap buffer lets make asan see that).
 */
static void test_inet_diag_unaligned_last_message_stays_inside(void **state)
{
	struct inet_diag_msg m = { .idiag_family = 2, .idiag_state = 1 };
	size_t len = NLMSG_LENGTH(sizeof(m)) + 1;
	struct nlmsghdr *h = calloc(1, len);
	struct listener *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	assert_non_null(h);
	h->nlmsg_len = (uint32_t)len;
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	memcpy(NLMSG_DATA(h), &m, sizeof(m));
	assert_int_equal(parse_inet_diag(h, len, &v, &n, &cap), 0);
	assert_int_equal(n, 0);
	free(h);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inet_diag_listener_backlog_is_wqueue),
		cmocka_unit_test(test_inet_diag_unaligned_last_message_stays_inside),
		cmocka_unit_test(test_snapshot_fixture_reads_sysctls),
		cmocka_unit_test(test_snapshot_fixture_reads_counters),
		cmocka_unit_test(test_snapshot_fixture_two_numa_nodes),
		cmocka_unit_test(test_snapshot_fixture_process_near_fd_limit),
		cmocka_unit_test(test_snapshot_missing_root_is_empty_not_fatal),
		cmocka_unit_test(test_parse_netstat_rejects_mismatched_lines),
		cmocka_unit_test(test_parse_pid_stat_comm_with_parens_and_spaces),
		cmocka_unit_test(test_parse_limits_unlimited),
		cmocka_unit_test(test_cpulist_round_trip),
		cmocka_unit_test(test_parse_numa_maps_rejects_huge_node),
		cmocka_unit_test(test_sysctl_value_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
