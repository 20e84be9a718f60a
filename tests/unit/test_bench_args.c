// SPDX-License-Identifier: GPL-2.0
/* Unit tests: disco bench command-line parsing and its error messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "bench.h"

#define ARGS(...) ((char *[]){ "bench", __VA_ARGS__, NULL })
#define NARGS(...) (int)(sizeof((char *[]){ "bench", __VA_ARGS__ }) / sizeof(char *))

static struct bench_opts o;
static char err[256];

#define PARSE(...) bench_parse_args(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), &o, err, sizeof(err))

static void test_args_defaults(void **state)
{
	char *argv[] = { "bench", NULL };

	assert_int_equal(bench_parse_args(1, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.workloads, (1u << bench_nworkloads) - 1);
	assert_int_equal(o.duration_ns, 5000000000ULL);
	assert_int_equal(o.repeat, 5);
	assert_null(o.json_path);
	assert_false(o.json_stdout);
	assert_null(o.baseline_path);
	assert_false(o.overhead);
	assert_int_equal(o.file_bytes, 64ULL << 20);
}

static void test_args_full_set(void **state)
{
	assert_int_equal(PARSE("--workload", "tcp,sched", "--duration", "500ms", "--repeat", "2",
			       "--json", "out.json", "--baseline", "b.json", "--max-regress", "7.5",
			       "--dir", "/srv", "--file-size", "16"), 0);
	assert_int_equal(o.workloads, bench_workload_bit("tcp") | bench_workload_bit("sched"));
	assert_int_equal(o.duration_ns, 500000000ULL);
	assert_int_equal(o.repeat, 2);
	assert_string_equal(o.json_path, "out.json");
	assert_string_equal(o.baseline_path, "b.json");
	assert_true(o.max_regress_pct == 7.5);
	assert_string_equal(o.dir, "/srv");
	assert_int_equal(o.file_bytes, 16ULL << 20);
	assert_int_equal(PARSE("-d", "1.5", "-r", "1", "-w", "io"), 0);
	assert_int_equal(o.duration_ns, 1500000000ULL);
	assert_int_equal(o.workloads, bench_workload_bit("io"));
}

static void test_args_json_to_stdout_and_output_file(void **state)
{
	assert_int_equal(PARSE("-j", "-w", "sched"), 0);
	assert_true(o.json_stdout);
	assert_null(o.json_path);
	assert_false(o.old_json_spelling);
	assert_int_equal(PARSE("-j", "-o", "r.json", "-q"), 0);
	assert_true(o.json_stdout);
	assert_true(o.quiet);
	assert_string_equal(o.json_path, "r.json");
}

static void test_args_old_json_file_spelling_still_works_and_is_flagged(void **state)
{
	assert_int_equal(PARSE("--json", "a.json", "-r", "1"), 0);
	assert_string_equal(o.json_path, "a.json");
	assert_false(o.json_stdout);
	assert_true(o.old_json_spelling);
	assert_int_equal(PARSE("--json=b.json"), 0);
	assert_string_equal(o.json_path, "b.json");
	assert_true(o.old_json_spelling);
	assert_int_equal(PARSE("-j", "-"), 0);
	assert_true(o.json_stdout);
	assert_null(o.json_path);
	assert_true(o.old_json_spelling);
	/* --json alone is the new spelling: stdout */
	assert_int_equal(PARSE("--json"), 0);
	assert_true(o.json_stdout);
	assert_false(o.old_json_spelling);
}

static void test_args_errors_name_the_argument(void **state)
{
	/* automatic: the argv arrays are compound literals */
	const struct {
		int argc;
		char **argv;
		const char *msg;
	} cases[] = {
		{ NARGS("-w", "sched,disk"), ARGS("-w", "sched,disk"), "unknown workload 'disk'" },
		{ NARGS("-w", ","), ARGS("-w", ","), "empty workload name" },
		{ NARGS("-w", ""), ARGS("-w", ""), "at least one" },
		{ NARGS("-d", "0"), ARGS("-d", "0"), "-d 0s is not a duration between 100ms and 1h" },
		{ NARGS("-d", "5x"), ARGS("-d", "5x"), "-d needs a duration such as 10, 0.5, 500ms, 2m; not '5x'" },
		{ NARGS("-d", "-1"), ARGS("-d", "-1"), "not '-1'" },
		{ NARGS("-d", "2h"), ARGS("-d", "2h"), "not '2h'" },
		{ NARGS("-d", "61m"), ARGS("-d", "61m"), "-d 3.66e+03s is not a duration between 100ms and 1h" },
		{ NARGS("-r", "0"), ARGS("-r", "0"), "--repeat '0'" },
		{ NARGS("-r", "1001"), ARGS("-r", "1001"), "--repeat '1001'" },
		{ NARGS("-r", "3x"), ARGS("-r", "3x"), "--repeat '3x'" },
		{ NARGS("--max-regress", "5"), ARGS("--max-regress", "5"), "needs --baseline" },
		{ NARGS("--baseline", "b", "--max-regress", "-3"), ARGS("--baseline", "b", "--max-regress", "-3"),
		  "--max-regress '-3'" },
		{ NARGS("--baseline", "b", "--max-regress", "nan"), ARGS("--baseline", "b", "--max-regress", "nan"),
		  "--max-regress 'nan'" },
		{ NARGS("--dir", "/a", "--device", "/dev/x"), ARGS("--dir", "/a", "--device", "/dev/x"),
		  "exclude each other" },
		{ NARGS("--overhead", "--no-latency"), ARGS("--overhead", "--no-latency"), "--overhead" },
		{ NARGS("--overhead", "--baseline", "b"), ARGS("--overhead", "--baseline", "b"), "--overhead" },
		{ NARGS("--frobnicate"), ARGS("--frobnicate"), "unknown option '--frobnicate'" },
		{ NARGS("-o"), ARGS("-o"), "-o needs a value" },
		{ NARGS("--repeat"), ARGS("--repeat"), "--repeat needs a value" },
		{ NARGS("-r"), ARGS("-r"), "-r needs a value" },
		{ NARGS("extra"), ARGS("extra"), "unexpected argument 'extra'" },
		{ NARGS("--file-size", "0"), ARGS("--file-size", "0"), "--file-size '0'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		assert_int_equal(bench_parse_args(cases[i].argc, cases[i].argv, &o, err,
						  sizeof(err)), -22);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_defaults),
		cmocka_unit_test(test_args_full_set),
		cmocka_unit_test(test_args_json_to_stdout_and_output_file),
		cmocka_unit_test(test_args_old_json_file_spelling_still_works_and_is_flagged),
		cmocka_unit_test(test_args_errors_name_the_argument),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
