// SPDX-License-Identifier: GPL-2.0
/* Session file writer and reader (format in session.h, docs/session-format.md). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <libdeflate.h>
#include <zlib.h>
#include "evcols.h"
#include "evpack.h"
#include "session.h"

/*
 * deflate's best case is about 1032:1 (zlib FAQ); a header claiming more
 * than that is corrupt, and refusing it early keeps a hostile file from
 * making us allocate a large raw buffer for a tiny compressed one.
 */
#define ZLIB_MAX_RATIO		1032u
#define ZLIB_RATIO_SLACK	64u

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

_Static_assert(SESSION_MAX_EVENTS_RAW * EVPACK_MAX_EXPANSION <= SESSION_MAX_RAW,
	       "a decoded events block fits the largest block");

static bool type_is_json(uint32_t type)
{
	return type == BLK_HEADER || type == BLK_STATE || type == BLK_SUMMARY;
}

const char *session_block_name(uint32_t type)
{
	static const char *const names[] = {
		[BLK_HEADER] = "HEADER", [BLK_EVENTS] = "EVENTS", [BLK_STATE] = "STATE",
		[BLK_SUMMARY] = "SUMMARY", [BLK_EVENTS_PACKED] = "EVENTS_PACKED",
		[BLK_EVENTS_COLS] = "EVENTS_COLS", [BLK_EVENTS_SPLIT] = "EVENTS_SPLIT",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

/* The most raw bytes a block of this type may inflate to (session.h). */
static uint32_t raw_limit(uint32_t type)
{
	return type_is_json(type) ? SESSION_MAX_JSON : SESSION_MAX_EVENTS_RAW;
}

static bool type_known(uint32_t type, uint32_t version)
{
	if (type == BLK_EVENTS_PACKED)
		return version >= 2;
	if (type == BLK_EVENTS_COLS)
		return version >= 4;
	if (type == BLK_EVENTS_SPLIT)
		return version >= 7;
	return type >= BLK_HEADER && type <= BLK_SUMMARY;
}

/*
 * zlib's CRC-32 (the same value crc32() gives), from libdeflate, which
 * folds it with carry-less multiplies where the CPU has them: it took
 * 1% of the recorder's CPU with zlib's table-driven crc32_z.
 */
static uint32_t crc(const uint8_t *data, size_t len)
{
	return libdeflate_crc32(0, data, len);
}

/* Versions 1, 2: the CRC covers type|raw_len|comp_len, then the compressed bytes. */
static uint32_t block_crc(const uint8_t *hdr, const uint8_t *data, size_t len)
{
	return libdeflate_crc32(libdeflate_crc32(0, hdr, 12), data, len);
}

void session_json_shape(const char *s, size_t len, size_t *items, int *depth)
{
	bool in_str = false, esc = false;
	size_t n = 1;
	int d = 0, max = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			n++;
			if (++d > max)
				max = d;
			break;
		case '}':
		case ']':
			d--;
			break;
		case ',':
			n++;
			break;
		}
	}
	*items = n;
	*depth = max;
}

/* True, and why in buf, if JSON text is over the budgets. */
static bool json_over(const char *s, size_t len, char *buf, size_t n)
{
	size_t items;
	int depth;

	if (len > SESSION_MAX_JSON) {
		snprintf(buf, n, "%zu bytes of JSON, over the %u byte limit", len,
			 SESSION_MAX_JSON);
		return true;
	}
	session_json_shape(s, len, &items, &depth);
	if (depth > SESSION_MAX_JSON_DEPTH) {
		snprintf(buf, n, "JSON nested %d levels deep, over the limit of %d",
			 depth, SESSION_MAX_JSON_DEPTH);
		return true;
	}
	if (items > SESSION_MAX_JSON_ITEMS) {
		snprintf(buf, n, "%zu JSON items, over the limit of %u", items,
			 SESSION_MAX_JSON_ITEMS);
		return true;
	}
	return false;
}

json_t *session_block_json(const struct session_block *blk, char *err, size_t errlen)
{
	json_error_t je;
	char why[96];
	json_t *j;

	if (json_over((const char *)blk->data, blk->len, why, sizeof(why))) {
		fail(err, errlen, "%s block at offset %llu: %s", session_block_name(blk->type),
		     (unsigned long long)blk->offset, why);
		errno = EFBIG;
		return NULL;
	}
	j = json_loadb((const char *)blk->data, blk->len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		fail(err, errlen, "corrupt %s block at offset %llu: not a JSON object (%s)",
		     session_block_name(blk->type), (unsigned long long)blk->offset,
		     j ? "another JSON value" : je.text);
		json_decref(j);
		errno = EBADMSG;
		return NULL;
	}
	return j;
}

/* ---- writer --------------------------------------------------------------- */

/*
 * Asynchronous writing (session_start_async): blocks are queued for a
 * writer thread that compresses and appends them in order. It runs at
 * SCHED_IDLE: on a machine the workload keeps busy, the recorder's
 * biggest cost (compression, about half its CPU per record) then waits for
 * idle time instead of taking it from what is measured. A block queued
 * longer than ASYNC_LAG_NS raises the thread to normal priority until the
 * queue is empty, and ASYNC_MAX_QUEUED bounds the memory held.
 *
 * The recording thread (the ring's consumer) never waits on a lock the
 * writer holds: a SCHED_IDLE thread preempted inside any critical section
 * holds it until the workload leaves it a CPU, and under stress-ng
 * --switch 2 the consumer waited up to 420 ms for the queue's mutex, while
 * the default ring holds ~170 ms of events (most of the drops measured by
 * tests/bench/ring.sh). So the queue is a ring of slots with one writer
 * per index: the recording thread fills slots and advances tail, the
 * writer thread writes them and advances done, and the recording thread
 * takes each written slot's buffer back (reaped), to reuse or free: the
 * writer allocates and frees nothing of the queue's (a free() there could
 * take the recording thread's malloc arena lock, the same trap). Waits
 * are futexes on the counters; only a full queue makes the recording
 * thread wait, as before. The syncs a flush asks for are a third
 * thread's (struct session_writer's sync_req), so a slow disk delays
 * durability, not the writing.
 */
#define ASYNC_LAG_NS		500000000ULL
/* encoded blocks: ~60 KB each of sched events (256 KiB decoded), 640 KiB at worst */
#define ASYNC_MAX_QUEUED	64
/*
 * Event buffers kept for reuse: as many as can be queued. Freed, a
 * buffer went back to the kernel (glibc unmaps or trims it), and the
 * next one cost the main thread a page fault per 4 KiB while it encoded
 * (6% of its CPU when the writer lagged under load); kept, the memory
 * stays what the queue's peak took, which peak RSS counts anyway.
 */
#define ASYNC_SPARES		ASYNC_MAX_QUEUED

struct wblock {
	uint32_t type;		/* 0: no block, only the sync below */
	uint32_t seq;
	bool sync;		/* fdatasync once written */
	bool pooled;		/* data is an events buffer, back to the spares */
	uint8_t *data;
	size_t len;
	uint64_t queued_ns;
};

struct session_writer {
	int fd;
	uint64_t off;		/* end of the last whole block on disk */
	struct evcols_enc enc;	/* the pending EVENTS_COLS block, in columns */
	uint8_t *cols;		/* the block encoded (synchronous mode) */
	uint8_t *out;		/* block header + compressed data */
	size_t out_cap;
	struct libdeflate_compressor *dc;
	struct libdeflate_compressor *store;	/* level 0: file_budget_for() */
	uint64_t inflated;	/* what the reader's file_budget() will count */
	uint32_t seq;		/* blocks handed over so far: the next one's number */
	uint64_t *nev;		/* records added, per collector id */
	size_t nev_len;
	/*
	 * Asynchronous mode. The recording thread writes slot[], tail, bell,
	 * stop, raised, spare[] and reaped; the writer thread done and
	 * async_err. tail, done and bell are futex words.
	 */
	bool async;
	pthread_t thr;
	struct wblock slot[ASYNC_MAX_QUEUED];
	uint32_t tail;		/* slots filled */
	uint32_t done;		/* slots written (or skipped after an error) */
	uint32_t reaped;	/* written slots whose buffer was taken back */
	uint32_t bell;		/* bumped for every slot filled, and to stop */
	bool stop;
	bool raised;		/* the thread is at normal priority */
	int async_err;		/* the threads' first error, sticky */
	/*
	 * The sync thread: fdatasync off the writer thread's path. One took
	 * 3.5 s on this VM's disk while stress-ng ran: the writer waited in
	 * it, the queue filled, the recording thread waited for the queue
	 * and the ring dropped a million events. Now blocks are written on
	 * while the data before them is being synced; syncs asked for
	 * meanwhile are one more fdatasync. The writer thread bumps
	 * sync_req (a futex word); sync_stop ends the thread.
	 */
	pthread_t sync_thr;
	uint32_t sync_req;
	bool sync_stop;
	uint8_t *spare[ASYNC_SPARES];
	int nspare;
};

static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Append at w->off with pwrite so that a failed, partial block can be cut
 * off again with ftruncate and the file stays readable to its last whole
 * block; later writes then continue from the same good offset.
 */
static int append(struct session_writer *w, const uint8_t *buf, size_t len)
{
	int err = pwrite_all(w->fd, buf, len, w->off);

	if (err) {
		/* best effort: if this fails too, the reader reports truncation */
		while (ftruncate(w->fd, (off_t)w->off) < 0 && errno == EINTR)
			;
		return err;
	}
	/* session_bytes_written() reads it from the recording thread */
	__atomic_store_n(&w->off, w->off + len, __ATOMIC_RELAXED);
	return 0;
}

/* What every block handed to the writer must be; 0 or -errno. */
static int block_ok(uint32_t type, const void *data, size_t len)
{
	/* events blocks are made here, from session_add_event's records */
	if (type == BLK_EVENTS_PACKED || type == BLK_EVENTS_COLS || type == BLK_EVENTS_SPLIT ||
	    !type_known(type, SESSION_VERSION) ||
	    (len && !data))
		return -EINVAL;
	return len > raw_limit(type) ? -EFBIG : 0;
}

/*
 * libdeflate level 1 writes the same zlib format as zlib's deflate, at
 * about half the CPU per byte on this recorder's blocks, and smaller
 * (docs/session-format.md has the figures); whole-buffer compression is
 * all a block needs.
 */
#define SESSION_DEFLATE_LEVEL	1

/* The reader's whole-file budget (file_budget) for a file of size bytes. */
static uint64_t file_budget_for(uint64_t size)
{
	uint64_t b = size * SESSION_FILE_RATIO;

	return b > SESSION_FILE_FLOOR ? b : SESSION_FILE_FLOOR;
}

/* What an encoded EVENTS_SPLIT block may take (evcols_finish_split). */
#define EVENTS_BUF_BYTES	(evcols_bound(SESSION_EVENTS_BLOCK) + 4)

/*
 * The pending records, encoded into dst (EVENTS_BUF_BYTES) by the
 * recording thread when the block is cut: a queued block then holds ~10
 * bytes an event instead of ~90.
 */
static size_t encode_events(struct session_writer *w, uint8_t *dst)
{
	size_t plain;

	return evcols_finish_split(&w->enc, dst, &plain);
}

/*
 * An EVENTS_SPLIT block as one zlib stream (RFC 1950) that zlib inflates
 * like any other: its first plain bytes (the plain area: byte planes
 * deflate gains ~5% on, evcols.c) in stored deflate blocks, the rest
 * deflated by libdeflate after them (a stored block ends on a byte, where
 * libdeflate's raw deflate starts), then the Adler-32 of all of it.
 * Deflate spent a third of its time on those planes: the low bytes of
 * timestamp differences and latencies, near random. 0 if out (cap bytes)
 * is too small.
 */
static size_t zlib_split(struct libdeflate_compressor *dc, const uint8_t *data, size_t len,
			 size_t plain, uint8_t *out, size_t cap)
{
	uint8_t *o = out;
	uint32_t adler;
	size_t n;

	if (cap < 2 + plain + 5 * (plain / 65535 + 1) + 4)
		return 0;
	/* deflate, 32 KiB window, no dictionary; FCHECK: 0x7801 % 31 == 0 */
	*o++ = 0x78;
	*o++ = 0x01;
	for (size_t off = 0; off < plain; off += n) {
		n = plain - off < 65535 ? plain - off : 65535;
		/* BFINAL 0, BTYPE 00 (stored), padded to the byte */
		*o++ = 0;
		o[0] = (uint8_t)n;
		o[1] = (uint8_t)(n >> 8);
		o[2] = (uint8_t)~n;
		o[3] = (uint8_t)(~n >> 8);
		memcpy(o + 4, data + off, n);
		o += 4 + n;
	}
	n = libdeflate_deflate_compress(dc, data + plain, len - plain, o,
					cap - (size_t)(o - out) - 4);
	if (!n)
		return 0;
	o += n;
	adler = libdeflate_adler32(1, data, len);
	o[0] = (uint8_t)(adler >> 24);
	o[1] = (uint8_t)(adler >> 16);
	o[2] = (uint8_t)(adler >> 8);
	o[3] = (uint8_t)adler;
	return (size_t)(o + 4 - out);
}

static int write_block_now(struct session_writer *w, uint32_t type, uint32_t seq,
			   const void *data, size_t len)
{
	size_t bound, comp_len, plain = 0;
	uint64_t cost = len;
	int err;
	uint8_t *p;

	/* the reader counts a column block's decoded size too */
	if (type == BLK_EVENTS_COLS && len >= EVCOLS_HDR)
		cost += get_le32((const uint8_t *)data + 4);
	/* made by evcols_finish_split: the plain area's length, then the columns */
	if (type == BLK_EVENTS_SPLIT) {
		plain = 4 + get_le32(data);
		cost += get_le32((const uint8_t *)data + plain + 4);
	}

	/* callers checked the block (block_ok), or made it (packed events) */
	if (!w->dc) {
		w->dc = libdeflate_alloc_compressor(SESSION_DEFLATE_LEVEL);
		w->store = libdeflate_alloc_compressor(0);
		if (!w->dc || !w->store)
			return -ENOMEM;
	}
	bound = libdeflate_zlib_compress_bound(w->dc, len);
	if (libdeflate_zlib_compress_bound(w->store, len) > bound)
		bound = libdeflate_zlib_compress_bound(w->store, len);
	/* zlib header and Adler-32, stored blocks of 5 + 65535 bytes, the rest deflated */
	if (plain) {
		size_t split = 6 + plain + 5 * (plain / 65535 + 1) +
			       libdeflate_deflate_compress_bound(w->dc, len - plain);

		if (split > bound)
			bound = split;
	}
	if (SESSION_BLOCK_HDR + bound > w->out_cap) {
		p = realloc(w->out, SESSION_BLOCK_HDR + bound);
		if (!p)
			return -ENOMEM;
		w->out = p;
		w->out_cap = SESSION_BLOCK_HDR + bound;
	}
	if (plain)
		comp_len = zlib_split(w->dc, data, len, plain, w->out + SESSION_BLOCK_HDR, bound);
	else
		comp_len = libdeflate_zlib_compress(w->dc, len ? data : "", len,
						    w->out + SESSION_BLOCK_HDR, bound);
	/*
	 * Blocks that deflate far better than real ones (real files inflate
	 * to at most 14 times their size) would take the file past the
	 * reader's budget: such a block is stored instead, which keeps the
	 * file within it whatever was written before.
	 */
	if (comp_len && w->inflated + cost >
	    file_budget_for(w->off + SESSION_BLOCK_HDR + comp_len))
		comp_len = libdeflate_zlib_compress(w->store, len ? data : "", len,
						    w->out + SESSION_BLOCK_HDR, bound);
	if (!comp_len)
		return -EIO;
	if (comp_len > SESSION_MAX_COMP)
		return -EFBIG;
	memcpy(w->out, SESSION_BLOCK_MAGIC, 4);
	put_le32(w->out + 4, type);
	put_le32(w->out + 8, seq);
	put_le32(w->out + 12, (uint32_t)len);
	put_le32(w->out + 16, (uint32_t)comp_len);
	put_le32(w->out + 20, crc(w->out + SESSION_BLOCK_HDR, comp_len));
	put_le32(w->out + 24, crc(w->out, 24));
	err = append(w, w->out, SESSION_BLOCK_HDR + comp_len);
	if (!err)
		w->inflated += cost;
	return err;
}

static int queue_events(struct session_writer *w, bool sync);

static int write_pending_events(struct session_writer *w)
{
	size_t n;
	int err;

	if (w->async)
		return queue_events(w, false);
	if (!w->enc.nrec)
		return 0;
	if (!w->cols) {
		w->cols = malloc(EVENTS_BUF_BYTES);
		if (!w->cols)
			return -ENOMEM;
	}
	n = encode_events(w, w->cols);
	err = write_block_now(w, BLK_EVENTS_SPLIT, w->seq, w->cols, n);
	/* on failure the records stay buffered for the next attempt */
	if (!err) {
		w->seq++;
		evcols_enc_reset(&w->enc);
	}
	return err;
}

/* ---- asynchronous writing ------------------------------------------------ */

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void futex_wait(uint32_t *word, uint32_t seen)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/*
 * Move the writer thread between SCHED_IDLE and normal priority; only the
 * recording thread does. Raising needs CAP_SYS_NICE (kept after
 * attaching, caps.c); if it fails the thread stays idle: slower to reach
 * the disk, nothing lost.
 */
static void set_raised(struct session_writer *w, bool raised)
{
	struct sched_param sp = { 0 };

	if (w->raised != raised &&
	    !pthread_setschedparam(w->thr, raised ? SCHED_OTHER : SCHED_IDLE, &sp))
		w->raised = raised;
}

/*
 * An events buffer: room for an encoded block, mapped on its own rather
 * than taken from the heap. Only the pages an encoding reaches become
 * resident, and the heap does not grow by the ~650 KiB a buffer spans
 * whenever the queue gets deeper than before (growth the recorder
 * answers with a trim, heap_trim).
 */
static uint8_t *ev_buf_new(void)
{
	void *p = mmap(NULL, EVENTS_BUF_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void ev_buf_free(uint8_t *p)
{
	if (p)
		munmap(p, EVENTS_BUF_BYTES);
}

/* An events buffer back to the spares, or unmapped if they are full. */
static void spare_put(struct session_writer *w, uint8_t *data)
{
	if (w->nspare < ASYNC_SPARES)
		w->spare[w->nspare++] = data;
	else
		ev_buf_free(data);
}

/* Take back the buffers of the written slots: events buffers for reuse. */
static void reap(struct session_writer *w)
{
	uint32_t done = __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);

	for (; w->reaped != done; w->reaped++) {
		struct wblock *b = &w->slot[w->reaped % ASYNC_MAX_QUEUED];

		if (b->pooled)
			spare_put(w, b->data);
		else
			free(b->data);
		b->data = NULL;
	}
}

/*
 * The oldest block not yet written has waited too long: normal priority
 * until the queue is empty again.
 */
static void adjust_priority(struct session_writer *w, uint64_t now)
{
	uint32_t done = __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);

	if (done == w->tail)
		set_raised(w, false);	/* caught up */
	else if (w->slot[done % ASYNC_MAX_QUEUED].queued_ns + ASYNC_LAG_NS <= now)
		set_raised(w, true);
}

/* The first error of either thread; the others are dropped. */
static void async_fail(struct session_writer *w, int err)
{
	int none = 0;

	__atomic_compare_exchange_n(&w->async_err, &none, err, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

static int write_item(struct session_writer *w, const struct wblock *b)
{
	int err = 0;

	if (b->type)
		err = write_block_now(w, b->type, b->seq, b->data, b->len);
	if (!err && b->sync) {
		__atomic_add_fetch(&w->sync_req, 1, __ATOMIC_RELEASE);
		futex_wake(&w->sync_req);
	}
	return err;
}

static void *syncer_main(void *arg)
{
	struct session_writer *w = arg;
	uint32_t seen = 0, req;

	for (;;) {
		req = __atomic_load_n(&w->sync_req, __ATOMIC_ACQUIRE);
		/* session_close() syncs the whole file after this thread */
		if (__atomic_load_n(&w->sync_stop, __ATOMIC_ACQUIRE))
			break;
		if (req == seen) {
			futex_wait(&w->sync_req, req);
			continue;
		}
		/* every request so far: one fdatasync covers what they asked for */
		seen = req;
		while (fdatasync(w->fd) < 0) {
			if (errno != EINTR) {
				async_fail(w, -errno);
				break;
			}
		}
	}
	return NULL;
}

static void *writer_main(void *arg)
{
	struct session_writer *w = arg;
	uint32_t bell, tail;
	int err = 0;

	for (;;) {
		bell = __atomic_load_n(&w->bell, __ATOMIC_ACQUIRE);
		tail = __atomic_load_n(&w->tail, __ATOMIC_ACQUIRE);
		if (w->done == tail) {
			if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
				break;
			futex_wait(&w->bell, bell);
			continue;
		}
		/* after an error (this thread's or the sync's) nothing more is written */
		if (!err)
			err = __atomic_load_n(&w->async_err, __ATOMIC_ACQUIRE);
		if (!err) {
			err = write_item(w, &w->slot[w->done % ASYNC_MAX_QUEUED]);
			if (err)
				async_fail(w, err);
		}
		__atomic_store_n(&w->done, w->done + 1, __ATOMIC_RELEASE);
		futex_wake(&w->done);
	}
	return NULL;
}

/* Queue a block (type 0: only a sync); takes data, freed on failure too. */
static int enqueue(struct session_writer *w, uint32_t type, uint8_t *data,
		   size_t len, bool pooled, bool sync)
{
	struct wblock *b;
	uint32_t done;
	int err;

	reap(w);
	while (!(err = __atomic_load_n(&w->async_err, __ATOMIC_ACQUIRE)) &&
	       w->tail - w->reaped >= ASYNC_MAX_QUEUED) {
		set_raised(w, true);
		done = __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
		if (done == w->reaped)
			futex_wait(&w->done, done);
		reap(w);
	}
	if (err) {
		if (pooled)
			spare_put(w, data);
		else
			free(data);
		return err;
	}
	b = &w->slot[w->tail % ASYNC_MAX_QUEUED];
	b->type = type;
	/* numbered here, in the caller's order, which is the file's */
	b->seq = type ? w->seq++ : 0;
	b->data = data;
	b->len = len;
	b->pooled = pooled;
	b->sync = sync;
	b->queued_ns = mono_now();
	__atomic_store_n(&w->tail, w->tail + 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&w->bell, 1, __ATOMIC_RELEASE);
	futex_wake(&w->bell);
	adjust_priority(w, b->queued_ns);
	return 0;
}

/* Hand the buffered events to the thread, encoded (and a sync, if asked). */
static int queue_events(struct session_writer *w, bool sync)
{
	uint8_t *data = NULL;
	size_t n;

	if (!w->enc.nrec)
		return sync ? enqueue(w, 0, NULL, 0, false, true) : 0;
	reap(w);
	if (w->nspare)
		data = w->spare[--w->nspare];
	if (!data)
		data = ev_buf_new();
	if (!data)
		return -ENOMEM;
	n = encode_events(w, data);
	evcols_enc_reset(&w->enc);
	return enqueue(w, BLK_EVENTS_SPLIT, data, n, true, sync);
}

static void stop_syncer(struct session_writer *w)
{
	__atomic_store_n(&w->sync_stop, true, __ATOMIC_RELEASE);
	__atomic_add_fetch(&w->sync_req, 1, __ATOMIC_RELEASE);
	futex_wake(&w->sync_req);
	pthread_join(w->sync_thr, NULL);
}

int session_start_async(struct session_writer *w)
{
	sigset_t all, old;
	int err;

	if (!w || w->async)
		return -EINVAL;
	err = write_pending_events(w);
	if (err)
		return err;
	w->tail = w->done = w->reaped = w->bell = 0;
	w->stop = false;
	w->async_err = 0;
	w->sync_req = 0;
	w->sync_stop = false;
	w->raised = true;	/* a new thread has its creator's policy */
	/* signals stay with the recording thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&w->sync_thr, NULL, syncer_main, w);
	if (!err) {
		pthread_setname_np(w->sync_thr, "disco-sync");
		err = -pthread_create(&w->thr, NULL, writer_main, w);
		if (err)
			stop_syncer(w);
	}
	if (!err) {
		pthread_setname_np(w->thr, "disco-writer");
		set_raised(w, false);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;
	w->async = true;
	return 0;
}

void session_nudge(struct session_writer *w)
{
	if (!w || !w->async)
		return;
	reap(w);
	adjust_priority(w, mono_now());
}

/* Queue what is left, let the thread finish at normal priority, join it. */
static int async_finish(struct session_writer *w)
{
	int err = queue_events(w, false);

	set_raised(w, true);
	__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
	__atomic_add_fetch(&w->bell, 1, __ATOMIC_RELEASE);
	futex_wake(&w->bell);
	pthread_join(w->thr, NULL);
	stop_syncer(w);
	reap(w);
	if (!err)
		err = w->async_err;
	while (w->nspare)
		ev_buf_free(w->spare[--w->nspare]);
	w->async = false;
	return err;
}

struct session_writer *session_create(const char *path, bool force)
{
	struct session_writer *w = NULL;
	uint8_t hdr[SESSION_FILE_HDR];
	struct stat st;
	int flags = O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	int fd = -1, err;

	if (!path || !*path) {
		errno = EINVAL;
		return NULL;
	}
	if (!force) {
		flags |= O_EXCL;
	} else if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			errno = ELOOP;
			return NULL;
		}
		if (!S_ISREG(st.st_mode)) {
			errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
			return NULL;
		}
	} else if (errno != ENOENT) {
		return NULL;
	}

	/*
	 * O_NONBLOCK keeps a FIFO swapped in after lstat from blocking open;
	 * fstat then refuses anything but a regular file before truncating.
	 */
	fd = open(path, flags, 0600);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out_close;
	}
	/*
	 * Two recorders with -f on one file would interleave their blocks:
	 * the first holds an exclusive lock until it closes, the second is
	 * refused before it truncates anything.
	 */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out_close;
	}
	if (fcntl(fd, F_SETFL, 0) < 0 || ftruncate(fd, 0) < 0 ||
	    /* the umask may not widen it, but an old file's mode may be wider */
	    fchmod(fd, 0600) < 0) {
		err = -errno;
		goto out_close;
	}

	w = calloc(1, sizeof(*w));
	if (!w) {
		err = -ENOMEM;
		goto out_close;
	}
	w->fd = fd;
	evcols_enc_reset(&w->enc);
	w->enc.hint = SESSION_EVENTS_BLOCK;
	memcpy(hdr, SESSION_MAGIC, 8);
	put_le32(hdr + 8, SESSION_VERSION);
	put_le32(hdr + 12, 0);
	err = append(w, hdr, sizeof(hdr));
	if (err)
		goto out_free;
	return w;

out_free:
	free(w);
out_close:
	close(fd);
	/* with O_EXCL the file is ours: don't leave a headerless one behind */
	if (!force)
		unlink(path);
	errno = -err;
	return NULL;
}

/* What comes before a block is written or queued. */
static int block_prepare(struct session_writer *w, uint32_t type, const void *data, size_t len)
{
	/* checked now: in async mode the thread's errors stop the recording */
	int err = block_ok(type, data, len);

	/* buffered events are older than this block: keep the file in time order */
	return err ? err : write_pending_events(w);
}

/*
 * A prepared block written now, or queued in async mode: a copy of data,
 * or with take data itself (the caller's malloc'd buffer, freed here if
 * it is not queued).
 */
static int write_prepared(struct session_writer *w, uint32_t type, const void *data,
			  size_t len, bool take)
{
	uint8_t *q;
	int err;

	if (!w->async) {
		err = write_block_now(w, type, w->seq, data, len);
		if (!err)
			w->seq++;
		if (take)
			free((void *)data);
		return err;
	}
	q = take ? (uint8_t *)data : malloc(len ? len : 1);
	if (!q)
		return -ENOMEM;
	if (!take && len)
		memcpy(q, data, len);
	return enqueue(w, type, q, len, false, false);
}

int session_write_block(struct session_writer *w, uint32_t type,
			const void *data, size_t len)
{
	int err;

	if (!w)
		return -EINVAL;
	err = block_prepare(w, type, data, len);
	return err ? err : write_prepared(w, type, data, len, false);
}

/* Items under j, j included; the array with the most of them in *best. */
static size_t items_under(json_t *j, json_t **best, size_t *best_n)
{
	const char *k;
	size_t n = 1, i;
	json_t *v;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			n += items_under(v, best, best_n);
		if (json_array_size(j) > 1 && n > *best_n) {
			*best = j;
			*best_n = n;
		}
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			n += items_under(v, best, best_n);
	}
	return n;
}

/*
 * Halve the array holding the most items, dropping its tail (collectors
 * sort their tables heaviest first), and count what went in
 * session.trimmed_items. -EFBIG if nothing is left to drop.
 */
static int trim_largest(json_t *j, json_int_t *dropped)
{
	json_t *best = NULL, *s = json_object_get(j, "session");
	size_t best_n = 0, n, keep;

	items_under(j, &best, &best_n);
	if (!best)
		return -EFBIG;
	n = json_array_size(best);
	keep = n / 2;
	*dropped += (json_int_t)(n - keep);
	while (n > keep)
		json_array_remove(best, --n);
	return json_object_set_new(json_is_object(s) ? s : j, "trimmed_items",
				   json_integer(*dropped)) ? -ENOMEM : 0;
}

struct dump_buf {
	char *p;
	size_t len, cap;
};

static int dump_append(const char *buf, size_t size, void *data)
{
	struct dump_buf *d = data;

	if (d->len + size + 1 > d->cap) {
		size_t cap = d->cap ? d->cap : 65536;
		char *p;

		while (cap < d->len + size + 1)
			cap *= 2;
		p = realloc(d->p, cap);
		if (!p)
			return -1;
		d->p = p;
		d->cap = cap;
	}
	memcpy(d->p + d->len, buf, size);
	d->len += size;
	d->p[d->len] = 0;
	return 0;
}

/*
 * json_dumps() without its last copy: it builds the text in a buffer of
 * its own, then returns a copy of it, so a snapshot of megabytes of JSON
 * (the stack lists of a whole-machine profile) briefly took three times
 * its size. NULL on failure.
 */
static char *dump_text(const json_t *j, size_t *len)
{
	struct dump_buf d = { 0 };

	if (json_dump_callback(j, dump_append, &d, JSON_COMPACT) || !d.p) {
		free(d.p);
		return NULL;
	}
	*len = d.len;
	return d.p;
}

/*
 * The JSON text of j within the block budgets (session.h): a snapshot too
 * big for them loses the tails of its largest tables, so that a reader
 * never has to refuse a block the recorder wrote. NULL and errno on failure.
 */
static char *dump_within_budget(const json_t *j, size_t *len)
{
	json_t *copy = NULL;
	json_int_t dropped = 0;
	size_t items;
	char *s = dump_text(j, len), why[96];
	int depth, err = 0;

	while (s && json_over(s, *len, why, sizeof(why))) {
		session_json_shape(s, *len, &items, &depth);
		err = depth > SESSION_MAX_JSON_DEPTH ? -EFBIG : 0;
		if (!err && !copy) {
			copy = json_deep_copy(j);
			err = copy ? 0 : -ENOMEM;
		}
		if (!err)
			err = trim_largest(copy, &dropped);
		free(s);
		s = err ? NULL : dump_text(copy, len);
	}
	json_decref(copy);
	if (!s)
		errno = err ? -err : ENOMEM;
	return s;
}

/*
 * {"blocks": blocks before the SUMMARY, "events": {"<collector id>": n}}:
 * what the reader checks its counts against (session_check_summary).
 */
static json_t *integrity_json(const struct session_writer *w)
{
	json_t *ev = json_object();
	char id[24];

	for (size_t i = 0; ev && i < w->nev_len; i++) {
		if (!w->nev[i])
			continue;
		snprintf(id, sizeof(id), "%zu", i);
		json_object_set_new(ev, id, json_integer((json_int_t)w->nev[i]));
	}
	return json_pack("{s:I, s:o*}", "blocks", (json_int_t)w->seq, "events", ev);
}

int session_write_json(struct session_writer *w, uint32_t type, const json_t *j)
{
	json_t *with = NULL;
	size_t len;
	char *s;
	int err;

	if (!w || !j)
		return -EINVAL;
	if (type == BLK_SUMMARY && json_is_object(j)) {
		/* the events still buffered are counted: their block comes first */
		err = write_pending_events(w);
		if (err)
			return err;
		with = json_copy((json_t *)j);
		if (!with || json_object_set_new(with, "integrity", integrity_json(w))) {
			json_decref(with);
			return -ENOMEM;
		}
		j = with;
	}
	s = dump_within_budget(j, &len);
	json_decref(with);
	if (!s)
		return -errno;
	err = block_prepare(w, type, s, len);
	if (err) {
		free(s);
		return err;
	}
	/* the text is the block: queued as it is, not copied (megabytes for a profile) */
	return write_prepared(w, type, s, len, true);
}

/* Grow the array to hold id; 0 or -ENOMEM. */
static int count_room(uint64_t **counts, size_t *len, uint16_t id)
{
	uint64_t *p;
	size_t n;

	if (id >= *len) {
		n = (size_t)id + 1 > 2 * *len ? (size_t)id + 1 : 2 * *len;
		p = realloc(*counts, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + *len, 0, (n - *len) * sizeof(*p));
		*counts = p;
		*len = n;
	}
	return 0;
}

/* (*counts)[id]++, growing the array to hold id. */
static int count_event(uint64_t **counts, size_t *len, uint16_t id)
{
	int err = count_room(counts, len, id);

	if (!err)
		(*counts)[id]++;
	return err;
}

int session_add_event(struct session_writer *w, uint16_t collector,
		      const void *data, size_t len)
{
	int err;

	if (!w || len > UINT16_MAX || (len && !data))
		return -EINVAL;
	/* cut where this record would not fit */
	if (w->enc.nrec && w->enc.out_len + 4 + len > SESSION_EVENTS_BLOCK) {
		err = write_pending_events(w);
		if (err)
			return err;
	}
	/* room to count it first: once in the block, it is counted */
	err = count_room(&w->nev, &w->nev_len, collector);
	if (err)
		return err;
	/* its words go to their columns now, encoded when the block is cut */
	err = evcols_add(&w->enc, collector, data, len);
	if (err == -ENOSPC) {
		/* a new class, and the block has all it can take: cut it */
		err = write_pending_events(w);
		if (!err)
			err = evcols_add(&w->enc, collector, data, len);
	}
	if (err)
		return err;
	w->nev[collector]++;
	return 0;
}

int session_flush(struct session_writer *w)
{
	int err;

	if (!w)
		return -EINVAL;
	if (w->async)
		return queue_events(w, true);
	err = write_pending_events(w);
	if (err)
		return err;
	while (fdatasync(w->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

uint64_t session_bytes_written(const struct session_writer *w)
{
	return w ? __atomic_load_n(&w->off, __ATOMIC_RELAXED) : 0;
}

int session_close(struct session_writer *w)
{
	int err, err2;

	if (!w)
		return 0;
	err = w->async ? async_finish(w) : write_pending_events(w);
	if (fsync(w->fd) < 0 && errno != EINTR && !err)
		err = -errno;
	err2 = close(w->fd) < 0 ? -errno : 0;
	if (!err)
		err = err2;
	libdeflate_free_compressor(w->dc);
	libdeflate_free_compressor(w->store);
	evcols_enc_free(&w->enc);
	free(w->cols);
	free(w->out);
	free(w->nev);
	free(w);
	return err;
}

/* ---- reader --------------------------------------------------------------- */

struct session_reader {
	int fd;			/* -1 when reading from memory */
	const uint8_t *mem;
	uint64_t size;		/* bytes known to exist (fstat for files) */
	uint64_t off;		/* next block header */
	uint32_t version;	/* of the file header */
	bool truncated;
	uint64_t inflated;	/* raw bytes of every block so far (budget) */
	int failed;		/* sticky -errno after a corrupt block */
	char failmsg[192];
	uint8_t *comp;		/* file mode: compressed data */
	size_t comp_cap;
	uint8_t *raw;
	size_t raw_cap;
	uint8_t *dec;		/* EVENTS_PACKED, EVENTS_COLS decoded */
	size_t dec_cap, dec_len;
	z_stream zs;
	bool zs_ready;
	/* version 3: what was read, to find blocks missing, repeated, moved */
	uint8_t *seen;		/* bit per sequence number */
	size_t seen_bytes;
	uint32_t next_seq;	/* highest sequence number read + 1 */
	uint64_t nread;		/* distinct blocks read */
	uint64_t *nev;		/* records read, per collector id */
	size_t nev_len;
	bool gaps_done;
	char *damage[SESSION_MAX_DAMAGE];
	size_t ndamage;
	uint8_t *scan;		/* file mode: resynchronisation window */
};

#define SCAN_CHUNK	(64u << 10)

/* Grow *buf to at least n bytes (n is always under a SESSION_MAX_* cap). */
static int reserve(uint8_t **buf, size_t *cap, size_t n)
{
	uint8_t *p;

	if (n <= *cap && *buf)
		return 0;
	p = realloc(*buf, n ? n : 1);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n ? n : 1;
	return 0;
}

/*
 * Make n bytes at off available in *out. Memory: a pointer into the buffer.
 * File: pread into dst. *got is less than n only at end of file.
 */
static int src_get(struct session_reader *r, uint64_t off, size_t n,
		   uint8_t *dst, const uint8_t **out, size_t *got)
{
	size_t done = 0;

	if (!r->mem && r->fd < 0)
		return -EBADF;
	if (r->mem) {
		*got = off >= r->size ? 0 : (r->size - off < n ? r->size - off : n);
		*out = r->mem + (off < r->size ? off : r->size);
		return 0;
	}
	while (done < n) {
		ssize_t k = pread(r->fd, dst + done, n - done, (off_t)(off + done));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*out = dst;
	*got = done;
	return 0;
}

static int check_file_header(struct session_reader *r, char *err, size_t errlen)
{
	uint8_t buf[SESSION_FILE_HDR];
	const uint8_t *h;
	size_t got, cmp;
	uint32_t version, flags;
	int ret;

	ret = src_get(r, 0, sizeof(buf), buf, &h, &got);
	if (ret) {
		fail(err, errlen, "read error at offset 0: %s", strerror(-ret));
		return ret;
	}
	if (got == 0) {
		fail(err, errlen, "not a disco session file (empty)");
		return -EBADMSG;
	}
	cmp = got < 8 ? got : 8;
	if (memcmp(h, SESSION_MAGIC, cmp)) {
		fail(err, errlen, "not a disco session file (bad magic at offset 0)");
		return -EBADMSG;
	}
	if (got < sizeof(buf)) {
		fail(err, errlen, "truncated file header: %zu of %d bytes", got,
		     SESSION_FILE_HDR);
		return -EBADMSG;
	}
	version = get_le32(h + 8);
	if (version < SESSION_VERSION_MIN || version > SESSION_VERSION) {
		fail(err, errlen, "unsupported format version %u (this disco reads versions %d to %d)",
		     version, SESSION_VERSION_MIN, SESSION_VERSION);
		return -EBADMSG;
	}
	flags = get_le32(h + 12);
	if (flags) {
		fail(err, errlen, "unsupported header flags 0x%x at offset 12", flags);
		return -EBADMSG;
	}
	r->off = SESSION_FILE_HDR;
	r->version = version;
	return 0;
}

static struct session_reader *reader_new(void)
{
	struct session_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->fd = -1;
	return r;
}

struct session_reader *session_open(const char *path, char *err, size_t errlen)
{
	struct session_reader *r;
	struct stat st;
	int ret;

	r = reader_new();
	if (!r) {
		fail(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (r->fd < 0) {
		ret = -errno;
		fail(err, errlen, "cannot open: %s", strerror(errno));
		goto out_free;
	}
	if (fstat(r->fd, &st) < 0) {
		ret = -errno;
		fail(err, errlen, "cannot stat: %s", strerror(errno));
		goto out_free;
	}
	/* pread and the size checks need a regular file, not a pipe or device */
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		fail(err, errlen, "not a regular file");
		goto out_free;
	}
	r->size = (uint64_t)st.st_size;
	ret = check_file_header(r, err, errlen);
	if (ret)
		goto out_free;
	return r;

out_free:
	session_reader_free(r);
	errno = -ret;
	return NULL;
}

struct session_reader *session_open_mem(const void *buf, size_t len,
					char *err, size_t errlen)
{
	struct session_reader *r;
	int ret;

	r = reader_new();
	if (!r) {
		fail(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	/* a non-NULL base keeps pointer arithmetic defined for empty input */
	r->mem = buf ? buf : (const uint8_t *)"";
	r->size = buf ? len : 0;
	ret = check_file_header(r, err, errlen);
	if (ret) {
		session_reader_free(r);
		errno = -ret;
		return NULL;
	}
	return r;
}

/*
 * True if [off, off + n) lies within the file. A file still being written
 * may have grown since the last look, so ask again before giving up.
 */
static bool in_file(struct session_reader *r, uint64_t off, uint64_t n)
{
	struct stat st;

	if (off + n <= r->size)
		return true;
	if (r->mem || fstat(r->fd, &st) < 0)
		return false;
	r->size = (uint64_t)st.st_size;
	return off + n <= r->size;
}

/*
 * The whole file may inflate to SESSION_FILE_RATIO times its size (at
 * least SESSION_FILE_FLOOR): real files stay under 14 (STATE JSON
 * deflates about 12:1, events 3:1), a file of bombs each under the block
 * limits stops here instead of costing minutes and gigabytes.
 */
static int file_budget(struct session_reader *r, uint64_t off, uint32_t type,
		       uint64_t n, char *err, size_t errlen)
{
	uint64_t budget = file_budget_for(r->size);

	if (r->inflated + n > budget) {
		fail(err, errlen, "%s block at offset %llu: the file would inflate past its budget of %llu bytes (%u times its size, at least %llu)",
		     session_block_name(type), (unsigned long long)off,
		     (unsigned long long)budget, SESSION_FILE_RATIO,
		     (unsigned long long)SESSION_FILE_FLOOR);
		return -EFBIG;
	}
	r->inflated += n;
	return 0;
}

/* Inflate exactly raw_len bytes, and the stream must end there. */
static int inflate_block(struct session_reader *r, const uint8_t *comp,
			 uint32_t comp_len, uint32_t raw_len, const char **why)
{
	int zret;

	if (!r->zs_ready) {
		memset(&r->zs, 0, sizeof(r->zs));
		if (inflateInit(&r->zs) != Z_OK) {
			*why = "out of memory";
			return -ENOMEM;
		}
		r->zs_ready = true;
	} else if (inflateReset(&r->zs) != Z_OK) {
		*why = "inflate reset failed";
		return -EIO;
	}
	r->zs.next_in = (Bytef *)comp;
	r->zs.avail_in = comp_len;
	r->zs.next_out = r->raw;
	r->zs.avail_out = raw_len;
	/* one call: inflate is bounded by its input and output, it cannot spin */
	zret = inflate(&r->zs, Z_FINISH);
	switch (zret) {
	case Z_STREAM_END:
		if (r->zs.avail_out) {
			*why = "data inflates to fewer bytes than its raw length";
			return -EBADMSG;
		}
		if (r->zs.avail_in) {
			*why = "trailing bytes after the compressed stream";
			return -EBADMSG;
		}
		return 0;
	case Z_BUF_ERROR:
		*why = r->zs.avail_out ? "compressed stream ends early" :
			"data inflates to more bytes than its raw length";
		return -EBADMSG;
	case Z_MEM_ERROR:
		*why = "out of memory";
		return -ENOMEM;
	case Z_NEED_DICT:
		*why = "zlib stream needs a dictionary";
		return -EBADMSG;
	default:
		*why = r->zs.msg ? r->zs.msg : "inflate error";
		return -EBADMSG;
	}
}

/*
 * Decode an inflated EVENTS_PACKED or EVENTS_COLS block into r->dec. The
 * decoded size is bounded by the encoded one (evpack_out_len,
 * evcols_out_len) before it is allocated.
 */
static int unpack_block(struct session_reader *r, uint64_t off, uint32_t type,
			uint32_t raw_len, const char **why, char *err, size_t errlen)
{
	bool cols = type == BLK_EVENTS_COLS || type == BLK_EVENTS_SPLIT;
	uint32_t out_len;
	int ret;

	if (type == BLK_EVENTS_SPLIT)
		ret = evcols_split_out_len(r->raw, raw_len, &out_len) ||
		      out_len > SESSION_MAX_EVENTS_RAW;
	else if (cols)
		ret = evcols_out_len(r->raw, raw_len, &out_len) ||
		      out_len > SESSION_MAX_EVENTS_RAW;
	else
		ret = evpack_out_len(r->raw, raw_len, &out_len) ||
		      out_len > SESSION_MAX_EVENTS_RAW * EVPACK_MAX_EXPANSION;
	if (ret) {
		*why = cols ? "column events: impossible decoded length" :
			      "packed events: impossible decoded length";
		return -EBADMSG;
	}
	ret = file_budget(r, off, type, out_len, err, errlen);
	if (ret)
		return ret;
	if (reserve(&r->dec, &r->dec_cap, out_len)) {
		*why = "out of memory";
		return -ENOMEM;
	}
	if (type == BLK_EVENTS_SPLIT)
		ret = evcols_split_decode(r->raw, raw_len, r->dec, out_len, why);
	else if (cols)
		ret = evcols_decode(r->raw, raw_len, r->dec, out_len, why);
	else
		ret = evpack_decode(r->raw, raw_len, r->dec, out_len, why);
	if (!ret)
		r->dec_len = out_len;
	return ret;
}

/* A block header, whichever the version. */
struct bhdr {
	uint32_t type, seq, raw_len, comp_len, crc;
	uint32_t len;				/* of the header */
	uint8_t bytes[SESSION_BLOCK_HDR];	/* as read */
};

static void damage(struct session_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Note damage the reader went past; the first SESSION_MAX_DAMAGE are kept. */
static void damage(struct session_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->ndamage < SESSION_MAX_DAMAGE) {
		va_start(ap, fmt);
		if (vasprintf(&r->damage[r->ndamage], fmt, ap) < 0)
			r->damage[r->ndamage] = NULL;
		va_end(ap);
	}
	r->ndamage++;
}

/* Version 3: the magic and the header's own CRC check. */
static bool hdr_v3_ok(const uint8_t *h)
{
	return !memcmp(h, SESSION_BLOCK_MAGIC, 4) && crc(h, 24) == get_le32(h + 24);
}

static void hdr_parse(struct bhdr *b, const uint8_t *h, uint32_t version)
{
	if (version >= 3) {
		b->len = SESSION_BLOCK_HDR;
		b->type = get_le32(h + 4);
		b->seq = get_le32(h + 8);
		b->raw_len = get_le32(h + 12);
		b->comp_len = get_le32(h + 16);
		b->crc = get_le32(h + 20);
	} else {
		b->len = SESSION_BLOCK_HDR_V2;
		b->type = get_le32(h);
		b->seq = 0;
		b->raw_len = get_le32(h + 4);
		b->comp_len = get_le32(h + 8);
		b->crc = get_le32(h + 12);
	}
	memcpy(b->bytes, h, b->len);
}

/*
 * The offset of the first version 3 block header at or after from whose
 * CRC checks; 0 if there is none. Memory: memmem over the buffer; file:
 * windows of SCAN_CHUNK bytes overlapping by 3, so that no magic is split.
 */
static uint64_t resync(struct session_reader *r, uint64_t from)
{
	uint8_t hbuf[SESSION_BLOCK_HDR];
	const uint8_t *win, *p, *h;
	size_t got, hgot;

	if (!r->mem && !r->scan && !(r->scan = malloc(SCAN_CHUNK)))
		return 0;
	while (from + SESSION_BLOCK_HDR <= r->size) {
		if (src_get(r, from, SCAN_CHUNK, r->scan, &win, &got) || got < 4)
			return 0;
		p = win;
		while ((p = memmem(p, got - (size_t)(p - win), SESSION_BLOCK_MAGIC, 4))) {
			uint64_t at = from + (uint64_t)(p - win);

			if (src_get(r, at, sizeof(hbuf), hbuf, &h, &hgot))
				return 0;
			if (hgot == sizeof(hbuf) && hdr_v3_ok(h))
				return at;
			p++;
		}
		from += got - 3;
	}
	return 0;
}

/* Sequence numbers: a block takes at least its header, which bounds them. */
static bool seq_seen(const struct session_reader *r, uint32_t seq)
{
	return (size_t)seq / 8 < r->seen_bytes && (r->seen[seq / 8] >> (seq % 8) & 1);
}

static int seq_mark(struct session_reader *r, uint32_t seq)
{
	size_t need = (size_t)seq / 8 + 1, n;
	uint8_t *p;

	if (need > r->seen_bytes) {
		n = need > 2 * r->seen_bytes ? need : 2 * r->seen_bytes;
		p = realloc(r->seen, n);
		if (!p)
			return -ENOMEM;
		memset(p + r->seen_bytes, 0, n - r->seen_bytes);
		r->seen = p;
		r->seen_bytes = n;
	}
	r->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	if (seq >= r->next_seq)
		r->next_seq = seq + 1;
	r->nread++;
	return 0;
}

/* Version 3 blocks the file should hold but does not: said once, at its end. */
static void note_gaps(struct session_reader *r)
{
	uint32_t a = 0, b;

	r->gaps_done = true;
	while (a < r->next_seq) {
		if (seq_seen(r, a)) {
			a++;
			continue;
		}
		for (b = a; b + 1 < r->next_seq && !seq_seen(r, b + 1); b++)
			;
		if (a == b)
			damage(r, "block number %u is missing (deleted or damaged)", a);
		else
			damage(r, "blocks number %u to %u are missing (deleted or damaged)", a, b);
		a = b + 1;
	}
}

/*
 * Read the header at r->off into b. 1: read; 0: end of file (truncated
 * set if a partial header is left). Version 3: a header that does not
 * check is skipped to the next one that does (noted as damage).
 */
static int read_header(struct session_reader *r, struct bhdr *b, char *err, size_t errlen)
{
	uint8_t hbuf[SESSION_BLOCK_HDR];
	uint32_t hlen = r->version >= 3 ? SESSION_BLOCK_HDR : SESSION_BLOCK_HDR_V2;
	const uint8_t *h;
	uint64_t next;
	size_t got;
	int ret;

	for (;;) {
		ret = src_get(r, r->off, hlen, hbuf, &h, &got);
		if (ret) {
			fail(err, errlen, "read error at offset %llu: %s",
			     (unsigned long long)r->off, strerror(-ret));
			return ret;
		}
		if (got == 0)
			return 0;
		if (got < hlen) {
			r->truncated = true;
			return 0;
		}
		if (r->version < 3 || hdr_v3_ok(h)) {
			hdr_parse(b, h, r->version);
			return 1;
		}
		/* a damaged header: its lengths cannot be trusted, find the next */
		next = resync(r, r->off + 1);
		if (!next) {
			damage(r, "damaged block header at offset %llu: nothing readable after it (%llu bytes)",
			       (unsigned long long)r->off,
			       (unsigned long long)(r->size - r->off));
			r->off = r->size;
			return 0;
		}
		damage(r, "damaged block header at offset %llu: skipped %llu bytes to the next block",
		       (unsigned long long)r->off, (unsigned long long)(next - r->off));
		r->off = next;
	}
}

/* Count the records of the decoded events block, per collector. */
static int count_block_events(struct session_reader *r, const struct session_block *blk)
{
	struct session_event ev;
	size_t pos = 0;
	int ret;

	while ((ret = session_event_next(blk, &pos, &ev)) == 1) {
		ret = count_event(&r->nev, &r->nev_len, ev.collector);
		if (ret)
			return ret;
	}
	return 0;
}

/* The header's type and lengths against the format's limits: 0 or <0 with err set. */
static int check_lengths(const struct session_reader *r, const struct bhdr *b, uint64_t off,
			 const char *name, char *err, size_t errlen)
{
	if (!type_known(b->type, r->version)) {
		fail(err, errlen, "corrupt block at offset %llu: unknown block type %u",
		     (unsigned long long)off, b->type);
		return -EBADMSG;
	}
	if (b->comp_len > SESSION_MAX_COMP) {
		fail(err, errlen, "corrupt block at offset %llu: compressed length %u exceeds the %u byte limit",
		     (unsigned long long)off, b->comp_len, SESSION_MAX_COMP);
		return -EBADMSG;
	}
	if (b->raw_len > raw_limit(b->type)) {
		fail(err, errlen, "%s block at offset %llu: raw length %u exceeds the %u byte limit",
		     name, (unsigned long long)off, b->raw_len, raw_limit(b->type));
		return -EFBIG;
	}
	return 0;
}

/* Inflate (and unpack) the checked compressed data: 0 or <0 with err set. */
static int decode_block(struct session_reader *r, const struct bhdr *b, const uint8_t *comp,
			uint64_t off, char *err, size_t errlen)
{
	const char *why = NULL;
	int ret;

	if (reserve(&r->raw, &r->raw_cap, b->raw_len)) {
		fail(err, errlen, "out of memory reading block at offset %llu",
		     (unsigned long long)off);
		return -ENOMEM;
	}
	ret = inflate_block(r, comp, b->comp_len, b->raw_len, &why);
	if (!ret && (b->type == BLK_EVENTS_PACKED || b->type == BLK_EVENTS_COLS ||
		     b->type == BLK_EVENTS_SPLIT)) {
		ret = unpack_block(r, off, b->type, b->raw_len, &why, err, errlen);
		if (ret == -EFBIG)
			return ret;
	}
	if (ret) {
		fail(err, errlen, "corrupt block at offset %llu: %s",
		     (unsigned long long)off, why);
		return ret;
	}
	return 0;
}

/*
 * Hand the decoded block out in blk; version 3: mark its number read and
 * count its events. 0 or <0 with err set.
 */
static int block_out(struct session_reader *r, struct session_block *blk, const struct bhdr *b,
		     uint64_t off, const char *name, char *err, size_t errlen)
{
	int ret;

	blk->offset = off;
	if (b->type == BLK_EVENTS_PACKED || b->type == BLK_EVENTS_COLS ||
	    b->type == BLK_EVENTS_SPLIT) {
		blk->type = BLK_EVENTS;
		blk->len = r->dec_len;
		blk->data = r->dec;
	} else {
		blk->type = b->type;
		blk->len = b->raw_len;
		blk->data = r->raw;
	}
	if (r->version >= 3) {
		/* not a repeat (next_block checked), yet numbered below one read before */
		if (b->seq < r->next_seq)
			damage(r, "%s block number %u at offset %llu is out of order (after number %u)",
			       name, b->seq, (unsigned long long)off, r->next_seq - 1);
		ret = seq_mark(r, b->seq);
		if (!ret && blk->type == BLK_EVENTS)
			ret = count_block_events(r, blk);
		if (ret) {
			fail(err, errlen, "out of memory reading block at offset %llu",
			     (unsigned long long)off);
			return ret;
		}
	}
	return 0;
}

/*
 * The block at r->off: 1 read into blk, 0 end of file, -EAGAIN skipped as
 * damaged (version 3: noted, r->off moved past it), <0 stop with err set.
 */
static int next_block(struct session_reader *r, struct session_block *blk,
		      char *err, size_t errlen)
{
	const uint8_t *comp;
	const char *name;
	struct bhdr b;
	uint64_t off;
	bool v3 = r->version >= 3;
	size_t got;
	int ret;

	ret = read_header(r, &b, err, errlen);
	if (ret <= 0)
		return ret;
	off = r->off;
	name = session_block_name(b.type);
	ret = check_lengths(r, &b, off, name, err, errlen);
	if (ret)
		return ret;
	if (!in_file(r, off + b.len, b.comp_len)) {
		r->truncated = true;
		return 0;
	}
	if (r->mem == NULL && reserve(&r->comp, &r->comp_cap, b.comp_len)) {
		fail(err, errlen, "out of memory reading block at offset %llu",
		     (unsigned long long)off);
		return -ENOMEM;
	}
	ret = src_get(r, off + b.len, b.comp_len, r->comp, &comp, &got);
	if (ret) {
		fail(err, errlen, "read error at offset %llu: %s",
		     (unsigned long long)(off + b.len), strerror(-ret));
		return ret;
	}
	if (got < b.comp_len) {
		/* the file shrank under us */
		r->truncated = true;
		return 0;
	}
	if (v3 ? crc(comp, b.comp_len) != b.crc :
	    block_crc(b.bytes, comp, b.comp_len) != b.crc) {
		if (!v3) {
			fail(err, errlen, "corrupt block at offset %llu: CRC mismatch",
			     (unsigned long long)off);
			return -EBADMSG;
		}
		/* the header checked: its length is right, the data is not */
		damage(r, "%s block number %u at offset %llu damaged (CRC mismatch): skipped",
		       name, b.seq, (unsigned long long)off);
		r->off = off + b.len + b.comp_len;
		return -EAGAIN;
	}
	if ((uint64_t)b.raw_len > (uint64_t)b.comp_len * ZLIB_MAX_RATIO + ZLIB_RATIO_SLACK ||
	    b.comp_len > b.raw_len + (b.raw_len >> 12) + 64) {
		fail(err, errlen, "corrupt block at offset %llu: raw length %u impossible for %u compressed bytes",
		     (unsigned long long)off, b.raw_len, b.comp_len);
		return -EBADMSG;
	}
	if (v3 && seq_seen(r, b.seq)) {
		damage(r, "%s block number %u at offset %llu repeats one already read: skipped",
		       name, b.seq, (unsigned long long)off);
		r->off = off + b.len + b.comp_len;
		return -EAGAIN;
	}
	if (v3 && (uint64_t)b.seq > r->size / SESSION_BLOCK_HDR) {
		fail(err, errlen, "corrupt block at offset %llu: block number %u impossible in %llu bytes",
		     (unsigned long long)off, b.seq, (unsigned long long)r->size);
		return -EBADMSG;
	}
	ret = file_budget(r, off, b.type, b.raw_len, err, errlen);
	if (ret)
		return ret;
	ret = decode_block(r, &b, comp, off, err, errlen);
	if (ret)
		return ret;
	ret = block_out(r, blk, &b, off, name, err, errlen);
	if (ret)
		return ret;
	r->off = off + b.len + b.comp_len;
	return 1;
}

int session_next_block(struct session_reader *r, struct session_block *blk,
		       char *err, size_t errlen)
{
	char msg[sizeof(r->failmsg)];
	int ret;

	if (!r || !blk)
		return -EINVAL;
	/* a reader stops at a block over a budget or (v1, v2) a corrupt one */
	if (r->failed) {
		fail(err, errlen, "%s", r->failmsg);
		return r->failed;
	}
	msg[0] = '\0';
	do {
		ret = r->truncated ? 0 : next_block(r, blk, msg, sizeof(msg));
	} while (ret == -EAGAIN);
	if (ret < 0) {
		r->failed = ret;
		snprintf(r->failmsg, sizeof(r->failmsg), "%s", msg);
		fail(err, errlen, "%s", msg);
	}
	if (ret == 0 && r->version >= 3 && !r->gaps_done)
		note_gaps(r);
	return ret;
}

size_t session_damage_count(const struct session_reader *r)
{
	return r ? r->ndamage : 0;
}

const char *session_damage(const struct session_reader *r, size_t i)
{
	if (!r || i >= r->ndamage || i >= SESSION_MAX_DAMAGE)
		return NULL;
	return r->damage[i] ? r->damage[i] : "damaged (out of memory for the message)";
}

/* Append "name: got read, want written" to msg (at *n of len). */
static void count_diff(char *msg, size_t len, size_t *n, const char *name, const char *id,
		       uint64_t got, uint64_t want)
{
	if (*n < len)
		*n += (size_t)snprintf(msg + *n, len - *n, "%s%s%s: %llu read, %llu written",
				       *n ? "; " : "", name ? name : "collector ",
				       name ? "" : id, (unsigned long long)got,
				       (unsigned long long)want);
}

void session_check_summary(struct session_reader *r, const json_t *in,
			   const char *(*name)(uint16_t collector))
{
	json_t *ev = json_object_get(in, "events"), *v;
	char msg[512] = "", id[24];
	const char *key;
	size_t n = 0;
	uint64_t blocks, got;

	/* a writer of raw blocks (tests) may leave it out; damage is caught by CRCs */
	if (!r || r->version < 3 || !json_is_object(in))
		return;
	blocks = (uint64_t)json_integer_value(json_object_get(in, "blocks"));
	/* the SUMMARY itself is read already */
	if (blocks + 1 != r->nread)
		damage(r, "the SUMMARY counts %llu blocks before it, %llu were read",
		       (unsigned long long)blocks, (unsigned long long)(r->nread - 1));
	json_object_foreach(ev, key, v) {
		unsigned long i = strtoul(key, NULL, 10);

		got = i < r->nev_len ? r->nev[i] : 0;
		if (got != (uint64_t)json_integer_value(v))
			count_diff(msg, sizeof(msg), &n, name && i <= UINT16_MAX ? name((uint16_t)i) : NULL,
				   key, got, (uint64_t)json_integer_value(v));
	}
	for (size_t i = 0; i < r->nev_len; i++) {
		snprintf(id, sizeof(id), "%zu", i);
		if (r->nev[i] && !json_object_get(ev, id))
			count_diff(msg, sizeof(msg), &n, name ? name((uint16_t)i) : NULL, id,
				   r->nev[i], 0);
	}
	if (msg[0])
		damage(r, "event counts differ from the SUMMARY's: %s", msg);
}

bool session_truncated(const struct session_reader *r)
{
	return r && r->truncated;
}

uint32_t session_version(const struct session_reader *r)
{
	return r ? r->version : 0;
}

uint64_t session_good_bytes(const struct session_reader *r)
{
	return r ? r->off : 0;
}

void session_reader_free(struct session_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->zs_ready)
		inflateEnd(&r->zs);
	free(r->comp);
	free(r->raw);
	free(r->dec);
	free(r->seen);
	free(r->nev);
	free(r->scan);
	for (size_t i = 0; i < r->ndamage && i < SESSION_MAX_DAMAGE; i++)
		free(r->damage[i]);
	free(r);
}

int session_event_next(const struct session_block *blk, size_t *pos,
		       struct session_event *ev)
{
	size_t left;
	uint16_t len;

	if (!blk || !pos || !ev || blk->type != BLK_EVENTS ||
	    *pos > blk->len || (blk->len && !blk->data))
		return -EINVAL;
	left = blk->len - *pos;
	if (!left)
		return 0;
	if (left < 4)
		return -EBADMSG;
	len = get_le16(blk->data + *pos + 2);
	if (len > left - 4)
		return -EBADMSG;
	ev->collector = get_le16(blk->data + *pos);
	ev->len = len;
	ev->data = blk->data + *pos + 4;
	*pos += 4 + (size_t)len;
	return 1;
}
