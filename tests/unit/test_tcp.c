// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the tcp collector's pure parts: /proc/net parsing, options, event folding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include "col_tcp.h"
#include "collector.h"
#include "bpf/tcp.h"

extern const struct collector col_tcp;

/* Shaped like this machine's /proc/net/netstat (trimmed), three sections. */
static const char netstat_text[] =
	"TcpExt: SyncookiesSent SyncookiesRecv PruneCalled RcvPruned OfoPruned ListenOverflows ListenDrops TCPBacklogDrop TW TCPReqQFullDrop\n"
	"TcpExt: 0 0 17 3 0 42 45 7 12 9\n"
	"IpExt: InNoRoutes InTruncatedPkts ListenDrops\n"
	"IpExt: 0 0 999\n"
	"MPTcpExt: MPCapableSYNRX\n"
	"MPTcpExt: 0\n";

static void test_tcp_netstat_parse_picks_tcpext_fields(void **state)
{
	struct tcp_netstat ns;

	assert_int_equal(tcp_netstat_parse(netstat_text, strlen(netstat_text), &ns), 0);
	assert_int_equal(ns.found, (1u << TCP_NS_COUNT) - 1);
	assert_int_equal(ns.v[TCP_NS_LISTEN_OVERFLOWS], 42);
	/* IpExt has a field of the same name later: TcpExt's wins */
	assert_int_equal(ns.v[TCP_NS_LISTEN_DROPS], 45);
	assert_int_equal(ns.v[TCP_NS_BACKLOG_DROP], 7);
	assert_int_equal(ns.v[TCP_NS_PRUNE_CALLED], 17);
	assert_int_equal(ns.v[TCP_NS_RCV_PRUNED], 3);
	assert_int_equal(ns.v[TCP_NS_REQ_Q_FULL_DROP], 9);
}

static void test_tcp_netstat_missing_field_is_not_found(void **state)
{
	static const char t[] = "TcpExt: ListenOverflows PruneCalled\nTcpExt: 5 6\n";
	struct tcp_netstat ns;

	assert_int_equal(tcp_netstat_parse(t, strlen(t), &ns), 0);
	assert_int_equal(ns.found, (1u << TCP_NS_LISTEN_OVERFLOWS) | (1u << TCP_NS_PRUNE_CALLED));
	assert_int_equal(ns.v[TCP_NS_PRUNE_CALLED], 6);
}

static void test_tcp_netstat_malformed_is_einval(void **state)
{
	static const char *const bad[] = {
		"TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n",	/* fewer values */
		"TcpExt: ListenOverflows\nTcpExt: 1 2\n",		/* more values */
		"TcpExt: ListenOverflows\nTcpExt: x1\n",		/* not a number */
		"TcpExt: ListenOverflows\nTcpExt: -1\n",
		"TcpExt: ListenOverflows\nTcpExt: 99999999999999999999999\n",	/* > u64 */
		"TcpExt: ListenOverflows\n",				/* header only */
	};
	struct tcp_netstat ns;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tcp_netstat_parse(bad[i], strlen(bad[i]), &ns), -EINVAL);
}

static void test_tcp_netstat_no_section_is_enoent(void **state)
{
	static const char t[] = "IpExt: InNoRoutes\nIpExt: 0\n";
	struct tcp_netstat ns;

	assert_int_equal(tcp_netstat_parse(t, strlen(t), &ns), -ENOENT);
	assert_int_equal(tcp_netstat_parse("", 0, &ns), -ENOENT);
}

static void test_tcp_netstat_reads_only_len_bytes(void **state)
{
	/* the value line is cut by len: no NUL needed, nothing read past it */
	static const char t[] = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 3 4\n";
	struct tcp_netstat ns;

	assert_int_equal(tcp_netstat_parse(t, strlen(t) - 3, &ns), -EINVAL);
	assert_int_equal(tcp_netstat_parse(t, strlen(t) - 1, &ns), 0);
	assert_int_equal(ns.v[TCP_NS_LISTEN_DROPS], 4);
}

static void test_tcp_snmp_section_is_exact_name(void **state)
{
	/* "Tcp:" must not match "TcpExt:" lines */
	static const char t[] =
		"TcpExt: RetransSegs\nTcpExt: 77\n"
		"Tcp: RtoAlgorithm OutSegs RetransSegs\nTcp: 1 1000 12\n";
	static const char *const names[] = { "OutSegs", "RetransSegs" };
	uint64_t v[2];
	uint32_t found;

	assert_int_equal(proc_net_pairs(t, strlen(t), "Tcp", names, 2, v, &found), 0);
	assert_int_equal(found, 3);
	assert_int_equal(v[0], 1000);
	assert_int_equal(v[1], 12);
}

static void test_tcp_netstat_delta_never_negative(void **state)
{
	struct tcp_netstat a = { .found = 3 }, b = { .found = 1 };
	json_t *d;

	a.v[0] = 10;
	b.v[0] = 4;	/* went backwards */
	d = tcp_netstat_delta(&a, &b);
	assert_int_equal(json_integer_value(json_object_get(d, "ListenOverflows")), 0);
	/* only in one snapshot: left out */
	assert_null(json_object_get(d, "ListenDrops"));
	json_decref(d);
	b.v[0] = 25;
	d = tcp_netstat_delta(&a, &b);
	assert_int_equal(json_integer_value(json_object_get(d, "ListenOverflows")), 15);
	json_decref(d);
}

static void test_tcp_port_option_validation(void **state)
{
	struct rec_opts o = { 0 };
	void *ctx = rec_opts_col(&o, (size_t)collector_index(&col_tcp));

	assert_non_null(ctx);
	assert_int_equal(col_tcp.set_option(ctx, "port", "80"), 0);
	assert_int_equal(col_tcp.set_option(ctx, "port", "0"), -EINVAL);
	assert_int_equal(col_tcp.set_option(ctx, "port", "65536"), -EINVAL);
	assert_int_equal(col_tcp.set_option(ctx, "port", "-1"), -EINVAL);
	assert_int_equal(col_tcp.set_option(ctx, "port", "8o"), -EINVAL);
	assert_int_equal(col_tcp.set_option(ctx, "port", ""), -EINVAL);
	assert_int_equal(col_tcp.set_option(ctx, "ipv4", NULL), 0);
	assert_int_equal(col_tcp.set_option(ctx, "rtt-per-ack", NULL), 0);
	assert_int_equal(col_tcp.set_option(ctx, "bogus", "1"), -EINVAL);
	/* 16 ports at most: one taken above */
	for (int i = 0; i < TCP_MAX_PORTS - 1; i++)
		assert_int_equal(col_tcp.set_option(ctx, "port", "443"), 0);
	assert_int_equal(col_tcp.set_option(ctx, "port", "443"), -E2BIG);
	rec_opts_release(&o);
}

static struct tcp_life sample_life(void)
{
	struct tcp_life e = {
		.kind = TCP_EV_LIFE, .oldstate = 5, .newstate = 7, .flags = TCP_LIFE_ACTIVE,
		.family = 2, .sport = 40000, .dport = 443, .pid = 1234, .retransmits = 2,
		.time_ns = 5000, .duration_ns = 3000000, .connect_ns = 40000,
		.tx_bytes = 100, .rx_bytes = 2000, .srtt_ns = 12000,
		.saddr = { 10, 0, 0, 1 }, .daddr = { 192, 0, 2, 7 }, .comm = "curl",
	};
	return e;
}

static void test_tcp_report_event_folds_connection_and_endpoint(void **state)
{
	struct report_opts ro = { .top = 10, .start_mono_ns = 1000 };
	struct tcp_life e = sample_life();
	json_t *col = json_object(), *c, *ep;

	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), 0);
	e.tx_bytes = 50;
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), 0);
	col_tcp.report_finish(col, &ro);
	c = json_array_get(json_object_get(col, "connections"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "saddr")), "10.0.0.1");
	assert_string_equal(json_string_value(json_object_get(c, "daddr")), "192.0.2.7");
	assert_string_equal(json_string_value(json_object_get(c, "family")), "ipv4");
	assert_string_equal(json_string_value(json_object_get(c, "final_state")), "FIN_WAIT2");
	assert_int_equal(json_integer_value(json_object_get(c, "time_ns")), 4000);
	assert_int_equal(json_integer_value(json_object_get(c, "tx_bytes")), 100);
	ep = json_array_get(json_object_get(col, "endpoints"), 0);
	assert_int_equal(json_array_size(json_object_get(col, "endpoints")), 1);
	assert_int_equal(json_integer_value(json_object_get(ep, "connections")), 2);
	assert_int_equal(json_integer_value(json_object_get(ep, "tx_bytes")), 150);
	assert_int_equal(json_integer_value(json_object_get(ep, "port")), 443);
	assert_null(json_object_get(col, "endpoints_by_key"));
	json_decref(col);
}

static void test_tcp_report_event_ipv6_and_passive_service_port(void **state)
{
	struct report_opts ro = { .top = 10 };
	struct tcp_life e = sample_life();
	json_t *col = json_object(), *ep;

	e.family = 10;
	e.flags = 0;	/* passive: the service is our port */
	e.sport = 8080;
	memset(e.daddr, 0, 16);
	e.daddr[15] = 1;
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), 0);
	col_tcp.report_finish(col, &ro);
	ep = json_array_get(json_object_get(col, "endpoints"), 0);
	assert_string_equal(json_string_value(json_object_get(ep, "addr")), "::1");
	assert_string_equal(json_string_value(json_object_get(ep, "direction")), "in");
	assert_int_equal(json_integer_value(json_object_get(ep, "port")), 8080);
	json_decref(col);
}

static void test_tcp_report_event_rejects_hostile_records(void **state)
{
	struct report_opts ro = { .top = 10 };
	struct tcp_life e;
	json_t *col = json_object();
	char comm_check[] = "evil\x1b[2Jx";

	e = sample_life();
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e) - 1, &ro), -EBADMSG);
	e.kind = 9;
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), -EBADMSG);
	e = sample_life();
	e.family = 3;
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), -EBADMSG);
	e = sample_life();
	e.oldstate = 200;
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), -EBADMSG);
	e = sample_life();
	e.flags = 0x80;
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), -EBADMSG);
	e = sample_life();
	e.tx_bytes = UINT64_MAX;	/* would be negative in JSON */
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), -EBADMSG);
	assert_null(json_object_get(col, "connections"));
	/* a comm without NUL and with escapes is cut and made printable */
	e = sample_life();
	memset(e.comm, 'A', sizeof(e.comm));
	memcpy(e.comm, comm_check, sizeof(comm_check) - 1);
	assert_int_equal(col_tcp.report_event(col, &e, sizeof(e), &ro), 0);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(col, "connections"), 0), "comm")), "evil?[2JxAAAAAA");
	json_decref(col);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_netstat_parse_picks_tcpext_fields),
		cmocka_unit_test(test_tcp_netstat_missing_field_is_not_found),
		cmocka_unit_test(test_tcp_netstat_malformed_is_einval),
		cmocka_unit_test(test_tcp_netstat_no_section_is_enoent),
		cmocka_unit_test(test_tcp_netstat_reads_only_len_bytes),
		cmocka_unit_test(test_tcp_snmp_section_is_exact_name),
		cmocka_unit_test(test_tcp_netstat_delta_never_negative),
		cmocka_unit_test(test_tcp_port_option_validation),
		cmocka_unit_test(test_tcp_report_event_folds_connection_and_endpoint),
		cmocka_unit_test(test_tcp_report_event_ipv6_and_passive_service_port),
		cmocka_unit_test(test_tcp_report_event_rejects_hostile_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
