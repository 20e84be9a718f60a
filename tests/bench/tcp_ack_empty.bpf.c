// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor of `disco record -e tcp --rtt-per-ack`: the default
 * hooks and tcp_probe (every ACK processed), with empty programs.
 */
#include "tcp_empty.bpf.c"

EMPTY(tcp_probe)
