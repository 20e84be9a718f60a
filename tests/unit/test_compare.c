// SPDX-License-Identifier: GPL-2.0
/* report --compare: known changes found with their sign, noise left alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collector.h"
#include "compare.h"
#include "report.h"
#include "session.h"

/* n samples around median_ns, log-normally spread (sigma 0.5), from seed */
static void lognormal(struct hist *h, int n, double median_ns, unsigned int seed)
{
	for (int i = 0; i < n; i++) {
		double u1 = (rand_r(&seed) + 1.0) / (RAND_MAX + 2.0), u2 = (rand_r(&seed) + 1.0) / (RAND_MAX + 2.0);
		double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);

		hist_add_value(h, (uint64_t)(median_ns * exp(0.5 * z)));
	}
}

/*
 * A fixture session file: sched run-queue latency around sched_ns, bio
 * latency (per disk rows) around 200 us from its own seed.
 */
static void write_fixture(const char *path, double sched_ns, unsigned int seed)
{
	struct hist s = { 0 }, d = { 0 };
	struct session_writer *w;
	json_t *hdr, *sum;

	lognormal(&s, 4000, sched_ns, seed);
	lognormal(&d, 3000, 200000, seed + 1);
	unlink(path);
	w = session_create(path, false);
	assert_non_null(w);
	hdr = json_pack("{s:s, s:s, s:I, s:{s:{s:i}, s:{s:i}}}", "schema", "disco.session/1",
			"hostname", "fixture", "start_monotonic_ns", (json_int_t)1,
			"collectors", "sched", "id", 1, "bio", "id", 2);
	sum = json_pack("{s:{s:I}, s:{s:{s:o}, s:{s:[{s:s, s:o}]}}}",
			"session", "duration_ns", (json_int_t)10000000000,
			"collectors", "sched", "runq_latency", hist_to_json(&s, "ns"),
			"bio", "disks", "disk", "vda", "latency", hist_to_json(&d, "ns"));
	assert_int_equal(session_write_json(w, BLK_HEADER, hdr), 0);
	assert_int_equal(session_write_json(w, BLK_SUMMARY, sum), 0);
	assert_int_equal(session_close(w), 0);
	json_decref(hdr);
	json_decref(sum);
}

static json_t *load(const char *path)
{
	struct report_opts ro = { .top = 10 };
	char err[256] = "";
	json_t *r = report_load(path, &ro, err, sizeof(err));

	assert_non_null(r);
	return r;
}

static const json_t *dist(const json_t *cmp, const char *col, const char *key)
{
	return json_object_get(json_object_get(json_object_get(cmp, "collectors"), col), key);
}

static const json_t *pct(const json_t *cmp, const char *col, const char *key, const char *p)
{
	return json_object_get(json_object_get(dist(cmp, col, key), "percentiles"), p);
}

static void test_compare_finds_a_known_change_and_its_sign(void **state)
{
	char a[64], b[64];
	json_t *ra, *rb, *cmp, *back;

	(void)state;
	snprintf(a, sizeof(a), "/tmp/disco-test-compare-a.%d", getpid());
	snprintf(b, sizeof(b), "/tmp/disco-test-compare-b.%d", getpid());
	/* sched latency doubles; bio is the same distribution, other draws */
	write_fixture(a, 1000000, 11);
	write_fixture(b, 2000000, 97);
	ra = load(a);
	rb = load(b);
	cmp = compare_reports(ra, rb);
	assert_string_equal(json_string_value(json_object_get(cmp, "schema")), "disco.compare/1");
	assert_string_equal(json_string_value(json_object_get(dist(cmp, "sched", "runq_latency"), "verdict")),
			    "slower");
	assert_true(json_is_true(json_object_get(pct(cmp, "sched", "runq_latency", "p50"), "beyond_noise")));
	/* about +100% (bucket midpoints: within 10%) */
	assert_true(fabs(json_real_value(json_object_get(pct(cmp, "sched", "runq_latency", "p50"),
							  "change_ratio")) - 1.0) < 0.1);
	assert_string_equal(json_string_value(json_object_get(dist(cmp, "bio", "disks.latency"), "verdict")),
			    "within noise");
	assert_false(json_is_true(json_object_get(pct(cmp, "bio", "disks.latency", "p50"), "beyond_noise")));
	assert_false(json_is_true(json_object_get(pct(cmp, "bio", "disks.latency", "p99"), "beyond_noise")));
	/* the other way round: faster, with a negative change */
	back = compare_reports(rb, ra);
	assert_string_equal(json_string_value(json_object_get(dist(back, "sched", "runq_latency"), "verdict")),
			    "faster");
	assert_true(json_real_value(json_object_get(pct(back, "sched", "runq_latency", "p99"), "change_ratio")) < 0);
	json_decref(cmp);
	json_decref(back);
	json_decref(ra);
	json_decref(rb);
	unlink(a);
	unlink(b);
}

static void test_quantile_range_holds_the_quantile_and_shrinks_with_samples(void **state)
{
	struct hist small = { 0 }, big = { 0 };
	uint64_t lo, hi, blo, bhi;

	(void)state;
	lognormal(&small, 100, 1000000, 5);
	lognormal(&big, 100000, 1000000, 5);
	assert_int_equal(compare_quantile_range(&small, 0.5, &lo, &hi), 0);
	assert_int_equal(compare_quantile_range(&big, 0.5, &blo, &bhi), 0);
	assert_true(lo <= 1000000 * 1.1 && hi >= 1000000 * 0.9);
	assert_true(blo <= 1000000 && bhi >= 1000000 * 0.95);
	assert_true(bhi - blo < hi - lo);
	memset(&small, 0, sizeof(small));
	assert_int_equal(compare_quantile_range(&small, 0.5, &lo, &hi), -ENODATA);
}

static void test_extreme_quantile_of_few_samples_is_never_beyond_noise(void **state)
{
	struct hist a = { 0 }, b = { 0 };
	json_t *ra, *rb, *cmp;

	(void)state;
	lognormal(&a, 60, 1000000, 1);
	lognormal(&b, 60, 1000000, 2);
	hist_add_value(&b, 900000000);	/* one 900 ms sample */
	ra = json_pack("{s:{}, s:{s:{s:o}}}", "session", "collectors", "sched", "runq_latency",
		       hist_to_json(&a, "ns"));
	rb = json_pack("{s:{}, s:{s:{s:o}}}", "session", "collectors", "sched", "runq_latency",
		       hist_to_json(&b, "ns"));
	cmp = compare_reports(ra, rb);
	assert_false(json_is_true(json_object_get(pct(cmp, "sched", "runq_latency", "p999"), "beyond_noise")));
	assert_string_equal(json_string_value(json_object_get(dist(cmp, "sched", "runq_latency"), "verdict")),
			    "within noise");
	json_decref(ra);
	json_decref(rb);
	json_decref(cmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_finds_a_known_change_and_its_sign),
		cmocka_unit_test(test_quantile_range_holds_the_quantile_and_shrinks_with_samples),
		cmocka_unit_test(test_extreme_quantile_of_few_samples_is_never_beyond_noise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
