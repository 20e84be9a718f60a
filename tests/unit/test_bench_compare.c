// SPDX-License-Identifier: GPL-2.0
/* Unit tests: bench statistics and the baseline comparison CI exits on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "bench.h"

static void add_ops(struct bench_series *s, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct bench_sample x = { .ops_per_sec = v[i], .ops = (uint64_t)v[i],
					  .elapsed_ns = 1000000000ULL };

		assert_int_equal(bench_samples_add(&s->traced, &x), 0);
	}
}

static void add_lat(struct bench_series *s, const uint64_t *p99, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct bench_sample x = { .ops_per_sec = 1000, .has_latency = true,
					  .lat_count = 100, .p50_ns = p99[i] / 2,
					  .p99_ns = p99[i] };

		assert_int_equal(bench_samples_add(&s->traced, &x), 0);
	}
}

static void init_result(struct bench_result *r, const char *kernel)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->hostname, "host");
	strcpy(r->model, "cpu");
	strcpy(r->kernel, kernel);
	strcpy(r->version, "test");
	r->cpus = 2;
	r->repeat = 5;
	r->duration_ns = 1000000000ULL;
}

/* One figure "sched_pinned" with the given ops/s repeats on each side. */
static int compare_ops(const double *b, size_t nb, const double *n, size_t nn,
		       double pct, struct bench_cmp *row)
{
	static struct bench_result base, now;
	struct bench_cmp rows[BENCH_MAX_CMP];
	size_t nrows;
	int ret;

	init_result(&base, "6.1");
	init_result(&now, "6.1");
	add_ops(bench_result_add_series(&base, "sched_pinned", "sched", "sched", "round_trip"),
		b, nb);
	add_ops(bench_result_add_series(&now, "sched_pinned", "sched", "sched", "round_trip"),
		n, nn);
	ret = bench_compare(&base, &now, pct, rows, BENCH_MAX_CMP, &nrows);
	assert_int_equal(nrows, 1);
	if (row)
		*row = rows[0];
	bench_result_free(&base);
	bench_result_free(&now);
	return ret;
}

static void test_stats_median_min_max_spread(void **state)
{
	const double v[] = { 90, 110, 100, 95, 105 };
	const double even[] = { 4, 1, 3, 2 };
	struct bench_stats st;

	bench_stats_of(v, 5, &st);
	assert_int_equal(st.n, 5);
	assert_true(st.median == 100);
	assert_true(st.min == 90);
	assert_true(st.max == 110);
	assert_true(st.spread > 0.1999 && st.spread < 0.2001);
	bench_stats_of(even, 4, &st);
	assert_true(st.median == 2.5);
	bench_stats_of(v, 1, &st);
	assert_true(st.spread == 0);
}

static void test_compare_regression_beyond_threshold_and_spread_fails(void **state)
{
	/* 2% spread on both sides, throughput down 20%, threshold 10% */
	const double b[] = { 1000, 990, 1010, 1005, 995 };
	const double n[] = { 800, 790, 810, 805, 795 };
	struct bench_cmp row;

	assert_int_equal(compare_ops(b, 5, n, 5, 10, &row), 1);
	assert_true(row.regress);
	assert_true(row.worse);
	assert_true(row.change < -0.19 && row.change > -0.21);
}

static void test_compare_within_noise_passes(void **state)
{
	/* down 15% (> 10% threshold) but the baseline itself spread 40% */
	const double b[] = { 1000, 800, 1200, 1100, 900 };
	const double n[] = { 850, 845, 855, 850, 850 };
	struct bench_cmp row;

	assert_int_equal(compare_ops(b, 5, n, 5, 10, &row), 0);
	assert_true(row.worse);
	assert_false(row.regress);
	assert_true(row.threshold > 0.39);
}

static void test_compare_noise_on_now_side_also_excuses(void **state)
{
	const double b[] = { 1000, 1000, 1000 };
	const double n[] = { 850, 500, 1100 };

	assert_int_equal(compare_ops(b, 3, n, 3, 10, NULL), 0);
}

static void test_compare_below_threshold_passes(void **state)
{
	const double b[] = { 1000, 1000, 1000 };
	const double n[] = { 950, 950, 950 };

	assert_int_equal(compare_ops(b, 3, n, 3, 10, NULL), 0);
	/* the same 5% drop fails a 2% threshold with no spread */
	assert_int_equal(compare_ops(b, 3, n, 3, 2, NULL), 1);
}

static void test_compare_improvement_passes(void **state)
{
	const double b[] = { 1000, 1000, 1000 };
	const double n[] = { 1500, 1500, 1500 };
	struct bench_cmp row;

	assert_int_equal(compare_ops(b, 3, n, 3, 1, &row), 0);
	assert_false(row.worse);
	assert_true(row.change > 0.49 && row.change < 0.51);
}

static void test_compare_latency_increase_is_a_regression(void **state)
{
	static struct bench_result base, now;
	const uint64_t lb[] = { 10000, 10000, 10000 }, ln[] = { 20000, 20000, 20000 };
	struct bench_cmp rows[BENCH_MAX_CMP];
	size_t nrows;

	init_result(&base, "6.1");
	init_result(&now, "6.18");
	add_lat(bench_result_add_series(&base, "tcp", "tcp", "tcp", "connection"), lb, 3);
	add_lat(bench_result_add_series(&now, "tcp", "tcp", "tcp", "connection"), ln, 3);
	/* ops equal; p50 and p99 doubled: two regressions */
	assert_int_equal(bench_compare(&base, &now, 10, rows, BENCH_MAX_CMP, &nrows), 2);
	assert_int_equal(nrows, 3);
	assert_int_equal(rows[0].metric, BM_OPS);
	assert_false(rows[0].regress);
	assert_true(rows[1].regress && rows[2].regress);
	/* and lower latency is an improvement */
	assert_int_equal(bench_compare(&now, &base, 10, rows, BENCH_MAX_CMP, &nrows), 0);
	bench_result_free(&base);
	bench_result_free(&now);
}

static void test_compare_missing_figures_are_noted_not_failed(void **state)
{
	static struct bench_result base, now;
	const double v[] = { 1000 };
	struct bench_cmp rows[BENCH_MAX_CMP];
	size_t nrows;

	init_result(&base, "6.1");
	init_result(&now, "6.1");
	add_ops(bench_result_add_series(&base, "io_randread", "io", "bio", "read_4k"), v, 1);
	add_ops(bench_result_add_series(&now, "alloc", "alloc", "alloc", "malloc_free"), v, 1);
	assert_int_equal(bench_compare(&base, &now, 10, rows, BENCH_MAX_CMP, &nrows), 0);
	assert_int_equal(nrows, 2);
	assert_string_equal(rows[0].name, "alloc");
	assert_string_equal(rows[0].note, "not in baseline");
	assert_string_equal(rows[1].name, "io_randread");
	assert_string_equal(rows[1].note, "not run now");
	bench_result_free(&base);
	bench_result_free(&now);
}

static void test_compare_print_notes_kernel_mismatch(void **state)
{
	static struct bench_result base, now;
	const double b[] = { 1000 }, n[] = { 500 };
	struct bench_cmp rows[BENCH_MAX_CMP];
	size_t nrows;
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	init_result(&base, "6.1.0-56-amd64");
	init_result(&now, "6.18.44");
	add_ops(bench_result_add_series(&base, "tcp", "tcp", "tcp", "connection"), b, 1);
	add_ops(bench_result_add_series(&now, "tcp", "tcp", "tcp", "connection"), n, 1);
	assert_int_equal(bench_compare(&base, &now, 10, rows, BENCH_MAX_CMP, &nrows), 1);
	bench_compare_print(f, &base, &now, 10, rows, nrows);
	fclose(f);
	assert_non_null(strstr(buf, "kernels differ (6.1.0-56-amd64 -> 6.18.44)"));
	assert_non_null(strstr(buf, "REGRESSION"));
	assert_non_null(strstr(buf, "-50.0%"));
	bench_result_free(&base);
	bench_result_free(&now);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_median_min_max_spread),
		cmocka_unit_test(test_compare_regression_beyond_threshold_and_spread_fails),
		cmocka_unit_test(test_compare_within_noise_passes),
		cmocka_unit_test(test_compare_noise_on_now_side_also_excuses),
		cmocka_unit_test(test_compare_below_threshold_passes),
		cmocka_unit_test(test_compare_improvement_passes),
		cmocka_unit_test(test_compare_latency_increase_is_a_regression),
		cmocka_unit_test(test_compare_missing_figures_are_noted_not_failed),
		cmocka_unit_test(test_compare_print_notes_kernel_mismatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
