// SPDX-License-Identifier: GPL-2.0
/* Benchmark floor: the offcpu collector's hooks (tp_btf) with empty programs. */
#include "empty.bpf.h"

EMPTY(sched_switch)
EMPTY(sched_waking)
EMPTY(sys_exit)
EMPTY(sched_process_exit)
