/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Block IO collector ABI shared by bio.bpf.c and user/collectors/col_bio.c: the
 * outlier event, the map keys and values, and the op decoding that both
 * sides must agree on (pure functions, unit-tested in userspace).
 */
#ifndef DISCO_BIO_H
#define DISCO_BIO_H

#include "hist.h"

#ifdef __VMLINUX_H__
#define BIO_INLINE static __always_inline
#else
#define BIO_INLINE static inline
#endif

/* Operations we report; everything else is "other". Stored in sessions. */
enum bio_op {
	BIO_OP_READ = 0,
	BIO_OP_WRITE = 1,
	BIO_OP_FLUSH = 2,
	BIO_OP_DISCARD = 3,
	BIO_OP_OTHER = 4,
	BIO_NOPS,
};

/*
 * Kernel request operation numbers (enum req_op in include/linux/blk_types.h,
 * the low REQ_OP_BITS of cmd_flags since 4.10, ef295ecf090d "block: better
 * op and flags encoding"). They are ABI-stable: blktrace exports them.
 */
#define KREQ_OP_MASK		0xffu
#define KREQ_OP_READ		0u
#define KREQ_OP_WRITE		1u
#define KREQ_OP_FLUSH		2u
#define KREQ_OP_DISCARD		3u
#define KREQ_OP_SECURE_ERASE	5u

BIO_INLINE __u8 bio_op_from_cmd_flags(__u32 cmd_flags)
{
	switch (cmd_flags & KREQ_OP_MASK) {
	case KREQ_OP_READ:
		return BIO_OP_READ;
	case KREQ_OP_WRITE:
		return BIO_OP_WRITE;
	case KREQ_OP_FLUSH:
		return BIO_OP_FLUSH;
	case KREQ_OP_DISCARD:
	case KREQ_OP_SECURE_ERASE:
		return BIO_OP_DISCARD;
	default:
		return BIO_OP_OTHER;
	}
}

BIO_INLINE __u8 bio_op_from_letter(char c)
{
	switch (c) {
	case 'R':
		return BIO_OP_READ;
	case 'W':
		return BIO_OP_WRITE;
	case 'F':
		return BIO_OP_FLUSH;
	case 'D':
		return BIO_OP_DISCARD;
	default:
		return BIO_OP_OTHER;
	}
}

/*
 * Classic tracepoints only carry blk_fill_rwbs()'s string: an optional
 * leading 'F' for REQ_PREFLUSH, then the op letter (R, W, D, DE, F, N),
 * then flag letters (F for FUA, A, S, M). So "F" alone and "FS" are flush
 * ops, "FW" a write with a preflush, "WFS" a FUA write. Only the first two
 * characters are needed.
 */
BIO_INLINE __u8 bio_op_from_rwbs(char c0, char c1)
{
	if (c0 == 'F' && (c1 == 'R' || c1 == 'W' || c1 == 'D' || c1 == 'N'))
		return bio_op_from_letter(c1);
	return bio_op_from_letter(c0);
}

/* Kernel dev_t: 12-bit major, 20-bit minor (MINORBITS), not glibc's. */
#define BIO_MINORBITS		20
#define BIO_MKDEV(ma, mi)	(((__u32)(ma) << BIO_MINORBITS) | (__u32)(mi))
#define BIO_MAJOR(dev)		((__u32)(dev) >> BIO_MINORBITS)
#define BIO_MINOR(dev)		((__u32)(dev) & ((1u << BIO_MINORBITS) - 1))

#define BIO_DISKS_MAX		64
#define BIO_DISK_NAME_LEN	32
#define BIO_COMM_LEN		16

/* Per disk and op statistics (hash map "stats"). */
struct bio_stat_key {
	__u32 dev;
	__u32 op;
};

struct bio_stat {
	struct hist latency;	/* issue -> complete, ns */
	struct hist queue;	/* insert -> issue, ns (only requests inserted) */
	__u64 requests;
	__u64 bytes;
};

/* Per submitting process (hash map "procs", keyed by tgid). */
struct bio_proc {
	__u64 requests;
	__u64 bytes;
	__u64 io_ns;		/* sum of service latencies */
	__u64 queue_ns;		/* sum of queue latencies */
	__u64 max_latency_ns;
	__u64 read_bytes;
	__u64 write_bytes;
	char comm[BIO_COMM_LEN];
};

/* Outlier event on the ring buffer (queue + service >= min latency). */
struct bio_event {
	__u64 time_ns;		/* completion, CLOCK_MONOTONIC */
	__u64 sector;
	__u64 queue_ns;		/* 0 if the request was never inserted */
	__u64 latency_ns;	/* issue -> complete */
	__u32 pid;		/* submitter's tgid, 0 if unknown */
	__u32 tid;
	__u32 dev;		/* kernel dev_t of the whole disk */
	__u32 size_bytes;
	__u8 op;		/* enum bio_op */
	__u8 error;		/* non-zero: the request failed */
	__u8 pad[6];
	char comm[BIO_COMM_LEN];
	char disk[BIO_DISK_NAME_LEN];	/* "" when the hook could not read it */
};

_Static_assert(sizeof(struct bio_stat_key) == 8, "bio_stat_key ABI");
_Static_assert(sizeof(struct bio_stat) == 2 * sizeof(struct hist) + 16, "bio_stat ABI");
_Static_assert(sizeof(struct bio_proc) == 72, "bio_proc ABI");
_Static_assert(sizeof(struct bio_event) == 104, "bio_event ABI");

#endif
