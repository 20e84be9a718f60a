// SPDX-License-Identifier: GPL-2.0
/* Unit tests: bench JSON writing, strict reading of baselines, latency lookup. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bench.h"
#include "hist.h"

static struct bench_result a, b;

static void make_result(struct bench_result *r)
{
	struct bench_series *s;

	memset(r, 0, sizeof(*r));
	strcpy(r->hostname, "box");
	strcpy(r->model, "AMD EPYC");
	strcpy(r->kernel, "6.1.0-56-amd64");
	strcpy(r->version, "v1");
	r->cpus = 2;
	r->repeat = 2;
	r->duration_ns = 1000000000ULL;
	r->overhead = true;
	s = bench_result_add_series(r, "sched_pinned", "sched", "sched", "round_trip");
	for (int i = 0; i < 2; i++) {
		struct bench_sample x = { .ops_per_sec = 1234.5 + i, .ops = 1234 + i,
					  .elapsed_ns = 1000000000ULL + i, .has_latency = true,
					  .lat_count = 77, .p50_ns = 1000 + i, .p99_ns = 9000 + i };
		struct bench_sample u = { .ops_per_sec = 2000 + i, .ops = 2000 + i,
					  .elapsed_ns = 1000000000ULL };

		assert_int_equal(bench_samples_add(&s->traced, &x), 0);
		assert_int_equal(bench_samples_add(&s->untraced, &u), 0);
	}
	s = bench_result_add_series(r, "alloc", "alloc", "alloc", "malloc_free");
	strcpy(s->latency_note, "collector alloc is not built into this disco");
	struct bench_sample y = { .ops_per_sec = 5e6, .ops = 5000000, .elapsed_ns = 1000000000ULL };
	assert_int_equal(bench_samples_add(&s->traced, &y), 0);
}

static int parse_text(const char *text, struct bench_result *r, char *err, size_t len)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	int ret;

	assert_non_null(j);
	ret = bench_result_from_json(j, r, err, len);
	json_decref(j);
	return ret;
}

static void test_json_round_trip_keeps_every_figure(void **state)
{
	char err[256];
	json_t *j;
	char *text;

	make_result(&a);
	j = bench_result_to_json(&a);
	assert_non_null(j);
	text = json_dumps(j, 0);
	json_decref(j);
	assert_int_equal(parse_text(text, &b, err, sizeof(err)), 0);
	free(text);

	assert_string_equal(b.hostname, a.hostname);
	assert_string_equal(b.model, a.model);
	assert_string_equal(b.kernel, a.kernel);
	assert_string_equal(b.version, a.version);
	assert_int_equal(b.cpus, 2);
	assert_int_equal(b.repeat, 2);
	assert_int_equal(b.duration_ns, a.duration_ns);
	assert_true(b.overhead);
	assert_int_equal(b.nseries, 2);
	for (size_t i = 0; i < a.nseries; i++) {
		const struct bench_series *x = &a.series[i], *y = &b.series[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->workload, y->workload);
		assert_string_equal(x->collector, y->collector);
		assert_string_equal(x->unit, y->unit);
		assert_string_equal(x->latency_note, y->latency_note);
		assert_int_equal(x->traced.n, y->traced.n);
		assert_int_equal(x->untraced.n, y->untraced.n);
		for (size_t k = 0; k < x->traced.n; k++) {
			assert_true(x->traced.v[k].ops_per_sec == y->traced.v[k].ops_per_sec);
			assert_int_equal(x->traced.v[k].ops, y->traced.v[k].ops);
			assert_int_equal(x->traced.v[k].elapsed_ns, y->traced.v[k].elapsed_ns);
			assert_int_equal(x->traced.v[k].has_latency, y->traced.v[k].has_latency);
			assert_int_equal(x->traced.v[k].p50_ns, y->traced.v[k].p50_ns);
			assert_int_equal(x->traced.v[k].p99_ns, y->traced.v[k].p99_ns);
			assert_int_equal(x->traced.v[k].lat_count, y->traced.v[k].lat_count);
		}
	}
	bench_result_free(&a);
	bench_result_free(&b);
}

static void test_json_has_documented_keys(void **state)
{
	json_t *j, *w;

	make_result(&a);
	j = bench_result_to_json(&a);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "disco.bench/1");
	assert_string_equal(json_string_value(json_object_get(j, "kernel_release")),
			    "6.1.0-56-amd64");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "machine"),
							    "cpus")), 2);
	w = json_object_get(json_object_get(j, "workloads"), "sched_pinned");
	assert_true(json_real_value(json_object_get(w, "median")) == 1235.0);
	assert_true(json_real_value(json_object_get(w, "min")) == 1234.5);
	assert_true(json_real_value(json_object_get(w, "max")) == 1235.5);
	assert_non_null(json_object_get(w, "spread"));
	assert_int_equal(json_array_size(json_object_get(w, "repeats")), 2);
	assert_true(json_real_value(json_object_get(json_object_get(w, "latency_p99_ns"),
						    "median")) == 9000.5);
	assert_true(json_real_value(json_object_get(w, "overhead_ratio")) ==
		    1235.0 / 2000.5);
	w = json_object_get(json_object_get(j, "workloads"), "alloc");
	assert_string_equal(json_string_value(json_object_get(w, "latency_unavailable")),
			    "collector alloc is not built into this disco");
	json_decref(j);
	bench_result_free(&a);
}

#define HDR "{\"schema\":\"disco.bench/1\",\"machine\":{\"hostname\":\"h\",\"cpus\":2}," \
	    "\"kernel_release\":\"6.1\","

static void test_baseline_rejects_hostile_input(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "[]", "not a JSON object" },
		{ "{\"schema\":\"disco.report/1\"}", "schema" },
		{ "{\"schema\":\"disco.bench/1\"}", "machine" },
		{ HDR "\"workloads\":{}}", "empty" },
		{ HDR "\"workloads\":{\"x\":{\"workload\":\"sched\",\"repeats\":[]}}}", "no repeats" },
		{ HDR "\"workloads\":{\"x\":{\"workload\":\"sched\",\"repeats\":[{\"ops_per_sec\":-1}]}}}",
		  "malformed" },
		{ HDR "\"workloads\":{\"x\":{\"workload\":\"sched\",\"repeats\":[{\"ops_per_sec\":\"1\"}]}}}",
		  "malformed" },
		{ HDR "\"workloads\":{\"x\":{\"workload\":\"sched\",\"repeats\":[{\"ops_per_sec\":1,\"latency_p99_ns\":5}]}}}",
		  "together" },
		{ HDR "\"workloads\":{\"bad name\\u001b[31m\":{\"workload\":\"sched\",\"repeats\":[{\"ops_per_sec\":1}]}}}",
		  "workload name" },
		{ HDR "\"workloads\":{\"x\":{\"workload\":\"../etc\",\"repeats\":[{\"ops_per_sec\":1}]}}}",
		  "[a-z0-9_]" },
		{ HDR "\"workloads\":{\"x\":{\"workload\":\"sched\",\"repeats\":{}}}}", "not an array" },
		{ HDR "\"repeat\":1e300,\"workloads\":{\"x\":{\"workload\":\"sched\",\"repeats\":[{\"ops_per_sec\":1}]}}}",
		  "repeat" },
		{ "{\"schema\":\"disco.bench/1\",\"machine\":{\"hostname\":5},\"kernel_release\":\"6.1\"}",
		  "hostname" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		assert_int_equal(parse_text(cases[i].text, &b, err, sizeof(err)), -22);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: error '%s' does not mention '%s'", i, err, cases[i].err);
		assert_int_equal(b.nseries, 0);
	}
}

static void test_baseline_too_many_repeats_rejected(void **state)
{
	json_t *j = json_loads(HDR "\"workloads\":{\"x\":{\"workload\":\"sched\",\"repeats\":[]}}}",
			       0, NULL);
	json_t *rep = json_object_get(json_object_get(json_object_get(j, "workloads"), "x"),
				      "repeats");
	char err[256];

	for (int i = 0; i <= BENCH_MAX_REPEAT; i++)
		json_array_append_new(rep, json_pack("{s:f}", "ops_per_sec", 1.0));
	assert_int_equal(bench_result_from_json(j, &b, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "more than 1000"));
	json_decref(j);
}

static void test_baseline_control_bytes_in_text_are_replaced(void **state)
{
	char err[256];

	assert_int_equal(parse_text("{\"schema\":\"disco.bench/1\",\"machine\":{\"hostname\":\"a\\u001b]0;x\\u0007b\"},"
				    "\"kernel_release\":\"6.1\",\"workloads\":{\"x\":{\"workload\":\"sched\","
				    "\"repeats\":[{\"ops_per_sec\":1}]}}}", &b, err, sizeof(err)), 0);
	assert_string_equal(b.hostname, "a?]0;x?b");
	bench_result_free(&b);
}

/* A snapshot where w's collector holds n values v in w's latency histogram. */
static json_t *report_with(const struct bench_workload *w, const char *key, uint64_t v, int n)
{
	struct hist h;
	json_t *col;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < n; i++)
		hist_add_value(&h, v);
	col = json_object();
	if (w->hist_array)
		json_object_set_new(col, w->hist_array,
				    json_pack("[{s:s, s:o}]", "disk", "vda", key,
					      hist_to_json(&h, "ns")));
	else
		json_object_set_new(col, key, hist_to_json(&h, "ns"));
	return json_pack("{s:s, s:{s:o}}", "schema", "disco.report/1", "collectors",
			 w->collector, col);
}

static void test_latency_from_report_per_workload(void **state)
{
	struct bench_sample s;
	char note[BENCH_NOTE_MAX];

	for (size_t i = 0; i < bench_nworkloads; i++) {
		const struct bench_workload *w = &bench_workloads[i];
		json_t *r = report_with(w, w->hist_key, 50000, 10);

		memset(&s, 0, sizeof(s));
		assert_int_equal(bench_latency_from_report(r, w, &s, note, sizeof(note)), 0);
		assert_true(s.has_latency);
		assert_int_equal(s.lat_count, 10);
		/* within the histogram's 4% bound */
		assert_in_range(s.p99_ns, 48000, 52000);
		json_decref(r);
	}
	/* the path of a row is what is read: bio's per-disk histograms are merged */
	assert_string_equal(bench_workload_find("io")->hist_array, "disks");
	assert_string_equal(bench_workload_find("sched")->hist_key, "runq_latency");
}

static void test_latency_unavailable_says_why(void **state)
{
	const struct bench_workload *sched = bench_workload_find("sched");
	const struct bench_workload *tcp = bench_workload_find("tcp");
	const struct bench_workload *alloc = bench_workload_find("alloc");
	struct bench_sample s;
	char note[BENCH_NOTE_MAX];
	json_t *r = report_with(sched, "runq_latency", 5, 0);

	assert_int_equal(bench_latency_from_report(r, sched, &s, note, sizeof(note)), -ENODATA);
	assert_false(s.has_latency);
	assert_string_equal(note, "collector sched recorded no events");
	assert_int_equal(bench_latency_from_report(r, tcp, &s, note, sizeof(note)), -ENODATA);
	assert_string_equal(note, "collector tcp returned no data");
	json_decref(r);
	r = report_with(alloc, "sizes", 5, 3);
	assert_int_equal(bench_latency_from_report(r, alloc, &s, note, sizeof(note)), -ENODATA);
	assert_string_equal(note, "collector alloc reports no \"latency\" distribution");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_round_trip_keeps_every_figure),
		cmocka_unit_test(test_json_has_documented_keys),
		cmocka_unit_test(test_baseline_rejects_hostile_input),
		cmocka_unit_test(test_baseline_too_many_repeats_rejected),
		cmocka_unit_test(test_baseline_control_bytes_in_text_are_replaced),
		cmocka_unit_test(test_latency_from_report_per_workload),
		cmocka_unit_test(test_latency_unavailable_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
