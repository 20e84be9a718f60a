// SPDX-License-Identifier: GPL-2.0
/* Unit tests of disco top's frames: interval = current minus previous cumulative histogram. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "out_top.h"

static void test_top_interval_is_difference_of_cumulative(void **state)
{
	struct hist a = { 0 }, b, iv;
	json_t *ja, *jb;

	(void)state;
	for (int i = 0; i < 100; i++)
		hist_add_value(&a, 1000);	/* before: 100 x 1us */
	b = a;
	for (int i = 0; i < 10; i++)
		hist_add_value(&b, 5000000);	/* the interval: 10 x 5ms */
	ja = hist_to_json(&a, "ns");
	jb = hist_to_json(&b, "ns");
	assert_int_equal(hist_interval(jb, ja, "ns", &iv), 0);
	assert_int_equal(iv.count, 10);
	assert_int_equal(iv.sum, 50000000);
	assert_int_equal(iv.max, 5000000);	/* grew in the interval: exact */
	/* the 1us samples of before are gone from the interval's percentiles */
	assert_true(hist_percentile(&iv, 0.5) > 4800000 && hist_percentile(&iv, 0.5) < 5200000);

	/* no previous snapshot: everything is new */
	assert_int_equal(hist_interval(jb, NULL, "ns", &iv), 0);
	assert_int_equal(iv.count, 110);

	/* nothing new: empty interval */
	assert_int_equal(hist_interval(jb, jb, "ns", &iv), 0);
	assert_int_equal(iv.count, 0);
	assert_int_equal(iv.max, 0);
	assert_int_equal(hist_percentile(&iv, 0.99), 0);

	assert_int_equal(hist_interval(json_object_get(jb, "buckets"), ja, "ns", &iv), -EINVAL);
	json_decref(ja);
	json_decref(jb);
}

static void test_top_interval_max_bounded_when_not_grown(void **state)
{
	struct hist a = { 0 }, b, iv;
	json_t *ja, *jb;

	(void)state;
	hist_add_value(&a, 90000000);	/* the old max: 90ms */
	b = a;
	hist_add_value(&b, 2000);	/* new sample 2000ns, in slot [1984, 2048) */
	ja = hist_to_json(&a, "ns");
	jb = hist_to_json(&b, "ns");
	assert_int_equal(hist_interval(jb, ja, "ns", &iv), 0);
	assert_int_equal(iv.count, 1);
	/* not the cumulative 90ms: the top of the highest bucket that got samples */
	assert_true(iv.max >= 2000 && iv.max < 2048);
	json_decref(ja);
	json_decref(jb);
}

static json_t *snapshot(uint64_t dur_ns, int a_samples, int b_samples, uint64_t switches)
{
	struct hist all = { 0 }, ha = { 0 }, hb = { 0 };

	for (int i = 0; i < a_samples; i++) {
		hist_add_value(&ha, 3000000);
		hist_add_value(&all, 3000000);
	}
	for (int i = 0; i < b_samples; i++) {
		hist_add_value(&hb, 10000);
		hist_add_value(&all, 10000);
	}
	return json_pack("{s:{s:s, s:s, s:I}, s:{s:{s:o, s:{s:I}, s:I, s:i, s:[{s:i, s:s, s:o}, {s:i, s:s, s:o}]}}}",
		"session", "hostname", "h", "kernel", "k", "duration_ns", (json_int_t)dur_ns,
		"collectors", "sched", "runq_latency", hist_to_json(&all, "ns"),
		"switches", "voluntary", (json_int_t)switches, "events", (json_int_t)(dur_ns / 1000000),
		"drops", 0,
		"processes", "pid", 11, "comm", "slowpoke", "runq_latency", hist_to_json(&ha, "ns"),
		"pid", 22, "comm", "busy\x1b[2J", "runq_latency", hist_to_json(&hb, "ns"));
}

static void test_top_frame_shows_interval_rates_and_worst_process(void **state)
{
	struct top_opts o = { .rows = 5 };
	json_t *prev = snapshot(1000000000, 0, 1000, 500), *cur = snapshot(3000000000ULL, 20, 1500, 2500);
	char *buf = NULL, *p11, *p22;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	top_render(f, prev, cur, &o);
	fclose(f);
	/* 2 s apart: 520 new samples = 260/s, switches 2000 more = 1000/s */
	assert_non_null(strstr(buf, "interval 2.00s"));
	assert_non_null(strstr(buf, "runq_latency     260.0"));	/* name column sized from the data */
	assert_non_null(strstr(buf, "switches.voluntary 1000/s"));
	/* 11 waited 60ms in the interval, 22 only 5ms: 11 comes first */
	p11 = strstr(buf, "11 slowpoke");
	p22 = strstr(buf, "22 busy?[2J");	/* comm bytes never reach the terminal raw */
	assert_non_null(p11);
	assert_non_null(p22);
	assert_true(p11 < p22);
	assert_null(strchr(buf, '\x1b'));
	assert_null(strstr(buf, "q quits"));	/* not a terminal */
	free(buf);
	json_decref(prev);
	json_decref(cur);
}

static char *frame(const json_t *prev, const json_t *cur, const struct top_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	top_render(f, prev, cur, o);
	fclose(f);
	return buf;
}

/* Every line fits; a data line ends with a whole value (digits and a unit, or "-"). */
static void assert_fits(char *buf, int width)
{
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		size_t n = strlen(l);

		assert_true((int)n <= width);
	}
}

static void test_top_narrow_terminal_drops_whole_columns(void **state)
{
	struct top_opts o = { .rows = 5, .width = 80 };
	json_t *prev = snapshot(1000000000, 0, 1000, 500), *cur = snapshot(3000000000ULL, 20, 1500, 2500);
	char *buf;

	(void)state;
	buf = frame(prev, cur, &o);
	/* 80 columns: the since-start group is left out whole, the interval's kept */
	assert_null(strstr(buf, "since start"));
	assert_non_null(strstr(buf, "last interval"));
	assert_non_null(strstr(buf, "total/s"));
	assert_fits(buf, 80);
	free(buf);
	o.width = 200;
	buf = frame(prev, cur, &o);
	assert_non_null(strstr(buf, "since start"));
	free(buf);
	/* 40 columns: the rows keep p99 and count/s, not half a value */
	o.width = 40;
	buf = frame(prev, cur, &o);
	assert_non_null(strstr(buf, "p99"));
	assert_null(strstr(buf, "total/s"));
	assert_fits(buf, 40);
	free(buf);
	json_decref(prev);
	json_decref(cur);
}

static void test_top_sort_filter_and_self(void **state)
{
	struct top_opts o = { .rows = 5, .sort = TOP_SORT_COUNT };
	json_t *prev = snapshot(1000000000, 0, 1000, 500), *cur = snapshot(3000000000ULL, 20, 1500, 2500);
	char *buf;

	(void)state;
	/* by count: 22 (500 new waits) before 11 (20) */
	buf = frame(prev, cur, &o);
	assert_true(strstr(buf, "22 busy") < strstr(buf, "11 slowpoke"));
	assert_non_null(strstr(buf, "sort count"));
	free(buf);
	/* by p99: 11 (3 ms) first */
	o.sort = TOP_SORT_P99;
	buf = frame(prev, cur, &o);
	assert_true(strstr(buf, "11 slowpoke") < strstr(buf, "22 busy"));
	free(buf);
	/* a filter keeps the rows whose name holds it */
	o.filter = "slow";
	buf = frame(prev, cur, &o);
	assert_non_null(strstr(buf, "11 slowpoke"));
	assert_null(strstr(buf, "22 busy"));
	assert_non_null(strstr(buf, "filter slow"));
	free(buf);
	/* disco's own pid is hidden until asked for */
	o.filter = NULL;
	o.self_pid = 22;
	buf = frame(prev, cur, &o);
	assert_null(strstr(buf, "22 busy"));
	assert_non_null(strstr(buf, "(disco hidden)"));
	free(buf);
	o.show_self = true;
	buf = frame(prev, cur, &o);
	assert_non_null(strstr(buf, "22 busy"));
	free(buf);
	json_decref(prev);
	json_decref(cur);
}

static void test_top_colour_marks_slow_values_only_when_on(void **state)
{
	struct top_opts o = { .rows = 5, .colour = true, .realtime_ns = 1700000000000000000ULL };
	json_t *prev = snapshot(1000000000, 0, 1000, 500), *cur = snapshot(3000000000ULL, 20, 1500, 2500);
	char *buf;

	(void)state;
	buf = frame(prev, cur, &o);
	/* 11's 3 ms p99: yellow; the 10 us of 22: plain */
	assert_non_null(strstr(buf, "\033[33m"));
	assert_non_null(strstr(buf, "\033[0m"));
	/* the wall clock in the header */
	{
		int hh, mm, ss;

		assert_int_equal(sscanf(buf, "disco top  %d:%d:%d ", &hh, &mm, &ss), 3);
	}
	free(buf);
	o.colour = false;
	buf = frame(prev, cur, &o);
	assert_null(strchr(buf, '\033'));
	free(buf);
	json_decref(prev);
	json_decref(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_interval_is_difference_of_cumulative),
		cmocka_unit_test(test_top_interval_max_bounded_when_not_grown),
		cmocka_unit_test(test_top_frame_shows_interval_rates_and_worst_process),
		cmocka_unit_test(test_top_narrow_terminal_drops_whole_columns),
		cmocka_unit_test(test_top_sort_filter_and_self),
		cmocka_unit_test(test_top_colour_marks_slow_values_only_when_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
