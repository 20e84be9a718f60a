// SPDX-License-Identifier: GPL-2.0
/* The events ring's consumer: each BPF ring buffer's data mapped once. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "ringread.h"

/*
 * Why not libbpf's ring_buffer: it maps the data area twice in a row, so
 * that a record running past the end reads as one piece, and the kernel
 * populates both mappings when they are made (remap_vmalloc_range): a
 * 4 MiB ring cost 8 MiB of the recorder's RSS. Mapped once, the one
 * record in a lap that wraps is copied out instead.
 */
struct ring {
	int fd;
	ringread_fn fn;
	void *ctx;
	uint64_t *cons;		/* the consumer page: read-write */
	uint8_t *prod_map;	/* the producer page, then the data */
	uint64_t size;		/* data bytes: a power of 2 */
	size_t page;
};

struct ringread {
	struct ring *rings;
	int nrings;
	int epfd;
	uint8_t *bounce;
	size_t bounce_cap;
};

/*
 * The consumer position is handed back to the producers every this many
 * bytes of a walk, and at its end: not after every record. The kernel
 * reads it on every reservation, so each store moved its cache line from
 * the producing CPU to this one and back. 64 KiB is 1.5% of the default
 * ring, ~600 sched records.
 */
#define CONS_RELEASE_BYTES	(64u << 10)

long ring_walk(const uint8_t *data, uint64_t size, uint64_t *cons, const uint64_t *prod,
	       uint8_t **bounce, size_t *bounce_cap, ringread_fn fn, void *ctx)
{
	uint64_t c = __atomic_load_n(cons, __ATOMIC_ACQUIRE), p, mask = size - 1;
	uint64_t released = c;
	long n = 0;
	int err;

	for (;;) {
		bool progress = false;

		p = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
		while (c < p) {
			uint64_t off = c & mask;
			/* 8-byte aligned: a header never wraps */
			uint32_t len = __atomic_load_n((const uint32_t *)(data + off), __ATOMIC_ACQUIRE);
			uint32_t rec = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			uint64_t start = (off + BPF_RINGBUF_HDR_SZ) & mask;
			uint8_t *payload;

			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out;	/* not committed yet: later records wait */
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				payload = (uint8_t *)data + start;
				if (start + rec > size) {
					uint64_t first = size - start;

					if (rec > *bounce_cap) {
						uint8_t *b = realloc(*bounce, rec);

						if (!b) {
							n = -ENOMEM;
							goto out;
						}
						*bounce = b;
						*bounce_cap = rec;
					}
					memcpy(*bounce, data + start, first);
					memcpy(*bounce + first, data, rec - first);
					payload = *bounce;
				}
				err = fn(ctx, payload, rec);
				if (err < 0) {
					/* this record is taken: the next call goes on after it */
					c += (rec + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
					n = err;
					goto out;
				}
				n++;
			}
			c += (rec + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
			/* the producers may reuse the space from then on */
			if (c - released >= CONS_RELEASE_BYTES) {
				__atomic_store_n(cons, c, __ATOMIC_RELEASE);
				released = c;
			}
			progress = true;
		}
		if (!progress)
			break;
	}
out:
	if (c != released)
		__atomic_store_n(cons, c, __ATOMIC_RELEASE);
	return n;
}

struct ringread *ringread_new(void)
{
	struct ringread *rr = calloc(1, sizeof(*rr));

	if (!rr)
		return NULL;
	rr->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rr->epfd < 0) {
		int err = errno;

		free(rr);
		errno = err;
		return NULL;
	}
	return rr;
}

static void ring_unmap(struct ring *r)
{
	if (r->cons && r->cons != MAP_FAILED)
		munmap(r->cons, r->page);
	if (r->prod_map && r->prod_map != MAP_FAILED)
		munmap(r->prod_map, r->page + r->size);
}

int ringread_add(struct ringread *rr, int map_fd, ringread_fn fn, void *ctx)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct epoll_event ev = { .events = EPOLLIN };
	struct ring r = { .fd = map_fd, .fn = fn, .ctx = ctx }, *rings;
	int err = 0;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	r.size = info.max_entries;
	r.page = (size_t)sysconf(_SC_PAGESIZE);
	rings = realloc(rr->rings, (rr->nrings + 1) * sizeof(*rings));
	if (!rings)
		return -ENOMEM;
	rr->rings = rings;
	r.cons = mmap(NULL, r.page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (r.cons == MAP_FAILED)
		err = -errno;
	if (!err) {
		r.prod_map = mmap(NULL, r.page + r.size, PROT_READ, MAP_SHARED, map_fd, r.page);
		if (r.prod_map == MAP_FAILED)
			err = -errno;
	}
	ev.data.u32 = rr->nrings;
	if (!err && epoll_ctl(rr->epfd, EPOLL_CTL_ADD, map_fd, &ev))
		err = -errno;
	if (err) {
		ring_unmap(&r);
		return err;
	}
	rr->rings[rr->nrings++] = r;
	return 0;
}

static long ring_consume(struct ringread *rr, struct ring *r)
{
	return ring_walk(r->prod_map + r->page, r->size, r->cons, (const uint64_t *)r->prod_map,
			 &rr->bounce, &rr->bounce_cap, r->fn, r->ctx);
}

int ringread_consume(struct ringread *rr)
{
	long total = 0, n;

	for (int i = 0; i < rr->nrings; i++) {
		n = ring_consume(rr, &rr->rings[i]);
		if (n < 0)
			return (int)n;
		total += n;
	}
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

int ringread_poll(struct ringread *rr, int timeout_ms)
{
	struct epoll_event evs[8];
	int n = epoll_wait(rr->epfd, evs, 8, timeout_ms);

	if (n < 0)
		return -errno;
	/* woken or not: every ring is emptied (producers rarely wake us) */
	return ringread_consume(rr);
}

void ringread_free(struct ringread *rr)
{
	if (!rr)
		return;
	for (int i = 0; i < rr->nrings; i++)
		ring_unmap(&rr->rings[i]);
	close(rr->epfd);
	free(rr->rings);
	free(rr->bounce);
	free(rr);
}
