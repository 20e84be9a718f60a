// SPDX-License-Identifier: GPL-2.0
/* Unit tests of --call-graph dwarf's pure parts: sample events, the stack copy, counts per stack. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "collector.h"
#include "ustack.h"

/* An event as the BPF program writes it: header then nstack bytes 0, 1, 2, ... */
static uint8_t *make_event(uint32_t stack_size, size_t nstack, uint64_t sp, size_t *len)
{
	struct cpu_dwarf_event e = { .type = CPU_EV_DWARF, .tgid = 42, .tid = 43, .kstack = -14 };
	uint8_t *buf;

	memcpy(e.comm, "worker", 7);
	for (int i = 0; i < CPU_DWARF_NREGS; i++)
		e.regs[i] = 100 + i;
	e.regs[CPU_DWARF_REG_SP] = sp;
	e.stack_size = stack_size;
	*len = sizeof(e) + nstack;
	/* one byte more: an event that starts off 8-byte alignment, as in a session block */
	buf = malloc(*len + 1);
	assert_non_null(buf);
	memcpy(buf + 1, &e, sizeof(e));
	for (size_t i = 0; i < nstack; i++)
		buf[1 + sizeof(e) + i] = (uint8_t)i;
	return buf;
}

static void test_ustack_decode_reads_an_unaligned_event(void **state)
{
	size_t len;
	uint8_t *buf = make_event(64, 64, 0x7ffd0000, &len);
	struct ustack_sample s;

	assert_int_equal(ustack_decode(buf + 1, len, &s), 0);
	assert_int_equal(s.tgid, 42);
	assert_int_equal(s.tid, 43);
	assert_int_equal(s.kstack, -14);
	assert_string_equal(s.comm, "worker");
	assert_int_equal(s.regs[CPU_DWARF_REG_IP], 100 + CPU_DWARF_REG_IP);
	assert_int_equal(s.regs[CPU_DWARF_REG_SP], 0x7ffd0000);
	assert_int_equal(s.stack_size, 64);
	assert_ptr_equal(s.stack, buf + 1 + sizeof(struct cpu_dwarf_event));
	free(buf);
}

static void test_ustack_decode_refuses_short_foreign_and_overlong_events(void **state)
{
	size_t len;
	uint8_t *buf = make_event(64, 64, 0x1000, &len);
	struct ustack_sample s;
	uint32_t type = 1;	/* STACKS_EV_PROC */

	assert_int_equal(ustack_decode(buf + 1, sizeof(struct cpu_dwarf_event) - 1, &s), -EBADMSG);
	/* claims more stack than the event holds */
	assert_int_equal(ustack_decode(buf + 1, len - 8, &s), -EBADMSG);
	memcpy(buf + 1, &type, sizeof(type));
	assert_int_equal(ustack_decode(buf + 1, len, &s), -EBADMSG);
	free(buf);
}

static void test_ustack_read_word_only_inside_the_copy(void **state)
{
	size_t len;
	uint8_t *buf = make_event(32, 32, 0x1000, &len);
	struct ustack_sample s;
	uint64_t v = 0, want;

	assert_int_equal(ustack_decode(buf + 1, len, &s), 0);
	assert_true(ustack_read_word(&s, 0x1000, &v));
	memcpy(&want, (uint8_t[8]){ 0, 1, 2, 3, 4, 5, 6, 7 }, 8);
	assert_int_equal(v, want);
	assert_true(ustack_read_word(&s, 0x1000 + 24, &v));	/* the last whole word */
	assert_int_equal(v & 0xff, 24);
	assert_false(ustack_read_word(&s, 0x1000 + 25, &v));	/* straddles the end */
	assert_false(ustack_read_word(&s, 0x1000 + 32, &v));
	assert_false(ustack_read_word(&s, 0xff8, &v));		/* below sp */
	assert_false(ustack_read_word(&s, UINT64_MAX - 3, &v));
	free(buf);
}

static void test_ustack_agg_counts_the_same_stack_once(void **state)
{
	struct ustack_agg *a = ustack_agg_new();
	const uint64_t s1[] = { 0x401000, 0x402000, 0x403000 }, s2[] = { 0x401000, 0x402000 };
	const struct ustack_row *r;

	assert_non_null(a);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ustack_agg_add(a, 7, "app", 5, s1, 3, false), 0);
	assert_int_equal(ustack_agg_add(a, 7, "app", 5, s2, 2, false), 0);	/* a prefix */
	assert_int_equal(ustack_agg_add(a, 8, "app", 5, s1, 3, false), 0);	/* another pid */
	assert_int_equal(ustack_agg_add(a, 7, "app", 6, s1, 3, false), 0);	/* kernel stack */
	assert_int_equal(ustack_agg_add(a, 7, "app", 5, s1, 3, true), 0);	/* cut short */
	assert_int_equal(ustack_agg_count(a), 5);
	r = ustack_agg_row(a, 0);
	assert_int_equal(r->count, 3);
	assert_int_equal(r->pid, 7);
	assert_int_equal(r->kstack, 5);
	assert_int_equal(r->nframes, 3);
	assert_false(r->truncated);
	assert_memory_equal(r->ips, s1, sizeof(s1));
	assert_string_equal(r->comm, "app");
	assert_true(ustack_agg_row(a, 4)->truncated);
	assert_null(ustack_agg_row(a, 5));
	ustack_agg_free(a);
}

static void test_ustack_agg_rows_keep_their_index_and_counts_when_it_grows(void **state)
{
	struct ustack_agg *a = ustack_agg_new();

	assert_non_null(a);
	for (int round = 0; round < 2; round++)
		for (uint64_t i = 0; i < 5000; i++) {
			uint64_t ips[2] = { 0x1000 + i, 0x9000 };

			assert_int_equal(ustack_agg_add(a, 1, "x", -1, ips, 2, false), 0);
		}
	assert_int_equal(ustack_agg_count(a), 5000);
	for (size_t i = 0; i < 5000; i++) {
		const struct ustack_row *r = ustack_agg_row(a, i);

		assert_int_equal(r->ips[0], 0x1000 + i);
		assert_int_equal(r->count, 2);
	}
	ustack_agg_free(a);
}

static void test_ustack_agg_caps_depth_and_marks_it_cut(void **state)
{
	struct ustack_agg *a = ustack_agg_new();
	uint64_t ips[USTACK_MAX_DEPTH + 5];

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
		ips[i] = 0x1000 + i;
	assert_int_equal(ustack_agg_add(a, 1, "a-very-long-command-name", -1, ips,
					USTACK_MAX_DEPTH + 5, false), 0);
	assert_int_equal(ustack_agg_row(a, 0)->nframes, USTACK_MAX_DEPTH);
	assert_true(ustack_agg_row(a, 0)->truncated);
	assert_int_equal(strlen(ustack_agg_row(a, 0)->comm), 15);
	ustack_agg_free(a);
}

static void test_cpu_call_graph_option_accepts_perf_spellings_only(void **state)
{
	const struct collector *c = collector_find("cpu");
	void *opts;

	assert_non_null(c);
	assert_non_null(c->set_option);
	opts = calloc(1, c->opts_size);
	assert_non_null(opts);
	assert_int_equal(c->set_option(opts, "call-graph", "fp"), 0);
	assert_int_equal(c->set_option(opts, "call-graph", "dwarf"), 0);
	assert_int_equal(c->set_option(opts, "call-graph", "dwarf,16384"), 0);
	assert_int_equal(c->set_option(opts, "call-graph", "dwarf,65528"), 0);
	assert_int_equal(c->set_option(opts, "call-graph", "dwarf,65536"), -EINVAL);
	assert_int_equal(c->set_option(opts, "call-graph", "dwarf,4"), -EINVAL);
	assert_int_equal(c->set_option(opts, "call-graph", "dwarf,"), -EINVAL);
	assert_int_equal(c->set_option(opts, "call-graph", "dwarfx"), -EINVAL);
	assert_int_equal(c->set_option(opts, "call-graph", "lbr"), -EINVAL);
	free(opts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ustack_decode_reads_an_unaligned_event),
		cmocka_unit_test(test_ustack_decode_refuses_short_foreign_and_overlong_events),
		cmocka_unit_test(test_ustack_read_word_only_inside_the_copy),
		cmocka_unit_test(test_ustack_agg_counts_the_same_stack_once),
		cmocka_unit_test(test_ustack_agg_rows_keep_their_index_and_counts_when_it_grows),
		cmocka_unit_test(test_ustack_agg_caps_depth_and_marks_it_cut),
		cmocka_unit_test(test_cpu_call_graph_option_accepts_perf_spellings_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
