// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the session file format: round trips, truncation, corruption, hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include "report.h"
#include "session.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
#include <sanitizer/allocator_interface.h>
#endif

struct fixture {
	char dir[64];
	char path[128];
};

/* splitmix64: deterministic payloads, so a failure reproduces */
static uint64_t prng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/disco-test-session.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/s.data", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size ? st.st_size : 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* A copy of what the reader returned, to compare against later reads. */
struct blk_copy {
	uint32_t type;
	uint64_t offset;
	size_t len;
	uint8_t *data;
};

#define MAX_BLKS 64

struct blk_list {
	struct blk_copy b[MAX_BLKS];
	int n;
	uint64_t end;		/* offset past the last block */
};

static void read_all(struct session_reader *r, struct blk_list *l)
{
	struct session_block blk;
	char err[256] = "";
	int ret;

	l->n = 0;
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
		assert_true(l->n < MAX_BLKS);
		l->b[l->n].type = blk.type;
		l->b[l->n].offset = blk.offset;
		l->b[l->n].len = blk.len;
		l->b[l->n].data = malloc(blk.len + 1);
		assert_non_null(l->b[l->n].data);
		memcpy(l->b[l->n].data, blk.data, blk.len);
		l->n++;
	}
	if (ret < 0)
		fail_msg("unexpected read error: %s", err);
	l->end = session_good_bytes(r);
}

static void free_list(struct blk_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->b[i].data);
	l->n = 0;
}

static bool same_block(const struct blk_copy *c, const struct session_block *b)
{
	return c->type == b->type && c->offset == b->offset && c->len == b->len &&
	       !memcmp(c->data, b->data, b->len);
}

/*
 * The small file of the truncation and corruption tests: HEADER JSON, two
 * EVENTS blocks, STATE, SUMMARY.
 */
static void write_small_file_as(const char *path, bool async)
{
	struct session_writer *w = session_create(path, false);
	json_t *j;
	uint64_t s = 1;
	int i;

	assert_non_null(w);
	j = json_pack("{s:s, s:i, s:s}", "hostname", "box", "cpus", 2, "kernel", "6.18.0");
	assert_int_equal(session_write_json(w, BLK_HEADER, j), 0);
	json_decref(j);
	if (async)
		assert_int_equal(session_start_async(w), 0);
	for (i = 0; i < 5; i++) {
		uint64_t v = prng(&s);

		assert_int_equal(session_add_event(w, 1, &v, sizeof(v)), 0);
	}
	assert_int_equal(session_flush(w), 0);
	for (i = 0; i < 3; i++) {
		uint32_t v = (uint32_t)prng(&s);

		assert_int_equal(session_add_event(w, 2, &v, sizeof(v)), 0);
	}
	assert_int_equal(session_add_event(w, 3, NULL, 0), 0);
	j = json_pack("{s:{s:i}}", "counters", "switches", 42);
	assert_int_equal(session_write_json(w, BLK_STATE, j), 0);
	json_decref(j);
	j = json_pack("{s:I}", "end_ns", (json_int_t)123456789);
	assert_int_equal(session_write_json(w, BLK_SUMMARY, j), 0);
	json_decref(j);
	assert_int_equal(session_close(w), 0);
}

static void write_small_file(const char *path)
{
	write_small_file_as(path, false);
}

static void small_file_blocks(const char *path, uint8_t **buf, size_t *len,
			      struct blk_list *orig)
{
	struct session_reader *r;
	char err[256];

	write_small_file(path);
	*buf = slurp(path, len);
	r = session_open_mem(*buf, *len, err, sizeof(err));
	assert_non_null(r);
	read_all(r, orig);
	assert_false(session_truncated(r));
	assert_int_equal(orig->end, *len);
	session_reader_free(r);
	assert_int_equal(orig->n, 5);
	assert_int_equal(orig->b[0].type, BLK_HEADER);
	assert_int_equal(orig->b[1].type, BLK_EVENTS);
	assert_int_equal(orig->b[2].type, BLK_EVENTS);
	assert_int_equal(orig->b[3].type, BLK_STATE);
	assert_int_equal(orig->b[4].type, BLK_SUMMARY);
}

static void test_session_round_trip_preserves_blocks_and_events(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct session_reader *r;
	struct session_block blk;
	struct session_event ev;
	uint8_t payload[300];
	uint64_t s = 42, s2 = 42;
	char err[256] = "";
	int nblk = 0, nevents_blocks = 0, ret, i, j;
	int nev = 6000, seen = 0;
	json_t *hdr, *got;
	struct stat st;

	w = session_create(f->path, false);
	assert_non_null(w);
	assert_int_equal(session_bytes_written(w), SESSION_FILE_HDR);
	hdr = json_pack("{s:s, s:[s,s]}", "hostname", "box", "cmdline", "disco", "record");
	assert_int_equal(session_write_json(w, BLK_HEADER, hdr), 0);
	for (i = 0; i < nev; i++) {
		uint16_t len = prng(&s) % sizeof(payload);
		uint16_t col = prng(&s) % 4;

		for (j = 0; j < len; j++)
			payload[j] = (uint8_t)prng(&s);
		assert_int_equal(session_add_event(w, col, payload, len), 0);
	}
	assert_int_equal(session_write_block(w, BLK_SUMMARY, "{}", 2), 0);
	assert_int_equal(session_close(w), 0);
	assert_int_equal(stat(f->path, &st), 0);

	r = session_open(f->path, err, sizeof(err));
	assert_non_null(r);
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
		if (nblk == 0) {
			assert_int_equal(blk.type, BLK_HEADER);
			assert_int_equal(blk.offset, SESSION_FILE_HDR);
			got = json_loadb((const char *)blk.data, blk.len, 0, NULL);
			assert_non_null(got);
			assert_true(json_equal(got, hdr));
			json_decref(got);
		} else if (blk.type == BLK_EVENTS) {
			size_t pos = 0;

			nevents_blocks++;
			assert_true(blk.len <= SESSION_EVENTS_BLOCK);
			while ((ret = session_event_next(&blk, &pos, &ev)) == 1) {
				uint16_t len = prng(&s2) % sizeof(payload);
				uint16_t col = prng(&s2) % 4;

				for (j = 0; j < len; j++)
					payload[j] = (uint8_t)prng(&s2);
				assert_int_equal(ev.collector, col);
				assert_int_equal(ev.len, len);
				assert_memory_equal(ev.data, payload, len);
				seen++;
			}
			assert_int_equal(ret, 0);
		} else {
			assert_int_equal(blk.type, BLK_SUMMARY);
			assert_int_equal(blk.len, 2);
			assert_memory_equal(blk.data, "{}", 2);
		}
		nblk++;
	}
	assert_int_equal(ret, 0);
	assert_false(session_truncated(r));
	assert_int_equal(session_good_bytes(r), st.st_size);
	assert_int_equal(seen, nev);
	/* ~900 KiB of records cannot fit one block */
	assert_true(nevents_blocks >= 4);
	assert_int_equal(nblk, nevents_blocks + 2);
	session_reader_free(r);
	json_decref(hdr);
}

/*
 * Scheduler-like records (a timestamp microseconds apart, a latency, a
 * pid): the writer keeps their noisy low bytes out of deflate, in each
 * block's plain area, as stored blocks of its zlib stream; zlib's own
 * uncompress() inflates every block, and the records come back.
 */
static void test_session_split_blocks_are_zlib_and_read_back(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct session_reader *r;
	struct session_block blk;
	struct session_event ev;
	uint64_t s = 5, ts = 1000000000, ts2 = ts, s2 = 5;
	uint8_t rec[32] = { 0 }, *buf, *raw = malloc(SESSION_EVENTS_BLOCK * 2);
	int nev = 20000, seen = 0, nsplit = 0, ret;
	char err[256] = "";
	size_t len, off = SESSION_FILE_HDR;

	assert_non_null(raw);
	w = session_create(f->path, false);
	assert_non_null(w);
	for (int i = 0; i < nev; i++) {
		uint64_t lat = 500 + prng(&s) % 20000;

		ts += 2000 + prng(&s) % 3000;
		memcpy(rec, &ts, 8);
		memcpy(rec + 8, &lat, 8);
		rec[16] = (uint8_t)(prng(&s) % 4);
		assert_int_equal(session_add_event(w, 1, rec, sizeof(rec)), 0);
	}
	assert_int_equal(session_close(w), 0);

	buf = slurp(f->path, &len);
	while (off + SESSION_BLOCK_HDR <= len) {
		uint32_t type = le32(buf + off + 4), raw_len = le32(buf + off + 12);
		uint32_t comp_len = le32(buf + off + 16);
		uLongf n = SESSION_EVENTS_BLOCK * 2;

		assert_int_equal(uncompress(raw, &n, buf + off + SESSION_BLOCK_HDR, comp_len), Z_OK);
		assert_int_equal(n, raw_len);
		if (type == BLK_EVENTS_SPLIT && le32(raw) > 0)
			nsplit++;
		off += SESSION_BLOCK_HDR + comp_len;
	}
	assert_int_equal(off, len);
	assert_true(nsplit >= 2);
	free(buf);

	r = session_open(f->path, err, sizeof(err));
	assert_non_null(r);
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
		size_t pos = 0;

		assert_int_equal(blk.type, BLK_EVENTS);
		while ((ret = session_event_next(&blk, &pos, &ev)) == 1) {
			uint64_t lat = 500 + prng(&s2) % 20000;

			ts2 += 2000 + prng(&s2) % 3000;
			memcpy(rec, &ts2, 8);
			memcpy(rec + 8, &lat, 8);
			rec[16] = (uint8_t)(prng(&s2) % 4);
			assert_int_equal(ev.len, sizeof(rec));
			assert_memory_equal(ev.data, rec, sizeof(rec));
			seen++;
		}
		assert_int_equal(ret, 0);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(seen, nev);
	session_reader_free(r);
	free(raw);
}

static void test_session_events_block_cut_only_when_next_record_would_not_fit(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct session_reader *r;
	struct blk_list l;
	uint8_t payload[1000];
	const size_t rec = 4 + sizeof(payload);
	/*
	 * A block gathers records in the version 1 layout (4 + 1000 bytes
	 * each) and is cut when the next would take it past
	 * SESSION_EVENTS_BLOCK; it is encoded when written.
	 */
	size_t per_block = SESSION_EVENTS_BLOCK / rec;
	char err[256];
	uint64_t written;
	int i;

	memset(payload, 0xab, sizeof(payload));
	w = session_create(f->path, false);
	assert_non_null(w);
	for (i = 0; i < (int)per_block; i++)
		assert_int_equal(session_add_event(w, 7, payload, sizeof(payload)), 0);
	/* a full buffer is not written until a record might not fit */
	assert_int_equal(session_bytes_written(w), SESSION_FILE_HDR);
	assert_int_equal(session_add_event(w, 7, payload, sizeof(payload)), 0);
	written = session_bytes_written(w);
	assert_true(written > SESSION_FILE_HDR);
	assert_int_equal(session_flush(w), 0);
	assert_true(session_bytes_written(w) > written);
	assert_int_equal(session_close(w), 0);

	r = session_open(f->path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(session_version(r), SESSION_VERSION);
	read_all(r, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.b[0].type, BLK_EVENTS);
	assert_int_equal(l.b[0].len, per_block * rec);
	assert_int_equal(l.b[1].len, rec);
	assert_int_equal(l.end, session_good_bytes(r));
	assert_false(session_truncated(r));
	free_list(&l);
	session_reader_free(r);
}

static void test_session_other_block_writes_pending_events_first(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct session_reader *r;
	struct blk_list l;
	char err[256];
	uint32_t v = 5;

	w = session_create(f->path, false);
	assert_non_null(w);
	assert_int_equal(session_add_event(w, 1, &v, sizeof(v)), 0);
	assert_int_equal(session_write_block(w, BLK_STATE, "{\"a\":1}", 7), 0);
	assert_int_equal(session_close(w), 0);
	r = session_open(f->path, err, sizeof(err));
	assert_non_null(r);
	read_all(r, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.b[0].type, BLK_EVENTS);
	assert_int_equal(l.b[1].type, BLK_STATE);
	free_list(&l);
	session_reader_free(r);
}

static void test_session_empty_block_round_trips(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct session_reader *r;
	struct blk_list l;
	char err[256];

	w = session_create(f->path, false);
	assert_non_null(w);
	assert_int_equal(session_write_block(w, BLK_STATE, NULL, 0), 0);
	assert_int_equal(session_write_block(w, BLK_SUMMARY, "x", 1), 0);
	assert_int_equal(session_close(w), 0);
	r = session_open(f->path, err, sizeof(err));
	assert_non_null(r);
	read_all(r, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.b[0].type, BLK_STATE);
	assert_int_equal(l.b[0].len, 0);
	assert_int_equal(l.b[1].len, 1);
	free_list(&l);
	session_reader_free(r);
}

static void test_session_writer_rejects_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	static uint8_t big[UINT16_MAX + 1];

	w = session_create(f->path, false);
	assert_non_null(w);
	assert_int_equal(session_write_block(w, 0, "x", 1), -EINVAL);
	/* packed events come only from session_add_event */
	assert_int_equal(session_write_block(w, BLK_EVENTS_PACKED, "x", 1), -EINVAL);
	assert_int_equal(session_write_block(w, 6, "x", 1), -EINVAL);
	assert_int_equal(session_add_event(w, 1, big, sizeof(big)), -EINVAL);
	assert_int_equal(session_add_event(w, 1, big, UINT16_MAX), 0);
	/* refused on its length alone: the reader would reject such a block */
	assert_int_equal(session_write_block(w, BLK_STATE, big, SESSION_MAX_RAW + 1ul), -EFBIG);
	assert_int_equal(session_write_block(w, BLK_STATE, NULL, 1), -EINVAL);
	assert_int_equal(session_close(w), 0);
	assert_int_equal(session_close(NULL), 0);
}

/*
 * Every prefix of a file is what a crash can leave behind: the reader must
 * return the blocks before the cut, exactly, and flag the cut unless it
 * falls on a block boundary.
 */
static void check_prefix(struct session_reader *r, size_t cut,
			 const struct blk_list *orig)
{
	struct session_block blk;
	char err[256] = "";
	int n = 0, ret;
	bool boundary = cut == SESSION_FILE_HDR;
	uint64_t last_end = SESSION_FILE_HDR;

	for (int i = 0; i < orig->n; i++) {
		uint64_t end = i + 1 < orig->n ? orig->b[i + 1].offset : orig->end;

		if (end == cut)
			boundary = true;
		if (end <= cut)
			last_end = end;
	}
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
		assert_true(n < orig->n);
		if (!same_block(&orig->b[n], &blk))
			fail_msg("cut %zu: block %d differs", cut, n);
		n++;
	}
	if (ret != 0)
		fail_msg("cut %zu: error instead of truncation: %s", cut, err);
	if (session_truncated(r) == boundary)
		fail_msg("cut %zu: truncated=%d on boundary=%d", cut,
			 session_truncated(r), boundary);
	assert_int_equal(session_good_bytes(r), last_end);
	/* end of file is sticky */
	assert_int_equal(session_next_block(r, &blk, err, sizeof(err)), 0);
}

static void test_session_truncated_at_every_offset_reads_prefix_or_reports(void **state)
{
	struct fixture *f = *state;
	struct session_reader *r;
	struct blk_list orig;
	uint8_t *buf;
	size_t len, cut;
	char err[256];

	small_file_blocks(f->path, &buf, &len, &orig);
	for (cut = 0; cut <= len; cut++) {
		err[0] = '\0';
		r = session_open_mem(buf, cut, err, sizeof(err));
		if (cut < SESSION_FILE_HDR) {
			assert_null(r);
			assert_true(strlen(err) > 0);
			if (cut > 0)
				assert_non_null(strstr(err, "truncated file header"));
			continue;
		}
		if (!r)
			fail_msg("cut %zu: open failed: %s", cut, err);
		check_prefix(r, cut, &orig);
		session_reader_free(r);
	}
	free_list(&orig);
	free(buf);
}

/* The same on a real file, which the reader reads block by block with pread. */
static void test_session_file_truncated_at_every_offset_reads_prefix(void **state)
{
	struct fixture *f = *state;
	struct session_reader *r;
	struct blk_list orig;
	uint8_t *buf;
	size_t len, cut;
	char err[256];

	small_file_blocks(f->path, &buf, &len, &orig);
	for (cut = len + 1; cut-- > 0;) {
		assert_int_equal(truncate(f->path, cut), 0);
		r = session_open(f->path, err, sizeof(err));
		if (cut < SESSION_FILE_HDR) {
			assert_null(r);
			continue;
		}
		if (!r)
			fail_msg("cut %zu: open failed: %s", cut, err);
		check_prefix(r, cut, &orig);
		session_reader_free(r);
	}
	free_list(&orig);
	free(buf);
}

/*
 * A flipped byte anywhere must never yield a wrong block: blocks before it
 * read back intact, then an error naming the damaged block's offset, or (a
 * length grown past the end of the file) a truncation.
 */
static const char *data_dir(void);

/*
 * Version 2 (no resynchronisation): a flipped byte stops the reader at
 * the damaged block, with an error naming its offset, after returning
 * every block before it unchanged.
 */
static void test_session_v2_flipped_byte_stops_at_block_with_offset(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct session_reader *r;
	struct session_block blk;
	struct blk_list orig;
	uint8_t *buf;
	size_t len, pos;
	char err[256], want[64], path[4096];
	int crc_errors = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/session/v2-cmd.session", data_dir());
	buf = slurp(path, &len);
	r = session_open_mem(buf, len, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(session_version(r), 2);
	read_all(r, &orig);
	assert_int_equal(orig.end, len);
	session_reader_free(r);
	for (unsigned int m = 0; m < sizeof(masks); m++) {
		/* (the file header's own damage: test_session_bad_magic_and_version...) */
		for (pos = SESSION_FILE_HDR; pos < len; pos++) {
			int n = 0, hit = -1, ret;

			buf[pos] ^= masks[m];
			err[0] = '\0';
			r = session_open_mem(buf, len, err, sizeof(err));
			assert_non_null(r);
			for (int i = 0; i < orig.n; i++)
				if (orig.b[i].offset <= pos)
					hit = i;
			while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
				if (n >= hit)
					fail_msg("flip 0x%02x at %zu: damaged block %d accepted",
						 masks[m], pos, n);
				assert_true(same_block(&orig.b[n], &blk));
				n++;
			}
			assert_int_equal(n, hit);
			if (ret == 0) {
				if (!session_truncated(r))
					fail_msg("flip 0x%02x at %zu: read cleanly", masks[m], pos);
				/* only a grown length can look like a cut */
				assert_true(pos >= orig.b[hit].offset + 8 &&
					    pos < orig.b[hit].offset + 12);
			} else {
				snprintf(want, sizeof(want), "at offset %llu:",
					 (unsigned long long)orig.b[hit].offset);
				if (!strstr(err, want))
					fail_msg("flip at %zu: '%s' lacks '%s'", pos, err, want);
				if (strstr(err, "CRC mismatch"))
					crc_errors++;
			}
			session_reader_free(r);
			buf[pos] ^= masks[m];
		}
	}
	/* payload damage is caught by the CRC, not by luck in inflate */
	assert_true(crc_errors > (int)len);
	free_list(&orig);
	free(buf);
}

/*
 * Version 3: any bits flipped in one block lose that block only. Damaged
 * data is skipped by the header's checked length; a damaged header (a
 * length with its high bit set, say) by finding the next block whose
 * header checks. Every other block comes back unchanged, the end is not
 * taken for a crash's cut, and the first damage named is the block's.
 */
static void test_session_flipped_bits_skip_only_the_damaged_block(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct fixture *f = *state;
	struct session_reader *r;
	struct session_block blk;
	struct blk_list orig;
	uint8_t *buf;
	size_t len, pos;
	char err[256], want[64];

	small_file_blocks(f->path, &buf, &len, &orig);
	for (unsigned int m = 0; m < sizeof(masks); m++) {
		for (pos = SESSION_FILE_HDR; pos < len; pos++) {
			int n = 0, hit = -1, ret;

			for (int i = 0; i < orig.n; i++)
				if (orig.b[i].offset <= pos)
					hit = i;
			buf[pos] ^= masks[m];
			r = session_open_mem(buf, len, err, sizeof(err));
			assert_non_null(r);
			while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
				if (n == hit)
					n++;
				if (n >= orig.n || !same_block(&orig.b[n], &blk))
					fail_msg("flip 0x%02x at %zu: block %d wrong", masks[m], pos, n);
				n++;
			}
			if (ret != 0 || session_truncated(r))
				fail_msg("flip 0x%02x at %zu: ret %d, truncated %d: %s", masks[m], pos,
					 ret, session_truncated(r), err);
			if (n + (hit == orig.n - 1) != orig.n)
				fail_msg("flip 0x%02x at %zu: %d blocks of %d read", masks[m], pos, n,
					 orig.n);
			snprintf(want, sizeof(want), "at offset %llu",
				 (unsigned long long)orig.b[hit].offset);
			if (!session_damage_count(r) || !strstr(session_damage(r, 0), want))
				fail_msg("flip 0x%02x at %zu: damage '%s' lacks '%s'", masks[m], pos,
					 session_damage(r, 0) ?: "(none)", want);
			session_reader_free(r);
			buf[pos] ^= masks[m];
		}
	}
	free_list(&orig);
	free(buf);
}

/* The small file with its blocks rearranged: order lists original indexes. */
static size_t rearrange(const uint8_t *buf, size_t len, const struct blk_list *orig,
			const int *order, int n, uint8_t *out)
{
	size_t o = SESSION_FILE_HDR;

	memcpy(out, buf, SESSION_FILE_HDR);
	for (int i = 0; i < n; i++) {
		int k = order[i];
		uint64_t end = k + 1 < orig->n ? orig->b[k + 1].offset : len;

		memcpy(out + o, buf + orig->b[k].offset, end - orig->b[k].offset);
		o += end - orig->b[k].offset;
	}
	return o;
}

/* Read a rearranged file: its blocks' original indexes and its damage. */
static int read_order(const uint8_t *buf, size_t len, const struct blk_list *orig,
		      int *got, char damage[][160])
{
	struct session_reader *r;
	struct session_block blk;
	char err[256];
	json_t *j;
	int n = 0, ret;

	r = session_open_mem(buf, len, err, sizeof(err));
	assert_non_null(r);
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
		for (got[n] = 0; got[n] < orig->n; got[n]++)
			if (orig->b[got[n]].type == blk.type && orig->b[got[n]].len == blk.len &&
			    !memcmp(orig->b[got[n]].data, blk.data, blk.len))
				break;
		if (blk.type == BLK_SUMMARY) {
			j = session_block_json(&blk, err, sizeof(err));
			assert_non_null(j);
			session_check_summary(r, json_object_get(j, "integrity"), NULL);
			json_decref(j);
		}
		n++;
	}
	assert_int_equal(ret, 0);
	for (size_t i = 0; i < session_damage_count(r) && i < 8; i++)
		snprintf(damage[i], 160, "%s", session_damage(r, i));
	if (session_damage_count(r) < 8)
		damage[session_damage_count(r)][0] = '\0';
	session_reader_free(r);
	return n;
}

/*
 * Blocks deleted, repeated or moved are found by their sequence numbers
 * and the SUMMARY's counts: every message names what happened, repeats
 * are skipped, moved blocks still read.
 */
static void test_session_deleted_repeated_moved_blocks_detected(void **state)
{
	struct fixture *f = *state;
	struct blk_list orig;
	uint8_t *buf, *out;
	size_t len, n;
	char d[8][160];
	int got[16];

	small_file_blocks(f->path, &buf, &len, &orig);
	out = malloc(2 * len);
	assert_non_null(out);

	/* untouched: no damage */
	n = rearrange(buf, len, &orig, (int[]){ 0, 1, 2, 3, 4 }, 5, out);
	assert_int_equal(read_order(out, n, &orig, got, d), 5);
	assert_string_equal(d[0], "");

	/* the second events block deleted */
	n = rearrange(buf, len, &orig, (int[]){ 0, 1, 3, 4 }, 4, out);
	assert_int_equal(read_order(out, n, &orig, got, d), 4);
	assert_string_equal(d[0], "the SUMMARY counts 4 blocks before it, 3 were read");
	assert_string_equal(d[1], "event counts differ from the SUMMARY's: collector 2: 0 read, 3 written; collector 3: 0 read, 1 written");
	assert_string_equal(d[2], "block number 2 is missing (deleted or damaged)");
	assert_string_equal(d[3], "");

	/* the first events block twice: the repeat is skipped, counts agree */
	n = rearrange(buf, len, &orig, (int[]){ 0, 1, 1, 2, 3, 4 }, 6, out);
	assert_int_equal(read_order(out, n, &orig, got, d), 5);
	assert_memory_equal(got, ((int[]){ 0, 1, 2, 3, 4 }), 5 * sizeof(int));
	assert_non_null(strstr(d[0], "EVENTS_SPLIT block number 1 at offset "));
	assert_non_null(strstr(d[0], "repeats one already read: skipped"));
	assert_string_equal(d[1], "");

	/* the two events blocks swapped: both read, the late one named */
	n = rearrange(buf, len, &orig, (int[]){ 0, 2, 1, 3, 4 }, 5, out);
	assert_int_equal(read_order(out, n, &orig, got, d), 5);
	assert_memory_equal(got, ((int[]){ 0, 2, 1, 3, 4 }), 5 * sizeof(int));
	assert_non_null(strstr(d[0], "EVENTS_SPLIT block number 1 at offset "));
	assert_non_null(strstr(d[0], "is out of order (after number 2)"));
	assert_string_equal(d[1], "");

	/* the SUMMARY deleted: nothing to compare, nothing missing before it */
	n = rearrange(buf, len, &orig, (int[]){ 0, 1, 2, 3 }, 4, out);
	assert_int_equal(read_order(out, n, &orig, got, d), 4);
	assert_string_equal(d[0], "");
	free(out);
	free_list(&orig);
	free(buf);
}

static void test_session_bad_magic_and_version_named_in_error(void **state)
{
	uint8_t hdr[SESSION_FILE_HDR] = "DISCOSES";
	struct session_reader *r;
	char err[256], want[64];

	(void)state;
	hdr[8] = SESSION_VERSION + 1;
	r = session_open_mem(hdr, sizeof(hdr), err, sizeof(err));
	assert_null(r);
	snprintf(want, sizeof(want), "unsupported format version %d", SESSION_VERSION + 1);
	assert_non_null(strstr(err, want));
	hdr[8] = 0;
	r = session_open_mem(hdr, sizeof(hdr), err, sizeof(err));
	assert_null(r);
	assert_non_null(strstr(err, "unsupported format version 0"));
	memcpy(hdr, "\x7f" "ELF\2\1\1\0", 8);
	r = session_open_mem(hdr, sizeof(hdr), err, sizeof(err));
	assert_null(r);
	assert_string_equal(err, "not a disco session file (bad magic at offset 0)");
	r = session_open_mem(hdr, 0, err, sizeof(err));
	assert_null(r);
	assert_non_null(strstr(err, "not a disco session file"));
	/* a valid header with nothing after it is a complete, empty session */
	memcpy(hdr, SESSION_MAGIC, 8);
	hdr[8] = SESSION_VERSION;
	r = session_open_mem(hdr, sizeof(hdr), err, sizeof(err));
	assert_non_null(r);
	session_reader_free(r);
}

static void test_session_open_refuses_missing_and_non_regular_files(void **state)
{
	struct fixture *f = *state;
	char err[256];

	assert_null(session_open(f->path, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_null(session_open(f->dir, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_session_create_refuses_existing_without_force(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	uint8_t *buf;
	size_t len;

	spit(f->path, "keep me", 7);
	w = session_create(f->path, false);
	assert_null(w);
	assert_int_equal(errno, EEXIST);
	buf = slurp(f->path, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "keep me", 7);
	free(buf);
}

static void test_session_create_force_replaces_regular_file(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct stat st;

	spit(f->path, "an old and longer file", 22);
	assert_int_equal(chmod(f->path, 0644), 0);
	w = session_create(f->path, true);
	assert_non_null(w);
	assert_int_equal(session_close(w), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, SESSION_FILE_HDR);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_session_create_refuses_symlink(void **state)
{
	struct fixture *f = *state;
	char target[160], dangling[160];
	uint8_t *buf;
	size_t len;

	snprintf(target, sizeof(target), "%s/target", f->dir);
	snprintf(dangling, sizeof(dangling), "%s/nowhere", f->dir);
	spit(target, "victim", 6);
	assert_int_equal(symlink(target, f->path), 0);
	assert_null(session_create(f->path, true));
	assert_int_equal(errno, ELOOP);
	assert_null(session_create(f->path, false));
	assert_int_equal(errno, EEXIST);
	buf = slurp(target, &len);
	assert_int_equal(len, 6);
	free(buf);

	/* a dangling link must not create its target either */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(symlink(dangling, f->path), 0);
	assert_null(session_create(f->path, true));
	assert_int_equal(errno, ELOOP);
	assert_null(session_create(f->path, false));
	assert_int_equal(access(dangling, F_OK), -1);
}

static void test_session_create_refuses_directory_and_fifo(void **state)
{
	struct fixture *f = *state;

	assert_null(session_create(f->dir, true));
	assert_int_equal(errno, EISDIR);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	/* must return at once, not block waiting for a FIFO reader */
	assert_null(session_create(f->path, true));
	assert_int_equal(errno, EINVAL);
}

static void test_session_file_mode_is_0600(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct stat st;
	mode_t old = umask(0);

	w = session_create(f->path, false);
	umask(old);
	assert_non_null(w);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(session_close(w), 0);
}

/* Build one block with a valid CRC over whatever lengths the caller claims. */
static size_t craft_block(uint8_t *out, uint32_t type, uint32_t raw_len,
			  uint32_t comp_len, const void *data, size_t data_len)
{
	uLong crc;

	memcpy(out, SESSION_MAGIC, 8);
	memset(out + 8, 0, 8);
	out[8] = 2;	/* the version 2 framing below */
	out += SESSION_FILE_HDR;
	for (int i = 0; i < 4; i++) {
		out[i] = type >> (8 * i);
		out[4 + i] = raw_len >> (8 * i);
		out[8 + i] = comp_len >> (8 * i);
	}
	memcpy(out + SESSION_BLOCK_HDR_V2, data, data_len);
	crc = crc32(0, out, 12);
	crc = crc32(crc, out + SESSION_BLOCK_HDR_V2, data_len);
	for (int i = 0; i < 4; i++)
		out[12 + i] = crc >> (8 * i);
	return SESSION_FILE_HDR + SESSION_BLOCK_HDR_V2 + data_len;
}

static size_t heap_in_use(void)
{
#ifdef TEST_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#endif
}

/* Expect an error naming offset 16 and no more than `budget` bytes held. */
static void expect_rejected(const uint8_t *file, size_t len, const char *why,
			    size_t budget)
{
	struct session_reader *r;
	struct session_block blk;
	char err[256] = "";
	size_t before;
	int ret;

	r = session_open_mem(file, len, err, sizeof(err));
	assert_non_null(r);
	before = heap_in_use();
	ret = session_next_block(r, &blk, err, sizeof(err));
	if (heap_in_use() > before + budget)
		fail_msg("%s: reader holds %zu bytes more", why,
			 heap_in_use() - before);
	if (ret >= 0)
		fail_msg("%s: accepted (ret %d)", why, ret);
	if (!strstr(err, "at offset 16:") || !strstr(err, why))
		fail_msg("'%s' does not say 'at offset 16: ... %s'", err, why);
	/* the error is sticky: no retry past a corrupt block */
	assert_int_equal(session_next_block(r, &blk, err, sizeof(err)), ret);
	session_reader_free(r);
}

static void test_session_hostile_lengths_rejected_without_allocation(void **state)
{
	/* room for the crafted blocks below */
	static uint8_t file[SESSION_FILE_HDR + SESSION_BLOCK_HDR_V2 + 8192];
	static uint8_t raw[1 << 20], comp[8192];
	const size_t small = 64 << 10;
	struct session_reader *r;
	struct session_block blk;
	uLongf comp_len;
	size_t len;
	char err[256];

	(void)state;
	len = craft_block(file, BLK_EVENTS, 10, UINT32_MAX, "", 0);
	expect_rejected(file, len, "compressed length 4294967295 exceeds", small);
	len = craft_block(file, BLK_EVENTS, 10, SESSION_MAX_COMP + 1, "", 0);
	expect_rejected(file, len, "exceeds", small);
	len = craft_block(file, BLK_EVENTS, UINT32_MAX, 10, "0123456789", 10);
	expect_rejected(file, len, "raw length 4294967295 exceeds", small);
	len = craft_block(file, 0, 10, 10, "0123456789", 10);
	expect_rejected(file, len, "unknown block type 0", small);
	len = craft_block(file, 99, 10, 10, "0123456789", 10);
	expect_rejected(file, len, "unknown block type 99", small);

	/* a 64 MiB claim backed by 10 bytes: refused before any buffer is made */
	len = craft_block(file, BLK_STATE, SESSION_MAX_RAW, 10, "0123456789", 10);
	expect_rejected(file, len, "impossible", small);

	/* a 16 MiB compressed length in a small file is a truncation, not a read */
	len = craft_block(file, BLK_STATE, 100, SESSION_MAX_COMP, "0123456789", 10);
	r = session_open_mem(file, len, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(session_next_block(r, &blk, err, sizeof(err)), 0);
	assert_true(session_truncated(r));
	assert_int_equal(session_good_bytes(r), SESSION_FILE_HDR);
	session_reader_free(r);

	/* a zlib bomb: 1 MiB of zeros claimed as 100 bytes: more data than 100 can deflate to */
	comp_len = sizeof(comp);
	assert_int_equal(compress2(comp, &comp_len, raw, sizeof(raw), 9), Z_OK);
	len = craft_block(file, BLK_STATE, 100, comp_len, comp, comp_len);
	expect_rejected(file, len, "impossible for 1039 compressed bytes", small);
	/* 10000 zeros (a few dozen bytes) claimed as 100: inflating fills only 100 */
	comp_len = sizeof(comp);
	assert_int_equal(compress2(comp, &comp_len, raw, 10000, 9), Z_OK);
	len = craft_block(file, BLK_STATE, 100, comp_len, comp, comp_len);
	expect_rejected(file, len, "more bytes than its raw length", small);

	/* the opposite lie: more raw bytes claimed than the stream holds */
	comp_len = sizeof(comp);
	assert_int_equal(compress2(comp, &comp_len, raw, 1000, 9), Z_OK);
	len = craft_block(file, BLK_STATE, 5000, comp_len, comp, comp_len);
	expect_rejected(file, len, "fewer bytes than its raw length", small);

	/* bytes after the end of the zlib stream, covered by a valid CRC */
	comp_len = sizeof(comp);
	assert_int_equal(compress2(comp, &comp_len, raw, 1000, 9), Z_OK);
	comp[comp_len] = 0;
	len = craft_block(file, BLK_STATE, 1000, comp_len + 1, comp, comp_len + 1);
	expect_rejected(file, len, "trailing bytes", small);

	/* data that is not zlib at all */
	len = craft_block(file, BLK_STATE, 10, 10, "0123456789", 10);
	expect_rejected(file, len, "corrupt block at offset 16:", small);
}

/* The per-type limits: a JSON block and an events block one byte over. */
static void test_session_block_over_its_type_limit_refused_before_inflating(void **state)
{
	static uint8_t file[SESSION_FILE_HDR + SESSION_BLOCK_HDR_V2 + 64];
	size_t len;

	(void)state;
	len = craft_block(file, BLK_STATE, SESSION_MAX_JSON + 1, 10, "0123456789", 10);
	expect_rejected(file, len, "STATE block at offset 16: raw length 16777217 exceeds the 16777216 byte limit",
			64 << 10);
	len = craft_block(file, BLK_EVENTS, SESSION_MAX_EVENTS_RAW + 1, 10, "0123456789", 10);
	expect_rejected(file, len, "raw length 1048577 exceeds the 1048576 byte limit", 64 << 10);
}

static void test_session_json_shape_counts_items_and_depth_outside_strings(void **state)
{
	const char *t = "{\"a,{[\":[1,{\"b\":[]},\"\\\"]}\"],\"c\":2}";
	size_t items;
	int depth;

	(void)state;
	session_json_shape(t, strlen(t), &items, &depth);
	/* 1 + 3 commas + 4 objects and arrays; brackets in strings do not count */
	assert_int_equal(items, 8);
	assert_int_equal(depth, 4);
	session_json_shape("7", 1, &items, &depth);
	assert_int_equal(items, 1);
	assert_int_equal(depth, 0);
}

/* Build "{\"a\":" + inner + "}" in a malloc'd buffer. */
static char *json_wrap(const char *pre, const char *unit, size_t n, const char *post)
{
	size_t lp = strlen(pre), lu = strlen(unit), lq = strlen(post);
	char *s = malloc(lp + lu * n + lq + 1), *p = s;

	assert_non_null(s);
	memcpy(p, pre, lp);
	p += lp;
	for (size_t i = 0; i < n; i++, p += lu)
		memcpy(p, unit, lu);
	memcpy(p, post, lq + 1);
	return s;
}

static void expect_json_refused(char *text, const char *why)
{
	struct session_block blk = { .type = BLK_STATE, .offset = 4242 };
	char err[256] = "";
	json_t *j;

	blk.data = (uint8_t *)text;
	blk.len = strlen(text);
	j = session_block_json(&blk, err, sizeof(err));
	if (j)
		fail_msg("%s: parsed", why);
	if (!strstr(err, "STATE block at offset 4242: ") || !strstr(err, why))
		fail_msg("'%s' does not say 'STATE block at offset 4242: ... %s'", err, why);
	free(text);
}

/* Depth and item budgets are checked on the text, before jansson sees it. */
static void test_session_block_json_refuses_deep_and_many_items_naming_offset(void **state)
{
	struct session_block blk = { .type = BLK_STATE, .offset = 16 };
	char err[256] = "", *texts[2];
	json_t *j;

	(void)state;
	expect_json_refused(json_wrap("{\"a\":", "[", 100000, ""), "nested 100001 levels deep");
	expect_json_refused(json_wrap("{\"a\":[", "{},", SESSION_MAX_JSON_ITEMS / 2, "{}]}"),
			    "1048580 JSON items, over the limit of 1048576");
	expect_json_refused(json_wrap("{\"a\":\"", "x", SESSION_MAX_JSON, "\"}"),
			    "16777224 bytes of JSON, over the 16777216 byte limit");
	expect_json_refused(strdup("[1]"), "not a JSON object");
	expect_json_refused(strdup("{\"a\":1,\"a\":2}"), "duplicate");

	/* just under every budget parses */
	texts[0] = json_wrap("{\"a\":[", "{},", SESSION_MAX_JSON_ITEMS / 2 - 2, "{}]}");
	texts[1] = json_wrap("{\"a\":", "[", SESSION_MAX_JSON_DEPTH - 1, "");
	texts[1] = realloc(texts[1], strlen(texts[1]) + SESSION_MAX_JSON_DEPTH + 1);
	assert_non_null(texts[1]);
	for (int i = 1; i < SESSION_MAX_JSON_DEPTH; i++)
		strcat(texts[1], "]");
	strcat(texts[1], "}");
	for (int i = 0; i < 2; i++) {
		blk.data = (uint8_t *)texts[i];
		blk.len = strlen(texts[i]);
		j = session_block_json(&blk, err, sizeof(err));
		assert_non_null(j);
		json_decref(j);
		free(texts[i]);
	}
}

/*
 * A snapshot over the budgets is written with the tail of its largest
 * table dropped (and counted), never as a block the reader would refuse.
 */
static void test_session_writer_trims_snapshot_over_budget_to_fit(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct session_reader *r;
	struct session_block blk;
	char err[256] = "", *mib = malloc((1 << 20) + 1);
	json_t *j = json_object(), *a = json_array(), *got;
	int n = 0;

	assert_non_null(mib);
	memset(mib, 'x', 1 << 20);
	mib[1 << 20] = '\0';
	for (int i = 0; i < 40; i++) {
		mib[0] = (char)('A' + i);
		json_array_append_new(a, json_string(mib));
	}
	json_object_set_new(j, "session", json_object());
	json_object_set_new(j, "stacks", a);
	w = session_create(f->path, false);
	assert_non_null(w);
	assert_int_equal(session_write_json(w, BLK_HEADER, j), 0);
	assert_int_equal(session_close(w), 0);

	r = session_open(f->path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(session_next_block(r, &blk, err, sizeof(err)), 1);
	assert_true(blk.len <= SESSION_MAX_JSON);
	got = session_block_json(&blk, err, sizeof(err));
	assert_non_null(got);
	/* 40 MiB halved to 20, then 10: the heaviest (first) ten are kept */
	a = json_object_get(got, "stacks");
	assert_int_equal(json_array_size(a), 10);
	assert_int_equal(json_string_value(json_array_get(a, 9))[0], 'A' + 9);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(got, "session"),
							    "trimmed_items")), 30);
	/* the caller's JSON is untouched */
	assert_int_equal(json_array_size(json_object_get(j, "stacks")), 40);
	while (session_next_block(r, &blk, err, sizeof(err)) == 1)
		n++;
	assert_int_equal(n, 0);
	json_decref(got);
	json_decref(j);
	session_reader_free(r);
	free(mib);
}

/*
 * Blocks that deflate far better than real ones would take the file past
 * the reader's whole-file budget: the writer stores them instead, so the
 * reader reads every one.
 */
static void test_session_writer_stays_within_whole_file_budget(void **state)
{
	struct fixture *f = *state;
	struct session_writer *w;
	struct session_reader *r;
	struct session_block blk;
	char err[256] = "", *mib = malloc(1 << 20);
	int n = 0, ret;
	struct stat st;

	assert_non_null(mib);
	memset(mib, ' ', 1 << 20);
	mib[0] = '{';
	mib[(1 << 20) - 1] = '}';
	w = session_create(f->path, false);
	assert_non_null(w);
	/* 48 MiB that deflate to ~50 KB: past the 32 MiB floor */
	for (int i = 0; i < 48; i++)
		assert_int_equal(session_write_block(w, BLK_STATE, mib, 1 << 20), 0);
	assert_int_equal(session_close(w), 0);
	assert_int_equal(stat(f->path, &st), 0);
	/* past the floor, just enough blocks went in stored to keep 32:1 */
	assert_true((uint64_t)st.st_size * SESSION_FILE_RATIO >= (48ull << 20));
	assert_true(st.st_size < (4 << 20));
	r = session_open(f->path, err, sizeof(err));
	assert_non_null(r);
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1)
		n++;
	if (ret)
		fail_msg("%s", err);
	assert_int_equal(n, 48);
	assert_int_equal(session_damage_count(r), 0);
	session_reader_free(r);
	free(mib);
}

static void test_session_event_next_rejects_record_past_block_end(void **state)
{
	uint8_t data[16] = { 1, 0, 4, 0, 'a', 'b', 'c', 'd', 2, 0, 9, 0, 'x' };
	struct session_block blk = { .type = BLK_EVENTS, .data = data };
	struct session_event ev;
	size_t pos = 0;

	(void)state;
	blk.len = 13;
	assert_int_equal(session_event_next(&blk, &pos, &ev), 1);
	assert_int_equal(ev.collector, 1);
	assert_int_equal(ev.len, 4);
	assert_memory_equal(ev.data, "abcd", 4);
	assert_int_equal(pos, 8);
	/* second record claims 9 bytes, only 1 left */
	assert_int_equal(session_event_next(&blk, &pos, &ev), -EBADMSG);
	/* a block ending inside a record header */
	blk.len = 10;
	assert_int_equal(session_event_next(&blk, &pos, &ev), -EBADMSG);
	/* exactly consumed: clean end */
	blk.len = 8;
	assert_int_equal(session_event_next(&blk, &pos, &ev), 0);
	pos = 9;
	assert_int_equal(session_event_next(&blk, &pos, &ev), -EINVAL);
	blk.type = BLK_STATE;
	pos = 0;
	assert_int_equal(session_event_next(&blk, &pos, &ev), -EINVAL);
}

/*
 * A write that fails half way (here RLIMIT_FSIZE, as ENOSPC would) is
 * cut back to the last whole block; the file stays readable and later
 * writes continue from there. Runs in a child: the limit is per process.
 */
static int write_error_child(const char *path)
{
	struct session_writer *w;
	struct rlimit rl, lowered;
	static uint8_t noise[20000];
	uint64_t s = 7, good;
	struct stat st;
	int ret;

	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)prng(&s);
	signal(SIGXFSZ, SIG_IGN);
	w = session_create(path, false);
	if (!w)
		return 10;
	if (session_write_block(w, BLK_HEADER, "{}", 2))
		return 11;
	good = session_bytes_written(w);
	if (getrlimit(RLIMIT_FSIZE, &rl))
		return 12;
	lowered = rl;
	lowered.rlim_cur = good + 100;
	if (setrlimit(RLIMIT_FSIZE, &lowered))
		return 13;
	ret = session_write_block(w, BLK_EVENTS, noise, sizeof(noise));
	if (ret != -EFBIG)
		return 14;
	if (session_bytes_written(w) != good)
		return 15;
	if (stat(path, &st) || (uint64_t)st.st_size != good)
		return 16;
	/* events buffered behind a failing write are kept, not lost */
	if (session_add_event(w, 1, noise, 5000))
		return 17;
	if (session_flush(w) != -EFBIG)
		return 18;
	if (setrlimit(RLIMIT_FSIZE, &rl))
		return 19;
	if (session_write_block(w, BLK_SUMMARY, "{}", 2))
		return 20;
	if (session_close(w))
		return 21;
	return 0;
}

/*
 * Run child(path) in a child process (limits are per process), expect it
 * to return 0, then read the file back whole into l.
 */
static void child_then_read(const char *path, int (*child)(const char *),
			    struct blk_list *l)
{
	struct session_reader *r;
	char err[256];
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child(path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	r = session_open(path, err, sizeof(err));
	assert_non_null(r);
	read_all(r, l);
	assert_false(session_truncated(r));
	session_reader_free(r);
}

static void test_session_write_error_truncates_to_last_whole_block(void **state)
{
	struct fixture *f = *state;
	struct blk_list l;

	child_then_read(f->path, write_error_child, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.b[0].type, BLK_HEADER);
	assert_int_equal(l.b[1].type, BLK_EVENTS);
	assert_int_equal(l.b[1].len, 5004);
	assert_int_equal(l.b[2].type, BLK_SUMMARY);
	free_list(&l);
}

/*
 * Many events of random sizes (several full EVENTS blocks), flushes and a
 * STATE block between them: the recorder's pattern.
 */
static void write_busy_file(const char *path, bool async, int n, int flush_every)
{
	struct session_writer *w = session_create(path, false);
	uint8_t payload[300];
	uint64_t s = 9;

	assert_non_null(w);
	assert_int_equal(session_write_block(w, BLK_HEADER, "{}", 2), 0);
	if (async)
		assert_int_equal(session_start_async(w), 0);
	for (int i = 0; i < n; i++) {
		uint16_t len = prng(&s) % sizeof(payload);

		for (int j = 0; j < len; j++)
			payload[j] = (uint8_t)prng(&s);
		assert_int_equal(session_add_event(w, i % 4, payload, len), 0);
		if (i % flush_every == 0)
			assert_int_equal(session_flush(w), 0);
		if (i == n / 2)
			assert_int_equal(session_write_block(w, BLK_STATE, "{\"n\":4000}", 10), 0);
	}
	assert_int_equal(session_write_block(w, BLK_SUMMARY, "{}", 2), 0);
	assert_int_equal(session_close(w), 0);
}

/* The writer thread only moves the work: the file is the same, byte for byte. */
/* Two files, written directly and through the thread: the same bytes; the size. */
static size_t assert_same_files(const char *p1, const char *p2)
{
	uint8_t *a, *b;
	size_t alen, blen;

	a = slurp(p1, &alen);
	b = slurp(p2, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	unlink(p1);
	unlink(p2);
	return alen;
}

static void test_session_async_writes_the_same_file(void **state)
{
	struct fixture *f = *state;
	char path2[160];

	snprintf(path2, sizeof(path2), "%s/async.data", f->dir);
	write_busy_file(f->path, false, 8000, 1500);
	write_busy_file(path2, true, 8000, 1500);
	/* several blocks */
	assert_true(assert_same_files(f->path, path2) > 3 * SESSION_EVENTS_BLOCK / 2);
	write_small_file_as(f->path, false);
	write_small_file_as(path2, true);
	assert_same_files(f->path, path2);
}

/*
 * Flushes queue faster than the thread syncs them: the queue fills, the
 * recording thread waits for slots to be written, slots are reused many
 * times over, and the file is still the same as written directly.
 */
static void test_session_async_full_queue_waits_and_keeps_order(void **state)
{
	struct fixture *f = *state;
	char path2[160];

	snprintf(path2, sizeof(path2), "%s/async.data", f->dir);
	write_busy_file(f->path, false, 2000, 7);
	write_busy_file(path2, true, 2000, 7);
	assert_same_files(f->path, path2);
}

/*
 * A write error in the writer thread comes back from a later call and
 * from close, and the file ends at its last whole block.
 */
static int async_error_child(const char *path)
{
	struct session_writer *w;
	struct rlimit lowered;
	static uint8_t noise[5000];
	uint64_t s = 11, good;
	struct stat st;
	int ret = 0;

	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)prng(&s);
	signal(SIGXFSZ, SIG_IGN);
	w = session_create(path, false);
	if (!w || session_write_block(w, BLK_HEADER, "{}", 2))
		return 10;
	good = session_bytes_written(w);
	if (session_start_async(w))
		return 11;
	if (getrlimit(RLIMIT_FSIZE, &lowered))
		return 12;
	lowered.rlim_cur = good + 100;
	if (setrlimit(RLIMIT_FSIZE, &lowered))
		return 13;
	if (session_add_event(w, 1, noise, sizeof(noise)))
		return 14;
	/* queued, then failed in the thread: a later flush says so */
	for (int i = 0; i < 500 && !ret; i++) {
		ret = session_flush(w);
		usleep(10000);
	}
	if (ret != -EFBIG)
		return 15;
	if (session_close(w) != -EFBIG)
		return 17;
	if (stat(path, &st) || (uint64_t)st.st_size != good)
		return 18;
	return 0;
}

static void test_session_async_write_error_reported_and_file_whole(void **state)
{
	struct fixture *f = *state;
	struct blk_list l;

	child_then_read(f->path, async_error_child, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.b[0].type, BLK_HEADER);
	free_list(&l);
}

static const char *data_dir(void)
{
	const char *d = getenv("DISCO_TEST_DATA");

	return d ? d : "tests/data";
}

/* One block or event record of a session, in the order read. */
struct item {
	uint32_t type;		/* BLK_EVENTS: one record */
	uint16_t collector;
	size_t len;
	uint8_t *data;
};

static struct item *read_items(struct session_reader *r, int *n)
{
	struct item *it = NULL;
	struct session_block blk;
	struct session_event ev;
	char err[256];
	int cap = 0, ret;

	*n = 0;
	while ((ret = session_next_block(r, &blk, err, sizeof(err))) == 1) {
		size_t pos = 0;
		bool events = blk.type == BLK_EVENTS;

		for (;;) {
			if (events && session_event_next(&blk, &pos, &ev) != 1)
				break;
			if (*n == cap) {
				cap = cap ? 2 * cap : 256;
				it = realloc(it, cap * sizeof(*it));
				assert_non_null(it);
			}
			it[*n].type = blk.type;
			it[*n].collector = events ? ev.collector : 0;
			it[*n].len = events ? ev.len : blk.len;
			it[*n].data = malloc(it[*n].len + 1);
			assert_non_null(it[*n].data);
			memcpy(it[*n].data, events ? ev.data : blk.data, it[*n].len);
			(*n)++;
			if (!events)
				break;
		}
	}
	assert_int_equal(ret, 0);
	assert_false(session_truncated(r));
	return it;
}

static void free_items(struct item *it, int n)
{
	for (int i = 0; i < n; i++)
		free(it[i].data);
	free(it);
}

/*
 * An old file written again record by record by today's writer: the same
 * records come back, byte for byte, and the two files report the same
 * JSON.
 */
static void rewrite_reads_and_reports_identically(const char *dir, const char *name,
						  uint32_t version, int min_collectors)
{
	struct report_opts ro = { .top = 20 };
	struct session_writer *w;
	struct session_reader *r;
	struct item *v1, *v2;
	char v1path[4096], path[4096], err[256] = "";
	json_t *rep1, *rep2, *cols;
	int n1, n2, per_col[64] = { 0 };

	snprintf(v1path, sizeof(v1path), "%s/session/%s", data_dir(), name);
	snprintf(path, sizeof(path), "%s/rewritten.data", dir);
	r = session_open(v1path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(session_version(r), version);
	v1 = read_items(r, &n1);
	session_reader_free(r);

	w = session_create(path, false);
	assert_non_null(w);
	for (int i = 0; i < n1; i++) {
		if (v1[i].type == BLK_EVENTS) {
			assert_true(v1[i].collector < 64);
			per_col[v1[i].collector]++;
			assert_int_equal(session_add_event(w, v1[i].collector, v1[i].data,
							   v1[i].len), 0);
		} else if (v1[i].type == BLK_SUMMARY) {
			/* its "integrity" counts this file's blocks (version 3 on) */
			json_t *sum = json_loadb((const char *)v1[i].data, v1[i].len, 0, NULL);

			assert_non_null(sum);
			json_object_del(sum, "integrity");
			assert_int_equal(session_write_json(w, BLK_SUMMARY, sum), 0);
			json_decref(sum);
		} else {
			assert_int_equal(session_write_block(w, v1[i].type, v1[i].data,
							     v1[i].len), 0);
		}
	}
	assert_int_equal(session_close(w), 0);

	r = session_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(session_version(r), SESSION_VERSION);
	v2 = read_items(r, &n2);
	session_reader_free(r);
	assert_int_equal(n2, n1);
	for (int i = 0; i < n1; i++) {
		assert_int_equal(v2[i].type, v1[i].type);
		assert_int_equal(v2[i].collector, v1[i].collector);
		if (v1[i].type == BLK_SUMMARY) {
			json_t *a = json_loadb((const char *)v1[i].data, v1[i].len, 0, NULL);
			json_t *b = json_loadb((const char *)v2[i].data, v2[i].len, 0, NULL);

			json_object_del(a, "integrity");
			json_object_del(b, "integrity");
			assert_true(json_equal(a, b));
			json_decref(a);
			json_decref(b);
			continue;
		}
		assert_int_equal(v2[i].len, v1[i].len);
		assert_memory_equal(v2[i].data, v1[i].data, v1[i].len);
	}

	rep1 = report_load(v1path, &ro, err, sizeof(err));
	if (!rep1)
		fail_msg("%s: %s", v1path, err);
	rep2 = report_load(path, &ro, err, sizeof(err));
	if (!rep2)
		fail_msg("%s: %s", path, err);
	assert_true(json_equal(rep1, rep2));
	/* every collector's records are in it, and reported */
	cols = json_object_get(rep1, "collectors");
	for (int id = 0; id < 64; id++) {
		const struct collector *c = collector_by_id((uint16_t)id);

		if (!c || !per_col[id])
			continue;
		assert_non_null(json_object_get(cols, c->name));
	}
	assert_true(json_object_size(cols) >= (size_t)min_collectors);
	json_decref(rep1);
	json_decref(rep2);
	free_items(v1, n1);
	free_items(v2, n2);
}

/* Version 1, by the writer before the packed encoding: sched, bio, tcp, alloc. */
static void test_session_v1_file_rewritten_reads_and_reports_identically(void **state)
{
	struct fixture *f = *state;

	rewrite_reads_and_reports_identically(f->dir, "v1-all.session", 1, 4);
}

/*
 * Version 2, by the writer before block numbers (a recording of
 * `-e sched,bio,tcp,cpu,offcpu --min-latency 0 -- COMMAND`).
 */
static void test_session_v2_file_rewritten_reads_and_reports_identically(void **state)
{
	struct fixture *f = *state;

	rewrite_reads_and_reports_identically(f->dir, "v2-cmd.session", 2, 5);
}

/*
 * Version 3, by the writer before the column encoding (EVENTS_PACKED
 * blocks with numbers): `-e sched,bio,tcp,cpu,offcpu --min-latency 0
 * --call-graph dwarf,512 -F 199 -- sh` of a few loopback connections, a
 * python loop and direct writes.
 */
static void test_session_v3_file_rewritten_reads_and_reports_identically(void **state)
{
	struct fixture *f = *state;

	rewrite_reads_and_reports_identically(f->dir, "v3-cmd.session", 3, 5);
}

/*
 * Version 4, by the writer before column references (EVENTS_COLS without
 * mode 64): `-e sched,tcp,cpu,offcpu --min-latency 0 -F 199 -- sh` of
 * three loopback connections, a python loop and direct writes.
 */
static void test_session_v4_file_rewritten_reads_and_reports_identically(void **state)
{
	struct fixture *f = *state;

	rewrite_reads_and_reports_identically(f->dir, "v4-cmd.session", 4, 4);
}

/*
 * Version 5, by the writer before packed planes (column mode 128):
 * `-e sched,tcp,cpu,offcpu --min-latency 0 -F 199 -- sh` of three
 * loopback connections, a python loop and direct writes.
 */
static void test_session_v5_file_rewritten_reads_and_reports_identically(void **state)
{
	struct fixture *f = *state;

	rewrite_reads_and_reports_identically(f->dir, "v5-cmd.session", 5, 4);
}

/*
 * Version 6, by the writer before the plain area (EVENTS_SPLIT):
 * `-e sched,tcp,cpu,offcpu --min-latency 0 -F 199 -- sh` of three
 * loopback connections, a python loop and direct writes.
 */
static void test_session_v6_file_rewritten_reads_and_reports_identically(void **state)
{
	struct fixture *f = *state;

	rewrite_reads_and_reports_identically(f->dir, "v6-cmd.session", 6, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_session_round_trip_preserves_blocks_and_events),
		T(test_session_block_over_its_type_limit_refused_before_inflating),
		T(test_session_json_shape_counts_items_and_depth_outside_strings),
		T(test_session_block_json_refuses_deep_and_many_items_naming_offset),
		T(test_session_writer_trims_snapshot_over_budget_to_fit),
		T(test_session_writer_stays_within_whole_file_budget),
		T(test_session_events_block_cut_only_when_next_record_would_not_fit),
		T(test_session_other_block_writes_pending_events_first),
		T(test_session_empty_block_round_trips),
		T(test_session_writer_rejects_bad_arguments),
		T(test_session_truncated_at_every_offset_reads_prefix_or_reports),
		T(test_session_file_truncated_at_every_offset_reads_prefix),
		T(test_session_v2_flipped_byte_stops_at_block_with_offset),
		T(test_session_flipped_bits_skip_only_the_damaged_block),
		T(test_session_deleted_repeated_moved_blocks_detected),
		T(test_session_bad_magic_and_version_named_in_error),
		T(test_session_open_refuses_missing_and_non_regular_files),
		T(test_session_create_refuses_existing_without_force),
		T(test_session_create_force_replaces_regular_file),
		T(test_session_create_refuses_symlink),
		T(test_session_create_refuses_directory_and_fifo),
		T(test_session_file_mode_is_0600),
		T(test_session_hostile_lengths_rejected_without_allocation),
		T(test_session_event_next_rejects_record_past_block_end),
		T(test_session_write_error_truncates_to_last_whole_block),
		T(test_session_async_writes_the_same_file),
		T(test_session_async_full_queue_waits_and_keeps_order),
		T(test_session_async_write_error_reported_and_file_whole),
		T(test_session_v1_file_rewritten_reads_and_reports_identically),
		T(test_session_v2_file_rewritten_reads_and_reports_identically),
		T(test_session_v3_file_rewritten_reads_and_reports_identically),
		T(test_session_v4_file_rewritten_reads_and_reports_identically),
		T(test_session_v5_file_rewritten_reads_and_reports_identically),
		T(test_session_v6_file_rewritten_reads_and_reports_identically),
		T(test_session_split_blocks_are_zlib_and_read_back),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
