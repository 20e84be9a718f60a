// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the bench workload table is complete and consistent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bench.h"
#include "collector.h"

/* Names, figures and runners: what cmd_bench and the result JSON rely on. */
static void test_every_workload_row_is_complete_and_unique(void **state)
{
	static struct bench_result r;

	(void)state;
	assert_true(bench_nworkloads > 0 && bench_nworkloads <= BENCH_MAX_WORKLOADS);
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < bench_nworkloads; i++) {
		const struct bench_workload *w = &bench_workloads[i];
		const struct bench_runner *run = w->runner;

		assert_non_null(w->name);
		assert_ptr_equal(bench_workload_find(w->name), w);
		assert_int_equal(bench_workload_bit(w->name), 1u << i);
		assert_non_null(w->hist_key);
		assert_true(w->help && w->help[0]);
		assert_non_null(run);
		assert_true(run->prepare && run->run && run->cleanup);
		/* what setup() creates, teardown() removes */
		assert_true(!run->setup == !run->teardown);
		if (!collector_find(w->collector))
			fail_msg("workload %s names collector %s, which is not built in",
				 w->name, w->collector);
		assert_non_null(w->figures[0].name);
		for (size_t f = 0; f < BENCH_MAX_FIGURES && w->figures[f].name; f++)
			/* a figure name twice, across workloads too, is refused */
			if (!bench_result_add_series(&r, w->figures[f].name, w->name, w->collector,
						     w->figures[f].unit))
				fail_msg("figure %s is in the table twice", w->figures[f].name);
	}
	bench_result_free(&r);
}

static void test_help_lists_every_workload_and_figure(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	bench_workloads_help(f);
	fclose(f);
	for (size_t i = 0; i < bench_nworkloads; i++) {
		const struct bench_workload *w = &bench_workloads[i];
		char head[64];

		snprintf(head, sizeof(head), "\n  %-7s collector %s, ", w->name, w->collector);
		assert_non_null(strstr(text, head));
		assert_non_null(strstr(text, w->hist_key));
		for (size_t k = 0; k < BENCH_MAX_FIGURES && w->figures[k].name; k++)
			assert_non_null(strstr(text, w->figures[k].name));
	}
	free(text);
}

static void test_workload_names_join_the_masked_rows(void **state)
{
	char buf[128];

	(void)state;
	bench_workload_names(bench_workload_bit("tcp") | bench_workload_bit("sched"), ",", buf,
			     sizeof(buf));
	assert_string_equal(buf, "sched,tcp");
	bench_workload_names(0, ",", buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(bench_workload_bit("disk"), 0);
	assert_null(bench_workload_find("disk"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_workload_row_is_complete_and_unique),
		cmocka_unit_test(test_help_lists_every_workload_and_figure),
		cmocka_unit_test(test_workload_names_join_the_masked_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
