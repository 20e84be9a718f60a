// SPDX-License-Identifier: GPL-2.0
/*
 * tcp collector: connection lifecycle records, connect latency, duration
 * and smoothed-RTT histograms, retransmit/reset/buffer-pressure counters.
 *
 * Built on tracepoints only (this machine has no kprobes and refuses
 * fentry). Every hook has tp_btf, raw_tp and classic tracepoint variants
 * sharing one __always_inline body. The hot bodies (state changes, RTT
 * samples) take a constant `direct`: a tp_btf variant holds a BTF pointer
 * and reads the socket with plain relocated loads (one instruction each),
 * raw_tp and classic tracepoint variants hold a bare address and read it
 * with BPF_CORE_READ (a bpf_probe_read_kernel call per field). Rare hooks
 * (retransmits, resets) use BPF_CORE_READ everywhere.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "hist.bpf.h"
#include "tcp.h"

#define AF_INET		2
#define AF_INET6	10

char LICENSE[] SEC("license") = "GPL";

/* Filters beyond the common ones (set by col_tcp.c before load). */
const volatile __u16 filter_ports[TCP_MAX_PORTS] = {};
const volatile __u32 filter_nports = 0;
const volatile __u16 filter_family = 0;	/* 0: both */
/* tcp_retransmit_skb carries err (6.x): it then fires on failures too */
const volatile bool retrans_has_err = false;
#define TCP_SLOT_BITS	14
/* slots in use - 1; fewer only to make tests exercise the fallback hash */
const volatile __u32 slot_mask = (1 << TCP_SLOT_BITS) - 1;
/* claiming a slot needs BPF cmpxchg (5.12); without, all goes to the hash */
const volatile bool use_slots = true;
/*
 * RTT samples per ACK (tcp_probe, --rtt-per-ack), or else each
 * connection's smoothed RTT once, at its close or the session end: the
 * per-ACK hook runs ~5 times per short connection and once per ACK of a
 * bulk one, the cost that grows with traffic rather than connections.
 */
const volatile bool rtt_per_ack = false;

/* sock_info.flags */
#define SI_ACTIVE		(1 << 0)
#define SI_OWNER		(1 << 1)	/* pid/comm known */
#define SI_COUNTED		(1 << 2)	/* open counted */
#define SI_RETRANS_BASE		(1 << 3)	/* retrans_seen is valid */
#define SI_RST_RECEIVED		(1 << 4)
#define SI_RST_SENT		(1 << 5)
#define SI_SYN_ACKED		(1 << 6)	/* our SYN is in bytes_acked */
#define SI_FIN_OUT		(1 << 7)	/* we queued a FIN */
#define SI_SLOT			(1 << 8)	/* lives in "slots", not "socks" */
#define SI_REPORTED		(1 << 9)	/* reported open at the session end */

/*
 * Per tracked connection, keyed by the struct sock address. One cache
 * line: a slot (below) is exactly one.
 */
struct sock_info {
	__u64 sk;		/* slots: the owning socket, 0 when free */
	__u64 birth_ns;		/* active: when the SYN went out */
	__u64 connect_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u32 retrans_seen;	/* total_retrans already added to the counter */
	__u32 flags;
	__u16 lport;		/* last non-zero ports: close unbinds */
	__u16 rport;
	char comm[TASK_COMM_LEN];
};

_Static_assert(sizeof(struct sock_info) == 64, "sock_info: one cache line");

/*
 * Where a connection's state lives was chosen by measuring ns/run of the
 * state hook (loopback churn, 6.18, stats on): a hash update and delete
 * per socket each take a bucket lock and a free-list lock with interrupts
 * off, and socket storage (tried) allocates per socket, 265 and 367 ns
 * per run. So, as in bio.bpf.c: a direct-mapped table indexed by a hash
 * of the socket pointer, claimed with a cmpxchg on its owner and freed
 * with a store at close; a socket whose slot another live socket holds
 * goes to the "socks" hash. Mmapable only for its layout: its values
 * start on a page, so each slot is one cache line.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << TCP_SLOT_BITS);
	__type(key, __u32);
	__type(value, struct sock_info);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_info);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCP_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCP_NHISTS);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

/*
 * Closed connections' records wait in a per-CPU batch and go to the ring
 * TCP_BATCH at a time: a ring reservation takes the ring's lock with
 * interrupts off, ~200 ns per record measured here (tests/bench/
 * tcp_cost.sh), against one copy into the batch. A batch goes out when
 * full, on a close that finds its oldest record TCP_BATCH_AGE_NS old, and
 * when user space runs tcp_flush on each CPU (every state snapshot and
 * the session end). tcp_flush runs on the batch's CPU, from an interrupt
 * if it must: busy, set around every use, makes it (and a close nested
 * in another) leave a batch being filled alone; a nested close then
 * reserves its own record, tcp_flush says to try again.
 */
#define TCP_BATCH		16	/* a power of two: a mask bounds the index */
#define TCP_BATCH_AGE_NS	1000000000ULL

struct tcp_batch {
	__u32 n;		/* records held */
	__u32 busy;		/* a program on this CPU is using it */
	struct ring_hdr hdr;	/* in front of the records when they go out */
	struct tcp_life recs[TCP_BATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcp_batch);
} batches SEC(".maps");

/* set by user space once tcp_flush is known to run on every CPU */
bool use_batch = false;

/*
 * One field of a kernel object: a relocated load through a BTF pointer
 * (direct), or a probe read of a bare address. `direct` is a constant in
 * every inlined copy, so each program keeps only one of the two.
 */
#define RD(direct, src, field) \
	((direct) ? (src)->field : BPF_CORE_READ(src, field))

/*
 * The tcp_sock of a socket. Through a BTF pointer, a load past struct sock
 * is refused ("access beyond struct sock"): the helper hands back the
 * same socket typed as tcp_sock, or NULL if it is not a full TCP socket.
 */
static __always_inline struct tcp_sock *tcp_of(const struct sock *sk,
					       bool direct)
{
	if (direct)
		return bpf_skc_to_tcp_sock((void *)sk);
	return (struct tcp_sock *)sk;
}

static __always_inline struct sock_info *slot_of(__u64 key)
{
	__u32 i = slot_index(key, TCP_SLOT_BITS, slot_mask);

	return bpf_map_lookup_elem(&slots, &i);
}

/* The state of a tracked connection, or NULL. */
static __always_inline struct sock_info *si_lookup(const struct sock *sk)
{
	struct sock_info *si;
	__u64 key = (__u64)sk;

	if (use_slots) {
		si = slot_of(key);
		if (si && si->sk == key)
			return si;
	}
	return bpf_map_lookup_elem(&socks, &key);
}

/* Start tracking a socket with the state in init; non-zero if no room. */
static __always_inline int si_start(const struct sock *sk,
				    struct sock_info *init)
{
	struct sock_info *si;
	__u64 key = (__u64)sk;

	init->sk = key;
	if (use_slots) {
		si = slot_of(key);
		/* ours already if its close was missed (a stale life) */
		if (si && (si->sk == key ||
			   __sync_val_compare_and_swap(&si->sk, 0, key) == 0)) {
			init->flags |= SI_SLOT;
			*si = *init;
			return 0;
		}
	}
	return bpf_map_update_elem(&socks, &key, init, BPF_ANY);
}

static __always_inline void si_end(const struct sock *sk,
				   struct sock_info *si)
{
	__u64 key = (__u64)sk;

	if (si->flags & SI_SLOT)
		si->sk = 0;	/* a plain store frees it (x86, the build target) */
	else
		bpf_map_delete_elem(&socks, &key);
}

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

static __always_inline void hist_record(__u32 idx, __u64 v)
{
	struct hist *h = bpf_map_lookup_elem(&hists, &idx);

	if (h)
		hist_add(h, v);
}

/* A connection's smoothed RTT, once (without --rtt-per-ack). */
static __always_inline void srtt_sample(const struct tcp_sock *tp, bool direct)
{
	__u32 srtt = RD(direct, tp, srtt_us) >> 3;

	if (!rtt_per_ack && srtt)
		hist_record(TCP_H_SRTT, (__u64)srtt * 1000);
}

static __always_inline bool task_filter_on(void)
{
	return filter_pid_on || filter_cgroup_id || filter_comm_on;
}

static __always_inline bool port_ok(__u16 lport, __u16 rport)
{
	if (!filter_nports)
		return true;
	for (int i = 0; i < TCP_MAX_PORTS; i++) {
		if (i >= filter_nports)
			break;
		if (filter_ports[i] == lport || filter_ports[i] == rport)
			return true;
	}
	return false;
}

static __always_inline bool family_ok(__u16 family)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	return !filter_family || family == filter_family;
}

/*
 * __sk_common is shared with timewait and request socks. A full socket
 * that reached TCP_CLOSE has released its port (inet_put_port zeroes
 * skc_num) but still carries it in inet_sport, which the resets sent
 * right after the close need.
 */
static __always_inline void sk_ports(const struct sock *sk, __u16 *lport,
				     __u16 *rport, bool direct)
{
	const struct inet_sock *inet;

	*lport = RD(direct, sk, __sk_common.skc_num);
	*rport = bpf_ntohs(RD(direct, sk, __sk_common.skc_dport));
	if (*lport || RD(direct, sk, __sk_common.skc_state) != TCP_CLOSE)
		return;
	/* inet_sport lies past struct sock: reach it through the tcp_sock */
	inet = direct ? (void *)tcp_of(sk, direct) : (void *)sk;
	if (inet)
		*lport = bpf_ntohs(RD(direct, inet, inet_sport));
}

static __always_inline bool sk_wanted_as(const struct sock *sk, bool direct)
{
	__u16 lport, rport;

	if (!family_ok(RD(direct, sk, __sk_common.skc_family)))
		return false;
	if (!filter_nports)
		return true;
	sk_ports(sk, &lport, &rport, direct);
	return port_ok(lport, rport);
}

static __always_inline bool sk_wanted(const struct sock *sk)
{
	return sk_wanted_as(sk, false);
}

/* Keep the last bound ports: TCP_CLOSE releases the local one. */
static __always_inline void si_note_ports(const struct sock *sk,
					  struct sock_info *si)
{
	__u16 lport, rport;

	sk_ports(sk, &lport, &rport, false);
	if (lport) {
		si->lport = lport;
		si->rport = rport;
	}
}

static __always_inline void take_owner(struct sock_info *si)
{
	si->pid = bpf_get_current_pid_tgid() >> 32;
	si->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(si->comm, sizeof(si->comm));
	si->flags |= SI_OWNER;
}

/*
 * Add the retransmits of a tracked socket not yet counted. tp->total_retrans
 * grows exactly where the kernel adds to TcpRetransSegs, so the counter
 * agrees with the MIB even when the tracepoint is skipped or fires on a
 * failed transmit.
 */
static __always_inline void retrans_sync(const struct tcp_sock *tp,
					 struct sock_info *si, bool counted,
					 bool direct)
{
	__u32 cur = RD(direct, tp, total_retrans);

	if (!(si->flags & SI_RETRANS_BASE)) {
		si->retrans_seen = cur;
		si->flags |= SI_RETRANS_BASE;
		return;
	}
	if (cur > si->retrans_seen && counted)
		count(TCP_C_RETRANSMITS, cur - si->retrans_seen);
	si->retrans_seen = cur;
}

static __always_inline void copy_addrs(const struct sock *sk, __u16 family,
				       struct tcp_life *e, bool direct)
{
	if (family == AF_INET) {
		__u32 s = RD(direct, sk, __sk_common.skc_rcv_saddr);
		__u32 d = RD(direct, sk, __sk_common.skc_daddr);

		__builtin_memcpy(e->saddr, &s, 4);
		__builtin_memcpy(e->daddr, &d, 4);
	} else if (direct) {
		__builtin_memcpy(e->saddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(e->daddr, &sk->__sk_common.skc_v6_daddr, 16);
	} else {
		BPF_CORE_READ_INTO(&e->saddr, sk,
				   __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk,
				   __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

/*
 * bytes_acked and bytes_received count sequence space, so our SYN and
 * FIN (once acked) and the peer's FIN (once received) are one byte each;
 * strip them so the record holds application bytes only.
 */
static __always_inline __u64 payload_acked(const struct tcp_sock *tp,
					   const struct sock_info *si,
					   bool direct)
{
	__u64 acked = RD(direct, tp, bytes_acked);

	if ((si->flags & SI_SYN_ACKED) && acked)
		acked--;
	if ((si->flags & SI_FIN_OUT) && acked &&
	    RD(direct, tp, snd_una) == RD(direct, tp, write_seq))
		acked--;
	return acked;
}

static __always_inline __u64 payload_received(const struct sock *sk,
					      const struct tcp_sock *tp,
					      bool direct)
{
	__u64 rcvd = RD(direct, tp, bytes_received);

	/* tcp_fin() sets SOCK_DONE; nothing on the way to TCP_CLOSE does */
	if ((get_sk_flags(sk, direct) & (1UL << SOCK_DONE)) && rcvd)
		rcvd--;
	return rcvd;
}

/*
 * The connection's one record: at its close (oldstate -> TCP_CLOSE), or
 * still open at the session end (open: oldstate is its state then, and
 * the owner is what was seen, never the task running this).
 */
static __always_inline void life_fill(struct tcp_life *e,
				      const struct sock *sk,
				      const struct tcp_sock *tp,
				      struct sock_info *si, __u16 family,
				      __u16 lport, __u16 rport, int oldstate,
				      __u64 now, bool open, bool direct)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = TCP_EV_LIFE;
	e->oldstate = oldstate;
	e->newstate = open ? oldstate : TCP_CLOSE;
	if (open)
		e->flags |= TCP_LIFE_OPEN;
	if (si->flags & SI_ACTIVE)
		e->flags |= TCP_LIFE_ACTIVE;
	if (si->flags & SI_RST_RECEIVED)
		e->flags |= TCP_LIFE_RST_RECEIVED;
	if (si->flags & SI_RST_SENT)
		e->flags |= TCP_LIFE_RST_SENT;
	if (!(si->flags & SI_OWNER) && !open) {
		/* like tcplife: the task at close is the best guess left */
		take_owner(si);
		e->flags |= TCP_LIFE_OWNER_GUESSED;
	}
	e->family = family;
	e->sport = lport;
	e->dport = rport;
	e->pid = si->pid;
	e->retransmits = RD(direct, tp, total_retrans);
	e->netns = direct ? sk->__sk_common.skc_net.net->ns.inum :
			    BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	e->time_ns = now;
	e->duration_ns = now - si->birth_ns;
	e->connect_ns = si->connect_ns;
	e->tx_bytes = payload_acked(tp, si, direct);
	e->rx_bytes = payload_received(sk, tp, direct);
	e->srtt_ns = (__u64)(RD(direct, tp, srtt_us) >> 3) * 1000;
	e->cgroup_id = si->cgroup_id;
	copy_addrs(sk, family, e, direct);
	__builtin_memcpy(e->comm, si->comm, sizeof(e->comm));
}

/* The record on its own in the ring. */
static __always_inline void emit_life(const struct sock *sk,
				      const struct tcp_sock *tp,
				      struct sock_info *si, __u16 family,
				      __u16 lport, __u16 rport, int oldstate,
				      __u64 now, bool open, bool direct)
{
	struct tcp_life *e = ring_reserve(sizeof(*e));

	if (!e)
		return;
	life_fill(e, sk, tp, si, family, lport, rport, oldstate, now, open,
		  direct);
	ring_submit(e);
}

/* Every record the batch holds to the ring; the caller holds it busy. */
static __always_inline void batch_out(struct tcp_batch *b)
{
	__u32 n = b->n;

	if (!n)
		return;
	if (n > TCP_BATCH)
		n = TCP_BATCH;
	ring_output_batch(&b->hdr, sizeof(struct tcp_life), n);
	b->n = 0;
}

static __always_inline void batch_busy(struct tcp_batch *b, __u32 busy)
{
	barrier();
	*(volatile __u32 *)&b->busy = busy;
	barrier();
}

/* A closed connection's record, into this CPU's batch when it is free. */
static __always_inline void emit_closed(const struct sock *sk,
					const struct tcp_sock *tp,
					struct sock_info *si, __u16 family,
					__u16 lport, __u16 rport, int oldstate,
					__u64 now, bool direct)
{
	struct tcp_batch *b = NULL;
	__u32 zero = 0, n;

	if (use_batch)
		b = bpf_map_lookup_elem(&batches, &zero);
	if (!b || *(volatile __u32 *)&b->busy) {
		emit_life(sk, tp, si, family, lport, rport, oldstate, now,
			  false, direct);
		return;
	}
	batch_busy(b, 1);
	n = b->n;
	if (n >= TCP_BATCH) {
		batch_out(b);
		n = 0;
	}
	/*
	 * n < TCP_BATCH here, but 6.1's verifier loses the bound when the
	 * compiler spills n before the test: a mask it cannot drop keeps it
	 */
	barrier_var(n);
	life_fill(&b->recs[n & (TCP_BATCH - 1)], sk, tp, si, family, lport,
		  rport, oldstate, now, false, direct);
	b->n = ++n;
	if (n == TCP_BATCH || now - b->recs[0].time_ns >= TCP_BATCH_AGE_NS)
		batch_out(b);
	batch_busy(b, 0);
}

/*
 * Reads are kept to what a transition needs: the clock only where a time
 * is taken, ports until they are known (bound after SYN_SENT, fixed from
 * then on) unless a port filter wants them every time, the tcp_sock only
 * for the retransmit base and at close.
 */
static __always_inline int on_state(const struct sock *sk, int oldstate,
				    int newstate, bool direct)
{
	struct sock_info *si, init = {};
	__u64 now = 0;
	struct tcp_sock *tp = NULL;
	__u16 family, lport = 0, rport = 0;
	bool pok = true;

	/*
	 * FIN_WAIT1 -> FIN_WAIT2 (the peer acked our FIN, in softirq) tells
	 * nothing: the owner was taken by then (the close or shutdown that
	 * sent the FIN holds the socket lock), so were the counts and the
	 * retransmit base. One of ~10 runs per connection, skipped first.
	 */
	if (newstate == TCP_FIN_WAIT2)
		return 0;
	/*
	 * ESTABLISHED -> CLOSE_WAIT (the peer's FIN, in softirq) tells
	 * nothing either: ports, counts and the retransmit base were taken
	 * at ESTABLISHED or before. Only a task holding the socket (backlog
	 * processing in release_sock) can bring news: its owner.
	 */
	if (newstate == TCP_CLOSE_WAIT && oldstate == TCP_ESTABLISHED &&
	    !RD(direct, sk, sk_lock.owned))
		return 0;
	if (get_sk_protocol(sk, direct) != IPPROTO_TCP)
		return 0;
	family = RD(direct, sk, __sk_common.skc_family);
	if (!family_ok(family))
		return 0;

	if (newstate == TCP_SYN_SENT) {
		/* the owner, fetched once, is what the task filters look at */
		take_owner(&init);
		if (task_filter_on() &&
		    !want_task(init.pid, init.cgroup_id, init.comm))
			return 0;
		tp = tcp_of(sk, direct);
		if (!tp)
			return 0;
		/* The local port of a connect() is not bound yet at SYN_SENT. */
		if (filter_nports) {
			sk_ports(sk, &lport, &rport, direct);
			pok = port_ok(lport, rport);
		}
		init.birth_ns = bpf_ktime_get_ns();
		init.flags |= SI_ACTIVE;
		retrans_sync(tp, &init, false, direct);
		if (pok) {
			init.flags |= SI_COUNTED;
			count(TCP_C_ACTIVE_OPENS, 1);
		}
		if (si_start(sk, &init))
			count(TCP_C_UNTRACKED, 1);
		return 0;
	}
	if (newstate == TCP_SYN_RECV && oldstate != TCP_SYN_SENT) {
		/*
		 * A passive child, cloned from the listener in softirq: its
		 * owner is unknown until a task holding it changes its state.
		 * total_retrans is copied from the request later, so the
		 * retransmit base is taken at the next transition.
		 */
		sk_ports(sk, &lport, &rport, direct);
		pok = port_ok(lport, rport);
		init.birth_ns = bpf_ktime_get_ns();
		init.lport = lport;
		init.rport = rport;
		if (pok && !task_filter_on()) {
			init.flags |= SI_COUNTED;
			count(TCP_C_PASSIVE_OPENS, 1);
		}
		if (si_start(sk, &init))
			count(TCP_C_UNTRACKED, 1);
		return 0;
	}

	si = si_lookup(sk);
	if (!si)
		return 0;	/* opened before we started, or filtered out */
	if (si->lport && !filter_nports) {
		lport = si->lport;
		rport = si->rport;
	} else {
		sk_ports(sk, &lport, &rport, direct);
		/* TCP_CLOSE has already released the local port (inet_put_port) */
		if (lport) {
			si->lport = lport;
			si->rport = rport;
		} else if (si->lport) {
			lport = si->lport;
			rport = si->rport;
		}
		pok = port_ok(lport, rport);
	}
	if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)
		si->flags |= SI_FIN_OUT;
	if (newstate == TCP_ESTABLISHED && (si->flags & SI_ACTIVE))
		si->flags |= SI_SYN_ACKED;

	/*
	 * sk_lock.owned is set only by a task inside lock_sock() on this
	 * socket (connect, close, shutdown, backlog processing in
	 * release_sock): the current task is then a real user of it.
	 */
	if (!(si->flags & SI_OWNER) && RD(direct, sk, sk_lock.owned)) {
		take_owner(si);
		if (task_filter_on() &&
		    !want_task(si->pid, si->cgroup_id, si->comm)) {
			si_end(sk, si);
			return 0;
		}
	}
	if (!(si->flags & SI_COUNTED) && pok &&
	    (!task_filter_on() || (si->flags & SI_OWNER))) {
		si->flags |= SI_COUNTED;
		count(si->flags & SI_ACTIVE ? TCP_C_ACTIVE_OPENS :
					      TCP_C_PASSIVE_OPENS, 1);
	}
	/* between base and close, the retransmit hook keeps the count live */
	if (newstate == TCP_CLOSE || !(si->flags & SI_RETRANS_BASE)) {
		tp = tcp_of(sk, direct);
		if (tp)
			retrans_sync(tp, si, pok, direct);
	}

	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT &&
	    (si->flags & SI_ACTIVE)) {
		si->connect_ns = bpf_ktime_get_ns() - si->birth_ns;
		if (pok)
			hist_record(TCP_H_CONNECT, si->connect_ns);
	}
	if (newstate != TCP_CLOSE)
		return 0;

	if (task_filter_on() && !(si->flags & SI_OWNER))
		goto out_delete;	/* owner never seen: cannot filter */
	if (si->flags & SI_REPORTED)
		goto out_delete;	/* its record went out as open at the end */
	/*
	 * A task holding the socket that takes it from one of these states
	 * straight to CLOSE, without a reset from the peer, is aborting it
	 * (unread data, SO_LINGER 0, disconnect): the kernel sends its reset
	 * only after this transition, when the record is already out.
	 */
	if (RD(direct, sk, sk_lock.owned) && !(si->flags & SI_RST_RECEIVED) &&
	    (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT ||
	     oldstate == TCP_SYN_RECV))
		si->flags |= SI_RST_SENT;
	if (pok && tp) {
		now = bpf_ktime_get_ns();
		count(TCP_C_CLOSED, 1);
		if (oldstate == TCP_SYN_SENT)
			count(TCP_C_CONNECT_FAILED, 1);
		hist_record(TCP_H_DURATION, now - si->birth_ns);
		srtt_sample(tp, direct);
		emit_closed(sk, tp, si, family, lport, rport, oldstate, now,
			    direct);
	}
out_delete:
	si_end(sk, si);
	return 0;
}

/* skb is NULL on kernels without the err argument only by convention. */
static __always_inline int on_retransmit(const struct sock *sk,
					 const struct sk_buff *skb, int err)
{
	struct sock_info *si;
	bool ok = sk_wanted(sk);
	__u16 segs = 0;

	si = si_lookup(sk);
	if (si) {
		si_note_ports(sk, si);
		retrans_sync((const struct tcp_sock *)sk, si, ok, false);
		return 0;
	}
	/* untracked (older than the session): count this skb's segments */
	if (!ok || task_filter_on() || err || !skb)
		return 0;
	bpf_probe_read_kernel(&segs, sizeof(segs),
			      (void *)skb + bpf_core_field_offset(struct sk_buff, cb) +
			      bpf_core_field_offset(struct tcp_skb_cb, tcp_gso_segs));
	count(TCP_C_RETRANSMITS, segs ? segs : 1);
	return 0;
}

static __always_inline int on_synack(const struct request_sock *req)
{
	const struct sock *rsk = (const struct sock *)req;

	/* the owner is the listener's process, not tracked: no task filter */
	if (task_filter_on() || !sk_wanted(rsk))
		return 0;
	count(TCP_C_RETRANSMITS, 1);
	count(TCP_C_SYNACK_RETRANSMITS, 1);
	return 0;
}

/* Ports and IP version of the segment a reset answers (no socket). */
static __always_inline bool skb_wanted(const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 th_off = BPF_CORE_READ(skb, transport_header);
	__u16 nh_off = BPF_CORE_READ(skb, network_header);
	struct tcphdr th = {};
	__u8 ver = 0;

	if (bpf_probe_read_kernel(&ver, 1, head + nh_off) ||
	    bpf_probe_read_kernel(&th, sizeof(th), head + th_off))
		return false;
	ver >>= 4;
	if (!family_ok(ver == 4 ? AF_INET : ver == 6 ? AF_INET6 : 0))
		return false;
	return port_ok(bpf_ntohs(th.dest), bpf_ntohs(th.source));
}

static __always_inline int on_send_reset(const struct sock *sk,
					 const struct sk_buff *skb)
{
	struct sock_info *si;

	if (sk) {
		si = si_lookup(sk);
		if (si)
			si->flags |= SI_RST_SENT;
		else if (task_filter_on())
			return 0;
		if (!sk_wanted(sk))
			return 0;
	} else {
		if (task_filter_on() || !skb || !skb_wanted(skb))
			return 0;
	}
	count(TCP_C_RESETS_SENT, 1);
	return 0;
}

static __always_inline int on_receive_reset(const struct sock *sk)
{
	struct sock_info *si;

	si = si_lookup(sk);
	if (si) {
		/* a refused connect gets its port here, just before close */
		si_note_ports(sk, si);
		si->flags |= SI_RST_RECEIVED;
	}
	else if (task_filter_on())
		return 0;
	if (sk_wanted(sk))
		count(TCP_C_RESETS_RECEIVED, 1);
	return 0;
}

/* srtt_us is stored << 3 by the kernel; samples are in ns. */
static __always_inline int on_rtt_sock(const struct sock *sk, bool direct)
{
	const struct tcp_sock *tp = tcp_of(sk, direct);
	__u32 srtt;

	if (!tp)
		return 0;
	srtt = RD(direct, tp, srtt_us) >> 3;
	if (!srtt || !sk_wanted_as(sk, direct))
		return 0;
	if (task_filter_on() && !si_lookup(sk))
		return 0;
	hist_record(TCP_H_SRTT, (__u64)srtt * 1000);
	return 0;
}

static __always_inline int on_buf_pressure(const struct sock *sk, __u32 idx)
{
	if (get_sk_protocol(sk, false) != IPPROTO_TCP || !sk_wanted(sk))
		return 0;
	if (task_filter_on() && !si_lookup(sk))
		return 0;
	count(idx, 1);
	return 0;
}

struct open_walk {
	__u64 now;
};

/*
 * One tracked socket at the session end: reported as open if it is a
 * live connection the filters let through (SI_COUNTED: its ports passed;
 * with a task filter, its owner was seen and passed). The socket is read
 * through its address, which the slot holds only while it is open (a
 * missed close leaves a stale one: its state then decides).
 */
static __always_inline long open_one(struct sock_info *si, struct open_walk *w)
{
	const struct sock *sk = (const struct sock *)si->sk;
	__u16 family, lport, rport;
	int state;

	if (!si->sk || !(si->flags & SI_COUNTED) || (si->flags & SI_REPORTED))
		return 0;
	if (task_filter_on() && !(si->flags & SI_OWNER))
		return 0;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* live: not closed, not a listener, no request or timewait socket */
	if (state <= 0 || state == TCP_CLOSE || state == TCP_LISTEN ||
	    state == TCP_TIME_WAIT || state > TCP_CLOSING ||
	    !family_ok(family) || get_sk_protocol(sk, false) != IPPROTO_TCP)
		return 0;
	lport = si->lport;
	rport = si->rport;
	if (!lport)
		sk_ports(sk, &lport, &rport, false);
	si->flags |= SI_REPORTED;
	srtt_sample((const struct tcp_sock *)sk, false);
	emit_life(sk, (const struct tcp_sock *)sk, si, family, lport, rport,
		  state, w->now, true, false);
	return 0;
}

static long open_slot(struct bpf_map *map, __u32 *key, struct sock_info *si,
		      struct open_walk *w)
{
	return open_one(si, w);
}

static long open_hashed(struct bpf_map *map, __u64 *key, struct sock_info *si,
			struct open_walk *w)
{
	return open_one(si, w);
}

/*
 * Run once by the recorder at the session end (BPF_PROG_RUN): a record
 * for every connection still open, its age and bytes so far, so a
 * session shows the long connections that never closed in it. One clock
 * read for all of them.
 */
SEC("syscall")
int tcp_open_at_end(void *ctx)
{
	struct open_walk w = { .now = bpf_ktime_get_ns() };

	if (use_slots)
		bpf_for_each_map_elem(&slots, open_slot, &w, 0);
	bpf_for_each_map_elem(&socks, open_hashed, &w, 0);
	return 0;
}

/*
 * Run by user space on each CPU in turn (BPF_PROG_RUN with
 * BPF_F_TEST_RUN_ON_CPU): that CPU's batch to the ring. 1: it is being
 * filled by the program this interrupted, run again.
 */
SEC("raw_tp")
int tcp_flush(void *ctx)
{
	struct tcp_batch *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&batches, &zero);
	if (!b)
		return 0;
	if (*(volatile __u32 *)&b->busy)
		return 1;
	batch_busy(b, 1);
	batch_out(b);
	batch_busy(b, 0);
	return 0;
}

/* ---- sock:inet_sock_set_state ---- */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, oldstate, newstate, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tcp_state_raw, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, oldstate, newstate, false);
}

SEC("tp/sock/inet_sock_set_state")
int tcp_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return on_state(ctx->skaddr, ctx->oldstate, ctx->newstate, false);
}

/* ---- tcp:tcp_retransmit_skb ---- */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retrans_btf, const struct sock *sk, const struct sk_buff *skb)
{
	/* the third argument exists only where retrans_has_err says so */
	int err = retrans_has_err ? (int)ctx[2] : 0;

	return on_retransmit(sk, skb, err);
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(tcp_retrans_raw, const struct sock *sk, const struct sk_buff *skb)
{
	int err = retrans_has_err ? (int)ctx[2] : 0;

	return on_retransmit(sk, skb, err);
}

SEC("tp/tcp/tcp_retransmit_skb")
int tcp_retrans_tp(void *ctx)
{
	struct trace_event_raw_tcp_retransmit_skb *n = ctx;
	struct trace_event_raw_tcp_event_sk_skb___o *o = ctx;

	/* see core_fixes.bpf.h: own record (with err) only since 6.17 */
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb))
		return on_retransmit(n->skaddr, n->skbaddr,
				     bpf_core_field_exists(n->err) ? n->err : 0);
	return on_retransmit(o->skaddr, o->skbaddr, 0);
}

/* ---- tcp:tcp_retransmit_synack ---- */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tcp_synack_btf, const struct sock *sk, const struct request_sock *req)
{
	return on_synack(req);
}

SEC("raw_tp/tcp_retransmit_synack")
int BPF_PROG(tcp_synack_raw, const struct sock *sk, const struct request_sock *req)
{
	return on_synack(req);
}

SEC("tp/tcp/tcp_retransmit_synack")
int tcp_synack_tp(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	return on_synack(ctx->req);
}

/* ---- tcp:tcp_send_reset ---- */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_rst_send_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return on_send_reset(sk, skb);
}

SEC("raw_tp/tcp_send_reset")
int BPF_PROG(tcp_rst_send_raw, const struct sock *sk, const struct sk_buff *skb)
{
	return on_send_reset(sk, skb);
}

SEC("tp/tcp/tcp_send_reset")
int tcp_rst_send_tp(void *ctx)
{
	struct trace_event_raw_tcp_send_reset *n = ctx;
	struct trace_event_raw_tcp_event_sk_skb___o *o = ctx;

	if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset))
		return on_send_reset(n->skaddr, n->skbaddr);
	return on_send_reset(o->skaddr, o->skbaddr);
}

/* ---- tcp:tcp_receive_reset ---- */
SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_rst_recv_btf, const struct sock *sk)
{
	return on_receive_reset(sk);
}

SEC("raw_tp/tcp_receive_reset")
int BPF_PROG(tcp_rst_recv_raw, const struct sock *sk)
{
	return on_receive_reset(sk);
}

SEC("tp/tcp/tcp_receive_reset")
int tcp_rst_recv_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return on_receive_reset(ctx->skaddr);
}

/* ---- tcp:tcp_probe (RTT samples on every ACK processed: --rtt-per-ack) ---- */
SEC("tp_btf/tcp_probe")
int BPF_PROG(tcp_probe_btf, const struct sock *sk)
{
	return on_rtt_sock(sk, true);
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(tcp_probe_raw, const struct sock *sk)
{
	return on_rtt_sock(sk, false);
}

SEC("tp/tcp/tcp_probe")
int tcp_probe_tp(struct trace_event_raw_tcp_probe *ctx)
{
	const void *sk = tcp_probe_rec_skaddr(ctx);
	__u16 family = ctx->family, sport = ctx->sport, dport = ctx->dport;
	__u32 srtt = ctx->srtt;

	if (sk)
		return on_rtt_sock(sk, false);
	/* old record: no socket, filter on its own fields */
	if (!srtt || !family_ok(family) || !port_ok(sport, dport) ||
	    task_filter_on())
		return 0;
	hist_record(TCP_H_SRTT, (__u64)srtt * 1000);
	return 0;
}

/* ---- tcp:tcp_rcv_space_adjust (RTT where tcp_probe is missing) ---- */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(tcp_rcvspace_btf, const struct sock *sk)
{
	return on_rtt_sock(sk, true);
}

SEC("raw_tp/tcp_rcv_space_adjust")
int BPF_PROG(tcp_rcvspace_raw, const struct sock *sk)
{
	return on_rtt_sock(sk, false);
}

SEC("tp/tcp/tcp_rcv_space_adjust")
int tcp_rcvspace_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return on_rtt_sock(ctx->skaddr, false);
}

/* ---- sock:sock_rcvqueue_full (no socket in the classic record) ---- */
SEC("tp_btf/sock_rcvqueue_full")
int BPF_PROG(tcp_rcvq_btf, const struct sock *sk)
{
	return on_buf_pressure(sk, TCP_C_RCVQUEUE_FULL);
}

SEC("raw_tp/sock_rcvqueue_full")
int BPF_PROG(tcp_rcvq_raw, const struct sock *sk)
{
	return on_buf_pressure(sk, TCP_C_RCVQUEUE_FULL);
}

/* ---- sock:sock_exceed_buf_limit ---- */
SEC("tp_btf/sock_exceed_buf_limit")
int BPF_PROG(tcp_memlim_btf, const struct sock *sk)
{
	return on_buf_pressure(sk, TCP_C_MEM_LIMIT);
}

SEC("raw_tp/sock_exceed_buf_limit")
int BPF_PROG(tcp_memlim_raw, const struct sock *sk)
{
	return on_buf_pressure(sk, TCP_C_MEM_LIMIT);
}

SEC("tp/sock/sock_exceed_buf_limit")
int tcp_memlim_tp(struct trace_event_raw_sock_exceed_buf_limit *ctx)
{
	/* the record names the protocol ("TCP", "TCPv6") but has no socket */
	if (ctx->name[0] != 'T' || ctx->name[1] != 'C' || ctx->name[2] != 'P' ||
	    filter_nports || task_filter_on())
		return 0;
	count(TCP_C_MEM_LIMIT, 1);
	return 0;
}
