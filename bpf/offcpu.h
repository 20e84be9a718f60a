/* SPDX-License-Identifier: GPL-2.0 */
/* offcpu collector: map and event ABI shared with user/collectors/col_offcpu.c. */
#ifndef DISCO_OFFCPU_H
#define DISCO_OFFCPU_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OFFCPU_USTACK_DEPTH 127		/* user stacks: the stack map's depth */
#define OFFCPU_KSTACK_DEPTH 64		/* kernel stacks taken at switch-in */
#define OFFCPU_MAX_STACKS 16384
#define OFFCPU_MAX_KEYS 16384

/* ustack values that are not stack map ids */
#define OFFCPU_NO_USTACK (-2)		/* kernel thread: no user side */
#define OFFCPU_USTACK_MISSED (-3)	/* blocked again before returning to user space */
#define OFFCPU_USTACK_EXITED (-4)	/* the thread exited before returning to user space */

/*
 * The maps of bpf/offcpu_switch.bpf.h: when sched and offcpu both run,
 * sched's object makes them (its sched_switch program does offcpu's part)
 * and offcpu's object reuses them (struct collector's shared_maps).
 */
#define OFFCPU_SHARED_MAPS \
	"task_ts,offcpu_kstacks,offcpu_scratch,offcpu_blocked,offcpu_wakers,offcpu_counters,offcpu_pending," \
	"offcpu_cpu_clock"

/* Key of the "blocked" hash: time blocked per (thread group, stacks). */
struct offcpu_key {
	__u32 tgid;
	__s32 ustack;		/* stack map id of the user stack, or one of the above */
	__u64 kstack;		/* hash of the kernel stack (key of "kstacks"), 0 if none */
	char comm[16];
};
_Static_assert(sizeof(struct offcpu_key) == 32, "offcpu_key ABI");

struct offcpu_val {
	__u64 blocked_ns;
	__u64 count;
};
_Static_assert(sizeof(struct offcpu_val) == 16, "offcpu_val ABI");

/* Key of the "wakers" hash: long blocks with the stack that ended them. */
struct offcpu_wkey {
	struct offcpu_key blocked;
	__u32 waker_tgid;
	__s32 waker_ustack;
	__s32 waker_kstack;	/* stack map id */
	__u32 pad;
	char waker_comm[16];
};
_Static_assert(sizeof(struct offcpu_wkey) == 64, "offcpu_wkey ABI");

struct offcpu_kstack {
	__u64 ips[OFFCPU_KSTACK_DEPTH];
};

enum offcpu_counter {
	OFFCPU_C_BLOCKS = 0,	/* blocks of at least --min-block */
	OFFCPU_C_SHORT,		/* shorter blocks, not attributed */
	OFFCPU_C_KEYS_FULL,	/* table full: a block lost */
	OFFCPU_C_USTACK_ERR,
	OFFCPU_C_KSTACK_ERR,
	OFFCPU_C_MISSED,	/* user stack not captured (blocked again first) */
	OFFCPU_NCOUNTERS,
};

/* Events: struct stacks_proc_event (bpf/stacks.h), nothing else. */

#endif
