// SPDX-License-Identifier: GPL-2.0
/* tcp collector, userspace side: options, load, maps and /proc to JSON, render. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "col_tcp.h"
#include "collector.h"
#include "hist.h"
#include "log.h"
#include "untrusted.h"
#include "bpf/tcp.h"
#include "tcp.skel.h"
#include "clock.h"

#define TCP_MAX_CONNECTIONS_JSON 20000
#define TCP_MAX_ENDPOINTS 4096
#define TCP_AF_INET 2
#define TCP_AF_INET6 10

enum {
	H_STATE,
	H_RETRANS,
	H_SYNACK,
	H_RST_SEND,
	H_RST_RECV,
	H_PROBE,
	H_RCVSPACE,
	H_RCVQ,
	H_MEMLIM,
	H_COUNT,
};

#define CHAIN_BTF_RAW (M(HOOK_TP_BTF) | M(HOOK_RAW_TP))

static const struct hook_spec tcp_hooks[H_COUNT] = {
	[H_STATE] = { "sock:inet_sock_set_state", HOOK_CHAIN_TP, false,
		      "connection lifecycle, connect latency, opens/closes",
		      .progs = "tcp_state" },
	[H_RETRANS] = { "tcp:tcp_retransmit_skb", HOOK_CHAIN_TP, true,
			"retransmit counter (live; per-connection counts remain)",
			.progs = "tcp_retrans" },
	[H_SYNACK] = { "tcp:tcp_retransmit_synack", HOOK_CHAIN_TP, true,
		       "SYN-ACK retransmits in the retransmit counter", .progs = "tcp_synack" },
	[H_RST_SEND] = { "tcp:tcp_send_reset", HOOK_CHAIN_TP, true,
			 "resets sent", .progs = "tcp_rst_send" },
	[H_RST_RECV] = { "tcp:tcp_receive_reset", HOOK_CHAIN_TP, true,
			 "resets received", .progs = "tcp_rst_recv" },
	[H_PROBE] = { "tcp:tcp_probe", HOOK_CHAIN_TP, true,
		      "smoothed RTT samples per ACK (tcp_rcv_space_adjust used instead)",
		      .progs = "tcp_probe" },
	/* Two RTT sources would count every sample twice: one of them. */
	[H_RCVSPACE] = { "tcp:tcp_rcv_space_adjust", HOOK_CHAIN_TP, true,
			 "smoothed RTT samples when tcp_probe is missing", "tcp:tcp_probe",
			 .progs = "tcp_rcvspace" },
	[H_RCVQ] = { "sock:sock_rcvqueue_full", CHAIN_BTF_RAW, true,
		     "receive queue full counter (its classic record has no socket)",
		     .progs = "tcp_rcvq" },
	[H_MEMLIM] = { "sock:sock_exceed_buf_limit", HOOK_CHAIN_TP, true,
		       "socket memory limit counter", .progs = "tcp_memlim" },
};

static const struct col_option tcp_options[] = {
	{ "port", true, "only connections with this local or remote port (repeatable, up to 16)" },
	{ "ipv4", false, "only IPv4 connections" },
	{ "ipv6", false, "only IPv6 connections" },
	{ "rtt-per-ack", false, "smoothed RTT sampled on every ACK (tcp_probe) instead of once per "
				"connection at its close; costs per packet" },
	{ NULL, false, NULL },
};

struct tcp_opts {
	uint16_t ports[TCP_MAX_PORTS];
	unsigned int nports;
	bool v4, v6;
	bool rtt_per_ack;
};

static const struct tcp_opts tcp_opts_default;

static int tcp_set_option(void *opts, const char *name, const char *arg)
{
	struct tcp_opts *tcp_opt = opts;
	unsigned long v;
	char *end;

	if (!strcmp(name, "port")) {
		if (!arg || !*arg)
			return -EINVAL;
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || v == 0 || v > 65535 || arg[0] == '-')
			return -EINVAL;
		if (tcp_opt->nports == TCP_MAX_PORTS) {
			log_err("tcp: at most %d --port options", TCP_MAX_PORTS);
			return -E2BIG;
		}
		tcp_opt->ports[tcp_opt->nports++] = (uint16_t)v;
		return 0;
	}
	if (!strcmp(name, "ipv4")) {
		tcp_opt->v4 = true;
		return 0;
	}
	if (!strcmp(name, "ipv6")) {
		tcp_opt->v6 = true;
		return 0;
	}
	if (!strcmp(name, "rtt-per-ack")) {
		tcp_opt->rtt_per_ack = true;
		return 0;
	}
	return -EINVAL;
}

/* ---- /proc/net parsing (pure) ---------------------------------------- */

const char *const tcp_netstat_names[TCP_NS_COUNT] = {
	[TCP_NS_LISTEN_OVERFLOWS] = "ListenOverflows",
	[TCP_NS_LISTEN_DROPS] = "ListenDrops",
	[TCP_NS_BACKLOG_DROP] = "TCPBacklogDrop",
	[TCP_NS_PRUNE_CALLED] = "PruneCalled",
	[TCP_NS_RCV_PRUNED] = "RcvPruned",
	[TCP_NS_REQ_Q_FULL_DROP] = "TCPReqQFullDrop",
};

/* Next line of [*p, end) into line and llen, advancing *p; false at the end. */
static bool next_line(const char **p, const char *end, const char **line, size_t *llen)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', end - *p);
	*line = *p;
	*llen = (nl ? nl : end) - *p;
	*p = nl ? nl + 1 : end;
	return true;
}

/* Does the line start with "section:"? Then return what follows. */
static const char *section_body(const char *line, size_t len, const char *section,
				size_t *blen)
{
	size_t sl = strlen(section);

	if (len <= sl || memcmp(line, section, sl) || line[sl] != ':')
		return NULL;
	*blen = len - sl - 1;
	return line + sl + 1;
}

/* Next space-separated token of [*p, end). */
static bool next_tok(const char **p, const char *end, const char **tok, size_t *tlen)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r'))
		(*p)++;
	if (*p >= end)
		return false;
	*tok = *p;
	while (*p < end && **p != ' ' && **p != '\t' && **p != '\r')
		(*p)++;
	*tlen = *p - *tok;
	return true;
}

static int parse_u64_tok(const char *t, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	if (!len || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -EINVAL;
		if (x > (UINT64_MAX - (t[i] - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (t[i] - '0');
	}
	*v = x;
	return 0;
}

int proc_net_pairs(const char *text, size_t len, const char *section,
		   const char *const *names, size_t n, uint64_t *vals,
		   uint32_t *found)
{
	const char *p = text, *end = text + len, *line, *hdr = NULL, *body;
	size_t llen, hlen = 0, blen;

	*found = 0;
	while (next_line(&p, end, &line, &llen)) {
		const char *hp, *vp, *ht, *vt;
		size_t htl, vtl;
		bool hok, vok;

		body = section_body(line, llen, section, &blen);
		if (!body)
			continue;
		if (!hdr) {
			hdr = body;
			hlen = blen;
			continue;
		}
		/* body is the value line belonging to hdr */
		hp = hdr;
		vp = body;
		for (;;) {
			hok = next_tok(&hp, hdr + hlen, &ht, &htl);
			vok = next_tok(&vp, body + blen, &vt, &vtl);
			if (!hok && !vok)
				return 0;
			if (hok != vok)
				return -EINVAL;
			for (size_t i = 0; i < n; i++) {
				if (strlen(names[i]) != htl || memcmp(names[i], ht, htl))
					continue;
				if (parse_u64_tok(vt, vtl, &vals[i]))
					return -EINVAL;
				*found |= 1u << i;
			}
		}
	}
	return hdr ? -EINVAL : -ENOENT;	/* a header without its values */
}

int tcp_netstat_parse(const char *text, size_t len, struct tcp_netstat *out)
{
	memset(out, 0, sizeof(*out));
	return proc_net_pairs(text, len, "TcpExt", tcp_netstat_names, TCP_NS_COUNT,
			      out->v, &out->found);
}

json_t *tcp_netstat_delta(const struct tcp_netstat *start, const struct tcp_netstat *now)
{
	json_t *o = json_object();

	for (int i = 0; i < TCP_NS_COUNT; i++) {
		if (!(start->found & now->found & (1u << i)))
			continue;
		json_object_set_new(o, tcp_netstat_names[i], json_integer(
			(json_int_t)(now->v[i] >= start->v[i] ? now->v[i] - start->v[i] : 0)));
	}
	return o;
}

const char *tcp_addr_str(int family, const uint8_t addr[16], char *buf, size_t len)
{
	if (!inet_ntop(family == TCP_AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* /proc/net/snmp Tcp: counters, for the retransmit ratio of the netns. */
enum { SNMP_OUT_SEGS, SNMP_RETRANS_SEGS, SNMP_OUT_RSTS, SNMP_ESTAB_RESETS, SNMP_COUNT };
static const char *const snmp_names[SNMP_COUNT] = {
	"OutSegs", "RetransSegs", "OutRsts", "EstabResets",
};

struct tcp_priv {
	struct tcp_netstat ns_start;
	uint64_t snmp_start[SNMP_COUNT];
	uint32_t snmp_found;
	int ns_err;
	uint64_t start_ns;
};

static int read_text(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t r;

	*len = 0;
	if (fd < 0)
		return -errno;
	while (*len < cap && (r = read(fd, buf + *len, cap - *len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		*len += r;
	}
	close(fd);
	return err;
}

static int read_netstat(struct tcp_netstat *ns)
{
	static char buf[65536];
	size_t len;
	int err = read_text("/proc/net/netstat", buf, sizeof(buf), &len);

	return err ?: tcp_netstat_parse(buf, len, ns);
}

static int read_snmp(uint64_t *vals, uint32_t *found)
{
	static char buf[65536];
	size_t len;
	int err = read_text("/proc/net/snmp", buf, sizeof(buf), &len);

	*found = 0;
	return err ?: proc_net_pairs(buf, len, "Tcp", snmp_names, SNMP_COUNT, vals, found);
}


/* ---- record side ------------------------------------------------------- */

COLLECTOR_SKEL(tcp);

static int tcp_configure(struct col_run *run, const struct rec_opts *o)
{
	const struct tcp_opts *tcp_opt = run->opts;
	struct tcp_bpf *skel = run->skel;

	(void)o;
	for (unsigned int i = 0; i < tcp_opt->nports; i++)
		skel->rodata->filter_ports[i] = tcp_opt->ports[i];
	skel->rodata->filter_nports = tcp_opt->nports;
	/* --ipv4 and --ipv6 together mean both */
	skel->rodata->filter_family = tcp_opt->v4 == tcp_opt->v6 ? 0 :
				      tcp_opt->v4 ? TCP_AF_INET : TCP_AF_INET6;
	skel->rodata->retrans_has_err = probe_tp_nargs("tcp_retransmit_skb") >= 3;
	skel->rodata->rtt_per_ack = tcp_opt->rtt_per_ack;
	if (!tcp_opt->rtt_per_ack) {
		static const char why[] = "off: RTT taken once per connection, at its close "
					  "(--rtt-per-ack hooks it)";

		hook_off(run, H_PROBE, "%s", why);
		hook_off(run, H_RCVSPACE, "%s", why);
	}
	/* the walk at the end reads sockets from a syscall program (5.14+) */
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SYSCALL, BPF_FUNC_probe_read_kernel, NULL) != 1 ||
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_SYSCALL, BPF_FUNC_for_each_map_elem, NULL) != 1) {
		bpf_program__set_autoload(skel->progs.tcp_open_at_end, false);
		log_info("tcp: no syscall programs reading kernel memory here: connections open at the end are not reported");
	}
	return slots_setup("tcp", "DISCO_TCP_SLOTS", &skel->rodata->slot_mask,
			   &skel->rodata->use_slots);
}

/*
 * Every CPU's batch of closed connections to the ring: tcp_flush run on
 * each. It answers 1 when it interrupted a close filling that batch:
 * run it again (the close is done as soon as the interrupt returns). An
 * offline CPU runs nothing and holds nothing that can go out.
 */
static int tcp_flush_all(struct tcp_bpf *skel)
{
	int fd = bpf_program__fd(skel->progs.tcp_flush), ncpu = libbpf_num_possible_cpus();
	int err = ncpu > 0 ? 0 : -EINVAL;

	for (int cpu = 0; cpu < ncpu && !err; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, topts, .flags = BPF_F_TEST_RUN_ON_CPU,
			    .cpu = (__u32)cpu);
		int tries = 0;

		do {
			err = bpf_prog_test_run_opts(fd, &topts) ? -errno : 0;
		} while (!err && topts.retval == 1 && ++tries < 1000);
		if (err == -ENXIO)
			err = 0;
		else if (!err && topts.retval)
			err = -EBUSY;
	}
	return err;
}

/* Attached: the /proc/net counters the session's deltas start from. */
static int tcp_start(struct col_run *run, const struct rec_opts *o)
{
	struct tcp_priv *priv = calloc(1, sizeof(*priv));
	struct tcp_bpf *skel = run->skel;
	int err;

	(void)o;
	if (!priv)
		return -ENOMEM;
	run->priv = priv;
	/* batches only where every one can be sent out (raw_tp runs on a CPU: 5.10) */
	err = tcp_flush_all(skel);
	if (!err)
		skel->bss->use_batch = true;
	else
		log_debug("tcp: cannot run tcp_flush on each CPU (%s): a ring record per closed connection",
			  strerror(-err));
	priv->ns_err = read_netstat(&priv->ns_start);
	if (priv->ns_err)
		log_warn("tcp: /proc/net/netstat unreadable (%s): no netstat_delta",
			 strerror(-priv->ns_err));
	read_snmp(priv->snmp_start, &priv->snmp_found);
	priv->start_ns = mono_ns();
	return 0;
}

static void tcp_stop(struct col_run *run)
{
	free(run->priv);
	run->priv = NULL;
}

/*
 * Still attached, the ring not yet drained: a record per open connection,
 * then the batches (last, so that what closed during the walk goes too).
 */
static int tcp_end(struct col_run *run)
{
	struct tcp_bpf *skel = run->skel;
	int fd = bpf_program__fd(skel->progs.tcp_open_at_end), err = 0;
	LIBBPF_OPTS(bpf_test_run_opts, topts);

	/* fd < 0: not loaded on this kernel, said at configure */
	if (fd >= 0 && bpf_prog_test_run_opts(fd, &topts))
		err = -errno;
	if (skel->bss->use_batch) {
		int ferr = tcp_flush_all(skel);

		err = err ?: ferr;
	}
	return err;
}

static int read_percpu_hist(int fd, __u32 key, struct hist *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct hist *vals;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	else
		for (int i = 0; i < ncpu; i++)
			hist_merge(out, &vals[i]);
	free(vals);
	return err;
}

static json_t *tcp_collect(struct col_run *run)
{
	static const char *const hist_names[TCP_NHISTS] = {
		[TCP_H_CONNECT] = "connect_latency",
		[TCP_H_DURATION] = "connection_duration",
		[TCP_H_SRTT] = "srtt",
	};
	const struct tcp_opts *tcp_opt = run->opts;
	struct tcp_bpf *skel = run->skel;
	struct tcp_priv *priv = run->priv;
	uint64_t c[TCP_NCOUNTERS], snmp[SNMP_COUNT];
	json_t *o = json_object(), *filt, *ports;
	struct tcp_netstat ns;
	uint32_t found;
	struct hist h;
	int err;

	/* a snapshot: what the batches hold goes to the session now */
	if (skel->bss->use_batch && (err = tcp_flush_all(skel)))
		log_warn("tcp: closed connections held in the kernel not flushed: %s", strerror(-err));
	for (__u32 i = 0; i < TCP_NHISTS; i++)
		if (!read_percpu_hist(bpf_map__fd(skel->maps.hists), i, &h))
			json_object_set_new(o, hist_names[i], hist_to_json(&h, "ns"));
	if (!percpu_counters_read(bpf_map__fd(skel->maps.counters), TCP_NCOUNTERS, c)) {
		json_object_set_new(o, "counters", json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"active_opens", (json_int_t)c[TCP_C_ACTIVE_OPENS],
			"passive_opens", (json_int_t)c[TCP_C_PASSIVE_OPENS],
			"closed", (json_int_t)c[TCP_C_CLOSED],
			"retransmits", (json_int_t)c[TCP_C_RETRANSMITS],
			"synack_retransmits", (json_int_t)c[TCP_C_SYNACK_RETRANSMITS],
			"resets_sent", (json_int_t)c[TCP_C_RESETS_SENT],
			"resets_received", (json_int_t)c[TCP_C_RESETS_RECEIVED],
			"connect_failed", (json_int_t)c[TCP_C_CONNECT_FAILED],
			"rcvqueue_full", (json_int_t)c[TCP_C_RCVQUEUE_FULL],
			"mem_limit", (json_int_t)c[TCP_C_MEM_LIMIT],
			"untracked", (json_int_t)c[TCP_C_UNTRACKED]));
	}
	if (!priv->ns_err && !read_netstat(&ns))
		json_object_set_new(o, "netstat_delta", tcp_netstat_delta(&priv->ns_start, &ns));
	if (priv->snmp_found && !read_snmp(snmp, &found)) {
		json_t *d = json_object();

		for (int i = 0; i < SNMP_COUNT; i++)
			if (found & priv->snmp_found & (1u << i))
				json_object_set_new(d, snmp_names[i], json_integer((json_int_t)
					(snmp[i] >= priv->snmp_start[i] ? snmp[i] - priv->snmp_start[i] : 0)));
		json_object_set_new(o, "snmp_delta", d);
	}
	json_object_set_new(o, "elapsed_ns", json_integer((json_int_t)(mono_ns() - priv->start_ns)));
	ports = json_array();
	for (unsigned int i = 0; i < tcp_opt->nports; i++)
		json_array_append_new(ports, json_integer(tcp_opt->ports[i]));
	filt = json_pack("{s:o, s:s}", "ports", ports, "family",
			 tcp_opt->v4 == tcp_opt->v6 ? "any" : tcp_opt->v4 ? "ipv4" : "ipv6");
	json_object_set_new(o, "filters", filt);
	json_object_set_new(o, "srtt_samples", json_string(tcp_opt->rtt_per_ack ? "per_ack" : "per_connection"));
	return o;
}

/* ---- report side --------------------------------------------------------- */

static const char *const state_names[] = {
	"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
	"NEW_SYN_RECV",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))
#define TCP_STATE_CLOSE 7

/*
 * A remote endpoint is the peer's address and the service port: the
 * remote port for connections we opened, our port for accepted ones.
 */
static void fold_endpoint(json_t *col, const struct tcp_life *e, const char *daddr)
{
	json_t *map = json_object_get(col, "endpoints_by_key"), *v;
	bool out = e->flags & TCP_LIFE_ACTIVE;
	unsigned int port = out ? e->dport : e->sport;
	char key[96];

	if (!map) {
		map = json_object();
		json_object_set_new(col, "endpoints_by_key", map);
	}
	snprintf(key, sizeof(key), "%s %s %u", out ? "out" : "in", daddr, port);
	v = json_object_get(map, key);
	if (!v) {
		if (json_object_size(map) >= TCP_MAX_ENDPOINTS) {
			json_object_set_new(col, "endpoints_not_listed",
				json_integer((json_int_t)json_u64(col, "endpoints_not_listed") + 1));
			return;
		}
		v = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I}",
			"direction", out ? "out" : "in", "addr", daddr, "port", (int)port,
			"connections", (json_int_t)0, "tx_bytes", (json_int_t)0,
			"rx_bytes", (json_int_t)0, "retransmits", (json_int_t)0,
			"total_duration_ns", (json_int_t)0);
		json_object_set_new(map, key, v);
	}
	json_object_set_new(v, "connections", json_integer(json_u64(v, "connections") + 1));
	json_object_set_new(v, "tx_bytes", json_integer(json_u64(v, "tx_bytes") + e->tx_bytes));
	json_object_set_new(v, "rx_bytes", json_integer(json_u64(v, "rx_bytes") + e->rx_bytes));
	json_object_set_new(v, "retransmits", json_integer(json_u64(v, "retransmits") + e->retransmits));
	json_object_set_new(v, "total_duration_ns",
			    json_integer(json_u64(v, "total_duration_ns") + e->duration_ns));
}

static void add_total(json_t *col, const char *key, uint64_t v)
{
	json_object_set_new(col, key, json_integer((json_int_t)(json_u64(col, key) + v)));
}

static int tcp_report_event(json_t *col, const void *data, size_t len,
			    const struct report_opts *ro)
{
	struct tcp_life ev;
	const struct tcp_life *e = &ev;
	char comm[TCP_COMM_LEN], sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	const unsigned int known = TCP_LIFE_ACTIVE | TCP_LIFE_OWNER_GUESSED |
				   TCP_LIFE_RST_RECEIVED | TCP_LIFE_RST_SENT | TCP_LIFE_OPEN;
	bool open;
	json_t *c;

	/* records in a session block are only 4-byte aligned: copy first */
	if (len != sizeof(ev))
		return -EBADMSG;
	memcpy(&ev, data, sizeof(ev));
	open = e->flags & TCP_LIFE_OPEN;
	if (e->kind != TCP_EV_LIFE ||
	    (e->family != TCP_AF_INET && e->family != TCP_AF_INET6) ||
	    e->oldstate >= NSTATES || e->newstate >= NSTATES || (e->flags & ~known) ||
	    (open ? e->newstate != e->oldstate : e->newstate != TCP_STATE_CLOSE) ||
	    (int64_t)e->tx_bytes < 0 || (int64_t)e->rx_bytes < 0 ||
	    (int64_t)e->duration_ns < 0 || (int64_t)e->connect_ns < 0 ||
	    (int64_t)e->srtt_ns < 0 || (int64_t)e->cgroup_id < 0)
		return -EBADMSG;
	untrusted_copy(comm, sizeof(comm), e->comm, sizeof(e->comm));
	tcp_addr_str(e->family, e->saddr, sa, sizeof(sa));
	tcp_addr_str(e->family, e->daddr, da, sizeof(da));
	c = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I,"
		      " s:s, s:s, s:b, s:b, s:b, s:b, s:I, s:I}",
		"time_ns", (json_int_t)(e->time_ns > ro->start_mono_ns ? e->time_ns - ro->start_mono_ns : 0),
		"pid", (json_int_t)e->pid, "comm", comm,
		"family", e->family == TCP_AF_INET ? "ipv4" : "ipv6",
		"saddr", sa, "daddr", da, "sport", (int)e->sport, "dport", (int)e->dport,
		"duration_ns", (json_int_t)e->duration_ns,
		"connect_latency_ns", (json_int_t)e->connect_ns,
		"tx_bytes", (json_int_t)e->tx_bytes, "rx_bytes", (json_int_t)e->rx_bytes,
		"retransmits", (json_int_t)e->retransmits, "srtt_ns", (json_int_t)e->srtt_ns,
		"direction", (e->flags & TCP_LIFE_ACTIVE) ? "active" : "passive",
		"final_state", state_names[e->oldstate], "open_at_end", open,
		"owner_guessed", (e->flags & TCP_LIFE_OWNER_GUESSED) != 0,
		"reset_received", (e->flags & TCP_LIFE_RST_RECEIVED) != 0,
		"reset_sent", (e->flags & TCP_LIFE_RST_SENT) != 0,
		"netns", (json_int_t)e->netns, "cgroup_id", (json_int_t)e->cgroup_id);
	if (!c)
		return -ENOMEM;
	report_append_bounded(col, "connections", c, TCP_MAX_CONNECTIONS_JSON);
	fold_endpoint(col, e, da);
	add_total(col, "lifecycle_records", 1);
	if (open)
		add_total(col, "open_at_end", 1);
	add_total(col, "lifecycle_tx_bytes", e->tx_bytes);
	add_total(col, "lifecycle_rx_bytes", e->rx_bytes);
	return 0;
}

static int by_conns_desc(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	uint64_t x = json_u64(a, "connections"), y = json_u64(b, "connections");

	if (x != y)
		return x < y ? 1 : -1;
	x = json_u64(a, "tx_bytes") + json_u64(a, "rx_bytes");
	y = json_u64(b, "tx_bytes") + json_u64(b, "rx_bytes");
	return x < y ? 1 : x > y ? -1 : 0;
}

/* The endpoint map becomes a sorted array (JSON consumers get a list). */
static void tcp_report_finish(json_t *col, const struct report_opts *ro)
{
	json_t *map = json_object_get(col, "endpoints_by_key"), *v, **items, *a;
	const char *k;
	size_t n = 0, i = 0;

	(void)ro;
	if (!map)
		return;
	n = json_object_size(map);
	items = calloc(n ?: 1, sizeof(*items));
	a = json_array();
	if (items) {
		json_object_foreach(map, k, v)
			items[i++] = v;
		qsort(items, n, sizeof(*items), by_conns_desc);
		for (i = 0; i < n; i++)
			json_array_append(a, items[i]);
		free(items);
	}
	json_object_set_new(col, "endpoints", a);
	json_object_del(col, "endpoints_by_key");
}

static int by_duration_desc(const void *pa, const void *pb)
{
	uint64_t x = json_u64(*(json_t *const *)pa, "duration_ns");
	uint64_t y = json_u64(*(json_t *const *)pb, "duration_ns");

	return x < y ? 1 : x > y ? -1 : 0;
}

static int by_bytes_desc(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	uint64_t x = json_u64(a, "tx_bytes") + json_u64(a, "rx_bytes");
	uint64_t y = json_u64(b, "tx_bytes") + json_u64(b, "rx_bytes");

	return x < y ? 1 : x > y ? -1 : 0;
}

static void print_connections(FILE *out, const json_t *conns, int top,
			      int (*cmp)(const void *, const void *), const char *title)
{
	size_t n = json_array_size(conns), i;
	json_t **v = calloc(n ?: 1, sizeof(*v));
	char b[4][16];

	if (!v || !n) {
		free(v);
		return;
	}
	for (i = 0; i < n; i++)
		v[i] = json_array_get(conns, i);
	qsort(v, n, sizeof(*v), cmp);
	fprintf(out, "\n%s:\n  %-7s %-12s %-21s %-27s %9s %9s %9s %5s %s\n", title, "PID", "COMM",
		"LOCAL", "REMOTE", "TX", "RX", "DURATION", "RETR", "END");
	for (i = 0; i < n && (int)i < top; i++) {
		char l[64], r[64];

		snprintf(l, sizeof(l), "%s:%" PRIu64,
			 json_string_value(json_object_get(v[i], "saddr")) ?: "?", json_u64(v[i], "sport"));
		snprintf(r, sizeof(r), "%s:%" PRIu64,
			 json_string_value(json_object_get(v[i], "daddr")) ?: "?", json_u64(v[i], "dport"));
		fprintf(out, "  %-7" PRIu64 " %-12.12s %-21s %-27s %9s %9s %9s %5" PRIu64 " %s%s\n",
			json_u64(v[i], "pid"), json_string_value(json_object_get(v[i], "comm")) ?: "?",
			l, r, fmt_bytes(json_u64(v[i], "tx_bytes"), b[0], 16),
			fmt_bytes(json_u64(v[i], "rx_bytes"), b[1], 16),
			fmt_ns(json_u64(v[i], "duration_ns"), b[2], 16), json_u64(v[i], "retransmits"),
			json_string_value(json_object_get(v[i], "final_state")) ?: "?",
			json_is_true(json_object_get(v[i], "open_at_end")) ? " (open at end)" :
			json_is_true(json_object_get(v[i], "reset_received")) ? " rst-in" :
			json_is_true(json_object_get(v[i], "reset_sent")) ? " rst-out" : "");
	}
	free(v);
}

static void tcp_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	const json_t *c = json_object_get(col, "counters"), *ns = json_object_get(col, "netstat_delta");
	const json_t *snmp = json_object_get(col, "snmp_delta"), *eps = json_object_get(col, "endpoints"), *e;
	double secs = json_u64(col, "elapsed_ns") / 1e9;
	uint64_t closed = json_u64(c, "closed");
	const char *k, *rtt = json_string_value(json_object_get(col, "srtt_samples"));
	json_t *v;
	size_t i;
	char b[3][16];

	fprintf(out, "Connections: %" PRIu64 " active opens, %" PRIu64 " passive opens, %" PRIu64
		" closed, %" PRIu64 " failed connects, %" PRIu64 " still open at the end\n",
		json_u64(c, "active_opens"), json_u64(c, "passive_opens"), closed,
		json_u64(c, "connect_failed"), json_u64(col, "open_at_end"));
	if (secs > 0)
		fprintf(out, "Rates: %.1f opens/s, %.2f retransmits/s, %.2f resets sent/s, %.2f resets received/s\n",
			(json_u64(c, "active_opens") + json_u64(c, "passive_opens")) / secs,
			json_u64(c, "retransmits") / secs, json_u64(c, "resets_sent") / secs,
			json_u64(c, "resets_received") / secs);
	fprintf(out, "Retransmits: %" PRIu64 " segments (%" PRIu64 " SYN-ACK)", json_u64(c, "retransmits"),
		json_u64(c, "synack_retransmits"));
	if (closed)
		fprintf(out, ", %.2f per closed connection", (double)json_u64(c, "retransmits") / closed);
	if (json_u64(snmp, "OutSegs"))
		fprintf(out, "; this netns resent %.3f%% of its segments",
			100.0 * json_u64(snmp, "RetransSegs") / json_u64(snmp, "OutSegs"));
	fprintf(out, "\nResets: %" PRIu64 " sent, %" PRIu64 " received; buffer pressure: %" PRIu64
		" receive-queue full, %" PRIu64 " memory limit\n", json_u64(c, "resets_sent"),
		json_u64(c, "resets_received"), json_u64(c, "rcvqueue_full"), json_u64(c, "mem_limit"));
	if (json_object_size(ns)) {
		fprintf(out, "/proc/net/netstat during the session:");
		json_object_foreach((json_t *)ns, k, v)
			fprintf(out, " %s=%" PRIu64, k, (uint64_t)json_integer_value(v));
		fputc('\n', out);
	}

	fprintf(out, "\nConnect latency (SYN sent -> established):\n");
	report_print_hist(out, json_object_get(col, "connect_latency"), "ns");
	fputc('\n', out);
	report_print_latency_row(out, NULL, NULL);
	report_print_latency_row(out, "connect latency", json_object_get(col, "connect_latency"));
	/* sessions before srtt_samples sampled every ACK */
	report_print_latency_row(out, rtt && !strcmp(rtt, "per_connection") ?
				 "smoothed RTT (per conn)" : "smoothed RTT (per ACK)",
				 json_object_get(col, "srtt"));
	report_print_latency_row(out, "connection duration", json_object_get(col, "connection_duration"));

	if (json_array_size(eps)) {
		fprintf(out, "\nTop remote endpoints (by connections, then bytes): %" PRIu64
			" lifecycle records, %s sent, %s received\n", json_u64(col, "lifecycle_records"),
			fmt_bytes(json_u64(col, "lifecycle_tx_bytes"), b[0], 16),
			fmt_bytes(json_u64(col, "lifecycle_rx_bytes"), b[1], 16));
		fprintf(out, "  %-4s %-40s %8s %9s %9s %6s %9s\n", "DIR", "PEER (service port)", "conns",
			"TX", "RX", "RETR", "avg dur");
		json_array_foreach(eps, i, e) {
			char peer[80];
			uint64_t n = json_u64(e, "connections");

			if ((int)i >= ro->top)
				break;
			snprintf(peer, sizeof(peer), "%s (%" PRIu64 ")",
				 json_string_value(json_object_get(e, "addr")) ?: "?", json_u64(e, "port"));
			fprintf(out, "  %-4s %-40s %8" PRIu64 " %9s %9s %6" PRIu64 " %9s\n",
				json_string_value(json_object_get(e, "direction")) ?: "?", peer, n,
				fmt_bytes(json_u64(e, "tx_bytes"), b[0], 16),
				fmt_bytes(json_u64(e, "rx_bytes"), b[1], 16), json_u64(e, "retransmits"),
				fmt_ns(n ? json_u64(e, "total_duration_ns") / n : 0, b[2], 16));
		}
	}
	print_connections(out, json_object_get(col, "connections"), ro->top, by_duration_desc,
			  "Longest connections");
	print_connections(out, json_object_get(col, "connections"), ro->top, by_bytes_desc,
			  "Connections moving the most bytes");
	if (json_u64(col, "connections_not_listed"))
		fprintf(out, "  (%" PRIu64 " more connections not listed)\n",
			json_u64(col, "connections_not_listed"));
}

const struct collector col_tcp = {
	.name = "tcp",
	.id = 3,
	.help = "TCP lifecycle, connect latency, RTT, retransmits, resets",
	.default_on = true,
	.hooks = tcp_hooks,
	.nhooks = H_COUNT,
	.options = tcp_options,
	.opts_size = sizeof(struct tcp_opts),
	.opts_default = &tcp_opts_default,
	.set_option = tcp_set_option,
	.skel = &tcp_skel,
	.configure = tcp_configure,
	.start = tcp_start,
	.end = tcp_end,
	.collect = tcp_collect,
	.stop = tcp_stop,
	.report_event = tcp_report_event,
	.report_finish = tcp_report_finish,
	.render_text = tcp_render_text,
};
