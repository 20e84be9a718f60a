/* SPDX-License-Identifier: GPL-2.0 */
/* LEB128 varints of the packed and column EVENTS encodings (evpack.h, evcols.h). */
#ifndef DISCO_VARINT_H
#define DISCO_VARINT_H

#include <stddef.h>
#include <stdint.h>

static inline size_t put_varint(uint8_t *p, uint32_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* At most 3 bytes (values below 2^21); 0 on a bad or overlong varint. */
static inline size_t get_varint(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
	uint32_t x = 0;

	for (size_t n = 0; n < 3 && p + n < end; n++) {
		x |= (uint32_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n] & 0x80)) {
			*v = x;
			return n + 1;
		}
	}
	return 0;
}

#endif
