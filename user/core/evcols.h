/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Column encoding of EVENTS blocks (format versions 4 to 6, block type
 * EVENTS_COLS; docs/session-format.md). Records are gathered in the
 * version 1 layout (u16 collector | u16 len | payload) and turned into
 * columns once a block is complete:
 *
 *   block  := u32 nrec | u32 out_len | u8 nclass | u8 flags |
 *             class{nclass} | [u8 cls{nrec}] | rows | column*
 *   class  := varint collector | varint len2   (len2 = len * 2, or 1: rows)
 *   rows   := (varint len | byte{len}) for each record of a rows class
 *   column := u8 mode | u32 base | [u8 width{popcount(mode & 15)}] |
 *             plane{popcount(mode & 15)}            (per class, per word)
 *
 * A record's class is its (collector, len); cls (present if nclass > 1
 * or flags bit 0) gives each record's class in order. The payloads of a
 * column class are cut in 4-byte little-endian words; word w of every
 * record of the class, in order, is one column, stored as the byte planes
 * of its zigzag differences from the previous value (mode bit 4 clear;
 * the first from 0) or of the values themselves (bit 4 set): plane i
 * holds byte i of each, and only the planes that are not all zero are
 * written (mode bit i); with mode bit 7 (version 6) each plane has a
 * width and is packed to it (w bits a value) if under 8. Mode 32 is a
 * bitmap of changes and the new values, mode 64 a copy of an earlier
 * word's column (version 5). A rows class (records over EVCOLS_MAX_LEN bytes)
 * keeps its records whole. Every block decodes on its own.
 *
 * Pure: no syscalls, cmocka tests it.
 */
#ifndef DISCO_EVCOLS_H
#define DISCO_EVCOLS_H

#include <stddef.h>
#include <stdint.h>

#define EVCOLS_HDR		10
#define EVCOLS_MAX_CLASSES	255
/* longer records are kept whole (rows): columns of one record gain nothing */
#define EVCOLS_MAX_LEN		1024
/* a decoded block is at most this many times its encoding */
#define EVCOLS_MAX_EXPANSION	32u

/* The classes of a block being gathered: when a new one does not fit. */
struct evcols_classes {
	uint32_t key[EVCOLS_MAX_CLASSES];	/* collector << 16 | len, or rows */
	int n;
	int last;			/* index of the last record's class */
};

void evcols_classes_reset(struct evcols_classes *c);
/*
 * The class of a record of this collector and length: its index, or -1
 * if the block has no room for another class (cut it first).
 */
int evcols_class(struct evcols_classes *c, uint16_t collector, uint16_t len);

/*
 * A block being gathered, already in columns: each record's words go
 * straight to its class's columns as it is added (no copy of the record
 * to transpose later), and the memory is kept for the next block.
 */
struct evcols_enc {
	struct evcols_classes cl;
	uint32_t nrec;
	size_t out_len;		/* the records in the version 1 layout: 4 + len each */
	uint8_t *cls;		/* each record's class */
	size_t cls_cap;
	uint8_t *rows;		/* records of rows classes: varint len | bytes */
	size_t rows_len, rows_cap;
	uint32_t count[EVCOLS_MAX_CLASSES];	/* records of each class */
	uint32_t stride[EVCOLS_MAX_CLASSES];	/* room in each column of a class */
	uint32_t *col[EVCOLS_MAX_CLASSES];	/* its columns: word w at col + w * stride */
	size_t words[EVCOLS_MAX_CLASSES];	/* what col[c] has room for, kept across blocks */
	size_t hint;		/* the block size the caller cuts at: columns grow to fit it */
	uint8_t *plain;		/* evcols_finish_split: the planes kept out of deflate */
	size_t plain_len, plain_cap;
};

void evcols_enc_free(struct evcols_enc *e);
/* Start a new block (the memory stays). */
void evcols_enc_reset(struct evcols_enc *e);
/*
 * Add a record to the block: 0, -ENOSPC if its class does not fit (a new
 * class in a full table: cut the block first), -EINVAL if it is longer
 * than 65535 bytes, -ENOMEM. The block is unchanged on failure.
 */
int evcols_add(struct evcols_enc *e, uint16_t collector, const void *data, size_t len);
/* Most bytes the encoding of rows_len bytes of records can take. */
size_t evcols_bound(size_t rows_len);
/*
 * The block gathered so far (e->out_len bytes in the version 1 layout)
 * encoded into out (evcols_bound(e->out_len) bytes): its length. The
 * block is left as it was (evcols_enc_reset starts the next).
 */
size_t evcols_finish(struct evcols_enc *e, uint8_t *out);
/*
 * The same block in the EVENTS_SPLIT layout (evcols_bound() + 4 bytes at
 * out): u32 plain_len | plain | the block above, where the byte planes
 * deflate would gain little on (a timestamp's or a latency's low byte)
 * are in plain, in column order, their width byte 8 | 128. *plain: the
 * length of the prefix to store uncompressed (4 + plain_len).
 */
size_t evcols_finish_split(struct evcols_enc *e, uint8_t *out, size_t *plain);
/*
 * Encode the records in rows (rows_len bytes, version 1 layout, at most
 * EVCOLS_MAX_CLASSES classes) into out (evcols_bound(rows_len) bytes):
 * the encoded length, or 0 with errno set (ENOMEM, EINVAL). e is reset
 * and then holds these records.
 */
size_t evcols_encode(struct evcols_enc *e, const uint8_t *rows, size_t rows_len,
		     uint8_t *out);
/* out_len claimed by an encoded block; -EBADMSG if impossible for its size. */
int evcols_out_len(const uint8_t *in, size_t len, uint32_t *out_len);
/*
 * Decode a whole block into out (out_len bytes from evcols_out_len):
 * 0, -ENOMEM, or -EBADMSG with *why saying what is wrong.
 */
int evcols_decode(const uint8_t *in, size_t len, uint8_t *out,
		  uint32_t out_len, const char **why);
/* The same for a block in the EVENTS_SPLIT layout (evcols_finish_split). */
int evcols_split_out_len(const uint8_t *in, size_t len, uint32_t *out_len);
int evcols_split_decode(const uint8_t *in, size_t len, uint8_t *out,
			uint32_t out_len, const char **why);

#endif
