// SPDX-License-Identifier: GPL-2.0
/* Hook choice after probing: fallback hooks, and how check/record show them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "collector.h"

enum { H_MAIN, H_OTHER, H_FALLBACK, H_N };

static const struct hook_spec specs[H_N] = {
	[H_MAIN] = { "cat:main", HOOK_CHAIN_TP, true, "samples" },
	[H_OTHER] = { "cat:other", HOOK_CHAIN_TP, false, "lifecycle" },
	[H_FALLBACK] = { "cat:fallback", HOOK_CHAIN_TP, true,
			 "samples when cat:main is missing", "cat:main" },
};

static const struct collector fake = {
	.name = "fake",
	.hooks = specs,
	.nhooks = H_N,
};

static json_t *hook_json(const struct hook_choice *ch, int i)
{
	json_t *a = hooks_to_json(&fake, ch);
	json_t *h = json_incref(json_array_get(a, i));

	json_decref(a);
	return h;
}

static void test_fallback_dropped_when_main_hook_used(void **state)
{
	struct hook_choice ch[H_N] = {
		[H_MAIN] = { .method = HOOK_RAW_TP },
		[H_OTHER] = { .method = HOOK_TP_BTF },
		[H_FALLBACK] = { .method = HOOK_TP_BTF },
	};
	json_t *h;

	(void)state;
	hooks_resolve_fallbacks(&fake, ch);
	assert_int_equal(ch[H_MAIN].method, HOOK_RAW_TP);
	assert_int_equal(ch[H_OTHER].method, HOOK_TP_BTF);
	assert_int_equal(ch[H_FALLBACK].method, HOOK_NONE);
	assert_true(ch[H_FALLBACK].not_needed);
	assert_string_equal(ch[H_FALLBACK].reason,
			    "not needed: cat:main is used instead (raw_tp)");

	/* not needed is not "unavailable": nothing is lost */
	h = hook_json(ch, H_FALLBACK);
	assert_true(json_is_null(json_object_get(h, "method")));
	assert_true(json_is_true(json_object_get(h, "not_needed")));
	assert_null(json_object_get(h, "unavailable"));
	json_decref(h);
}

static void test_fallback_kept_when_main_hook_missing(void **state)
{
	struct hook_choice ch[H_N] = {
		[H_MAIN] = { .method = HOOK_NONE, .reason = "tp_btf: no such event" },
		[H_OTHER] = { .method = HOOK_TP_BTF },
		[H_FALLBACK] = { .method = HOOK_TRACEPOINT },
	};
	json_t *h;

	(void)state;
	hooks_resolve_fallbacks(&fake, ch);
	assert_int_equal(ch[H_FALLBACK].method, HOOK_TRACEPOINT);
	assert_false(ch[H_FALLBACK].not_needed);

	h = hook_json(ch, H_MAIN);
	assert_string_equal(json_string_value(json_object_get(h, "unavailable")), "samples");
	assert_null(json_object_get(h, "not_needed"));
	json_decref(h);
}

static void test_unavailable_fallback_stays_unavailable(void **state)
{
	struct hook_choice ch[H_N] = {
		[H_MAIN] = { .method = HOOK_TP_BTF },
		[H_OTHER] = { .method = HOOK_TP_BTF },
		[H_FALLBACK] = { .method = HOOK_NONE, .reason = "raw_tp: no such event" },
	};

	(void)state;
	hooks_resolve_fallbacks(&fake, ch);
	assert_false(ch[H_FALLBACK].not_needed);
	assert_string_equal(ch[H_FALLBACK].reason, "raw_tp: no such event");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback_dropped_when_main_hook_used),
		cmocka_unit_test(test_fallback_kept_when_main_hook_missing),
		cmocka_unit_test(test_unavailable_fallback_stays_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
