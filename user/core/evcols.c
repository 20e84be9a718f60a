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
/* column mode: the values of an earlier word of the class (version 5) */
#define MODE_SAME	64u
/* column mode bit: a width byte per plane, planes packed to it (version 6) */
#define MODE_PACKED	128u
/* width byte bit: the plane is in the block's plain area (EVENTS_SPLIT) */
#define WIDTH_PLAIN	128u
/* planes of fewer values are never moved to the plain area */
#define PLAIN_MIN_N	512u
/* of 256 bytes sampled from a plane, this many distinct: deflate gains ~10% */
#define PLAIN_DISTINCT	96

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
	for (int c = 0; c < EVCOLS_MAX_CLASSES; c++)
		free(e->col[c]);
	free(e->cls);
	free(e->rows);
	free(e->plain);
	memset(e, 0, sizeof(*e));
}

void evcols_enc_reset(struct evcols_enc *e)
{
	for (int c = 0; c < e->cl.n; c++)
		e->count[c] = e->stride[c] = 0;
	evcols_classes_reset(&e->cl);
	e->nrec = 0;
	e->out_len = 0;
	e->rows_len = 0;
}

size_t evcols_bound(size_t rows_len)
{
	/*
	 * A record of len bytes (4 + len in rows): one cls byte, and either
	 * its words (len + 3 bytes at most) or a varint and itself; each
	 * class 6 bytes, and per word a mode byte, a base and up to four
	 * plane widths.
	 */
	return EVCOLS_HDR + rows_len + rows_len / 4 +
	       EVCOLS_MAX_CLASSES * (6 + 9 * (EVCOLS_MAX_LEN / 4 + 1));
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

/* The bits plane j (byte j) of values whose OR is v needs: 0 to 8. */
static unsigned int plane_width(uint32_t v, unsigned int j)
{
	uint32_t b = v >> (8 * j) & 0xffu;

	return b ? 32u - (unsigned int)__builtin_clz(b) : 0;
}

static size_t packed_bytes(uint32_t n, unsigned int w)
{
	return ((size_t)n * w + 7) / 8;
}

/*
 * What the planes of values whose OR is v take, each packed to its
 * width, with their width bytes; *narrow: some plane is under 8 bits.
 */
static size_t planes_cost(uint32_t v, uint32_t n, bool *narrow)
{
	size_t c = 0, np = 0;

	*narrow = false;
	for (unsigned int j = 0; j < 4; j++) {
		unsigned int w = plane_width(v, j);

		if (w) {
			c += packed_bytes(n, w);
			np++;
			*narrow |= w < 8;
		}
	}
	return c + (*narrow ? np : 0);
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
 * The n bytes at src, w (1-7) bits each, to dst <= src: value i at bit
 * i * w, low bits first, the last byte's unused bits 0. Eight values are
 * w whole bytes: each group is read before its bytes are stored, and a
 * store of 8 bytes at dst + g * w ends at or before src + 8 * (g + 1),
 * so packing in place overwrites only bytes already read.
 */
static uint8_t *pack_plane(uint8_t *dst, const uint8_t *src, uint32_t n, unsigned int w)
{
	uint32_t i = 0;
	uint64_t y;

	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, src + i, 8);
		x = le64toh(x);
		/* pairs of values, then fours, then all eight side by side */
		x = (x & 0x00ff00ff00ff00ffull) | (x & 0xff00ff00ff00ff00ull) >> (8 - w);
		x = (x & 0x0000ffff0000ffffull) | (x & 0xffff0000ffff0000ull) >> (16 - 2 * w);
		y = htole64((x & 0xffffffffull) | (x >> 32) << (4 * w));
		memcpy(dst, &y, 8);
		dst += w;
	}
	y = 0;
	for (unsigned int k = 0; i < n; i++, k++)
		y |= (uint64_t)src[i] << (w * k);
	for (size_t b = 0, nb = packed_bytes(n % 8, w); b < nb; b++)
		*dst++ = (uint8_t)(y >> (8 * b));
	return dst;
}

/*
 * The planes m (each n bytes) at o + widths, packed to the widths of v's
 * planes, after the width bytes at o: where the column ends.
 */
static uint8_t *pack_planes(uint8_t *o, uint32_t n, unsigned int m, uint32_t v)
{
	unsigned int k = 0, np = (unsigned int)__builtin_popcount(m);
	uint8_t *src = o + np, *dst = o + np;

	for (unsigned int j = 0; j < 4; j++) {
		unsigned int w;

		if (!(m & (1u << j)))
			continue;
		w = plane_width(v, j);
		o[k++] = (uint8_t)w;
		if (w == 8) {
			memmove(dst, src, n);
			dst += n;
		} else {
			dst = pack_plane(dst, src, n, w);
		}
		src += n;
	}
	return dst;
}

/*
 * The earlier column of the same class (words 0..w-1, n values each,
 * stride apart) that holds exactly the values of column w, or -1.
 * Rarely more than its first value is compared: columns differ from the
 * start.
 */
static int same_column(const uint32_t *words, size_t stride, uint32_t n, uint32_t w)
{
	const uint32_t *v = words + w * stride;

	for (uint32_t k = 0; k < w; k++) {
		const uint32_t *u = words + k * stride;

		if (u[0] == v[0] && u[n - 1] == v[n - 1] && !memcmp(u, v, (size_t)n * 4))
			return (int)k;
	}
	return -1;
}

/*
 * One column, word w of each record of a class (n values at words +
 * w * stride), after a mode byte and the first value (the base). If an
 * earlier word's column holds the same changing values, a reference to
 * it (its index in place of the base). Otherwise the smallest of: the
 * planes of the zigzag differences from the value before (the base for
 * the first), the planes of the values, or the values that differ from
 * the one before with a bitmap of where. All four planes of the
 * differences if all is set (the block must not expand past
 * EVCOLS_MAX_EXPANSION).
 */
static uint8_t *put_column(uint8_t *o, const uint32_t *words, size_t stride, uint32_t n,
			   uint32_t w, bool all)
{
	const uint32_t *v = words + w * stride;
	uint8_t *mode = o;
	struct col_cost c = col_cost(v, n);
	unsigned int md = all ? 15u : planes_of(c.od), mv = planes_of(c.ov), m;
	bool narrow_d, narrow_v, packed;
	size_t delta = all ? 4 * (size_t)n : planes_cost(c.od, n, &narrow_d);
	size_t raw = planes_cost(c.ov, n, &narrow_v);
	size_t sparse = (n + 7) / 8 + 4 * (size_t)c.changed;
	int k;
	bool is_raw;

	/* a copy of a column that changes (a tgid beside its pid): a reference */
	if (!all && c.changed && (k = same_column(words, stride, n, w)) >= 0) {
		*mode = MODE_SAME;
		st32(o + 1, (uint32_t)k);
		return o + 5;
	}
	st32(o + 1, n ? v[0] : 0);
	o += 5;
	if (!all && sparse < delta && sparse < raw) {
		*mode = 32;
		return put_sparse(o, v, n);
	}
	is_raw = !all && raw < delta;
	m = is_raw ? mv : md;
	/* planes under 8 bits packed, after a width byte each */
	packed = !all && (is_raw ? narrow_v : narrow_d);
	*mode = (uint8_t)(m | (is_raw ? 16u : 0) | (packed ? MODE_PACKED : 0));
	k = packed ? __builtin_popcount(m) : 0;
	/* each loop on its own: raw a constant */
	if (is_raw)
		put_planes(o + k, v, n, m, true);
	else
		put_planes(o + k, v, n, m, false);
	if (packed)
		return pack_planes(o, n, m, is_raw ? c.ov : c.od);
	return o + (size_t)__builtin_popcount(m) * n;
}

/*
 * A column stride of at least (round up) or at most (down) want values,
 * an odd number of cache lines: columns a power of two apart share the
 * same cache sets, and the words of a record, stored to all of them at
 * once, evicted each other (4 times the time, measured). 0 if none fits.
 */
static uint32_t odd_lines(uint32_t want, bool up)
{
	uint32_t s = up ? (want + 15) & ~15u : want & ~15u;

	if (!(s / 16 & 1))
		s = up ? s + 16 : s >= 16 ? s - 16 : 0;
	return s;
}

/* Room for another record of class c (nw > 0 words each) in its columns. */
static int class_room(struct evcols_enc *e, int c, uint32_t nw, uint32_t len)
{
	uint32_t n = e->count[c], stride, max;
	uint32_t *col;

	if (!e->stride[c]) {
		/* a class's first record in this block: the memory kept may fit */
		e->stride[c] = odd_lines((uint32_t)(e->words[c] / nw), false);
		if (e->stride[c])
			return 0;
	}
	if (n < e->stride[c])
		return 0;
	/*
	 * Twice as many as now, up to what the block the caller cuts can
	 * hold: a class of a few records in a block takes a few KiB, not
	 * its share of a whole block (one page a column).
	 */
	stride = n < 64 ? 64 : 2 * n;
	max = e->hint ? (uint32_t)(e->hint / (4 + len)) + 1 : 0;
	if (max > n && max < stride)
		stride = max;
	stride = odd_lines(stride, true);
	col = malloc((size_t)stride * nw * sizeof(*col));
	if (!col)
		return -ENOMEM;
	for (uint32_t w = 0; w < nw && n; w++)
		memcpy(col + (size_t)w * stride, e->col[c] + (size_t)w * e->stride[c],
		       n * sizeof(*col));
	free(e->col[c]);
	e->col[c] = col;
	e->words[c] = (size_t)stride * nw;
	e->stride[c] = stride;
	return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int evcols_add(struct evcols_enc *e, uint16_t collector, const void *data, size_t len)
{
	const uint8_t *p = data;
	int nclass = e->cl.n, last = e->cl.last;
	uint32_t nw = (uint32_t)(len + 3) / 4, *col;
	int c;

	if (len > UINT16_MAX)
		return -EINVAL;
	c = evcols_class(&e->cl, collector, (uint16_t)len);
	if (c < 0)
		return -ENOSPC;
	if (grow(&e->cls, &e->cls_cap, (size_t)e->nrec + 1))
		goto nomem;
	if (is_rows(e->cl.key[c])) {
		if (grow(&e->rows, &e->rows_cap, e->rows_len + 5 + len))
			goto nomem;
		e->rows_len += put_varint(e->rows + e->rows_len, (uint32_t)len);
		memcpy(e->rows + e->rows_len, data, len);
		e->rows_len += len;
	} else if (nw) {
		if (class_room(e, c, nw, (uint32_t)len))
			goto nomem;
		col = e->col[c] + e->count[c];
		for (uint32_t w = 0; w < len / 4; w++)
			col[(size_t)w * e->stride[c]] = ld32(p + 4 * w);
		if (len % 4)
			col[(size_t)(nw - 1) * e->stride[c]] = load_word(p + len / 4 * 4, len % 4);
	}
	e->count[c]++;
	e->cls[e->nrec++] = (uint8_t)c;
	e->out_len += 4 + len;
	return 0;
nomem:
	/* a class made for this record goes again */
	if (c >= nclass)
		e->stride[c] = 0;
	e->cl.n = nclass;
	e->cl.last = last;
	return -ENOMEM;
}

/*
 * Whether deflate would gain little on a plane of n bytes: of 256 bytes
 * sampled across it, PLAIN_DISTINCT or more different values. Measured on
 * recorded sched blocks: a timestamp difference's low byte (100-123
 * distinct) deflated to 0.91 of its size, a latency's (109-157) to 0.97,
 * while no plane under 84 distinct did better than 0.75 or worse than 0.02.
 */
static bool plane_noisy(const uint8_t *p, uint32_t n)
{
	uint64_t seen[4] = { 0 };
	int d = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint8_t b = p[(uint64_t)i * n / 256];

		seen[b >> 6] |= 1ull << (b & 63);
	}
	for (int k = 0; k < 4; k++)
		d += __builtin_popcountll(seen[k]);
	return d >= PLAIN_DISTINCT;
}

/*
 * The column at o (ending at end, n values) with its noisy byte planes
 * moved to the plain area (e->plain): such a plane's width byte gets
 * WIDTH_PLAIN, a column without width bytes gets them (all 8). Where the
 * column ends now.
 */
static uint8_t *plain_planes(struct evcols_enc *e, uint8_t *o, uint8_t *end, uint32_t n)
{
	unsigned int mode = o[0], np = (unsigned int)__builtin_popcount(mode & 15);
	bool sel[4] = { false }, any = false;
	uint8_t *w = o + 5, *src, *dst;

	if (mode == 32 || mode == MODE_SAME || !np || n < PLAIN_MIN_N)
		return end;
	src = mode & MODE_PACKED ? w + np : w;
	for (unsigned int k = 0; k < np; k++) {
		unsigned int wk = mode & MODE_PACKED ? w[k] : 8;

		sel[k] = wk == 8 && plane_noisy(src, n);
		any |= sel[k];
		src += packed_bytes(n, wk);
	}
	if (!any)
		return end;
	if (!(mode & MODE_PACKED)) {
		memmove(w + np, w, (size_t)(end - w));
		memset(w, 8, np);
		end += np;
		o[0] = (uint8_t)(mode | MODE_PACKED);
	}
	src = dst = w + np;
	for (unsigned int k = 0; k < np; k++) {
		size_t nb = packed_bytes(n, w[k]);

		if (sel[k]) {
			memcpy(e->plain + e->plain_len, src, nb);
			e->plain_len += nb;
			w[k] |= WIDTH_PLAIN;
		} else {
			if (dst != src)
				memmove(dst, src, nb);
			dst += nb;
		}
		src += nb;
	}
	return dst;
}

/*
 * The block after its header and classes, all planes and cls bytes if
 * full; noisy planes to the plain area if plain.
 */
static uint8_t *put_body(struct evcols_enc *e, uint8_t *o, bool full, bool plain)
{
	if (e->cl.n > 1 || full) {
		memcpy(o, e->cls, e->nrec);
		o += e->nrec;
	}
	if (e->rows_len)
		memcpy(o, e->rows, e->rows_len);
	o += e->rows_len;
	for (int c = 0; c < e->cl.n; c++) {
		uint32_t len = e->cl.key[c] & 0xffffu, nw = (len + 3) / 4;

		if (is_rows(e->cl.key[c]))
			continue;
		for (uint32_t w = 0; w < nw; w++) {
			uint8_t *col = o;

			o = put_column(o, e->col[c], e->stride[c], e->count[c], w, full);
			if (plain)
				o = plain_planes(e, col, o, e->count[c]);
		}
	}
	return o;
}

static size_t finish(struct evcols_enc *e, uint8_t *out, bool plain)
{
	uint8_t *o = out + EVCOLS_HDR, *body;

	for (int c = 0; c < e->cl.n; c++) {
		uint32_t len = e->cl.key[c] & 0xffffu;

		o += put_varint(o, e->cl.key[c] >> 16);
		o += put_varint(o, is_rows(e->cl.key[c]) ? LEN2_ROWS : len * 2);
	}
	st32(out, e->nrec);
	st32(out + 4, (uint32_t)e->out_len);
	out[8] = (uint8_t)e->cl.n;
	out[9] = 0;
	body = o;
	e->plain_len = 0;
	o = put_body(e, body, false, plain);
	/* constant columns take nothing: written whole if that is too little */
	if (e->out_len > (size_t)(o - out - EVCOLS_HDR + e->plain_len) * EVCOLS_MAX_EXPANSION) {
		out[9] = FLAG_CLS;
		e->plain_len = 0;
		o = put_body(e, body, true, false);
	}
	return (size_t)(o - out);
}

size_t evcols_finish(struct evcols_enc *e, uint8_t *out)
{
	return finish(e, out, false);
}

size_t evcols_finish_split(struct evcols_enc *e, uint8_t *out, size_t *plain)
{
	/* a plane is n bytes of n records: never more than the records' bytes */
	bool room = !grow(&e->plain, &e->plain_cap, e->out_len);
	size_t n = finish(e, out + 4, room);

	st32(out, (uint32_t)e->plain_len);
	if (e->plain_len) {
		memmove(out + 4 + e->plain_len, out + 4, n);
		memcpy(out + 4, e->plain, e->plain_len);
	}
	*plain = 4 + e->plain_len;
	return 4 + e->plain_len + n;
}

size_t evcols_encode(struct evcols_enc *e, const uint8_t *rows, size_t rows_len,
		     uint8_t *out)
{
	size_t pos = 0;

	evcols_enc_reset(e);
	if (rows_len > UINT32_MAX) {
		errno = EINVAL;
		return 0;
	}
	while (pos < rows_len) {
		uint16_t len;
		int err;

		if (rows_len - pos < 4 || rows_len - pos - 4 < (len = ld16(rows + pos + 2))) {
			errno = EINVAL;
			return 0;
		}
		err = evcols_add(e, ld16(rows + pos), rows + pos + 4, len);
		if (err) {
			errno = err == -ENOMEM ? ENOMEM : EINVAL;
			return 0;
		}
		pos += 4 + (size_t)len;
	}
	return evcols_finish(e, out);
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
	uint8_t *unpacked;	/* packed planes of a column, a byte a value again */
	const uint8_t *plain, *plain_end;	/* EVENTS_SPLIT: planes kept out of deflate */
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

/* A decoded value to its record: a whole word, or a last word of tail bytes. */
static int put_value(struct dec *d, uint32_t at, uint32_t off, unsigned int tail, uint32_t v)
{
	if (!tail) {
		st32(d->out + at + off, v);
		return 0;
	}
	if (v >> (8 * tail))
		return bad(d, "value past the end of a record");
	for (unsigned int j = 0; j < tail; j++)
		d->out[at + off + j] = (uint8_t)(v >> (8 * j));
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
		if (put_value(d, at[i], off, tail, v))
			return -EBADMSG;
	}
	return 0;
}

/* Column off/4 holds the values of word k, already decoded. */
static int dec_same(struct dec *d, const uint32_t *at, uint32_t n,
		    uint32_t off, unsigned int tail, uint32_t k)
{
	if (k >= off / 4)
		return bad(d, "column refers to one not before it");
	for (uint32_t i = 0; i < n; i++)
		if (put_value(d, at[i], off, tail, ld32(d->out + at[i] + 4 * k)))
			return -EBADMSG;
	return 0;
}

/* Packed plane (w bits a value, 1-7) at src to n bytes at dst. */
static int unpack_plane(struct dec *d, uint8_t *dst, const uint8_t *src, uint32_t n,
			unsigned int w)
{
	size_t nb = packed_bytes(n, w);
	uint64_t y = 0;
	unsigned int have = 0;

	if (n * w % 8 && src[nb - 1] >> (n * w % 8))
		return bad(d, "packed bits past the column");
	for (uint32_t i = 0; i < n; i++) {
		if (have < w) {
			y |= (uint64_t)*src++ << have;
			have += 8;
		}
		dst[i] = (uint8_t)(y & ((1u << w) - 1));
		y >>= w;
		have -= w;
	}
	return 0;
}

/*
 * Mode 128 (version 6): a width byte per plane of mode, then the planes
 * packed to them; pl[] pointed at each plane a byte a value.
 */
static int dec_packed(struct dec *d, unsigned int mode, uint32_t n, const uint8_t *pl[4])
{
	unsigned int np = (unsigned int)__builtin_popcount(mode & 15), k = 0;
	const uint8_t *w = d->p;

	if ((size_t)(d->end - d->p) < np)
		return bad(d, "column cut short");
	d->p += np;
	if (!d->unpacked) {
		d->unpacked = malloc(4 * ((size_t)d->nrec + 1));
		if (!d->unpacked)
			return -ENOMEM;
	}
	for (unsigned int j = 0; j < 4; j++) {
		size_t nb;

		pl[j] = NULL;
		if (!(mode & (1u << j)))
			continue;
		if (d->plain && w[k] == (8 | WIDTH_PLAIN)) {
			/* a whole plane, next in the plain area */
			if ((size_t)(d->plain_end - d->plain) < n)
				return bad(d, "plain planes cut short");
			pl[j] = d->plain;
			d->plain += n;
			k++;
			continue;
		}
		if (!w[k] || w[k] > 8)
			return bad(d, "bad plane width");
		nb = packed_bytes(n, w[k]);
		if ((size_t)(d->end - d->p) < nb)
			return bad(d, "column cut short");
		if (w[k] == 8) {
			pl[j] = d->p;
		} else {
			uint8_t *u = d->unpacked + (size_t)n * j;

			if (unpack_plane(d, u, d->p, n, w[k]))
				return -EBADMSG;
			pl[j] = u;
		}
		d->p += nb;
		k++;
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
	if (mode == MODE_SAME)
		return dec_same(d, at, n, off, tail, prev);
	if (mode & ~(31u | MODE_PACKED) || (mode & MODE_PACKED && !(mode & 15)))
		return bad(d, "bad column mode");
	if (mode & MODE_PACKED) {
		if (dec_packed(d, mode, n, pl))
			return d->why ? -EBADMSG : -ENOMEM;
	} else {
		if ((size_t)(d->end - d->p) < (size_t)n * __builtin_popcount(mode & 15))
			return bad(d, "column cut short");
		for (unsigned int i = 0; i < 4; i++)
			pl[i] = mode & (1u << i) ? d->p + (size_t)n * k++ : NULL;
		d->p += (size_t)n * k;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t z = 0, v;

		for (unsigned int j = 0; j < 4; j++)
			if (pl[j])
				z |= (uint32_t)pl[j][i] << (8 * j);
		v = mode & 16 ? z : prev + ((z >> 1) ^ (uint32_t)-(int32_t)(z & 1));
		prev = v;
		if (put_value(d, at[i], off, tail, v))
			return -EBADMSG;
	}
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

static int decode(const uint8_t *in, size_t len, const uint8_t *plain, size_t plain_len,
		  uint8_t *out, uint32_t out_len, const char **why)
{
	struct dec d = { .p = in + EVCOLS_HDR, .end = in + len, .out = out,
			 .out_len = out_len, .plain = plain,
			 .plain_end = plain ? plain + plain_len : NULL };
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
	if (!ret && d.plain != d.plain_end)
		ret = bad(&d, "plain planes past the columns");
	free(d.at);
	free(d.unpacked);
	if (ret)
		*why = d.why ? d.why : "out of memory";
	return ret;
}

int evcols_decode(const uint8_t *in, size_t len, uint8_t *out,
		  uint32_t out_len, const char **why)
{
	return decode(in, len, NULL, 0, out, out_len, why);
}

/* The plain area's length, or -EBADMSG if the block cannot hold it. */
static int split_plain(const uint8_t *in, size_t len, size_t *plain)
{
	if (len < 4 || ld32(in) > len - 4)
		return -EBADMSG;
	*plain = ld32(in);
	return 0;
}

int evcols_split_out_len(const uint8_t *in, size_t len, uint32_t *out_len)
{
	size_t plain;

	if (split_plain(in, len, &plain) || len - 4 - plain < EVCOLS_HDR)
		return -EBADMSG;
	*out_len = ld32(in + 4 + plain + 4);
	/* the plain planes count as the block's bytes */
	if ((uint64_t)*out_len > (uint64_t)(len - 4 - EVCOLS_HDR) * EVCOLS_MAX_EXPANSION)
		return -EBADMSG;
	return 0;
}

int evcols_split_decode(const uint8_t *in, size_t len, uint8_t *out,
			uint32_t out_len, const char **why)
{
	size_t plain;

	if (split_plain(in, len, &plain)) {
		*why = "bad plain area length";
		return -EBADMSG;
	}
	/* with no plain planes, a width byte's WIDTH_PLAIN stays an error */
	return decode(in + 4 + plain, len - 4 - plain, plain ? in + 4 : NULL, plain,
		      out, out_len, why);
}
