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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>
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

static bool type_known(uint32_t type, uint32_t version)
{
	if (type == BLK_EVENTS_PACKED)
		return version >= 2;
	return type >= BLK_HEADER && type <= BLK_SUMMARY;
}

/* The CRC covers type|raw_len|comp_len, then the compressed bytes. */
/*
 * zlib's CRC-32 (the same value crc32() gives), from libdeflate, which
 * folds it with carry-less multiplies where the CPU has them: it took
 * 1% of the recorder's CPU with zlib's table-driven crc32_z.
 */
static uint32_t block_crc(const uint8_t *hdr, const uint8_t *data, size_t len)
{
	return libdeflate_crc32(libdeflate_crc32(0, hdr, 12), data, len);
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
 */
#define ASYNC_LAG_NS		500000000ULL
#define ASYNC_MAX_QUEUED	64		/* 16 MiB of events at most */
/*
 * Event buffers kept for reuse: as many as can be queued. Freed, a
 * 256 KiB buffer went back to the kernel (glibc unmaps or trims it), and
 * the next one cost the main thread 64 page faults while it encoded
 * (6% of its CPU when the writer lagged under load); kept, the memory
 * stays what the queue's peak took, which peak RSS counts anyway.
 */
#define ASYNC_SPARES		ASYNC_MAX_QUEUED

struct wblock {
	struct wblock *next;
	uint32_t type;		/* 0: no block, only the sync below */
	bool sync;		/* fdatasync once written */
	bool pooled;		/* data is an events buffer, back to the spares */
	uint8_t *data;
	size_t len;
	uint64_t queued_ns;
};

struct session_writer {
	int fd;
	uint64_t off;		/* end of the last whole block on disk */
	uint8_t *ev;		/* pending EVENTS_PACKED block */
	size_t ev_len;		/* EVPACK_HDR + records; 0: none pending */
	struct evpack pack;	/* the pending block's encoder state */
	uint8_t *out;		/* block header + compressed data */
	size_t out_cap;
	struct libdeflate_compressor *dc;
	/* asynchronous mode: async and thr are the caller's, mu guards the rest */
	bool async;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct wblock *head, *tail;
	int queued;
	bool stop;
	bool raised;		/* the thread is at normal priority */
	int async_err;		/* the thread's first error, sticky */
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
	/* packed events are made here, from session_add_event's records */
	if (type == BLK_EVENTS_PACKED || !type_known(type, SESSION_VERSION) ||
	    (len && !data))
		return -EINVAL;
	return len > SESSION_MAX_RAW ? -EFBIG : 0;
}

/*
 * libdeflate level 1 writes the same zlib format as zlib's deflate, at
 * about half the CPU per byte on this recorder's blocks, and smaller
 * (docs/session-format.md has the figures); whole-buffer compression is
 * all a block needs.
 */
#define SESSION_DEFLATE_LEVEL	1

static int write_block_now(struct session_writer *w, uint32_t type,
			   const void *data, size_t len)
{
	size_t bound, comp_len;
	uint8_t *p;

	/* callers checked the block (block_ok), or made it (packed events) */
	if (!w->dc) {
		w->dc = libdeflate_alloc_compressor(SESSION_DEFLATE_LEVEL);
		if (!w->dc)
			return -ENOMEM;
	}
	bound = libdeflate_zlib_compress_bound(w->dc, len);
	if (SESSION_BLOCK_HDR + bound > w->out_cap) {
		p = realloc(w->out, SESSION_BLOCK_HDR + bound);
		if (!p)
			return -ENOMEM;
		w->out = p;
		w->out_cap = SESSION_BLOCK_HDR + bound;
	}
	comp_len = libdeflate_zlib_compress(w->dc, len ? data : "", len,
					    w->out + SESSION_BLOCK_HDR, bound);
	if (!comp_len)
		return -EIO;
	if (comp_len > SESSION_MAX_COMP)
		return -EFBIG;
	put_le32(w->out, type);
	put_le32(w->out + 4, (uint32_t)len);
	put_le32(w->out + 8, (uint32_t)comp_len);
	put_le32(w->out + 12, block_crc(w->out, w->out + SESSION_BLOCK_HDR, comp_len));
	return append(w, w->out, SESSION_BLOCK_HDR + comp_len);
}

static int queue_events(struct session_writer *w, bool sync);

static int write_pending_events(struct session_writer *w)
{
	int err;

	if (w->async)
		return queue_events(w, false);
	if (!w->ev_len)
		return 0;
	evpack_finish(&w->pack, w->ev);
	err = write_block_now(w, BLK_EVENTS_PACKED, w->ev, w->ev_len);
	/* on failure the records stay buffered for the next attempt */
	if (!err) {
		w->ev_len = 0;
		evpack_reset(&w->pack);
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

/*
 * Move the writer thread between SCHED_IDLE and normal priority; mu held.
 * Raising needs CAP_SYS_NICE (kept after attaching, caps.c); if it fails
 * the thread stays idle: slower to reach the disk, nothing lost.
 */
static void set_raised(struct session_writer *w, bool raised)
{
	struct sched_param sp = { 0 };

	if (w->raised != raised &&
	    !pthread_setschedparam(w->thr, raised ? SCHED_OTHER : SCHED_IDLE, &sp))
		w->raised = raised;
}

/* Free a queued block, keeping an events buffer for reuse; mu held. */
static void release(struct session_writer *w, struct wblock *b)
{
	if (b->pooled && w->nspare < ASYNC_SPARES)
		w->spare[w->nspare++] = b->data;
	else
		free(b->data);
	free(b);
}

static int write_item(struct session_writer *w, const struct wblock *b)
{
	int err = 0;

	if (b->type)
		err = write_block_now(w, b->type, b->data, b->len);
	while (!err && b->sync && fdatasync(w->fd) < 0) {
		if (errno != EINTR)
			err = -errno;
	}
	return err;
}

static void *writer_main(void *arg)
{
	struct session_writer *w = arg;
	struct wblock *b;
	int err;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->stop) {
			set_raised(w, false);	/* caught up */
			pthread_cond_wait(&w->work, &w->mu);
		}
		b = w->head;
		if (!b)
			break;
		w->head = b->next;
		if (!w->head)
			w->tail = NULL;
		/* after an error nothing more is written: the file ends whole */
		err = w->async_err;
		pthread_mutex_unlock(&w->mu);
		if (!err)
			err = write_item(w, b);
		pthread_mutex_lock(&w->mu);
		if (err && !w->async_err)
			w->async_err = err;
		w->queued--;
		release(w, b);
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Queue a block (type 0: only a sync); takes data, freed on failure too. */
static int enqueue(struct session_writer *w, uint32_t type, uint8_t *data,
		   size_t len, bool pooled, bool sync)
{
	struct wblock *b = calloc(1, sizeof(*b));
	int err;

	if (!b) {
		free(data);
		return -ENOMEM;
	}
	b->type = type;
	b->data = data;
	b->len = len;
	b->pooled = pooled;
	b->sync = sync;
	b->queued_ns = mono_now();
	pthread_mutex_lock(&w->mu);
	while (!w->async_err && w->queued >= ASYNC_MAX_QUEUED) {
		set_raised(w, true);
		pthread_cond_wait(&w->done, &w->mu);
	}
	err = w->async_err;
	if (err) {
		release(w, b);
	} else {
		if (w->tail)
			w->tail->next = b;
		else
			w->head = b;
		w->tail = b;
		w->queued++;
		if (w->head->queued_ns + ASYNC_LAG_NS <= b->queued_ns)
			set_raised(w, true);
		pthread_cond_signal(&w->work);
	}
	pthread_mutex_unlock(&w->mu);
	return err;
}

/* Hand the buffered events to the thread (and a sync, if asked). */
static int queue_events(struct session_writer *w, bool sync)
{
	uint8_t *data = w->ev, *fresh = NULL;
	size_t len = w->ev_len;

	if (!len)
		return sync ? enqueue(w, 0, NULL, 0, false, true) : 0;
	evpack_finish(&w->pack, data);
	pthread_mutex_lock(&w->mu);
	if (w->nspare)
		fresh = w->spare[--w->nspare];
	pthread_mutex_unlock(&w->mu);
	if (!fresh)
		fresh = malloc(SESSION_EVENTS_BLOCK);
	if (!fresh)
		return -ENOMEM;
	w->ev = fresh;
	w->ev_len = 0;
	evpack_reset(&w->pack);
	return enqueue(w, BLK_EVENTS_PACKED, data, len, true, sync);
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
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	w->raised = true;	/* a new thread has its creator's policy */
	/* signals stay with the recording thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* held until w->thr is set: the thread's first act uses it */
	pthread_mutex_lock(&w->mu);
	err = -pthread_create(&w->thr, NULL, writer_main, w);
	if (!err) {
		pthread_setname_np(w->thr, "disco-writer");
		set_raised(w, false);
	}
	pthread_mutex_unlock(&w->mu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&w->done);
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->mu);
		return err;
	}
	w->async = true;
	return 0;
}

void session_nudge(struct session_writer *w)
{
	if (!w || !w->async || pthread_mutex_trylock(&w->mu))
		return;
	if (w->head && w->head->queued_ns + ASYNC_LAG_NS <= mono_now())
		set_raised(w, true);
	pthread_mutex_unlock(&w->mu);
}

/* Queue what is left, let the thread finish at normal priority, join it. */
static int async_finish(struct session_writer *w)
{
	int err = queue_events(w, false);

	pthread_mutex_lock(&w->mu);
	w->stop = true;
	set_raised(w, true);
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thr, NULL);
	if (!err)
		err = w->async_err;
	while (w->nspare)
		free(w->spare[--w->nspare]);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
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
	w->ev = malloc(SESSION_EVENTS_BLOCK);
	if (!w->ev) {
		err = -ENOMEM;
		goto out_free;
	}
	w->fd = fd;
	evpack_reset(&w->pack);
	memcpy(hdr, SESSION_MAGIC, 8);
	put_le32(hdr + 8, SESSION_VERSION);
	put_le32(hdr + 12, 0);
	err = append(w, hdr, sizeof(hdr));
	if (err)
		goto out_free;
	return w;

out_free:
	free(w->ev);
	free(w);
out_close:
	close(fd);
	/* with O_EXCL the file is ours: don't leave a headerless one behind */
	if (!force)
		unlink(path);
	errno = -err;
	return NULL;
}

int session_write_block(struct session_writer *w, uint32_t type,
			const void *data, size_t len)
{
	uint8_t *copy;
	int err;

	if (!w)
		return -EINVAL;
	/* checked now: in async mode the thread's errors stop the recording */
	err = block_ok(type, data, len);
	if (err)
		return err;
	/* buffered events are older than this block: keep the file in time order */
	err = write_pending_events(w);
	if (err)
		return err;
	if (!w->async)
		return write_block_now(w, type, data, len);
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	return enqueue(w, type, copy, len, false, false);
}

int session_write_json(struct session_writer *w, uint32_t type, const json_t *j)
{
	char *s;
	int err;

	if (!w || !j)
		return -EINVAL;
	s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return -EINVAL;
	err = session_write_block(w, type, s, strlen(s));
	free(s);
	return err;
}

int session_add_event(struct session_writer *w, uint16_t collector,
		      const void *data, size_t len)
{
	size_t n;
	int err;

	if (!w || len > UINT16_MAX || (len && !data))
		return -EINVAL;
	/* cut where the worst case of this record might not fit */
	if (w->ev_len && w->ev_len + evpack_worst(len) > SESSION_EVENTS_BLOCK) {
		err = write_pending_events(w);
		if (err)
			return err;
	}
	if (!w->ev_len)
		w->ev_len = EVPACK_HDR;
	n = evpack_add(&w->pack, w->ev + w->ev_len, collector, data, (uint16_t)len);
	if (!n)
		return -ENOMEM;
	w->ev_len += n;
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
	evpack_free(&w->pack);
	free(w->ev);
	free(w->out);
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
	int failed;		/* sticky -errno after a corrupt block */
	char failmsg[192];
	uint8_t *comp;		/* file mode: compressed data */
	size_t comp_cap;
	uint8_t *raw;
	size_t raw_cap;
	uint8_t *dec;		/* EVENTS_PACKED decoded */
	size_t dec_cap, dec_len;
	z_stream zs;
	bool zs_ready;
};

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
 * Decode an inflated EVENTS_PACKED block into r->dec. The decoded size is
 * bounded by the encoded one (evpack_out_len) before it is allocated.
 */
static int unpack_block(struct session_reader *r, uint32_t raw_len,
			const char **why)
{
	uint32_t out_len;
	int ret;

	ret = evpack_out_len(r->raw, raw_len, &out_len);
	if (ret || out_len > SESSION_MAX_RAW) {
		*why = "packed events: impossible decoded length";
		return -EBADMSG;
	}
	if (reserve(&r->dec, &r->dec_cap, out_len)) {
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = evpack_decode(r->raw, raw_len, r->dec, out_len, why);
	if (!ret)
		r->dec_len = out_len;
	return ret;
}

static int next_block(struct session_reader *r, struct session_block *blk,
		      char *err, size_t errlen)
{
	uint8_t hbuf[SESSION_BLOCK_HDR];
	const uint8_t *h, *comp;
	uint32_t type, raw_len, comp_len, crc, want;
	uint64_t off = r->off;
	const char *why = NULL;
	size_t got;
	int ret;

	ret = src_get(r, off, sizeof(hbuf), hbuf, &h, &got);
	if (ret) {
		fail(err, errlen, "read error at offset %llu: %s",
		     (unsigned long long)off, strerror(-ret));
		return ret;
	}
	if (got == 0)
		return 0;
	if (got < sizeof(hbuf)) {
		r->truncated = true;
		return 0;
	}
	type = get_le32(h);
	raw_len = get_le32(h + 4);
	comp_len = get_le32(h + 8);
	crc = get_le32(h + 12);
	/* the CRC needs the header bytes; in memory mode h is not hbuf yet */
	if (h != hbuf)
		memcpy(hbuf, h, sizeof(hbuf));

	if (!type_known(type, r->version)) {
		fail(err, errlen, "corrupt block at offset %llu: unknown block type %u",
		     (unsigned long long)off, type);
		return -EBADMSG;
	}
	if (comp_len > SESSION_MAX_COMP) {
		fail(err, errlen, "corrupt block at offset %llu: compressed length %u exceeds the %u byte limit",
		     (unsigned long long)off, comp_len, SESSION_MAX_COMP);
		return -EBADMSG;
	}
	if (raw_len > SESSION_MAX_RAW) {
		fail(err, errlen, "corrupt block at offset %llu: raw length %u exceeds the %u byte limit",
		     (unsigned long long)off, raw_len, SESSION_MAX_RAW);
		return -EBADMSG;
	}
	if (!in_file(r, off + SESSION_BLOCK_HDR, comp_len)) {
		r->truncated = true;
		return 0;
	}
	if (r->mem == NULL && reserve(&r->comp, &r->comp_cap, comp_len)) {
		fail(err, errlen, "out of memory reading block at offset %llu",
		     (unsigned long long)off);
		return -ENOMEM;
	}
	ret = src_get(r, off + SESSION_BLOCK_HDR, comp_len, r->comp, &comp, &got);
	if (ret) {
		fail(err, errlen, "read error at offset %llu: %s",
		     (unsigned long long)(off + SESSION_BLOCK_HDR), strerror(-ret));
		return ret;
	}
	if (got < comp_len) {
		/* the file shrank under us */
		r->truncated = true;
		return 0;
	}
	want = block_crc(hbuf, comp, comp_len);
	if (want != crc) {
		fail(err, errlen, "corrupt block at offset %llu: CRC mismatch (stored 0x%08x, computed 0x%08x)",
		     (unsigned long long)off, crc, want);
		return -EBADMSG;
	}
	if ((uint64_t)raw_len > (uint64_t)comp_len * ZLIB_MAX_RATIO + ZLIB_RATIO_SLACK) {
		fail(err, errlen, "corrupt block at offset %llu: raw length %u impossible for %u compressed bytes",
		     (unsigned long long)off, raw_len, comp_len);
		return -EBADMSG;
	}
	if (reserve(&r->raw, &r->raw_cap, raw_len)) {
		fail(err, errlen, "out of memory reading block at offset %llu",
		     (unsigned long long)off);
		return -ENOMEM;
	}
	ret = inflate_block(r, comp, comp_len, raw_len, &why);
	if (!ret && type == BLK_EVENTS_PACKED)
		ret = unpack_block(r, raw_len, &why);
	if (ret) {
		fail(err, errlen, "corrupt block at offset %llu: %s",
		     (unsigned long long)off, why);
		return ret;
	}
	blk->offset = off;
	if (type == BLK_EVENTS_PACKED) {
		blk->type = BLK_EVENTS;
		blk->len = r->dec_len;
		blk->data = r->dec;
	} else {
		blk->type = type;
		blk->len = raw_len;
		blk->data = r->raw;
	}
	r->off = off + SESSION_BLOCK_HDR + comp_len;
	return 1;
}

int session_next_block(struct session_reader *r, struct session_block *blk,
		       char *err, size_t errlen)
{
	char msg[sizeof(r->failmsg)];
	int ret;

	if (!r || !blk)
		return -EINVAL;
	/* a reader stops at the first corrupt block; repeat its error */
	if (r->failed) {
		fail(err, errlen, "%s", r->failmsg);
		return r->failed;
	}
	if (r->truncated)
		return 0;
	msg[0] = '\0';
	ret = next_block(r, blk, msg, sizeof(msg));
	if (ret < 0) {
		r->failed = ret;
		snprintf(r->failmsg, sizeof(r->failmsg), "%s", msg);
		fail(err, errlen, "%s", msg);
	}
	return ret;
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
