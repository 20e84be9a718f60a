// SPDX-License-Identifier: GPL-2.0
/* Compact EVENTS block encoding: per-collector deltas, zero-suppressed (evpack.h). */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "evpack.h"
#include "varint.h"

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void st64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void evpack_reset(struct evpack *p)
{
	p->nrec = 0;
	p->out_len = 0;
	p->last_col = -1;
	p->last_len = 0;
	memset(p->ref_ok, 0, sizeof(p->ref_ok));
}

void evpack_free(struct evpack *p)
{
	if (!p)
		return;
	for (int i = 0; i < EVPACK_REFS; i++) {
		free(p->ref[i]);
		p->ref[i] = NULL;
		p->ref_cap[i] = 0;
	}
}

/*
 * One group of 8 bytes, as a little-endian word: mask byte, then its
 * non-zero bytes. The mask comes from the word at once: bit 7 of each
 * byte of t is set where that byte is not zero, and the multiply gathers
 * the eight bits into the top byte.
 */
static uint8_t *put_group(uint8_t *o, uint64_t d)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t t;
	unsigned int mask;

	if (!d) {
		*o++ = 0;
		return o;
	}
	t = (((d & low7) + low7) | d) & ~low7;
	mask = (unsigned int)(((t >> 7) * 0x0102040810204080ULL) >> 56);
	*o++ = (uint8_t)mask;
	while (mask) {
		*o++ = (uint8_t)(d >> (8 * __builtin_ctz(mask)));
		mask &= mask - 1;
	}
	return o;
}

size_t evpack_add(struct evpack *p, uint8_t *out, uint16_t collector,
		  const void *data, uint16_t len)
{
	const uint8_t *cur = data, *ref = NULL;
	uint8_t *o = out;
	bool slot = collector < EVPACK_REFS;
	size_t i = 0;

	if (p->last_col == collector && p->last_len == len) {
		*o++ = 0;
	} else {
		o += put_varint(o, (uint32_t)collector + 1);
		o += put_varint(o, len);
	}
	if (slot && p->ref_ok[collector] && p->ref_len[collector] == len)
		ref = p->ref[collector];
	if (ref) {
		for (; i + 8 <= len; i += 8)
			o = put_group(o, ld64(cur + i) - ld64(ref + i));
	} else {
		for (; i + 8 <= len; i += 8)
			o = put_group(o, ld64(cur + i));
	}
	if (i < len) {
		uint64_t d = 0;

		/* the tail bytewise: no carry into bytes past the record */
		for (size_t j = 0; i + j < len; j++)
			d |= (uint64_t)(uint8_t)(cur[i + j] - (ref ? ref[i + j] : 0)) << (8 * j);
		o = put_group(o, d);
	}
	if (slot) {
		if (p->ref_cap[collector] < len) {
			uint8_t *nb = realloc(p->ref[collector], len);

			if (!nb) {
				errno = ENOMEM;
				return 0;
			}
			p->ref[collector] = nb;
			p->ref_cap[collector] = len;
		}
		if (len)
			memcpy(p->ref[collector], cur, len);
		p->ref_len[collector] = len;
		p->ref_ok[collector] = true;
	}
	p->last_col = collector;
	p->last_len = len;
	p->nrec++;
	p->out_len += 4 + (uint32_t)len;
	return (size_t)(o - out);
}

void evpack_finish(const struct evpack *p, uint8_t *block)
{
	st32(block, p->nrec);
	st32(block + 4, p->out_len);
}

int evpack_out_len(const uint8_t *in, size_t len, uint32_t *out_len)
{
	if (len < EVPACK_HDR)
		return -EBADMSG;
	*out_len = ld32(in + 4);
	if ((uint64_t)*out_len > (uint64_t)(len - EVPACK_HDR) * EVPACK_MAX_EXPANSION)
		return -EBADMSG;
	return 0;
}

int evpack_decode(const uint8_t *in, size_t len, uint8_t *out,
		  uint32_t out_len, const char **why)
{
	const uint8_t *p = in + EVPACK_HDR, *end = in + len;
	/* where the last record of each collector starts in out, +1 (0: none) */
	uint32_t ref_at[EVPACK_REFS] = { 0 };
	uint32_t nrec, at = 0, seen = 0, col = 0, rlen = 0, tag, n;
	bool any = false;

	if (len < EVPACK_HDR || ld32(in + 4) != out_len) {
		*why = "bad packed events header";
		return -EBADMSG;
	}
	nrec = ld32(in);
	while (p < end) {
		const uint8_t *ref = NULL;
		uint8_t *dst;

		n = get_varint(p, end, &tag);
		if (!n) {
			*why = "bad record tag";
			return -EBADMSG;
		}
		p += n;
		if (!tag) {
			if (!any) {
				*why = "first record repeats a previous one";
				return -EBADMSG;
			}
		} else {
			n = get_varint(p, end, &rlen);
			if (!n || tag - 1 > UINT16_MAX || rlen > UINT16_MAX) {
				*why = "bad record length";
				return -EBADMSG;
			}
			p += n;
			col = tag - 1;
		}
		any = true;
		if ((uint64_t)at + 4 + rlen > out_len) {
			*why = "records decode past the stated length";
			return -EBADMSG;
		}
		out[at] = (uint8_t)col;
		out[at + 1] = (uint8_t)(col >> 8);
		out[at + 2] = (uint8_t)rlen;
		out[at + 3] = (uint8_t)(rlen >> 8);
		dst = out + at + 4;
		if (col < EVPACK_REFS && ref_at[col]) {
			const uint8_t *r = out + ref_at[col] - 1;

			if ((uint32_t)(r[2] | r[3] << 8) == rlen)
				ref = r + 4;
		}
		for (uint32_t i = 0; i < rlen; i += 8) {
			uint32_t gn = rlen - i < 8 ? rlen - i : 8;
			unsigned int mask;
			uint64_t d = 0;

			if (p >= end) {
				*why = "record cut short";
				return -EBADMSG;
			}
			mask = *p++;
			if (gn < 8 && (mask >> gn)) {
				*why = "mask bits past the record";
				return -EBADMSG;
			}
			if ((size_t)(end - p) < (size_t)__builtin_popcount(mask)) {
				*why = "record cut short";
				return -EBADMSG;
			}
			for (; mask; mask &= mask - 1)
				d |= (uint64_t)*p++ << (8 * __builtin_ctz(mask));
			if (gn == 8) {
				st64(dst + i, d + (ref ? ld64(ref + i) : 0));
			} else {
				for (uint32_t j = 0; j < gn; j++, d >>= 8)
					dst[i + j] = (uint8_t)(d + (ref ? ref[i + j] : 0));
			}
		}
		if (col < EVPACK_REFS)
			ref_at[col] = at + 1;
		at += 4 + rlen;
		seen++;
	}
	if (at != out_len || seen != nrec) {
		*why = "record count or length differs from the block header";
		return -EBADMSG;
	}
	return 0;
}
