// SPDX-License-Identifier: GPL-2.0
/* Column encoding of EVENTS blocks: per-class word columns as byte planes (evcols.h). */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "evcols.h"
#include "varint.h"

#define FLAG_CLS	1u	/* the cls bytes are present though nclass <= 1 */
#define LEN2_ROWS	1u

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void evcols_classes_reset(struct evcols_classes *c)
{
	c->n = 0;
	c->last = -1;
}

static uint32_t class_key(uint16_t collector, uint16_t len)
{
	/* one rows class per collector, whatever the length */
	if (len > EVCOLS_MAX_LEN)
		return (uint32_t)collector << 16 | 0xffffu;
	return (uint32_t)collector << 16 | len;
}

int evcols_class(struct evcols_classes *c, uint16_t collector, uint16_t len)
{
	uint32_t key = class_key(collector, len);

	if (c->last >= 0 && c->key[c->last] == key)
		return c->last;
	for (int i = 0; i < c->n; i++) {
		if (c->key[i] == key) {
			c->last = i;
			return i;
		}
	}
	if (c->n == EVCOLS_MAX_CLASSES)
		return -1;
	c->key[c->n] = key;
	c->last = c->n;
	return c->n++;
}

void evcols_enc_free(struct evcols_enc *e)
{
	if (!e)
		return;
	free(e->at);
	free(e->cls);
	free(e->words);
	e->at = NULL;
	e->cls = NULL;
	e->words = NULL;
	e->cap = 0;
}

size_t evcols_bound(size_t rows_len)
{
	/*
	 * A record of len bytes (4 + len in rows): one cls byte, and either
	 * its words (len + 3 bytes at most) or a varint and itself; each
	 * class 6 bytes and a mode byte per word.
	 */
	return EVCOLS_HDR + rows_len + rows_len / 4 +
	       EVCOLS_MAX_CLASSES * (6 + 5 * (EVCOLS_MAX_LEN / 4 + 1));
}

static bool is_rows(uint32_t key)
{
	return (key & 0xffffu) == 0xffffu;
}

/* The planes (bit i: byte i) a value has non-zero bytes in. */
static unsigned int planes_of(uint32_t v)
{
	return (v & 0xffu ? 1u : 0) | (v & 0xff00u ? 2u : 0) |
	       (v & 0xff0000u ? 4u : 0) | (v & 0xff000000u ? 8u : 0);
}

static uint32_t load_word(const uint8_t *p, unsigned int tail)
{
	uint32_t v = 0;

	if (!tail)
		return ld32(p);
	for (unsigned int j = 0; j < tail; j++)
		v |= (uint32_t)p[j] << (8 * j);
	return v;
}

/*
 * Four values at once: the compiler's vector extension, which every
 * target has (SSE2 on x86-64, the baseline). A column is scanned and
 * written in steps of VEC_STEP values, the rest one by one.
 */
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
#define VEC_STEP	16

static u32x4 ld4(const uint32_t *p)
{
	u32x4 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t zigzag(uint32_t d)
{
	return d << 1 ^ (uint32_t)-(int32_t)(d >> 31);
}

static u32x4 zigzag4(u32x4 d)
{
	return d << 1 ^ (u32x4)((i32x4)d >> 31);
}

/* What the forms of a column would take (put_column). */
struct col_cost {
	uint32_t od;		/* the zigzag differences OR'ed */
	uint32_t ov;		/* the values OR'ed */
	uint32_t changed;	/* values that differ from the one before */
};

static struct col_cost col_cost(const uint32_t *v, uint32_t n)
{
	u32x4 od4 = { 0 }, ov4 = { 0 }, ch4 = { 0 };
	struct col_cost c = { 0 };
	uint32_t i = 1;

	for (; i + 4 <= n; i += 4) {
		u32x4 x = ld4(v + i), d = x - ld4(v + i - 1);

		od4 |= zigzag4(d);
		ov4 |= x;
		/* a comparison is -1 where true */
		ch4 -= (u32x4)(d != 0);
	}
	for (int k = 0; k < 4; k++) {
		c.od |= od4[k];
		c.ov |= ov4[k];
		c.changed += ch4[k];
	}
	for (; i < n; i++) {
		uint32_t d = v[i] - v[i - 1];

		c.od |= zigzag(d);
		c.ov |= v[i];
		c.changed += d != 0;
	}
	if (n)
		c.ov |= v[0];
	return c;
}

/* Byte shift / 8 of 16 values z[0..4) to dst: one byte plane's 16 bytes. */
static void put_plane16(uint8_t *dst, const u32x4 z[4], unsigned int shift)
{
#ifdef __SSE2__
	const __m128i lo = _mm_set1_epi32(0xff);
	__m128i a[4];

	for (int k = 0; k < 4; k++)
		a[k] = _mm_and_si128(_mm_srli_epi32((__m128i)z[k], (int)shift), lo);
	/* bytes in 32-bit lanes: saturating packs keep them as they are */
	_mm_storeu_si128((__m128i *)dst,
			 _mm_packus_epi16(_mm_packs_epi32(a[0], a[1]), _mm_packs_epi32(a[2], a[3])));
#else
	for (int k = 0; k < 16; k++)
		dst[k] = (uint8_t)(z[k / 4][k % 4] >> shift);
#endif
}

static bool same4(u32x4 a, u32x4 b)
{
#ifdef __SSE2__
	return _mm_movemask_epi8(_mm_cmpeq_epi32((__m128i)a, (__m128i)b)) == 0xffff;
#else
	u32x4 eq = (u32x4)(a == b);

	return (eq[0] & eq[1] & eq[2] & eq[3]) == UINT32_MAX;
#endif
}

/* Sparse form: a bitmap of the records whose value changed, and those values. */
static uint8_t *put_sparse(uint8_t *o, const uint32_t *v, uint32_t n)
{
	uint8_t *bits = o, *val = o + (n + 7) / 8;
	uint32_t i = 1;

	memset(bits, 0, (n + 7) / 8);
	/* the first is the base: never a change */
	for (; i < n; i++) {
		/* rare: runs of equal values are skipped four at a time */
		if (i + 4 <= n) {
			if (same4(ld4(v + i), ld4(v + i - 1))) {
				i += 3;
				continue;
			}
		}
		if (v[i] == v[i - 1])
			continue;
		bits[i / 8] |= (uint8_t)(1u << (i % 8));
		st32(val, v[i]);
		val += 4;
	}
	return val;
}

/*
 * Planes m (bit j: plane j) of the n values z(v[i]) at o, n bytes each:
 * the values themselves if raw, else their zigzag differences from the
 * value before (0 for the first).
 */
static void put_planes(uint8_t *o, const uint32_t *v, uint32_t n, unsigned int m, bool raw)
{
	uint8_t *pl[4];
	unsigned int k = 0;
	uint32_t i = 0;

	for (unsigned int j = 0; j < 4; j++)
		pl[j] = m & (1u << j) ? o + (size_t)n * k++ : NULL;
	if (!raw && n) {
		/* the first difference, from the base: 0 */
		for (unsigned int j = 0; j < 4; j++)
			if (pl[j])
				pl[j][0] = 0;
		i = 1;
	}
	for (; i + VEC_STEP <= n; i += VEC_STEP) {
		u32x4 z[4];

		for (int q = 0; q < 4; q++) {
			u32x4 x = ld4(v + i + 4 * q);

			z[q] = raw ? x : zigzag4(x - ld4(v + i + 4 * q - 1));
		}
		for (unsigned int j = 0; j < 4; j++)
			if (pl[j])
				put_plane16(pl[j] + i, z, 8 * j);
	}
	for (; i < n; i++) {
		uint32_t z = raw ? v[i] : zigzag(v[i] - v[i - 1]);

		for (unsigned int j = 0; j < 4; j++)
			if (pl[j])
				pl[j][i] = (uint8_t)(z >> (8 * j));
	}
}

/*
 * One column, the n values v (one word of each record of a class), after
 * a mode byte and the first value (the base). The smallest of: the
 * planes of the zigzag differences from the value before (the base for
 * the first), the planes of the values, or the values that differ from
 * the one before with a bitmap of where. All four planes of the
 * differences if all is set (the block must not expand past
 * EVCOLS_MAX_EXPANSION).
 */
static uint8_t *put_column(uint8_t *o, const uint32_t *v, uint32_t n, bool all)
{
	uint8_t *mode = o;
	struct col_cost c = col_cost(v, n);
	unsigned int md = all ? 15u : planes_of(c.od), mv = planes_of(c.ov), m;
	size_t delta = (size_t)__builtin_popcount(md) * n;
	size_t raw = (size_t)__builtin_popcount(mv) * n;
	size_t sparse = (n + 7) / 8 + 4 * (size_t)c.changed;
	bool is_raw;

	st32(o + 1, n ? v[0] : 0);
	o += 5;
	if (!all && sparse < delta && sparse < raw) {
		*mode = 32;
		return put_sparse(o, v, n);
	}
	is_raw = !all && raw < delta;
	m = is_raw ? mv : md;
	*mode = (uint8_t)(m | (is_raw ? 16u : 0));
	/* each loop on its own: raw a constant */
	if (is_raw)
		put_planes(o, v, n, m, true);
	else
		put_planes(o, v, n, m, false);
	return o + (size_t)__builtin_popcount(m) * n;
}

#ifdef __SSE2__
/*
 * Words w..w+3 of records at[0..4) into their four columns (n values
 * each), as a 4x4 transposition of 32-bit lanes.
 */
static void transpose4(uint32_t *words, const uint8_t *rows, const uint32_t *at,
		       uint32_t n, uint32_t w)
{
	__m128i r[4], lo01, hi01, lo23, hi23;

	for (int k = 0; k < 4; k++)
		r[k] = _mm_loadu_si128((const __m128i *)(rows + at[k] + 4 * w));
	lo01 = _mm_unpacklo_epi32(r[0], r[1]);
	hi01 = _mm_unpackhi_epi32(r[0], r[1]);
	lo23 = _mm_unpacklo_epi32(r[2], r[3]);
	hi23 = _mm_unpackhi_epi32(r[2], r[3]);
	_mm_storeu_si128((__m128i *)(words + (size_t)w * n), _mm_unpacklo_epi64(lo01, lo23));
	_mm_storeu_si128((__m128i *)(words + (size_t)(w + 1) * n), _mm_unpackhi_epi64(lo01, lo23));
	_mm_storeu_si128((__m128i *)(words + (size_t)(w + 2) * n), _mm_unpacklo_epi64(hi01, hi23));
	_mm_storeu_si128((__m128i *)(words + (size_t)(w + 3) * n), _mm_unpackhi_epi64(hi01, hi23));
}
#endif

/* The words of n records (payloads at rows + at[i], len bytes) as columns. */
static void transpose(uint32_t *words, const uint8_t *rows, const uint32_t *at,
		      uint32_t n, uint32_t len)
{
	uint32_t nw = len / 4, tail = len % 4, i = 0, w0 = 0;

#ifdef __SSE2__
	/* four records, four words at a time; what is left one by one */
	w0 = nw & ~3u;
	for (; i + 4 <= n; i += 4)
		for (uint32_t w = 0; w < w0; w += 4)
			transpose4(words + i, rows, at + i, n, w);
	for (uint32_t j = i; j < n; j++)
		for (uint32_t w = 0; w < w0; w++)
			words[(size_t)w * n + j] = ld32(rows + at[j] + 4 * w);
#endif
	for (i = 0; i < n; i++) {
		const uint8_t *p = rows + at[i];

		for (uint32_t w = w0; w < nw; w++)
			words[(size_t)w * n + i] = ld32(p + 4 * w);
		if (tail)
			words[(size_t)nw * n + i] = load_word(p + 4 * nw, tail);
	}
}

static int enc_room(struct evcols_enc *e, size_t nrec)
{
	uint32_t *at, *words;
	uint8_t *cls;

	if (nrec <= e->cap)
		return 0;
	/* a class's words take at most its rows' bytes (4 + len a record) */
	words = realloc(e->words, nrec * sizeof(*words));
	if (!words)
		return -ENOMEM;
	e->words = words;
	at = realloc(e->at, nrec * sizeof(*at));
	if (!at)
		return -ENOMEM;
	e->at = at;
	cls = realloc(e->cls, nrec);
	if (!cls)
		return -ENOMEM;
	e->cls = cls;
	e->cap = nrec;
	return 0;
}

/* The block after its header and classes, all planes and cls bytes if full. */
static uint8_t *put_body(struct evcols_enc *e, const struct evcols_classes *cl,
			 const uint32_t *count, uint32_t nrec, const uint8_t *rows,
			 uint8_t *o, bool full)
{
	uint32_t start[EVCOLS_MAX_CLASSES], fill[EVCOLS_MAX_CLASSES], s = 0;
	size_t pos = 0;

	if (cl->n > 1 || full) {
		memcpy(o, e->cls, nrec);
		o += nrec;
	}
	for (int c = 0; c < cl->n; c++) {
		start[c] = fill[c] = s;
		s += count[c];
	}
	/* payload offsets grouped by class; rows records written in order */
	for (uint32_t i = 0; i < nrec; i++) {
		uint8_t c = e->cls[i];
		uint16_t len = ld16(rows + pos + 2);

		if (is_rows(cl->key[c])) {
			o += put_varint(o, len);
			memcpy(o, rows + pos + 4, len);
			o += len;
		}
		e->at[fill[c]++] = (uint32_t)pos + 4;
		pos += 4 + (size_t)len;
	}
	for (int c = 0; c < cl->n; c++) {
		uint32_t len = cl->key[c] & 0xffffu, nw = (len + 3) / 4;

		if (is_rows(cl->key[c]))
			continue;
		transpose(e->words, rows, e->at + start[c], count[c], len);
		for (uint32_t w = 0; w < nw; w++)
			o = put_column(o, e->words + (size_t)w * count[c], count[c], full);
	}
	return o;
}

size_t evcols_encode(struct evcols_enc *e, const uint8_t *rows, size_t rows_len,
		     uint8_t *out)
{
	struct evcols_classes cl;
	uint32_t count[EVCOLS_MAX_CLASSES] = { 0 }, nrec = 0;
	uint8_t *o = out + EVCOLS_HDR, *body;
	size_t pos = 0;

	if (rows_len > UINT32_MAX || enc_room(e, rows_len / 4 + 1)) {
		errno = rows_len > UINT32_MAX ? EINVAL : ENOMEM;
		return 0;
	}
	evcols_classes_reset(&cl);
	while (pos < rows_len) {
		uint16_t len;
		int c;

		if (rows_len - pos < 4 || rows_len - pos - 4 < (len = ld16(rows + pos + 2)) ||
		    (c = evcols_class(&cl, ld16(rows + pos), len)) < 0) {
			errno = EINVAL;
			return 0;
		}
		e->cls[nrec++] = (uint8_t)c;
		count[c]++;
		pos += 4 + (size_t)len;
	}
	for (int c = 0; c < cl.n; c++) {
		uint32_t len = cl.key[c] & 0xffffu;

		o += put_varint(o, cl.key[c] >> 16);
		o += put_varint(o, is_rows(cl.key[c]) ? LEN2_ROWS : len * 2);
	}
	st32(out, nrec);
	st32(out + 4, (uint32_t)rows_len);
	out[8] = (uint8_t)cl.n;
	out[9] = 0;
	body = o;
	o = put_body(e, &cl, count, nrec, rows, body, false);
	/* constant columns take nothing: written whole if that is too little */
	if (rows_len > (size_t)(o - out - EVCOLS_HDR) * EVCOLS_MAX_EXPANSION) {
		out[9] = FLAG_CLS;
		o = put_body(e, &cl, count, nrec, rows, body, true);
	}
	return (size_t)(o - out);
}

int evcols_out_len(const uint8_t *in, size_t len, uint32_t *out_len)
{
	if (len < EVCOLS_HDR)
		return -EBADMSG;
	*out_len = ld32(in + 4);
	if ((uint64_t)*out_len > (uint64_t)(len - EVCOLS_HDR) * EVCOLS_MAX_EXPANSION)
		return -EBADMSG;
	return 0;
}

struct dec {
	const uint8_t *p, *end;
	uint8_t *out;
	uint32_t out_len, nrec;
	int nclass;
	uint32_t key[EVCOLS_MAX_CLASSES];
	uint32_t count[EVCOLS_MAX_CLASSES];
	const uint8_t *cls;	/* NULL: every record is of class 0 */
	uint32_t *at;		/* payload offsets in out, grouped by class */
	const char *why;
};

static int bad(struct dec *d, const char *why)
{
	d->why = why;
	return -EBADMSG;
}

static int dec_classes(struct dec *d)
{
	for (int c = 0; c < d->nclass; c++) {
		uint32_t col, len2;
		size_t n = get_varint(d->p, d->end, &col);

		if (!n || col > UINT16_MAX)
			return bad(d, "bad class collector");
		d->p += n;
		n = get_varint(d->p, d->end, &len2);
		if (!n || (len2 & 1 && len2 != LEN2_ROWS) || len2 / 2 > EVCOLS_MAX_LEN)
			return bad(d, "bad class length");
		d->p += n;
		d->key[c] = col << 16 | (len2 == LEN2_ROWS ? 0xffffu : len2 / 2);
	}
	return 0;
}

/* Record headers, rows payloads, and where each column payload goes. */
static int dec_records(struct dec *d)
{
	uint32_t fill[EVCOLS_MAX_CLASSES], s = 0, pos = 0;

	for (uint32_t i = 0; i < d->nrec; i++) {
		uint8_t c = d->cls ? d->cls[i] : 0;

		if (c >= d->nclass)
			return bad(d, "record of an undeclared class");
		d->count[c]++;
	}
	for (int c = 0; c < d->nclass; c++) {
		fill[c] = s;
		s += d->count[c];
	}
	for (uint32_t i = 0; i < d->nrec; i++) {
		uint8_t c = d->cls ? d->cls[i] : 0;
		uint32_t len = d->key[c] & 0xffffu, col = d->key[c] >> 16;

		if (is_rows(d->key[c])) {
			size_t n = get_varint(d->p, d->end, &len);

			if (!n || len > UINT16_MAX || (size_t)(d->end - d->p) - n < len)
				return bad(d, "bad rows record");
			d->p += n;
		}
		if ((uint64_t)pos + 4 + len > d->out_len)
			return bad(d, "records decode past the stated length");
		d->out[pos] = (uint8_t)col;
		d->out[pos + 1] = (uint8_t)(col >> 8);
		d->out[pos + 2] = (uint8_t)len;
		d->out[pos + 3] = (uint8_t)(len >> 8);
		if (is_rows(d->key[c])) {
			memcpy(d->out + pos + 4, d->p, len);
			d->p += len;
		}
		d->at[fill[c]++] = pos + 4;
		pos += 4 + len;
	}
	if (pos != d->out_len)
		return bad(d, "records decode to a length other than the stated one");
	return 0;
}

static int dec_sparse(struct dec *d, const uint32_t *at, uint32_t n,
		      uint32_t off, unsigned int tail, uint32_t v)
{
	const uint8_t *bits = d->p;
	size_t nb = (n + 7) / 8;

	if ((size_t)(d->end - d->p) < nb)
		return bad(d, "column cut short");
	d->p += nb;
	if (n % 8 && bits[nb - 1] >> (n % 8))
		return bad(d, "bitmap bits past the column");
	for (uint32_t i = 0; i < n; i++) {
		if (bits[i / 8] & (1u << (i % 8))) {
			if (d->end - d->p < 4)
				return bad(d, "column cut short");
			v = ld32(d->p);
			d->p += 4;
		}
		if (tail && v >> (8 * tail))
			return bad(d, "value past the end of a record");
		if (!tail)
			st32(d->out + at[i] + off, v);
		else
			for (unsigned int j = 0; j < tail; j++)
				d->out[at[i] + off + j] = (uint8_t)(v >> (8 * j));
	}
	return 0;
}

static int dec_column(struct dec *d, const uint32_t *at, uint32_t n,
		      uint32_t off, unsigned int tail)
{
	const uint8_t *pl[4];
	unsigned int mode, k = 0;
	uint32_t prev;

	if (d->end - d->p < 5)
		return bad(d, "column cut short");
	mode = *d->p;
	prev = ld32(d->p + 1);
	d->p += 5;
	if (mode == 32)
		return dec_sparse(d, at, n, off, tail, prev);
	if (mode & ~31u)
		return bad(d, "bad column mode");
	if ((size_t)(d->end - d->p) < (size_t)n * __builtin_popcount(mode & 15))
		return bad(d, "column cut short");
	for (unsigned int i = 0; i < 4; i++)
		pl[i] = mode & (1u << i) ? d->p + (size_t)n * k++ : NULL;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t z = 0, v;

		for (unsigned int j = 0; j < 4; j++)
			if (pl[j])
				z |= (uint32_t)pl[j][i] << (8 * j);
		v = mode & 16 ? z : prev + ((z >> 1) ^ (uint32_t)-(int32_t)(z & 1));
		prev = v;
		if (!tail) {
			st32(d->out + at[i] + off, v);
			continue;
		}
		if (v >> (8 * tail))
			return bad(d, "value past the end of a record");
		for (unsigned int j = 0; j < tail; j++)
			d->out[at[i] + off + j] = (uint8_t)(v >> (8 * j));
	}
	d->p += (size_t)n * k;
	return 0;
}

static int dec_columns(struct dec *d)
{
	uint32_t s = 0;
	int ret = 0;

	for (int c = 0; c < d->nclass && !ret; c++) {
		uint32_t len = d->key[c] & 0xffffu;

		if (!is_rows(d->key[c]))
			for (uint32_t off = 0; off < len && !ret; off += 4)
				ret = dec_column(d, d->at + s, d->count[c], off,
						 len - off < 4 ? len - off : 0);
		s += d->count[c];
	}
	if (!ret && d->p != d->end)
		return bad(d, "trailing bytes after the columns");
	return ret;
}

int evcols_decode(const uint8_t *in, size_t len, uint8_t *out,
		  uint32_t out_len, const char **why)
{
	struct dec d = { .p = in + EVCOLS_HDR, .end = in + len, .out = out,
			 .out_len = out_len };
	int ret;

	if (len < EVCOLS_HDR || ld32(in + 4) != out_len || (in[9] & ~FLAG_CLS)) {
		*why = "bad column events header";
		return -EBADMSG;
	}
	d.nrec = ld32(in);
	d.nclass = in[8];
	/* every record decodes to 4 bytes at least */
	if (d.nrec > out_len / 4 || (d.nrec && !d.nclass)) {
		*why = "bad record count";
		return -EBADMSG;
	}
	ret = dec_classes(&d);
	if (!ret && (d.nclass > 1 || in[9] & FLAG_CLS)) {
		if ((size_t)(d.end - d.p) < d.nrec) {
			ret = bad(&d, "record classes cut short");
		} else {
			d.cls = d.p;
			d.p += d.nrec;
		}
	}
	if (!ret) {
		d.at = malloc(((size_t)d.nrec + 1) * sizeof(*d.at));
		ret = d.at ? dec_records(&d) : -ENOMEM;
	}
	if (!ret)
		ret = dec_columns(&d);
	free(d.at);
	if (ret)
		*why = d.why ? d.why : "out of memory";
	return ret;
}
