// SPDX-License-Identifier: GPL-2.0
/* Text report helpers: units, hook words shared with `check`, idle collectors. */
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
#include "report.h"

static void test_fmt_bytes_moves_to_the_next_unit_at_1024(void **state)
{
	char b[16];

	(void)state;
	assert_string_equal(fmt_bytes(0, b, sizeof(b)), "0B");
	assert_string_equal(fmt_bytes(1023, b, sizeof(b)), "1023B");
	assert_string_equal(fmt_bytes(1024, b, sizeof(b)), "1.00KiB");
	assert_string_equal(fmt_bytes(52 * 1024, b, sizeof(b)), "52.0KiB");
	/* the report of the issue: 2988.0KiB reads 2.92MiB */
	assert_string_equal(fmt_bytes(2988 * 1024, b, sizeof(b)), "2.92MiB");
	assert_string_equal(fmt_bytes(1023 * 1024, b, sizeof(b)), "1023KiB");
	assert_string_equal(fmt_bytes(1048575, b, sizeof(b)), "1.00MiB");
	assert_string_equal(fmt_bytes(5ULL << 40, b, sizeof(b)), "5.00TiB");
	assert_string_equal(fmt_bytes(UINT64_MAX, b, sizeof(b)), "16.0EiB");
}

static void test_hook_word_says_opt_in_for_a_hook_an_option_turns_on(void **state)
{
	json_t *on = json_pack("{s:s, s:s}", "hook", "a", "method", "tp_btf");
	json_t *off = json_pack("{s:s, s:n, s:s}", "hook", "b", "method", "reason", "off: --x hooks it");
	json_t *nn = json_pack("{s:s, s:n, s:s, s:b}", "hook", "c", "method", "reason",
			       "not needed: d is used instead", "not_needed", 1);
	json_t *un = json_pack("{s:s, s:n, s:s}", "hook", "d", "method", "reason", "no such tracepoint");

	(void)state;
	assert_string_equal(hook_state_word(on), "tp_btf");
	assert_string_equal(hook_state_word(off), "opt-in");
	assert_string_equal(hook_state_word(nn), "not needed");
	assert_string_equal(hook_state_word(un), "unavailable");
	json_decref(on);
	json_decref(off);
	json_decref(nn);
	json_decref(un);
}

static void test_hooks_line_wraps_under_80_columns(void **state)
{
	json_t *hooks = json_array();
	char *buf = NULL, *line;
	size_t len = 0;
	int lines = 0;
	FILE *f;

	(void)state;
	for (int i = 0; i < 9; i++) {
		char name[40];

		snprintf(name, sizeof(name), "sock:some_long_tracepoint_%d", i);
		json_array_append_new(hooks, json_pack("{s:s, s:s}", "hook", name, "method", "tp_btf"));
	}
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	report_print_hooks(f, hooks);
	fclose(f);
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		assert_true(strlen(line) <= 80);
		lines++;
	}
	assert_true(lines >= 4);	/* 9 items of 35 characters: two per line */
	free(buf);
	json_decref(hooks);
}

static void test_collector_without_samples_is_idle(void **state)
{
	struct hist h = { 0 };
	json_t *idle = json_pack("{s:i, s:i, s:o, s:{s:o}}", "events", 0, "drops", 0,
				 "connect_latency", hist_to_json(&h, "ns"),
				 "per_disk", "vda", hist_to_json(&h, "ns"));
	json_t *busy;

	(void)state;
	assert_true(report_collector_idle(idle));
	/* one sample two levels down is enough to be shown */
	hist_add_value(&h, 5000);
	busy = json_pack("{s:i, s:i, s:{s:o}}", "events", 0, "drops", 0,
			 "per_disk", "vda", hist_to_json(&h, "ns"));
	assert_false(report_collector_idle(busy));
	/* so are lost events */
	json_object_set_new(idle, "drops", json_integer(1));
	assert_false(report_collector_idle(idle));
	json_decref(idle);
	json_decref(busy);
}

static void test_filters_line_names_every_active_filter_and_no_default(void **state)
{
	json_t *f = json_loads("{\"pids\": [42, 43], \"target_pid\": 0, \"cgroup\": \"\","
			       " \"comm\": \"nginx\", \"min_latency_ns\": 3000000,"
			       " \"collectors\": {\"bio\": {\"disk\": [\"vda\", \"7:0\"]},"
			       " \"zz\": {\"flag\": true, \"sample_bytes\": 4096}}}", 0, NULL);
	char b[256];

	(void)state;
	assert_non_null(f);
	assert_int_equal(report_describe_filters(f, b, sizeof(b)), 6);
	assert_string_equal(b, "pids=42,43, comm=nginx, min_latency=3.0ms; bio: disk=vda,7:0; "
			    "zz: flag, sample=4.00KiB");
	/* bounded: a short buffer is cut, never overrun */
	assert_int_equal(report_describe_filters(f, b, 12), 6);
	assert_string_equal(b, "pids=42,43,");
	json_decref(f);
}

static void test_filters_line_is_empty_for_a_whole_machine_session(void **state)
{
	json_t *f = json_loads("{\"pids\": [], \"target_pid\": 0, \"cgroup\": \"\", \"comm\": \"\","
			       " \"min_latency_ns\": 0, \"collectors\": {}}", 0, NULL);
	char b[64];

	(void)state;
	assert_int_equal(report_describe_filters(f, b, sizeof(b)), 0);
	assert_string_equal(b, "");
	/* a session file from before filters were recorded */
	assert_int_equal(report_describe_filters(NULL, b, sizeof(b)), 0);
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_bytes_moves_to_the_next_unit_at_1024),
		cmocka_unit_test(test_hook_word_says_opt_in_for_a_hook_an_option_turns_on),
		cmocka_unit_test(test_hooks_line_wraps_under_80_columns),
		cmocka_unit_test(test_collector_without_samples_is_idle),
		cmocka_unit_test(test_filters_line_names_every_active_filter_and_no_default),
		cmocka_unit_test(test_filters_line_is_empty_for_a_whole_machine_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
