// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the packed EVENTS encoding: round trips and malformed blocks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "evpack.h"

/* splitmix64: deterministic, so a failure reproduces */
static uint64_t prng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct packed {
	uint8_t *buf;
	size_t len;
	/* the same records in the version 1 layout, what decoding must give */
	uint8_t *want;
	size_t want_len;
};

static void add(struct evpack *p, struct packed *b, uint16_t col,
		const uint8_t *data, uint16_t len)
{
	size_t n = evpack_add(p, b->buf + b->len, col, data, len);

	assert_true(n > 0 && n <= evpack_worst(len));
	b->len += n;
	b->want[b->want_len] = (uint8_t)col;
	b->want[b->want_len + 1] = (uint8_t)(col >> 8);
	b->want[b->want_len + 2] = (uint8_t)len;
	b->want[b->want_len + 3] = (uint8_t)(len >> 8);
	memcpy(b->want + b->want_len + 4, data, len);
	b->want_len += 4 + (size_t)len;
}

static void packed_init(struct packed *b, struct evpack *p, size_t cap)
{
	b->buf = calloc(1, cap);
	b->want = calloc(1, cap * 2);
	assert_non_null(b->buf);
	assert_non_null(b->want);
	b->len = EVPACK_HDR;
	b->want_len = 0;
	memset(p, 0, sizeof(*p));
	evpack_reset(p);
}

static void packed_free(struct packed *b, struct evpack *p)
{
	free(b->buf);
	free(b->want);
	evpack_free(p);
}

static int decode(const struct packed *b, uint8_t **out, const char **why)
{
	uint32_t out_len;
	int ret = evpack_out_len(b->buf, b->len, &out_len);

	if (ret)
		return ret;
	*out = malloc(out_len + 1);
	assert_non_null(*out);
	return evpack_decode(b->buf, b->len, *out, out_len, why);
}

/*
 * Records like real ones (a timestamp that grows, fields that repeat, a
 * changing tail) mixed with random ones, of every length from 0 to 300
 * (tails that are not a multiple of 8), across collector ids inside and
 * past the reference table, in several blocks.
 */
static void test_evpack_round_trips_similar_and_random_records(void **state)
{
	uint8_t rec[64][300] = { { 0 } }, data[300];
	uint16_t lens[64] = { 0 };
	uint64_t s = 7;

	(void)state;
	for (int blk = 0; blk < 20; blk++) {
		struct evpack p;
		struct packed b;
		const char *why = NULL;
		uint8_t *out = NULL;

		packed_init(&b, &p, 4 << 20);
		for (int i = 0; i < 2000; i++) {
			uint16_t col = prng(&s) % 40, len;
			uint64_t r = prng(&s);

			if (r % 3 && lens[col]) {
				uint64_t ts;

				/* like the last one: a later timestamp, one byte changed */
				len = lens[col];
				memcpy(data, rec[col], len);
				if (len >= 16) {
					memcpy(&ts, data + 8, 8);
					ts += r % 100000;
					memcpy(data + 8, &ts, 8);
				}
				if (len)
					data[r % len] ^= (uint8_t)(r >> 32);
			} else {
				len = prng(&s) % 301;
				for (int j = 0; j < len; j++)
					data[j] = (prng(&s) % 4) ? (uint8_t)prng(&s) : 0;
			}
			add(&p, &b, col, data, len);
			memcpy(rec[col], data, len);
			lens[col] = len;
		}
		evpack_finish(&p, b.buf);
		assert_int_equal(p.out_len, b.want_len);
		assert_int_equal(decode(&b, &out, &why), 0);
		assert_memory_equal(out, b.want, b.want_len);
		free(out);
		packed_free(&b, &p);
	}
}

/* Repeated records cost a tag and their zero masks; the first, its bytes. */
static void test_evpack_repeated_record_is_one_byte_per_8(void **state)
{
	struct evpack p;
	struct packed b;
	uint8_t ev[88];

	(void)state;
	memset(ev, 0x5a, sizeof(ev));
	packed_init(&b, &p, 4096);
	add(&p, &b, 1, ev, sizeof(ev));
	assert_int_equal(b.len, EVPACK_HDR + 2 + 11 + 88);
	add(&p, &b, 1, ev, sizeof(ev));
	assert_int_equal(b.len, EVPACK_HDR + 2 + 11 + 88 + 1 + 11);
	/* a timestamp 1000 ns later: one group holds two bytes */
	ev[8] += 0xe8;
	ev[9] += 0x03;
	add(&p, &b, 1, ev, sizeof(ev));
	assert_int_equal(b.len, EVPACK_HDR + 2 + 11 + 88 + 1 + 11 + 1 + 11 + 2);
	packed_free(&b, &p);
}

/* A small valid block to break: three records of two collectors. */
static void small_block(struct evpack *p, struct packed *b)
{
	uint8_t a[20], c[8];

	for (int i = 0; i < 20; i++)
		a[i] = (uint8_t)(i * 7 + 1);
	memset(c, 3, sizeof(c));
	packed_init(b, p, 1024);
	add(p, b, 2, a, sizeof(a));
	a[3]++;
	add(p, b, 2, a, sizeof(a));
	add(p, b, 9, c, sizeof(c));
	evpack_finish(p, b->buf);
}

static void expect_bad(const uint8_t *buf, size_t len, uint32_t out_len,
		       const char *why_part)
{
	uint8_t *out = malloc(out_len + 1);
	const char *why = NULL;

	assert_non_null(out);
	assert_int_equal(evpack_decode(buf, len, out, out_len, &why), -EBADMSG);
	assert_non_null(why);
	if (why_part)
		assert_non_null(strstr(why, why_part));
	free(out);
}

static void test_evpack_decode_rejects_malformed_blocks(void **state)
{
	struct evpack p;
	struct packed b;
	uint8_t copy[1024];
	uint32_t out_len;

	(void)state;
	small_block(&p, &b);
	out_len = p.out_len;
	/* every cut short of the end */
	for (size_t cut = EVPACK_HDR; cut < b.len; cut++)
		expect_bad(b.buf, cut, out_len, NULL);
	/* a record count that does not match */
	memcpy(copy, b.buf, b.len);
	copy[0]++;
	expect_bad(copy, b.len, out_len, "record count");
	/* a stated length the records do not fill, or pass */
	memcpy(copy, b.buf, b.len);
	copy[4]++;
	expect_bad(copy, b.len, out_len + 1, "record count or length");
	memcpy(copy, b.buf, b.len);
	copy[4] -= 1;
	expect_bad(copy, b.len, out_len - 1, "past the stated length");
	/* the header's length must be the one decoded into */
	expect_bad(b.buf, b.len, out_len + 1, "header");
	/* the first record cannot repeat a previous one */
	memcpy(copy, b.buf, b.len);
	copy[EVPACK_HDR] = 0;
	expect_bad(copy, b.len, out_len, "first record");
	/* mask bits past the last byte of a record (8 = 20 - 16 bytes left) */
	memcpy(copy, b.buf, b.len);
	copy[EVPACK_HDR + 2 + 2 * (1 + 8)] |= 0x80;
	expect_bad(copy, b.len, out_len, "mask bits");
	/* a length varint that never ends */
	memcpy(copy, b.buf, EVPACK_HDR);
	memset(copy + EVPACK_HDR, 0xff, 8);
	expect_bad(copy, EVPACK_HDR + 8, out_len, "bad record");
	packed_free(&b, &p);
}

/* The decoded size is refused before allocation when it cannot be true. */
static void test_evpack_out_len_bounded_by_encoded_size(void **state)
{
	uint8_t hdr[EVPACK_HDR + 10] = { 0 };
	uint32_t out_len;

	(void)state;
	hdr[4] = 80;	/* 10 encoded bytes decode to at most 80 */
	assert_int_equal(evpack_out_len(hdr, sizeof(hdr), &out_len), 0);
	assert_int_equal(out_len, 80);
	hdr[4] = 81;
	assert_int_equal(evpack_out_len(hdr, sizeof(hdr), &out_len), -EBADMSG);
	hdr[4] = 0;
	hdr[7] = 0xff;
	assert_int_equal(evpack_out_len(hdr, sizeof(hdr), &out_len), -EBADMSG);
	assert_int_equal(evpack_out_len(hdr, EVPACK_HDR - 1, &out_len), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evpack_round_trips_similar_and_random_records),
		cmocka_unit_test(test_evpack_repeated_record_is_one_byte_per_8),
		cmocka_unit_test(test_evpack_decode_rejects_malformed_blocks),
		cmocka_unit_test(test_evpack_out_len_bounded_by_encoded_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
