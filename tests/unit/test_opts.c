// SPDX-License-Identifier: GPL-2.0
/* The option tables: parsing, one-line errors, and --help / man page built from the same rows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "opts.h"

#define ARGV(...) ((char *[]){ "check", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "check", __VA_ARGS__ }) / sizeof(char *)))

static int parse(const struct opt_cmd *c, int argc, char **argv, struct common_opts *co)
{
	int first;

	return opts_parse_quiet(c, argc, argv, co, NULL, NULL, &first);
}

static void test_missing_value_names_the_flag_as_typed(void **state)
{
	struct common_opts co;

	(void)state;
	assert_int_equal(parse(&opt_cmd_tune, ARGC("-d"), ARGV("-d"), &co), EXIT_USAGE);
	assert_string_equal(co.msg, "-d needs a value");
	assert_int_equal(parse(&opt_cmd_tune, ARGC("--duration"), ARGV("--duration"), &co), EXIT_USAGE);
	assert_string_equal(co.msg, "--duration needs a value");
	assert_int_equal(parse(&opt_cmd_tune, ARGC("--from"), ARGV("--from"), &co), EXIT_USAGE);
	assert_string_equal(co.msg, "--from needs a value");
}

static void test_unknown_flags_and_flags_a_command_does_not_take(void **state)
{
	struct common_opts co;

	(void)state;
	assert_int_equal(parse(&opt_cmd_check, ARGC("--frobnicate"), ARGV("--frobnicate"), &co),
			 EXIT_USAGE);
	assert_string_equal(co.msg, "unknown option '--frobnicate'");
	/* -d is shared, but check does not take it */
	assert_int_equal(parse(&opt_cmd_check, ARGC("-d", "1"), ARGV("-d", "1"), &co), EXIT_USAGE);
	assert_string_equal(co.msg, "unknown option '-d'");
}

static void test_shared_flags_mean_the_same_in_every_command(void **state)
{
	struct common_opts co;

	(void)state;
	for (size_t i = 0; opt_cmds[i]; i++) {
		const struct opt_cmd *c = opt_cmds[i];

		assert_int_equal(parse(c, ARGC("-q"), ARGV("-q"), &co), EXIT_OK);
		assert_true(co.quiet);
		if (c->no_json) {
			assert_int_equal(parse(c, ARGC("--json"), ARGV("--json"), &co), EXIT_USAGE);
			assert_non_null(strstr(co.msg, c->no_json));
		} else {
			assert_int_equal(parse(c, ARGC("--json"), ARGV("--json"), &co), EXIT_OK);
			assert_true(co.json);
		}
		if (c->common & CO_DURATION) {
			assert_int_equal(parse(c, ARGC("-d", "1.5"), ARGV("-d", "1.5"), &co), EXIT_OK);
			assert_int_equal(co.duration_ns, 1500000000ULL);
			assert_int_equal(parse(c, ARGC("-d", "2x"), ARGV("-d", "2x"), &co), EXIT_USAGE);
		}
		if (c->common & CO_PID) {
			assert_int_equal(parse(c, ARGC("-p", "1", "-p", "2"), ARGV("-p", "1", "-p", "2"), &co),
					 EXIT_OK);
			assert_int_equal(co.npids, 2);
			assert_int_equal(parse(c, ARGC("-p", "0"), ARGV("-p", "0"), &co), EXIT_USAGE);
		}
	}
}

struct rows {
	char names[4096];
};

static void collect_row(const struct opt *r, void *arg)
{
	struct rows *rs = arg;
	size_t n = strlen(rs->names);

	snprintf(rs->names + n, sizeof(rs->names) - n, " --%s ", r->name);
}

static const char *usage_of(const char *name)
{
	static const struct {
		const char *name;
		const char *text;
	} u[] = {
		{ "check", usage_check }, { "record", usage_record }, { "report", usage_report },
		{ "top", usage_top }, { "serve", usage_serve }, { "tune", usage_tune },
		{ "bench", usage_bench },
	};

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (!strcmp(u[i].name, name))
			return u[i].text;
	return NULL;
}

/* Does the line before p name another command ("disco report ")? */
static bool other_command_before(const char *u, const char *p, const char *self)
{
	const char *line = p, *d = NULL;

	while (line > u && line[-1] != '\n')
		line--;
	for (const char *q = line; q < p && (q = strstr(q, "disco ")) && q < p; q++)
		d = q;
	return d && strncmp(d + 6, self, strlen(self));
}

/* Every --flag a command's --help names is a row of its table, so the man page has it. */
static void test_every_flag_in_help_is_a_table_row(void **state)
{
	(void)state;
	for (size_t i = 0; opt_cmds[i]; i++) {
		const char *u = usage_of(opt_cmds[i]->name), *p;
		struct rows rs = { "" };

		assert_non_null(u);
		opts_for_each(opt_cmds[i], collect_row, &rs);
		for (p = strstr(u, "--"); p; p = strstr(p + 2, "--")) {
			char flag[64];
			size_t n = 0;

			while (p[2 + n] && (isalnum((unsigned char)p[2 + n]) || p[2 + n] == '-') &&
			       n < sizeof(flag) - 8)
				n++;
			if (!n || p[2] == '-' || (p > u && p[-1] != ' ' && p[-1] != '[' && p[-1] != '('))
				continue;	/* "--" before COMMAND, or inside a word */
			if (other_command_before(u, p, opt_cmds[i]->name))
				continue;	/* "`disco report --intervals`" in record's help */
			snprintf(flag, sizeof(flag), " --%.*s ", (int)n, p + 2);
			if (!strcmp(flag, " --help "))
				continue;
			if (!strstr(rs.names, flag))
				fail_msg("disco %s --help names%sbut its table has no such row",
					 opt_cmds[i]->name, flag);
		}
	}
}

/* docs/disco.8 holds what `disco help --man` prints: `make man` when this fails. */
static void test_man_page_options_are_the_tables(void **state)
{
	char *gen = NULL, *page = NULL, *b, *e;
	size_t glen = 0, plen = 0;
	FILE *f = open_memstream(&gen, &glen);

	(void)state;
	assert_non_null(f);
	opts_print_man(f);
	fclose(f);
	f = fopen("docs/disco.8", "r");
	assert_non_null(f);
	page = calloc(1, 1 << 20);
	assert_non_null(page);
	plen = fread(page, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(plen > 0);
	b = strstr(page, "BEGIN OPTIONS");
	e = b ? strstr(b, ".\\\" END OPTIONS") : NULL;
	assert_non_null(e);
	b = strchr(b, '\n') + 1;
	if ((size_t)(e - b) != glen || memcmp(b, gen, glen))
		fail_msg("docs/disco.8 OPTIONS differ from the option tables: run `make man`");
	free(gen);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_value_names_the_flag_as_typed),
		cmocka_unit_test(test_unknown_flags_and_flags_a_command_does_not_take),
		cmocka_unit_test(test_shared_flags_mean_the_same_in_every_command),
		cmocka_unit_test(test_every_flag_in_help_is_a_table_row),
		cmocka_unit_test(test_man_page_options_are_the_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
