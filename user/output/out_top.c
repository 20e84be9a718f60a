// SPDX-License-Identifier: GPL-2.0
/* disco top frames: interval figures from two cumulative snapshots (pure, unit-tested). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collector.h"
#include "out_top.h"
#include "hist.h"
#include "timeline.h"

#define MAX_COUNTERS	10	/* rates shown per collector */
#define ID_LEN		40

static const char *fmt(uint64_t v, const char *unit, char *buf, size_t len)
{
	return strcmp(unit, "ns") ? fmt_bytes(v, buf, len) : fmt_ns(v, buf, len);
}

static void dist_row(FILE *out, const char *name, const json_t *cur, const json_t *prev, double secs)
{
	const char *unit = hist_json_unit(cur);
	struct hist iv, all;
	char b[6][16];

	if (!unit || hist_interval(cur, prev, unit, &iv) || hist_from_json(cur, unit, &all))
		return;
	fprintf(out, "  %-30.30s %9.1f %8s %8s %8s  %10" PRIu64 " %8s %8s %8s\n", name,
		secs > 0 ? iv.count / secs : 0.0,
		iv.count ? fmt(hist_percentile(&iv, 0.5), unit, b[0], 16) : "-",
		iv.count ? fmt(hist_percentile(&iv, 0.99), unit, b[1], 16) : "-",
		iv.count ? fmt(iv.max, unit, b[2], 16) : "-",
		(uint64_t)all.count,
		all.count ? fmt(hist_percentile(&all, 0.5), unit, b[3], 16) : "-",
		all.count ? fmt(hist_percentile(&all, 0.99), unit, b[4], 16) : "-",
		all.count ? fmt(all.max, unit, b[5], 16) : "-");
}

static void dists(FILE *out, json_t *c, json_t *p, const char *prefix, double secs, int depth)
{
	const char *k;
	json_t *v;
	char name[128];

	json_object_foreach(c, k, v) {
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (hist_json_is_distribution(v))
			dist_row(out, name, v, json_object_get(p, k), secs);
		else if (json_is_object(v) && depth < 2)
			dists(out, v, json_object_get(p, k), name, secs, depth + 1);
	}
}

/* Running counts that moved; settings (_ns, sampling) and levels (_not_listed) are not rates. */
static void counters(FILE *out, json_t *c, json_t *p, const char *prefix, double secs,
		     int depth, int *n)
{
	const char *k;
	json_t *v;
	char name[128];

	json_object_foreach(c, k, v) {
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (depth == 0 && (!strcmp(k, "drops") || !strcmp(k, "events")))
			continue;
		if (json_is_integer(v) && !strstr(k, "_ns") && !strstr(k, "not_listed") &&
		    strncmp(k, "min_", 4) && strncmp(k, "max_", 4) && strncmp(k, "outstanding_", 12)) {
			uint64_t now = json_u64(c, k), before = p ? json_u64(p, k) : 0;

			/* idle counters would crowd out the ones that move */
			if (now <= before)
				continue;
			if (*n == MAX_COUNTERS)
				return;
			fprintf(out, "%s%s %.0f/s", *n % 4 ? "   " : (*n ? "\n    " : "  rates: "), name,
				secs > 0 && now >= before ? (now - before) / secs : 0.0);
			(*n)++;
		} else if (json_is_object(v) && !hist_json_is_distribution(v) && depth < 2 &&
			   !strstr(k, "sampling") && !strstr(k, "filters")) {
			counters(out, v, json_object_get(p, k), name, secs, depth + 1, n);
		}
	}
}

/* "pid comm" or "disk op": what a row is about. */
static void row_id(json_t *row, char *id, size_t len)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	id[0] = 0;
	json_object_foreach(row, k, v) {
		if (n >= len - 1)
			break;
		if (json_is_string(v))
			n += snprintf(id + n, len - n, "%s%s", n ? " " : "", json_string_value(v));
		else if (json_is_integer(v) && (!strcmp(k, "pid") || !strcmp(k, "tid")))
			n += snprintf(id + n, len - n, "%s%" JSON_INTEGER_FORMAT, n ? " " : "",
				      json_integer_value(v));
	}
	/* comm names come from other users' processes: no terminal escapes */
	for (size_t i = 0; id[i]; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			id[i] = '?';
}

struct worst {
	char id[ID_LEN];
	uint64_t count, sum, p50, p99, max;
};

static int by_sum_desc(const void *a, const void *b)
{
	const struct worst *x = a, *y = b;

	if (x->sum != y->sum)
		return x->sum > y->sum ? -1 : 1;
	return x->count > y->count ? -1 : x->count < y->count;
}

static void worst_rows(FILE *out, const char *key, json_t *cur, json_t *prev, double secs, int rows)
{
	size_t n = json_array_size(cur), np = json_array_size(prev), m = 0, i;
	const char *dkey = NULL, *unit, *k;
	char (*pids)[ID_LEN] = NULL, b[4][16];
	struct worst *w = NULL;
	json_t *v, *first = json_array_get(cur, 0);

	json_object_foreach(first, k, v) {
		if (hist_json_is_distribution(v)) {
			dkey = k;
			break;
		}
	}
	if (!dkey || !(unit = hist_json_unit(json_object_get(first, dkey))))
		return;
	w = calloc(n, sizeof(*w));
	pids = calloc(np ?: 1, sizeof(*pids));
	if (!w || !pids)
		goto out;
	for (i = 0; i < np; i++)
		row_id(json_array_get(prev, i), pids[i], ID_LEN);
	for (i = 0; i < n; i++) {
		json_t *row = json_array_get(cur, i), *pd = NULL;
		struct hist h;

		row_id(row, w[m].id, ID_LEN);
		for (size_t j = 0; j < np; j++) {
			if (!strcmp(pids[j], w[m].id)) {
				pd = json_object_get(json_array_get(prev, j), dkey);
				break;
			}
		}
		if (hist_interval(json_object_get(row, dkey), pd, unit, &h) || !h.count)
			continue;
		w[m].count = h.count;
		w[m].sum = h.sum;
		w[m].p50 = hist_percentile(&h, 0.5);
		w[m].p99 = hist_percentile(&h, 0.99);
		w[m].max = h.max;
		m++;
	}
	qsort(w, m, sizeof(*w), by_sum_desc);
	fprintf(out, "  %s by %s, last interval%s\n", key, dkey, m ? "" : ": none");
	if (m)
		fprintf(out, "    %-32s %9s %8s %8s %8s %10s\n", "", "count/s", "p50", "p99", "max",
			strcmp(unit, "ns") ? "bytes/s" : "total/s");
	for (i = 0; i < m && i < (size_t)rows; i++)
		fprintf(out, "    %-32.32s %9.1f %8s %8s %8s %10s\n", w[i].id,
			secs > 0 ? w[i].count / secs : 0.0, fmt(w[i].p50, unit, b[0], 16),
			fmt(w[i].p99, unit, b[1], 16), fmt(w[i].max, unit, b[2], 16),
			fmt(secs > 0 ? (uint64_t)(w[i].sum / secs) : 0, unit, b[3], 16));
out:
	free(w);
	free(pids);
}

void top_render(FILE *out, const json_t *prev_rep, const json_t *cur_rep, const struct top_opts *o)
{
	json_t *cur = (json_t *)cur_rep, *prev = (json_t *)prev_rep;
	json_t *s = json_object_get(cur, "session"), *cols = json_object_get(cur, "collectors");
	json_t *pcols = json_object_get(prev, "collectors"), *c, *p, *v;
	uint64_t now = json_u64(s, "duration_ns");
	uint64_t before = prev ? json_u64(json_object_get(prev, "session"), "duration_ns") : 0;
	double secs = now > before ? (now - before) / 1e9 : 0;
	const char *name, *k;
	char b[16];
	int n;

	if (o->tty)
		fputs("\033[H\033[J", out);
	fprintf(out, "disco top   %s   kernel %s   up %s   interval %.2fs%s\n",
		json_string_value(json_object_get(s, "hostname")) ?: "",
		json_string_value(json_object_get(s, "kernel")) ?: "", fmt_ns(now, b, sizeof(b)),
		secs, o->tty ? "   (q quits)" : "");
	json_object_foreach(cols, name, c) {
		uint64_t ev = json_u64(c, "events");

		p = json_object_get(pcols, name);
		fprintf(out, "\n== %s: %.0f events/s, %" PRIu64 " dropped%s\n", name,
			secs > 0 && ev >= json_u64(p, "events") ? (ev - json_u64(p, "events")) / secs : 0.0,
			json_u64(c, "drops"), json_u64(c, "drops") ? " (ring buffer full)" : "");
		fprintf(out, "  %-30s %9s %8s %8s %8s  %10s %8s %8s %8s\n", "", "rate/s", "p50", "p99",
			"max", "total", "p50", "p99", "max");
		dists(out, c, p, "", secs, 0);
		n = 0;
		counters(out, c, p, "", secs, 0, &n);
		if (n)
			fputc('\n', out);
		json_object_foreach(c, k, v) {
			json_t *first = json_array_get(v, 0);

			if (json_is_object(first) && !json_object_get(first, "time_ns"))
				worst_rows(out, k, v, json_object_get(p, k), secs, o->rows);
		}
	}
	fflush(out);
}

json_t *top_json_line(const json_t *prev_rep, const json_t *cur_rep, uint64_t realtime_ns)
{
	json_t *a = timeline_reduce(prev_rep), *b = timeline_reduce(cur_rep), *line;
	time_t secs = (time_t)(realtime_ns / 1000000000ULL);
	char stamp[40] = "";
	struct tm tm;

	line = b ? timeline_delta(a, b) : json_pack("{s:{}}", "collectors");
	if (gmtime_r(&secs, &tm))
		snprintf(stamp + strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm),
			 sizeof(stamp) - 19, ".%03uZ", (unsigned int)(realtime_ns / 1000000 % 1000));
	json_object_set_new(line, "schema", json_string("disco.top/1"));
	json_object_set_new(line, "time", json_string(stamp));
	json_object_set_new(line, "time_realtime_ns", json_integer((json_int_t)realtime_ns));
	json_decref(a);
	json_decref(b);
	return line;
}
