/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Session file format (SPEC §4).
 *
 *   file   := magic "DISCOSES" | u32 version | u32 reserved | block*
 *   block  := "DBLK" | u32 type | u32 seq | u32 raw_len | u32 comp_len |
 *             u32 data_crc | u32 hdr_crc | data[comp_len]       (version 3)
 *   block  := u32 type | u32 raw_len | u32 comp_len | u32 crc |
 *             data[comp_len]                              (versions 1, 2)
 *
 * All integers little endian; data is zlib (deflate) of raw_len bytes.
 * Version 3: hdr_crc is crc32() of the 24 header bytes before it, data_crc
 * of data; seq counts blocks from 0. A block whose data is damaged is
 * skipped by its (checked) length; after a damaged header the reader finds
 * the next "DBLK" whose hdr_crc checks. The sequence numbers and the
 * SUMMARY's "integrity" object (block and per-collector event counts,
 * added by session_write_json) show blocks deleted, duplicated or
 * reordered. Versions 1, 2: crc covers the first three header words and
 * the data; the reader stops at the first damaged block.
 *
 * Block types: HEADER (JSON, first), EVENTS (packed event records), STATE
 * (JSON snapshot of histograms and counters, written periodically so a
 * killed session still reports), SUMMARY (JSON, last; its presence marks
 * the file complete).
 *
 * An EVENTS block holds records: u16 collector id | u16 len | payload[len].
 * Versions 2 and 3 write them as EVENTS_PACKED (evpack.h), versions 4 to 6
 * as EVENTS_COLS (evcols.h); the reader hands those back decoded, as EVENTS
 * blocks, so callers see one layout.
 */
#ifndef DISCO_SESSION_H
#define DISCO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define SESSION_MAGIC		"DISCOSES"
#define SESSION_VERSION		7	/* what the writer writes */
#define SESSION_VERSION_MIN	1	/* oldest the reader reads */
#define SESSION_FILE_HDR	16
#define SESSION_BLOCK_MAGIC	"DBLK"
#define SESSION_BLOCK_HDR	28	/* versions 3, 4 */
#define SESSION_BLOCK_HDR_V2	16	/* versions 1 and 2 */
/* at most this many damage messages are kept (and a count of the rest) */
#define SESSION_MAX_DAMAGE	16
/*
 * Budgets (docs/session-format.md, "Limits"). The writer never writes a
 * block past them, so the reader can refuse one as hostile: it stops
 * there and the report shows everything before it. Real recordings set
 * them: a 60 s whole-machine session of every collector has STATE blocks
 * of 4.1 MB, 311k JSON items, 8 levels deep; events blocks are cut at
 * SESSION_EVENTS_BLOCK.
 */
#define SESSION_MAX_JSON	(16u << 20)	/* HEADER, STATE, SUMMARY bytes */
#define SESSION_MAX_JSON_ITEMS	(1u << 20)	/* session_json_shape() */
#define SESSION_MAX_JSON_DEPTH	32
#define SESSION_MAX_EVENTS_RAW	(1u << 20)	/* EVENTS(_PACKED, _COLS) inflated; _COLS decoded */
/* the largest block of any type, inflated and (EVENTS_PACKED) decoded */
#define SESSION_MAX_RAW		SESSION_MAX_JSON
#define SESSION_MAX_COMP	(SESSION_MAX_RAW + (SESSION_MAX_RAW >> 12) + 64)
/*
 * Whole file: inflated (and decoded) bytes at most this many times the
 * file's size (real files: 4 to 13.4), or SESSION_FILE_FLOOR if more.
 * Reading costs time and memory in proportion (~30 MB/s of JSON).
 */
#define SESSION_FILE_RATIO	32u
#define SESSION_FILE_FLOOR	(2ull * SESSION_MAX_JSON)
/* The writer cuts an EVENTS_COLS block at this decoded size. */
#define SESSION_EVENTS_BLOCK	(256u << 10)

enum session_block_type {
	BLK_HEADER = 1,
	BLK_EVENTS = 2,
	BLK_STATE = 3,
	BLK_SUMMARY = 4,
	BLK_EVENTS_PACKED = 5,	/* versions 2, 3; read back as BLK_EVENTS */
	BLK_EVENTS_COLS = 6,	/* versions 4 to 6; read back as BLK_EVENTS */
	BLK_EVENTS_SPLIT = 7,	/* version 7; read back as BLK_EVENTS */
};

struct session_writer;

/*
 * Create path 0600; O_EXCL unless force (then an existing regular file is
 * replaced, never followed through a symlink). NULL and errno on failure.
 */
struct session_writer *session_create(const char *path, bool force);
/*
 * Compress and append one block (not EVENTS_PACKED: the writer makes
 * those from session_add_event); -errno (e.g. -ENOSPC) on failure.
 */
int session_write_block(struct session_writer *w, uint32_t type,
			const void *data, size_t len);
int session_write_json(struct session_writer *w, uint32_t type, const json_t *j);
/* Buffer one event record; writes an EVENTS block when the buffer fills. */
int session_add_event(struct session_writer *w, uint16_t collector,
		      const void *data, size_t len);
/* Write buffered events (if any) as one EVENTS block, then fdatasync. */
int session_flush(struct session_writer *w);
uint64_t session_bytes_written(const struct session_writer *w);
/*
 * From here on, blocks are compressed and written by a thread at
 * SCHED_IDLE (raised when a block waits over half a second; session.c),
 * so the calls above only queue them; a write error comes back from a
 * later call. Start it after capabilities are dropped: the thread gets
 * the caller's.
 */
int session_start_async(struct session_writer *w);
/* Raise the writer thread if the oldest queued block waits too long. */
void session_nudge(struct session_writer *w);
/* Flush, fsync and close; frees w (NULL is accepted). */
int session_close(struct session_writer *w);

struct session_block {
	uint32_t type;		/* EVENTS_PACKED comes back as EVENTS */
	uint64_t offset;	/* file offset of the block header */
	size_t len;		/* raw (decompressed, decoded) length */
	uint8_t *data;		/* owned by the reader, valid until the next call */
};

struct session_reader;

/* Opens and checks the file header; NULL with a message in err on failure. */
struct session_reader *session_open(const char *path, char *err, size_t errlen);
/* Same, from a memory buffer (tests, fuzzing); buf must outlive the reader. */
struct session_reader *session_open_mem(const void *buf, size_t len,
					char *err, size_t errlen);
/*
 * 1: a block was read into blk. 0: end of file; if the file ended inside a
 * block, session_truncated() is then true. <0: a block over a budget, or
 * (versions 1, 2) a corrupt one; err names the block and byte offset, and
 * the reader stops there. Version 3 damage (a bad CRC, a damaged header,
 * a duplicate, a block out of order or missing) does not stop it: the
 * damaged block is skipped and said in session_damage().
 */
int session_next_block(struct session_reader *r, struct session_block *blk,
		       char *err, size_t errlen);
bool session_truncated(const struct session_reader *r);
/*
 * Damage the reader skipped or found so far, in file order: how many, and
 * message i (i < SESSION_MAX_DAMAGE; the ones past it are only counted).
 * Missing sequence numbers are added once the end of the file is read.
 */
size_t session_damage_count(const struct session_reader *r);
const char *session_damage(const struct session_reader *r, size_t i);
/*
 * Compare the SUMMARY's "integrity" object with what was read (version 3;
 * call it when the SUMMARY block is read): a difference is added as damage.
 * name() gives a collector's name for the message (NULL: its id).
 */
void session_check_summary(struct session_reader *r, const json_t *integrity,
			   const char *(*name)(uint16_t collector));
/* The file's format version (SESSION_VERSION_MIN .. SESSION_VERSION). */
uint32_t session_version(const struct session_reader *r);
/* Offset just past the last whole block read. */
uint64_t session_good_bytes(const struct session_reader *r);
void session_reader_free(struct session_reader *r);

struct session_event {
	uint16_t collector;
	uint16_t len;
	const void *data;
};

/*
 * Items (1 + commas + objects + arrays, outside strings) and nesting depth
 * of JSON text, counted without parsing it; jansson needs ~200 bytes per
 * item, so this bounds what parsing may take. Pure.
 */
void session_json_shape(const char *s, size_t len, size_t *items, int *depth);
/*
 * Parse a HEADER, STATE or SUMMARY block within the budgets above. NULL
 * with err naming the block and its offset.
 */
json_t *session_block_json(const struct session_block *blk, char *err, size_t errlen);
/* "HEADER", "STATE", ...: for messages. */
const char *session_block_name(uint32_t type);

/*
 * Iterate the records of an EVENTS block. *pos starts at 0. 1: ev filled;
 * 0: end; -EBADMSG: a record runs past the block.
 */
int session_event_next(const struct session_block *blk, size_t *pos,
		       struct session_event *ev);

#endif
