// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: the hooks of -e sched,offcpu together (tp_btf), one
 * empty program on each, sched_switch included once (one program does
 * both collectors' part there).
 */
#include "empty.bpf.h"

EMPTY(sched_switch)
EMPTY(sched_wakeup)
EMPTY(sched_wakeup_new)
EMPTY(sched_migrate_task)
EMPTY(sched_process_exec)
EMPTY(sched_waking)
EMPTY(sys_exit)
EMPTY(sched_process_exit)
