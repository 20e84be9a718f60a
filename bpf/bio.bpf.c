// SPDX-License-Identifier: GPL-2.0
/*
 * Block IO collector: per disk and op service latency (issue -> complete)
 * and queue latency (insert -> issue), request sizes, per-process IO time
 * and outliers over a threshold.
 *
 * A request is tracked from its first event (block_io_start with
 * --exact-owner where the kernel has it, else insert, else issue) to its
 * completion, which ends its state. The owner (pid, comm) is taken at that
 * first event, never at completion (interrupt context). block_io_start
 * always runs in the submitter; insert and issue do too, except for a
 * request a worker issues after the device was busy.
 *
 * Where a request's state lives was chosen by measuring ns/run (4 KiB
 * O_DIRECT reads on a loop device, 6.18, stats on): an empty program on
 * block_io_start costs ~80 ns, one with a bare lookup of the entry in a
 * hash map ~250; an LRU update or delete per request more still. Hooks pay
 * for the map calls and cache lines they touch, not their instructions.
 * - tp_btf and raw_tp programs know the request pointer. Its state goes
 *   in "slots", a direct-mapped table indexed by a hash of the pointer:
 *   an inlined array lookup touching one cache line, where a hash map
 *   touches a bucket, an element header and the value, and an LRU update
 *   or delete also takes a global lock. The first event claims the slot
 *   (cmpxchg on its owner), completion frees it.
 * - A request whose slot another live request holds goes to the "inflight"
 *   hash, keyed by pointer. Requests are preallocated per tag and come back,
 *   so those entries are kept: completion marks one dead and the request's
 *   next life rewrites it in place.
 * - Classic tracepoints carry no pointer: the "inflight" key is (dev,
 *   sector), which does not come back, so the entry is created at the
 *   first event and deleted at completion.
 * "inflight" is an LRU: entries of requests whose completion we never see
 * (one the elevator merged into another), or more requests than it holds,
 * push out the least recently used ones instead of failing. A slot left
 * behind that way is taken back when its request starts again.
 * block_io_done is not hooked: it would only add a run per request.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "hist.bpf.h"
#include "bio.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace before load. */
const volatile bool has_queue_arg = false;	/* kernel < 5.11, see core_fixes */
const volatile bool have_io_start = false;	/* block_io_start is attached */
/* --disk: a few compares against rodata cost less than a map lookup */
const volatile __u32 filter_ndisks = 0;
const volatile __u32 filter_disks[BIO_DISKS_MAX] = {};
const volatile __u64 min_latency_ns = 10 * 1000 * 1000;
#define BIO_SLOT_BITS	13
/* slots in use - 1; fewer only to make tests exercise the fallback hash */
const volatile __u32 slot_mask = (1 << BIO_SLOT_BITS) - 1;
/* claiming a slot needs BPF cmpxchg (5.12); without, all goes to the hash */
const volatile bool use_slots = true;

struct inflight_key {
	__u64 a;	/* request pointer, or dev (classic tracepoints) */
	__u64 b;	/* 0, or sector (classic tracepoints) */
};

/*
 * One cache line (a slot; in the hash, the element's header and key fill
 * the line before it): every hook of a request writes it, often from
 * another CPU than the last hook did. The disk is not kept: completion
 * reads it from the request or the tracepoint record.
 */
struct inflight {
	__u64 rq;	/* slots: the owning request, 0 when free */
	__u64 insert_ns;
	__u64 issue_ns;
	__u64 sector;
	__u32 pid;
	__u32 tid;
	__u32 bytes;
	__u8 op;
	__u8 skip;	/* filtered out when it was submitted */
	__u8 live;	/* 0: completed, the request's next life not started */
	__u8 pad;
	char comm[BIO_COMM_LEN];
};

_Static_assert(sizeof(struct inflight) == 64, "inflight: one cache line");

/*
 * Mmapable only for its layout: such an array's values start on a page,
 * so each slot is exactly one cache line (a plain array's values start at
 * byte 312 of its header, and every slot would straddle two).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << BIO_SLOT_BITS);
	__type(key, __u32);
	__type(value, struct inflight);
} slots SEC(".maps");

/* Requests in flight without a slot, and all of them for classic tracepoints. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inflight_key);
	__type(value, struct inflight);
} inflight SEC(".maps");

/*
 * Per-CPU values: no atomics on the completion path. Preallocated, as
 * procs: a per-CPU hash allocating at run time refills from an irq_work
 * that can starve on PREEMPT_RT (see procs in sched.bpf.c). A value is
 * 8.5 KiB per CPU: col_bio.c sizes it by the disks present at load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BIO_DISKS_MAX * BIO_NOPS);
	__type(key, struct bio_stat_key);
	__type(value, struct bio_stat);
} stats SEC(".maps");

/* Zeroed template for new stats entries: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bio_stat);
} stat_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} sizes SEC(".maps");

/* Preallocated as stats; sized at load by the processes alive. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct bio_proc);
} procs SEC(".maps");

/* What the hooks know about a request, whatever the hook method. */
struct rq_desc {
	struct inflight_key key;
	__u64 sector;
	__u32 dev;
	__u32 bytes;
	__u8 op;
	bool by_ptr;		/* key.a is the request: slots, keep entries */
	struct request *rq;	/* NULL for classic tracepoints */
};

static __always_inline bool disk_wanted(__u32 dev)
{
	if (!filter_ndisks)
		return true;
	for (__u32 i = 0; i < BIO_DISKS_MAX; i++) {
		if (i >= filter_ndisks)
			break;
		if (filter_disks[i] == dev)
			return true;
	}
	return false;
}

/*
 * Fill d from a request. direct: rq is a BTF pointer (tp_btf), read with
 * plain loads; otherwise (raw_tp) through bpf_probe_read_kernel. full:
 * the issue needs the sector, size and op; need_dev: the disk, which
 * completion needs, and the first event when there is a --disk filter.
 */
static __always_inline void desc_from_rq(struct request *rq, struct rq_desc *d,
					 bool direct, bool full, bool need_dev)
{
	struct gendisk *disk;

	d->rq = rq;
	d->by_ptr = true;
	d->key.a = (__u64)rq;
	d->key.b = 0;
	d->dev = 0;
	if (need_dev) {
		disk = get_rq_disk(rq, direct);
		if (disk)
			d->dev = direct ? BIO_MKDEV(disk->major, disk->first_minor)
					: BIO_MKDEV(BPF_CORE_READ(disk, major),
						    BPF_CORE_READ(disk, first_minor));
	}
	if (!full)
		return;
	if (direct) {
		d->sector = rq->__sector;
		d->bytes = rq->__data_len;
		d->op = bio_op_from_cmd_flags(rq->cmd_flags);
	} else {
		d->sector = BPF_CORE_READ(rq, __sector);
		d->bytes = BPF_CORE_READ(rq, __data_len);
		d->op = bio_op_from_cmd_flags(BPF_CORE_READ(rq, cmd_flags));
	}
}

static __always_inline void desc_from_tp(struct trace_event_raw_block_rq *ctx,
					 struct rq_desc *d)
{
	d->rq = NULL;
	d->by_ptr = false;
	d->dev = ctx->dev;
	d->sector = ctx->sector;
	d->key.a = d->dev;
	d->key.b = d->sector;
	d->bytes = ctx->bytes;
	d->op = bio_op_from_rwbs(ctx->rwbs[0], ctx->rwbs[1]);
}

/* The slot a request pointer maps to. */
static __always_inline struct inflight *slot_of(__u64 rq)
{
	__u32 i = slot_index(rq, BIO_SLOT_BITS, slot_mask);

	return bpf_map_lookup_elem(&slots, &i);
}

/* The state of a request's current life, or NULL. */
static __always_inline struct inflight *find(const struct rq_desc *d)
{
	struct inflight *e;

	if (d->by_ptr && use_slots) {
		e = slot_of(d->key.a);
		if (e && e->rq == d->key.a)
			return e;
	}
	return bpf_map_lookup_elem(&inflight, &d->key);
}

/*
 * Start a request's life, owned by the current task; NULL if not wanted.
 * e: the state find() returned, if the caller asked; whatever it holds is
 * stale (looked: the caller did ask, and e is the answer).
 */
static __always_inline struct inflight *track_new(const struct rq_desc *d,
						  struct inflight *e, bool looked)
{
	static const struct inflight zero;
	struct inflight *s;
	__u64 id;

	if (!disk_wanted(d->dev))
		return NULL;
	if (!e && d->by_ptr && use_slots) {
		s = slot_of(d->key.a);
		/* ours already if a completion was missed */
		if (s && (s->rq == d->key.a ||
			  __sync_val_compare_and_swap(&s->rq, 0, d->key.a) == 0))
			e = s;
	}
	/* a (dev, sector) key is deleted at completion: no use looking */
	if (!e && !looked && d->by_ptr)
		e = bpf_map_lookup_elem(&inflight, &d->key);
	if (!e) {
		if (bpf_map_update_elem(&inflight, &d->key, &zero, BPF_ANY))
			return NULL;
		e = bpf_map_lookup_elem(&inflight, &d->key);
		if (!e)
			return NULL;
	}
	id = bpf_get_current_pid_tgid();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* want_current() would fetch the pid and comm again */
	e->skip = !want_task(e->pid, filter_cgroup_id ? bpf_get_current_cgroup_id() : 0,
			     e->comm);
	e->insert_ns = 0;
	e->issue_ns = 0;
	e->live = 1;
	return e;
}

static __always_inline int on_io_start(const struct rq_desc *d)
{
	/* the start of a request's life: anything under this key is stale */
	track_new(d, NULL, false);
	return 0;
}

static __always_inline int on_insert(const struct rq_desc *d)
{
	struct inflight *e = find(d);

	/*
	 * Without block_io_start, insert begins a request's life (or a
	 * requeue, which we then attribute to the requeuing task).
	 */
	if (!e || !e->live || !have_io_start) {
		e = track_new(d, e, true);
		if (!e)
			return 0;
	}
	if (e->skip)
		return 0;
	e->insert_ns = bpf_ktime_get_ns();
	e->issue_ns = 0;
	return 0;
}

static __always_inline int on_issue(const struct rq_desc *d)
{
	struct inflight *e = find(d);

	/*
	 * Requests that bypass the scheduler are issued without an insert:
	 * attribute them here. An entry already issued is a previous life of
	 * the same request (or key) whose completion we missed.
	 */
	if (!e || !e->live || (!have_io_start && e->issue_ns)) {
		e = track_new(d, e, true);
		if (!e)
			return 0;
	}
	if (e->skip)
		return 0;
	e->issue_ns = bpf_ktime_get_ns();
	e->op = d->op;
	e->sector = d->sector;
	e->bytes = d->bytes;
	return 0;
}

static __always_inline struct bio_stat *stat_get(struct bio_stat_key *k)
{
	struct bio_stat *s = bpf_map_lookup_elem(&stats, k);
	__u32 zero = 0;

	if (s)
		return s;
	s = bpf_map_lookup_elem(&stat_zero, &zero);
	if (!s)
		return NULL;
	bpf_map_update_elem(&stats, k, s, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stats, k);
}

static __always_inline void account_proc(const struct inflight *e, __u64 lat, __u64 queue)
{
	struct bio_proc *p = bpf_map_lookup_elem(&procs, &e->pid);

	if (!p) {
		struct bio_proc v = {};

		__builtin_memcpy(v.comm, e->comm, sizeof(v.comm));
		bpf_map_update_elem(&procs, &e->pid, &v, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&procs, &e->pid);
		if (!p)
			return;
	}
	p->requests++;
	p->bytes += e->bytes;
	p->io_ns += lat;
	p->queue_ns += queue;
	if (e->op == BIO_OP_READ)
		p->read_bytes += e->bytes;
	else if (e->op == BIO_OP_WRITE)
		p->write_bytes += e->bytes;
	if (lat > p->max_latency_ns)
		p->max_latency_ns = lat;
	/* a pid reused by another program takes over the entry's name */
	if (p->comm[0] != e->comm[0])
		__builtin_memcpy(p->comm, e->comm, sizeof(p->comm));
}

static __always_inline void emit_outlier(const struct inflight *e, struct request *rq, __u32 dev,
					 __u64 now, __u64 lat, __u64 queue, int error,
					 bool direct)
{
	struct bio_event *ev = ring_reserve(sizeof(*ev));
	struct gendisk *disk;

	if (!ev)
		return;
	ev->time_ns = now;
	ev->sector = e->sector;
	ev->queue_ns = queue;
	ev->latency_ns = lat;
	ev->pid = e->pid;
	ev->tid = e->tid;
	ev->dev = dev;
	ev->size_bytes = e->bytes;
	ev->op = e->op;
	ev->error = error != 0;
	__builtin_memset(ev->pad, 0, sizeof(ev->pad));
	__builtin_memcpy(ev->comm, e->comm, sizeof(ev->comm));
	ev->disk[0] = 0;
	if (rq) {
		disk = get_rq_disk(rq, direct);
		if (disk)
			bpf_probe_read_kernel_str(ev->disk, sizeof(ev->disk),
						  &disk->disk_name);
	}
	ring_submit(ev);
}

/*
 * remaining: bytes still outstanding before this completion (0 when
 * unknown). A partial completion (nr_bytes < remaining) is not the end.
 */
static __always_inline int on_complete(const struct rq_desc *d, int error,
				       __u32 nr_bytes, __u32 remaining, bool direct)
{
	struct inflight *e = find(d);
	struct bio_stat_key sk = {};
	struct bio_stat *s;
	struct hist *h;
	__u64 now, lat, queue = 0;
	__u32 zero = 0;

	if (!e || !e->live)
		return 0;
	if (e->skip || !e->issue_ns)
		goto out_end;
	if (remaining && nr_bytes < remaining)
		return 0;
	now = bpf_ktime_get_ns();
	lat = now - e->issue_ns;
	if (e->insert_ns && e->insert_ns <= e->issue_ns)
		queue = e->issue_ns - e->insert_ns;

	sk.dev = d->dev;
	sk.op = e->op;
	s = stat_get(&sk);
	if (s) {
		hist_add(&s->latency, lat);
		if (e->insert_ns)
			hist_add(&s->queue, queue);
		s->requests++;
		s->bytes += e->bytes;
	}
	if (e->bytes) {
		h = bpf_map_lookup_elem(&sizes, &zero);
		if (h)
			hist_add(h, e->bytes);
	}
	account_proc(e, lat, queue);
	if (lat + queue >= min_latency_ns)
		emit_outlier(e, d->rq, d->dev, now, lat, queue, error, direct);
out_end:
	e->live = 0;
	if (e->rq == d->key.a && d->by_ptr) {
		/* a plain store frees the slot: x86 keeps it after our loads */
		e->rq = 0;
	} else if (!d->by_ptr) {
		bpf_map_delete_elem(&inflight, &d->key);
	}
	return 0;
}

/* ---- pointer-keyed variants: tp_btf and raw_tp ---- */

enum { EV_START, EV_INSERT, EV_ISSUE };

static __always_inline int rq_event(struct request *rq, int kind, bool direct)
{
	struct rq_desc d;

	desc_from_rq(rq, &d, direct, kind == EV_ISSUE, filter_ndisks != 0);
	switch (kind) {
	case EV_START:
		return on_io_start(&d);
	case EV_INSERT:
		return on_insert(&d);
	default:
		return on_issue(&d);
	}
}

static __always_inline int rq_complete(__u64 *ctx, bool direct)
{
	struct request *rq = (struct request *)ctx[0];
	struct rq_desc d;
	__u32 remaining;

	desc_from_rq(rq, &d, direct, false, true);
	remaining = direct ? rq->__data_len : BPF_CORE_READ(rq, __data_len);
	return on_complete(&d, (int)ctx[1], (__u32)ctx[2], remaining, direct);
}

SEC("tp_btf/block_io_start")
int bio_start_btf(__u64 *ctx)
{
	return rq_event((struct request *)ctx[0], EV_START, true);
}

SEC("raw_tp/block_io_start")
int bio_start_raw(__u64 *ctx)
{
	return rq_event((struct request *)ctx[0], EV_START, false);
}

SEC("tp_btf/block_rq_insert")
int bio_insert_btf(__u64 *ctx)
{
	return rq_event(block_rq_tp_arg(ctx, has_queue_arg), EV_INSERT, true);
}

SEC("raw_tp/block_rq_insert")
int bio_insert_raw(__u64 *ctx)
{
	return rq_event(block_rq_tp_arg(ctx, has_queue_arg), EV_INSERT, false);
}

SEC("tp_btf/block_rq_issue")
int bio_issue_btf(__u64 *ctx)
{
	return rq_event(block_rq_tp_arg(ctx, has_queue_arg), EV_ISSUE, true);
}

SEC("raw_tp/block_rq_issue")
int bio_issue_raw(__u64 *ctx)
{
	return rq_event(block_rq_tp_arg(ctx, has_queue_arg), EV_ISSUE, false);
}

SEC("tp_btf/block_rq_complete")
int bio_complete_btf(__u64 *ctx)
{
	return rq_complete(ctx, true);
}

SEC("raw_tp/block_rq_complete")
int bio_complete_raw(__u64 *ctx)
{
	return rq_complete(ctx, false);
}

/* ---- classic tracepoints: keyed by (dev, sector) ---- */

SEC("tp/block/block_io_start")
int bio_start_tp(struct trace_event_raw_block_rq *ctx)
{
	struct rq_desc d;

	desc_from_tp(ctx, &d);
	return on_io_start(&d);
}

SEC("tp/block/block_rq_insert")
int bio_insert_tp(struct trace_event_raw_block_rq *ctx)
{
	struct rq_desc d;

	desc_from_tp(ctx, &d);
	return on_insert(&d);
}

SEC("tp/block/block_rq_issue")
int bio_issue_tp(struct trace_event_raw_block_rq *ctx)
{
	struct rq_desc d;

	desc_from_tp(ctx, &d);
	return on_issue(&d);
}

SEC("tp/block/block_rq_complete")
int bio_complete_tp(struct trace_event_raw_block_rq_completion *ctx)
{
	struct rq_desc d = {};

	d.dev = ctx->dev;
	d.sector = ctx->sector;
	d.key.a = d.dev;
	d.key.b = d.sector;
	/* nr_sector is what completed now, not what remained: no partials */
	return on_complete(&d, ctx->error, ctx->nr_sector << 9, 0, false);
}
