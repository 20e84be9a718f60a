// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: the app collector's tp_btf hooks with empty programs
 * (every socket send and receive fires the first two).
 */
#include "empty.bpf.h"

EMPTY(sock_recv_length)
EMPTY(sock_send_length)
EMPTY(inet_sock_set_state)
