// SPDX-License-Identifier: GPL-2.0
/* Session file -> report JSON (trusting nothing in the file) -> text. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "collector.h"
#include "hist.h"
#include "report.h"
#include "session.h"
#include "timeline.h"
#include "untrusted.h"

/* Every collector that keeps figures over time sees each snapshot block. */
static void snapshot_fold(json_t *events, const json_t *state, uint64_t *bad)
{
	uint64_t t = json_u64(json_object_get(state, "session"), "duration_ns");
	const char *name;
	json_t *c, *acc;

	json_object_foreach(json_object_get(state, "collectors"), name, c) {
		const struct collector *col = collector_find(name);

		if (!col || !col->report_snapshot)
			continue;
		acc = json_object_get(events, name);
		if (!acc) {
			acc = json_object();
			json_object_set_new(events, name, acc);
		}
		if (col->report_snapshot(acc, c, t))
			(*bad)++;
	}
}

static const char *collector_name(uint16_t id)
{
	const struct collector *c = collector_by_id(id);

	return c ? c->name : NULL;
}

/*
 * session.damage: what the reader skipped or found missing (version 3),
 * then the error that stopped it, if one did.
 */
static json_t *damage_list(const struct session_reader *sr, const char *err)
{
	json_t *d = json_array();
	size_t n = session_damage_count(sr);

	for (size_t i = 0; i < n && i < SESSION_MAX_DAMAGE; i++)
		json_array_append_new(d, json_string(session_damage(sr, i)));
	if (n > SESSION_MAX_DAMAGE)
		json_array_append_new(d, json_sprintf("and %zu more damaged or missing blocks",
						      n - SESSION_MAX_DAMAGE));
	if (err[0])
		json_array_append_new(d, json_string(err));
	return d;
}

static json_t *load(struct session_reader *sr, const struct report_opts *ro_in,
		    char *err, size_t errlen)
{
	struct report_opts ro = *ro_in;
	struct session_block blk;
	json_t *hdr = NULL, *state = NULL, *events = json_object(), *rep = NULL, *cols, *c;
	json_t *snaps = json_array(), *damage = NULL;
	bool summary = false;
	const char *name;
	uint64_t nevents = 0, bad_events = 0;
	int rc;

	/* an error stops the reading; what came before it is still reported */
	err[0] = '\0';
	while ((rc = session_next_block(sr, &blk, err, errlen)) == 1) {
		json_t *j;

		if (blk.type == BLK_EVENTS) {
			struct session_event ev;
			size_t pos = 0;
			int erc;

			if (!hdr) {
				snprintf(err, errlen, "corrupt file: events before the header block (offset %" PRIu64 ")", blk.offset);
				break;
			}
			while ((erc = session_event_next(&blk, &pos, &ev)) == 1) {
				const struct collector *col = collector_by_id(ev.collector);

				nevents++;
				if (!col || !col->report_event) {
					bad_events++;
					continue;
				}
				c = json_object_get(events, col->name);
				if (!c) {
					c = json_object();
					json_object_set_new(events, col->name, c);
				}
				if (col->report_event(c, ev.data, ev.len, &ro))
					bad_events++;
			}
			if (erc < 0) {
				snprintf(err, errlen, "corrupt event record in block at offset %" PRIu64, blk.offset);
				break;
			}
			continue;
		}
		/* depth, size and item budgets: session.h */
		j = session_block_json(&blk, err, errlen);
		if (!j)
			break;
		/* hostname, kernel, hooks, names: the file is not trusted */
		if (untrusted_json_clean(j)) {
			json_decref(j);
			snprintf(err, errlen, "out of memory reading the block at offset %" PRIu64, blk.offset);
			goto out;
		}
		if (blk.type == BLK_HEADER) {
			if (hdr) {
				json_decref(j);
				snprintf(err, errlen, "corrupt file: second header block at offset %" PRIu64, blk.offset);
				break;
			}
			hdr = j;
			ro.start_mono_ns = json_u64(hdr, "start_monotonic_ns");
		} else {
			if (!hdr) {
				json_decref(j);
				snprintf(err, errlen, "corrupt file: no header block before offset %" PRIu64, blk.offset);
				break;
			}
			if (blk.type == BLK_SUMMARY) {
				/* the block and event counts are the file's, not the report's */
				session_check_summary(sr, json_object_get(j, "integrity"), collector_name);
				json_object_del(j, "integrity");
			}
			snapshot_fold(events, j, &bad_events);
			json_decref(state);
			state = j;
			summary = blk.type == BLK_SUMMARY;
			if (timeline_add(snaps, timeline_reduce(state))) {
				snprintf(err, errlen, "out of memory reading the snapshot at offset %" PRIu64, blk.offset);
				goto out;
			}
		}
	}
	if (!hdr) {
		if (!err[0])
			snprintf(err, errlen, "session file has no header block (empty or cut off at offset %" PRIu64 ")",
				 session_good_bytes(sr));
		goto out;
	}
	if (state && json_is_object(json_object_get(state, "collectors"))) {
		rep = json_incref(state);
	} else {
		/* killed before the first snapshot: header facts and events only */
		rep = json_pack("{s:s, s:O, s:{}, s:{}}", "schema", "disco.report/1",
				"session", hdr, "cost", "collectors");
		json_object_del(json_object_get(rep, "session"), "collectors");
		json_object_del(json_object_get(rep, "session"), "schema");
	}
	json_object_set_new(rep, "schema", json_string("disco.report/1"));
	if (!json_is_object(json_object_get(rep, "session")))
		json_object_set_new(rep, "session", json_object());
	damage = damage_list(sr, err);
	json_object_set_new(json_object_get(rep, "session"), "complete",
			    json_boolean(summary && !session_truncated(sr) && !json_array_size(damage)));
	if (json_array_size(damage))
		json_object_set(json_object_get(rep, "session"), "damage", damage);
	if (session_truncated(sr))
		json_object_set_new(json_object_get(rep, "session"), "truncated_at",
				    json_integer((json_int_t)session_good_bytes(sr)));
	json_object_set_new(json_object_get(rep, "session"), "events_recorded", json_integer((json_int_t)nevents));
	if (bad_events)
		json_object_set_new(json_object_get(rep, "session"), "events_unreadable",
				    json_integer((json_int_t)bad_events));
	json_object_set(json_object_get(rep, "session"), "recorded_hooks", json_object_get(hdr, "collectors"));
	cols = json_object_get(rep, "collectors");
	if (!json_is_object(cols)) {
		cols = json_object();
		json_object_set_new(rep, "collectors", cols);
	}
	/* collectors named in the header exist in the report, even if empty */
	json_object_foreach(json_object_get(hdr, "collectors"), name, c)
		if (collector_find(name) && !json_object_get(cols, name))
			json_object_set_new(cols, name, json_object());
	json_object_foreach(events, name, c)
		if (json_is_object(json_object_get(cols, name)))
			json_object_update(json_object_get(cols, name), c);
	json_object_foreach(cols, name, c) {
		const struct collector *col = collector_find(name);

		if (col && col->report_finish && json_is_object(c))
			col->report_finish(c, &ro);
	}
	json_object_set_new(rep, "intervals", timeline_intervals(snaps));
out:
	json_decref(damage);
	json_decref(snaps);
	json_decref(hdr);
	json_decref(state);
	json_decref(events);
	return rep;
}

json_t *report_load_partial(const char *path, const struct report_opts *ro, char *err,
			    size_t errlen)
{
	struct session_reader *sr = session_open(path, err, errlen);
	json_t *rep;

	if (!sr)
		return NULL;
	rep = load(sr, ro, err, errlen);
	session_reader_free(sr);
	return rep;
}

/* A damaged file is an error here: err says the first damage. */
static json_t *whole_or_null(json_t *rep, char *err, size_t errlen)
{
	const json_t *d = json_object_get(json_object_get(rep, "session"), "damage");

	if (rep && json_array_size(d)) {
		snprintf(err, errlen, "%s", json_string_value(json_array_get(d, 0)) ?: "damaged");
		json_decref(rep);
		return NULL;
	}
	return rep;
}

json_t *report_load(const char *path, const struct report_opts *ro, char *err, size_t errlen)
{
	return whole_or_null(report_load_partial(path, ro, err, errlen), err, errlen);
}

json_t *report_load_mem(const void *buf, size_t len, const struct report_opts *ro,
			char *err, size_t errlen)
{
	struct session_reader *sr = session_open_mem(buf, len, err, errlen);
	json_t *rep;

	if (!sr)
		return NULL;
	rep = load(sr, ro, err, errlen);
	session_reader_free(sr);
	return whole_or_null(rep, err, errlen);
}

int report_filter(json_t *report, const char *only)
{
	uint64_t mask;
	json_t *cols = json_object_get(report, "collectors"), *c;
	const char *name;
	void *tmp;
	int err;

	if (!only || !*only)
		return 0;
	err = collector_parse_list(only, &mask, NULL, 0);
	if (err)
		return err;
	json_object_foreach_safe(cols, tmp, name, c) {
		size_t i;

		for (i = 0; i < ncollectors; i++)
			if (!strcmp(collectors[i]->name, name))
				break;
		if (i == ncollectors || !(mask & (1ULL << i)))
			json_object_del(cols, name);
	}
	return 0;
}

/* Any distribution with samples in o, or in the objects it holds (depth levels down)? */
static bool has_samples(const json_t *o, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (hist_json_is_distribution(o))
		return json_u64(o, "count") > 0;
	if (depth <= 0)
		return false;
	/* per-entity rows (processes, services) hold distributions too */
	json_array_foreach(o, i, v)
		if (has_samples(v, depth - 1))
			return true;
	if (!json_is_object(o))
		return false;
	json_object_foreach((json_t *)o, k, v)
		if (has_samples(v, depth - 1))
			return true;
	return false;
}

bool report_collector_idle(const json_t *c)
{
	/* a timeline (read from /proc, no events) is samples too */
	return !json_u64(c, "events") && !json_u64(c, "drops") && !has_samples(c, 3) &&
	       !json_array_size(json_object_get(c, "timeline"));
}

static void render_cost(const json_t *rep, FILE *out)
{
	const json_t *cost = json_object_get(rep, "cost"), *cols = json_object_get(rep, "collectors"), *c, *p;
	const char *name;
	char b[3][16];
	size_t i;

	fprintf(out, "\n== cost of this measurement ==\n");
	fprintf(out, "  recorder: %s CPU, peak RSS %s, %" PRIu64 " events, file %s\n",
		fmt_ns(json_u64(cost, "recorder_cpu_ns"), b[0], 16),
		fmt_bytes(json_u64(cost, "recorder_peak_rss_bytes"), b[1], 16),
		json_u64(cost, "events"), fmt_bytes(json_u64(cost, "file_bytes"), b[2], 16));
	fprintf(out, "  BPF programs: %" PRIu64 " runs, %s total, %" PRIu64 " ns per run%s",
		json_u64(cost, "bpf_runs"), fmt_ns(json_u64(cost, "bpf_run_time_ns"), b[0], 16),
		json_u64(cost, "bpf_ns_per_event"),
		json_is_false(json_object_get(cost, "bpf_stats_enabled")) ? " (not measured)" : "");
	/* sampled statistics: say over how much of the session */
	if (json_is_true(json_object_get(cost, "bpf_stats_enabled")) &&
	    !strcmp(json_string_value(json_object_get(cost, "bpf_stats_mode")) ?: "", "sampled") &&
	    json_u64(cost, "bpf_stats_measured_ns") < json_u64(cost, "bpf_stats_session_ns"))
		fprintf(out, " (measured over %s of %s, counts scaled)",
			fmt_ns(json_u64(cost, "bpf_stats_measured_ns"), b[1], 16),
			fmt_ns(json_u64(cost, "bpf_stats_session_ns"), b[2], 16));
	fputc('\n', out);
	json_object_foreach((json_t *)cols, name, c) {
		json_array_foreach(json_object_get(c, "programs"), i, p) {
			if (!json_u64(p, "run_count"))
				continue;
			fprintf(out, "    %-6s %-24s %12" PRIu64 " runs %9" PRIu64 " ns/run\n", name,
				json_string_value(json_object_get(p, "name")) ?: "?",
				json_u64(p, "run_count"), json_u64(p, "ns_per_run"));
		}
	}
}

static void render_text(const json_t *rep, FILE *out, const void *opts)
{
	const struct report_opts *ro = opts;
	const json_t *s = json_object_get(rep, "session"), *cols = json_object_get(rep, "collectors"), *c, *d;
	const char *name;
	char b[16], filters[1024];
	size_t i;

	fprintf(out, "disco session: %s, kernel %s, %" PRIu64 " CPUs, %s\n",
		json_string_value(json_object_get(s, "hostname")) ?: "?",
		json_string_value(json_object_get(s, "kernel")) ?: "?", json_u64(s, "cpus"),
		fmt_ns(json_u64(s, "duration_ns"), b, sizeof(b)));
	if (report_describe_filters(json_object_get(s, "filters"), filters, sizeof(filters)))
		fprintf(out, "filters: %s\n", filters);
	json_array_foreach(json_object_get(s, "damage"), i, d)
		fprintf(out, "WARNING: damaged session file: %s\n", json_string_value(d) ?: "?");
	if (json_array_size(json_object_get(s, "damage")))
		fprintf(out, "WARNING: incomplete session: showing what was read before the damage\n");
	else if (!json_is_true(json_object_get(s, "complete"))) {
		if (json_object_get(s, "truncated_at"))
			fprintf(out, "WARNING: incomplete session (file cut off at byte %" PRIu64
				"); showing the last snapshot and events before it\n", json_u64(s, "truncated_at"));
		else
			/*
			 * The file cannot tell a kill from a full disk (the
			 * recorder can write nothing more then): name both.
			 */
			fprintf(out, "WARNING: incomplete session (no final summary: the recorder stopped "
				"before writing it: killed, or its disk filled up); showing the last snapshot\n");
	}
	json_object_foreach((json_t *)cols, name, c) {
		const struct collector *col = collector_find(name);

		if (report_collector_idle(c)) {
			fprintf(out, "\n== %s == idle: no events and no samples in %s\n", name,
				fmt_ns(json_u64(s, "duration_ns"), b, sizeof(b)));
			continue;
		}
		fprintf(out, "\n== %s ==\n", name);
		/* a collector that reads /proc has no hooks to show */
		if (json_array_size(json_object_get(c, "hooks")))
			report_print_hooks(out, json_object_get(c, "hooks"));
		fprintf(out, "events: %" PRIu64 ", drops: %" PRIu64 "%s\n\n", json_u64(c, "events"),
			json_u64(c, "drops"), json_u64(c, "drops") ? "  <-- events were LOST: raise --ring-size" : "");
		if (col && col->render_text)
			col->render_text(c, out, ro);
	}
	render_cost(rep, out);
}

int report_render_text(const json_t *rep, FILE *out, const struct report_opts *ro)
{
	return untrusted_text_render(out, render_text, rep, ro);
}

static void render_intervals(const json_t *rep, FILE *out, const void *unused)
{
	const json_t *s = json_object_get(rep, "session"), *iv;
	const json_t *cols = json_object_get(rep, "collectors");
	size_t i;

	(void)unused;
	json_array_foreach(json_object_get(rep, "intervals"), i, iv) {
		json_t *keep = json_deep_copy(iv), *c = json_object_get(keep, "collectors"), *x;
		const char *name;
		void *tmp;

		/* -e: only the collectors the report kept */
		json_object_foreach_safe(c, tmp, name, x)
			if (!json_object_get(cols, name))
				json_object_del(c, name);
		timeline_print_interval(out, keep, json_u64(s, "start_realtime_ns"));
		json_decref(keep);
	}
}

int report_render_intervals(const json_t *rep, FILE *out)
{
	return untrusted_text_render(out, render_intervals, rep, NULL);
}
