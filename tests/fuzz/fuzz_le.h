/* SPDX-License-Identifier: GPL-2.0 */
/* Little-endian u32 access for the fuzz targets that rebuild session blocks. */
#ifndef DISCO_FUZZ_LE_H
#define DISCO_FUZZ_LE_H

#include <stdint.h>

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
