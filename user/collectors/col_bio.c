// SPDX-License-Identifier: GPL-2.0
/* Block IO collector, userspace side: setup, maps to JSON, report and text. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "col_bio.h"
#include "hist.h"
#include "log.h"
#include "untrusted.h"
#include "probe.h"
#include "bpf/bio.h"
#include "bio.skel.h"

#define BIO_DEFAULT_MIN_LATENCY_NS	(10ull * 1000 * 1000)
/* JSON bounds: the maps are bounded, a report from a file must be too. */
#define BIO_MAX_PROCS_JSON		256
#define BIO_MAX_OUTLIERS		100000

static const char *const op_names[BIO_NOPS] = {
	[BIO_OP_READ] = "read",
	[BIO_OP_WRITE] = "write",
	[BIO_OP_FLUSH] = "flush",
	[BIO_OP_DISCARD] = "discard",
	[BIO_OP_OTHER] = "other",
};

const char *bio_op_name(unsigned int op)
{
	return op < BIO_NOPS ? op_names[op] : NULL;
}

int bio_op_parse(const char *name)
{
	for (int i = 0; i < BIO_NOPS; i++)
		if (name && strcmp(name, op_names[i]) == 0)
			return i;
	return -EINVAL;
}

int bio_parse_majmin(const char *s, uint32_t *dev)
{
	unsigned long ma, mi;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	ma = strtoul(s, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	mi = strtoul(end + 1, &end, 10);
	if (errno || (*end && *end != '\n') || (*end == '\n' && end[1]))
		return -EINVAL;
	if (ma >= (1ul << (32 - BIO_MINORBITS)) || mi >= (1ul << BIO_MINORBITS))
		return -EINVAL;
	*dev = BIO_MKDEV(ma, mi);
	return 0;
}

int bio_uevent_get(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), vlen;
	const char *line = text, *nl;

	while (line && *line) {
		nl = strchr(line, '\n');
		vlen = nl ? (size_t)(nl - line) : strlen(line);
		if (vlen > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
			vlen -= klen + 1;
			if (vlen + 1 > len)
				return -ENAMETOOLONG;
			memcpy(buf, line + klen + 1, vlen);
			buf[vlen] = 0;
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

/* Small sysfs text file into buf (NUL-terminated); 0 or -errno. */
static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		err = -errno;
	else
		buf[n] = 0;
	close(fd);
	return err;
}

static const char *root_or_slash(const char *root)
{
	return root && *root ? root : "";
}

int bio_disk_name(const char *root, uint32_t dev, char *buf, size_t len)
{
	char path[PATH_MAX], text[4096], link[PATH_MAX];
	const char *base;
	ssize_t n;
	int err;

	snprintf(path, sizeof(path), "%s/sys/dev/block/%u:%u/uevent",
		 root_or_slash(root), BIO_MAJOR(dev), BIO_MINOR(dev));
	if (read_small(path, text, sizeof(text)) == 0) {
		err = bio_uevent_get(text, "DEVNAME", buf, len);
		if (err != -ENOENT)
			return err;
	}
	/* no uevent name: the link points at .../block/<name> ('!' for '/') */
	path[strlen(path) - strlen("/uevent")] = 0;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (!*base)
		return -ENOENT;
	if (strlen(base) + 1 > len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	for (char *c = buf; *c; c++)
		if (*c == '!')
			*c = '/';
	return 0;
}

uint32_t bio_stats_entries(uint32_t present, uint32_t filtered)
{
	uint32_t disks = filtered ? filtered : present ? present + 16 : BIO_DISKS_MAX;

	return (disks < BIO_DISKS_MAX ? disks : BIO_DISKS_MAX) * BIO_NOPS;
}

uint32_t bio_disks_present(const char *root)
{
	char path[PATH_MAX];
	struct dirent *e;
	uint32_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/block", root_or_slash(root));
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int bio_disk_dev(const char *root, const char *name, uint32_t *dev)
{
	char path[PATH_MAX], text[4096], sysname[NAME_MAX + 1], type[32];
	size_t n;
	int err;

	if (!name)
		return -EINVAL;
	if (strncmp(name, "/dev/", 5) == 0)
		name += 5;
	if (bio_parse_majmin(name, dev) == 0) {
		snprintf(path, sizeof(path), "%s/sys/dev/block/%u:%u/uevent",
			 root_or_slash(root), BIO_MAJOR(*dev), BIO_MINOR(*dev));
		if (access(path, F_OK) != 0)
			return -ENOENT;
		goto check_partition;
	}
	n = strlen(name);
	if (n == 0 || n > NAME_MAX || name[0] == '.' || strstr(name, ".."))
		return -EINVAL;
	/* sysfs spells the '/' of "cciss/c0d0" as '!' */
	for (size_t i = 0; i <= n; i++)
		sysname[i] = name[i] == '/' ? '!' : name[i];
	snprintf(path, sizeof(path), "%s/sys/class/block/%s/dev",
		 root_or_slash(root), sysname);
	err = read_small(path, text, sizeof(text));
	if (err)
		return err == -ENOTDIR ? -ENOENT : err;
	err = bio_parse_majmin(text, dev);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/sys/class/block/%s/uevent",
		 root_or_slash(root), sysname);
check_partition:
	if (read_small(path, text, sizeof(text)) == 0 &&
	    bio_uevent_get(text, "DEVTYPE", type, sizeof(type)) == 0 &&
	    strcmp(type, "partition") == 0)
		return -EISDIR;
	return 0;
}

/* ---- options ---- */

struct bio_opts {
	uint32_t disks[BIO_DISKS_MAX];
	int ndisks;
	bool exact_owner;
};

static const struct bio_opts bio_opts_default;

static const struct col_option bio_options[] = {
	{ "disk", true, "only requests to this disk (repeatable): loop0, /dev/vda, 7:0" },
	{ "exact-owner", false, "also hook block_io_start (6.5+): a request a kernel worker "
	  "issues is still the submitter's (~200 ns more per IO)" },
	{ NULL },
};

static int bio_set_option(void *opts, const char *name, const char *arg)
{
	struct bio_opts *bo = opts;
	uint32_t dev;
	int err;

	if (!strcmp(name, "exact-owner")) {
		bo->exact_owner = true;
		return 0;
	}
	if (strcmp(name, "disk") != 0)
		return -EINVAL;
	err = bio_disk_dev(NULL, arg, &dev);
	if (err == -EISDIR) {
		log_err("--disk %s: a partition; block requests are counted per disk, name the disk", arg);
		return err;
	}
	if (err) {
		log_err("--disk %s: no such block device (see /sys/class/block)", arg);
		return err;
	}
	for (int i = 0; i < bo->ndisks; i++)
		if (bo->disks[i] == dev)
			return 0;
	if (bo->ndisks >= BIO_DISKS_MAX) {
		log_err("--disk: at most %d disks", BIO_DISKS_MAX);
		return -E2BIG;
	}
	bo->disks[bo->ndisks++] = dev;
	return 0;
}

/* ---- record side ---- */

enum {
	H_INSERT,
	H_ISSUE,
	H_COMPLETE,
	H_IO_START,
	H_N,
};

/*
 * Group 1: classic tracepoints key requests by (dev, sector), the others
 * by request pointer: all hooks must use the same key or nothing matches.
 */
static const struct hook_spec bio_hooks[H_N] = {
	[H_INSERT] = { "block:block_rq_insert", HOOK_CHAIN_TP, true,
		       "queue latency (insert -> issue)", .progs = "bio_insert", .group = 1 },
	[H_ISSUE] = { "block:block_rq_issue", HOOK_CHAIN_TP, false, NULL,
		      .progs = "bio_issue", .group = 1 },
	[H_COMPLETE] = { "block:block_rq_complete", HOOK_CHAIN_TP, false, NULL,
			 .progs = "bio_complete", .group = 1 },
	[H_IO_START] = { "block:block_io_start", HOOK_CHAIN_TP, true,
			 "attribution at submission for requests a worker issues (--exact-owner, Linux 6.5+)",
			 .progs = "bio_start", .group = 1 },
};

struct bio_priv {
	struct timespec start;
	uint64_t min_latency_ns;
	bool classic;		/* keyed by (dev, sector) */
};

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + t->tv_nsec;
}

/*
 * a54895fa057c (5.11) dropped the request_queue argument of
 * block_rq_insert/issue. BTF says how many arguments there are; without
 * it the release number is the best we have.
 */
static bool rq_tp_has_queue_arg(void)
{
	struct utsname u;
	unsigned int ma = 0, mi = 0;
	int n = probe_tp_nargs("block_rq_issue");

	if (n > 0)
		return n >= 2;
	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma < 5 || (ma == 5 && mi < 11);
}

COLLECTOR_SKEL(bio);

static int bio_configure(struct col_run *run, const struct rec_opts *o)
{
	const struct bio_opts *bo = run->opts;
	struct bio_bpf *skel = run->skel;
	struct bio_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	run->priv = p;
	p->min_latency_ns = o->min_latency_ns ? o->min_latency_ns : BIO_DEFAULT_MIN_LATENCY_NS;
	skel->rodata->min_latency_ns = p->min_latency_ns;
	skel->rodata->filter_ndisks = bo->ndisks;
	for (int i = 0; i < bo->ndisks; i++)
		skel->rodata->filter_disks[i] = bo->disks[i];
	/*
	 * Without block_io_start a request is attributed at insert, or at
	 * issue when it skips the scheduler: both run in the submitting task
	 * except when a device was busy and a worker issues the request
	 * later. block_io_start always runs there, at a third program run per
	 * request: opt-in.
	 */
	if (!bo->exact_owner)
		hook_off(run, H_IO_START, "off: owners taken at insert or issue (--exact-owner hooks it)");
	return slots_setup("bio", "DISCO_BIO_SLOTS", &skel->rodata->slot_mask,
			   &skel->rodata->use_slots);
}

static int bio_prepare(struct col_run *run, const struct rec_opts *o)
{
	struct bio_bpf *skel = run->skel;
	struct bio_priv *p = run->priv;

	const struct bio_opts *bo = run->opts;
	int err;

	(void)o;
	p->classic = run->hooks[H_ISSUE].method == HOOK_TRACEPOINT;
	skel->rodata->have_io_start = run->hooks[H_IO_START].method != HOOK_NONE;
	skel->rodata->has_queue_arg = !p->classic && rq_tp_has_queue_arg();
	/* both preallocated: 8.5 KiB and 72 bytes per entry and CPU */
	err = bpf_map__set_max_entries(skel->maps.stats,
		bio_stats_entries(bio_disks_present(NULL), bo->ndisks));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.procs,
			proc_table_entries(processes_alive(), sizeof(struct bio_proc),
					   libbpf_num_possible_cpus(),
					   bpf_map__max_entries(skel->maps.procs)));
	return err;
}

static int bio_start(struct col_run *run, const struct rec_opts *o)
{
	struct bio_priv *p = run->priv;

	(void)o;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	return 0;
}

static void bio_stop(struct col_run *run)
{
	free(run->priv);
	run->priv = NULL;
}

static void devname(uint32_t dev, char *buf, size_t len)
{
	if (bio_disk_name(NULL, dev, buf, len))
		snprintf(buf, len, "%u:%u", BIO_MAJOR(dev), BIO_MINOR(dev));
}

static double per_sec(uint64_t n, uint64_t elapsed_ns)
{
	return elapsed_ns ? (double)n * 1e9 / (double)elapsed_ns : 0.0;
}

struct stat_row {
	struct bio_stat_key key;
	char disk[BIO_DISK_NAME_LEN];
};

static int row_cmp(const void *a, const void *b)
{
	const struct stat_row *x = a, *y = b;
	int c = strcmp(x->disk, y->disk);

	if (c)
		return c;
	if (x->key.dev != y->key.dev)
		return x->key.dev < y->key.dev ? -1 : 1;
	return (int)x->key.op - (int)y->key.op;
}

/* Sum of a per-CPU stats value; 0 or -errno. */
static int read_stat(int fd, const struct bio_stat_key *key, struct bio_stat *out)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct bio_stat *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, key, vals)) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < ncpu; i++) {
		hist_merge(&out->latency, &vals[i].latency);
		hist_merge(&out->queue, &vals[i].queue);
		out->requests += vals[i].requests;
		out->bytes += vals[i].bytes;
	}
out:
	free(vals);
	return err;
}

static json_t *collect_disks(int fd, uint64_t elapsed_ns)
{
	struct stat_row rows[BIO_DISKS_MAX * BIO_NOPS];
	struct bio_stat_key key, next, *prev = NULL;
	struct bio_stat *st;
	json_t *arr = json_array();
	size_t n = 0;
	char mm[24];

	st = malloc(sizeof(*st));
	if (!st || !arr)
		goto out;
	while (n < BIO_DISKS_MAX * BIO_NOPS && bpf_map_get_next_key(fd, prev, &next) == 0) {
		rows[n].key = next;
		devname(next.dev, rows[n].disk, sizeof(rows[n].disk));
		n++;
		key = next;
		prev = &key;
	}
	qsort(rows, n, sizeof(rows[0]), row_cmp);
	for (size_t i = 0; i < n; i++) {
		const char *op = bio_op_name(rows[i].key.op);

		if (read_stat(fd, &rows[i].key, st))
			continue;
		snprintf(mm, sizeof(mm), "%u:%u", BIO_MAJOR(rows[i].key.dev),
			 BIO_MINOR(rows[i].key.dev));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:o, s:o}",
			"disk", rows[i].disk,
			"dev", mm,
			"op", op ? op : "other",
			"requests", (json_int_t)st->requests,
			"bytes", (json_int_t)st->bytes,
			"iops", per_sec(st->requests, elapsed_ns),
			"throughput_bytes_per_s", per_sec(st->bytes, elapsed_ns),
			"latency", hist_to_json(&st->latency, "ns"),
			"queue_latency", hist_to_json(&st->queue, "ns")));
	}
out:
	free(st);
	return arr;
}

struct proc_row {
	uint32_t pid;
	struct bio_proc v;
};

static int proc_cmp(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	if (x->v.io_ns != y->v.io_ns)
		return x->v.io_ns > y->v.io_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Sum of a per-CPU procs value; the name from the last CPU that saw requests. */
static int read_proc(int fd, uint32_t pid, struct bio_proc *vals, int ncpu, struct bio_proc *out)
{
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &pid, vals))
		return -errno;
	for (int i = 0; i < ncpu; i++) {
		const struct bio_proc *v = &vals[i];

		out->requests += v->requests;
		out->bytes += v->bytes;
		out->io_ns += v->io_ns;
		out->queue_ns += v->queue_ns;
		out->read_bytes += v->read_bytes;
		out->write_bytes += v->write_bytes;
		if (v->max_latency_ns > out->max_latency_ns)
			out->max_latency_ns = v->max_latency_ns;
		if (v->requests && v->comm[0])
			memcpy(out->comm, v->comm, sizeof(out->comm));
	}
	return 0;
}

static json_t *collect_procs(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	struct proc_row *rows = NULL;
	struct bio_proc *vals = NULL;
	uint32_t key, next, *prev = NULL;
	size_t n = 0, cap = 8192;
	json_t *arr = json_array();
	char comm[BIO_COMM_LEN + 1];

	if (ncpu <= 0 || !arr)
		return arr;
	rows = calloc(cap, sizeof(*rows));
	vals = calloc(ncpu, sizeof(*vals));
	if (!rows || !vals)
		goto out;
	while (n < cap && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (read_proc(fd, key, vals, ncpu, &rows[n].v) || !rows[n].v.requests)
			continue;
		rows[n++].pid = key;
	}
	qsort(rows, n, sizeof(rows[0]), proc_cmp);
	for (size_t i = 0; i < n && i < BIO_MAX_PROCS_JSON; i++) {
		const struct bio_proc *v = &rows[i].v;

		untrusted_copy(comm, sizeof(comm), v->comm, BIO_COMM_LEN);
		json_array_append_new(arr, json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"pid", (int)rows[i].pid,
			"comm", comm,
			"requests", (json_int_t)v->requests,
			"bytes", (json_int_t)v->bytes,
			"read_bytes", (json_int_t)v->read_bytes,
			"write_bytes", (json_int_t)v->write_bytes,
			"io_ns", (json_int_t)v->io_ns,
			"queue_ns", (json_int_t)v->queue_ns,
			"max_latency_ns", (json_int_t)v->max_latency_ns));
	}
out:
	free(rows);
	free(vals);
	return arr;
}

static json_t *collect_sizes(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	struct hist *percpu = NULL, *sum = NULL;
	uint32_t zero = 0;
	json_t *j = NULL;

	if (ncpu <= 0)
		return NULL;
	percpu = calloc(ncpu, sizeof(*percpu));
	sum = calloc(1, sizeof(*sum));
	if (!percpu || !sum)
		goto out;
	if (bpf_map_lookup_elem(fd, &zero, percpu) == 0)
		for (int i = 0; i < ncpu; i++)
			hist_merge(sum, &percpu[i]);
	j = hist_to_json(sum, "bytes");
out:
	free(percpu);
	free(sum);
	return j;
}

static json_t *bio_collect(struct col_run *run)
{
	const struct bio_opts *bo = run->opts;
	struct bio_bpf *skel = run->skel;
	struct bio_priv *p = run->priv;
	struct timespec now;
	uint64_t elapsed;
	json_t *j, *disks, *filt;
	char name[BIO_DISK_NAME_LEN];

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = ts_ns(&now) - ts_ns(&p->start);
	j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "elapsed_ns", json_integer((json_int_t)elapsed));
	json_object_set_new(j, "min_latency_ns", json_integer((json_int_t)p->min_latency_ns));
	json_object_set_new(j, "inflight_key", json_string(p->classic ? "dev_sector" : "request"));
	json_object_set_new(j, "disks", collect_disks(bpf_map__fd(skel->maps.stats), elapsed));
	json_object_set_new(j, "sizes", collect_sizes(bpf_map__fd(skel->maps.sizes)));
	json_object_set_new(j, "processes", collect_procs(bpf_map__fd(skel->maps.procs)));
	/* filled from the recorded events by report_event */
	json_object_set_new(j, "outliers", json_array());
	disks = json_array();
	for (int i = 0; disks && i < bo->ndisks; i++) {
		devname(bo->disks[i], name, sizeof(name));
		json_array_append_new(disks, json_string(name));
	}
	filt = json_object();
	json_object_set_new(filt, "disks", disks);
	json_object_set_new(j, "filters", filt);
	return j;
}

/* ---- report side ---- */

/* Copy a fixed-size, maybe unterminated string from an untrusted event. */
static int bio_report_event(json_t *col, const void *data, size_t len,
			    const struct report_opts *ro)
{
	struct bio_event ev;
	char comm[BIO_COMM_LEN + 1], disk[BIO_DISK_NAME_LEN + 1], mm[24];
	uint64_t t0 = ro ? ro->start_mono_ns : 0;
	json_t *o;

	if (len != sizeof(ev))
		return -EBADMSG;
	memcpy(&ev, data, sizeof(ev));
	if (ev.op >= BIO_NOPS)
		return -EBADMSG;
	untrusted_copy(comm, sizeof(comm), ev.comm, BIO_COMM_LEN);
	untrusted_copy(disk, sizeof(disk), ev.disk, BIO_DISK_NAME_LEN);
	snprintf(mm, sizeof(mm), "%u:%u", BIO_MAJOR(ev.dev), BIO_MINOR(ev.dev));
	/* "disk" falls back to MAJ:MIN; report_finish names it from "disks" */
	o = json_pack("{s:I, s:i, s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}",
		      "time_ns", (json_int_t)(ev.time_ns > t0 ? ev.time_ns - t0 : 0),
		      "pid", (int)ev.pid,
		      "tid", (int)ev.tid,
		      "comm", comm,
		      "disk", disk[0] ? disk : mm,
		      "dev", mm,
		      "op", bio_op_name(ev.op),
		      "sector", (json_int_t)ev.sector,
		      "size_bytes", (json_int_t)ev.size_bytes,
		      "queue_ns", (json_int_t)ev.queue_ns,
		      "latency_ns", (json_int_t)ev.latency_ns,
		      "error", ev.error != 0);
	if (!o)
		return -ENOMEM;
	report_append_bounded(col, "outliers", o, BIO_MAX_OUTLIERS);
	return 0;
}

/*
 * Classic tracepoints cannot read the disk name in the kernel: name such
 * outliers from the recording machine's "disks" table (MAJ:MIN -> name),
 * never from this machine's /sys, which may be another machine.
 */
static void bio_report_finish(json_t *col, const struct report_opts *ro)
{
	const json_t *disks = json_object_get(col, "disks"), *d;
	json_t *outl = json_object_get(col, "outliers"), *o;
	size_t i, k;

	(void)ro;
	json_array_foreach(outl, i, o) {
		const char *dev = json_string_value(json_object_get(o, "dev"));
		const char *name = json_string_value(json_object_get(o, "disk"));

		if (!dev || !name || strcmp(dev, name) != 0)
			continue;
		json_array_foreach(disks, k, d) {
			const char *dv = json_string_value(json_object_get(d, "dev"));
			const char *dn = json_string_value(json_object_get(d, "disk"));

			if (dv && dn && strcmp(dv, dev) == 0) {
				json_object_set_new(o, "disk", json_string(dn));
				break;
			}
		}
	}
}

static void render_disks(const json_t *col, FILE *out, uint64_t elapsed)
{
	const json_t *disks = json_object_get(col, "disks"), *d;
	char label[64], b1[32], b2[32];
	uint64_t queued = 0;
	size_t i;

	fprintf(out, "  %-12s %-8s %10s %10s %10s %12s\n",
		"DISK", "OP", "REQUESTS", "IOPS", "BYTES", "THROUGHPUT");
	json_array_foreach(disks, i, d) {
		uint64_t req = json_u64(d, "requests"), bytes = json_u64(d, "bytes");

		fprintf(out, "  %-12s %-8s %10" PRIu64 " %10.1f %10s %10s/s\n",
			json_string_value(json_object_get(d, "disk")) ?: "?",
			json_string_value(json_object_get(d, "op")) ?: "?",
			req, per_sec(req, elapsed), fmt_bytes(bytes, b1, sizeof(b1)),
			fmt_bytes((uint64_t)per_sec(bytes, elapsed), b2, sizeof(b2)));
	}
	fprintf(out, "\n  service latency (issue -> complete):\n");
	report_print_latency_row(out, NULL, NULL);
	json_array_foreach(disks, i, d) {
		snprintf(label, sizeof(label), "%s %s",
			 json_string_value(json_object_get(d, "disk")) ?: "?",
			 json_string_value(json_object_get(d, "op")) ?: "?");
		report_print_latency_row(out, label, json_object_get(d, "latency"));
	}
	json_array_foreach(disks, i, d)
		queued += json_u64(json_object_get(d, "queue_latency"), "count");
	fprintf(out, "\n  queue latency (insert -> issue):%s\n",
		queued ? "" : " none, no request went through a scheduler queue");
	if (!queued)
		return;
	report_print_latency_row(out, NULL, NULL);
	json_array_foreach(disks, i, d) {
		const json_t *q = json_object_get(d, "queue_latency");

		if (!json_u64(q, "count"))
			continue;
		snprintf(label, sizeof(label), "%s %s",
			 json_string_value(json_object_get(d, "disk")) ?: "?",
			 json_string_value(json_object_get(d, "op")) ?: "?");
		report_print_latency_row(out, label, q);
	}
}

static void render_procs(const json_t *col, FILE *out, int top)
{
	const json_t *procs = json_object_get(col, "processes"), *p;
	char b1[32], b2[32], b3[32], b4[32];
	size_t i;

	if (!json_array_size(procs))
		return;
	fprintf(out, "\n  top processes by IO time:\n");
	fprintf(out, "  %8s %-16s %9s %10s %10s %10s %10s\n",
		"PID", "COMM", "REQUESTS", "BYTES", "IO_TIME", "QUEUE", "MAX");
	json_array_foreach(procs, i, p) {
		if ((int)i >= top)
			break;
		fprintf(out, "  %8" PRIu64 " %-16s %9" PRIu64 " %10s %10s %10s %10s\n",
			json_u64(p, "pid"), json_string_value(json_object_get(p, "comm")) ?: "?",
			json_u64(p, "requests"), fmt_bytes(json_u64(p, "bytes"), b1, sizeof(b1)),
			fmt_ns(json_u64(p, "io_ns"), b2, sizeof(b2)),
			fmt_ns(json_u64(p, "queue_ns"), b3, sizeof(b3)),
			fmt_ns(json_u64(p, "max_latency_ns"), b4, sizeof(b4)));
	}
}

static int outlier_cmp(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	uint64_t lx = json_u64(x, "latency_ns") + json_u64(x, "queue_ns");
	uint64_t ly = json_u64(y, "latency_ns") + json_u64(y, "queue_ns");

	return lx > ly ? -1 : lx < ly;
}

static void render_outliers(const json_t *col, FILE *out, int top)
{
	const json_t *outl = json_object_get(col, "outliers"), *o;
	size_t n = json_array_size(outl), i;
	const json_t **sorted;
	char b1[32], b2[32], b3[32];

	fprintf(out, "\n  outliers (queue + service >= %s): %zu\n",
		fmt_ns(json_u64(col, "min_latency_ns"), b1, sizeof(b1)), n);
	if (!n)
		return;
	sorted = calloc(n, sizeof(*sorted));
	if (!sorted)
		return;
	json_array_foreach(outl, i, o)
		sorted[i] = o;
	qsort(sorted, n, sizeof(*sorted), outlier_cmp);
	fprintf(out, "  %8s %-16s %-10s %-8s %14s %10s %10s %10s\n",
		"PID", "COMM", "DISK", "OP", "SECTOR", "SIZE", "QUEUE", "LATENCY");
	for (i = 0; i < n && (int)i < top; i++) {
		o = sorted[i];
		fprintf(out, "  %8" PRIu64 " %-16s %-10s %-8s %14" PRIu64 " %10s %10s %10s%s\n",
			json_u64(o, "pid"), json_string_value(json_object_get(o, "comm")) ?: "?",
			json_string_value(json_object_get(o, "disk")) ?: "?",
			json_string_value(json_object_get(o, "op")) ?: "?",
			json_u64(o, "sector"), fmt_bytes(json_u64(o, "size_bytes"), b1, sizeof(b1)),
			fmt_ns(json_u64(o, "queue_ns"), b2, sizeof(b2)),
			fmt_ns(json_u64(o, "latency_ns"), b3, sizeof(b3)),
			json_is_true(json_object_get(o, "error")) ? " (error)" : "");
	}
	if (n > (size_t)top)
		fprintf(out, "  ... %zu more (--top)\n", n - top);
	free(sorted);
}

static void bio_render_text(const json_t *col, FILE *out, const struct report_opts *ro)
{
	const json_t *disks = json_object_get(col, "disks"), *d;
	uint64_t elapsed = json_u64(col, "elapsed_ns"), req = 0, bytes = 0;
	int top = ro && ro->top > 0 ? ro->top : 10;
	char b1[32], b2[32], b3[32];
	size_t i;

	json_array_foreach(disks, i, d) {
		req += json_u64(d, "requests");
		bytes += json_u64(d, "bytes");
	}
	fprintf(out, "bio: %" PRIu64 " requests, %s in %s (%.1f IOPS, %s/s)\n",
		req, fmt_bytes(bytes, b1, sizeof(b1)), fmt_ns(elapsed, b2, sizeof(b2)),
		per_sec(req, elapsed),
		fmt_bytes((uint64_t)per_sec(bytes, elapsed), b3, sizeof(b3)));
	if (req) {
		render_disks(col, out, elapsed);
		fprintf(out, "\n  request sizes:\n");
		report_print_hist(out, json_object_get(col, "sizes"), "bytes");
	}
	render_procs(col, out, top);
	render_outliers(col, out, top);
}

const struct collector col_bio = {
	.name = "bio",
	.id = 2,
	.help = "block IO: latency and queue time per disk and op, sizes, processes, outliers",
	.default_on = true,
	.hooks = bio_hooks,
	.nhooks = H_N,
	.options = bio_options,
	.opts_size = sizeof(struct bio_opts),
	.opts_default = &bio_opts_default,
	.set_option = bio_set_option,
	.skel = &bio_skel,
	.configure = bio_configure,
	.prepare = bio_prepare,
	.start = bio_start,
	.collect = bio_collect,
	.stop = bio_stop,
	.report_event = bio_report_event,
	.report_finish = bio_report_finish,
	.render_text = bio_render_text,
};
