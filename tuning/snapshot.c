// SPDX-License-Identifier: GPL-2.0
/* Snapshot of /proc and /sys under a root directory, and the text parsers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tuner.h"

/* /proc files are small; numa_maps and maps of big processes are not. */
#define SMALL_FILE	(256u << 10)
#define BIG_FILE	(16u << 20)

/* ---- pure parsers -------------------------------------------------------- */

static int parse_u64_tok(const char *s, char **end, uint64_t *v)
{
	unsigned long long x;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, end, 10);
	if (errno)
		return -EINVAL;
	*v = x;
	return 0;
}

/*
 * netstat and snmp come as pairs of lines "Prefix: name name ..." and
 * "Prefix: num num ...". Only the counters a rule uses are kept.
 */
static const struct {
	const char *prefix, *name;
	size_t off;
} netstat_keys[] = {
	{ "TcpExt", "ListenOverflows", offsetof(struct counters, listen_overflows) },
	{ "TcpExt", "ListenDrops", offsetof(struct counters, listen_drops) },
	{ "TcpExt", "TCPBacklogDrop", offsetof(struct counters, backlog_drop) },
	{ "TcpExt", "PruneCalled", offsetof(struct counters, prune_called) },
	{ "TcpExt", "RcvPruned", offsetof(struct counters, rcv_pruned) },
	{ "TcpExt", "TCPReqQFullDrop", offsetof(struct counters, req_q_full_drop) },
	{ "TcpExt", "TCPReqQFullDoCookies", offsetof(struct counters, req_q_full_cookies) },
	{ "Tcp", "ActiveOpens", offsetof(struct counters, active_opens) },
	{ "Tcp", "PassiveOpens", offsetof(struct counters, passive_opens) },
	{ "Tcp", "RetransSegs", offsetof(struct counters, retrans_segs) },
};

static void netstat_pair(const char *names, const char *vals, size_t plen,
			 const char *prefix, struct counters *c, int *found)
{
	const char *n = names + plen + 1, *v = vals + plen + 1;

	for (;;) {
		char name[64];
		size_t l = 0;
		uint64_t x;
		char *end;

		while (*n == ' ')
			n++;
		while (*v == ' ')
			v++;
		if (!*n || *n == '\n' || !*v || *v == '\n')
			return;
		while (n[l] && n[l] != ' ' && n[l] != '\n')
			l++;
		if (l < sizeof(name)) {
			memcpy(name, n, l);
			name[l] = 0;
		} else {
			name[0] = 0;
		}
		n += l;
		/* Tcp MaxConn is -1: a signed column we do not use. */
		if (*v == '-')
			v++;
		if (parse_u64_tok(v, &end, &x))
			return;
		v = end;
		for (size_t k = 0; k < sizeof(netstat_keys) / sizeof(netstat_keys[0]); k++) {
			if (strcmp(netstat_keys[k].prefix, prefix) ||
			    strcmp(netstat_keys[k].name, name))
				continue;
			*(uint64_t *)((char *)c + netstat_keys[k].off) = x;
			(*found)++;
		}
	}
}

int parse_netstat(const char *text, struct counters *c)
{
	const char *line = text;
	int found = 0;

	while (line && *line) {
		const char *next = strchr(line, '\n'), *colon = strchr(line, ':');
		char prefix[32];
		size_t plen;

		if (!next)
			break;
		if (!colon || colon > next || (size_t)(colon - line) >= sizeof(prefix))
			return -EINVAL;
		plen = colon - line;
		memcpy(prefix, line, plen);
		prefix[plen] = 0;
		/* the value line must carry the same prefix */
		if (strncmp(next + 1, line, plen + 1))
			return -EINVAL;
		netstat_pair(line, next + 1, plen, prefix, c, &found);
		next = strchr(next + 1, '\n');
		line = next ? next + 1 : NULL;
	}
	return found ? 0 : -EINVAL;
}

int parse_softnet(const char *text, struct counters *c)
{
	const char *p = text;
	uint64_t dropped = 0, squeezed = 0;
	int rows = 0;

	while (*p) {
		unsigned long long col[3];
		char *end;

		for (int i = 0; i < 3; i++) {
			while (*p == ' ')
				p++;
			if (!isxdigit((unsigned char)*p))
				return -EINVAL;
			errno = 0;
			col[i] = strtoull(p, &end, 16);
			if (errno)
				return -EINVAL;
			p = end;
		}
		/* columns: processed, dropped, time_squeeze */
		dropped += col[1];
		squeezed += col[2];
		rows++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	if (!rows)
		return -EINVAL;
	c->softnet_dropped = dropped;
	c->softnet_squeezed = squeezed;
	c->have_softnet = true;
	return 0;
}

/* "key value\n" lines; calls fn for each; stops at malformed lines. */
static int kv_lines(const char *text, int (*fn)(const char *key, size_t klen,
						const char *val, void *ctx), void *ctx)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n'), *sp;
		size_t klen = 0;

		while (p[klen] && p[klen] != ' ' && p[klen] != ':' && p[klen] != '\t' &&
		       p[klen] != '\n')
			klen++;
		sp = p + klen;
		while (*sp == ' ' || *sp == ':' || *sp == '\t')
			sp++;
		if (klen && fn(p, klen, sp, ctx))
			return -EINVAL;
		if (!eol)
			break;
		p = eol + 1;
	}
	return 0;
}

static bool key_is(const char *k, size_t klen, const char *want)
{
	return strlen(want) == klen && !memcmp(k, want, klen);
}

static int vmstat_kv(const char *k, size_t klen, const char *v, void *ctx)
{
	struct counters *c = ctx;
	uint64_t x;

	if (key_is(k, klen, "pswpin")) {
		if (parse_u64_tok(v, NULL, &x))
			return -EINVAL;
		c->pswpin = x;
		c->have_vmstat = true;
	} else if (key_is(k, klen, "pswpout")) {
		if (parse_u64_tok(v, NULL, &x))
			return -EINVAL;
		c->pswpout = x;
	}
	return 0;
}

int parse_vmstat(const char *text, struct counters *c)
{
	if (kv_lines(text, vmstat_kv, c))
		return -EINVAL;
	return c->have_vmstat ? 0 : -EINVAL;
}

static int meminfo_kv(const char *k, size_t klen, const char *v, void *ctx)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "MemTotal", offsetof(struct snapshot, mem_total_bytes) },
		{ "MemAvailable", offsetof(struct snapshot, mem_available_bytes) },
		{ "Dirty", offsetof(struct snapshot, dirty_bytes) },
		{ "Writeback", offsetof(struct snapshot, writeback_bytes) },
		{ "SwapTotal", offsetof(struct snapshot, swap_total_bytes) },
		{ "SwapFree", offsetof(struct snapshot, swap_free_bytes) },
	};
	struct snapshot *s = ctx;
	uint64_t x;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!key_is(k, klen, keys[i].key))
			continue;
		if (parse_u64_tok(v, NULL, &x) || x > UINT64_MAX / 1024)
			return -EINVAL;
		*(uint64_t *)((char *)s + keys[i].off) = x * 1024;	/* kB */
		if (i == 0)
			s->have_meminfo = true;
	}
	return 0;
}

int parse_meminfo(const char *text, struct snapshot *s)
{
	if (kv_lines(text, meminfo_kv, s))
		return -EINVAL;
	return s->have_meminfo ? 0 : -EINVAL;
}

int parse_cpustat(const char *text, struct snapshot *s)
{
	const char *p = text;
	int rows = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		uint64_t f[10] = { 0 }, total = 0, idle;
		unsigned long cpu;
		char *end;
		int nf = 0;

		if (!strncmp(p, "cpu", 3) && isdigit((unsigned char)p[3])) {
			errno = 0;
			cpu = strtoul(p + 3, &end, 10);
			if (errno || cpu >= CPU_SETSIZE)
				return -EINVAL;
			p = end;
			while (nf < 10) {
				while (*p == ' ')
					p++;
				if (!isdigit((unsigned char)*p))
					break;
				if (parse_u64_tok(p, &end, &f[nf]))
					return -EINVAL;
				p = end;
				nf++;
			}
			if (nf < 4)
				return -EINVAL;
			/* guest time is already in user/nice: count fields 0-7 */
			for (int i = 0; i < nf && i < 8; i++) {
				if (total + f[i] < total)
					return -EINVAL;
				total += f[i];
			}
			idle = f[3] + (nf > 4 ? f[4] : 0);	/* idle + iowait */
			s->cpu_total[cpu] = total;
			s->cpu_busy[cpu] = total >= idle ? total - idle : 0;
			rows++;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	if (!rows)
		return -EINVAL;
	s->c.have_cpustat = true;
	return 0;
}

int parse_sockstat(const char *text, struct snapshot *s)
{
	const char *p = strstr(text, "\nTCP:");
	const char *q;
	uint64_t x;

	if (!p && !strncmp(text, "TCP:", 4))
		p = text;
	else if (p)
		p++;
	if (!p)
		return -EINVAL;
	q = strstr(p, " tw ");
	if (!q || (strchr(p, '\n') && q > strchr(p, '\n')))
		return -EINVAL;
	if (parse_u64_tok(q + 4, NULL, &x))
		return -EINVAL;
	s->tw_sockets = x;
	q = strstr(p, " inuse ");
	if (q && !parse_u64_tok(q + 7, NULL, &x))
		s->tcp_inuse = x;
	s->have_sockstat = true;
	return 0;
}

int parse_psi(const char *text, double *some10, double *full10)
{
	const char *p = text;
	bool any = false;

	*some10 = *full10 = 0;
	while (*p) {
		const char *eol = strchr(p, '\n');
		double *dst = NULL;
		char *end;
		double v;

		if (!strncmp(p, "some avg10=", 11))
			dst = some10;
		else if (!strncmp(p, "full avg10=", 11))
			dst = full10;
		if (dst) {
			errno = 0;
			v = strtod(p + 11, &end);
			if (errno || end == p + 11 || v < 0 || v > 100)
				return -EINVAL;
			*dst = v;
			any = true;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return any ? 0 : -EINVAL;
}

int parse_file_nr(const char *text, struct snapshot *s)
{
	uint64_t alloc, unused, max;
	char *end;
	const char *p = text;

	if (parse_u64_tok(p, &end, &alloc))
		return -EINVAL;
	p = end + strspn(end, " \t");
	if (parse_u64_tok(p, &end, &unused))
		return -EINVAL;
	p = end + strspn(end, " \t");
	if (parse_u64_tok(p, &end, &max))
		return -EINVAL;
	s->file_nr_alloc = alloc;
	s->file_nr_max = max;
	s->have_file_nr = true;
	return 0;
}

static int limit_tok(const char **p, uint64_t *v)
{
	char *end;

	while (**p == ' ')
		(*p)++;
	if (!strncmp(*p, "unlimited", 9)) {
		*v = TUNE_NOFILE_INF;
		*p += 9;
		return 0;
	}
	if (parse_u64_tok(*p, &end, v))
		return -EINVAL;
	*p = end;
	return 0;
}

int parse_limits_nofile(const char *text, uint64_t *soft, uint64_t *hard)
{
	const char *p = strstr(text, "Max open files");

	if (!p)
		return -EINVAL;
	p += strlen("Max open files");
	if (limit_tok(&p, soft) || limit_tok(&p, hard))
		return -EINVAL;
	return 0;
}

int parse_pid_stat(const char *text, struct proc_snap *p)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	const char *q;
	uint64_t f[40];
	size_t clen;
	char *end;
	int i;

	if (!open || !close || close < open)
		return -EINVAL;
	clen = close - open - 1;
	if (clen >= sizeof(p->comm))
		clen = sizeof(p->comm) - 1;
	memcpy(p->comm, open + 1, clen);
	p->comm[clen] = 0;
	/* comm is chosen by the process: keep it printable and valid UTF-8 */
	for (size_t i = 0; i < clen; i++)
		if (!isprint((unsigned char)p->comm[i]) || (unsigned char)p->comm[i] > 126)
			p->comm[i] = '?';
	q = close + 1;
	/* field 3 is the state letter; numbers from field 4 on */
	while (*q == ' ')
		q++;
	if (!*q || !isalpha((unsigned char)*q))
		return -EINVAL;
	q++;
	for (i = 4; i <= 39; i++) {
		while (*q == ' ')
			q++;
		if (*q == '-')	/* signed fields (priority, nice) */
			q++;
		if (parse_u64_tok(q, &end, &f[i]))
			return i > 22 ? 0 : -EINVAL;
		q = end;
		if (i == 4)
			p->ppid = f[4] > INT_MAX ? 0 : (pid_t)f[4];
		if (i == 9)
			p->kthread = f[9] & 0x00200000;	/* PF_KTHREAD */
		if (i == 22) {
			p->cpu_ticks = f[14] + f[15];
			p->nthreads = f[20] > INT_MAX ? INT_MAX : (int)f[20];
			p->start_time = f[22];
		}
	}
	p->last_cpu = f[39] < CPU_SETSIZE ? (int)f[39] : -1;
	return 0;
}

static int status_kv(const char *k, size_t klen, const char *v, void *ctx)
{
	struct proc_snap *p = ctx;
	char buf[4096];
	uint64_t x;
	size_t l;

	if (key_is(k, klen, "Uid")) {
		if (parse_u64_tok(v, NULL, &x) || x > UINT32_MAX)
			return -EINVAL;
		p->uid = (uid_t)x;
	} else if (key_is(k, klen, "Cpus_allowed_list")) {
		l = strcspn(v, "\n");
		if (l >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, v, l);
		buf[l] = 0;
		if (cpulist_parse(buf, &p->allowed))
			return -EINVAL;
	}
	return 0;
}

int parse_pid_status(const char *text, struct proc_snap *p)
{
	CPU_ZERO(&p->allowed);
	if (kv_lines(text, status_kv, p))
		return -EINVAL;
	return CPU_COUNT(&p->allowed) ? 0 : -EINVAL;
}

int parse_numa_maps(const char *text, uint64_t pages[TUNE_MAX_NODES])
{
	const char *p = text;

	memset(pages, 0, sizeof(uint64_t) * TUNE_MAX_NODES);
	while ((p = strstr(p, " N"))) {
		unsigned long node;
		uint64_t n;
		char *end;

		p += 2;
		if (!isdigit((unsigned char)*p))
			continue;
		errno = 0;
		node = strtoul(p, &end, 10);
		if (errno || *end != '=')
			continue;
		if (node >= TUNE_MAX_NODES)
			return -EINVAL;
		if (parse_u64_tok(end + 1, &end, &n))
			return -EINVAL;
		if (pages[node] + n < pages[node])
			return -EINVAL;
		pages[node] += n;
		p = end;
	}
	return 0;
}

int cpulist_parse(const char *text, cpu_set_t *set)
{
	const char *p = text;

	CPU_ZERO(set);
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n')
		return 0;	/* an empty list (offline node) */
	for (;;) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		a = strtoul(p, &end, 10);
		if (errno || a >= CPU_SETSIZE)
			return -EINVAL;
		b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return -EINVAL;
			b = strtoul(p + 1, &end, 10);
			if (errno || b >= CPU_SETSIZE || b < a)
				return -EINVAL;
			p = end;
		}
		for (unsigned long c = a; c <= b; c++)
			CPU_SET(c, set);
		if (*p == ',') {
			p++;
			continue;
		}
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		return *p ? -EINVAL : 0;
	}
}

void cpulist_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;
	int c = 0;

	if (!len)
		return;
	buf[0] = 0;
	while (c < CPU_SETSIZE) {
		int e;
		int n;

		if (!CPU_ISSET(c, set)) {
			c++;
			continue;
		}
		e = c;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
			e++;
		if (e == c)
			n = snprintf(buf + off, len - off, "%s%d", off ? "," : "", c);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", c, e);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = 0;
			return;
		}
		off += n;
		c = e + 1;
	}
}

/* ---- reading files under root -------------------------------------------- */

/* Read a whole small file under root into a NUL-terminated heap buffer. */
static char *read_rel(const char *root, const char *rel, size_t cap)
{
	char path[PATH_MAX];
	size_t len = 0, size = 4096;
	char *buf = NULL;
	int fd, n;

	n = snprintf(path, sizeof(path), "%s%s%s", root,
		     root[strlen(root) - 1] == '/' ? "" : "/", rel);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(size);
	if (!buf)
		goto out_close;
	for (;;) {
		ssize_t r;

		if (len + 1 >= size) {
			char *nb;

			if (size >= cap) {
				break;	/* truncated; parsers see a prefix */
			}
			size *= 2;
			nb = realloc(buf, size);
			if (!nb) {
				free(buf);
				buf = NULL;
				goto out_close;
			}
			buf = nb;
		}
		r = read(fd, buf + len, size - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			buf = NULL;
			goto out_close;
		}
		if (!r)
			break;
		len += r;
	}
	buf[len] = 0;
out_close:
	close(fd);
	return buf;
}

static uint64_t count_lines(const char *text)
{
	uint64_t n = 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

static int count_dir(const char *root, const char *rel, uint64_t *out)
{
	char path[PATH_MAX];
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	*out = n;
	return 0;
}

int proc_start_time(const char *root, pid_t pid, uint64_t *out)
{
	struct proc_snap p;
	char rel[64];
	char *t;
	int err;

	snprintf(rel, sizeof(rel), "proc/%d/stat", (int)pid);
	t = read_rel(root, rel, SMALL_FILE);
	if (!t)
		return errno ? -errno : -ENOENT;
	err = parse_pid_stat(t, &p);
	free(t);
	if (!err)
		*out = p.start_time;
	return err;
}

/* uid -> name from the text of <root>/etc/passwd; the number if unknown */
static void lookup_user(const char *passwd, uid_t uid, char *out, size_t len)
{
	const char *line = passwd;

	snprintf(out, len, "%u", (unsigned int)uid);
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *end;

		if (c1 && c2 && (!eol || c2 < eol) && c1 - line < (long)len && c1 > line) {
			errno = 0;
			if (strtoul(c2 + 1, &end, 10) == uid && !errno && *end == ':' && end > c2 + 1) {
				snprintf(out, len, "%.*s", (int)(c1 - line), line);
				return;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
}

/* "0::/system.slice/nginx.service" -> "nginx.service" */
static void unit_of(const char *cgroup, char *out, size_t len)
{
	const char *p = strstr(cgroup, "0::/");
	const char *svc, *start;

	out[0] = 0;
	if (!p)
		return;
	p += 3;
	svc = strstr(p, ".service");
	if (!svc || svc > p + strcspn(p, "\n"))
		return;
	start = svc;
	while (start > p && start[-1] != '/')
		start--;
	if ((size_t)(svc + 8 - start) < len) {
		memcpy(out, start, svc + 8 - start);
		out[svc + 8 - start] = 0;
	}
}

static bool is_target(const struct snapshot_opts *o, pid_t pid)
{
	for (int i = 0; i < o->ntargets; i++)
		if (o->targets[i] == pid)
			return true;
	return false;
}

/* CPUs the threads of a process last ran on, and their run-queue wait. */
static void thread_cpus(const char *root, struct proc_snap *p)
{
	char path[PATH_MAX], rel[96];
	struct dirent *de;
	int waits = 0;
	DIR *d;

	CPU_ZERO(&p->ran_on);
	if (p->last_cpu >= 0)
		CPU_SET(p->last_cpu, &p->ran_on);
	snprintf(path, sizeof(path), "%s/proc/%d/task", root, (int)p->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct proc_snap t = { 0 };
		char *txt;

		if (de->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "proc/%d/task/%.16s/stat", (int)p->pid, de->d_name);
		txt = read_rel(root, rel, SMALL_FILE);
		if (!txt)
			continue;
		if (!parse_pid_stat(txt, &t) && t.last_cpu >= 0)
			CPU_SET(t.last_cpu, &p->ran_on);
		free(txt);
		/* /proc/PID/schedstat is the main thread only: sum every thread */
		snprintf(rel, sizeof(rel), "proc/%d/task/%.16s/schedstat", (int)p->pid, de->d_name);
		txt = read_rel(root, rel, SMALL_FILE);
		if (txt) {
			uint64_t run, wait;
			char *end;

			if (!parse_u64_tok(txt, &end, &run) && *end == ' ' &&
			    !parse_u64_tok(end + 1, NULL, &wait)) {
				if (!waits++)
					p->wait_ns = 0;
				p->wait_ns += wait;
				p->has_sched = true;
			}
			free(txt);
		}
	}
	closedir(d);
}

static void read_proc(const char *root, const char *passwd, pid_t pid, bool detailed,
		      struct proc_snap *p)
{
	char rel[64];
	char *t;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->last_cpu = -1;
	p->target = detailed;
	snprintf(rel, sizeof(rel), "proc/%d/stat", (int)pid);
	if (!(t = read_rel(root, rel, SMALL_FILE))) {
		p->pid = 0;	/* gone meanwhile */
		return;
	}
	if (parse_pid_stat(t, p)) {
		free(t);
		p->pid = 0;
		return;
	}
	free(t);
	snprintf(rel, sizeof(rel), "proc/%d/status", (int)pid);
	if ((t = read_rel(root, rel, SMALL_FILE))) {
		if (parse_pid_status(t, p))
			CPU_ZERO(&p->allowed);
		free(t);
	}
	snprintf(rel, sizeof(rel), "proc/%d/schedstat", (int)pid);
	if ((t = read_rel(root, rel, SMALL_FILE))) {
		uint64_t run, wait;
		char *end;

		if (!parse_u64_tok(t, &end, &run) && *end == ' ' &&
		    !parse_u64_tok(end + 1, NULL, &wait)) {
			p->wait_ns = wait;
			p->has_sched = true;
		}
		free(t);
	}
	snprintf(rel, sizeof(rel), "proc/%d/limits", (int)pid);
	if ((t = read_rel(root, rel, SMALL_FILE))) {
		p->has_limits = !parse_limits_nofile(t, &p->nofile_soft, &p->nofile_hard);
		free(t);
	}
	snprintf(rel, sizeof(rel), "proc/%d/fd", (int)pid);
	p->has_fds = !count_dir(root, rel, &p->nfds);
	snprintf(rel, sizeof(rel), "proc/%d/maps", (int)pid);
	if ((t = read_rel(root, rel, BIG_FILE))) {
		p->nmaps = count_lines(t);
		p->has_maps = true;
		free(t);
	}
	lookup_user(passwd ? passwd : "", p->uid, p->user, sizeof(p->user));
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", (int)pid);
	if ((t = read_rel(root, rel, SMALL_FILE))) {
		unit_of(t, p->unit, sizeof(p->unit));
		free(t);
	}
	if (!detailed)
		return;
	snprintf(rel, sizeof(rel), "proc/%d/numa_maps", (int)pid);
	if ((t = read_rel(root, rel, BIG_FILE))) {
		p->has_numa = !parse_numa_maps(t, p->node_pages);
		free(t);
	}
	thread_cpus(root, p);
}

static void read_sysctls(const char *root, struct snapshot *s)
{
	for (int i = 0; i < SC_COUNT; i++)
		if (sysctl_read(root, i, &s->sc[i]))
			s->sc[i].present = false;
}

static void read_topology(const char *root, struct snapshot *s)
{
	char *t = read_rel(root, "sys/devices/system/cpu/online", SMALL_FILE);
	char rel[96];

	CPU_ZERO(&s->online);
	if (t) {
		if (cpulist_parse(t, &s->online))
			CPU_ZERO(&s->online);
		free(t);
	}
	if (!CPU_COUNT(&s->online)) {
		/* no sysfs: every CPU /proc/stat knows about */
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (s->cpu_total[c])
				CPU_SET(c, &s->online);
	}
	s->ncpus = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &s->online))
			s->ncpus = c + 1;
	s->nnodes = 0;
	for (int n = 0; n < TUNE_MAX_NODES; n++) {
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpulist", n);
		t = read_rel(root, rel, SMALL_FILE);
		CPU_ZERO(&s->node_cpus[n]);
		if (!t)
			continue;
		if (!cpulist_parse(t, &s->node_cpus[n]))
			s->nnodes = n + 1;
		free(t);
	}
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int read_procs(const struct snapshot_opts *o, struct snapshot *s)
{
	char path[PATH_MAX];
	pid_t *pids = NULL;
	char *passwd = read_rel(o->root, "etc/passwd", SMALL_FILE);
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int err = 0;

	if (o->all_procs) {
		snprintf(path, sizeof(path), "%s/proc", o->root);
		d = opendir(path);
	}
	while (d && (de = readdir(d))) {
		char *end;
		long v;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		v = strtol(de->d_name, &end, 10);
		if (*end || v <= 0 || v > INT_MAX)
			continue;
		if (n == cap) {
			pid_t *np = realloc(pids, (cap ? cap * 2 : 256) * sizeof(*pids));

			if (!np) {
				err = -ENOMEM;
				goto out;
			}
			pids = np;
			cap = cap ? cap * 2 : 256;
		}
		pids[n++] = (pid_t)v;
	}
	for (int i = 0; i < o->ntargets; i++) {
		if (o->all_procs)
			break;
		if (n == cap) {
			pid_t *np = realloc(pids, (cap ? cap * 2 : 64) * sizeof(*pids));

			if (!np) {
				err = -ENOMEM;
				goto out;
			}
			pids = np;
			cap = cap ? cap * 2 : 64;
		}
		pids[n++] = o->targets[i];
	}
	if (n)
		qsort(pids, n, sizeof(*pids), cmp_pid);
	s->procs = calloc(n ? n : 1, sizeof(*s->procs));
	if (!s->procs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct proc_snap *p = &s->procs[s->nprocs];

		if (i && pids[i] == pids[i - 1])
			continue;
		read_proc(o->root, passwd, pids[i], is_target(o, pids[i]), p);
		if (p->pid)
			s->nprocs++;
	}
out:
	if (d)
		closedir(d);
	free(passwd);
	free(pids);
	return err;
}

int snapshot_take(struct snapshot *s, const struct snapshot_opts *o)
{
	struct timespec ts;
	const char *root = o->root && *o->root ? o->root : "/";
	struct snapshot_opts ro = *o;
	char *t;
	long tck = sysconf(_SC_CLK_TCK);
	int err;

	memset(s, 0, sizeof(*s));
	ro.root = root;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	s->clk_tck = tck > 0 ? (uint64_t)tck : 100;
	read_sysctls(root, s);
	if ((t = read_rel(root, "proc/net/netstat", SMALL_FILE))) {
		s->c.have_netstat = !parse_netstat(t, &s->c);
		free(t);
	}
	if ((t = read_rel(root, "proc/net/snmp", SMALL_FILE))) {
		s->c.have_snmp = !parse_netstat(t, &s->c);
		free(t);
	}
	if ((t = read_rel(root, "proc/net/softnet_stat", SMALL_FILE))) {
		parse_softnet(t, &s->c);
		free(t);
	}
	if ((t = read_rel(root, "proc/net/sockstat", SMALL_FILE))) {
		parse_sockstat(t, s);
		free(t);
	}
	if ((t = read_rel(root, "proc/vmstat", SMALL_FILE))) {
		parse_vmstat(t, &s->c);
		free(t);
	}
	if ((t = read_rel(root, "proc/meminfo", SMALL_FILE))) {
		parse_meminfo(t, s);
		free(t);
	}
	if ((t = read_rel(root, "proc/stat", SMALL_FILE))) {
		parse_cpustat(t, s);
		free(t);
	}
	if ((t = read_rel(root, "proc/sys/fs/file-nr", SMALL_FILE))) {
		parse_file_nr(t, s);
		free(t);
	}
	if ((t = read_rel(root, "proc/pressure/memory", SMALL_FILE))) {
		s->have_psi = !parse_psi(t, &s->psi_mem_some10, &s->psi_mem_full10);
		free(t);
	}
	if ((t = read_rel(root, "proc/pressure/io", SMALL_FILE))) {
		double full;

		parse_psi(t, &s->psi_io_some10, &full);
		free(t);
	}
	if ((t = read_rel(root, "proc/pressure/cpu", SMALL_FILE))) {
		double full;

		parse_psi(t, &s->psi_cpu_some10, &full);
		free(t);
	}
	read_topology(root, s);
	err = read_procs(&ro, s);
	for (size_t i = 0; !err && o->self && i < s->nprocs; i++)
		s->procs[i].self = s->procs[i].pid == o->self;
	if (!err && o->listeners && !listeners_read(&s->listeners, &s->nlisteners)) {
		s->have_listeners = true;
		listeners_owners(root, s);
	}
	return err;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	free(s->procs);
	s->procs = NULL;
	s->nprocs = 0;
	free(s->listeners);
	s->listeners = NULL;
	s->nlisteners = 0;
}

const struct proc_snap *snapshot_proc(const struct snapshot *s, pid_t pid)
{
	size_t lo = 0, hi = s ? s->nprocs : 0;

	/* procs are sorted by pid */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->procs[mid].pid == pid)
			return &s->procs[mid];
		if (s->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
