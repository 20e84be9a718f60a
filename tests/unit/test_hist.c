// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the log-linear histogram: slot bounds, percentile accuracy, merge, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"

/* splitmix64: the same samples every run, so a failure reproduces */
static uint64_t prng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* a random value below 2^bits, bits drawn from [0, 64]: every magnitude */
static uint64_t any_magnitude(uint64_t *s)
{
	unsigned int bits = prng(s) % 65;
	uint64_t v = prng(s);

	return bits == 64 ? v : v & ((1ULL << bits) - 1);
}

/* uniform in (0, 1] */
static double unit(uint64_t *s)
{
	return ((prng(s) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

enum dist { UNIFORM, EXPONENTIAL, BIMODAL, CONSTANT, LOG_SPAN, SMALL, NDIST };
static const char *const dist_name[] = {
	"uniform", "exponential", "bimodal", "constant", "1ns..60s", "small",
};

static uint64_t sample(enum dist d, uint64_t *s)
{
	switch (d) {
	case UNIFORM:
		return 1000 + prng(s) % 1000000;
	case EXPONENTIAL:
		return (uint64_t)(-log(unit(s)) * 50000.0);
	case BIMODAL:
		/* a fast path and a slow path, 90/10: p90 sits on the cliff */
		if (prng(s) % 10)
			return 10000 + prng(s) % 2000;
		return 5000000 + prng(s) % 1000000;
	case CONSTANT:
		return 777777;
	case LOG_SPAN:
		return (uint64_t)exp(unit(s) * log(60e9));
	case SMALL:
		return prng(s) % 20;
	default:
		return 0;
	}
}

/* Nearest rank in integers, p given in thousandths: ceil(p * n), at least 1. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, unsigned int permille)
{
	uint64_t rank = ((uint64_t)permille * n + 999) / 1000;

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void check_dist(enum dist d, size_t n, uint64_t seed)
{
	static const unsigned int permille[] = { 1, 100, 500, 900, 990, 999, 1000 };
	struct hist *h = calloc(1, sizeof(*h));
	uint64_t *v = malloc(n * sizeof(*v));
	uint64_t s = seed;

	assert_non_null(h);
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = sample(d, &s);
		hist_add_value(h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->max, v[n - 1]);
	for (unsigned int i = 0; i < sizeof(permille) / sizeof(permille[0]); i++) {
		uint64_t e = exact_percentile(v, n, permille[i]);
		uint64_t got = hist_percentile(h, permille[i] / 1000.0);
		double err = e ? fabs((double)got - (double)e) / (double)e : (double)got;

		if (err > 0.04)
			fail_msg("%s n=%zu p%.1f: histogram %llu, exact %llu (%.2f%% off)",
				 dist_name[d], n, permille[i] / 10.0,
				 (unsigned long long)got, (unsigned long long)e, err * 100);
		/* values under 16 have their own slot: exact */
		if (e < HIST_SUB)
			assert_int_equal(got, e);
	}
	free(v);
	free(h);
}

static void test_hist_percentiles_within_4pct_of_exact_nearest_rank(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 10, 999, 1000, 1001, 100000 };

	(void)state;
	for (int d = 0; d < NDIST; d++)
		for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			check_dist(d, sizes[i], 1000 * d + i + 1);
}

static void test_hist_slot_bounds_contain_every_value(void **state)
{
	uint64_t s = 99;

	(void)state;
	for (int i = 0; i < 2000000; i++) {
		uint64_t v;
		unsigned int slot;

		if (i < 100000)
			v = i;
		else if (i < 100000 + 64 * 3)
			v = (1ULL << ((i - 100000) / 3)) + (uint64_t)((i - 100000) % 3) - 1;
		else
			v = any_magnitude(&s);
		slot = hist_slot_of(v);
		assert_true(slot < HIST_SLOTS);
		if (hist_slot_lo(slot) > v || v >= hist_slot_hi(slot)) {
			if (!(slot == HIST_SLOTS - 1 && v >= hist_slot_lo(slot)))
				fail_msg("%llu in slot %u [%llu, %llu)",
					 (unsigned long long)v, slot,
					 (unsigned long long)hist_slot_lo(slot),
					 (unsigned long long)hist_slot_hi(slot));
		}
	}
	assert_int_equal(hist_slot_of(UINT64_MAX), HIST_SLOTS - 1);
	assert_int_equal(hist_slot_hi(HIST_SLOTS - 1), UINT64_MAX);
}

static void test_hist_slots_tile_the_range_finely_enough(void **state)
{
	(void)state;
	for (unsigned int slot = 0; slot < HIST_SLOTS; slot++) {
		uint64_t lo = hist_slot_lo(slot), hi = hist_slot_hi(slot);

		assert_int_equal(hist_slot_of(lo), slot);
		if (slot + 1 < HIST_SLOTS) {
			assert_int_equal(hi, hist_slot_lo(slot + 1));
			assert_int_equal(hist_slot_of(hi - 1), slot);
			assert_true(hi > lo);
		}
		/* width at most lo/16: a midpoint is within 1/32 of any member */
		if (slot >= HIST_SUB && slot + 1 < HIST_SLOTS)
			assert_true((hi - lo) * HIST_SUB <= lo);
		if (slot < HIST_SUB)
			assert_int_equal(hi - lo, 1);
	}
	assert_int_equal(hist_slot_lo(0), 0);
	/* 60 s in ns still has slots of its own */
	assert_true(hist_slot_of(60000000000ULL) < HIST_SLOTS - 1);
}

static void test_hist_merge_adds_counts_sums_and_keeps_max(void **state)
{
	struct hist a = { 0 }, b = { 0 }, both = { 0 };
	uint64_t s = 5;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		/* below 2^26, so the 123456789 added last is the max */
		uint64_t v = any_magnitude(&s) >> 38;

		hist_add_value(i % 3 ? &a : &b, v);
		hist_add_value(&both, v);
	}
	hist_add_value(&b, 123456789);
	hist_add_value(&both, 123456789);
	hist_merge(&a, &b);
	assert_memory_equal(&a, &both, sizeof(a));
	assert_int_equal(a.max, 123456789);

	/* merging an empty histogram changes nothing */
	memset(&b, 0, sizeof(b));
	hist_merge(&a, &b);
	assert_memory_equal(&a, &both, sizeof(a));
}

static void test_hist_json_round_trip_preserves_histogram(void **state)
{
	static const char *const units[] = { "ns", "bytes" };
	uint64_t s = 11;

	(void)state;
	for (unsigned int u = 0; u < 2; u++) {
		struct hist h = { 0 }, back;
		json_t *j, *parsed;
		char *text, key[32];

		/* up to 2^40, so the sum of 20000 stays a JSON integer */
		for (int i = 0; i < 20000; i++)
			hist_add_value(&h, any_magnitude(&s) >> 24);
		/* one value in the open-ended last slot */
		hist_add_value(&h, 1ULL << 50);
		j = hist_to_json(&h, units[u]);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "count")), 20001);
		for (unsigned int k = 0; k < 6; k++) {
			static const char *const names[] = {
				"sum", "p50", "p90", "p99", "p999", "max",
			};

			snprintf(key, sizeof(key), "%s_%s", names[k], units[u]);
			assert_true(json_is_integer(json_object_get(j, key)));
		}
		snprintf(key, sizeof(key), "p99_%s", units[u]);
		assert_int_equal(json_integer_value(json_object_get(j, key)),
				 hist_percentile(&h, 0.99));
		/* through text, as a session file stores it */
		text = json_dumps(j, JSON_COMPACT);
		assert_non_null(text);
		parsed = json_loads(text, 0, NULL);
		assert_non_null(parsed);
		assert_int_equal(hist_from_json(parsed, units[u], &back), 0);
		assert_memory_equal(&back, &h, sizeof(h));
		free(text);
		json_decref(parsed);
		json_decref(j);
	}
}

static void test_hist_empty_reports_zeros_and_no_buckets(void **state)
{
	struct hist h = { 0 }, back;
	json_t *j;

	(void)state;
	assert_int_equal(hist_percentile(&h, 0.5), 0);
	assert_int_equal(hist_percentile(&h, 1.0), 0);
	j = hist_to_json(&h, "ns");
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "p999_ns")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "buckets")), 0);
	assert_int_equal(hist_from_json(j, "ns", &back), 0);
	assert_memory_equal(&back, &h, sizeof(h));
	json_decref(j);
}

static void test_hist_percentile_never_exceeds_max(void **state)
{
	struct hist h = { 0 };

	(void)state;
	/* the slot of 1000 is [992, 1024): its midpoint 1008 would overshoot */
	for (int i = 0; i < 10; i++)
		hist_add_value(&h, 1000);
	assert_int_equal(hist_percentile(&h, 0.5), 1000);
	assert_int_equal(hist_percentile(&h, 1.0), 1000);
}

static void test_hist_from_json_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"sum_ns\":0,\"max_ns\":0}",
		"{\"sum_ns\":0,\"max_ns\":0,\"buckets\":{}}",
		"{\"sum_ns\":0,\"max_ns\":0,\"buckets\":[5]}",
		"{\"sum_ns\":0,\"max_ns\":0,\"buckets\":[[1,2]]}",
		"{\"sum_ns\":0,\"max_ns\":0,\"buckets\":[[\"1\",2,3]]}",
		"{\"sum_ns\":0,\"max_ns\":0,\"buckets\":[[-1,2,3]]}",
		"{\"sum_ns\":0,\"max_ns\":0,\"buckets\":[[1,2,-3]]}",
		/* the summary fields must be there and sane */
		"{\"max_ns\":1,\"buckets\":[[1,2,1]]}",
		"{\"sum_ns\":1,\"buckets\":[[1,2,1]]}",
		"{\"sum_ns\":1,\"max_ns\":-1,\"buckets\":[[1,2,1]]}",
		"{\"sum_ns\":\"1\",\"max_ns\":1,\"buckets\":[[1,2,1]]}",
		/* unit mismatch: a bytes histogram read as ns */
		"{\"sum_bytes\":1,\"max_bytes\":1,\"buckets\":[[1,2,1]]}",
	};
	struct hist h;

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);

		assert_non_null(j);
		if (hist_from_json(j, "ns", &h) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_percentiles_within_4pct_of_exact_nearest_rank),
		cmocka_unit_test(test_hist_slot_bounds_contain_every_value),
		cmocka_unit_test(test_hist_slots_tile_the_range_finely_enough),
		cmocka_unit_test(test_hist_merge_adds_counts_sums_and_keeps_max),
		cmocka_unit_test(test_hist_json_round_trip_preserves_histogram),
		cmocka_unit_test(test_hist_empty_reports_zeros_and_no_buckets),
		cmocka_unit_test(test_hist_percentile_never_exceeds_max),
		cmocka_unit_test(test_hist_from_json_rejects_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
