// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the sched collector's report: irq threads named as interrupts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "col_sched.h"
#include "collector.h"
#include "bpf/sched.h"

extern const struct collector col_sched;

static void test_sched_irq_thread_gives_number_and_handler_name(void **state)
{
	char name[16];

	assert_int_equal(sched_irq_thread("irq/24-virtio0-i", name, sizeof(name)), 24);
	assert_string_equal(name, "virtio0-i");
	assert_int_equal(sched_irq_thread("irq/4-ttyS0", name, sizeof(name)), 4);
	assert_string_equal(name, "ttyS0");
	/* a name longer than the buffer is cut, never overrun */
	assert_int_equal(sched_irq_thread("irq/9-acpi", name, 3), 9);
	assert_string_equal(name, "ac");
}

static void test_sched_irq_thread_rejects_other_tasks(void **state)
{
	static const char *const others[] = {
		"irq_work/0", "irqbalance", "irq/", "irq/-x", "irq/x1-foo", "irq/24",
		"irq/24x-foo", "kworker/0:1H", "ksoftirqd/1", "",
	};
	char name[16] = "unchanged";

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_int_equal(sched_irq_thread(others[i], name, sizeof(name)), -1);
	assert_string_equal(name, "unchanged");
}

static struct sched_event outlier(const char *prev_comm, __u32 prev_pid)
{
	struct sched_event e = {
		.type = SCHED_EV_OUTLIER, .cpu = 1, .ts_ns = 5000, .latency_ns = 3000000,
		.pid = 300, .tgid = 300, .prev_pid = prev_pid, .prev_tgid = prev_pid,
		.kind = SCHED_KIND_WAKEUP, .comm = "cyclictest",
	};

	memcpy(e.prev_comm, prev_comm, strnlen(prev_comm, sizeof(e.prev_comm) - 1));
	return e;
}

static void test_sched_report_names_irq_thread_neighbour_as_interrupt(void **state)
{
	struct report_opts ro = { .top = 10, .start_mono_ns = 1000 };
	struct sched_event irq = outlier("irq/24-virtio0", 57), proc = outlier("stress-ng", 400);
	json_t *col = json_object(), *n;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *out;
	int seen = 0;

	assert_int_equal(col_sched.report_event(col, &irq, sizeof(irq), &ro), 0);
	assert_int_equal(col_sched.report_event(col, &irq, sizeof(irq), &ro), 0);
	assert_int_equal(col_sched.report_event(col, &proc, sizeof(proc), &ro), 0);
	col_sched.report_finish(col, &ro);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(json_object_get(col, "outliers"), 0), "prev_irq")), 24);
	assert_null(json_object_get(json_array_get(json_object_get(col, "outliers"), 2), "prev_irq"));
	json_array_foreach(json_object_get(col, "neighbours"), i, n) {
		if (json_integer_value(json_object_get(n, "neighbour_pid")) == 57) {
			assert_int_equal(json_integer_value(json_object_get(n, "neighbour_irq")), 24);
			assert_int_equal(json_integer_value(json_object_get(n, "outliers")), 2);
			seen++;
		} else {
			assert_null(json_object_get(n, "neighbour_irq"));
			seen++;
		}
	}
	assert_int_equal(seen, 2);

	out = open_memstream(&buf, &len);
	assert_non_null(out);
	col_sched.render_text(col, out, &ro);
	fclose(out);
	assert_non_null(strstr(buf, "interrupt 24 (virtio0)"));
	assert_non_null(strstr(buf, "400 stress-ng"));
	assert_null(strstr(buf, "57 irq/24"));
	free(buf);
	json_decref(col);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_irq_thread_gives_number_and_handler_name),
		cmocka_unit_test(test_sched_irq_thread_rejects_other_tasks),
		cmocka_unit_test(test_sched_report_names_irq_thread_neighbour_as_interrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
