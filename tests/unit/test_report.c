// SPDX-License-Identifier: GPL-2.0
/* report_load: session blocks folded into the report, trusting nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "report.h"
#include "session.h"
#include "bpf/sched.h"

static char path[64];

static struct sched_event outlier(uint32_t pid, uint32_t prev, uint64_t lat)
{
	struct sched_event e = {
		.type = SCHED_EV_OUTLIER, .cpu = 1, .ts_ns = 5000 + lat, .latency_ns = lat,
		.pid = pid, .tgid = pid, .prev_pid = prev, .prev_tgid = prev,
		.kind = SCHED_KIND_PREEMPT,
	};

	snprintf(e.comm, sizeof(e.comm), "victim");
	snprintf(e.prev_comm, sizeof(e.prev_comm), "hog\x1b[31m");	/* hostile bytes */
	return e;
}

/* header, events, one state, and a summary only when complete */
static void write_session(bool complete)
{
	struct session_writer *w;
	struct sched_event e;
	json_t *hdr, *st;
	char junk[10] = { 0 };

	snprintf(path, sizeof(path), "/tmp/disco-test-report.%d", getpid());
	unlink(path);
	w = session_create(path, false);
	assert_non_null(w);
	hdr = json_pack("{s:s, s:s, s:I, s:{s:{s:i}}}", "schema", "disco.session/1",
			"hostname", "h", "start_monotonic_ns", (json_int_t)5000,
			"collectors", "sched", "id", 1);
	assert_int_equal(session_write_json(w, BLK_HEADER, hdr), 0);
	e = outlier(10, 20, 15000000);
	assert_int_equal(session_add_event(w, 1, &e, sizeof(e)), 0);
	e = outlier(10, 20, 25000000);
	assert_int_equal(session_add_event(w, 1, &e, sizeof(e)), 0);
	e = outlier(11, 20, 12000000);
	assert_int_equal(session_add_event(w, 1, &e, sizeof(e)), 0);
	assert_int_equal(session_add_event(w, 1, junk, sizeof(junk)), 0);	/* wrong size */
	assert_int_equal(session_add_event(w, 999, junk, sizeof(junk)), 0);	/* unknown collector */
	assert_int_equal(session_flush(w), 0);
	st = json_pack("{s:{s:I}, s:{s:{s:I}}}", "session", "duration_ns", (json_int_t)7,
		       "collectors", "sched", "migrations", (json_int_t)3);
	assert_int_equal(session_write_json(w, complete ? BLK_SUMMARY : BLK_STATE, st), 0);
	assert_int_equal(session_close(w), 0);
	json_decref(hdr);
	json_decref(st);
}

static void test_report_folds_outliers_and_counts_unreadable_events(void **state)
{
	struct report_opts ro = { .top = 10 };
	char err[256] = "";
	json_t *rep, *sched, *nb;

	(void)state;
	write_session(false);
	rep = report_load(path, &ro, err, sizeof(err));
	assert_non_null(rep);
	sched = json_object_get(json_object_get(rep, "collectors"), "sched");
	assert_int_equal(json_integer_value(json_object_get(sched, "migrations")), 3);
	assert_int_equal(json_array_size(json_object_get(sched, "outliers")), 3);
	/* times are relative to the session start in the header */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(sched, "outliers"), 0),
							    "time_ns")), 15000000);
	/* control characters from the file never reach a terminal */
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(sched, "outliers"), 0),
							      "prev_comm")), "hog?[31m");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "session"), "events_unreadable")), 2);
	assert_true(json_is_false(json_object_get(json_object_get(rep, "session"), "complete")));
	/* two victims behind one neighbour */
	nb = json_object_get(sched, "neighbours");
	assert_int_equal(json_array_size(nb), 2);
	json_decref(rep);
	unlink(path);
}

static void test_report_summary_marks_complete(void **state)
{
	struct report_opts ro = { .top = 10 };
	char err[256] = "";
	json_t *rep;

	(void)state;
	write_session(true);
	rep = report_load(path, &ro, err, sizeof(err));
	assert_non_null(rep);
	assert_true(json_is_true(json_object_get(json_object_get(rep, "session"), "complete")));
	json_decref(rep);
	unlink(path);
}

static void test_report_every_truncation_loads_or_errors(void **state)
{
	struct report_opts ro = { .top = 10 };
	char err[256];
	FILE *f;
	long size;
	uint8_t *buf;

	(void)state;
	write_session(true);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc(size);
	assert_int_equal(fread(buf, 1, size, f), (size_t)size);
	fclose(f);
	for (long n = 0; n < size; n++) {
		json_t *rep;

		err[0] = 0;
		rep = report_load_mem(buf, n, &ro, err, sizeof(err));
		if (!rep) {
			assert_true(err[0] != 0);
			continue;
		}
		/* a prefix is never complete */
		assert_true(json_is_false(json_object_get(json_object_get(rep, "session"), "complete")));
		json_decref(rep);
	}
	free(buf);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_folds_outliers_and_counts_unreadable_events),
		cmocka_unit_test(test_report_summary_marks_complete),
		cmocka_unit_test(test_report_every_truncation_loads_or_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
