/* SPDX-License-Identifier: GPL-2.0 */
/* app collector ABI (bpf/app.bpf.c <-> user/collectors/col_app.c): request/response turns. */
#ifndef DISCO_APP_H
#define DISCO_APP_H

#include "hist.h"

#define APP_ROUTE_LEN	64	/* normalised HTTP path, NUL padded (a power of two) */
#define APP_MAX_PORTS	16	/* --port */
#define APP_MAX_LISTENERS 512	/* (process, port) rows */
#define APP_MAX_ROUTES	1024	/* (process, port, method, route) rows */
/* bytes of a request or response the BPF side reads to recognise HTTP */
#define APP_PEEK_LEN	64

#define APP_EV_OUTLIER	1

/* HTTP methods recognised in a request line; 0: not HTTP. */
enum app_method {
	APP_M_NONE = 0,
	APP_M_GET,
	APP_M_HEAD,
	APP_M_POST,
	APP_M_PUT,
	APP_M_DELETE,
	APP_M_PATCH,
	APP_M_OPTIONS,
	APP_M_OTHER,	/* an upper-case token then " /": CONNECT, TRACE, extensions */
	APP_NMETHODS,
};

/* Index of app_listener.status[]: 1xx..5xx by class, [0] anything else. */
#define APP_NSTATUS 6

struct app_listener_key {
	__u32 tgid;
	__u16 port;		/* local port of the accepted connection, host order */
	__u16 pad;
};

_Static_assert(sizeof(struct app_listener_key) == 8, "app_listener_key ABI");

/*
 * Per listening service (process, port). A turn is counted when its
 * response starts, and its latency is moved to the right bucket while the
 * response is still being written (first byte in -> last byte out).
 */
struct app_listener {
	struct hist latency;	/* per turn, ns */
	__u64 bytes_in;		/* request bytes of counted turns */
	__u64 bytes_out;	/* response bytes */
	__u64 http_responses;	/* sends that start with an HTTP/1.x status line */
	__u64 status[APP_NSTATUS];
	__u64 aborted;		/* requests closed before any response */
	__u64 inflight;		/* requests received, response not started */
	__u64 max_inflight;
	__u64 outliers;
	__u64 http_turns;	/* turns whose request parsed as HTTP */
	char comm[16];
};

_Static_assert(sizeof(struct app_listener) == sizeof(struct hist) + 14 * 8 + 16,
	       "app_listener ABI");

struct app_route_key {
	__u32 tgid;
	__u16 port;
	__u8 method;		/* enum app_method */
	__u8 pad;
	char route[APP_ROUTE_LEN];
};

_Static_assert(sizeof(struct app_route_key) == 8 + APP_ROUTE_LEN, "app_route_key ABI");

struct app_route {
	struct hist latency;
	__u64 status[APP_NSTATUS];
};

_Static_assert(sizeof(struct app_route) == sizeof(struct hist) + APP_NSTATUS * 8,
	       "app_route ABI");

/* An outlier turn: over the latency threshold (--min-latency). */
struct app_outlier {
	__u8 kind;		/* APP_EV_OUTLIER */
	__u8 method;		/* enum app_method, 0: not HTTP */
	__u16 port;
	__u16 status;		/* HTTP status of the (first) response, 0: none */
	__u16 pad;
	__u32 pid;		/* tgid that served the turn */
	__u32 tid;
	__u64 start_ns;		/* first byte in, CLOCK_MONOTONIC */
	__u64 latency_ns;	/* first byte in -> last byte out seen so far */
	__u64 bytes_in;
	__u64 bytes_out;
	char comm[16];
	char route[APP_ROUTE_LEN];
};

_Static_assert(sizeof(struct app_outlier) == 128, "app_outlier ABI");

/* Index of the per-CPU "counters" array. */
enum app_counter {
	APP_C_RECV_CALLS,	/* receives on tracked server sockets */
	APP_C_SEND_CALLS,
	APP_C_TURNS,
	APP_C_ROUTES_FULL,	/* route table full: counted under "(other)" */
	APP_C_LISTENERS_FULL,	/* listener table full: turn not counted */
	APP_C_SOCKS_FULL,	/* per-connection table full */
	APP_C_NO_BUFFER,	/* HTTP not checked: the syscall's buffer was not found */
	APP_NCOUNTERS,
};

#endif
