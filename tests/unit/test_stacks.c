// SPDX-License-Identifier: GPL-2.0
/* Unit tests for the stack rows remembered across snapshots (user/core/stacks.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "stacks.h"

struct key {
	uint32_t pid;
	int32_t ustack, kstack;
	char comm[12];
};

static struct key key_of(uint32_t i)
{
	struct key k;

	memset(&k, 0, sizeof(k));
	k.pid = i % 97 + 1;
	k.ustack = (int32_t)i;
	k.kstack = -(int32_t)(i % 3);
	strcpy(k.comm, i & 1 ? "odd" : "even");
	return k;
}

static void test_memo_keeps_every_row_through_growth(void **state)
{
	struct stack_memo *m = stack_memo_new(sizeof(struct key));
	const uint32_t n = 5000;	/* past several doublings of 1024 slots */

	(void)state;
	assert_non_null(m);
	for (uint32_t i = 0; i < n; i++) {
		struct key k = key_of(i);
		struct stack_memo_row r = { json_pack("[{s:i}]", "i", (int)i), (int)(i % 7), 1, i & 1 };

		assert_null(stack_memo_get(m, &k));
		assert_int_equal(stack_memo_put(m, &k, &r), 0);
		json_decref(r.frames);	/* the memo holds its own reference */
	}
	for (uint32_t i = 0; i < n; i++) {
		struct key k = key_of(i);
		const struct stack_memo_row *r = stack_memo_get(m, &k);

		assert_non_null(r);
		assert_int_equal(r->nu, (int)(i % 7));
		assert_int_equal(r->complete, i & 1);
		assert_int_equal(json_integer_value(json_object_get(json_array_get(r->frames, 0), "i")), i);
	}
	/* a key differing in one byte only (the comm) is another row */
	{
		struct key k = key_of(4);

		k.comm[0] = 'E';
		assert_null(stack_memo_get(m, &k));
	}
	stack_memo_free(m);
}

static void test_memo_put_again_replaces_the_row(void **state)
{
	struct stack_memo *m = stack_memo_new(sizeof(struct key));
	struct key k = key_of(42);
	struct stack_memo_row a = { json_string("first"), 1, 0, false };
	struct stack_memo_row b = { json_string("second"), 2, 3, true };

	(void)state;
	assert_int_equal(stack_memo_put(m, &k, &a), 0);
	assert_int_equal(stack_memo_put(m, &k, &b), 0);
	assert_string_equal(json_string_value(stack_memo_get(m, &k)->frames), "second");
	assert_int_equal(stack_memo_get(m, &k)->nk, 3);
	assert_true(stack_memo_get(m, &k)->complete);
	json_decref(a.frames);
	json_decref(b.frames);
	stack_memo_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_keeps_every_row_through_growth),
		cmocka_unit_test(test_memo_put_again_replaces_the_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
