// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/output/out_pprof.c: profiles decoded back with protobuf-c's unpack. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <zlib.h>
#include "out_pprof.h"
#include "proto/profile.pb-c.h"

/*
 * A cpu collector at 100 Hz: hot under main (pid 7), a cut-short stack
 * with a kernel frame and an unnamed one (pid 8), 5 samples not listed.
 */
static json_t *cpu_col(void)
{
	json_error_t e;
	json_t *c = json_pack_ex(&e, 0,
		"{s:I, s:I, s:I, s:{s:s, s:s}, s:["
		" {s:I, s:s, s:I, s:b, s:[{s:s, s:s, s:I}, {s:s, s:s, s:I}]},"
		" {s:I, s:s, s:I, s:b, s:[{s:s, s:s, s:I, s:b}, {s:n, s:s, s:I, s:s}, {s:s, s:s, s:I}]}]}",
		"frequency_hz", (json_int_t)100, "samples", (json_int_t)45, "omitted_samples", (json_int_t)5,
		"build_ids", "prog", "ab12", "[kernel.kallsyms]", "cd34",
		"stacks",
		"pid", (json_int_t)7, "comm", "hotprog", "count", (json_int_t)30, "truncated", 0, "frames",
		"sym", "hot", "module", "prog", "offset", (json_int_t)4,
		"sym", "main", "module", "prog", "offset", (json_int_t)9,
		"pid", (json_int_t)8, "comm", "other", "count", (json_int_t)10, "truncated", 1, "frames",
		"sym", "schedule", "module", "[kernel.kallsyms]", "offset", (json_int_t)1, "kernel", 1,
		"sym", "module", "libz.so", "offset", (json_int_t)0x1f, "unnamed", "stripped",
		"sym", "main", "module", "prog", "offset", (json_int_t)12);

	assert_non_null(c);
	return c;
}

static Pprof__Profile *encode(const json_t *col, const char *name, const struct pprof_meta *m)
{
	Pprof__Profile *p;
	uint8_t *buf;
	size_t len;

	assert_int_equal(pprof_encode(col, name, m, &buf, &len), 0);
	p = pprof__profile__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(p);
	return p;
}

static const char *str(const Pprof__Profile *p, int64_t ix)
{
	assert_true(ix >= 0 && (size_t)ix < p->n_string_table);
	return p->string_table[ix];
}

static const Pprof__Location *loc(const Pprof__Profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const char *fn_name(const Pprof__Profile *p, uint64_t loc_id)
{
	const Pprof__Location *l = loc(p, loc_id);

	assert_int_equal(l->n_line, 1);
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == l->line[0]->function_id)
			return str(p, p->function[i]->name);
	fail_msg("no function %llu", (unsigned long long)l->line[0]->function_id);
	return NULL;
}

static const Pprof__Mapping *map_of(const Pprof__Profile *p, uint64_t loc_id)
{
	const Pprof__Location *l = loc(p, loc_id);

	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mapping[i]->id == l->mapping_id)
			return p->mapping[i];
	fail_msg("no mapping %llu", (unsigned long long)l->mapping_id);
	return NULL;
}

static const char *map_name(const Pprof__Profile *p, uint64_t loc_id)
{
	return str(p, map_of(p, loc_id)->filename);
}

static const char *map_build_id(const Pprof__Profile *p, uint64_t loc_id)
{
	return str(p, map_of(p, loc_id)->build_id);
}

/* The label key of sample s as a string ("" when absent), or its number in *num. */
static const char *label(const Pprof__Profile *p, const Pprof__Sample *s, const char *key, int64_t *num)
{
	for (size_t i = 0; i < s->n_label; i++)
		if (!strcmp(str(p, s->label[i]->key), key)) {
			if (num)
				*num = s->label[i]->num;
			return str(p, s->label[i]->str);
		}
	return NULL;
}

static void test_cpu_profile_has_both_sample_types_and_leaf_first_stacks(void **state)
{
	struct pprof_meta m = { .time_ns = 1700000000000000000LL, .duration_ns = 4000000000LL,
				.comment = "unit" };
	json_t *c = cpu_col();
	Pprof__Profile *p = encode(c, "cpu", &m);
	const Pprof__Sample *s;
	int64_t pid = 0, total = 0;

	assert_string_equal(p->string_table[0], "");
	assert_int_equal(p->n_sample_type, 2);
	assert_string_equal(str(p, p->sample_type[0]->type), "samples");
	assert_string_equal(str(p, p->sample_type[0]->unit), "count");
	assert_string_equal(str(p, p->sample_type[1]->type), "cpu");
	assert_string_equal(str(p, p->sample_type[1]->unit), "nanoseconds");
	assert_string_equal(str(p, p->default_sample_type), "cpu");
	assert_string_equal(str(p, p->period_type->type), "cpu");
	assert_int_equal(p->period, 10000000);
	assert_int_equal(p->time_nanos, m.time_ns);
	assert_int_equal(p->duration_nanos, m.duration_ns);
	assert_int_equal(p->n_comment, 1);
	assert_string_equal(str(p, p->comment[0]), "unit");
	/* two stacks and the unlisted ones */
	assert_int_equal(p->n_sample, 3);
	s = p->sample[0];
	assert_int_equal(s->n_value, 2);
	assert_int_equal(s->value[0], 30);
	assert_int_equal(s->value[1], 30 * 10000000LL);
	assert_int_equal(s->n_location_id, 2);
	assert_string_equal(fn_name(p, s->location_id[0]), "hot");
	assert_string_equal(fn_name(p, s->location_id[1]), "main");
	assert_string_equal(map_name(p, s->location_id[0]), "prog");
	assert_string_equal(map_build_id(p, s->location_id[0]), "ab12");
	assert_string_equal(label(p, s, "comm", NULL), "hotprog");
	assert_string_equal(label(p, s, "pid", &pid), "");
	assert_int_equal(pid, 7);
	assert_null(label(p, s, "truncated", NULL));
	for (size_t i = 0; i < p->n_sample; i++)
		total += p->sample[i]->value[0];
	assert_int_equal(total, 45);
	pprof__profile__free_unpacked(p, NULL);
	json_decref(c);
}

static void test_cut_short_stack_is_labelled_and_ends_in_a_marker_frame(void **state)
{
	json_t *c = cpu_col();
	Pprof__Profile *p = encode(c, "cpu", NULL);
	const Pprof__Sample *s = p->sample[1];

	assert_string_equal(label(p, s, "truncated", NULL), "yes");
	assert_int_equal(s->n_location_id, 4);
	assert_string_equal(fn_name(p, s->location_id[0]), "schedule");
	assert_string_equal(map_name(p, s->location_id[0]), "[kernel.kallsyms]");
	assert_string_equal(map_build_id(p, s->location_id[0]), "cd34");
	/* a module without one has none */
	assert_string_equal(map_build_id(p, s->location_id[1]), "");
	/* unnamed: module+offset as folded shows it, at that file offset */
	assert_string_equal(fn_name(p, s->location_id[1]), "libz.so+0x1f");
	assert_string_equal(map_name(p, s->location_id[1]), "libz.so");
	assert_int_equal(loc(p, s->location_id[1])->address, 0x1f);
	assert_string_equal(fn_name(p, s->location_id[2]), "main");
	assert_string_equal(fn_name(p, s->location_id[3]), "[truncated]");
	assert_int_equal(loc(p, s->location_id[3])->mapping_id, 0);
	/* main of the first stack is the same location: one per function */
	assert_int_equal(s->location_id[2], p->sample[0]->location_id[1]);
	pprof__profile__free_unpacked(p, NULL);
	json_decref(c);
}

static void test_unlisted_stacks_are_one_sample_so_totals_match(void **state)
{
	json_t *c = cpu_col();
	Pprof__Profile *p = encode(c, "cpu", NULL);
	const Pprof__Sample *s = p->sample[2];

	assert_int_equal(s->value[0], 5);
	assert_int_equal(s->value[1], 5 * 10000000LL);
	assert_int_equal(s->n_location_id, 1);
	assert_string_equal(fn_name(p, s->location_id[0]), "[other stacks]");
	assert_int_equal(s->n_label, 0);
	pprof__profile__free_unpacked(p, NULL);
	json_decref(c);
}

static void test_offcpu_values_are_blocks_and_blocked_ns(void **state)
{
	json_t *c = json_pack("{s:I, s:[{s:I, s:s, s:I, s:I, s:b, s:[{s:s, s:s, s:I}]}]}",
			      "omitted_ns", (json_int_t)77, "stacks",
			      "pid", (json_int_t)3, "comm", "sleeper", "blocked_ns", (json_int_t)300000000,
			      "count", (json_int_t)3, "truncated", 0, "frames",
			      "sym", "nanosleep", "module", "libc.so.6", "offset", (json_int_t)2);
	Pprof__Profile *p = encode(c, "offcpu", NULL);

	assert_int_equal(p->n_sample_type, 2);
	assert_string_equal(str(p, p->sample_type[0]->type), "blocks");
	assert_string_equal(str(p, p->sample_type[1]->type), "blocked");
	assert_string_equal(str(p, p->sample_type[1]->unit), "nanoseconds");
	assert_string_equal(str(p, p->default_sample_type), "blocked");
	assert_int_equal(p->n_sample, 2);
	assert_int_equal(p->sample[0]->value[0], 3);
	assert_int_equal(p->sample[0]->value[1], 300000000);
	assert_string_equal(fn_name(p, p->sample[0]->location_id[0]), "nanosleep");
	assert_int_equal(p->sample[1]->value[1], 77);
	pprof__profile__free_unpacked(p, NULL);
	json_decref(c);
}

static void test_alloc_sites_give_alloc_and_inuse_values(void **state)
{
	json_t *c = json_pack("{s:{s:I}, s:[{s:[s, s, s], s:[I], s:I, s:I, s:I, s:I}], s:[]}",
			      "sampling", "one_in", (json_int_t)4, "sites",
			      "stack", "leaky+0x1a (alloc_fixture)", "libx.so+0x40", "mystery",
			      "pids", (json_int_t)12,
			      "total_allocs", (json_int_t)8, "total_bytes", (json_int_t)800,
			      "outstanding_allocs", (json_int_t)4, "outstanding_bytes", (json_int_t)400,
			      "stacks");
	Pprof__Profile *p = encode(c, "alloc", NULL);
	const Pprof__Sample *s = p->sample[0];
	static const char *const types[] = { "alloc_objects", "alloc_space", "inuse_objects", "inuse_space" };
	static const int64_t want[] = { 8, 800, 4, 400 };
	int64_t pid = 0;

	assert_int_equal(p->n_sample_type, 4);
	for (int i = 0; i < 4; i++) {
		assert_string_equal(str(p, p->sample_type[i]->type), types[i]);
		assert_int_equal(s->value[i], want[i]);
	}
	assert_string_equal(str(p, p->default_sample_type), "inuse_space");
	assert_int_equal(p->period, 4);
	assert_int_equal(s->n_location_id, 3);
	assert_string_equal(fn_name(p, s->location_id[0]), "leaky");
	assert_string_equal(map_name(p, s->location_id[0]), "alloc_fixture");
	assert_string_equal(fn_name(p, s->location_id[1]), "libx.so+0x40");
	assert_int_equal(loc(p, s->location_id[1])->address, 0x40);
	assert_string_equal(fn_name(p, s->location_id[2]), "mystery");
	label(p, s, "pid", &pid);
	assert_int_equal(pid, 12);
	pprof__profile__free_unpacked(p, NULL);
	json_decref(c);
}

/* Another collector with flame-graph stacks: its own value, in its unit. */
static void test_other_stack_collector_has_its_value_as_the_one_type(void **state)
{
	json_t *c = json_pack("{s:[{s:s, s:I, s:[{s:s, s:s}]}]}", "stacks",
			      "comm", "heap", "bytes", (json_int_t)4096, "frames",
			      "sym", "grow", "module", "prog");
	Pprof__Profile *p = encode(c, "heapish", NULL);

	assert_int_equal(p->n_sample_type, 1);
	assert_string_equal(str(p, p->sample_type[0]->type), "heapish");
	assert_string_equal(str(p, p->sample_type[0]->unit), "bytes");
	assert_int_equal(p->n_sample, 1);
	assert_int_equal(p->sample[0]->value[0], 4096);
	assert_string_equal(fn_name(p, p->sample[0]->location_id[0]), "grow");
	pprof__profile__free_unpacked(p, NULL);
	json_decref(c);
}

static void test_collector_without_stacks_is_no_data(void **state)
{
	json_t *c = json_pack("{s:I}", "samples", (json_int_t)3);
	uint8_t *buf = (uint8_t *)"x";
	size_t len = 1;

	assert_int_equal(pprof_encode(c, "sched", NULL, &buf, &len), -ENODATA);
	assert_null(buf);
	assert_int_equal(len, 0);
	json_decref(c);
}

/* What pprof readers do first: gunzip. */
static void test_written_file_is_gzip_of_the_profile(void **state)
{
	json_t *c = cpu_col();
	char *file = NULL;
	size_t flen = 0;
	FILE *f = open_memstream(&file, &flen);
	uint8_t out[65536];
	z_stream z = { .next_in = NULL };
	Pprof__Profile *p;

	assert_non_null(f);
	assert_int_equal(pprof_write(c, "cpu", NULL, f), 0);
	fclose(f);
	assert_true(flen > 18);
	assert_int_equal((unsigned char)file[0], 0x1f);
	assert_int_equal((unsigned char)file[1], 0x8b);
	assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	z.next_in = (unsigned char *)file;
	z.avail_in = (unsigned)flen;
	z.next_out = out;
	z.avail_out = sizeof(out);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	p = pprof__profile__unpack(NULL, z.total_out, out);
	inflateEnd(&z);
	assert_non_null(p);
	assert_int_equal(p->n_sample, 3);
	assert_string_equal(fn_name(p, p->sample[0]->location_id[0]), "hot");
	pprof__profile__free_unpacked(p, NULL);
	free(file);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_profile_has_both_sample_types_and_leaf_first_stacks),
		cmocka_unit_test(test_cut_short_stack_is_labelled_and_ends_in_a_marker_frame),
		cmocka_unit_test(test_unlisted_stacks_are_one_sample_so_totals_match),
		cmocka_unit_test(test_offcpu_values_are_blocks_and_blocked_ns),
		cmocka_unit_test(test_alloc_sites_give_alloc_and_inuse_values),
		cmocka_unit_test(test_other_stack_collector_has_its_value_as_the_one_type),
		cmocka_unit_test(test_collector_without_stacks_is_no_data),
		cmocka_unit_test(test_written_file_is_gzip_of_the_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
