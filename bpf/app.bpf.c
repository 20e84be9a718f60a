// SPDX-License-Identifier: GPL-2.0
/*
 * app collector: request/response turns of server-side TCP connections,
 * protocol-agnostic, with HTTP/1.x method, route and status where the
 * bytes parse as HTTP. Aggregated in the kernel per (process, port) and
 * per (process, port, method, route); only outlier turns are streamed.
 *
 * A turn starts with the first bytes received after the previous response
 * (or after accept) and ends with the last bytes sent before the next
 * receive or the close; its latency is first byte in -> last byte out. A
 * turn is counted when its response starts and its latency is moved to
 * the right histogram bucket while more of the response goes out, so the
 * histograms are complete at any moment, also for connections that are
 * still open when the session ends.
 *
 * Hooks: the socket-layer tracepoints sock_recv_length/sock_send_length
 * (6.3+: "net: sock: introduce trace_sock_send_length/trace_sock_recv_length"),
 * fired after every sock_recvmsg/sock_sendmsg with the socket and the
 * byte count; where they are missing, the syscall tracepoints of read,
 * write, readv, writev, recvfrom, sendto, recvmsg and sendmsg, resolving
 * the fd to its socket. The bytes HTTP is recognised from come from the
 * syscall's own buffer argument (the task's saved user registers), read
 * at most twice per turn: the request line at its start and the status
 * line at each response's start.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "hist.bpf.h"
#include "app.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define MSG_PEEK	2
#define S_IFMT		00170000
#define S_IFSOCK	0140000

/* x86_64 syscall numbers whose second argument leads to the data */
#define NR_READ		0
#define NR_WRITE	1
#define NR_READV	19
#define NR_WRITEV	20
#define NR_SENDTO	44
#define NR_RECVFROM	45
#define NR_SENDMSG	46
#define NR_RECVMSG	47

/* Settings (col_app.c, before load). */
const volatile __u64 min_latency_ns = 100000000ULL;
/* learn server ports from passive opens; off when --port names them */
const volatile bool learn_ports = true;

enum { PH_IDLE, PH_REQUEST, PH_RESPONSE };
#define SF_OUTLIER	1	/* this turn's outlier record was sent */

/* One server-side connection, keyed by its struct sock address. */
struct app_sock {
	__u64 turn_start;	/* first byte in of the current turn */
	__u64 recorded_ns;	/* latency counted for it so far */
	__u64 bytes_in;		/* of the current turn */
	__u64 bytes_out;
	__u32 tgid;		/* the process serving the current turn */
	__u32 tid;
	__u16 port;		/* local port */
	__u16 status;		/* first response's HTTP status */
	__u8 phase;
	__u8 method;		/* enum app_method of the request, 0: not HTTP */
	__u8 flags;
	__u8 pad;
	char route[APP_ROUTE_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct app_sock);
} socks SEC(".maps");

/* server ports: --port, else listeners (col_app.c) and passive opens */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, APP_MAX_LISTENERS);
	__type(key, struct app_listener_key);
	__type(value, struct app_listener);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, APP_MAX_ROUTES);
	__type(key, struct app_route_key);
	__type(value, struct app_route);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, APP_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* fallback path: the syscall in progress per thread (enter -> exit) */
struct sys_call {
	__u64 arg;		/* buffer, iovec array or msghdr */
	__u32 nr;
	__s32 fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sys_call);
} calls SEC(".maps");

/* zeroed values to create map entries from (too large for the stack) */
static const struct app_listener zero_listener;
static const struct app_route zero_route;

/* scratch for the bytes HTTP is recognised from */
struct peek {
	char b[APP_PEEK_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct peek);
} peeks SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		(*c)++;
}

/* Move one value of a shared histogram from oldv to newv. */
static __always_inline void hist_move_atomic(struct hist *h, __u64 oldv, __u64 newv)
{
	__u64 a = hist_slot(oldv), b = hist_slot(newv);

	/*
	 * 6.1's verifier loses the bound of a clamp the compiler turns into
	 * a conditional move ("R3 unbounded memory access"): compare against
	 * the bound in registers it sees.
	 */
	asm volatile("" : "+r"(a), "+r"(b));
	if (a >= HIST_SLOTS)
		a = HIST_SLOTS - 1;
	asm volatile("" : "+r"(a));
	if (b >= HIST_SLOTS)
		b = HIST_SLOTS - 1;
	asm volatile("" : "+r"(b));
	if (a >= HIST_SLOTS || b >= HIST_SLOTS)
		return;
	if (a != b) {
		__sync_fetch_and_add(&h->slots[a], -1);
		__sync_fetch_and_add(&h->slots[b], 1);
	}
	__sync_fetch_and_add(&h->sum, newv - oldv);
	if (newv > h->max)
		h->max = newv;
}

/*
 * The user buffer of the syscall in progress: read/write/recvfrom/sendto
 * pass it directly, readv/writev an iovec array, recvmsg/sendmsg a
 * msghdr (first iovec only: a request line or status line starts there).
 * 0 for anything else (sendfile, splice, io_uring: turns still count).
 */
static __always_inline __u64 user_buffer(__u32 nr, __u64 arg)
{
	struct user_msghdr mh;
	struct iovec iov;

	switch (nr) {
	case NR_READ:
	case NR_WRITE:
	case NR_SENDTO:
	case NR_RECVFROM:
		return arg;
	case NR_READV:
	case NR_WRITEV:
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)arg))
			return 0;
		return (__u64)iov.iov_base;
	case NR_SENDMSG:
	case NR_RECVMSG:
		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)arg) ||
		    bpf_probe_read_user(&iov, sizeof(iov), mh.msg_iov))
			return 0;
		return (__u64)iov.iov_base;
	}
	return 0;
}

/* Where the current syscall's data is: from the task's saved user registers. */
struct io {
	__u32 nr;
	__u64 arg;
};

static __always_inline void io_from_regs(struct io *io)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	io->nr = BPF_CORE_READ(regs, orig_ax);
	io->arg = BPF_CORE_READ(regs, si);
}

/* Copy up to APP_PEEK_LEN bytes of the syscall's buffer; the length copied. */
static __always_inline __u32 peek_bytes(const struct io *io, long n, struct peek **out)
{
	__u32 zero = 0;
	struct peek *p = bpf_map_lookup_elem(&peeks, &zero);
	__u64 buf = user_buffer(io->nr, io->arg), len = n;

	if (!p || !buf) {
		count(APP_C_NO_BUFFER);
		return 0;
	}
	if (len > APP_PEEK_LEN)
		len = APP_PEEK_LEN;
	/* keep the bound visible to the verifier through the compiler */
	asm volatile("%0 &= 127" : "+r"(len));
	if (len == 0 || len > APP_PEEK_LEN)
		return 0;
	if (bpf_probe_read_user(p->b, len, (void *)buf))
		return 0;
	*out = p;
	return len;
}

static __always_inline bool prefix(const char *b, __u32 len, const char *word, __u32 wlen)
{
	if (len < wlen)
		return false;
	for (__u32 i = 0; i < wlen; i++)
		if (b[i] != word[i])
			return false;
	return true;
}

/* The method of a request line, and where its path starts (0: not HTTP). */
static __always_inline __u8 http_method(const char *b, __u32 len, __u32 *path)
{
	__u32 i;

	if (prefix(b, len, "GET /", 5)) { *path = 4; return APP_M_GET; }
	if (prefix(b, len, "POST /", 6)) { *path = 5; return APP_M_POST; }
	if (prefix(b, len, "PUT /", 5)) { *path = 4; return APP_M_PUT; }
	if (prefix(b, len, "HEAD /", 6)) { *path = 5; return APP_M_HEAD; }
	if (prefix(b, len, "DELETE /", 8)) { *path = 7; return APP_M_DELETE; }
	if (prefix(b, len, "PATCH /", 7)) { *path = 6; return APP_M_PATCH; }
	if (prefix(b, len, "OPTIONS ", 8)) { *path = 8; return APP_M_OPTIONS; }
	/* another upper-case token (CONNECT, extensions) then " /" */
	for (i = 0; i < 12 && i < len; i++) {
		char c = b[i];

		if (c == ' ')
			break;
		if (c < 'A' || c > 'Z')
			return APP_M_NONE;
	}
	if (i == 0 || i + 1 >= len || i >= 12 || b[i] != ' ' || b[(i + 1) & (APP_PEEK_LEN - 1)] != '/')
		return APP_M_NONE;
	*path = i + 1;
	return APP_M_OTHER;
}

/*
 * The route: the path up to '?', with every segment that is all digits,
 * or hex digits and dashes 16 or more long (ids, UUIDs, hashes), folded
 * to ":id", so that the number of routes stays bounded. Cut at
 * APP_ROUTE_LEN - 1 bytes or the end of the peeked bytes. One character
 * per bpf_loop step (5.17+): an unrolled or bounded loop over the
 * segment state explodes the verifier's search.
 */
struct route_ctx {
	char in[APP_PEEK_LEN];
	char out[APP_ROUTE_LEN];
	__u32 len, start;
	__u32 o, seg, seglen;
	bool digits, hex;
};

static long route_step(__u32 k, struct route_ctx *r)
{
	__u32 i = r->start + k, o = r->o;
	bool end;
	char c;

	c = i < r->len ? r->in[i & (APP_PEEK_LEN - 1)] : 0;
	end = c == ' ' || c == '?' || c == '#' || c == '\r' || c == '\n' || c == 0;
	if (c == '/' || end) {
		if (r->seglen && (r->digits || (r->hex && r->seglen >= 16)) &&
		    r->seg + 3 < APP_ROUTE_LEN) {
			o = r->seg;
			r->out[o & (APP_ROUTE_LEN - 1)] = ':';
			r->out[(o + 1) & (APP_ROUTE_LEN - 1)] = 'i';
			r->out[(o + 2) & (APP_ROUTE_LEN - 1)] = 'd';
			o += 3;
		}
		if (end) {
			r->o = o;
			return 1;
		}
		if (o < APP_ROUTE_LEN - 1)
			r->out[o++ & (APP_ROUTE_LEN - 1)] = '/';
		r->o = o;
		r->seg = o;
		r->seglen = 0;
		r->digits = r->hex = true;
		return 0;
	}
	r->digits = r->digits && c >= '0' && c <= '9';
	r->hex = r->hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			    (c >= 'A' && c <= 'F') || c == '-');
	r->seglen++;
	if (o < APP_ROUTE_LEN - 1)
		r->out[o++ & (APP_ROUTE_LEN - 1)] = c;
	r->o = o;
	return 0;
}

static __always_inline void http_route(const char *b, __u32 len, __u32 start, char *out)
{
	struct route_ctx r = { .len = len, .start = start, .digits = true, .hex = true };

	__builtin_memcpy(r.in, b, APP_PEEK_LEN);
	bpf_loop(APP_PEEK_LEN, route_step, &r, 0);
	if (r.o < APP_ROUTE_LEN)
		r.out[r.o & (APP_ROUTE_LEN - 1)] = 0;
	__builtin_memcpy(out, r.out, APP_ROUTE_LEN);
}

/* "HTTP/1.x NNN" at the start of a send: the status, else 0. */
static __always_inline __u16 http_status(const char *b, __u32 len)
{
	if (len < 12 || !prefix(b, len, "HTTP/1.", 7) || b[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++)
		if (b[i] < '0' || b[i] > '9')
			return 0;
	return (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
}

static __always_inline __u32 status_class(__u16 status)
{
	__u32 c = status / 100;

	return c >= 1 && c <= 5 ? c : 0;
}

static __always_inline struct app_listener *listener_of(const struct app_sock *s)
{
	struct app_listener_key k = { .tgid = s->tgid, .port = s->port };
	struct app_listener *l = bpf_map_lookup_elem(&listeners, &k);

	if (l)
		return l;
	bpf_map_update_elem(&listeners, &k, &zero_listener, BPF_NOEXIST);
	l = bpf_map_lookup_elem(&listeners, &k);
	if (!l) {
		count(APP_C_LISTENERS_FULL);
		return NULL;
	}
	bpf_get_current_comm(l->comm, sizeof(l->comm));
	return l;
}

static __always_inline struct app_route *route_of(const struct app_sock *s)
{
	struct app_route_key k = { .tgid = s->tgid, .port = s->port, .method = s->method };
	struct app_route *r;

	__builtin_memcpy(k.route, s->route, APP_ROUTE_LEN);
	r = bpf_map_lookup_elem(&routes, &k);
	if (r)
		return r;
	if (bpf_map_update_elem(&routes, &k, &zero_route, BPF_NOEXIST) == -E2BIG) {
		/* full: one "(other)" row per (process, port, method) */
		count(APP_C_ROUTES_FULL);
		__builtin_memset(k.route, 0, APP_ROUTE_LEN);
		__builtin_memcpy(k.route, "(other)", 8);
		bpf_map_update_elem(&routes, &k, &zero_route, BPF_NOEXIST);
	}
	return bpf_map_lookup_elem(&routes, &k);
}

static __always_inline void emit_outlier(struct app_sock *s)
{
	struct app_listener *l = listener_of(s);
	struct app_outlier *e;

	if (l)
		__sync_fetch_and_add(&l->outliers, 1);
	e = ring_reserve(sizeof(*e));
	if (!e)
		return;
	e->kind = APP_EV_OUTLIER;
	e->method = s->method;
	e->port = s->port;
	e->status = s->status;
	e->pad = 0;
	e->pid = s->tgid;
	e->tid = s->tid;
	e->start_ns = s->turn_start;
	e->latency_ns = s->recorded_ns;
	e->bytes_in = s->bytes_in;
	e->bytes_out = s->bytes_out;
	if (l)
		__builtin_memcpy(e->comm, l->comm, sizeof(e->comm));
	else
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	__builtin_memcpy(e->route, s->route, APP_ROUTE_LEN);
	ring_submit(e);
}

/* The turn's last byte is out: the next receive or the close says so. */
static __always_inline void turn_end(struct app_sock *s)
{
	struct app_listener *l;

	if (s->phase == PH_RESPONSE) {
		if (s->recorded_ns >= min_latency_ns && !(s->flags & SF_OUTLIER))
			emit_outlier(s);
	} else if (s->phase == PH_REQUEST) {
		l = listener_of(s);
		if (l) {
			__sync_fetch_and_add(&l->aborted, 1);
			__sync_fetch_and_add(&l->inflight, -1);
		}
	}
	s->phase = PH_IDLE;
}

static __always_inline void on_recv(struct app_sock *s, long n, const struct io *io, __u64 now)
{
	struct app_listener *l;
	struct peek *p = NULL;
	__u64 id, inflight;
	__u32 len, path = 0;

	count(APP_C_RECV_CALLS);
	if (s->phase == PH_REQUEST) {
		s->bytes_in += n;
		return;
	}
	turn_end(s);
	id = bpf_get_current_pid_tgid();
	s->tgid = id >> 32;
	s->tid = (__u32)id;
	s->turn_start = now;
	s->recorded_ns = 0;
	s->bytes_in = n;
	s->bytes_out = 0;
	s->status = 0;
	s->flags = 0;
	s->method = APP_M_NONE;
	s->route[0] = 0;
	len = peek_bytes(io, n, &p);
	if (len && p) {
		s->method = http_method(p->b, len, &path);
		if (s->method)
			http_route(p->b, len, path, s->route);
	}
	s->phase = PH_REQUEST;
	l = listener_of(s);
	if (!l)
		return;
	inflight = __sync_fetch_and_add(&l->inflight, 1) + 1;
	if (inflight > l->max_inflight)
		l->max_inflight = inflight;
}

static __always_inline void count_status(struct app_listener *l, struct app_route *r, __u16 status)
{
	__u32 c = status_class(status);

	/* the compiler's range for c does not reach the verifier */
	asm volatile("%0 &= 7" : "+r"(c));
	if (c >= APP_NSTATUS)
		return;
	__sync_fetch_and_add(&l->http_responses, 1);
	__sync_fetch_and_add(&l->status[c], 1);
	if (r)
		__sync_fetch_and_add(&r->status[c], 1);
}

static __always_inline void on_send(struct app_sock *s, long n, const struct io *io, __u64 now)
{
	struct app_route *r = NULL;
	struct app_listener *l;
	struct peek *p = NULL;
	__u64 lat;
	__u16 status = 0;
	__u32 len;

	count(APP_C_SEND_CALLS);
	/* a server that speaks first (a banner) has no request to answer */
	if (s->phase == PH_IDLE)
		return;
	l = listener_of(s);
	if (!l)
		return;
	lat = now - s->turn_start;
	if (s->method) {
		r = route_of(s);
		len = peek_bytes(io, n, &p);
		if (len && p)
			status = http_status(p->b, len);
	}
	if (s->phase == PH_REQUEST) {
		count(APP_C_TURNS);
		__sync_fetch_and_add(&l->inflight, -1);
		__sync_fetch_and_add(&l->bytes_in, s->bytes_in);
		hist_add_atomic(&l->latency, lat);
		if (s->method)
			__sync_fetch_and_add(&l->http_turns, 1);
		if (r)
			hist_add_atomic(&r->latency, lat);
		s->status = status;
		s->phase = PH_RESPONSE;
	} else {
		hist_move_atomic(&l->latency, s->recorded_ns, lat);
		if (r)
			hist_move_atomic(&r->latency, s->recorded_ns, lat);
	}
	/* every status line is one HTTP response (pipelined ones too) */
	if (status)
		count_status(l, r, status);
	s->recorded_ns = lat;
	s->bytes_out += n;
	__sync_fetch_and_add(&l->bytes_out, n);
}

/* A TCP socket of a server port, as seen for the first time. */
static __always_inline struct app_sock *sock_lookup(struct sock *sk, bool direct)
{
	__u64 key = (__u64)sk;
	struct app_sock *s = bpf_map_lookup_elem(&socks, &key), init = {};
	__u16 family, port;

	if (s)
		return s;
	if (direct) {
		family = sk->__sk_common.skc_family;
		port = sk->__sk_common.skc_num;
	} else {
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
		port = BPF_CORE_READ(sk, __sk_common.skc_num);
	}
	if ((family != AF_INET && family != AF_INET6) || !bpf_map_lookup_elem(&ports, &port) ||
	    get_sk_protocol(sk, direct) != IPPROTO_TCP)
		return NULL;
	init.port = port;
	if (bpf_map_update_elem(&socks, &key, &init, BPF_NOEXIST) == -E2BIG)
		count(APP_C_SOCKS_FULL);
	return bpf_map_lookup_elem(&socks, &key);
}

static __always_inline void on_io(struct sock *sk, long n, bool send, const struct io *io,
				  bool direct)
{
	struct app_sock *s;

	if (n <= 0 || !sk || !want_current())
		return;
	s = sock_lookup(sk, direct);
	if (!s)
		return;
	if (send)
		on_send(s, n, io, bpf_ktime_get_ns());
	else
		on_recv(s, n, io, bpf_ktime_get_ns());
}

/* ---- socket-layer tracepoints ---------------------------------------- */

static __always_inline void sock_len(struct sock *sk, int ret, int flags, bool send, bool direct)
{
	struct io io;

	if (flags & MSG_PEEK && !send)
		return;
	io_from_regs(&io);
	on_io(sk, ret, send, &io, direct);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(app_recv_btf, struct sock *sk, int ret, int flags)
{
	sock_len(sk, ret, flags, false, true);
	return 0;
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(app_recv_raw, struct sock *sk, int ret, int flags)
{
	sock_len(sk, ret, flags, false, false);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(app_send_btf, struct sock *sk, int ret, int flags)
{
	sock_len(sk, ret, flags, true, true);
	return 0;
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(app_send_raw, struct sock *sk, int ret, int flags)
{
	sock_len(sk, ret, flags, true, false);
	return 0;
}

/* ---- syscall tracepoints (kernels without the socket ones) ----------- */

/* The records of syscalls:sys_enter_* and sys_exit_* (perf ABI). */
struct sys_enter_rec {
	__u64 ent;
	int nr;
	int pad;
	unsigned long args[3];
};

struct sys_exit_rec {
	__u64 ent;
	int nr;
	int pad;
	long ret;
};

/* Attached to sys_enter_{read,write,readv,writev,recvfrom,sendto,recvmsg,sendmsg}. */
SEC("tracepoint")
int app_sys_enter_tp(struct sys_enter_rec *ctx)
{
	struct sys_call c = { .arg = ctx->args[1], .nr = ctx->nr, .fd = (int)ctx->args[0] };
	__u64 id = bpf_get_current_pid_tgid();

	if (!want_current())
		return 0;
	bpf_map_update_elem(&calls, &id, &c, BPF_ANY);
	return 0;
}

/* The socket behind fd in the current task, or NULL. */
static __always_inline struct sock *fd_sock(int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(t, files, fdt, max_fds);
	struct file *f = NULL;
	struct socket *sock;
	umode_t mode;

	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* Attached to the matching sys_exit_* tracepoints. */
SEC("tracepoint")
int app_sys_exit_tp(struct sys_exit_rec *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sys_call *c = bpf_map_lookup_elem(&calls, &id);
	struct sock *sk;
	struct io io;
	bool send;

	if (!c)
		return 0;
	io.nr = c->nr;
	io.arg = c->arg;
	send = c->nr == NR_WRITE || c->nr == NR_WRITEV || c->nr == NR_SENDTO ||
	       c->nr == NR_SENDMSG;
	sk = ctx->ret > 0 ? fd_sock(c->fd) : NULL;
	bpf_map_delete_elem(&calls, &id);
	if (sk)
		on_io(sk, ctx->ret, send, &io, false);
	return 0;
}

/* ---- connection state: learn server ports, end turns at close -------- */

static __always_inline void sock_state(struct sock *sk, int oldstate, int newstate, __u16 proto,
				       __u16 port)
{
	__u64 key = (__u64)sk;
	struct app_sock *s;
	__u8 one = 1;

	if (proto != IPPROTO_TCP)
		return;
	/* a passive open: the child socket of a listener reaches ESTABLISHED */
	if (learn_ports && oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		bpf_map_update_elem(&ports, &port, &one, BPF_ANY);
		return;
	}
	if (newstate != TCP_CLOSE)
		return;
	s = bpf_map_lookup_elem(&socks, &key);
	if (!s)
		return;
	turn_end(s);
	bpf_map_delete_elem(&socks, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(app_state_btf, struct sock *sk, int oldstate, int newstate)
{
	sock_state(sk, oldstate, newstate, get_sk_protocol(sk, true), sk->__sk_common.skc_num);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(app_state_raw, struct sock *sk, int oldstate, int newstate)
{
	sock_state(sk, oldstate, newstate, get_sk_protocol(sk, false),
		   BPF_CORE_READ(sk, __sk_common.skc_num));
	return 0;
}

SEC("tp/sock/inet_sock_set_state")
int app_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	sock_state((struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate, ctx->protocol,
		   ctx->sport);
	return 0;
}
