/* SPDX-License-Identifier: GPL-2.0 */
/* Header of every record in the events ring, which all collectors share. */
#ifndef DISCO_RING_H
#define DISCO_RING_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Written by ring_reserve() (bpf/common.bpf.h) in front of the
 * collector's own event; the recorder dispatches on it and strips it.
 * A record may carry nrec events of one size back to back (a batch,
 * ring_output_batch()): the recorder splits it into nrec events.
 */
struct ring_hdr {
	__u16 collector;	/* struct collector.id */
	__u16 nrec;		/* events in the record; 0 is one, as 1 */
	__u32 pad2;
};

_Static_assert(sizeof(struct ring_hdr) == 8, "ring_hdr ABI");

#endif
