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
#include "untrusted.h"

#define MAX_COUNTERS	10	/* rates shown per collector */
#define ID_LEN		40

static const char *fmt(uint64_t v, const char *unit, char *buf, size_t len)
{
	return strcmp(unit, "ns") ? fmt_bytes(v, buf, len) : fmt_ns(v, buf, len);
}

const char *const top_sort_names[TOP_NSORT] = {
	[TOP_SORT_TOTAL] = "total", [TOP_SORT_COUNT] = "count", [TOP_SORT_P99] = "p99",
	[TOP_SORT_MAX] = "max",
};

/* Column layout of a frame: whole groups are dropped when the terminal is narrow. */
struct layout {
	int name_w;		/* from the longest name, at most 30 */
	bool since_start;	/* the cumulative group fits */
	bool show[3];		/* the interval's p50, p99, max */
};

/*
 * A value in a field of width w, red from 10 ms (or 10 MiB), yellow from
 * 1 ms, when colour is on: padded first, so the columns stay aligned.
 */
static void cell(FILE *out, const struct top_opts *o, int w, const char *text, uint64_t v,
		 const char *unit)
{
	uint64_t red = strcmp(unit, "ns") ? 10ULL << 20 : 10000000, yellow = red / 10;

	if (o->colour && v >= yellow)
		fprintf(out, " \033[%sm%*s\033[0m", v >= red ? "31" : "33", w, text);
	else
		fprintf(out, " %*s", w, text);
}

static void dist_row(FILE *out, const char *name, const json_t *cur, const json_t *prev, double secs,
		     const struct top_opts *o, const struct layout *l)
{
	const char *unit = hist_json_unit(cur);
	struct hist iv, all;
	uint64_t v[3];
	char b[16];

	if (!unit || hist_interval(cur, prev, unit, &iv) || hist_from_json(cur, unit, &all))
		return;
	fprintf(out, "  %-*.*s %9.1f", l->name_w, l->name_w, name, secs > 0 ? iv.count / secs : 0.0);
	v[0] = hist_percentile(&iv, 0.5);
	v[1] = hist_percentile(&iv, 0.99);
	v[2] = iv.max;
	for (int i = 0; i < 3; i++)
		if (l->show[i])
			cell(out, o, 8, iv.count ? fmt(v[i], unit, b, 16) : "-", iv.count ? v[i] : 0, unit);
	if (l->since_start) {
		fprintf(out, "  %10" PRIu64, (uint64_t)all.count);
		v[0] = hist_percentile(&all, 0.5);
		v[1] = hist_percentile(&all, 0.99);
		v[2] = all.max;
		for (int i = 0; i < 3; i++)
			cell(out, o, 8, all.count ? fmt(v[i], unit, b, 16) : "-", all.count ? v[i] : 0, unit);
	}
	fputc('\n', out);
}

static void dists(FILE *out, json_t *c, json_t *p, const char *prefix, double secs, int depth,
		  const struct top_opts *o, struct layout *l)
{
	const char *k;
	json_t *v;
	char name[128];

	json_object_foreach(c, k, v) {
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (hist_json_is_distribution(v)) {
			if (!out) {	/* measuring pass */
				if ((int)strlen(name) > l->name_w)
					l->name_w = strlen(name) > 30 ? 30 : (int)strlen(name);
				continue;
			}
			dist_row(out, name, v, json_object_get(p, k), secs, o, l);
		} else if (json_is_object(v) && depth < 2) {
			dists(out, v, json_object_get(p, k), name, secs, depth + 1, o, l);
		}
	}
}

/* Running counts that moved; settings (_ns, sampling) and levels (_not_listed) are not rates. */
static void counters(FILE *out, json_t *c, json_t *p, const char *prefix, double secs,
		     int depth, int *n, int *col, int width)
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
			char item[160];
			int len = snprintf(item, sizeof(item), "%s %.0f/s", name,
					   secs > 0 && now >= before ? (now - before) / secs : 0.0);

			/* a whole item per line or none: wrap before it */
			if (!*n) {
				*col = fprintf(out, "  rates: %s", item);
			} else if (*col + 3 + len > width) {
				*col = fprintf(out, "\n         %s", item) - 1;
			} else {
				*col += fprintf(out, "   %s", item);
			}
			(*n)++;
		} else if (json_is_object(v) && !hist_json_is_distribution(v) && depth < 2 &&
			   !strstr(k, "sampling") && !strstr(k, "filters")) {
			counters(out, v, json_object_get(p, k), name, secs, depth + 1, n, col, width);
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
	untrusted_copy(id, len, id, len);
}

struct worst {
	char id[ID_LEN];
	uint64_t count, sum, p50, p99, max;
};

static int by_sort_key(const void *a, const void *b, void *arg)
{
	const struct worst *x = a, *y = b;
	uint64_t kx, ky;

	switch (*(const enum top_sort *)arg) {
	case TOP_SORT_COUNT:
		kx = x->count, ky = y->count;
		break;
	case TOP_SORT_P99:
		kx = x->p99, ky = y->p99;
		break;
	case TOP_SORT_MAX:
		kx = x->max, ky = y->max;
		break;
	default:
		kx = x->sum, ky = y->sum;
	}
	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->count > y->count ? -1 : x->count < y->count;
}

/* disco itself: by pid, or by name when the pid is not in the row */
static bool is_self(const json_t *row, const struct top_opts *o)
{
	const json_t *pid = json_object_get(row, "pid");

	if (json_is_integer(pid))
		return o->self_pid && json_integer_value(pid) == o->self_pid;
	return !strcmp(json_string_value(json_object_get(row, "comm")) ?: "", "disco");
}

/*
 * Each row's last interval (cur minus its own row in prev) of its
 * distribution dkey into w, without disco (counted in *hidden) and rows
 * the name filter leaves out; returns how many.
 */
static size_t interval_rows(json_t *cur, json_t *prev, const char *dkey, const char *unit,
			    const struct top_opts *o, struct worst *w, size_t *hidden)
{
	size_t n = json_array_size(cur), np = json_array_size(prev), m = 0;
	char (*ids)[ID_LEN] = calloc(np ?: 1, sizeof(*ids));

	*hidden = 0;
	if (!ids)
		return 0;
	for (size_t i = 0; i < np; i++)
		row_id(json_array_get(prev, i), ids[i], ID_LEN);
	for (size_t i = 0; i < n; i++) {
		json_t *row = json_array_get(cur, i), *pd = NULL;
		struct hist h;

		row_id(row, w[m].id, ID_LEN);
		if (!o->show_self && is_self(row, o)) {
			(*hidden)++;
			continue;
		}
		if (o->filter && *o->filter && !strstr(w[m].id, o->filter))
			continue;
		for (size_t j = 0; j < np; j++) {
			if (!strcmp(ids[j], w[m].id)) {
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
	free(ids);
	return m;
}

static const int worst_widths[5] = { 10, 9, 9, 9, 11 };

/*
 * Drop whole columns until a row of the first `rows` fits o->width, then
 * shorten the names: which columns show, and the width of the name column.
 */
static int fit_columns(const struct worst *w, size_t m, const struct top_opts *o, bool shown[5])
{
	/* the columns a narrow terminal keeps, in order: p99, count/s, max, p50, total */
	static const int keep_order[5] = { 2, 0, 3, 1, 4 };
	int id_w = 4, ncols, cols_w = 0, width = o->width > 0 ? o->width : 1000;

	for (size_t i = 0; i < m && i < (size_t)o->rows; i++)
		if ((int)strlen(w[i].id) > id_w)
			id_w = (int)strlen(w[i].id);
	for (ncols = 5; ncols > 1; ncols--) {
		int need = 4 + id_w;

		for (int c = 0; c < ncols; c++)
			need += worst_widths[keep_order[c]];
		if (need <= width)
			break;
	}
	for (int c = 0; c < ncols; c++) {
		shown[keep_order[c]] = true;
		cols_w += worst_widths[keep_order[c]];
	}
	if (4 + id_w + cols_w > width)
		id_w = width - 4 - cols_w > 8 ? width - 4 - cols_w : 8;
	return id_w;
}

/* The title in as many words as fit. */
static void worst_title(FILE *out, const char *key, const char *dkey, size_t m, size_t hidden,
			const struct top_opts *o)
{
	int width = o->width > 0 ? o->width : 1000;
	char t[3][192];

	snprintf(t[0], sizeof(t[0]), "  %s by %s, last interval, by %s%s%s", key, dkey,
		 top_sort_names[o->sort], m ? "" : ": none", hidden ? " (disco hidden)" : "");
	snprintf(t[1], sizeof(t[1]), "  %s, last interval, by %s%s", key, top_sort_names[o->sort],
		 m ? "" : ": none");
	snprintf(t[2], sizeof(t[2]), "  %.*s", width > 3 ? width - 2 : 1, key);
	fprintf(out, "%s\n", (int)strlen(t[0]) <= width ? t[0] : (int)strlen(t[1]) <= width ? t[1] : t[2]);
}

static void worst_rows(FILE *out, const char *key, json_t *cur, json_t *prev, double secs,
		       const struct top_opts *o)
{
	static const char *const heads[5] = { "count/s", "p50", "p99", "max", "total/s" };
	size_t n = json_array_size(cur), m, i, hidden;
	const char *dkey = NULL, *unit, *k;
	struct worst *w;
	json_t *v, *first = json_array_get(cur, 0);
	bool shown[5] = { false };
	char b[16];
	int id_w;

	json_object_foreach(first, k, v) {
		if (hist_json_is_distribution(v)) {
			dkey = k;
			break;
		}
	}
	if (!dkey || !(unit = hist_json_unit(json_object_get(first, dkey))))
		return;
	w = calloc(n ?: 1, sizeof(*w));
	if (!w)
		return;
	m = interval_rows(cur, prev, dkey, unit, o, w, &hidden);
	qsort_r(w, m, sizeof(*w), by_sort_key, (void *)&o->sort);
	id_w = fit_columns(w, m, o, shown);
	worst_title(out, key, dkey, m, hidden, o);
	if (m) {
		fprintf(out, "    %-*s", id_w, "");
		for (int c = 0; c < 5; c++)
			if (shown[c])
				fprintf(out, c == 4 ? " %10s" : c ? " %8s" : " %9s",
					c == 4 && strcmp(unit, "ns") ? "bytes/s" : heads[c]);
		fputc('\n', out);
	}
	for (i = 0; i < m && i < (size_t)o->rows; i++) {
		uint64_t vals[5] = { 0, w[i].p50, w[i].p99, w[i].max,
				     secs > 0 ? (uint64_t)(w[i].sum / secs) : 0 };

		fprintf(out, "    %-*.*s", id_w, id_w, w[i].id);
		if (shown[0])
			fprintf(out, " %9.1f", secs > 0 ? w[i].count / secs : 0.0);
		for (int c = 1; c < 5; c++)
			if (shown[c])
				cell(out, o, c == 4 ? 10 : 8, fmt(vals[c], unit, b, 16), c == 4 ? 0 : vals[c], unit);
		fputc('\n', out);
	}
	free(w);
}

/*
 * Whole column groups that fit the width: the cumulative ("since start")
 * group goes first, then the worst rows' columns one by one; the name
 * column is sized from the data.
 */
static void fit(json_t *cols, const struct top_opts *o, struct layout *l)
{
	const char *name;
	json_t *c;
	int width = o->width > 0 ? o->width : 1000;

	memset(l, 0, sizeof(*l));
	l->name_w = 12;
	json_object_foreach(cols, name, c)
		dists(NULL, c, NULL, "", 0, 0, o, l);
	/* "  name rate/s p50 p99 max" then "  total p50 p99 max" */
	l->since_start = 2 + l->name_w + 10 + 27 + 12 + 27 <= width;
	/* narrower still: the interval's p50, then max; p99 stays */
	l->show[0] = l->show[1] = l->show[2] = true;
	if (2 + l->name_w + 10 + 27 > width)
		l->show[0] = false;
	if (2 + l->name_w + 10 + 18 > width)
		l->show[2] = false;
	if (2 + l->name_w + 10 + 9 > width)
		l->name_w = width - 2 - 10 - 9 > 8 ? width - 2 - 10 - 9 : 8;
}

/* The header's parts, the most useful first, as many as the width takes. */
static void header(FILE *out, const struct top_opts *o, const char *clock, const char *host,
		   const char *up, double secs)
{
	enum { CLOCK, PAUSED, FILTER, SORT, INTERVAL, UP, HOST, NPARTS };
	/* chosen by importance, shown in reading order */
	static const int order[NPARTS] = { CLOCK, HOST, UP, INTERVAL, SORT, FILTER, PAUSED };
	char part[NPARTS][96] = { { 0 } };
	bool use[NPARTS] = { false };
	int width = o->width > 0 ? o->width : 1000, len = 9;	/* "disco top" */

	snprintf(part[CLOCK], sizeof(part[CLOCK]), "%s", clock);
	if (o->paused)
		snprintf(part[PAUSED], sizeof(part[PAUSED]), "PAUSED");
	if (o->filter && *o->filter)
		snprintf(part[FILTER], sizeof(part[FILTER]), "filter %.80s", o->filter);
	snprintf(part[SORT], sizeof(part[SORT]), "sort %s", top_sort_names[o->sort]);
	snprintf(part[INTERVAL], sizeof(part[INTERVAL]), "interval %.2fs", secs);
	snprintf(part[UP], sizeof(part[UP]), "up %s", up);
	snprintf(part[HOST], sizeof(part[HOST]), "%.80s", host);
	for (int i = 0; i < NPARTS; i++) {
		int n = (int)strlen(part[i]);

		if (n && len + 2 + n <= width) {
			use[i] = true;
			len += 2 + n;
		}
	}
	fputs("disco top", out);
	for (int i = 0; i < NPARTS; i++)
		if (use[order[i]])
			fprintf(out, "  %s", part[order[i]]);
	fputc('\n', out);
}

void top_render(FILE *out, const json_t *prev_rep, const json_t *cur_rep, const struct top_opts *o)
{
	json_t *cur = (json_t *)cur_rep, *prev = (json_t *)prev_rep;
	json_t *s = json_object_get(cur, "session"), *cols = json_object_get(cur, "collectors");
	json_t *pcols = json_object_get(prev, "collectors"), *c, *p, *v;
	uint64_t now = json_u64(s, "duration_ns");
	uint64_t before = prev ? json_u64(json_object_get(prev, "session"), "duration_ns") : 0;
	double secs = now > before ? (now - before) / 1e9 : 0;
	time_t wall = (time_t)(o->realtime_ns / 1000000000ULL);
	const char *name, *k;
	char b[16], clock[16] = "";
	struct layout l;
	struct tm tm;
	int n, col, ncol;

	fit(cols, o, &l);
	if (o->tty)
		fputs("\033[H\033[J", out);
	if (o->realtime_ns && localtime_r(&wall, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	header(out, o, clock, json_string_value(json_object_get(s, "hostname")) ?: "",
	       fmt_ns(now, b, sizeof(b)), secs);
	if (o->tty) {
		const char *keys = "keys: q quit  s/< > sort  p pause  / filter  h show disco";

		fputs(o->status ? o->status : o->width && (int)strlen(keys) > o->width ?
		      "q s < > p / h" : keys, out);
		fputc('\n', out);
	}
	json_object_foreach(cols, name, c) {
		uint64_t ev = json_u64(c, "events");

		p = json_object_get(pcols, name);
		fprintf(out, "\n== %s: %.0f events/s, %" PRIu64 " dropped%s\n", name,
			secs > 0 && ev >= json_u64(p, "events") ? (ev - json_u64(p, "events")) / secs : 0.0,
			json_u64(c, "drops"), json_u64(c, "drops") ? " (ring buffer full)" : "");
		ncol = 1 + l.show[0] + l.show[1] + l.show[2];
		fprintf(out, "  %-*s %.*s", l.name_w, "", 9 * ncol, ncol > 2 ? "----------- last interval ----------" :
			"-last interval----");
		if (l.since_start)
			fprintf(out, "  %s", "------------ since start ------------");
		fprintf(out, "\n  %-*s %9s", l.name_w, "", "rate/s");
		for (int i = 0; i < 3; i++)
			if (l.show[i])
				fprintf(out, " %8s", (const char *[]){ "p50", "p99", "max" }[i]);
		if (l.since_start)
			fprintf(out, "  %10s %8s %8s %8s", "total", "p50", "p99", "max");
		fputc('\n', out);
		dists(out, c, p, "", secs, 0, o, &l);
		n = col = 0;
		counters(out, c, p, "", secs, 0, &n, &col, o->width > 0 ? o->width : 120);
		if (n)
			fputc('\n', out);
		json_object_foreach(c, k, v) {
			json_t *first = json_array_get(v, 0);

			if (json_is_object(first) && !json_object_get(first, "time_ns"))
				worst_rows(out, k, v, json_object_get(p, k), secs, o);
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
