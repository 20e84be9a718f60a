// SPDX-License-Identifier: GPL-2.0
/* Recording engine: collectors, one poll loop over their rings, the file. */
#include <errno.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "log.h"
#include "recorder.h"
#include "ringread.h"
#include "bpf/ring.h"
#include "session.h"
#include "stats_ctl.h"

#define FLUSH_NS	1000000000ULL	/* SPEC §4: at least every second */
#define STATE_NS	2000000000ULL	/* snapshot so a killed session reports */
#define RECORDER_MMAP_THRESHOLD	(1 << 20)
/*
 * While the collectors load, the kernel's BTF (5.4 MB raw here, ~11 MB
 * while libbpf reads and copies it) is parsed once by disco's probes and
 * once by libbpf for each collector, one after the other. Those blocks
 * come from the heap then and stay there when freed, so each parse
 * reuses the last one's pages, and the heap they come from is grown
 * once, in huge pages where the kernel gives them: the first touch of a
 * 4 KiB page is what costs (a fault each, ~18 us on this PVM guest: a
 * parse into fresh 4 KiB pages took 50-70 ms, into huge pages 8-16 ms,
 * into reused pages 4-5 ms). 32 MiB is the most glibc takes on 64-bit.
 */
#define STARTUP_MMAP_THRESHOLD	(32 << 20)
#define STARTUP_TRIM_THRESHOLD	(64 << 20)
#define STARTUP_HEAP		(24 << 20)
#define HUGE_PAGE		(2UL << 20)
#define DEFAULT_TRIM_THRESHOLD	(128 << 10)	/* glibc's M_TRIM_THRESHOLD */
/*
 * Every snapshot has the counters the intervals are made of; the stack
 * lists (megabytes of JSON on a busy machine, most of a snapshot's cost)
 * only every 30 s, so a killed session still has them, and at the end.
 */
#define STATE_FULL_NS	30000000000ULL
/*
 * --bpf-stats sampled: statistics on for the first second of every 30 s,
 * starting with the session's first.
 * While on, every BPF program on the machine pays two clock reads per run
 * (about 25 ns here: 5-7% of a kmalloc-heavy workload's time with the
 * alloc collector's four hooks). Switching them is not free either: it
 * patches the static branch at every BPF call site in the kernel. On this
 * guest one on/off pair takes 6.7 ms, and fio 4 KiB reads on a loop device
 * lost ~10% of their IOPS while another process switched once a second
 * (nothing measurable with them simply left on); the earlier 200 ms in
 * every 2 s cost the bio collector more than its programs did. So: one
 * switch pair every 30 s, with 3% of the session measured.
 */
#define STATS_WINDOW_NS	1000000000ULL
#define STATS_PERIOD_NS	30000000000ULL

struct recorder {
	struct col_run runs[64];
	int nruns;
	struct col_run *last_run;	/* of the last ring record (run_by_id) */
	struct ringread *rb;
	struct session_writer *w;
	int stats_fd;		/* --bpf-stats on: held all session */
	struct stats_ctl ctl;	/* --bpf-stats sampled: switches them */
	bool stats_on;		/* a statistics window is open */
	int stats_mode;		/* enum bpf_stats_mode */
	bool stats_failed;	/* bpf_enable_stats refused: said once */
	uint64_t stats_since, stats_on_ns, stats_next;
	uint64_t start_mono, start_real, last_flush, last_state, last_full_state;
	uint64_t state_ns;	/* snapshot period; 0: the caller writes them */
	uint64_t events, write_errors;
	size_t trim_arena;	/* the heap's size after its last trim */
	void *huge;		/* the heap range loading had in huge pages */
	size_t huge_len;
	uint64_t bad_records;	/* ring records of no collector or a bad batch (never seen) */
	uint32_t ring_id;	/* the map id of the shared ring, once made */
	int write_err;
	json_t *session;	/* static session facts, shared by header/state */
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The run whose records carry this id (struct ring_hdr), or NULL. */
static struct col_run *run_by_id(struct recorder *r, uint16_t id)
{
	/* runs of records of one collector are the rule */
	if (r->last_run && r->last_run->col->id == id)
		return r->last_run;
	for (int i = 0; i < r->nruns; i++)
		if (r->runs[i].col->id == id)
			return r->last_run = &r->runs[i];
	return NULL;
}

static void one_event(struct recorder *r, struct col_run *run, const void *data, size_t size)
{
	int err;

	run->events++;
	r->events++;
	if (r->w && !r->write_err && (!run->col->record_event || run->col->record_event(data, size))) {
		err = session_add_event(r->w, run->col->id, data, size);
		if (err) {
			r->write_err = err;
			log_err("writing the session file failed: %s; stopping the recording (the file is readable up to here)",
				strerror(-err));
		}
	}
	if (run->col->on_event)
		run->col->on_event(run, data, size);
}

static int on_ring_event(void *ctx, void *rec, size_t size)
{
	struct recorder *r = ctx;
	const struct ring_hdr *h = rec;
	struct col_run *run;
	const char *data = (const char *)((struct ring_hdr *)rec + 1);
	size_t n;

	/* the kernel wrote it, from our programs: a short one is a bug */
	run = size >= sizeof(*h) ? run_by_id(r, h->collector) : NULL;
	n = run && h->nrec > 1 ? h->nrec : 1;
	size = run ? size - sizeof(*h) : 0;
	if (!run || size % n) {
		r->bad_records++;
		return 0;
	}
	/* a batch: nrec events of one size */
	size /= n;
	for (size_t i = 0; i < n; i++)
		one_event(r, run, data + i * size, size);
	return 0;
}

static json_t *session_facts(const struct rec_opts *o, int argc, char **argv,
			     uint64_t start_real, uint64_t start_mono)
{
	struct utsname u;
	char host[256] = "";
	json_t *s, *cmd = json_array(), *pids = json_array();

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	for (int i = 0; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	for (int i = 0; i < o->npids; i++)
		json_array_append_new(pids, json_integer(o->pids[i]));
	s = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:o, s:{s:o, s:I, s:s, s:s, s:I, s:o}}",
		"disco_version", DISCO_VERSION, "hostname", host, "kernel", u.release,
		"machine", u.machine, "cpus", libbpf_num_possible_cpus(),
		"start_realtime_ns", (json_int_t)start_real,
		"start_monotonic_ns", (json_int_t)start_mono, "command_line", cmd,
		"filters", "pids", pids, "target_pid", (json_int_t)o->target_pid,
		"cgroup", o->cgroup_path ?: "", "comm", o->comm,
		"min_latency_ns", (json_int_t)o->min_latency_ns, "collectors", json_object());
	return s;
}

static void stop_runs(struct recorder *r)
{
	for (int i = 0; i < r->nruns; i++) {
		collector_stop(&r->runs[i]);
		free(r->runs[i].progs);
	}
	r->nruns = 0;
	r->last_run = NULL;
}

/* Turn BPF run-time statistics on and note where each program's counters are. */
static void stats_open(struct recorder *r, uint64_t now)
{
	int err = 0;

	if (r->stats_on || r->stats_failed || r->stats_mode == BPF_STATS_OFF)
		return;
	if (r->stats_mode == BPF_STATS_ON) {
		r->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (r->stats_fd < 0)
			err = -errno;
	} else {
		if (!r->ctl.pid)
			err = stats_ctl_start(&r->ctl);
		if (!err)
			err = stats_ctl_set(&r->ctl, true);
	}
	if (err) {
		r->stats_failed = true;
		log_warn("BPF run-time statistics unavailable (%s): program cost not measured",
			 strerror(-err));
		return;
	}
	for (int i = 0; i < r->nruns; i++)
		collector_prog_window(&r->runs[i], true);
	r->stats_on = true;
	/* from when they are on: starting the helper takes milliseconds */
	r->stats_since = now_ns(CLOCK_MONOTONIC);
	r->stats_next = now + STATS_PERIOD_NS;
}

/* Add up what the window counted; sampled statistics then go off. */
static void stats_close(struct recorder *r)
{
	if (!r->stats_on)
		return;
	for (int i = 0; i < r->nruns; i++)
		collector_prog_window(&r->runs[i], false);
	r->stats_on_ns += now_ns(CLOCK_MONOTONIC) - r->stats_since;
	if (r->stats_mode == BPF_STATS_SAMPLED && stats_ctl_set(&r->ctl, false))
		r->stats_failed = true;	/* the helper is gone, and they with it */
	r->stats_on = false;
}

static void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	ringread_free(r->rb);
	if (r->stats_fd >= 0)
		close(r->stats_fd);
	stats_ctl_stop(&r->ctl);
	stop_runs(r);
	json_decref(r->session);
	free(r);
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/*
 * Consume a collector's ring: the first one made is the session's, and
 * later collectors reuse it (ring_share), so it is added once. A ring
 * that is not the shared one (a collector that made its own) is added
 * too; its records carry their collector's id all the same.
 */
static int ring_consume(struct recorder *r, int fd)
{
	uint32_t id;
	int err = 0;

	if (fd < 0)
		return 0;
	id = map_id(fd);
	if (r->rb && id && id == r->ring_id)
		return 0;
	if (!r->rb) {
		r->rb = ringread_new();
		if (!r->rb)
			return -errno;
		r->ring_id = id;
	}
	err = ringread_add(r->rb, fd, on_ring_event, r);
	return err;
}

/*
 * The ring's consumer (this thread) at nice -5 while it records, unless
 * the user chose a nice value: under a machine-wide load (stress-ng
 * --switch on both CPUs) it went unscheduled long enough at nice 0 for
 * the default 4 MiB ring to overflow (~180 ms of events at 240k/s),
 * while it needs about 5% of one CPU. Threads and processes started from
 * here (the writer, a tuner's helpers) begin at nice 0 again
 * (SCHED_RESET_ON_FORK): the workload is never raised.
 */
#define CONSUMER_NICE	-5

static void consumer_raise(void)
{
	struct sched_param sp = { 0 };

	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) != 0 || errno)
		return;
	if (sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp) ||
	    setpriority(PRIO_PROCESS, 0, CONSUMER_NICE))
		log_debug("ring consumer left at nice 0: %s", strerror(errno));
}

/* The session file and its header block (the session's facts, each collector's hooks). */
static int open_session_file(struct recorder *r, const char *session_path, bool force)
{
	json_t *hdr, *cols;
	int err;

	r->w = session_create(session_path, force);
	if (!r->w) {
		err = -errno;
		if (err == -EEXIST)
			log_err("%s exists: use -f to overwrite it or -o to choose another file", session_path);
		else if (err == -EBUSY)
			log_err("%s is being written by another disco record: choose another file with -o",
				session_path);
		else if (err == -ELOOP)
			log_err("%s is a symbolic link: refusing to write through it", session_path);
		else
			log_err("cannot create %s: %s", session_path, strerror(-err));
		return err;
	}
	hdr = json_deep_copy(r->session);
	json_object_set_new(hdr, "schema", json_string("disco.session/1"));
	cols = json_object();
	for (int i = 0; i < r->nruns; i++)
		json_object_set_new(cols, r->runs[i].col->name, json_pack("{s:i, s:o}",
			"id", r->runs[i].col->id,
			"hooks", hooks_to_json(r->runs[i].col, r->runs[i].hooks)));
	json_object_set_new(hdr, "collectors", cols);
	err = session_write_json(r->w, BLK_HEADER, hdr);
	json_decref(hdr);
	if (err)
		log_err("writing %s failed: %s", session_path, strerror(-err));
	return err;
}

/* STARTUP_HEAP: the heap the collectors load in */
static void heap_for_loading(struct recorder *r)
{
	uintptr_t p, a, e;

	mallopt(M_MMAP_THRESHOLD, STARTUP_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, STARTUP_TRIM_THRESHOLD);
	p = (uintptr_t)malloc(STARTUP_HEAP);
	if (!p)
		return;
	a = (p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	e = (p + STARTUP_HEAP) & ~(HUGE_PAGE - 1);
	/* not an error if refused (THP off): 4 KiB pages then */
	if (e > a && !madvise((void *)a, e - a, MADV_HUGEPAGE)) {
		r->huge = (void *)a;
		r->huge_len = e - a;
	}
	free((void *)p);
}

/*
 * From here on, blocks of a megabyte or more (kallsyms, the text of a
 * snapshot with stack lists and its compressed copy) come from mmap and
 * go back to the kernel when freed. glibc's default raises that
 * threshold to the largest block freed, after which such blocks came
 * from the heap and stayed in the recorder's RSS, between snapshots too.
 * What loading took goes back, and its range is no more for huge pages:
 * khugepaged would make a huge page again of a range with one page in use.
 */
static void heap_loaded(struct recorder *r)
{
	mallopt(M_MMAP_THRESHOLD, RECORDER_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD);
	if (r->huge)
		madvise(r->huge, r->huge_len, MADV_NOHUGEPAGE);
	r->huge = NULL;
	malloc_trim(0);
}

struct recorder *recorder_start(uint64_t mask, const struct rec_opts *o,
				const char *session_path, bool force,
				int argc, char **argv)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int err = 0;

	if (!r)
		return NULL;
	heap_for_loading(r);
	r->stats_fd = -1;
	r->ctl.sock = -1;
	ring_share.bytes = collectors_ring_bytes(mask, o);
	for (size_t i = 0; i < ncollectors; i++) {
		struct col_run *run;

		if (!(mask & (1ULL << i)))
			continue;
		run = &r->runs[r->nruns];
		run->col = collectors[i];
		run->ring_fd = -1;
		run->rec = r;
		run->session_mask = mask;
		if (run->col->needs_target && !o->npids && !o->target_pid) {
			log_err("%s: needs a target process: -p PID or -- COMMAND", run->col->name);
			err = -EINVAL;
			goto out_err;
		}
		err = collector_start(run, o);
		/* not held while the next collector loads (its own copy) */
		probe_release();
		if (err)
			goto out_err;
		r->nruns++;
		if (ring_share.fd < 0)
			ring_share.fd = run->ring_fd;
	}
	ring_share.fd = -1;
	ring_share.bytes = 0;
	collector_shares_reset();
	heap_loaded(r);
	/*
	 * Mapped once all are loaded: the ring's pages count in RSS, and
	 * libbpf's ~20 MiB while it loads a collector would come on top.
	 * What the first collectors emit meanwhile waits in the ring.
	 */
	for (int i = 0; i < r->nruns; i++) {
		err = ring_consume(r, r->runs[i].ring_fd);
		if (err) {
			log_err("cannot set up the ring buffer consumer: %s", strerror(-err));
			goto out_err;
		}
	}
	consumer_raise();
	r->start_real = now_ns(CLOCK_REALTIME);
	r->start_mono = now_ns(CLOCK_MONOTONIC);
	/* run counts and run times per program (SPEC §4, the session's cost) */
	r->stats_mode = o->bpf_stats;
	stats_open(r, r->start_mono);
	r->last_flush = r->last_state = r->last_full_state = r->start_mono;
	r->state_ns = STATE_NS;
	r->session = session_facts(o, argc, argv, r->start_real, r->start_mono);
	/* the options of the collectors that run: what each one left out */
	for (int i = 0; r->session && i < r->nruns; i++) {
		json_t *given = json_object_get(o->col_given, r->runs[i].col->name);

		if (given)
			json_object_set_new(json_object_get(json_object_get(r->session, "filters"),
							    "collectors"), r->runs[i].col->name,
					    json_deep_copy(given));
	}
	if (session_path) {
		err = open_session_file(r, session_path, force);
		if (err)
			goto out_err;
	}
	return r;

out_err:
	ring_share.fd = -1;
	ring_share.bytes = 0;
	collector_shares_reset();
	heap_loaded(r);
	if (r->w)
		session_close(r->w);
	recorder_free(r);
	errno = -err;
	return NULL;
}

static const char *const stats_mode_names[] = {
	[BPF_STATS_SAMPLED] = "sampled", [BPF_STATS_ON] = "on", [BPF_STATS_OFF] = "off",
};

static json_t *cost_json(const struct recorder *r, uint64_t on_ns, uint64_t elapsed)
{
	struct rusage ru;
	uint64_t cpu = 0;

	if (!getrusage(RUSAGE_SELF, &ru))
		cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
		      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	return json_pack("{s:I, s:I, s:I, s:I, s:b, s:s, s:I, s:I}",
		"recorder_cpu_ns", (json_int_t)cpu,
		"recorder_peak_rss_bytes", (json_int_t)ru.ru_maxrss * 1024,
		"events", (json_int_t)r->events,
		"file_bytes", (json_int_t)(r->w ? session_bytes_written(r->w) : 0),
		"bpf_stats_enabled", r->stats_mode != BPF_STATS_OFF && !r->stats_failed,
		"bpf_stats_mode", stats_mode_names[r->stats_mode],
		"bpf_stats_measured_ns", (json_int_t)on_ns,
		"bpf_stats_session_ns", (json_int_t)elapsed);
}

/*
 * Empty the ring between the steps of a snapshot: under load one takes
 * 100-600 ms of wall time here (reading maps, JSON text of ~400 KiB),
 * while at full rate the default ring holds ~170 ms of events.
 */
static void drain(struct recorder *r)
{
	if (r->rb)
		ringread_consume(r->rb);
}

static json_t *collect(struct recorder *r, bool periodic)
{
	json_t *rep, *s, *cols = json_object();
	uint64_t bpf_ns = 0, bpf_runs = 0, m_ns = 0, m_runs = 0, now = now_ns(CLOCK_MONOTONIC);
	uint64_t elapsed = now - r->start_mono, on = r->stats_on_ns;
	bool open = r->stats_on;
	double scale = 1.0;

	if (open)
		on += now - r->stats_since;
	/* sampled over part of the session: scale the counts to all of it */
	if (r->stats_mode == BPF_STATS_SAMPLED && on && on < elapsed)
		scale = (double)elapsed / on;
	for (int i = 0; i < r->nruns; i++) {
		struct col_run *run = &r->runs[i];
		json_t *c;

		drain(r);
		run->periodic = periodic;
		c = run->col->collect ? run->col->collect(run) : json_object();
		run->periodic = false;
		json_t *progs = collector_prog_stats(run, open, scale), *p;
		size_t k;

		if (!c)
			c = json_object();
		json_array_foreach(progs, k, p) {
			bpf_ns += json_u64(p, "run_time_ns");
			bpf_runs += json_u64(p, "run_count");
			m_ns += json_u64(p, "measured_run_time_ns");
			m_runs += json_u64(p, "measured_runs");
		}
		json_object_set_new(c, "hooks", hooks_to_json(run->col, run->hooks));
		json_object_set_new(c, "drops", json_integer((json_int_t)collector_drops(run)));
		json_object_set_new(c, "events", json_integer((json_int_t)run->events));
		json_object_set_new(c, "programs", progs);
		json_object_set_new(cols, run->col->name, c);
	}
	s = json_deep_copy(r->session);
	json_object_set_new(s, "duration_ns", json_integer((json_int_t)elapsed));
	json_object_set_new(s, "complete", json_false());
	rep = json_pack("{s:s, s:o, s:o, s:o}", "schema", "disco.report/1", "session", s,
			"cost", cost_json(r, on, elapsed), "collectors", cols);
	json_object_set_new(json_object_get(rep, "cost"), "bpf_run_time_ns", json_integer((json_int_t)bpf_ns));
	json_object_set_new(json_object_get(rep, "cost"), "bpf_runs", json_integer((json_int_t)bpf_runs));
	json_object_set_new(json_object_get(rep, "cost"), "bpf_measured_runs", json_integer((json_int_t)m_runs));
	json_object_set_new(json_object_get(rep, "cost"), "bpf_measured_run_time_ns",
			    json_integer((json_int_t)m_ns));
	json_object_set_new(json_object_get(rep, "cost"), "bpf_ns_per_event",
			    json_integer((json_int_t)(bpf_runs ? bpf_ns / bpf_runs : 0)));
	return rep;
}

json_t *recorder_collect(struct recorder *r)
{
	return collect(r, false);
}

json_t *recorder_collect_live(struct recorder *r)
{
	return collect(r, true);
}

bool recorder_wants_target_loaded(const struct recorder *r)
{
	for (int i = 0; i < r->nruns; i++)
		if (r->runs[i].col->target_loaded)
			return true;
	return false;
}

int recorder_target_loaded(struct recorder *r, pid_t pid)
{
	int err;

	for (int i = 0; i < r->nruns; i++) {
		if (!r->runs[i].col->target_loaded)
			continue;
		err = r->runs[i].col->target_loaded(&r->runs[i], pid);
		if (err)
			return err;
	}
	return 0;
}

/*
 * After a snapshot. It is thousands of small blocks and one large text
 * (the full ones MiB of it): freed, they leave holes the heap keeps (it
 * grew ~0.3 MiB/s of a whole-machine session here), and trimming only
 * after the full ones cost 76 MiB peak instead of 68 over 60 s of -e
 * cpu,offcpu. Trimming after every snapshot took back pages the next one
 * faulted in again, each trim's madvise flushing the TLB of every CPU the
 * process ran on: ~10% of the recorder's CPU at 240k sched events/s. So
 * the heap is trimmed when it has grown by HEAP_TRIM_GROWTH since the
 * last trim: the holes a snapshot reuses stay, and what it grows by (the
 * holes it could not reuse) goes back, as before.
 */
#define HEAP_TRIM_GROWTH	(1ULL << 20)

static void heap_trim(struct recorder *r)
{
	if (mallinfo2().arena < r->trim_arena + HEAP_TRIM_GROWTH)
		return;
	malloc_trim(0);
	r->trim_arena = mallinfo2().arena;
}

int recorder_poll(struct recorder *r, int timeout_ms)
{
	uint64_t before = r->events, now;
	int err;

	if (r->rb) {
		/*
		 * Producers submit without wakeups (SPEC §3), so the wait
		 * usually times out; every ring is then drained all the same.
		 */
		err = ringread_poll(r->rb, timeout_ms);
		if (err < 0 && err != -EINTR)
			return err;
	} else if (timeout_ms > 0) {
		usleep(timeout_ms * 1000);
	}
	now = now_ns(CLOCK_MONOTONIC);
	if (r->stats_mode == BPF_STATS_SAMPLED) {
		if (r->stats_on && now - r->stats_since >= STATS_WINDOW_NS)
			stats_close(r);
		else if (!r->stats_on && now >= r->stats_next)
			stats_open(r, now);
	}
	if (r->w)
		session_nudge(r->w);
	if (r->w && !r->write_err && now - r->last_flush >= FLUSH_NS) {
		r->last_flush = now;
		r->write_err = session_flush(r->w);
		if (!r->write_err && r->state_ns && now - r->last_state >= r->state_ns) {
			bool full = now - r->last_full_state >= STATE_FULL_NS;
			json_t *st = collect(r, !full);

			r->last_state = now;
			if (full)
				r->last_full_state = now;
			drain(r);
			r->write_err = session_write_json(r->w, BLK_STATE, st);
			json_decref(st);
			heap_trim(r);
			drain(r);
		}
		if (r->write_err)
			log_err("writing the session file failed: %s; stopping the recording (the file is readable up to here)",
				strerror(-r->write_err));
	}
	if (r->write_err)
		return r->write_err;
	return (int)(r->events - before);
}

void recorder_state_period(struct recorder *r, uint64_t ns)
{
	r->state_ns = ns;
}

int recorder_write_state(struct recorder *r, const json_t *state)
{
	if (!r->w)
		return 0;
	if (!r->write_err)
		r->write_err = session_write_json(r->w, BLK_STATE, state);
	r->last_state = now_ns(CLOCK_MONOTONIC);
	return r->write_err;
}

uint64_t recorder_events(const struct recorder *r)
{
	return r->events;
}

uint64_t recorder_drops(const struct recorder *r)
{
	uint64_t d = 0;

	for (int i = 0; i < r->nruns; i++)
		d += collector_drops(&r->runs[i]);
	return d;
}

uint64_t recorder_bytes(const struct recorder *r)
{
	return r->w ? session_bytes_written(r->w) : 0;
}

int recorder_write_async(struct recorder *r)
{
	return r->w ? session_start_async(r->w) : 0;
}

int recorder_stop(struct recorder *r, json_t **summary)
{
	json_t *sum;
	int err = 0;

	if (!r)
		return -EINVAL;
	for (int i = 0; i < r->nruns; i++) {
		struct col_run *run = &r->runs[i];

		if (run->col->end && run->skel && (err = run->col->end(run)))
			log_warn("%s: what was still open at the end is not recorded: %s",
				 run->col->name, strerror(-err));
	}
	err = 0;
	if (r->rb)
		ringread_consume(r->rb);
	if (r->bad_records)
		log_warn("%llu ring records named no collector of this session or did not split into their batch count: not recorded",
			 (unsigned long long)r->bad_records);
	sum = recorder_collect(r);
	json_object_set_new(json_object_get(sum, "session"), "complete", json_true());
	json_object_set_new(json_object_get(sum, "session"), "end_realtime_ns",
			    json_integer((json_int_t)now_ns(CLOCK_REALTIME)));
	if (r->w) {
		if (!r->write_err) {
			err = session_flush(r->w);
			if (!err)
				err = session_write_json(r->w, BLK_SUMMARY, sum);
		} else {
			err = r->write_err;
		}
		if (session_close(r->w) && !err)
			err = -EIO;
		r->w = NULL;
	}
	if (summary)
		*summary = sum;
	else
		json_decref(sum);
	recorder_free(r);
	return err;
}
