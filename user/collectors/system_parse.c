// SPDX-License-Identifier: GPL-2.0
/* Pure parsers of /proc/stat, meminfo, vmstat, diskstats, net/dev, net/tcp and PSI text. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "system_parse.h"

const char *const sys_cpu_mode_names[SYS_CPU_MODES] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
};

/* node_exporter's tcpstat names; 0 is not a state */
const char *const sys_tcp_state_names[SYS_TCP_STATES] = {
	NULL, "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait",
	"close", "close_wait", "last_ack", "listen", "closing", "new_syn_recv",
};

/* Skip blanks, read one decimal u64; *p moves past it. -EINVAL if none or too big. */
static int num(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (x > (UINT64_MAX - (*s - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (*s - '0');
	}
	*p = s;
	*v = x;
	return 0;
}

static const char *next_line(const char *p)
{
	const char *eol = strchr(p, '\n');

	return eol ? eol + 1 : p + strlen(p);
}

static bool line_has_more(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return *p && *p != '\n';
}

/* "key value..." with key matched as a whole word */
static const char *after_key(const char *line, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(line, key, n) && (line[n] == ' ' || line[n] == '\t') ? line + n : NULL;
}

int sys_parse_stat(const char *text, struct sys_stat *st)
{
	bool have_cpu = false, have_ctxt = false;
	const char *p, *v;
	uint64_t x;

	st->ncpu = 0;
	for (p = text; *p; p = next_line(p)) {
		if (!strncmp(p, "cpu", 3) && isdigit((unsigned char)p[3])) {
			struct sys_cpu c = { 0 };
			uint64_t f[10] = { 0 };
			int nf = 0;

			v = p + 3;
			if (num(&v, &x) || x > 1u << 20)
				return -EINVAL;
			c.cpu = (unsigned int)x;
			while (nf < 10 && line_has_more(v))
				if (num(&v, &f[nf++]))
					return -EINVAL;
			if (nf < 4)
				return -EINVAL;
			for (int m = 0; m < SYS_CPU_MODES; m++)
				c.ticks[m] = f[m];
			if (st->ncpu < st->cap)
				st->cpus[st->ncpu++] = c;
			have_cpu = true;
		} else if ((v = after_key(p, "ctxt"))) {
			if (num(&v, &st->ctxt))
				return -EINVAL;
			have_ctxt = true;
		} else if ((v = after_key(p, "processes"))) {
			if (num(&v, &st->forks))
				return -EINVAL;
		} else if ((v = after_key(p, "intr"))) {
			if (num(&v, &st->intr))
				return -EINVAL;
		} else if ((v = after_key(p, "procs_running"))) {
			if (num(&v, &st->procs_running))
				return -EINVAL;
		} else if ((v = after_key(p, "procs_blocked"))) {
			if (num(&v, &st->procs_blocked))
				return -EINVAL;
		}
	}
	return have_cpu && have_ctxt ? 0 : -EINVAL;
}

int sys_parse_loadavg(const char *text, double load[3])
{
	const char *p = text;
	char *end;

	for (int i = 0; i < 3; i++) {
		errno = 0;
		load[i] = strtod(p, &end);
		if (errno || end == p || load[i] < 0)
			return -EINVAL;
		p = end;
	}
	return 0;
}

int sys_parse_meminfo(const char *text, struct sys_mem *m)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "MemTotal:", offsetof(struct sys_mem, total) },
		{ "MemFree:", offsetof(struct sys_mem, free) },
		{ "MemAvailable:", offsetof(struct sys_mem, available) },
		{ "Buffers:", offsetof(struct sys_mem, buffers) },
		{ "Cached:", offsetof(struct sys_mem, cached) },
		{ "SReclaimable:", offsetof(struct sys_mem, sreclaimable) },
		{ "Shmem:", offsetof(struct sys_mem, shmem) },
		{ "SwapTotal:", offsetof(struct sys_mem, swap_total) },
		{ "SwapFree:", offsetof(struct sys_mem, swap_free) },
	};
	bool have_total = false;
	const char *p, *v;
	uint64_t x;

	memset(m, 0, sizeof(*m));
	for (p = text; *p; p = next_line(p)) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (!(v = after_key(p, keys[i].key)))
				continue;
			if (num(&v, &x) || x > UINT64_MAX / 1024)
				return -EINVAL;
			*(uint64_t *)((char *)m + keys[i].off) = x * 1024;	/* kB */
			have_total |= i == 0;
		}
	}
	return have_total ? 0 : -EINVAL;
}

int sys_parse_vmstat(const char *text, struct sys_vmstat *vm)
{
	const char *p, *v;
	bool any = false;

	memset(vm, 0, sizeof(*vm));
	for (p = text; *p; p = next_line(p)) {
		uint64_t *dst = NULL;

		if ((v = after_key(p, "pswpin")))
			dst = &vm->pswpin;
		else if ((v = after_key(p, "pswpout")))
			dst = &vm->pswpout;
		else if ((v = after_key(p, "pgmajfault")))
			dst = &vm->pgmajfault;
		if (dst && num(&v, dst))
			return -EINVAL;
		any |= dst != NULL;
	}
	return any ? 0 : -EINVAL;
}

/* A name field: up to the next blank; -EINVAL if empty or too long for dst. */
static int word(const char **p, char *dst, size_t cap, char stop)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != '\n' && s[n] != stop)
		n++;
	if (!n || n >= cap)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = 0;
	*p = s + n;
	return 0;
}

int sys_parse_diskstats(const char *text, struct sys_disk *d, size_t cap, size_t *n)
{
	const char *p;

	*n = 0;
	for (p = text; *p; p = next_line(p)) {
		struct sys_disk x = { 0 };
		uint64_t *f[] = {
			&x.reads, &x.reads_merged, &x.read_sectors, &x.read_ms,
			&x.writes, &x.writes_merged, &x.write_sectors, &x.write_ms,
			&x.in_flight, &x.io_ms, &x.io_weighted_ms,
			&x.discards, NULL, &x.discard_sectors, &x.discard_ms,
			&x.flushes, &x.flush_ms,
		};
		uint64_t major, minor, skip;
		const char *v = p;
		size_t nf = 0;

		if (!line_has_more(p))
			continue;
		if (num(&v, &major) || num(&v, &minor) || word(&v, x.name, sizeof(x.name), 0))
			return -EINVAL;
		while (nf < sizeof(f) / sizeof(f[0]) && line_has_more(v)) {
			if (num(&v, f[nf] ?: &skip))
				return -EINVAL;
			nf++;
		}
		if (nf < 11)
			return -EINVAL;
		if (*n < cap)
			d[(*n)++] = x;
	}
	return 0;
}

int sys_parse_netdev(const char *text, struct sys_netdev *d, size_t cap, size_t *n)
{
	const char *p;

	*n = 0;
	for (p = text; *p; p = next_line(p)) {
		const char *colon = strchr(p, ':'), *eol = strchr(p, '\n'), *v = p;
		struct sys_netdev x = { 0 };
		uint64_t f[16];

		/* the two header lines have no "name:" */
		if (!colon || (eol && colon > eol) || strchr(p, '|'))
			continue;
		if (word(&v, x.name, sizeof(x.name), ':') || *v != ':')
			return -EINVAL;
		v++;
		for (int i = 0; i < 16; i++)
			if (num(&v, &f[i]))
				return -EINVAL;
		x.rx_bytes = f[0];
		x.rx_packets = f[1];
		x.rx_errs = f[2];
		x.rx_drop = f[3];
		x.tx_bytes = f[8];
		x.tx_packets = f[9];
		x.tx_errs = f[10];
		x.tx_drop = f[11];
		if (*n < cap)
			d[(*n)++] = x;
	}
	return 0;
}

int sys_parse_tcp_states(const char *text, uint64_t counts[SYS_TCP_STATES])
{
	const char *p = next_line(text);	/* "  sl  local_address rem_address   st ..." */

	if (!strstr(text, "local_address"))
		return -EINVAL;
	for (; *p; p = next_line(p)) {
		char f[4][64];
		const char *v = p;
		unsigned long st;
		char *end;

		if (!line_has_more(p))
			continue;
		/* "N:" local remote state */
		for (int i = 0; i < 4; i++)
			if (word(&v, f[i], sizeof(f[i]), 0))
				return -EINVAL;
		errno = 0;
		st = strtoul(f[3], &end, 16);
		if (errno || *end || st == 0 || st >= SYS_TCP_STATES)
			return -EINVAL;
		counts[st]++;
	}
	return 0;
}

int sys_parse_psi(const char *text, struct sys_psi *ps)
{
	bool some = false;
	const char *p;

	memset(ps, 0, sizeof(*ps));
	for (p = text; *p; p = next_line(p)) {
		const char *eol = strchr(p, '\n'), *t = strstr(p, " total=");
		uint64_t *dst;

		if (!strncmp(p, "some ", 5)) {
			dst = &ps->some_us;
			some = true;
		} else if (!strncmp(p, "full ", 5)) {
			dst = &ps->full_us;
			ps->has_full = true;
		} else {
			continue;
		}
		t = t && (!eol || t < eol) ? t + 7 : NULL;
		if (!t || num(&t, dst))
			return -EINVAL;
	}
	return some ? 0 : -EINVAL;
}
