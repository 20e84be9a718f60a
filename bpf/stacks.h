/* SPDX-License-Identifier: GPL-2.0 */
/* ABI shared by the stack collectors (cpu, offcpu): the process announcement. */
#ifndef DISCO_STACKS_ABI_H
#define DISCO_STACKS_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define STACKS_MAX_PROCS 16384	/* processes announced to userspace */

enum stacks_event_type {
	STACKS_EV_PROC = 1,	/* a process's first stack (cpu: or first after its exec) */
};

/* Lets userspace read a process's maps while it is alive. */
struct stacks_proc_event {
	__u32 type;
	__u32 tgid;
	char comm[16];
};
_Static_assert(sizeof(struct stacks_proc_event) == 24, "stacks_proc_event ABI");

#endif
