// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the session file reader on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "session.h"
#include "fuzz_le.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const uint8_t *data, size_t size)
{
	struct session_reader *r;
	struct session_block blk;
	struct session_event ev;
	uint64_t prev_end;
	char err[256];
	int ret;

	err[0] = '\0';
	r = session_open_mem(data, size, err, sizeof(err));
	if (!r) {
		/* every refusal must say why */
		if (!err[0])
			abort();
		return;
	}
	prev_end = session_good_bytes(r);
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
		size_t pos = 0;
		uint64_t sum = 0;

		/* blocks come in file order, each within the input and the caps */
		/* (version 3 skips damaged bytes: a block may start after prev_end) */
		if (blk.offset < prev_end || blk.len > SESSION_MAX_RAW ||
		    session_good_bytes(r) > size || session_good_bytes(r) <= blk.offset)
			abort();
		prev_end = session_good_bytes(r);
		if (blk.type != BLK_EVENTS)
			continue;
		while (session_event_next(&blk, &pos, &ev) == 1) {
			/* touch every payload byte so ASan sees any overrun */
			for (size_t i = 0; i < ev.len; i++)
				sum += ((const uint8_t *)ev.data)[i];
			if (pos > blk.len)
				abort();
		}
		/* keep the loop from being optimised away */
		if (sum == UINT64_MAX)
			abort();
	}
	/* an error names the offset of the block it rejects */
	if (ret < 0 && !strstr(err, "offset"))
		abort();
	if (ret == 0 && session_truncated(r) && session_good_bytes(r) >= size)
		abort();
	session_reader_free(r);
}

/*
 * A random mutation almost never keeps a CRC right, which would leave the
 * inflate and event code unexplored; so also read a copy whose block CRCs
 * are recomputed, as a hostile file would have them.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	size_t off = SESSION_FILE_HDR;

	read_all(data, size);
	if (size < SESSION_FILE_HDR)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	while (get_le32(copy + 8) >= 3 && size - off >= SESSION_BLOCK_HDR) {
		/* version 3: data_crc, then hdr_crc over the 24 bytes before it */
		uint32_t comp_len = get_le32(copy + off + 16);

		if (comp_len > size - off - SESSION_BLOCK_HDR)
			break;
		put_le32(copy + off + 20, (uint32_t)crc32(0, copy + off + SESSION_BLOCK_HDR, comp_len));
		put_le32(copy + off + 24, (uint32_t)crc32(0, copy + off, 24));
		off += SESSION_BLOCK_HDR + comp_len;
	}
	while (get_le32(copy + 8) < 3 && size - off >= SESSION_BLOCK_HDR_V2) {
		uint32_t comp_len = get_le32(copy + off + 8);
		uLong crc;

		if (comp_len > size - off - SESSION_BLOCK_HDR_V2)
			break;
		crc = crc32(0, copy + off, 12);
		crc = crc32(crc, copy + off + SESSION_BLOCK_HDR_V2, comp_len);
		put_le32(copy + off + 12, (uint32_t)crc);
		off += SESSION_BLOCK_HDR_V2 + comp_len;
	}
	read_all(copy, size);
	free(copy);
	return 0;
}
