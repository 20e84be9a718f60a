// SPDX-License-Identifier: GPL-2.0
/* CLI argument errors: exit status 2 with a message, never a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "record_opts.h"

static int parse(int argc, char **argv, struct record_args *a)
{
	return record_parse_args(argc, argv, &opt_cmd_record, a, NULL);
}

#define ARGV(...) ((char *[]){ "record", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "record", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, ...) parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), a)

static void test_record_bad_values_exit_2(void **state)
{
	struct record_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "-d", "ten"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "-d", "0"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "-d", "-5"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "-p", "abc"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "-p", "0"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "-e", "nosuch"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "-e", ""), EXIT_OK);
	assert_int_equal(PARSE(&a, "--ring-size", "1000"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "--min-latency", "fast"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "--bogus"), EXIT_USAGE);
	assert_int_equal(PARSE(&a, "-u", "nobody"), EXIT_USAGE);	/* -u without COMMAND */
	assert_int_equal(PARSE(&a, "stray"), EXIT_USAGE);
}

static void test_record_missing_process_is_runtime_error(void **state)
{
	struct record_args a;

	(void)state;
	/* pid_max is at most 4194304; this one cannot exist */
	assert_int_equal(PARSE(&a, "-p", "4194303"), EXIT_ERR);
	assert_int_equal(PARSE(&a, "--cgroup", "/nonexistent"), EXIT_ERR);
}

static void test_record_parses_command_and_defaults(void **state)
{
	struct record_args a;
	char pid[16];

	(void)state;
	snprintf(pid, sizeof(pid), "%d", getpid());
	assert_int_equal(PARSE(&a, "-e", "sched", "-p", pid, "-d", "500ms", "--min-latency", "2ms",
			       "--", "sleep", "1"), EXIT_OK);
	assert_int_equal(a.o.npids, 1);
	assert_int_equal(a.o.pids[0], getpid());
	assert_int_equal(a.duration_ns, 500000000ULL);
	assert_int_equal(a.o.min_latency_ns, 2000000ULL);
	assert_int_equal(a.cmd_argc, 2);
	assert_string_equal(a.cmd_argv[0], "sleep");
	assert_string_equal(a.output, "disco.data");
}

static void test_duration_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_duration("10", &v), 0);
	assert_int_equal(v, 10000000000ULL);
	assert_int_equal(parse_duration("0.5", &v), 0);
	assert_int_equal(v, 500000000ULL);
	assert_int_equal(parse_duration("250us", &v), 0);
	assert_int_equal(v, 250000ULL);
	assert_int_equal(parse_duration("2m", &v), 0);
	assert_int_equal(v, 120000000000ULL);
	assert_int_not_equal(parse_duration("5 s", &v), 0);
	assert_int_not_equal(parse_duration("99999999999999999999", &v), 0);
	assert_int_not_equal(parse_duration("-1", &v), 0);
	assert_int_not_equal(parse_duration("2h", &v), 0);
	assert_int_not_equal(parse_duration("", &v), 0);
}

static void test_report_usage_errors_exit_2(void **state)
{
	(void)state;
	optind = 0;
	assert_int_equal(cmd_report(3, (char *[]){ "report", "--format", "xml", NULL }), EXIT_USAGE);
	optind = 0;
	assert_int_equal(cmd_report(3, (char *[]){ "report", "--top", "0", NULL }), EXIT_USAGE);
	optind = 0;
	assert_int_equal(cmd_report(3, (char *[]){ "report", "a", "b", NULL }), EXIT_USAGE);
	optind = 0;
	assert_int_equal(cmd_report(2, (char *[]){ "report", "/nonexistent/x.data", NULL }), EXIT_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_bad_values_exit_2),
		cmocka_unit_test(test_record_missing_process_is_runtime_error),
		cmocka_unit_test(test_record_parses_command_and_defaults),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_report_usage_errors_exit_2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
