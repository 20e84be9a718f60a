// SPDX-License-Identifier: GPL-2.0
/* app collector, userspace side: server ports, hooks, request/response turns to JSON, render. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collector.h"
#include "clock.h"
#include "col_app.h"
#include "hist.h"
#include "log.h"
#include "untrusted.h"
#include "bpf/app.h"
#include "app.skel.h"

#define APP_DEFAULT_MIN_LATENCY_NS 100000000ULL	/* 100 ms */
#define APP_MAX_OUTLIERS_JSON 10000

enum { H_RECV, H_SEND, H_SYS_ENTER, H_SYS_EXIT, H_STATE, H_COUNT };

#define CHAIN_BTF_RAW (M(HOOK_TP_BTF) | M(HOOK_RAW_TP))

/*
 * The socket tracepoints' classic records carry the socket but not the
 * task's data, and the syscall tracepoints are classic only: so the chain
 * is tp_btf -> raw_tp on the socket layer, then the syscalls, and
 * DISCO_FORCE_METHOD=tracepoint drives the syscall path on any kernel.
 */
static const struct hook_spec app_hooks[H_COUNT] = {
	[H_RECV] = { "sock:sock_recv_length", CHAIN_BTF_RAW, true,
		     "request bytes per socket (6.3+; else the syscall tracepoints)",
		     .progs = "app_recv", .group = 1 },
	[H_SEND] = { "sock:sock_send_length", CHAIN_BTF_RAW, true,
		     "response bytes per socket (6.3+; else the syscall tracepoints)",
		     .progs = "app_send", .group = 1 },
	/* attached to every syscall of app_syscalls[] by app_start() */
	[H_SYS_ENTER] = { "syscalls:sys_enter_read", M(HOOK_TRACEPOINT), true,
			  "receive and send syscalls on sockets", "sock:sock_recv_length",
			  .progs = "app_sys_enter" },
	[H_SYS_EXIT] = { "syscalls:sys_exit_read", M(HOOK_TRACEPOINT), true,
			 "receive and send syscalls on sockets", "sock:sock_send_length",
			 .progs = "app_sys_exit" },
	[H_STATE] = { "sock:inet_sock_set_state", HOOK_CHAIN_TP, true,
		      "servers that start listening during the session; turns ended at close",
		      .progs = "app_state" },
};

/* The syscalls the fallback path attaches to, besides read (in the hook row). */
static const char *const app_syscalls[] = {
	"read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
};
#define APP_NSYSCALLS (sizeof(app_syscalls) / sizeof(app_syscalls[0]))

static const struct col_option app_options[] = {
	{ "port", true, "only servers on this local port (repeatable, up to 16; default: every listening port)" },
	{ "app-routes", false, "export HTTP routes as Prometheus labels (one series set per route)" },
	{ NULL, false, NULL },
};

struct app_opts {
	uint16_t ports[APP_MAX_PORTS];
	unsigned int nports;
	bool routes;
};

static const struct app_opts app_opts_default;

static int app_set_option(void *opts, const char *name, const char *arg)
{
	struct app_opts *app_opt = opts;

	if (!strcmp(name, "port")) {
		unsigned long v;
		char *end;

		if (!arg || !*arg || arg[0] == '-')
			return -EINVAL;
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || v == 0 || v > 65535)
			return -EINVAL;
		if (app_opt->nports == APP_MAX_PORTS) {
			log_err("app: at most %d --port options", APP_MAX_PORTS);
			return -E2BIG;
		}
		app_opt->ports[app_opt->nports++] = (uint16_t)v;
		return 0;
	}
	if (!strcmp(name, "app-routes")) {
		app_opt->routes = true;
		return 0;
	}
	return -EINVAL;
}

struct app_priv {
	uint64_t start_ns;
	struct bpf_link *links[2 * APP_NSYSCALLS];
	int nlinks;
};

/* ---- pure helpers (unit tested) ---------------------------------------- */

const char *app_method_name(unsigned int m)
{
	static const char *const names[APP_NMETHODS] = {
		[APP_M_NONE] = "", [APP_M_GET] = "GET", [APP_M_HEAD] = "HEAD",
		[APP_M_POST] = "POST", [APP_M_PUT] = "PUT", [APP_M_DELETE] = "DELETE",
		[APP_M_PATCH] = "PATCH", [APP_M_OPTIONS] = "OPTIONS", [APP_M_OTHER] = "OTHER",
	};

	return m < APP_NMETHODS ? names[m] : "?";
}

int app_listen_ports(const char *text, size_t len, uint16_t *ports, int max)
{
	const char *p = text, *end = text + len;
	int n = 0;

	/* "  sl  local_address rem_address   st ..." then one socket a line */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *lineend = nl ? nl : end;
		unsigned int port, st;
		char line[256];
		size_t ll = (size_t)(lineend - p);

		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, p, ll);
		line[ll] = 0;
		p = nl ? nl + 1 : end;
		/* local address is hex ADDR:PORT; state 0A is LISTEN */
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &port, &st) != 2)
			continue;
		if (st != 0x0A || port == 0 || port > 65535)
			continue;
		for (int i = 0; i < n; i++)
			if (ports[i] == port)
				goto next;
		if (n == max)
			return -E2BIG;
		ports[n++] = (uint16_t)port;
next:
		;
	}
	return n;
}

/* ---- record side ------------------------------------------------------- */

static int fill_ports(struct app_bpf *skel, const struct app_opts *app_opt)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	int fd = bpf_map__fd(skel->maps.ports);
	uint16_t ports[4096];
	__u8 one = 1;
	int n = 0;

	if (app_opt->nports) {
		memcpy(ports, app_opt->ports, app_opt->nports * sizeof(ports[0]));
		n = (int)app_opt->nports;
	} else {
		for (size_t f = 0; f < 2; f++) {
			FILE *fp = fopen(files[f], "re");
			char *text = NULL;
			size_t cap = 0;
			ssize_t got;
			int k;

			if (!fp)
				continue;
			got = getdelim(&text, &cap, 0, fp);
			fclose(fp);
			if (got > 0) {
				k = app_listen_ports(text, (size_t)got, ports + n, 4096 - n);
				if (k > 0)
					n += k;
			}
			free(text);
		}
	}
	for (int i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &ports[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

static int attach_syscalls(struct app_bpf *skel, struct app_priv *priv)
{
	char name[64];

	for (size_t i = 0; i < APP_NSYSCALLS; i++) {
		for (int exit = 0; exit < 2; exit++) {
			struct bpf_program *prog = exit ? skel->progs.app_sys_exit_tp
							: skel->progs.app_sys_enter_tp;
			struct bpf_link *l;

			snprintf(name, sizeof(name), "sys_%s_%s", exit ? "exit" : "enter",
				 app_syscalls[i]);
			l = bpf_program__attach_tracepoint(prog, "syscalls", name);
			if (!l) {
				int err = -errno;

				log_err("app: attaching to syscalls:%s failed: %s", name, strerror(-err));
				return err;
			}
			priv->links[priv->nlinks++] = l;
		}
	}
	return 0;
}

COLLECTOR_SKEL(app);

static int app_configure(struct col_run *run, const struct rec_opts *o)
{
	const struct app_opts *app_opt = run->opts;
	struct app_bpf *skel = run->skel;

	skel->rodata->min_latency_ns = o->min_latency_ns ?: APP_DEFAULT_MIN_LATENCY_NS;
	skel->rodata->learn_ports = app_opt->nports == 0;
	return 0;
}

static bool sys_path(const struct col_run *run)
{
	return run->hooks[H_SYS_ENTER].method != HOOK_NONE &&
	       run->hooks[H_SYS_EXIT].method != HOOK_NONE;
}

/* Receive and send must come from one source, or turns never close. */
static int app_prepare(struct col_run *run, const struct rec_opts *o)
{
	struct app_bpf *skel = run->skel;
	bool sock_path = run->hooks[H_RECV].method != HOOK_NONE &&
			 run->hooks[H_SEND].method != HOOK_NONE;

	(void)o;
	if (!sock_path && (run->hooks[H_SYS_ENTER].not_needed || run->hooks[H_SYS_EXIT].not_needed)) {
		log_err("app: only one of sock_recv_length and sock_send_length can be hooked");
		return -ENOTSUP;
	}
	if (!sock_path && !sys_path(run)) {
		log_err("app: neither the socket tracepoints nor the syscall tracepoints can be hooked: %s",
			run->hooks[H_SYS_ENTER].reason);
		return -ENOTSUP;
	}
	bpf_map__set_autocreate(skel->maps.calls, sys_path(run));
	return 0;
}

/* Attached: the server ports to watch, and the syscall tracepoints by hand. */
static int app_start(struct col_run *run, const struct rec_opts *o)
{
	struct app_bpf *skel = run->skel;
	struct app_priv *priv;
	int err;

	(void)o;
	err = fill_ports(skel, run->opts);
	if (err) {
		log_err("app: cannot fill the server port table: %s", strerror(-err));
		return err;
	}
	priv = calloc(1, sizeof(*priv));
	if (!priv)
		return -ENOMEM;
	run->priv = priv;
	if (sys_path(run)) {
		err = attach_syscalls(skel, priv);
		if (err)
			return err;
	}
	priv->start_ns = mono_ns();
	return 0;
}

static void app_stop(struct col_run *run)
{
	struct app_priv *priv = run->priv;

	for (int i = 0; priv && i < priv->nlinks; i++)
		bpf_link__destroy(priv->links[i]);
	free(priv);
	run->priv = NULL;
}

static const char *const status_keys[APP_NSTATUS] = {
	"status_other", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
};

static void set_status(json_t *o, const __u64 *status)
{
	for (int i = 0; i < APP_NSTATUS; i++)
		json_object_set_new(o, status_keys[i], json_integer((json_int_t)status[i]));
}

/*
 * One row per (command name, port): the workers of one server (nginx's,
 * a pre-forked pool) are one service. pids counts the processes.
 */
struct svc {
	char comm[16];
	uint16_t port;
	uint32_t pid;		/* the busiest */
	uint64_t pid_turns;
	uint32_t pids;
	struct app_listener sum;
};

static struct svc *svc_find(struct svc **svcs, size_t *n, const struct app_listener *l, __u16 port)
{
	struct svc *tmp;

	for (size_t i = 0; i < *n; i++)
		if ((*svcs)[i].port == port && !strncmp((*svcs)[i].comm, l->comm, 16))
			return &(*svcs)[i];
	tmp = realloc(*svcs, (*n + 1) * sizeof(**svcs));
	if (!tmp)
		return NULL;
	*svcs = tmp;
	memset(&tmp[*n], 0, sizeof(tmp[*n]));
	untrusted_copy(tmp[*n].comm, sizeof(tmp[*n].comm), l->comm, 16);
	tmp[*n].port = port;
	return &tmp[(*n)++];
}

static void svc_add(struct svc *s, const struct app_listener *l, uint32_t pid)
{
	struct app_listener *d = &s->sum;

	hist_merge(&d->latency, &l->latency);
	d->bytes_in += l->bytes_in;
	d->bytes_out += l->bytes_out;
	d->http_responses += l->http_responses;
	for (int i = 0; i < APP_NSTATUS; i++)
		d->status[i] += l->status[i];
	d->aborted += l->aborted;
	d->inflight += l->inflight;
	d->max_inflight += l->max_inflight;
	d->outliers += l->outliers;
	d->http_turns += l->http_turns;
	s->pids++;
	if (!s->pid || l->latency.count > s->pid_turns) {
		s->pid = pid;
		s->pid_turns = l->latency.count;
	}
}

static json_t *svc_json(const struct svc *s, double secs)
{
	const struct app_listener *l = &s->sum;
	uint64_t turns = l->latency.count;
	json_t *o = json_pack("{s:i, s:s, s:i, s:i, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "port", s->port, "comm", s->comm, "pid", s->pid,
			      "processes", s->pids,
			      "protocol", l->http_turns * 2 >= turns && turns ? "http" : "tcp",
			      "turns", (json_int_t)turns,
			      "latency", hist_to_json(&l->latency, "ns"),
			      "request_bytes", (json_int_t)l->bytes_in,
			      "response_bytes", (json_int_t)l->bytes_out,
			      "http_responses", (json_int_t)l->http_responses,
			      "aborted", (json_int_t)l->aborted,
			      "outliers", (json_int_t)l->outliers,
			      "current_inflight", (json_int_t)l->inflight,
			      "max_inflight", (json_int_t)l->max_inflight);

	set_status(o, l->status);
	if (secs > 0) {
		json_object_set_new(o, "turns_per_sec", json_real(turns / secs));
		/* Little's law: time-averaged turns in progress */
		json_object_set_new(o, "mean_concurrency", json_real(l->latency.sum / 1e9 / secs));
	}
	return o;
}

static int by_turns_desc(const void *pa, const void *pb)
{
	const struct svc *a = pa, *b = pb;

	if (a->sum.latency.count != b->sum.latency.count)
		return a->sum.latency.count < b->sum.latency.count ? 1 : -1;
	return (int)a->port - (int)b->port;
}

static json_t *collect_listeners(struct app_bpf *skel, double secs)
{
	int fd = bpf_map__fd(skel->maps.listeners);
	struct app_listener_key k, next, *prev = NULL;
	struct app_listener *v = malloc(sizeof(*v));
	struct svc *svcs = NULL;
	size_t n = 0;
	json_t *a = json_array();

	while (v && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		struct svc *s = svc_find(&svcs, &n, v, k.port);

		if (s)
			svc_add(s, v, k.tgid);
	}
	if (n)
		qsort(svcs, n, sizeof(*svcs), by_turns_desc);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, svc_json(&svcs[i], secs));
	free(svcs);
	free(v);
	return a;
}

/* Routes merged like services: (comm, port, method, route). */
struct rt {
	struct app_route_key key;	/* tgid unused */
	char comm[16];
	struct app_route sum;
};

static json_t *collect_routes(struct app_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.routes), lfd = bpf_map__fd(skel->maps.listeners);
	struct app_route_key k, next, *prev = NULL;
	struct app_route *v = malloc(sizeof(*v));
	struct app_listener *l = malloc(sizeof(*l));
	struct rt *rts = NULL, *tmp;
	size_t n = 0, i;
	json_t *a = json_array();

	while (v && l && !bpf_map_get_next_key(fd, prev, &next)) {
		struct app_listener_key lk;
		char comm[16] = "";

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		lk.tgid = k.tgid;
		lk.port = k.port;
		lk.pad = 0;
		if (!bpf_map_lookup_elem(lfd, &lk, l))
			memcpy(comm, l->comm, 15);
		for (i = 0; i < n; i++)
			if (rts[i].key.port == k.port && rts[i].key.method == k.method &&
			    !strncmp(rts[i].key.route, k.route, APP_ROUTE_LEN) &&
			    !strncmp(rts[i].comm, comm, 16))
				break;
		if (i == n) {
			tmp = realloc(rts, (n + 1) * sizeof(*rts));
			if (!tmp)
				break;
			rts = tmp;
			memset(&rts[n], 0, sizeof(rts[n]));
			rts[n].key = k;
			memcpy(rts[n].comm, comm, 16);
			n++;
		}
		hist_merge(&rts[i].sum.latency, &v->latency);
		for (int s = 0; s < APP_NSTATUS; s++)
			rts[i].sum.status[s] += v->status[s];
	}
	for (i = 0; i < n; i++) {
		char route[APP_ROUTE_LEN + 1];
		json_t *o;

		char comm[16];

		/* routes come from any client's request line, names from any process */
		untrusted_copy(route, sizeof(route), rts[i].key.route, APP_ROUTE_LEN);
		untrusted_copy(comm, sizeof(comm), rts[i].comm, 16);
		o = json_pack("{s:i, s:s, s:s, s:s, s:o}", "port", rts[i].key.port,
			      "comm", comm, "method", app_method_name(rts[i].key.method),
			      "route", route, "latency", hist_to_json(&rts[i].sum.latency, "ns"));
		set_status(o, rts[i].sum.status);
		json_array_append_new(a, o);
	}
	free(rts);
	free(v);
	free(l);
	return a;
}

static json_t *app_collect(struct col_run *run)
{
	struct app_bpf *skel = run->skel;
	const struct app_opts *app_opt = run->opts;
	struct app_priv *priv = run->priv;
	uint64_t elapsed = mono_ns() - priv->start_ns, c[APP_NCOUNTERS];
	json_t *o = json_object(), *ports = json_array();

	json_object_set_new(o, "elapsed_ns", json_integer((json_int_t)elapsed));
	json_object_set_new(o, "services", collect_listeners(skel, elapsed / 1e9));
	json_object_set_new(o, "routes", collect_routes(skel));
	if (!percpu_counters_read(bpf_map__fd(skel->maps.counters), APP_NCOUNTERS, c))
		json_object_set_new(o, "counters", json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"receives", (json_int_t)c[APP_C_RECV_CALLS],
			"sends", (json_int_t)c[APP_C_SEND_CALLS],
			"turns", (json_int_t)c[APP_C_TURNS],
			"routes_full", (json_int_t)c[APP_C_ROUTES_FULL],
			"services_full", (json_int_t)c[APP_C_LISTENERS_FULL],
			"connections_full", (json_int_t)c[APP_C_SOCKS_FULL],
			"no_buffer", (json_int_t)c[APP_C_NO_BUFFER]));
	for (unsigned int i = 0; i < app_opt->nports; i++)
		json_array_append_new(ports, json_integer(app_opt->ports[i]));
	json_object_set_new(o, "filters", json_pack("{s:o, s:I}", "ports", ports,
			    "min_latency_ns", (json_int_t)skel->rodata->min_latency_ns));
	/* routes as labels multiply series: only when asked for */
	if (!app_opt->routes)
		json_object_set_new(o, "prom_skip", json_pack("[s]", "routes"));
	return o;
}

/* ---- report side --------------------------------------------------------- */

static int app_report_event(json_t *col, const void *data, size_t len,
			    const struct report_opts *ro)
{
	struct app_outlier e;
	char comm[16], route[APP_ROUTE_LEN];
	json_t *o;

	if (len != sizeof(e))
		return -EINVAL;
	memcpy(&e, data, sizeof(e));
	if (e.kind != APP_EV_OUTLIER || e.method >= APP_NMETHODS)
		return -EINVAL;
	untrusted_copy(comm, sizeof(comm), e.comm, sizeof(e.comm));
	untrusted_copy(route, sizeof(route), e.route, sizeof(e.route));
	o = json_pack("{s:I, s:I, s:i, s:i, s:s, s:i, s:s, s:s, s:i, s:I, s:I}",
		      "time_ns", (json_int_t)(e.start_ns > ro->start_mono_ns ?
					      e.start_ns - ro->start_mono_ns : 0),
		      "latency_ns", (json_int_t)e.latency_ns,
		      "pid", e.pid, "tid", e.tid, "comm", comm, "port", e.port,
		      "method", app_method_name(e.method), "route", route,
		      "status", e.status,
		      "request_bytes", (json_int_t)e.bytes_in,
		      "response_bytes", (json_int_t)e.bytes_out);
	report_append_bounded(col, "outliers", o, APP_MAX_OUTLIERS_JSON);
	return 0;
}

static int by_latency_desc(const void *pa, const void *pb)
{
	uint64_t a = json_u64(*(json_t *const *)pa, "latency_ns");
	uint64_t b = json_u64(*(json_t *const *)pb, "latency_ns");

	return a < b ? 1 : a > b ? -1 : 0;
}

static void app_report_finish(json_t *col, const struct report_opts *ro)
{
	json_t *outl = json_object_get(col, "outliers");
	size_t n = json_array_size(outl);
	json_t **items;

	(void)ro;
	if (n < 2)
		return;
	items = calloc(n, sizeof(*items));
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(outl, i));
	qsort(items, n, sizeof(*items), by_latency_desc);
	json_array_clear(outl);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(outl, items[i]);
	free(items);
}

static uint64_t errors_5xx(const json_t *o)
{
	return json_u64(o, "status_5xx");
}

static void print_service(FILE *out, const json_t *s, double secs)
{
	const json_t *lat = json_object_get(s, "latency");
	uint64_t turns = json_u64(s, "turns"), resp = json_u64(s, "http_responses");
	bool http = !strcmp(json_string_value(json_object_get(s, "protocol")) ?: "", "http");
	char b[4][16];

	fprintf(out, "%s on :%" PRIu64 " (pid %" PRIu64 "%s) - %s", json_string_value(json_object_get(s, "comm")) ?: "?",
		json_u64(s, "port"), json_u64(s, "pid"), json_u64(s, "processes") > 1 ? " and others" : "",
		http ? "HTTP/1.x" : "request/response turns (not HTTP)");
	if (secs > 0)
		fprintf(out, ", %.1f %s/s", (http ? resp : turns) / secs, http ? "req" : "turns");
	fprintf(out, ", p50 %s, p99 %s", fmt_ns(json_u64(lat, "p50_ns"), b[0], 16),
		fmt_ns(json_u64(lat, "p99_ns"), b[1], 16));
	if (http && resp)
		fprintf(out, ", %.2f%% 5xx, %.2f%% 4xx", 100.0 * errors_5xx(s) / resp,
			100.0 * json_u64(s, "status_4xx") / resp);
	fputc('\n', out);
	fprintf(out, "  %" PRIu64 " turns, %s in, %s out", turns,
		fmt_bytes(json_u64(s, "request_bytes"), b[2], 16),
		fmt_bytes(json_u64(s, "response_bytes"), b[3], 16));
	if (http)
		fprintf(out, ", %" PRIu64 " responses (1xx %" PRIu64 ", 2xx %" PRIu64 ", 3xx %" PRIu64
			", 4xx %" PRIu64 ", 5xx %" PRIu64 ", other %" PRIu64 ")", resp,
			json_u64(s, "status_1xx"), json_u64(s, "status_2xx"), json_u64(s, "status_3xx"),
			json_u64(s, "status_4xx"), json_u64(s, "status_5xx"), json_u64(s, "status_other"));
	fprintf(out, "; mean concurrency %.2f, max in flight %" PRIu64 ", %" PRIu64
		" closed before a response\n",
		json_real_value(json_object_get(s, "mean_concurrency")), json_u64(s, "max_inflight"),
		json_u64(s, "aborted"));
	report_print_latency_row(out, "  turn latency", lat);
}

static void app_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	const json_t *svcs = json_object_get(col, "services"), *routes = json_object_get(col, "routes");
	const json_t *outl = json_object_get(col, "outliers"), *s;
	double secs = json_u64(col, "elapsed_ns") / 1e9;
	size_t i;
	char b[3][16];

	if (!json_array_size(svcs)) {
		fprintf(out, "No request/response turns on server sockets.\n");
		return;
	}
	fprintf(out, "Services (a turn: first request byte in -> last response byte out):\n\n");
	report_print_latency_row(out, NULL, NULL);
	json_array_foreach(svcs, i, s) {
		if ((int)i >= ro->top)
			break;
		print_service(out, s, secs);
		fputc('\n', out);
	}
	if (json_array_size(routes)) {
		fprintf(out, "HTTP routes (numeric and hex-id path segments folded to :id):\n");
		fprintf(out, "  %-6s %-7s %-32s %8s %9s %9s %9s %6s %6s %6s\n", "PORT", "METHOD", "ROUTE",
			"count", "p50", "p99", "max", "2xx", "4xx", "5xx");
		json_array_foreach(routes, i, s) {
			const json_t *lat = json_object_get(s, "latency");

			if ((int)i >= ro->top * 2)
				break;
			fprintf(out, "  %-6" PRIu64 " %-7s %-32s %8" PRIu64 " %9s %9s %9s %6" PRIu64
				" %6" PRIu64 " %6" PRIu64 "\n", json_u64(s, "port"),
				json_string_value(json_object_get(s, "method")) ?: "?",
				json_string_value(json_object_get(s, "route")) ?: "?",
				json_u64(lat, "count"), fmt_ns(json_u64(lat, "p50_ns"), b[0], 16),
				fmt_ns(json_u64(lat, "p99_ns"), b[1], 16),
				fmt_ns(json_u64(lat, "max_ns"), b[2], 16), json_u64(s, "status_2xx"),
				json_u64(s, "status_4xx"), json_u64(s, "status_5xx"));
		}
		fputc('\n', out);
	}
	if (json_array_size(outl)) {
		fprintf(out, "Slowest turns (over %s; time from session start):\n",
			fmt_ns(json_u64(json_object_get(col, "filters"), "min_latency_ns"), b[0], 16));
		fprintf(out, "  %10s %9s %-8s %-16s %-6s %-7s %-28s %6s\n", "at", "latency", "TID", "COMM",
			"PORT", "METHOD", "ROUTE", "status");
		json_array_foreach(outl, i, s) {
			if ((int)i >= ro->top)
				break;
			fprintf(out, "  %10s %9s %-8" PRIu64 " %-16s %-6" PRIu64 " %-7s %-28s %6" PRIu64 "\n",
				fmt_ns(json_u64(s, "time_ns"), b[0], 16),
				fmt_ns(json_u64(s, "latency_ns"), b[1], 16), json_u64(s, "tid"),
				json_string_value(json_object_get(s, "comm")) ?: "?", json_u64(s, "port"),
				json_string_value(json_object_get(s, "method")) ?: "",
				json_string_value(json_object_get(s, "route")) ?: "",
				json_u64(s, "status"));
		}
		if (json_u64(col, "outliers_not_listed"))
			fprintf(out, "  (%" PRIu64 " more not kept)\n", json_u64(col, "outliers_not_listed"));
	}
}

const struct collector col_app = {
	.name = "app",
	.id = 9,
	.help = "request/response latency, rate and HTTP errors per listening service",
	.default_on = false,
	.hooks = app_hooks,
	.nhooks = H_COUNT,
	.options = app_options,
	.opts_size = sizeof(struct app_opts),
	.opts_default = &app_opts_default,
	.set_option = app_set_option,
	.skel = &app_skel,
	.configure = app_configure,
	.prepare = app_prepare,
	.start = app_start,
	.collect = app_collect,
	.stop = app_stop,
	.report_event = app_report_event,
	.report_finish = app_report_finish,
	.render_text = app_render_text,
};
