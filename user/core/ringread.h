/* SPDX-License-Identifier: GPL-2.0 */
/* The events ring's consumer: each BPF ring buffer's data mapped once. */
#ifndef DISCO_RINGREAD_H
#define DISCO_RINGREAD_H

#include <stddef.h>
#include <stdint.h>

/* Called with each record's payload; a negative return stops the walk. */
typedef int (*ringread_fn)(void *ctx, void *rec, size_t size);

struct ringread;

/* An empty set of rings; NULL and errno on failure. */
struct ringread *ringread_new(void);
/* Map the BPF_MAP_TYPE_RINGBUF map_fd and consume it with fn; 0 or -errno. */
int ringread_add(struct ringread *rr, int map_fd, ringread_fn fn, void *ctx);
/* Wait up to timeout_ms for a wakeup, then empty every ring: records, or -errno. */
int ringread_poll(struct ringread *rr, int timeout_ms);
/* Empty every ring without waiting: records, or -errno. */
int ringread_consume(struct ringread *rr);
void ringread_free(struct ringread *rr);

/*
 * Walk the committed records of one ring (pure: tests feed it memory):
 * data is the data area of size bytes (a power of 2), *cons and *prod
 * the consumer and producer positions as the kernel keeps them. A record
 * that runs past the end continues at the start (the kernel maps the
 * data twice so that it reads as one piece; here it is copied into
 * *bounce, grown as needed). *cons advances past every record handed
 * over or discarded. Records, or the callback's negative return, or
 * -ENOMEM.
 */
long ring_walk(const uint8_t *data, uint64_t size, uint64_t *cons, const uint64_t *prod,
	       uint8_t **bounce, size_t *bounce_cap, ringread_fn fn, void *ctx);

#endif
