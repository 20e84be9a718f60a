// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/collectors/uprobe_place.c: where a uprobe may leave the entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "syms.h"
#include "uprobe_place.h"

static void place(const uint8_t *code, size_t len, unsigned int need, unsigned int null_reg,
		  struct place_result *r)
{
	struct place_req q = { .func = "f", .vaddr = 0x1000, .size = len,
			       .need_regs = need, .null_skip_reg = null_reg };

	uprobe_place_code(code, len, &q, r);
}

/* glibc 2.36 free: test %rdi,%rdi; je rel32; push %rbp */
static const uint8_t free_like[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00,
				     0x55, 0x48, 0x8d, 0x77, 0xf0 };

static void test_place_free_skips_null_check_to_push(void **state)
{
	struct place_result r;

	place(free_like, sizeof(free_like), PR_RDI, PR_RDI, &r);
	assert_int_equal(r.offset, 9);
	assert_true(r.emulated);
	assert_non_null(strstr(r.why, "NULL"));
}

static void test_place_without_null_skip_stops_on_the_jcc(void **state)
{
	struct place_result r;

	/* the je itself is emulated and every call reaches it */
	place(free_like, sizeof(free_like), PR_RDI, 0, &r);
	assert_int_equal(r.offset, 3);
	assert_true(r.emulated);
}

static void test_place_emulated_entry_stays(void **state)
{
	static const uint8_t malloc_like[] = { 0x41, 0x54, 0x55, 0x53 };	/* push r12 */
	struct place_result r;

	place(malloc_like, sizeof(malloc_like), PR_RDI, 0, &r);
	assert_int_equal(r.offset, 0);
	assert_true(r.emulated);
}

static void test_place_rip_relative_compare_is_stepped_over(void **state)
{
	/* cmpb $0x0,0x140201(%rip); push %r12 (posix_memalign) */
	static const uint8_t c[] = { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54 };
	struct place_result r;

	place(c, sizeof(c), PR_RDI | PR_RSI | PR_RDX, 0, &r);
	assert_int_equal(r.offset, 7);
	assert_true(r.emulated);
}

static void test_place_argument_write_keeps_entry(void **state)
{
	/* mov %rsi,%rax; mul %rdx (writes rdx, an argument); push %rbp */
	static const uint8_t c[] = { 0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x55 };
	struct place_result r;

	place(c, sizeof(c), PR_RDI | PR_RSI | PR_RDX, 0, &r);
	assert_int_equal(r.offset, 0);
	assert_false(r.emulated);
	assert_non_null(strstr(r.why, "argument register"));
	/* the same code is fine when rdx is not needed */
	place(c, sizeof(c), PR_RDI | PR_RSI, 0, &r);
	assert_int_equal(r.offset, 6);
}

static void test_place_stack_move_keeps_entry(void **state)
{
	/* sub $0x18,%rsp; push %rbx */
	static const uint8_t c[] = { 0x48, 0x83, 0xec, 0x18, 0x53 };
	struct place_result r;

	place(c, sizeof(c), PR_RDI, 0, &r);
	assert_int_equal(r.offset, 0);
	assert_non_null(strstr(r.why, "stack pointer"));
}

static void test_place_memory_write_keeps_entry(void **state)
{
	/* mov %rax,(%rcx); push %rbp */
	static const uint8_t c[] = { 0x48, 0x89, 0x01, 0x55 };
	struct place_result r;

	place(c, sizeof(c), PR_RDI, 0, &r);
	assert_int_equal(r.offset, 0);
	assert_non_null(strstr(r.why, "memory"));
}

static void test_place_syscall_keeps_entry(void **state)
{
	/* munmap: mov $0xb,%eax; syscall */
	static const uint8_t c[] = { 0xb8, 0x0b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3 };
	struct place_result r;

	place(c, sizeof(c), PR_RDI | PR_RSI, 0, &r);
	assert_int_equal(r.offset, 0);
	assert_non_null(strstr(r.why, "control flow"));
}

static void test_place_null_test_on_other_register_is_not_a_skip(void **state)
{
	/* test %rsi,%rsi; je; push %rbp: the branch depends on rsi, not rdi */
	static const uint8_t c[] = { 0x48, 0x85, 0xf6, 0x0f, 0x84, 0x10, 0x00, 0x00, 0x00, 0x55 };
	struct place_result r;

	place(c, sizeof(c), PR_RDI, PR_RDI, &r);
	/* it may still sit on the je (every call passes it), never past it */
	assert_int_equal(r.offset, 3);
}

/* On this machine's libc: free moves past its NULL check, malloc stays. */
static void test_place_real_libc(void **state)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	struct place_req q[2] = {
		{ .func = "free", .need_regs = PR_RDI, .null_skip_reg = PR_RDI },
		{ .func = "malloc", .need_regs = PR_RDI },
	};
	struct place_result r[2];
	struct elf_func f;
	uint8_t b[10];
	struct timespec t0, t1;
	int fd;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(elf_find_func(libc, q[i].func, &f), 0);
		q[i].vaddr = f.vaddr;
		q[i].size = f.size;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(uprobe_place(libc, q, 2, r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "  libc analysis took %.0f ms; free: %s; malloc: %s\n",
		(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, r[0].why, r[1].why);
	assert_int_equal(elf_find_func(libc, "free", &f), 0);
	fd = open(libc, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, sizeof(b), f.file_off), sizeof(b));
	close(fd);
	if (!memcmp(b, free_like, 5) && b[9] == 0x55)
		assert_int_equal(r[0].offset, 9);
	else
		assert_true(r[0].offset == 0 || r[0].emulated);
	assert_true(r[1].emulated || r[1].offset == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place_free_skips_null_check_to_push),
		cmocka_unit_test(test_place_without_null_skip_stops_on_the_jcc),
		cmocka_unit_test(test_place_emulated_entry_stays),
		cmocka_unit_test(test_place_rip_relative_compare_is_stepped_over),
		cmocka_unit_test(test_place_argument_write_keeps_entry),
		cmocka_unit_test(test_place_stack_move_keeps_entry),
		cmocka_unit_test(test_place_memory_write_keeps_entry),
		cmocka_unit_test(test_place_syscall_keeps_entry),
		cmocka_unit_test(test_place_null_test_on_other_register_is_not_a_skip),
		cmocka_unit_test(test_place_real_libc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
