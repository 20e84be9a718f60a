// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/collectors/alloc_agg.c: merging per-stack rows into report sites. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "alloc_agg.h"
#include "bpf/alloc.h"

static json_t *stack(const char *a, const char *b)
{
	return b ? json_pack("[s, s]", a, b) : json_pack("[s]", a);
}

static uint64_t jv(const json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void test_alloc_merge_identical_stacks_sum_and_list_pids(void **state)
{
	json_t *s1 = stack("leak_here+0x18 (fx)", "main+0x1 (fx)");
	json_t *s2 = stack("leak_here+0x18 (fx)", "main+0x1 (fx)");	/* other stack id */
	json_t *s3 = stack("freed_here+0x28 (fx)", "main+0x2 (fx)");
	struct alloc_site_row rows[3] = {
		{ .pid = 10, .stack = s1, .v = { 3000, 3, 3000, 3, 3000, 3, 0, 0 } },
		{ .pid = 11, .stack = s2, .v = { 4000, 4, 1000, 1, 4000, 4, 0, 0 } },
		{ .pid = 10, .stack = s3, .v = { 0, 0, 0, 0, 10000, 50, 10000, 50 } },
	};
	json_t *out = alloc_merge_sites(rows, 3, 1, 10), *top;

	assert_int_equal(json_array_size(out), 2);
	top = json_array_get(out, 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(top, "stack"), 0)),
			    "leak_here+0x18 (fx)");
	assert_int_equal(jv(top, "outstanding_bytes"), 7000);
	assert_int_equal(jv(top, "outstanding_allocs"), 7);
	assert_int_equal(jv(top, "leak_allocs"), 4);
	assert_int_equal(json_array_size(json_object_get(top, "pids")), 2);
	assert_int_equal(jv(json_array_get(out, 1), "freed_allocs"), 50);
	json_decref(out);
	json_decref(s1);
	json_decref(s2);
	json_decref(s3);
}

static void test_alloc_merge_different_callers_stay_apart(void **state)
{
	/* same allocating function, different caller: two sites */
	json_t *a = stack("f+0x5 (x)", "g+0x1 (x)"), *b = stack("f+0x5 (x)", "h+0x1 (x)");
	struct alloc_site_row rows[2] = {
		{ .pid = 1, .stack = a, .v = { 10, 1 } },
		{ .pid = 1, .stack = b, .v = { 20, 1 } },
	};
	json_t *out = alloc_merge_sites(rows, 2, 1, 10);

	assert_int_equal(json_array_size(out), 2);
	/* ordered by outstanding bytes */
	assert_int_equal(jv(json_array_get(out, 0), "outstanding_bytes"), 20);
	json_decref(out);
	json_decref(a);
	json_decref(b);
}

static void test_alloc_merge_scales_sampled_figures(void **state)
{
	json_t *a = stack("f+0x5 (x)", NULL);
	struct alloc_site_row rows[1] = { { .pid = 1, .stack = a, .v = { 100, 2, 50, 1, 300, 6, 200, 4 } } };
	json_t *out = alloc_merge_sites(rows, 1, 8, 10), *s = json_array_get(out, 0);

	assert_int_equal(jv(s, "outstanding_bytes"), 800);
	assert_int_equal(jv(s, "outstanding_allocs"), 16);
	assert_int_equal(jv(s, "total_allocs"), 48);
	assert_int_equal(jv(s, "freed_bytes"), 1600);
	json_decref(out);
	json_decref(a);
}

static void test_alloc_merge_keeps_at_most_max_sites(void **state)
{
	struct alloc_site_row rows[5];
	json_t *st[5], *out;
	char name[32];

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "f%d+0x1 (x)", i);
		st[i] = stack(name, NULL);
		rows[i] = (struct alloc_site_row){ .pid = 1, .stack = st[i], .v = { (uint64_t)i * 10, 1 } };
	}
	out = alloc_merge_sites(rows, 5, 1, 3);
	assert_int_equal(json_array_size(out), 3);
	assert_int_equal(jv(json_array_get(out, 0), "outstanding_bytes"), 40);
	assert_int_equal(jv(json_array_get(out, 2), "outstanding_bytes"), 20);
	json_decref(out);
	for (int i = 0; i < 5; i++)
		json_decref(st[i]);
}

static void test_alloc_site_key_distinguishes_processes(void **state)
{
	char a[40], b[40];

	alloc_site_keystr(a, sizeof(a), 10, 0xabcdef0123456789ull);
	alloc_site_keystr(b, sizeof(b), 11, 0xabcdef0123456789ull);
	assert_string_not_equal(a, b);
	assert_string_equal(a, "10/abcdef0123456789");
}

static void test_alloc_flame_stacks_split_frames_and_skip_freed_sites(void **state)
{
	json_t *sites = json_pack("[{s:[s, s, s], s:I}, {s:[s], s:I}]",
		"stack", "leak_here+0x18 (alloc_fixture)", "main+0x1ee (alloc_fixture)", "0x7f0012",
		"outstanding_bytes", (json_int_t)7000,
		"stack", "freed_here+0x28 (alloc_fixture)", "outstanding_bytes", (json_int_t)0);
	json_t *st = alloc_flame_stacks(sites), *s0, *f;

	assert_int_equal(json_array_size(st), 1);
	s0 = json_array_get(st, 0);
	assert_int_equal(jv(s0, "bytes"), 7000);
	f = json_array_get(json_object_get(s0, "frames"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "sym")), "leak_here");
	assert_string_equal(json_string_value(json_object_get(f, "module")), "alloc_fixture");
	f = json_array_get(json_object_get(s0, "frames"), 2);
	assert_string_equal(json_string_value(json_object_get(f, "sym")), "0x7f0012");
	assert_null(json_object_get(f, "module"));
	json_decref(st);
	json_decref(sites);
}

/* Held-back frees read from two processes: found by (process, address), others not. */
static void test_alloc_held_blocks_are_found_by_process_and_address(void **state)
{
	static struct alloc_lib_pending t;
	struct alloc_held h[8];
	size_t n = 0;

	memset(&t, 0, sizeof(t));
	t.magic = ALLOC_LIB_PENDING_MAGIC;
	t.n = ALLOC_LIB_PENDING_MAX;
	t.e[3].blk = 0x5000;
	t.e[900].blk = 0x1000;
	n = alloc_held_add(h, n, 8, 42, &t);
	assert_int_equal(n, 2);
	t.e[3].blk = 0;
	n = alloc_held_add(h, n, 8, 7, &t);
	assert_int_equal(n, 3);
	t.magic = 0;		/* not a table: nothing taken */
	assert_int_equal(alloc_held_add(h, n, 8, 9, &t), 3);
	alloc_held_sort(h, n);
	assert_true(alloc_held_has(h, n, 42, 0x5000));
	assert_true(alloc_held_has(h, n, 42, 0x1000));
	assert_true(alloc_held_has(h, n, 7, 0x1000));
	assert_false(alloc_held_has(h, n, 7, 0x5000));
	assert_false(alloc_held_has(h, n, 9, 0x1000));
	assert_false(alloc_held_has(h, 0, 42, 0x5000));
	/* no room: what fits */
	t.magic = ALLOC_LIB_PENDING_MAGIC;
	assert_int_equal(alloc_held_add(h, 7, 8, 1, &t), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_flame_stacks_split_frames_and_skip_freed_sites),
		cmocka_unit_test(test_alloc_merge_identical_stacks_sum_and_list_pids),
		cmocka_unit_test(test_alloc_merge_different_callers_stay_apart),
		cmocka_unit_test(test_alloc_merge_scales_sampled_figures),
		cmocka_unit_test(test_alloc_merge_keeps_at_most_max_sites),
		cmocka_unit_test(test_alloc_site_key_distinguishes_processes),
		cmocka_unit_test(test_alloc_held_blocks_are_found_by_process_and_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
