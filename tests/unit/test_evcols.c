// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the column EVENTS encoding: real and made-up records round trip, bad blocks refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "evcols.h"
#include "session.h"

/* splitmix64: deterministic, so a failure reproduces */
static uint64_t prng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Records in the version 1 layout, as the writer gathers them. */
struct rows {
	uint8_t *buf;
	size_t len, cap;
	struct evcols_classes cl;
};

static bool rows_add(struct rows *r, uint16_t col, const void *data, uint16_t len)
{
	if (r->len + 4 + len > r->cap || evcols_class(&r->cl, col, len) < 0)
		return false;
	r->buf[r->len] = (uint8_t)col;
	r->buf[r->len + 1] = (uint8_t)(col >> 8);
	r->buf[r->len + 2] = (uint8_t)len;
	r->buf[r->len + 3] = (uint8_t)(len >> 8);
	memcpy(r->buf + r->len + 4, data, len);
	r->len += 4 + (size_t)len;
	return true;
}

static void rows_init(struct rows *r, size_t cap)
{
	r->buf = malloc(cap);
	assert_non_null(r->buf);
	r->len = 0;
	r->cap = cap;
	evcols_classes_reset(&r->cl);
}

/*
 * The records e holds, in the EVENTS_SPLIT layout, decode to r's bytes
 * again: the length of the plain area.
 */
static size_t split_round_trip(struct evcols_enc *e, const struct rows *r)
{
	uint8_t *enc = malloc(evcols_bound(r->len) + 4), *dec = malloc(r->len + 1);
	const char *why = "";
	uint32_t out_len;
	size_t n, plain;

	assert_non_null(enc);
	assert_non_null(dec);
	n = evcols_finish_split(e, enc, &plain);
	assert_true(n > 0 && n <= evcols_bound(r->len) + 4);
	assert_true(plain >= 4 && plain <= n);
	assert_int_equal(plain - 4, enc[0] | enc[1] << 8 | enc[2] << 16 | (uint32_t)enc[3] << 24);
	assert_int_equal(evcols_split_out_len(enc, n, &out_len), 0);
	assert_int_equal(out_len, r->len);
	if (evcols_split_decode(enc, n, dec, out_len, &why))
		fail_msg("split decode: %s", why);
	assert_memory_equal(dec, r->buf, r->len);
	free(dec);
	free(enc);
	return plain - 4;
}

/*
 * Encode and decode r: the same bytes come back, in both layouts; the
 * encoded size in *enc_len.
 */
static void round_trip(struct evcols_enc *e, const struct rows *r, size_t *enc_len)
{
	uint8_t *enc = malloc(evcols_bound(r->len)), *dec;
	const char *why = "";
	uint32_t out_len;
	size_t n;

	assert_non_null(enc);
	n = evcols_encode(e, r->buf, r->len, enc);
	assert_true(n > 0 && n <= evcols_bound(r->len));
	assert_int_equal(evcols_out_len(enc, n, &out_len), 0);
	assert_int_equal(out_len, r->len);
	dec = malloc(out_len + 1);
	assert_non_null(dec);
	if (evcols_decode(enc, n, dec, out_len, &why))
		fail_msg("decode: %s", why);
	assert_memory_equal(dec, r->buf, r->len);
	if (enc_len)
		*enc_len = n;
	free(dec);
	free(enc);
	split_round_trip(e, r);
}

static uint8_t *malloc_buf(uint8_t **p, size_t n)
{
	*p = malloc(n);
	assert_non_null(*p);
	return *p;
}

static const char *data_dir(void)
{
	const char *d = getenv("DISCO_TEST_DATA");

	return d ? d : "tests/data";
}

/*
 * Every record of the recorded fixtures (every collector that writes
 * events: sched, bio, tcp, alloc, cpu, offcpu), in blocks cut as the
 * writer cuts them, comes back byte for byte.
 */
static void test_evcols_round_trips_recorded_events_of_every_collector(void **state)
{
	static const char *const files[] = { "v1-all.session", "v2-cmd.session", "v3-cmd.session",
					     "v4-cmd.session", "v5-cmd.session", "v6-cmd.session" };
	struct evcols_enc e = { 0 };
	uint64_t per_col[16] = { 0 };
	size_t nblocks = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[4096], err[256];
		struct session_reader *sr;
		struct session_block blk;
		struct rows r;
		int ret;

		snprintf(path, sizeof(path), "%s/session/%s", data_dir(), files[f]);
		sr = session_open(path, err, sizeof(err));
		if (!sr)
			fail_msg("%s", err);
		rows_init(&r, SESSION_EVENTS_BLOCK);
		while ((ret = session_next_block(sr, &blk, err, sizeof(err))) == 1) {
			struct session_event ev;
			size_t pos = 0;

			if (blk.type != BLK_EVENTS)
				continue;
			while (session_event_next(&blk, &pos, &ev) == 1) {
				if (!rows_add(&r, ev.collector, ev.data, ev.len)) {
					round_trip(&e, &r, NULL);
					nblocks++;
					r.len = 0;
					evcols_classes_reset(&r.cl);
					assert_true(rows_add(&r, ev.collector, ev.data, ev.len));
				}
				per_col[ev.collector < 16 ? ev.collector : 0]++;
			}
		}
		assert_int_equal(ret, 0);
		if (r.len) {
			round_trip(&e, &r, NULL);
			nblocks++;
		}
		free(r.buf);
		session_reader_free(sr);
	}
	/* sched 1, bio 2, tcp 3, alloc 4, cpu 5, offcpu 6 */
	for (int id = 1; id <= 6; id++)
		if (!per_col[id])
			fail_msg("no records of collector %d in the fixtures", id);
	assert_true(nblocks >= 3);
	evcols_enc_free(&e);
}

/*
 * Made-up records: sched-like ones (a growing timestamp, fields that
 * repeat or alternate), random ones of every length up to 1100 (tails of
 * 1 to 3 bytes; rows past EVCOLS_MAX_LEN), several collectors mixed.
 */
static void test_evcols_round_trips_similar_and_random_records(void **state)
{
	struct evcols_enc e = { 0 };
	uint64_t s = 42;

	(void)state;
	for (int round = 0; round < 40; round++) {
		struct rows r;
		uint8_t rec[1100];
		uint64_t ts = prng(&s);

		rows_init(&r, 64 << 10);
		for (;;) {
			uint16_t col = (uint16_t)(prng(&s) % 5), len;

			if (col < 3) {
				len = 88;
				ts += prng(&s) % 100000;
				memset(rec, 0, len);
				memcpy(rec, &ts, 8);
				rec[8] = (uint8_t)(prng(&s) % 2);
				rec[20] = (uint8_t)(prng(&s) % 3 ? 7 : 9);
				memcpy(rec + 56, prng(&s) % 4 ? "stress-ng-switch" : "kworker/0:1\0\0\0\0", 16);
			} else {
				len = (uint16_t)(prng(&s) % (col == 3 ? 64 : 1100));
				for (int i = 0; i < len; i++)
					rec[i] = (uint8_t)prng(&s);
			}
			if (!rows_add(&r, (uint16_t)(col * 1000), rec, len))
				break;
		}
		round_trip(&e, &r, NULL);
		free(r.buf);
	}
	evcols_enc_free(&e);
}

/*
 * Identical records never decode to more than EVCOLS_MAX_EXPANSION times
 * their encoding (the reader's bound); a column that changes rarely takes
 * a bitmap and the changes, not planes.
 */
static void test_evcols_constant_columns_small_but_within_expansion(void **state)
{
	struct evcols_enc e = { 0 };
	uint8_t rec[88] = { 1, 2, 3 }, empty[1];
	size_t n_plain, n_rare, nrec = 0;
	struct rows r;

	(void)state;
	rows_init(&r, SESSION_EVENTS_BLOCK);
	while (rows_add(&r, 1, rec, sizeof(rec)))
		;
	round_trip(&e, &r, &n_plain);
	assert_true(r.len <= (n_plain - EVCOLS_HDR) * EVCOLS_MAX_EXPANSION);

	/* one random column (4 planes), every other column constant */
	for (int rare = 0; rare < 2; rare++) {
		r.len = 0;
		evcols_classes_reset(&r.cl);
		uint64_t seed = 1;

		for (uint32_t i = 0;; i++) {
			uint32_t v = (uint32_t)prng(&seed) | 0x01010101u;

			memcpy(rec + 8, &v, 4);
			rec[40] = rare ? (uint8_t)(i / 100) : 0;
			if (!rows_add(&r, 1, rec, sizeof(rec)))
				break;
			nrec = i + 1;
		}
		round_trip(&e, &r, rare ? &n_rare : &n_plain);
	}
	assert_true(n_plain < 4 * nrec + 200);
	assert_true(n_rare <= n_plain + (nrec + 7) / 8 + 4 * (nrec / 100 + 1));

	/* empty records: the class bytes keep the bound */
	r.len = 0;
	evcols_classes_reset(&r.cl);
	while (rows_add(&r, 3, empty, 0))
		;
	round_trip(&e, &r, &n_plain);
	assert_true(r.len <= (n_plain - EVCOLS_HDR) * EVCOLS_MAX_EXPANSION);
	free(r.buf);
	evcols_enc_free(&e);
}

/*
 * Every record count from 1 to 70 (the encoder works on 4 and 16 values
 * at a time, and on 4 records of 4 words: every remainder), records of
 * 18 bytes (four whole words, a 2-byte tail) next to records of another
 * class: each column takes the form its values call for, and all of them
 * round-trip.
 */
static void test_evcols_columns_of_every_count_take_their_form_and_round_trip(void **state)
{
	struct evcols_enc e = { 0 };
	uint64_t seed = 7;
	unsigned int forms = 0;

	(void)state;
	for (uint32_t n = 1; n <= 70; n++) {
		uint8_t *enc = malloc(evcols_bound(SESSION_EVENTS_BLOCK)), *p;
		uint32_t cnt, len2;
		struct rows r;
		size_t len;

		assert_non_null(enc);
		rows_init(&r, SESSION_EVENTS_BLOCK);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t w[5] = {
				1000 + 3 * i,				/* delta, 1 plane */
				i % 2 ? 0xffffu : 1,			/* raw, 2 planes */
				i / 17,					/* sparse */
				42,					/* constant */
				(uint32_t)prng(&seed) & 0xffffu,	/* the 2-byte tail */
			};
			uint8_t other[6] = { (uint8_t)i };

			assert_true(rows_add(&r, 9, w, 18));
			assert_true(rows_add(&r, 10, other, sizeof(other)));
		}
		round_trip(&e, &r, NULL);
		len = evcols_encode(&e, r.buf, r.len, enc);
		assert_true(len > EVCOLS_HDR);
		/* two classes (collector 9, 10; 1-byte varints), then the cls bytes */
		p = enc + EVCOLS_HDR;
		assert_int_equal(p[0], 9);
		assert_int_equal(p[1], 36);
		p += 4 + 2 * n;
		/* class 0's columns: mode, base, data */
		/* delta 3 (zigzag 6): plane 0 packed to 3 bits after its width, or none */
		assert_int_equal(p[0], n > 1 ? 128 | 1 : 0);
		assert_int_equal(p[1] | p[2] << 8, 1000);
		if (n > 1) {
			assert_int_equal(p[5], 3);
			p += 6 + (3 * n + 7) / 8;
		} else {
			p += 5;
		}
		/* the differences take 3 planes, the values 2 whole ones: not packed */
		cnt = n > 1 ? 2 : 0;
		assert_int_equal(p[0], n > 1 ? 16 | 3 : 0);
		p += 5 + cnt * n;
		/*
		 * constant (no plane) until it changes; then the smallest of:
		 * the changes with a bitmap, the values (up to 4) packed to
		 * their bits, the differences (0 or 1, zigzag 2) in 2 bits
		 */
		len2 = (n + 7) / 8 + 4 * ((n - 1) / 17);
		if (n <= 17) {
			assert_int_equal(p[0], 0);
		} else {
			unsigned int wv = 32 - (unsigned int)__builtin_clz((n - 1) / 17);
			size_t delta = 1 + (2 * n + 7) / 8, raw = 1 + (wv * n + 7) / 8;
			unsigned int want = len2 < delta && len2 < raw ? 32 :
					    raw < delta ? 128 | 16 | 1 : 128 | 1;

			assert_int_equal(p[0], want);
			forms |= want == 32 ? 1 : want & 16 ? 2 : 4;
		}
		free(r.buf);
		free(enc);
	}
	assert_int_equal(forms, 2 | 4);		/* values and differences, packed */
	evcols_enc_free(&e);
}

/* r encoded into a new buffer *enc; *dec has room for it decoded. */
static size_t encode_with_room(struct evcols_enc *e, const struct rows *r, uint8_t **enc,
			       uint8_t **dec)
{
	*enc = malloc(evcols_bound(r->len));
	*dec = malloc(r->len);
	assert_non_null(*enc);
	assert_non_null(*dec);
	return evcols_encode(e, r->buf, r->len, *enc);
}

/*
 * A column that holds the same changing values as an earlier word of its
 * class (a tgid beside its pid) is a 5-byte reference to it, a partial
 * last word too; constant and differing columns are not. A reference to
 * itself or a later word, or one whose values overflow a partial word,
 * is refused.
 */
static void test_evcols_copied_column_is_a_reference(void **state)
{
	struct evcols_enc e = { 0 };
	uint8_t *enc, *dec, *p;
	const char *why;
	struct rows r;
	size_t n, col;

	(void)state;
	rows_init(&r, 16 << 10);
	for (uint32_t i = 0; i < 100; i++) {
		/* pid, tgid (= pid), constant, constant, pid again in 2 bytes */
		uint32_t w[5] = { 300 + 7 * (i % 5), 300 + 7 * (i % 5), 5, 5, 300 + 7 * (i % 5) };

		assert_true(rows_add(&r, 3, w, 18));
	}
	round_trip(&e, &r, NULL);
	n = encode_with_room(&e, &r, &enc, &dec);
	/* one class (collector 3, len2 36), no cls bytes */
	p = enc + EVCOLS_HDR + 2;
	/* the differences (+7, -28: zigzag 14, 55): 1 plane of 6 bits */
	assert_int_equal(p[0], 128 | 1);
	assert_int_equal(p[5], 6);
	p += 6 + 75;
	assert_int_equal(p[0], 64);		/* word 1: word 0's */
	assert_int_equal(p[1], 0);
	p += 5;
	assert_int_equal(p[0], 0);		/* constant: its own, no planes */
	assert_int_equal(p[5], 0);		/* the same constant: still its own */
	p += 10;
	col = (size_t)(p - enc);
	assert_int_equal(p[0], 64);		/* the 2-byte tail: word 0's */
	assert_int_equal(p[1], 0);
	assert_int_equal((size_t)(p + 5 - enc), n);

	/* a reference to itself (word 4), then to a later word */
	for (uint8_t k = 4; k <= 5; k++) {
		enc[col + 1] = k;
		why = NULL;
		assert_int_equal(evcols_decode(enc, n, dec, (uint32_t)r.len, &why), -EBADMSG);
		assert_string_equal(why, "column refers to one not before it");
	}
	free(r.buf);
	free(enc);
	free(dec);

	/* word 0's values do not fit the 2-byte tail that refers to them */
	rows_init(&r, 16 << 10);
	for (uint32_t i = 0; i < 20; i++) {
		uint32_t w[2] = { 0x10000 * (i % 3 + 1), i };

		assert_true(rows_add(&r, 3, w, 6));
	}
	n = encode_with_room(&e, &r, &enc, &dec);
	/* word 0: the values, plane 2 only (1 to 3: 2 bits); then word 1 */
	p = enc + EVCOLS_HDR + 2;
	assert_int_equal(p[0], 128 | 16 | 4);
	assert_int_equal(p[5], 2);
	p += 6 + 5;
	p[0] = 64;
	memset(p + 1, 0, 4);
	why = NULL;
	assert_int_equal(evcols_decode(enc, (size_t)(p + 5 - enc), dec, (uint32_t)r.len, &why),
			 -EBADMSG);
	assert_string_equal(why, "value past the end of a record");
	free(r.buf);
	free(enc);
	free(dec);
	evcols_enc_free(&e);
}

/* A block holds at most EVCOLS_MAX_CLASSES classes: the next is refused. */
static void test_evcols_class_table_full_refuses_a_new_class(void **state)
{
	struct evcols_classes cl;

	(void)state;
	evcols_classes_reset(&cl);
	for (int i = 0; i < EVCOLS_MAX_CLASSES; i++)
		assert_int_equal(evcols_class(&cl, 1, (uint16_t)i), i);
	assert_int_equal(evcols_class(&cl, 2, 0), -1);
	/* known classes still found; every long record of a collector is one */
	assert_int_equal(evcols_class(&cl, 1, 17), 17);
	evcols_classes_reset(&cl);
	assert_int_equal(evcols_class(&cl, 1, EVCOLS_MAX_LEN + 1), 0);
	assert_int_equal(evcols_class(&cl, 1, 60000), 0);
	assert_int_equal(evcols_class(&cl, 1, EVCOLS_MAX_LEN), 1);
}

/*
 * A plane whose bytes need fewer than 8 bits is packed to them (version
 * 6): 10 values 0 and 5 take 3 bits each, 4 bytes after a width byte,
 * and decode back. A width of 0 or over 8, bits set past the last value,
 * and a column cut short are refused.
 */
static void test_evcols_narrow_planes_are_packed_and_checked(void **state)
{
	struct evcols_enc e = { 0 };
	uint8_t *enc, *dec, *p;
	const char *why;
	struct rows r;
	size_t n, col;

	(void)state;
	rows_init(&r, 4096);
	for (uint32_t i = 0; i < 10; i++) {
		/* the values take 3 bits, their differences (zigzag 10, 9) 4 */
		uint32_t v = 5 * (i % 2);

		assert_true(rows_add(&r, 2, &v, 4));
	}
	round_trip(&e, &r, NULL);
	n = encode_with_room(&e, &r, &enc, &dec);
	p = enc + EVCOLS_HDR + 2;
	col = (size_t)(p - enc);
	assert_int_equal(p[0], 128 | 16 | 1);	/* the values, plane 0, packed */
	assert_int_equal(p[5], 3);
	/* 0, 5, 0, 5, ...: bits 000 101 000 101 ..., low first */
	assert_int_equal(p[6], 0x28);
	assert_int_equal(p[9], 0x28);		/* 30 bits: the top 2 are 0 */
	assert_int_equal(n, col + 10);
	assert_int_equal(evcols_decode(enc, n, dec, (uint32_t)r.len, &why), 0);
	assert_memory_equal(dec, r.buf, r.len);

	for (int k = 0; k < 4; k++) {
		uint8_t save[2] = { p[5], p[9] };
		size_t len = n;

		if (k == 0)
			p[5] = 0;
		else if (k == 1)
			p[5] = 9;
		else if (k == 2)
			p[9] |= 0x40;
		else
			len = n - 1;
		why = NULL;
		assert_int_equal(evcols_decode(enc, len, dec, (uint32_t)r.len, &why), -EBADMSG);
		assert_string_equal(why, k < 2 ? "bad plane width" :
				    k == 2 ? "packed bits past the column" : "column cut short");
		p[5] = save[0];
		p[9] = save[1];
	}
	free(r.buf);
	free(enc);
	free(dec);
	evcols_enc_free(&e);
}

/*
 * A block cut at any length, or with any byte changed, decodes to an
 * error or to some records, never past its buffer (make asan checks).
 */
static void test_evcols_decode_rejects_cut_and_damaged_blocks(void **state)
{
	struct evcols_enc e = { 0 };
	uint8_t rec[1100], *enc, *dec;
	struct rows r;
	uint64_t s = 7;
	size_t n;
	const char *why;
	uint32_t out_len;

	(void)state;
	rows_init(&r, 16 << 10);
	for (int i = 0; i < 100; i++) {
		uint16_t len = (uint16_t)(i % 10 == 9 ? 1030 : 20 + i % 3);

		for (int j = 0; j < len; j++)
			rec[j] = (uint8_t)(prng(&s) % 4);
		if (!rows_add(&r, (uint16_t)(i % 3), rec, len))
			break;
	}
	enc = malloc(evcols_bound(r.len));
	assert_non_null(enc);
	n = evcols_encode(&e, r.buf, r.len, enc);
	assert_true(n > 0);
	dec = malloc(r.len);
	assert_non_null(dec);
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *c = malloc(cut + 1);

		assert_non_null(c);
		memcpy(c, enc, cut);
		why = NULL;
		if (!evcols_out_len(c, cut, &out_len) && out_len <= r.len) {
			assert_int_equal(evcols_decode(c, cut, dec, out_len, &why), -EBADMSG);
			assert_non_null(why);
		}
		free(c);
	}
	for (size_t i = 0; i < n; i++) {
		enc[i] ^= 0x5a;
		if (!evcols_out_len(enc, n, &out_len) && out_len <= r.len) {
			uint8_t *d = malloc(out_len + 1);

			assert_non_null(d);
			(void)evcols_decode(enc, n, d, out_len, &why);
			free(d);
		}
		enc[i] ^= 0x5a;
	}
	/* a stated length the encoding cannot reach */
	assert_int_equal(evcols_out_len(enc, EVCOLS_HDR - 1, &out_len), -EBADMSG);
	enc[4] = 0xff;
	enc[5] = 0xff;
	enc[6] = 0xff;
	enc[7] = 0x7f;
	assert_int_equal(evcols_out_len(enc, n, &out_len), -EBADMSG);
	free(dec);
	free(enc);
	free(r.buf);
	evcols_enc_free(&e);
}

/*
 * Records like the scheduler's (a timestamp a few microseconds apart, a
 * latency, pids, a CPU): the low bytes of the timestamp's differences
 * and of the latency, near random, go to the plain area, the rest stays
 * in the columns; all of it decodes again, and a damaged plain area or
 * its length is refused, never read past.
 */
static void test_evcols_split_keeps_noisy_planes_plain(void **state)
{
	struct evcols_enc e = { 0 };
	uint8_t rec[40] = { 0 }, *enc, *dec, *c;
	uint64_t s = 11, ts = 1000000000;
	const char *why;
	struct rows r;
	size_t n, plain, plain_len;
	uint32_t out_len;
	int nrec = 0;

	(void)state;
	rows_init(&r, 64 << 10);
	for (;;) {
		uint64_t lat = 500 + prng(&s) % 20000;
		uint32_t pid = 1000 + (uint32_t)(prng(&s) % 4);

		ts += 2000 + prng(&s) % 3000;
		memcpy(rec, &ts, 8);
		memcpy(rec + 8, &lat, 8);
		memcpy(rec + 16, &pid, 4);
		rec[20] = (uint8_t)(prng(&s) & 1);
		memcpy(rec + 24, "stress-ng", 10);
		if (!rows_add(&r, 1, rec, sizeof(rec)))
			break;
		nrec++;
	}
	assert_int_equal(evcols_encode(&e, r.buf, r.len, malloc_buf(&enc, evcols_bound(r.len))) > 0, 1);
	free(enc);
	plain_len = split_round_trip(&e, &r);
	/* two planes of one byte a record: the timestamp's and the latency's low bytes */
	assert_int_equal(plain_len, 2 * (size_t)nrec);

	enc = malloc(evcols_bound(r.len) + 4);
	dec = malloc(r.len);
	assert_non_null(enc);
	assert_non_null(dec);
	n = evcols_finish_split(&e, enc, &plain);
	/* without its plain area (length 0), the marked planes are bad widths */
	c = malloc(n);
	assert_non_null(c);
	memset(c, 0, 4);
	memcpy(c + 4, enc + plain, n - plain);
	if (!evcols_split_out_len(c, n - plain + 4, &out_len)) {
		assert_int_equal(evcols_split_decode(c, n - plain + 4, dec, out_len, &why), -EBADMSG);
		assert_string_equal(why, "bad plane width");
	}
	free(c);
	/* a plain area longer than the planes it holds, or than the block */
	enc[0]++;
	assert_int_equal(evcols_split_out_len(enc, n, &out_len), -EBADMSG);
	enc[0]--;
	enc[3] = 0x7f;
	assert_int_equal(evcols_split_out_len(enc, n, &out_len), -EBADMSG);
	assert_int_equal(evcols_split_decode(enc, n, dec, (uint32_t)r.len, &why), -EBADMSG);
	enc[3] = 0;
	/* cut anywhere: refused or short, never past the buffer (make asan) */
	for (size_t cut = 0; cut < n; cut += 7) {
		c = malloc(cut + 1);
		assert_non_null(c);
		memcpy(c, enc, cut);
		if (!evcols_split_out_len(c, cut, &out_len) && out_len <= r.len)
			assert_int_equal(evcols_split_decode(c, cut, dec, out_len, &why), -EBADMSG);
		free(c);
	}
	free(dec);
	free(enc);
	free(r.buf);
	evcols_enc_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evcols_round_trips_recorded_events_of_every_collector),
		cmocka_unit_test(test_evcols_round_trips_similar_and_random_records),
		cmocka_unit_test(test_evcols_constant_columns_small_but_within_expansion),
		cmocka_unit_test(test_evcols_columns_of_every_count_take_their_form_and_round_trip),
		cmocka_unit_test(test_evcols_copied_column_is_a_reference),
		cmocka_unit_test(test_evcols_narrow_planes_are_packed_and_checked),
		cmocka_unit_test(test_evcols_class_table_full_refuses_a_new_class),
		cmocka_unit_test(test_evcols_decode_rejects_cut_and_damaged_blocks),
		cmocka_unit_test(test_evcols_split_keeps_noisy_planes_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
