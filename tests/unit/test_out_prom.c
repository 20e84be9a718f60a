// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the Prometheus renderer: bucket math, naming rules, escaping, families. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "out_prom.h"

static char *render_opts(json_t *rep, const struct prom_opts *po)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(prom_render(rep, f, po), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* As `disco report --format prometheus`: per process, the top N. */
static char *render(json_t *rep, int top)
{
	struct prom_opts po = { .max_series = top, .per_pid = true };

	return render_opts(rep, &po);
}

static json_t *report_with(const char *col, json_t *obj)
{
	return json_pack("{s:s, s:{s:s, s:I}, s:{}, s:{s:o}}", "schema", "disco.report/1",
			 "session", "kernel", "6.1.0-test", "duration_ns", (json_int_t)2500000000LL,
			 "cost", "collectors", col, obj);
}

/* Value of the sample whose text before the value is exactly `series`; -1 if absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

/* The sample must be present with exactly this value. */
static void expect(const char *text, const char *series, double want)
{
	double got = sample(text, series);

	if (got != want)
		fail_msg("%s = %.17g, expected %.17g", series, got, want);
}

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, len))
			n++;
	return n;
}

/* "0.000001024" -> 1024 ns, exactly (no floating point) */
static uint64_t le_ns(const char *s)
{
	uint64_t ns = 0;
	int frac = -1;

	for (; *s && *s != '"'; s++) {
		if (*s == '.') {
			frac = 0;
			continue;
		}
		ns = ns * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (int i = frac < 0 ? 0 : frac; i < 9; i++)
		ns *= 10;
	return ns;
}

static void test_prom_buckets_cumulative_exact_at_powers_of_two(void **state)
{
	static const uint64_t vals[] = {
		0, 1, 500, 1023, 1024, 1025, 2047, 2048, 5000, 65535, 65536, 1ULL << 20,
		(1ULL << 20) + 1, 999999999, (1ULL << 35) - 1, 1ULL << 35, 1ULL << 36, 1ULL << 40,
	};
	struct hist h = { 0 };
	uint64_t sum = 0;
	char *out, *p;
	int nle = 0;
	json_t *rep;

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		hist_add_value(&h, vals[i]);
		sum += vals[i];
	}
	rep = report_with("sched", json_pack("{s:o}", "runq_latency", hist_to_json(&h, "ns")));
	out = render(rep, 10);
	for (p = out; (p = strstr(p, "disco_sched_runq_latency_seconds_bucket{le=\"")); p++) {
		const char *le = p + strlen("disco_sched_runq_latency_seconds_bucket{le=\"");
		uint64_t want = 0, got;
		const char *v = strstr(le, "} ");

		assert_non_null(v);
		got = strtoull(v + 2, NULL, 10);
		if (!strncmp(le, "+Inf", 4)) {
			assert_int_equal(got, sizeof(vals) / sizeof(vals[0]));
			continue;
		}
		/* the oracle: how many values lie below the boundary */
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
			want += vals[i] < le_ns(le);
		assert_int_equal(got, want);
		/* boundaries are powers of two from 2^10 to 2^35 ns */
		assert_int_equal(le_ns(le), 1ULL << (10 + nle));
		nle++;
	}
	assert_int_equal(nle, 26);
	expect(out, "disco_sched_runq_latency_seconds_count",  sizeof(vals) / sizeof(vals[0]));
	/* _sum in seconds, exact decimal of the ns sum */
	assert_true(sample(out, "disco_sched_runq_latency_seconds_sum") > sum / 1e9 * 0.999999);
	assert_true(sample(out, "disco_sched_runq_latency_seconds_sum") < sum / 1e9 * 1.000001);
	free(out);
	json_decref(rep);
}

static void test_prom_bytes_distribution_stays_in_bytes(void **state)
{
	struct hist h = { 0 };
	char *out;
	json_t *rep;

	(void)state;
	hist_add_value(&h, 3);
	hist_add_value(&h, 4096);
	hist_add_value(&h, 4097);
	rep = report_with("alloc", json_pack("{s:o}", "sizes", hist_to_json(&h, "bytes")));
	out = render(rep, 10);
	assert_non_null(strstr(out, "# TYPE disco_alloc_sizes_bytes histogram\n"));
	expect(out, "disco_alloc_sizes_bytes_bucket{le=\"1\"}", 0);
	expect(out, "disco_alloc_sizes_bytes_bucket{le=\"4\"}", 1);
	expect(out, "disco_alloc_sizes_bytes_bucket{le=\"4096\"}", 1);
	expect(out, "disco_alloc_sizes_bytes_bucket{le=\"8192\"}", 3);
	expect(out, "disco_alloc_sizes_bytes_sum", 3 + 4096 + 4097);
	assert_null(strstr(out, "disco_alloc_sizes_seconds"));
	free(out);
	json_decref(rep);
}

static void test_prom_label_values_escaped(void **state)
{
	char *buf = NULL, *out;
	size_t len = 0;
	FILE *f;
	json_t *rep;
	struct hist h = { 0 };

	(void)state;
	f = open_memstream(&buf, &len);
	prom_escape_label(f, "a\"b\\c\nd\x01" "e", 100);
	fclose(f);
	assert_string_equal(buf, "a\\\"b\\\\c\\nd?e");
	free(buf);

	/* a cut never splits a UTF-8 character: "é" is 2 bytes */
	f = open_memstream(&buf, &len);
	prom_escape_label(f, "ab\xc3\xa9", 3);
	fclose(f);
	assert_string_equal(buf, "ab");
	free(buf);

	hist_add_value(&h, 5000);
	rep = report_with("sched", json_pack("{s:[{s:i, s:s, s:o}]}", "processes",
		"pid", 42, "comm", "evil\"} 1\nx", "runq_latency", hist_to_json(&h, "ns")));
	out = render(rep, 10);
	assert_non_null(strstr(out, "disco_sched_processes_runq_latency_seconds_count{pid=\"42\",comm=\"evil\\\"} 1\\nx\"} 1\n"));
	/* the injected newline did not start a line of its own */
	assert_int_equal(count_lines_starting(out, "x\""), 0);
	free(out);
	json_decref(rep);
}

/* Every TYPE once, and every sample right under its own family's TYPE line. */
static void check_families_grouped(const char *out)
{
	static char fams[1024][192];
	char cur[192] = "", type[32] = "";
	int nf = 0;
	const char *p = out;

	while (*p) {
		const char *e = strchr(p, '\n');
		char line[1024];
		size_t n = e ? (size_t)(e - p) : strlen(p);

		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = 0;
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%191s %31s", cur, type), 2);
			for (int i = 0; i < nf; i++)
				assert_string_not_equal(fams[i], cur);
			assert_true(nf < 1024);
			strcpy(fams[nf++], cur);
		} else if (line[0] != '#') {
			size_t cl = strlen(cur);
			const char *rest = line + cl;

			assert_int_equal(strncmp(line, cur, cl), 0);
			if (!strcmp(type, "histogram"))
				assert_true(!strncmp(rest, "_bucket{", 8) || !strncmp(rest, "_sum", 4) ||
					    !strncmp(rest, "_count", 6));
			else
				assert_true(*rest == ' ' || *rest == '{');
		}
		p = e ? e + 1 : p + n;
	}
	assert_true(nf > 0);
}

static void test_prom_each_family_once_with_series_grouped(void **state)
{
	struct hist h = { 0 };
	json_t *procs = json_array(), *rep;
	char *out;

	(void)state;
	hist_add_value(&h, 12345);
	for (int i = 0; i < 6; i++)
		json_array_append_new(procs, json_pack("{s:i, s:s, s:o, s:i}", "pid", 100 + i,
			"comm", "w", "runq_latency", hist_to_json(&h, "ns"), "migrations", i));
	/* sampled statistics: counters export what was measured, not the scaled estimate */
	rep = json_pack("{s:s, s:{s:s}, s:{s:I, s:I, s:I, s:b}, s:{s:{s:o, s:o, s:i, s:i, s:[{s:s, s:s}], s:[{s:s, s:I, s:I, s:I, s:I}]}, s:{s:o, s:i, s:i}}}",
		"schema", "disco.report/1", "session", "kernel", "k", "cost", "bpf_runs", (json_int_t)90,
		"bpf_measured_runs", (json_int_t)9, "bpf_stats_measured_ns", (json_int_t)2000000000,
		"bpf_stats_enabled", 1, "collectors",
		"sched", "runq_latency", hist_to_json(&h, "ns"), "processes", procs, "drops", 7, "events", 3,
		"hooks", "hook", "sched:sched_switch", "method", "tp_btf",
		"programs", "name", "sched_switch_btf", "run_count", (json_int_t)100, "run_time_ns", (json_int_t)15000,
		"measured_runs", (json_int_t)10, "measured_run_time_ns", (json_int_t)1500,
		"bio", "latency", hist_to_json(&h, "ns"), "drops", 0, "events", 1);
	out = render(rep, 10);
	check_families_grouped(out);
	assert_int_equal(count_lines_starting(out, "# TYPE disco_drops_total counter"), 1);
	expect(out, "disco_drops_total{collector=\"sched\"}", 7);
	expect(out, "disco_drops_total{collector=\"bio\"}", 0);
	expect(out, "disco_events_total{collector=\"sched\"}", 3);
	/* the library and this test may be built at different tree states: version varies */
	assert_non_null(strstr(out, "\ndisco_build_info{version=\""));
	assert_non_null(strstr(out, "\",kernel=\"k\"} 1\n"));
	expect(out, "disco_hook_info{collector=\"sched\",hook=\"sched:sched_switch\",method=\"tp_btf\"}", 1);
	expect(out, "disco_bpf_program_runs_total{collector=\"sched\",program=\"sched_switch_btf\"}", 10);
	assert_non_null(strstr(out, "disco_bpf_program_run_seconds_total{collector=\"sched\",program=\"sched_switch_btf\"} 0.0000015\n"));
	expect(out, "disco_bpf_runs_total", 9);
	expect(out, "disco_bpf_stats_measured_seconds_total", 2);
	assert_int_equal(count_lines_starting(out, "disco_sched_processes_migrations_total{"), 6);
	/* every metric has HELP and TYPE */
	assert_int_equal(count_lines_starting(out, "# HELP "), count_lines_starting(out, "# TYPE "));
	free(out);
	json_decref(rep);
}

static void test_prom_rows_past_max_series_fold_into_other_and_are_counted(void **state)
{
	json_t *procs = json_array(), *rep;
	char *out, series[128];

	(void)state;
	for (int i = 0; i < 30; i++) {
		struct hist h = { 0 };

		/* row i has i + 1 samples: the top 5 are rows 25..29 */
		for (int k = 0; k <= i; k++)
			hist_add_value(&h, 1000 + k);
		json_array_append_new(procs, json_pack("{s:i, s:s, s:o}", "pid", 1000 + i, "comm", "p",
						       "runq_latency", hist_to_json(&h, "ns")));
	}
	rep = report_with("sched", json_pack("{s:o}", "processes", procs));
	out = render(rep, 5);
	assert_int_equal(count_lines_starting(out, "disco_sched_processes_runq_latency_seconds_count{"), 6);
	for (int i = 25; i < 30; i++) {
		snprintf(series, sizeof(series),
			 "disco_sched_processes_runq_latency_seconds_count{pid=\"%d\",comm=\"p\"}", 1000 + i);
		expect(out, series, i + 1);
	}
	/* rows 0..24: 1 + 2 + ... + 25 samples */
	expect(out, "disco_sched_processes_runq_latency_seconds_count{pid=\"other\",comm=\"other\"}", 325);
	expect(out, "disco_exporter_rows_folded{rows=\"disco_sched_processes\"}", 25);
	free(out);
	json_decref(rep);
}

static void test_prom_default_sums_processes_per_cgroup_without_pid_labels(void **state)
{
	struct prom_opts po = { .max_series = 50 };
	json_t *procs = json_array(), *rep;
	char *out;

	(void)state;
	/* 200 processes in 3 cgroups: 3 series, whatever the processes do */
	for (int i = 0; i < 200; i++) {
		struct hist h = { 0 };

		hist_add_value(&h, 5000);
		json_array_append_new(procs, json_pack("{s:i, s:s, s:i, s:o, s:i, s:I}", "pid", 2000 + i,
			"comm", "worker", "cgroup_id", 10 + i % 3, "runq_latency", hist_to_json(&h, "ns"),
			"voluntary_switches", 2, "max_latency_ns", (json_int_t)(1000 + i)));
	}
	rep = report_with("sched", json_pack("{s:o}", "processes", procs));
	out = render_opts(rep, &po);
	assert_null(strstr(out, "pid="));
	assert_null(strstr(out, "comm="));
	assert_int_equal(count_lines_starting(out, "disco_sched_processes_runq_latency_seconds_count{"), 3);
	/* i % 3 == 0: 67 processes */
	expect(out, "disco_sched_processes_runq_latency_seconds_count{cgroup_id=\"10\"}", 67);
	expect(out, "disco_sched_processes_voluntary_switches_total{cgroup_id=\"10\"}", 134);
	/* a maximum stays a maximum: the last process of cgroup 10 is i = 198 */
	expect(out, "disco_sched_processes_max_latency_seconds{cgroup_id=\"10\"}", 1198e-9);
	free(out);
	json_decref(rep);
}

static void test_prom_default_drops_process_rows_with_no_other_label(void **state)
{
	struct prom_opts po = { .max_series = 50 };
	json_t *procs = json_array(), *rep;
	char *out;

	(void)state;
	for (int i = 0; i < 5; i++)
		json_array_append_new(procs, json_pack("{s:i, s:s, s:i}", "pid", i + 1, "comm", "x", "requests", 3));
	rep = report_with("bio", json_pack("{s:o, s:i}", "processes", procs, "requests", 15));
	out = render_opts(rep, &po);
	assert_null(strstr(out, "disco_bio_processes_"));
	expect(out, "disco_bio_requests_total", 15);
	free(out);
	json_decref(rep);
}

static void test_prom_machine_rows_are_never_folded(void **state)
{
	struct prom_opts po = { .max_series = 2 };
	json_t *cpu = json_array(), *rep;
	char *out, num[8];

	(void)state;
	for (int c = 0; c < 4; c++)
		for (int m = 0; m < 3; m++) {
			snprintf(num, sizeof(num), "%d", c);
			json_array_append_new(cpu, json_pack("{s:s, s:s, s:I}", "cpu", num,
				"mode", m == 0 ? "user" : m == 1 ? "system" : "idle", "ns", (json_int_t)1500000000));
		}
	rep = report_with("system", json_pack("{s:o}", "cpu", cpu));
	out = render_opts(rep, &po);
	/* the bare "ns" member names no word: cpu_seconds_total, not cpu_ns_seconds_total */
	assert_int_equal(count_lines_starting(out, "disco_system_cpu_seconds_total{"), 12);
	expect(out, "disco_system_cpu_seconds_total{cpu=\"0\",mode=\"user\"}", 1.5);
	assert_null(strstr(out, "other"));
	free(out);
	json_decref(rep);
}

static void test_prom_names_say_total_once_and_skip_elapsed(void **state)
{
	json_t *rep;
	char *out;

	(void)state;
	rep = report_with("sched", json_pack("{s:I, s:[{s:s, s:I}]}", "elapsed_ns", (json_int_t)5,
		"neighbours", "state", "x", "total_latency_ns", (json_int_t)2000000000));
	out = render(rep, 10);
	expect(out, "disco_sched_neighbours_latency_seconds_total{state=\"x\"}", 2);
	assert_null(strstr(out, "total_latency"));
	assert_null(strstr(out, "elapsed"));
	free(out);
	json_decref(rep);
}

/* A collector this file has never heard of is exported by the naming rule. */
static void test_prom_unknown_collector_follows_naming_rule(void **state)
{
	struct hist h = { 0 };
	json_t *col, *rep;
	char *out;

	(void)state;
	hist_add_value(&h, 2000000);
	col = json_pack("{s:o, s:{s:i, s:i}, s:I, s:{s:f}, s:[{s:I, s:i}], s:{s:i}, s:I,"
			" s:[{s:s, s:s, s:I, s:I, s:f, s:o}], s:{s:{s:i, s:s}}, s:I, s:b, s:s, s:i, s:{s:i}}",
		"connect_latency", hist_to_json(&h, "ns"),
		"netstat_delta", "ListenOverflows", 3, "TCPBacklogDrop", 4,
		"outstanding_bytes", (json_int_t)10,
		"rate", "allocs_per_sec", 1.5,
		"outliers", "time_ns", (json_int_t)5, "pid", 1,
		"filters", "port", 80,
		"elapsed_ns", (json_int_t)1500000000LL,
		"disks", "disk", "sda", "op", "read", "requests", (json_int_t)5, "max_latency_ns", (json_int_t)2000,
		"iops", 2.5, "latency", hist_to_json(&h, "ns"),
		"endpoints_by_key", "10.0.0.1:80", "connections", 2, "comm", "curl",
		"retransmits", (json_int_t)-4,	/* hostile: a negative counter is dropped */
		"enabled", 1, "key", "request", "queue_kb", 3, "outstanding_sampling", "one_in", 16);
	rep = report_with("tcp", col);
	out = render(rep, 10);
	check_families_grouped(out);
	expect(out, "disco_tcp_connect_latency_seconds_bucket{le=\"0.002097152\"}", 1);
	expect(out, "disco_tcp_netstat_delta_listen_overflows_total", 3);
	expect(out, "disco_tcp_netstat_delta_tcp_backlog_drop_total", 4);
	assert_non_null(strstr(out, "# TYPE disco_tcp_outstanding_bytes gauge\n"));
	expect(out, "disco_tcp_outstanding_bytes", 10);
	/* per-second averages are left to rate(); abbreviated units spelled out (promtool lint) */
	assert_null(strstr(out, "per_sec"));
	assert_null(strstr(out, "iops"));
	expect(out, "disco_tcp_queue_kilobyte_total", 3);
	/* the session's length is disco_session_duration_seconds, not per collector */
	assert_null(strstr(out, "elapsed"));
	expect(out, "disco_tcp_disks_requests_total{disk=\"sda\",op=\"read\"}", 5);
	expect(out, "disco_tcp_disks_max_latency_seconds{disk=\"sda\",op=\"read\"}", 0.000002);
	expect(out, "disco_tcp_disks_latency_seconds_count{disk=\"sda\",op=\"read\"}", 1);
	expect(out, "disco_tcp_endpoints_by_key_connections_total{key=\"10.0.0.1:80\",comm=\"curl\"}", 2);
	/* events, settings, negative counters, booleans and strings are not metrics */
	assert_null(strstr(out, "outliers"));
	assert_null(strstr(out, "filters"));
	assert_null(strstr(out, "sampling"));
	assert_null(strstr(out, "retransmits"));
	assert_null(strstr(out, "enabled"));
	assert_null(strstr(out, "disco_tcp_key"));
	free(out);
	json_decref(rep);
}

static void test_prom_duplicate_label_sets_emitted_once(void **state)
{
	json_t *rep;
	char *out;

	(void)state;
	rep = report_with("bio", json_pack("{s:[{s:s, s:i}, {s:s, s:i}]}", "disks",
		"disk", "sda", "requests", 1, "disk", "sda", "requests", 2));
	out = render(rep, 10);
	assert_int_equal(count_lines_starting(out, "disco_bio_disks_requests_total{disk=\"sda\"}"), 1);
	free(out);
	json_decref(rep);
}

static void test_prom_hostile_shapes_do_not_break_output(void **state)
{
	json_t *deep = json_pack("{s:i}", "x", 1), *rep;
	char *out;

	(void)state;
	for (int i = 0; i < 50; i++)
		deep = json_pack("{s:o}", "n", deep);
	rep = json_pack("{s:s, s:i, s:[], s:{s:i, s:o, s:{s:[i], s:{s:[[i]], s:i}, s:i, s:{s:i}}}}",
		"schema", "disco.report/1", "session", 5, "cost",
		"collectors", "weird", 1, "deep", deep, "c",
		"hooks", 1, "buckety", "buckets", 7, "count", 1,
		"drops", -3, "le", "quantile", 4);
	out = render(rep, 10);
	check_families_grouped(out);
	expect(out, "disco_drops_total{collector=\"c\"}", 0);
	/* a key named like a reserved label is renamed, the metric name is safe */
	expect(out, "disco_c_le_quantile_total", 4);
	free(out);
	json_decref(rep);
}

/* Hundreds of families: the family table grows while samples are being written. */
static void test_prom_many_families_survive_table_growth(void **state)
{
	json_t *col = json_object(), *rep;
	char key[32], series[64], *out;

	(void)state;
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "counter%d", i);
		json_object_set_new(col, key, json_integer(i));
	}
	rep = report_with("many", col);
	out = render(rep, 10);
	check_families_grouped(out);
	for (int i = 0; i < 300; i += 37) {
		snprintf(series, sizeof(series), "disco_many_counter%d_total", i);
		expect(out, series, i);
	}
	assert_int_equal(count_lines_starting(out, "# TYPE disco_many_"), 300);
	free(out);
	json_decref(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_buckets_cumulative_exact_at_powers_of_two),
		cmocka_unit_test(test_prom_bytes_distribution_stays_in_bytes),
		cmocka_unit_test(test_prom_label_values_escaped),
		cmocka_unit_test(test_prom_each_family_once_with_series_grouped),
		cmocka_unit_test(test_prom_rows_past_max_series_fold_into_other_and_are_counted),
		cmocka_unit_test(test_prom_default_sums_processes_per_cgroup_without_pid_labels),
		cmocka_unit_test(test_prom_default_drops_process_rows_with_no_other_label),
		cmocka_unit_test(test_prom_machine_rows_are_never_folded),
		cmocka_unit_test(test_prom_names_say_total_once_and_skip_elapsed),
		cmocka_unit_test(test_prom_unknown_collector_follows_naming_rule),
		cmocka_unit_test(test_prom_duplicate_label_sets_emitted_once),
		cmocka_unit_test(test_prom_hostile_shapes_do_not_break_output),
		cmocka_unit_test(test_prom_many_families_survive_table_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
