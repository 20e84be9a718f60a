/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compact encoding of EVENTS blocks (format version 2, block type
 * EVENTS_PACKED; docs/session-format.md).
 *
 *   block  := u32 nrec | u32 out_len | record*
 *   record := varint tag [varint len] group*
 *   tag    := 0: same collector and length as the previous record;
 *             else collector + 1, and len follows
 *   group  := u8 mask | byte[popcount(mask)]   (one per 8 payload bytes)
 *
 * A payload is stored as its difference from the reference: the previous
 * record of the same collector (id < EVPACK_REFS) and the same length in
 * this block, or zeros. Whole 8-byte words are subtracted as little-endian
 * u64 (a timestamp then differs in its low bytes only), a tail bytewise;
 * mask bit i says byte i of the difference is not zero. Every block
 * decodes on its own. out_len is the size of the block decoded into the
 * version 1 record layout (u16 collector | u16 len | payload).
 *
 * Pure: no syscalls, cmocka tests it.
 */
#ifndef DISCO_EVPACK_H
#define DISCO_EVPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVPACK_HDR	8
#define EVPACK_REFS	32
/* a decoded record is at most 8 times its encoding (4 bytes from 1, a
 * zero 8-byte group from its mask byte) */
#define EVPACK_MAX_EXPANSION	8u

struct evpack {
	uint32_t nrec;
	uint32_t out_len;
	int last_col;			/* -1: no record yet in this block */
	uint16_t last_len;
	uint16_t ref_len[EVPACK_REFS];
	bool ref_ok[EVPACK_REFS];
	uint8_t *ref[EVPACK_REFS];	/* copies of the last payload */
	uint16_t ref_cap[EVPACK_REFS];
};

/* Most bytes one record of len payload bytes can take encoded. */
static inline size_t evpack_worst(size_t len)
{
	return 6 + len + (len + 7) / 8;
}

/* Start a block: forget the references. */
void evpack_reset(struct evpack *p);
void evpack_free(struct evpack *p);
/*
 * Encode one record at out (room for evpack_worst(len) bytes); returns
 * the bytes written, or 0 with errno = ENOMEM.
 */
size_t evpack_add(struct evpack *p, uint8_t *out, uint16_t collector,
		  const void *data, uint16_t len);
/* Write the block header (nrec, out_len) into its first EVPACK_HDR bytes. */
void evpack_finish(const struct evpack *p, uint8_t *block);
/* out_len claimed by an encoded block; -EBADMSG if impossible for its size. */
int evpack_out_len(const uint8_t *in, size_t len, uint32_t *out_len);
/*
 * Decode a whole block into out (out_len bytes from evpack_out_len):
 * 0, or -EBADMSG with *why saying what is wrong.
 */
int evpack_decode(const uint8_t *in, size_t len, uint8_t *out,
		  uint32_t out_len, const char **why);

#endif
