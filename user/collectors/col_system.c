// SPDX-License-Identifier: GPL-2.0
/* system collector: the USE view from /proc and /sys (no BPF), its timeline in reports. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "col_system.h"
#include "collector.h"
#include "log.h"
#include "untrusted.h"
#include "system_parse.h"

#define SYS_MAX_CPUS	4096
#define SYS_MAX_DEVS	256	/* disks and interfaces listed */
#define SYS_FILE_CAP	(64u << 20)	/* /proc/net/tcp of a busy host is large */
#define SYS_MAX_POINTS	10000	/* timeline points in a report (2 s apart: 5.5 h) */
#define SECTOR_BYTES	512	/* /proc/diskstats counts 512-byte sectors on every disk */

struct system_opts {
	char root[PATH_MAX];
};

static const struct system_opts system_opts_default = { "/" };

static const struct col_option system_options[] = {
	{ "system-root", true, "system: read /proc and /sys under DIR instead of / (a copied tree)" },
	{ NULL },
};

static int system_set_option(void *opts, const char *name, const char *arg)
{
	struct system_opts *so = opts;

	if (strcmp(name, "system-root") || !*arg || strlen(arg) >= sizeof(so->root))
		return -EINVAL;
	snprintf(so->root, sizeof(so->root), "%s", arg);
	return 0;
}

/* root/rel + rel2 into buf; false if it does not fit. */
static bool under(char *buf, size_t cap, const char *root, const char *rel, const char *rel2)
{
	int n = snprintf(buf, cap, "%s/%s%s", root, rel, rel2 ?: "");

	return n >= 0 && (size_t)n < cap;
}

static bool exists_under(const char *root, const char *rel, const char *rel2)
{
	char path[PATH_MAX];
	struct stat sb;

	return under(path, sizeof(path), root, rel, rel2) && !stat(path, &sb);
}

/* A whole file under root as a string; NULL if it cannot be read. */
static char *slurp(const char *root, const char *rel, size_t cap)
{
	char path[PATH_MAX], *buf = NULL, *nb;
	size_t len = 0, size = 0;
	ssize_t r;
	int fd;

	if (!under(path, sizeof(path), root, rel, NULL))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	do {
		if (len + 4096 >= size) {
			if (size >= cap)
				break;	/* a prefix is still whole lines but the last */
			size = size ? size * 2 : 16384;
			nb = realloc(buf, size);
			if (!nb)
				goto out_fail;
			buf = nb;
		}
		r = read(fd, buf + len, size - len - 1);
		if (r < 0 && errno != EINTR)
			goto out_fail;
		if (r > 0)
			len += r;
	} while (r != 0);
	buf[len] = 0;
	close(fd);
	return buf;

out_fail:
	free(buf);
	close(fd);
	return NULL;
}

static json_t *jreal(uint64_t v)
{
	return json_real((double)v);
}

static json_int_t ns_of(uint64_t v, uint64_t ns_per)
{
	return (json_int_t)(v > (uint64_t)INT64_MAX / ns_per ? (uint64_t)INT64_MAX : v * ns_per);
}

static void add_stat(struct sys_state *s, json_t *o)
{
	struct sys_cpu *cpus = calloc(SYS_MAX_CPUS, sizeof(*cpus));
	struct sys_stat st = { .cpus = cpus, .cap = SYS_MAX_CPUS };
	char *t = slurp(s->root, "proc/stat", 4u << 20), name[16];
	uint64_t ns_per_tick = 1000000000ull / (uint64_t)s->hz;
	double load[3];
	json_t *a;

	if (cpus && t && !sys_parse_stat(t, &st)) {
		a = json_array();
		for (size_t i = 0; i < st.ncpu; i++) {
			snprintf(name, sizeof(name), "%u", cpus[i].cpu);
			for (int m = 0; m < SYS_CPU_MODES; m++)
				json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "cpu", name,
					"mode", sys_cpu_mode_names[m],
					"ns", ns_of(cpus[i].ticks[m], ns_per_tick)));
		}
		json_object_set_new(o, "cpu", a);
		json_object_set_new(o, "context_switches", json_integer((json_int_t)st.ctxt));
		json_object_set_new(o, "forks", json_integer((json_int_t)st.forks));
		json_object_set_new(o, "intr", json_integer((json_int_t)st.intr));
		json_object_set_new(o, "procs_running", jreal(st.procs_running));
		json_object_set_new(o, "procs_blocked", jreal(st.procs_blocked));
	}
	free(t);
	free(cpus);
	t = slurp(s->root, "proc/loadavg", 4096);
	if (t && !sys_parse_loadavg(t, load)) {
		json_object_set_new(o, "load1", json_real(load[0]));
		json_object_set_new(o, "load5", json_real(load[1]));
		json_object_set_new(o, "load15", json_real(load[2]));
	}
	free(t);
}

static void add_memory(struct sys_state *s, json_t *o)
{
	char *t = slurp(s->root, "proc/meminfo", 1u << 20);
	struct sys_vmstat vm;
	struct sys_mem m;

	if (t && !sys_parse_meminfo(t, &m)) {
		/* used as free(1) counts it: what neither the page cache nor slab can give back */
		uint64_t avail = m.free + m.buffers + m.cached + m.sreclaimable;

		json_object_set_new(o, "memory", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"total_bytes", jreal(m.total), "free_bytes", jreal(m.free),
			"available_bytes", jreal(m.available), "buffers_bytes", jreal(m.buffers),
			"cached_bytes", jreal(m.cached + m.sreclaimable),
			"used_bytes", jreal(m.total > avail ? m.total - avail : 0),
			"swap_total_bytes", jreal(m.swap_total), "swap_free_bytes", jreal(m.swap_free),
			"swap_used_bytes", jreal(m.swap_total > m.swap_free ? m.swap_total - m.swap_free : 0)));
	}
	free(t);
	t = slurp(s->root, "proc/vmstat", 1u << 20);
	if (t && !sys_parse_vmstat(t, &vm)) {
		json_object_set_new(o, "swapped_in_bytes", json_integer((json_int_t)(vm.pswpin * s->page_bytes)));
		json_object_set_new(o, "swapped_out_bytes", json_integer((json_int_t)(vm.pswpout * s->page_bytes)));
		json_object_set_new(o, "major_faults", json_integer((json_int_t)vm.pgmajfault));
	}
	free(t);
}

/* Whole disks only (partitions would count the same IO twice), and only used ones. */
static bool disk_listed(struct sys_state *s, const struct sys_disk *d, bool have_sys_block)
{
	if (!(d->reads | d->writes | d->discards | d->flushes | d->in_flight))
		return false;
	return !have_sys_block || exists_under(s->root, "sys/block/", d->name);
}

static void add_disks(struct sys_state *s, json_t *o)
{
	struct sys_disk *d = calloc(SYS_MAX_DEVS * 8, sizeof(*d));
	char *t = slurp(s->root, "proc/diskstats", 4u << 20);
	bool have_sys_block = exists_under(s->root, "sys/block", NULL);
	size_t n;
	json_t *a;

	if (d && t && !sys_parse_diskstats(t, d, SYS_MAX_DEVS * 8, &n)) {
		a = json_array();
		for (size_t i = 0; i < n && json_array_size(a) < SYS_MAX_DEVS; i++) {
			if (!disk_listed(s, &d[i], have_sys_block))
				continue;
			json_array_append_new(a, json_pack(
				"{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I}",
				"device", d[i].name,
				"reads_completed", (json_int_t)d[i].reads,
				"reads_merged", (json_int_t)d[i].reads_merged,
				"read_bytes", ns_of(d[i].read_sectors, SECTOR_BYTES),
				"read_time_ns", ns_of(d[i].read_ms, 1000000),
				"writes_completed", (json_int_t)d[i].writes,
				"writes_merged", (json_int_t)d[i].writes_merged,
				"written_bytes", ns_of(d[i].write_sectors, SECTOR_BYTES),
				"write_time_ns", ns_of(d[i].write_ms, 1000000),
				"io_now", jreal(d[i].in_flight),
				"io_time_ns", ns_of(d[i].io_ms, 1000000),
				"io_time_weighted_ns", ns_of(d[i].io_weighted_ms, 1000000),
				"discards_completed", (json_int_t)d[i].discards,
				"flush_requests", (json_int_t)d[i].flushes));
		}
		json_object_set_new(o, "disk", a);
	}
	free(t);
	free(d);
}

static void add_network(struct sys_state *s, json_t *o)
{
	struct sys_netdev *d = calloc(SYS_MAX_DEVS, sizeof(*d));
	char *t = slurp(s->root, "proc/net/dev", 4u << 20);
	uint64_t states[SYS_TCP_STATES] = { 0 };
	bool any = false;
	size_t n;
	json_t *a;

	if (d && t && !sys_parse_netdev(t, d, SYS_MAX_DEVS, &n)) {
		a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				"device", d[i].name,
				"receive_bytes", (json_int_t)d[i].rx_bytes,
				"receive_packets", (json_int_t)d[i].rx_packets,
				"receive_errs", (json_int_t)d[i].rx_errs,
				"receive_drop", (json_int_t)d[i].rx_drop,
				"transmit_bytes", (json_int_t)d[i].tx_bytes,
				"transmit_packets", (json_int_t)d[i].tx_packets,
				"transmit_errs", (json_int_t)d[i].tx_errs,
				"transmit_drop", (json_int_t)d[i].tx_drop));
		json_object_set_new(o, "network", a);
	}
	free(t);
	free(d);
	for (int v6 = 0; v6 < 2; v6++) {
		t = slurp(s->root, v6 ? "proc/net/tcp6" : "proc/net/tcp", SYS_FILE_CAP);
		any |= t && !sys_parse_tcp_states(t, states);
		free(t);
	}
	if (!any)
		return;
	a = json_array();
	/* every state, zeros too: a series that comes and goes breaks alerts */
	for (int i = 1; i < SYS_TCP_STATES - 1; i++)
		json_array_append_new(a, json_pack("{s:s, s:o}", "state", sys_tcp_state_names[i],
						   "value", jreal(states[i])));
	json_object_set_new(o, "tcp_connection_states", a);
}

/*
 * dir/{cpu,memory,io}suffix (relative to root: proc/pressure/cpu,
 * <cgroup>/cpu.pressure) into o; the "some" totals summed in *stall_us.
 */
static bool add_pressure(struct sys_state *s, const char *dir, const char *suffix, json_t *o,
			 uint64_t *stall_us)
{
	static const char *const res[] = { "cpu", "memory", "io" };
	char rel[PATH_MAX], key[32];
	struct sys_psi ps;
	bool any = false;

	*stall_us = 0;
	for (size_t i = 0; i < 3; i++) {
		char *t;

		if (snprintf(rel, sizeof(rel), "%s/%s%s", dir, res[i], suffix) >= (int)sizeof(rel))
			break;
		t = slurp(s->root, rel, 4096);
		if (t && !sys_parse_psi(t, &ps)) {
			snprintf(key, sizeof(key), "%s_waiting_ns", res[i]);
			json_object_set_new(o, key, json_integer(ns_of(ps.some_us, 1000)));
			if (ps.has_full) {
				snprintf(key, sizeof(key), "%s_stalled_ns", res[i]);
				json_object_set_new(o, key, json_integer(ns_of(ps.full_us, 1000)));
			}
			*stall_us += ps.some_us;
			any = true;
		}
		free(t);
	}
	return any;
}

/* The cgroup v2 hierarchy: unified at sys/fs/cgroup, or sys/fs/cgroup/unified (hybrid). */
static const char *cgroup2_dir(struct sys_state *s)
{
	if (exists_under(s->root, "sys/fs/cgroup/cgroup.controllers", NULL))
		return "sys/fs/cgroup";
	if (exists_under(s->root, "sys/fs/cgroup/unified/cgroup.controllers", NULL))
		return "sys/fs/cgroup/unified";
	return NULL;
}

struct cg_row {
	char *path;		/* "/system.slice/x.service" */
	json_t *o;
	uint64_t stall_us, delta_us;
};

static int by_delta_desc(const void *a, const void *b)
{
	const struct cg_row *x = a, *y = b;

	if (x->delta_us != y->delta_us)
		return x->delta_us > y->delta_us ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* Children and grandchildren of the root cgroup (slices and their units). */
static void scan_cgroups(struct sys_state *s, const char *base, const char *rel, int depth,
			 struct cg_row *rows, size_t *n)
{
	char path[PATH_MAX], sub[PATH_MAX], clean[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (!under(path, sizeof(path), s->root, base, rel) || !(d = opendir(path)))
		return;
	while ((e = readdir(d)) && *n < SYS_MAX_CGROUPS) {
		json_t *o;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name) >= (int)sizeof(sub))
			continue;
		if (snprintf(path, sizeof(path), "%s%s", base, sub) >= (int)sizeof(path))
			continue;
		/* a delegated cgroup's name is chosen by its user */
		untrusted_copy(clean, sizeof(clean), sub, sizeof(sub));
		o = json_pack("{s:s}", "cgroup", clean);
		if (o && add_pressure(s, path, ".pressure", o, &rows[*n].stall_us) && (rows[*n].path = strdup(sub))) {
			rows[*n].o = o;
			(*n)++;
		} else {
			json_decref(o);
		}
		if (depth < 2)
			scan_cgroups(s, base, sub, depth + 1, rows, n);
	}
	closedir(d);
}

/* The cgroups that stalled most since the last snapshot (since boot on the first). */
static void add_cgroup_pressure(struct sys_state *s, json_t *o)
{
	const char *base = cgroup2_dir(s);
	struct cg_row *rows;
	struct sys_cg_prev *prev;
	size_t n = 0;
	json_t *a;

	if (!base || !(rows = calloc(SYS_MAX_CGROUPS, sizeof(*rows))))
		return;
	scan_cgroups(s, base, "", 1, rows, &n);
	for (size_t i = 0; i < n; i++) {
		rows[i].delta_us = rows[i].stall_us;
		for (size_t j = 0; j < s->nprev; j++)
			if (!strcmp(s->prev[j].path, rows[i].path)) {
				if (rows[i].stall_us >= s->prev[j].stall_us)
					rows[i].delta_us = rows[i].stall_us - s->prev[j].stall_us;
				break;
			}
	}
	qsort(rows, n, sizeof(*rows), by_delta_desc);
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		if (i < SYS_TOP_CGROUPS)
			json_array_append(a, rows[i].o);
		json_decref(rows[i].o);
	}
	json_object_set_new(o, "cgroup_pressure", a);
	/* remember every scanned cgroup: the next ranking is by what changed */
	prev = calloc(n ?: 1, sizeof(*prev));
	for (size_t j = 0; j < s->nprev; j++)
		free(s->prev[j].path);
	free(s->prev);
	s->prev = prev;
	s->nprev = 0;
	for (size_t i = 0; i < n; i++) {
		if (prev) {
			prev[i] = (struct sys_cg_prev){ rows[i].path, rows[i].stall_us };
			s->nprev++;
		} else {
			free(rows[i].path);
		}
	}
	free(rows);
}

json_t *system_snapshot(struct sys_state *s)
{
	json_t *o = json_object(), *psi = json_object();
	uint64_t stall;

	if (!o || !psi) {
		json_decref(o);
		json_decref(psi);
		return NULL;
	}
	add_stat(s, o);
	add_memory(s, o);
	add_disks(s, o);
	add_network(s, o);
	if (add_pressure(s, "proc/pressure", "", psi, &stall))
		json_object_set_new(o, "pressure", psi);
	else
		json_decref(psi);
	add_cgroup_pressure(s, o);
	return o;
}

void system_state_free(struct sys_state *s)
{
	if (!s)
		return;
	for (size_t j = 0; j < s->nprev; j++)
		free(s->prev[j].path);
	free(s->prev);
	free(s);
}

static int system_start(struct col_run *run, const struct rec_opts *o)
{
	const struct system_opts *so = run->opts;
	struct sys_state *s = calloc(1, sizeof(*s));

	(void)o;
	if (!s)
		return -ENOMEM;
	snprintf(s->root, sizeof(s->root), "%s", so->root);
	s->hz = sysconf(_SC_CLK_TCK);
	s->page_bytes = sysconf(_SC_PAGESIZE);
	if (s->hz <= 0)
		s->hz = 100;
	if (s->page_bytes <= 0)
		s->page_bytes = 4096;
	if (!exists_under(s->root, "proc/stat", NULL)) {
		int err = -errno ?: -ENOENT;

		log_err("system: cannot read %s/proc/stat: %s", s->root, strerror(-err));
		free(s);
		return err;
	}
	run->priv = s;
	return 0;
}

static json_t *system_collect(struct col_run *run)
{
	return system_snapshot(run->priv);
}

static void system_stop(struct col_run *run)
{
	system_state_free(run->priv);
	run->priv = NULL;
}

/* ---- report side: a timeline from the session's periodic snapshots ---- */

/* Sum of a member over the rows of an array, rows filtered by skip_key=skip_val. */
static uint64_t rows_sum(const json_t *a, const char *key, const char *skip_key, const char *skip_val)
{
	uint64_t sum = 0;
	const json_t *r;
	size_t i;

	json_array_foreach(a, i, r) {
		const char *v = skip_key ? json_string_value(json_object_get(r, skip_key)) : NULL;

		if (v && skip_val && !strcmp(v, skip_val))
			continue;
		sum += json_u64(r, key);
	}
	return sum;
}

static double real_of(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* The cumulative figures a timeline point is the difference of. */
static json_t *raw_point(const json_t *snap, uint64_t t_ns)
{
	const json_t *cpu = json_object_get(snap, "cpu"), *psi = json_object_get(snap, "pressure");
	uint64_t all = rows_sum(cpu, "ns", NULL, NULL);
	uint64_t idle = 0;
	const json_t *r;
	size_t i;

	json_array_foreach(cpu, i, r) {
		const char *m = json_string_value(json_object_get(r, "mode"));

		if (m && (!strcmp(m, "idle") || !strcmp(m, "iowait")))
			idle += json_u64(r, "ns");
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"time_ns", (json_int_t)t_ns,
		"cpu_ns", (json_int_t)all, "cpu_busy_ns", (json_int_t)(all - idle),
		"disk_read_bytes", (json_int_t)rows_sum(json_object_get(snap, "disk"), "read_bytes", NULL, NULL),
		"disk_written_bytes", (json_int_t)rows_sum(json_object_get(snap, "disk"), "written_bytes", NULL, NULL),
		"net_receive_bytes", (json_int_t)rows_sum(json_object_get(snap, "network"), "receive_bytes", "device", "lo"),
		"net_transmit_bytes", (json_int_t)rows_sum(json_object_get(snap, "network"), "transmit_bytes", "device", "lo"),
		"cpu_waiting_ns", (json_int_t)json_u64(psi, "cpu_waiting_ns"),
		"memory_waiting_ns", (json_int_t)json_u64(psi, "memory_waiting_ns"),
		"io_waiting_ns", (json_int_t)json_u64(psi, "io_waiting_ns"));
}

static json_int_t delta(const json_t *cur, const json_t *prev, const char *key)
{
	uint64_t a = json_u64(cur, key), b = json_u64(prev, key);

	return (json_int_t)(a >= b ? a - b : 0);
}

static int system_report_snapshot(json_t *col, const json_t *snap, uint64_t t_ns)
{
	json_t *tl = json_object_get(col, "timeline"), *prev = json_object_get(col, "timeline_last");
	json_t *cur, *pt, *mem = json_object_get(snap, "memory");
	json_int_t cpu, busy;

	if (!json_is_object(snap) || !json_is_array(json_object_get(snap, "cpu")))
		return -EINVAL;
	if (!tl) {
		tl = json_array();
		json_object_set_new(col, "timeline", tl);
	}
	cur = raw_point(snap, t_ns);
	if (!cur)
		return -ENOMEM;
	if (prev && json_u64(cur, "time_ns") > json_u64(prev, "time_ns")) {
		if (json_array_size(tl) >= SYS_MAX_POINTS) {
			json_object_set_new(col, "timeline_not_listed",
					    json_integer((json_int_t)json_u64(col, "timeline_not_listed") + 1));
		} else {
			cpu = delta(cur, prev, "cpu_ns");
			busy = delta(cur, prev, "cpu_busy_ns");
			pt = json_pack("{s:I, s:I, s:f, s:f, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				"time_ns", (json_int_t)t_ns,
				"interval_ns", delta(cur, prev, "time_ns"),
				"cpu_busy_ratio", cpu ? (double)busy / cpu : 0.0,
				"load1", real_of(snap, "load1"),
				"memory_used_bytes", json_integer((json_int_t)real_of(mem, "used_bytes")),
				"swap_used_bytes", json_integer((json_int_t)real_of(mem, "swap_used_bytes")),
				"disk_read_bytes", delta(cur, prev, "disk_read_bytes"),
				"disk_written_bytes", delta(cur, prev, "disk_written_bytes"),
				"net_receive_bytes", delta(cur, prev, "net_receive_bytes"),
				"net_transmit_bytes", delta(cur, prev, "net_transmit_bytes"),
				"cpu_waiting_ns", delta(cur, prev, "cpu_waiting_ns"),
				"memory_waiting_ns", delta(cur, prev, "memory_waiting_ns"),
				"io_waiting_ns", delta(cur, prev, "io_waiting_ns"));
			json_array_append_new(tl, pt);
		}
	}
	json_object_set_new(col, "timeline_last", cur);
	return 0;
}

static void system_report_finish(json_t *col, const struct report_opts *ro)
{
	(void)ro;
	json_object_del(col, "timeline_last");
}

static double per_sec(const json_t *pt, const char *key)
{
	uint64_t iv = json_u64(pt, "interval_ns");

	return iv ? json_u64(pt, key) * 1e9 / iv : 0;
}

static void system_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	const json_t *mem = json_object_get(col, "memory"), *tl = json_object_get(col, "timeline");
	const json_t *r;
	char b[5][16];
	size_t i, n = json_array_size(tl), step;

	(void)ro;
	fprintf(out, "System (last snapshot): load %.2f %.2f %.2f, %.0f running, %.0f blocked\n",
		real_of(col, "load1"), real_of(col, "load5"), real_of(col, "load15"),
		real_of(col, "procs_running"), real_of(col, "procs_blocked"));
	if (mem)
		fprintf(out, "  memory: %s used, %s available of %s; swap %s used\n",
			fmt_bytes((uint64_t)real_of(mem, "used_bytes"), b[0], 16),
			fmt_bytes((uint64_t)real_of(mem, "available_bytes"), b[1], 16),
			fmt_bytes((uint64_t)real_of(mem, "total_bytes"), b[2], 16),
			fmt_bytes((uint64_t)real_of(mem, "swap_used_bytes"), b[3], 16));
	fprintf(out, "  tcp connections:");
	json_array_foreach(json_object_get(col, "tcp_connection_states"), i, r)
		if (real_of(r, "value") > 0)
			fprintf(out, " %s %.0f", json_string_value(json_object_get(r, "state")) ?: "?",
				real_of(r, "value"));
	fputc('\n', out);
	if (!n)
		return;
	fprintf(out, "\nSystem timeline (per interval; disk and network per second, network without lo):\n");
	fprintf(out, "  %8s %6s %6s %9s %9s %9s %9s %9s %6s %6s\n", "time", "cpu%", "load1", "mem used",
		"disk rd", "disk wr", "net rx", "net tx", "psi io", "psi mem");
	/* at most about 40 rows: a long session shows every step-th interval */
	step = (n + 39) / 40;
	for (i = 0; i < n; i += step) {
		uint64_t iv;

		r = json_array_get(tl, i);
		iv = json_u64(r, "interval_ns");
		fprintf(out, "  %7.1fs %5.1f%% %6.2f %9s %9s %9s %9s %9s %5.1f%% %5.1f%%\n",
			json_u64(r, "time_ns") / 1e9, 100 * real_of(r, "cpu_busy_ratio"), real_of(r, "load1"),
			fmt_bytes(json_u64(r, "memory_used_bytes"), b[0], 16),
			fmt_bytes((uint64_t)per_sec(r, "disk_read_bytes"), b[1], 16),
			fmt_bytes((uint64_t)per_sec(r, "disk_written_bytes"), b[2], 16),
			fmt_bytes((uint64_t)per_sec(r, "net_receive_bytes"), b[3], 16),
			fmt_bytes((uint64_t)per_sec(r, "net_transmit_bytes"), b[4], 16),
			iv ? 100.0 * json_u64(r, "io_waiting_ns") / iv : 0,
			iv ? 100.0 * json_u64(r, "memory_waiting_ns") / iv : 0);
	}
}

const struct collector col_system = {
	.name = "system",
	.id = 7,
	.help = "CPU, load, memory, swap, disks, interfaces, TCP states, pressure (from /proc, no BPF)",
	.default_on = true,
	.options = system_options,
	.opts_size = sizeof(struct system_opts),
	.opts_default = &system_opts_default,
	.set_option = system_set_option,
	.start = system_start,
	.collect = system_collect,
	.stop = system_stop,
	.report_snapshot = system_report_snapshot,
	.report_finish = system_report_finish,
	.render_text = system_render_text,
};
