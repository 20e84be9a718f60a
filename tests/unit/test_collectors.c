// SPDX-License-Identifier: GPL-2.0
/* The collector registry and its hook rows: unique, and covering every BPF program. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "collector.h"
#include "stacks.h"

static void test_collector_ids_and_names_are_unique(void **state)
{
	(void)state;
	assert_true(ncollectors > 0 && ncollectors <= MAX_COLLECTORS);
	for (size_t i = 0; i < ncollectors; i++) {
		assert_non_null(collectors[i]->name);
		assert_true(collectors[i]->id != 0);
		assert_int_equal(collector_index(collectors[i]), (int)i);
		for (size_t j = i + 1; j < ncollectors; j++) {
			assert_string_not_equal(collectors[i]->name, collectors[j]->name);
			assert_int_not_equal(collectors[i]->id, collectors[j]->id);
		}
	}
}

static void test_proc_table_entries_follow_processes_within_memory_bounds(void **state)
{
	(void)state;
	/* small values: 16 MiB buys max on few CPUs, less on many */
	assert_int_equal(proc_table_entries(300, 72, 2, 8192), 8192);
	assert_int_equal(proc_table_entries(300, 72, 64, 8192), 3640);
	assert_int_equal(proc_table_entries(9000, 72, 64, 8192), 8192);
	/* 4304-byte values on 2 CPUs: 16 MiB buys 1949 entries */
	assert_int_equal(proc_table_entries(100, 4304, 2, 8192), 1949);
	assert_int_equal(proc_table_entries(3000, 4304, 2, 8192), 6256);
	/* on 64 CPUs 256 MiB caps it at 974 entries */
	assert_int_equal(proc_table_entries(1500, 4304, 64, 8192), 974);
	/* never under 256 entries, nor over max */
	assert_int_equal(proc_table_entries(0, 4304, 1024, 8192), 256);
	assert_int_equal(proc_table_entries(0, 4304, 1024, 100), 100);
	/* the kernel rounds values up to 8 bytes; an unknown CPU count is 1 */
	assert_int_equal(proc_table_entries(0, 4300, 2, 8192), 1949);
	assert_int_equal(proc_table_entries(0, 4304, -1, 8192), 3898);
}

static void test_hook_names_unique_within_a_collector(void **state)
{
	(void)state;
	for (size_t i = 0; i < ncollectors; i++) {
		const struct collector *c = collectors[i];

		assert_true(c->nhooks <= MAX_HOOKS);
		for (size_t a = 0; a < c->nhooks; a++)
			for (size_t b = a + 1; b < c->nhooks; b++)
				assert_string_not_equal(c->hooks[a].name, c->hooks[b].name);
		for (size_t k = 0; k < c->ncompanions; k++)
			assert_true(c->companions[k].hook < c->nhooks);
	}
}

/*
 * A program no row names would never be loaded, or (worse) loaded on
 * every method at once: each must belong to a hook, a companion or the
 * shared follow_fork hook (or be a program its collector runs itself).
 */
static void test_every_bpf_program_is_reachable_from_a_hook_row(void **state)
{
	struct rec_opts o = { 0 };
	int checked = 0;

	(void)state;
	for (size_t i = 0; i < ncollectors; i++) {
		const struct collector *c = collectors[i];
		struct bpf_object *obj = NULL;
		struct bpf_program *p;
		void *skel;

		if (!c->skel)
			continue;
		skel = c->skel->open(&o, &obj);
		assert_non_null(skel);
		bpf_object__for_each_program(p, obj) {
			int owner = collector_prog_owner(c, bpf_program__name(p));

			/*
			 * run by the collector itself, not on a hook: syscall
			 * programs (end()) and raw_tp ones of no tracepoint
			 * (run on a chosen CPU: tcp_flush)
			 */
			if (bpf_program__type(p) == BPF_PROG_TYPE_SYSCALL ||
			    !strcmp(bpf_program__section_name(p), "raw_tp"))
				continue;
			if (owner == -1)
				fail_msg("%s: BPF program %s belongs to no hook row", c->name,
					 bpf_program__name(p));
			checked++;
		}
		c->skel->destroy(skel);
	}
	assert_true(checked > 0);
}

static const struct hook_spec specs[] = {
	{ "cat:a", HOOK_CHAIN_TP, false, NULL, .progs = "a" },
	{ "cat:b", HOOK_CHAIN_TP, true, NULL, .progs = "b_enter,b_exit" },
	{ "lib:u", M(HOOK_UPROBE), true, NULL, .progs = "u_enter,u_exit" },
};
static const struct hook_companion comps[] = { { "a_node", "cat:a_node", 0 } };
static const struct collector fake = {
	.name = "fake", .hooks = specs, .nhooks = 3, .companions = comps, .ncompanions = 1,
};

static void test_program_names_map_to_their_row_by_stem_and_method(void **state)
{
	(void)state;
	assert_int_equal(collector_prog_owner(&fake, "a_btf"), 0);
	assert_int_equal(collector_prog_owner(&fake, "a_raw"), 0);
	assert_int_equal(collector_prog_owner(&fake, "a_tp"), 0);
	assert_int_equal(collector_prog_owner(&fake, "b_exit_tp"), 1);
	assert_int_equal(collector_prog_owner(&fake, "u_exit"), 2);
	assert_int_equal(collector_prog_owner(&fake, "a_node_raw"), 3);
	assert_int_equal(collector_prog_owner(&fake, "follow_fork_btf"), -2);
	/* a method the row does not have, a bare stem, a prefix: nobody's */
	assert_int_equal(collector_prog_owner(&fake, "a_kprobe"), -1);
	assert_int_equal(collector_prog_owner(&fake, "a"), -1);
	assert_int_equal(collector_prog_owner(&fake, "b_tp"), -1);
	assert_int_equal(collector_prog_owner(&fake, "u_exit_btf"), -1);
}

static void test_collector_options_start_from_defaults_per_context(void **state)
{
	struct rec_opts o1 = { 0 }, o2 = { 0 };

	(void)state;
	for (size_t i = 0; i < ncollectors; i++) {
		const struct collector *c = collectors[i];
		void *a, *b;

		if (!c->set_option)
			continue;
		a = rec_opts_col(&o1, i);
		b = rec_opts_col(&o2, i);
		assert_non_null(a);
		assert_ptr_not_equal(a, b);
		assert_ptr_equal(rec_opts_col(&o1, i), a);
		if (c->opts_default)
			assert_memory_equal(a, c->opts_default, c->opts_size);
	}
	rec_opts_release(&o1);
	rec_opts_release(&o2);
	assert_null(o1.col_opts[0]);
}

static uint64_t mask_of(const char *a, const char *b)
{
	uint64_t m = 1ULL << collector_index(collector_find(a));

	return b ? m | 1ULL << collector_index(collector_find(b)) : m;
}

static void test_ring_is_small_only_when_every_collector_asks_for_less(void **state)
{
	struct rec_opts o = { 0 };
	int cpu = collector_index(collector_find("cpu"));

	(void)state;
	assert_int_equal(collectors_ring_bytes(mask_of("cpu", "offcpu"), &o), STACKS_RING_BYTES);
	assert_int_equal(collectors_ring_bytes(mask_of("offcpu", "sched"), &o), DEFAULT_RING_BYTES);
	assert_int_equal(collectors_ring_bytes(mask_of("bio", NULL), &o), DEFAULT_RING_BYTES);
	/* dwarf stacks stream every sample through the ring */
	assert_int_equal(collectors[cpu]->set_option(rec_opts_col(&o, cpu), "call-graph", "dwarf"), 0);
	assert_int_equal(collectors_ring_bytes(mask_of("cpu", "offcpu"), &o), DEFAULT_RING_BYTES);
	o.ring_bytes = 1u << 16;
	assert_int_equal(collectors_ring_bytes(mask_of("cpu", "offcpu"), &o), 1u << 16);
	rec_opts_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collector_ids_and_names_are_unique),
		cmocka_unit_test(test_hook_names_unique_within_a_collector),
		cmocka_unit_test(test_proc_table_entries_follow_processes_within_memory_bounds),
		cmocka_unit_test(test_every_bpf_program_is_reachable_from_a_hook_row),
		cmocka_unit_test(test_program_names_map_to_their_row_by_stem_and_method),
		cmocka_unit_test(test_collector_options_start_from_defaults_per_context),
		cmocka_unit_test(test_ring_is_small_only_when_every_collector_asks_for_less),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
