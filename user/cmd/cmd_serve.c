// SPDX-License-Identifier: GPL-2.0
/* disco serve: collectors stay attached, /metrics in the Prometheus text format. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "caps.h"
#include "cmd.h"
#include "log.h"
#include "opts.h"
#include "out_prom.h"
#include "record_opts.h"
#include "recorder.h"
#include "clock.h"

#define DEFAULT_LISTEN "127.0.0.1:9464"
#define STR_(x) #x
#define STR(x) STR_(x)

const char usage_serve[] =
"usage: disco serve [--listen ADDR:PORT] [--max-series N] [--per-pid] [-e LIST] [-p PID]...\n"
"                   [--cgroup PATH] [--comm NAME] [--min-latency TIME] [-d SECS]\n"
"\n"
"Keep the collectors attached and serve their figures over HTTP in the\n"
"Prometheus text format: GET /metrics (histograms in seconds, counters,\n"
"drops per collector, disco_build_info). Every scrape reads the kernel's\n"
"histograms afresh. Runs until SIGINT/SIGTERM (or -d). Needs root to attach;\n"
"capabilities not needed afterwards are dropped.\n"
"\n"
"Options:\n"
"      --listen ADDR:PORT  where to listen (default " DEFAULT_LISTEN ", loopback only);\n"
"                          [::1]:9464 for IPv6, :9464 for every interface (warns:\n"
"                          /metrics names processes and has no authentication)\n"
"      --max-series N      label sets per family of rows (cgroups, stacks, ...; default\n"
"                          " STR(PROM_DEFAULT_MAX_SERIES) "), the rest summed into one labelled \"other\";\n"
"                          CPUs, disks, interfaces are all kept (--top N: the old name)\n"
"      --per-pid           per-process series (pid, comm labels) instead of sums per\n"
"                          cgroup: unbounded churn on a busy host, so it warns\n"
"  -e, --event LIST        collectors (default: the default ones, see `disco check`)\n"
"  -p, --pid PID           only this process (repeatable)\n"
"      --cgroup PATH       only tasks in this cgroup v2 directory\n"
"      --comm NAME         only tasks with this command name\n"
"      --min-latency TIME  outlier threshold (default 10ms)\n"
"  -d, --duration TIME     stop after TIME (default: until SIGINT/SIGTERM)\n"
"  -v, --verbose           more messages (-vv: every request)\n"
"  -q, --quiet             no \"serving\" and \"stopped serving\" lines\n"
"  -j, --json              refused: /metrics is the Prometheus text format\n"
"\n"
"Examples:\n"
"  sudo disco serve                                  # http://127.0.0.1:9464/metrics\n"
"  sudo disco serve -e sched --listen 127.0.0.1:9500 --max-series 20\n"
"  curl -s 127.0.0.1:9464/metrics | promtool check metrics\n"
"\n"
"Prometheus scrape config:\n"
"  scrape_configs:\n"
"    - job_name: disco\n"
"      static_configs: [{targets: ['127.0.0.1:9464']}]\n";



/*
 * Slow clients (SPEC §8, issue 19): an idle timeout alone lets a client
 * that sends one header line every few seconds hold a connection forever.
 * So every request also has a deadline from its connection's start (or
 * the previous request's end), one address holds at most HTTP_PER_CLIENT
 * connections, and there are enough slots that one address cannot take
 * them all. A scrape of this exporter takes milliseconds.
 */
#define HTTP_SLOTS	128
#define HTTP_PER_CLIENT	8
#define HTTP_IDLE_S	10
#define HTTP_DEADLINE_NS (10 * 1000000000ULL)

struct conn_slot {
	int fd;			/* -1: free */
	uint64_t since_ns;	/* the current request's clock, UINT64_MAX once cut */
};

struct server {
	struct recorder *rec;
	struct prom_opts po;
	struct conn_slot conns[HTTP_SLOTS];
};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn_slot *slot = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (slot)
			slot->fd = -1;
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	for (size_t i = 0; ci && i < HTTP_SLOTS; i++) {
		if (s->conns[i].fd >= 0)
			continue;
		s->conns[i].fd = ci->connect_fd;
		s->conns[i].since_ns = mono_ns();
		*socket_context = &s->conns[i];
		return;
	}
}

/* A request answered: the next one on this connection starts its own clock. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_slot *slot = ci ? ci->socket_context : NULL;

	(void)cls;
	(void)con_cls;
	if (slot && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && slot->since_ns != UINT64_MAX)
		slot->since_ns = mono_ns();
}

/* Cut the connections whose request is past its deadline; MHD then closes them. */
static void cut_slow_clients(struct server *s)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < HTTP_SLOTS; i++) {
		struct conn_slot *c = &s->conns[i];

		if (c->fd < 0 || c->since_ns == UINT64_MAX || now - c->since_ns < HTTP_DEADLINE_NS)
			continue;
		log_debug("serve: closing a connection whose request took over %llu s",
			  HTTP_DEADLINE_NS / 1000000000ULL);
		shutdown(c->fd, SHUT_RDWR);
		c->since_ns = UINT64_MAX;
	}
}

static const char index_page[] =
"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>disco serve</title></head>\n"
"<body><h1>disco serve</h1>\n<p>Kernel latency figures (run-queue, block IO, TCP, allocations) "
"in the Prometheus text format: <a href=\"/metrics\">/metrics</a>.</p></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	return reply(c, status, "text/plain; charset=utf-8", (void *)msg, strlen(msg),
		     MHD_RESPMEM_PERSISTENT);
}

/* One fresh snapshot per scrape: the kernel's histograms are cumulative. */
static enum MHD_Result serve_metrics(struct server *s, struct MHD_Connection *c)
{
	json_t *rep = recorder_collect_live(s->rec);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err = -ENOMEM;

	if (rep && f)
		err = prom_render(rep, f, &s->po);
	if (f && fclose(f) && !err)
		err = -ENOMEM;
	json_decref(rep);
	if (err) {
		free(buf);
		log_warn("rendering /metrics failed: %s", strerror(-err));
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering the metrics failed\n");
	}
	return reply(c, MHD_HTTP_OK, PROM_CONTENT_TYPE, buf, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	log_debug("serve: %s %s", method, url);
	/* a request body is never read: answer at the headers */
	*upload_size = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(s, c);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	log_info("http: %s", msg);
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/*
 * "HOST:PORT", "[V6]:PORT" or ":PORT" (every interface) -> a listening
 * socket. We bind it ourselves so that a busy port is a clear message.
 * -EINVAL: the address is malformed (a usage error).
 */
static int listen_on(const char *spec, bool explicit, char *shown, size_t shown_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[16], h[INET6_ADDRSTRLEN];
	const char *colon = strrchr(spec, ':');
	unsigned long long pv;
	size_t hl;
	int fd = -1, one = 1, gai;

	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(port)) {
		log_err("--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:9464", spec);
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	/* getaddrinfo would take 99999 as 99999 mod 65536 */
	if (parse_u64(port, &pv) || pv > 65535) {
		log_err("--listen %s: the port must be a number from 0 to 65535", spec);
		return -EINVAL;
	}
	hl = colon - spec;
	if (hl >= sizeof(host)) {
		log_err("--listen %s: address too long", spec);
		return -EINVAL;
	}
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (gai) {
		log_err("--listen %s: %s", spec, gai_strerror(gai));
		return -EINVAL;
	}
	if (!is_loopback(res->ai_addr)) {
		if (!explicit) {
			log_err("refusing to listen on a non-loopback address without an explicit --listen");
			fd = -EINVAL;
			goto out;
		}
		log_warn("listening on %s, not loopback: /metrics names processes and has no authentication; firewall it",
			 spec);
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0) {
		fd = -errno;
		log_err("--listen %s: socket: %s", spec, strerror(-fd));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64)) {
		int e = errno;

		close(fd);
		fd = -e;
		log_err("cannot listen on %s: %s%s", spec, strerror(e),
			e == EADDRINUSE ? " (choose another port with --listen)" : "");
		goto out;
	}
	/* with port 0 the kernel picked one: show the real address */
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, h, sizeof(h));
			snprintf(shown, shown_len, "[%s]:%u", h, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, h, sizeof(h));
			snprintf(shown, shown_len, "%s:%u", h, ntohs(((struct sockaddr_in *)&ss)->sin_port));
		}
	} else {
		snprintf(shown, shown_len, "%s", spec);
	}
out:
	freeaddrinfo(res);
	return fd;
}

enum { OPT_LISTEN = 300, OPT_MAX_SERIES, OPT_PER_PID };

struct serve_args {
	const char *listen;
	bool explicit;		/* --listen given: a busy port is an error, not a warning */
	struct prom_opts *po;
};

static const struct opt serve_rows[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", "where to listen (default " DEFAULT_LISTEN ")" },
	{ "max-series", OPT_MAX_SERIES, "N", "label sets per family of rows, the rest summed as \"other\"" },
	{ "top", OPT_MAX_SERIES, "N", "the old name of --max-series" },
	{ "per-pid", OPT_PER_PID, NULL, "per-process series (pid, comm labels) instead of sums per cgroup" },
	{ NULL },
};

static int serve_set(void *ctx, int key, const char *val, char *msg, size_t len)
{
	struct serve_args *sa = ctx;
	unsigned long long v;

	switch (key) {
	case OPT_LISTEN:
		sa->listen = val;
		sa->explicit = true;
		break;
	case OPT_PER_PID:
		sa->po->per_pid = true;
		break;
	default:
		if (parse_u64(val, &v) || v == 0 || v > 100000)
			return opt_fail(msg, len, "--max-series needs a number from 1 to 100000, not '%s'", val);
		sa->po->max_series = (int)v;
	}
	return EXIT_OK;
}

const struct opt_cmd opt_cmd_serve = {
	.name = "serve",
	.common = CO_PID | CO_EVENT | CO_DURATION,
	.no_json = "serve speaks the Prometheus text format on /metrics (disco report -j reads a session)",
	.quiet_means = "no \"serving\" and \"stopped serving\" lines",
	.own = serve_rows,
	.colopts = true,
	.in_order = true,
	.set = serve_set,
};

int cmd_serve(int argc, char **argv)
{
	struct record_args a;
	struct server s = { .po = { .max_series = PROM_DEFAULT_MAX_SERIES } };
	struct MHD_Daemon *d = NULL;
	struct serve_args sa = { DEFAULT_LISTEN, false, &s.po };
	char shown[96];
	uint64_t start;
	int rc, fd, err;

	rc = record_parse_args(argc, argv, &opt_cmd_serve, &a, &sa);
	if (rc != EXIT_OK)
		return rc;
	catch_stop_signals_early();
	if (a.count && !a.interval_ns) {
		rc = usage_error("serve", "-n COUNT counts intervals: give -i SECS too");
		goto out_release;
	}
	if (s.po.per_pid)
		log_warn("--per-pid: every process gets its own series (pid, comm labels); on a busy host "
			 "they come and go by the thousand: keep --max-series low");
	if (a.cmd_argc) {
		rc = usage_error("serve", "serve does not run a COMMAND; use -p PID");
		goto out_release;
	}
	/* bind before attaching: a busy port fails fast and cheaply */
	fd = listen_on(sa.listen, sa.explicit, shown, sizeof(shown));
	if (fd < 0) {
		rc = fd == -EINVAL ? EXIT_USAGE : EXIT_ERR;
		goto out_release;
	}
	for (size_t i = 0; i < HTTP_SLOTS; i++)
		s.conns[i].fd = -1;
	s.rec = recorder_start(a.mask, &a.o, NULL, false, argc, argv);
	if (!s.rec) {
		close(fd);
		rc = EXIT_ERR;
		goto out_release;
	}
	d = MHD_start_daemon(MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &s,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_SLOTS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_PER_CLIENT,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_S,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s,
			     MHD_OPTION_END);
	if (!d) {
		log_err("cannot start the HTTP server on %s", shown);
		close(fd);
		rc = EXIT_ERR;
		goto out_stop;
	}
	caps_drop_after_attach(false);
	catch_stop_signals();
	signal(SIGPIPE, SIG_IGN);
	if (!a.quiet)
		fprintf(stderr, "disco: serving http://%s/metrics (Ctrl-C to stop)\n", shown);
	start = mono_ns();
	/*
	 * One thread: HTTP requests and ring draining take turns, so a scrape
	 * never races the recorder (MHD calls on_request from MHD_run_wait).
	 */
	while (!stop_signal) {
		if (MHD_run_wait(d, 100) != MHD_YES && errno != EINTR && !stop_signal)
			log_debug("serve: HTTP wait: %s", strerror(errno));
		cut_slow_clients(&s);
		err = recorder_poll(s.rec, 0);
		if (err < 0) {
			log_err("reading the collectors' events failed: %s", strerror(-err));
			rc = EXIT_ERR;
			break;
		}
		if (a.duration_ns && mono_ns() - start >= a.duration_ns)
			break;
	}
	if (!a.quiet)
		fprintf(stderr, "disco: %s; stopped serving\n", stop_signal == SIGINT ? "interrupted" :
		stop_signal ? "terminated" : rc ? "error" : "duration reached");
	MHD_stop_daemon(d);	/* closes the listening socket */
out_stop:
	recorder_stop(s.rec, NULL);
out_release:
	rec_opts_release(&a.o);
	return rc;
}
