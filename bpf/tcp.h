/* SPDX-License-Identifier: GPL-2.0 */
/* Event ABI of the tcp collector, shared by tcp.bpf.c and user/collectors/col_tcp.c. */
#ifndef DISCO_TCP_H
#define DISCO_TCP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TCP_MAX_PORTS	16	/* --port filter entries */
#define TCP_COMM_LEN	16

/* Record kinds (first byte of every event, so the reader can validate). */
enum tcp_event_kind {
	TCP_EV_LIFE = 1,	/* one closed connection */
};

/* tcp_life.flags */
enum tcp_life_flags {
	TCP_LIFE_ACTIVE		= 1 << 0,	/* we sent the SYN (connect) */
	TCP_LIFE_OWNER_GUESSED	= 1 << 1,	/* pid/comm taken at close, not
						 * from a task holding the socket */
	TCP_LIFE_RST_RECEIVED	= 1 << 2,
	TCP_LIFE_RST_SENT	= 1 << 3,
	TCP_LIFE_OPEN		= 1 << 4,	/* still open at the session end:
						 * oldstate = newstate = its state,
						 * times and bytes so far */
};

/*
 * One connection, emitted when it reaches TCP_CLOSE or, if it is still
 * open then, at the session end (TCP_LIFE_OPEN). Addresses are in
 * network byte order (an IPv4 address in the first 4 bytes), ports in host
 * order. tx_bytes is bytes_acked (what the peer confirmed), rx_bytes is
 * bytes_received, retransmits is total_retrans (segments).
 */
struct tcp_life {
	__u8 kind;		/* TCP_EV_LIFE */
	__u8 oldstate;		/* the final transition oldstate -> TCP_CLOSE */
	__u8 newstate;
	__u8 flags;		/* enum tcp_life_flags */
	__u16 family;		/* AF_INET (2) or AF_INET6 (10) */
	__u16 sport;		/* local port */
	__u16 dport;		/* remote port */
	__u16 pad;
	__u32 pid;		/* tgid of the owning process */
	__u32 retransmits;
	__u32 netns;		/* network namespace inode */
	__u64 time_ns;		/* CLOCK_MONOTONIC at close (or session end) */
	__u64 duration_ns;	/* first state change seen -> close (or end) */
	__u64 connect_ns;	/* SYN_SENT -> ESTABLISHED, 0 if passive/failed */
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 srtt_ns;		/* smoothed RTT at close */
	__u64 cgroup_id;	/* of the owning process */
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TCP_COMM_LEN];
};

_Static_assert(sizeof(struct tcp_life) == 128, "tcp_life ABI");

/* Index of the per-CPU "counters" array. */
enum tcp_counter {
	TCP_C_ACTIVE_OPENS,
	TCP_C_PASSIVE_OPENS,
	TCP_C_CLOSED,
	TCP_C_RETRANSMITS,	/* segments, SYN-ACKs included */
	TCP_C_SYNACK_RETRANSMITS,
	TCP_C_RESETS_SENT,
	TCP_C_RESETS_RECEIVED,
	TCP_C_CONNECT_FAILED,	/* SYN_SENT -> CLOSE */
	TCP_C_RCVQUEUE_FULL,	/* sock:sock_rcvqueue_full on TCP sockets */
	TCP_C_MEM_LIMIT,	/* sock:sock_exceed_buf_limit on TCP */
	TCP_C_UNTRACKED,	/* connections not tracked: socket map full */
	TCP_NCOUNTERS,
};

/* Index of the per-CPU "hists" array (struct hist, bpf/hist.h). */
enum tcp_hist {
	TCP_H_CONNECT,		/* SYN_SENT -> ESTABLISHED, ns */
	TCP_H_DURATION,		/* connection lifetime, ns */
	TCP_H_SRTT,		/* smoothed RTT samples, ns */
	TCP_NHISTS,
};

#endif
