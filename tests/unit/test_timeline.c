// SPDX-License-Identifier: GPL-2.0
/* Intervals from cumulative snapshots: differences, merged rows, downsampling. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collector.h"
#include "hist.h"
#include "timeline.h"

/* A report-shaped snapshot at t_ns: n samples of v ns, sw switches, per-disk rows. */
static json_t *snap(uint64_t t_ns, int n, uint64_t v, int sw, int disk_n)
{
	struct hist h = { 0 }, d = { 0 };

	for (int i = 0; i < n; i++)
		hist_add_value(&h, v);
	for (int i = 0; i < disk_n; i++)
		hist_add_value(&d, 100000);
	return json_pack("{s:{s:I}, s:{s:{s:o, s:{s:i}, s:i, s:I}, s:{s:[{s:s, s:o}, {s:s, s:o}]}}}",
			 "session", "duration_ns", (json_int_t)t_ns,
			 "collectors",
			 "sched", "runq_latency", hist_to_json(&h, "ns"), "switches", "voluntary", sw,
			 "migrations", 2, "elapsed_ns", (json_int_t)t_ns,
			 "bio", "disks", "disk", "vda", "latency", hist_to_json(&d, "ns"),
			 "disk", "vdb", "latency", hist_to_json(&d, "ns"));
}

static const json_t *iv_get(const json_t *iv, const char *col, const char *part, const char *key)
{
	return json_object_get(json_object_get(json_object_get(json_object_get(iv, "collectors"), col),
					       part), key);
}

static void test_reduce_keeps_distributions_counters_and_merges_rows(void **state)
{
	json_t *s = snap(2000000000, 10, 5000, 4, 3), *r = timeline_reduce(s);
	const json_t *c;

	(void)state;
	assert_non_null(r);
	assert_int_equal(json_u64(r, "t_ns"), 2000000000);
	c = json_object_get(json_object_get(r, "collectors"), "sched");
	assert_int_equal(json_u64(json_object_get(json_object_get(c, "dists"), "runq_latency"), "count"), 10);
	assert_int_equal(json_u64(json_object_get(c, "counters"), "switches.voluntary"), 4);
	assert_int_equal(json_u64(json_object_get(c, "counters"), "migrations"), 2);
	/* a duration is not a counter */
	assert_null(json_object_get(json_object_get(c, "counters"), "elapsed_ns"));
	/* two disks of 3 requests: one merged distribution of 6 */
	c = json_object_get(json_object_get(r, "collectors"), "bio");
	assert_int_equal(json_u64(json_object_get(json_object_get(c, "dists"), "disks.latency"), "count"), 6);
	assert_string_equal(timeline_primary(json_object_get(c, "dists")), "disks.latency");
	json_decref(s);
	json_decref(r);
}

static void test_delta_is_what_happened_in_between(void **state)
{
	json_t *s1 = snap(2000000000, 10, 5000, 4, 1), *s2 = snap(4000000000, 30, 5000, 9, 1);
	json_t *r1 = timeline_reduce(s1), *r2 = timeline_reduce(s2), *d, *first;

	(void)state;
	d = timeline_delta(r1, r2);
	assert_int_equal(json_u64(d, "start_ns"), 2000000000);
	assert_int_equal(json_u64(d, "end_ns"), 4000000000);
	assert_int_equal(json_u64(iv_get(d, "sched", "dists", "runq_latency"), "count"), 20);
	assert_int_equal(json_integer_value(iv_get(d, "sched", "counters", "switches.voluntary")), 5);
	assert_int_equal(json_integer_value(iv_get(d, "sched", "counters", "migrations")), 0);
	assert_int_equal(json_u64(iv_get(d, "bio", "dists", "disks.latency"), "count"), 0);
	/* from the start: the snapshot itself */
	first = timeline_delta(NULL, r1);
	assert_int_equal(json_u64(first, "start_ns"), 0);
	assert_int_equal(json_u64(iv_get(first, "sched", "dists", "runq_latency"), "count"), 10);
	json_decref(d);
	json_decref(first);
	json_decref(s1);
	json_decref(s2);
	json_decref(r1);
	json_decref(r2);
}

static void test_delta_max_is_bounded_by_the_interval_buckets(void **state)
{
	json_t *s1 = snap(1000000000, 1, 50000000, 0, 0), *s2, *r1, *r2, *d;
	struct hist h = { 0 };

	(void)state;
	/* 50 ms before, then only 1 us samples: the interval's max is not 50 ms */
	hist_add_value(&h, 50000000);
	for (int i = 0; i < 5; i++)
		hist_add_value(&h, 1000);
	s2 = snap(2000000000, 0, 0, 0, 0);
	json_object_set_new(json_object_get(json_object_get(s2, "collectors"), "sched"), "runq_latency",
			    hist_to_json(&h, "ns"));
	r1 = timeline_reduce(s1);
	r2 = timeline_reduce(s2);
	d = timeline_delta(r1, r2);
	assert_int_equal(json_u64(iv_get(d, "sched", "dists", "runq_latency"), "count"), 5);
	assert_true(json_u64(iv_get(d, "sched", "dists", "runq_latency"), "max_ns") < 1100);
	assert_true(json_u64(iv_get(d, "sched", "dists", "runq_latency"), "p99_ns") < 1100);
	json_decref(s1);
	json_decref(s2);
	json_decref(r1);
	json_decref(r2);
	json_decref(d);
}

static void test_intervals_merge_a_final_sliver(void **state)
{
	json_t *snaps = json_array(), *iv;

	(void)state;
	for (int i = 1; i <= 3; i++) {
		json_t *s = snap((uint64_t)i * 2000000000, i * 10, 5000, i, 0);

		assert_int_equal(timeline_add(snaps, timeline_reduce(s)), 0);
		json_decref(s);
	}
	iv = timeline_intervals(snaps);
	assert_int_equal(json_array_size(iv), 3);
	json_decref(iv);
	/* the summary 50 ms after the last state: still three intervals, the last to 6.05 s */
	{
		json_t *s = snap(6050000000ULL, 31, 5000, 3, 0);

		assert_int_equal(timeline_add(snaps, timeline_reduce(s)), 0);
		json_decref(s);
	}
	iv = timeline_intervals(snaps);
	assert_int_equal(json_array_size(iv), 3);
	assert_int_equal(json_u64(json_array_get(iv, 2), "start_ns"), 4000000000ULL);
	assert_int_equal(json_u64(json_array_get(iv, 2), "end_ns"), 6050000000ULL);
	assert_int_equal(json_u64(iv_get(json_array_get(iv, 2), "sched", "dists", "runq_latency"), "count"), 11);
	json_decref(iv);
	json_decref(snaps);
}

static void test_add_downsamples_without_losing_samples(void **state)
{
	json_t *snaps = json_array(), *iv;
	uint64_t total = 0;
	size_t i;
	const json_t *x;

	(void)state;
	for (int k = 1; k <= TIMELINE_MAX_SNAPSHOTS + 1; k++) {
		json_t *s = snap((uint64_t)k * 1000000000, k, 3000, 0, 0);

		assert_int_equal(timeline_add(snaps, timeline_reduce(s)), 0);
		json_decref(s);
	}
	assert_true(json_array_size(snaps) <= TIMELINE_MAX_SNAPSHOTS);
	assert_true(json_array_size(snaps) >= TIMELINE_MAX_SNAPSHOTS / 2);
	iv = timeline_intervals(snaps);
	json_array_foreach(iv, i, x)
		total += json_u64(iv_get(x, "sched", "dists", "runq_latency"), "count");
	/* cumulative snapshots: merged intervals still add up to the last one */
	assert_int_equal(total, TIMELINE_MAX_SNAPSHOTS + 1);
	assert_int_equal(json_u64(json_array_get(iv, json_array_size(iv) - 1), "end_ns"),
			 (uint64_t)(TIMELINE_MAX_SNAPSHOTS + 1) * 1000000000);
	json_decref(iv);
	json_decref(snaps);
}

static void test_interval_line_is_timestamped_per_interval(void **state)
{
	json_t *s1 = snap(1000000000, 4, 5000, 0, 0), *r1 = timeline_reduce(s1), *d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int stamps = 0;

	(void)state;
	d = timeline_delta(NULL, r1);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	timeline_print_interval(f, d, 1700000000000000000ULL);
	fclose(f);
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		int hh, mm, ss;

		if (sscanf(l, "%2d:%2d:%2d ", &hh, &mm, &ss) == 3)
			stamps++;
	}
	assert_int_equal(stamps, 1);	/* one stamp, one line per collector */
	assert_non_null(strstr(buf, "runq_latency"));
	assert_non_null(strstr(buf, "(4/s)"));
	free(buf);
	json_decref(s1);
	json_decref(r1);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reduce_keeps_distributions_counters_and_merges_rows),
		cmocka_unit_test(test_delta_is_what_happened_in_between),
		cmocka_unit_test(test_delta_max_is_bounded_by_the_interval_buckets),
		cmocka_unit_test(test_intervals_merge_a_final_sliver),
		cmocka_unit_test(test_add_downsamples_without_losing_samples),
		cmocka_unit_test(test_interval_line_is_timestamped_per_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
