// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the ring consumer's walk over a ring laid out as the kernel writes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "ringread.h"

#define SIZE 256	/* data bytes: small, so records wrap */

struct ring {
	uint8_t data[SIZE];
	uint64_t cons, prod;
};

/* What the kernel's reserve + commit leave: header, payload, 8-aligned. */
static void put(struct ring *r, const uint8_t *payload, uint32_t len, uint32_t flags)
{
	uint64_t off = r->prod & (SIZE - 1);
	uint32_t hdr[2] = { len | flags, 0 };

	memcpy(r->data + off, hdr, sizeof(hdr));
	for (uint32_t i = 0; i < len; i++)
		r->data[(off + BPF_RINGBUF_HDR_SZ + i) & (SIZE - 1)] = payload[i];
	r->prod += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
}

struct seen {
	int n;
	uint8_t rec[16][64];
	size_t len[16];
	int fail_at;		/* the callback refuses this record (1-based) */
};

static int collect(void *ctx, void *rec, size_t size)
{
	struct seen *s = ctx;

	if (s->n >= 16 || size > 64)
		return -E2BIG;
	memcpy(s->rec[s->n], rec, size);
	s->len[s->n] = size;
	s->n++;
	return s->n == s->fail_at ? -EIO : 0;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Records come out whole and in order, the one across the end of the data too. */
static void test_ring_walk_hands_over_records_wrapped_or_not(void **state)
{
	struct ring r = {};
	struct seen s = {};
	uint8_t want[8][40], *bounce = NULL;
	size_t cap = 0;
	long n;

	(void)state;
	/* 5 records of 40 bytes take 240: the 6th starts at 240 and wraps */
	for (int i = 0; i < 5; i++) {
		fill(want[i], 40, (uint8_t)i);
		put(&r, want[i], 40, 0);
	}
	n = ring_walk(r.data, SIZE, &r.cons, &r.prod, &bounce, &cap, collect, &s);
	assert_int_equal(n, 5);
	assert_int_equal(r.cons, r.prod);
	for (int i = 5; i < 8; i++) {
		fill(want[i], 40, (uint8_t)i);
		put(&r, want[i], 40 - (i - 5), 0);
	}
	assert_true((r.cons & (SIZE - 1)) + BPF_RINGBUF_HDR_SZ + 40 > SIZE);
	n = ring_walk(r.data, SIZE, &r.cons, &r.prod, &bounce, &cap, collect, &s);
	assert_int_equal(n, 3);
	assert_int_equal(s.n, 8);
	for (int i = 0; i < 8; i++) {
		size_t len = i < 5 ? 40 : 40 - (i - 5);

		assert_int_equal(s.len[i], len);
		assert_memory_equal(s.rec[i], want[i], len);
	}
	assert_int_equal(r.cons, r.prod);
	free(bounce);
}

/* A record still being written stops the walk there; it resumes once committed. */
static void test_ring_walk_stops_at_a_busy_record(void **state)
{
	struct ring r = {};
	struct seen s = {};
	uint8_t a[16], b[24], *bounce = NULL;
	uint64_t busy_at;
	size_t cap = 0;

	(void)state;
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	put(&r, a, sizeof(a), 0);
	busy_at = r.prod;
	put(&r, b, sizeof(b), BPF_RINGBUF_BUSY_BIT);
	put(&r, a, sizeof(a), 0);
	assert_int_equal(ring_walk(r.data, SIZE, &r.cons, &r.prod, &bounce, &cap, collect, &s), 1);
	assert_int_equal(r.cons, busy_at);
	/* committed: the busy bit cleared, as bpf_ringbuf_submit does */
	*(uint32_t *)(r.data + (busy_at & (SIZE - 1))) = sizeof(b);
	assert_int_equal(ring_walk(r.data, SIZE, &r.cons, &r.prod, &bounce, &cap, collect, &s), 2);
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.rec[1], b, sizeof(b));
	assert_int_equal(r.cons, r.prod);
	free(bounce);
}

/* Discarded records are stepped over, never handed over. */
static void test_ring_walk_skips_discarded_records(void **state)
{
	struct ring r = {};
	struct seen s = {};
	uint8_t a[12], *bounce = NULL;
	size_t cap = 0;

	(void)state;
	fill(a, sizeof(a), 3);
	put(&r, a, sizeof(a), BPF_RINGBUF_DISCARD_BIT);
	put(&r, a, sizeof(a), 0);
	assert_int_equal(ring_walk(r.data, SIZE, &r.cons, &r.prod, &bounce, &cap, collect, &s), 1);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.rec[0], a, sizeof(a));
	assert_int_equal(r.cons, r.prod);
}

/* A callback's error stops the walk after that record, which is not handed over again. */
static void test_ring_walk_callback_error_stops_after_the_record(void **state)
{
	struct ring r = {};
	struct seen s = { .fail_at = 2 };
	uint8_t a[8], *bounce = NULL;
	size_t cap = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		fill(a, sizeof(a), (uint8_t)i);
		put(&r, a, sizeof(a), 0);
	}
	assert_int_equal(ring_walk(r.data, SIZE, &r.cons, &r.prod, &bounce, &cap, collect, &s), -EIO);
	assert_int_equal(r.cons, 2 * 16);
	assert_int_equal(ring_walk(r.data, SIZE, &r.cons, &r.prod, &bounce, &cap, collect, &s), 1);
	assert_int_equal(s.n, 3);
	fill(a, sizeof(a), 2);
	assert_memory_equal(s.rec[2], a, sizeof(a));
}

struct watch {
	const uint64_t *cons;
	uint64_t pos;		/* where the record handed over starts */
	uint64_t last_seen;
	int changes;
	uint64_t max_behind;
};

static int watch_cons(void *ctx, void *rec, size_t size)
{
	struct watch *w = ctx;
	uint64_t seen = *w->cons;

	(void)rec;
	if (seen != w->last_seen)
		w->changes++;
	w->last_seen = seen;
	if (w->pos - seen > w->max_behind)
		w->max_behind = w->pos - seen;
	w->pos += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
	return 0;
}

/*
 * The consumer position goes back to the producers in steps of at most
 * 64 KiB during a walk (not after every record), and all of it at the end.
 */
static void test_ring_walk_hands_back_space_in_steps(void **state)
{
	const uint64_t size = 1 << 18;
	uint8_t *data = calloc(1, size), payload[120] = { 0 }, *bounce = NULL;
	uint64_t cons = 0, prod = 0;
	struct watch w = { .cons = &cons };
	size_t cap = 0;
	int nrec = 2000;

	(void)state;
	assert_non_null(data);
	for (int i = 0; i < nrec; i++) {
		uint32_t hdr[2] = { sizeof(payload), 0 };

		memcpy(data + prod, hdr, sizeof(hdr));
		memcpy(data + prod + BPF_RINGBUF_HDR_SZ, payload, sizeof(payload));
		prod += (sizeof(payload) + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
	}
	assert_true(prod < size);
	assert_int_equal(ring_walk(data, size, &cons, &prod, &bounce, &cap, watch_cons, &w), nrec);
	assert_int_equal(cons, prod);
	/* 2000 records of 128 bytes: 250 KiB, released three times on the way */
	assert_int_equal(w.changes, 3);
	assert_true(w.max_behind < (64 << 10) + 128);
	free(data);
	free(bounce);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_walk_hands_over_records_wrapped_or_not),
		cmocka_unit_test(test_ring_walk_stops_at_a_busy_record),
		cmocka_unit_test(test_ring_walk_skips_discarded_records),
		cmocka_unit_test(test_ring_walk_callback_error_stops_after_the_record),
		cmocka_unit_test(test_ring_walk_hands_back_space_in_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
