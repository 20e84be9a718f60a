// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: the tcp collector's tp_btf hooks with empty programs
 * (loopback churn fires inet_sock_set_state; the others stay quiet but
 * are attached as disco attaches them). tcp_ack_empty.bpf.c adds
 * tcp_probe, which --rtt-per-ack hooks.
 */
#include "empty.bpf.h"

EMPTY(inet_sock_set_state)
EMPTY(tcp_retransmit_skb)
EMPTY(tcp_retransmit_synack)
EMPTY(tcp_send_reset)
EMPTY(tcp_receive_reset)
EMPTY(sock_rcvqueue_full)
EMPTY(sock_exceed_buf_limit)
