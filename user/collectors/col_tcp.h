/* SPDX-License-Identifier: GPL-2.0 */
/* Pure helpers of the tcp collector, exported for the unit tests. */
#ifndef DISCO_COL_TCP_H
#define DISCO_COL_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* The /proc/net/netstat TcpExt counters reported as "netstat_delta". */
enum tcp_netstat_field {
	TCP_NS_LISTEN_OVERFLOWS,
	TCP_NS_LISTEN_DROPS,
	TCP_NS_BACKLOG_DROP,
	TCP_NS_PRUNE_CALLED,
	TCP_NS_RCV_PRUNED,
	TCP_NS_REQ_Q_FULL_DROP,	/* SYNs dropped for a full request queue */
	TCP_NS_COUNT,
};

extern const char *const tcp_netstat_names[TCP_NS_COUNT];

struct tcp_netstat {
	uint64_t v[TCP_NS_COUNT];
	uint32_t found;		/* bit per field present in the text */
};

/*
 * Find the values of names[0..n) in section ("TcpExt", "Tcp", ...) of
 * /proc/net/netstat or /proc/net/snmp text: a header line "Sec: a b c"
 * followed by a value line "Sec: 1 2 3". text need not be NUL-terminated.
 * Sets bit i of *found for each name present. 0, -ENOENT when the section
 * is missing, -EINVAL when it is malformed (counts differ, not a number).
 */
int proc_net_pairs(const char *text, size_t len, const char *section,
		   const char *const *names, size_t n, uint64_t *vals,
		   uint32_t *found);
int tcp_netstat_parse(const char *text, size_t len, struct tcp_netstat *out);
/*
 * {"ListenOverflows": now - start, ...} for the fields present in both;
 * a counter that went backwards (netns change, wrap) counts as 0.
 */
json_t *tcp_netstat_delta(const struct tcp_netstat *start,
			  const struct tcp_netstat *now);

/* "192.0.2.1" or "2001:db8::1" from a tcp_life address (network order). */
const char *tcp_addr_str(int family, const uint8_t addr[16], char *buf,
			 size_t len);

#endif
