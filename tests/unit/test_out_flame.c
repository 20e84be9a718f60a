// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/output/out_flame.c: folded lines, differences, the SVG. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "out_flame.h"

/* A cpu collector object: hot/cold under main, one unnamed and one kernel frame. */
static json_t *col(int hot, int cold)
{
	json_error_t e;
	json_t *c = json_pack_ex(&e, 0,
		"{s:[{s:s, s:I, s:[{s:s, s:s, s:I}, {s:s, s:s, s:I}]},"
		"    {s:s, s:I, s:[{s:s, s:s, s:I, s:b}, {s:s, s:s, s:I}, {s:s, s:s, s:I}]},"
		"    {s:s, s:I, s:[{s:n, s:s, s:I}]}]}",
		"stacks",
		"comm", "my prog", "count", (json_int_t)hot, "frames",
		"sym", "hot;fn", "module", "a", "offset", (json_int_t)4,
		"sym", "main", "module", "a", "offset", (json_int_t)9,
		"comm", "my prog", "count", (json_int_t)cold, "frames",
		"sym", "schedule", "module", "[kernel.kallsyms]", "offset", (json_int_t)1, "kernel", 1,
		"sym", "cold", "module", "a", "offset", (json_int_t)4,
		"sym", "main", "module", "a", "offset", (json_int_t)9,
		"comm", "x", "count", (json_int_t)1, "frames",
		"sym", "module", "libz.so", "offset", (json_int_t)0x1f);

	assert_non_null(c);
	return c;
}

static char *render(int (*fn)(const json_t *, const json_t *, FILE *), const json_t *a, const json_t *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(fn(a, b, f), 0);
	fclose(f);
	return buf;
}

static int folded_only(const json_t *c, const json_t *unused, FILE *f)
{
	(void)unused;
	return folded_write(c, f);
}

static void test_folded_outermost_first_with_count_and_safe_names(void **state)
{
	json_t *c = col(30, 10);
	char *s = render(folded_only, c, NULL);

	/* ';' and ' ' inside names would break the format: replaced */
	assert_string_equal(s, "my_prog;main;hot_fn 30\n"
			       "my_prog;main;cold;schedule_[k] 10\n"
			       "x;libz.so+0x1f 1\n");
	free(s);
	json_decref(c);
}

/* A stack that did not reach its thread's first function is never shown as whole. */
static void test_folded_marks_a_cut_short_stack_under_its_comm(void **state)
{
	json_t *c = json_pack("{s:[{s:s, s:I, s:b, s:[{s:s, s:s, s:I}, {s:s, s:s, s:I}]},"
			      "    {s:s, s:I, s:b, s:[]}]}", "stacks",
			      "comm", "prog", "count", (json_int_t)7, "truncated", 1, "frames",
			      "sym", "leaf", "module", "a", "offset", (json_int_t)1,
			      "sym", "mid", "module", "a", "offset", (json_int_t)2,
			      "comm", "bare", "count", (json_int_t)2, "truncated", 1, "frames");
	char *s = render(folded_only, c, NULL);

	assert_string_equal(s, "prog;[truncated];mid;leaf 7\n"
			       "bare;[truncated] 2\n");
	free(s);
	json_decref(c);
}

static void test_folded_diff_gives_before_and_after_per_stack(void **state)
{
	json_t *a = col(30, 10), *b = col(10, 30);
	char *s = render(folded_diff_write, a, b);

	assert_non_null(strstr(s, "my_prog;main;hot_fn 30 10\n"));
	assert_non_null(strstr(s, "my_prog;main;cold;schedule_[k] 10 30\n"));
	free(s);
	json_decref(a);
	json_decref(b);
}

static int diff_text(const json_t *a, const json_t *b, FILE *f)
{
	return flame_diff_text(a, b, f, 10);
}

static void test_diff_text_signs_follow_the_change(void **state)
{
	json_t *a = col(30, 10), *b = col(10, 30);
	char *s = render(diff_text, a, b);

	/* 30/41 -> 10/41 of the samples: -48.78 points; the cold stack gains as much */
	assert_non_null(strstr(s, "-48.78  my_prog;main;hot_fn\n"));
	assert_non_null(strstr(s, "+48.78  my_prog;main;cold;schedule_[k]\n"));
	free(s);
	json_decref(a);
	json_decref(b);
}

static int svg(const json_t *a, const json_t *b, FILE *f)
{
	return flame_svg(f, a, b);
}

static void test_svg_has_every_frame_with_its_share(void **state)
{
	json_t *a = col(30, 10), *b = col(10, 30);
	char *s = render(svg, a, NULL), *d;

	assert_non_null(strstr(s, "<title>hot_fn (30 samples, 73.17%)</title>"));
	assert_non_null(strstr(s, "<title>main (40 samples, 97.56%)</title>"));
	assert_non_null(strstr(s, "<title>all (41 samples, 100.00%)</title>"));
	assert_non_null(strstr(s, "<![CDATA["));
	d = render(svg, b, a);
	/* differential: shaped like b, hot shrank (blue), cold grew (red) */
	assert_non_null(strstr(d, "<title>hot_fn (10 samples, 24.39%; before 73.17%, change -48.78 points)</title>"));
	assert_non_null(strstr(d, "fill=\"rgb(51,51,255)\""));
	assert_non_null(strstr(d, "fill=\"rgb(255,51,51)\""));
	free(s);
	free(d);
	json_decref(a);
	json_decref(b);
}

static void test_pick_needs_a_choice_between_two_stack_collectors(void **state)
{
	json_t *r = json_pack("{s:{s:o, s:o, s:{}}}", "collectors", "cpu", col(1, 1), "offcpu", col(1, 1),
			      "sched");
	const char *name = NULL, *why = NULL;

	assert_null(flame_pick(r, NULL, &name, &why));
	assert_non_null(strstr(why, "-e"));
	assert_non_null(flame_pick(r, "offcpu", &name, &why));
	assert_string_equal(name, "offcpu");
	assert_null(flame_pick(r, "sched", &name, &why));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded_outermost_first_with_count_and_safe_names),
		cmocka_unit_test(test_folded_marks_a_cut_short_stack_under_its_comm),
		cmocka_unit_test(test_folded_diff_gives_before_and_after_per_stack),
		cmocka_unit_test(test_diff_text_signs_follow_the_change),
		cmocka_unit_test(test_svg_has_every_frame_with_its_share),
		cmocka_unit_test(test_pick_needs_a_choice_between_two_stack_collectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
