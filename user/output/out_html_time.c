// SPDX-License-Identifier: GPL-2.0
/* The HTML report's charts over time: latency heat maps and timelines. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "collector.h"
#include "hist.h"
#include "out_html.h"
#include "timeline.h"

#define TW		720	/* chart width */
#define TL		64	/* left margin: value axis */
#define TR		58	/* right margin: colour key, second axis */
#define TT		12
#define TB		34	/* bottom margin: time axis */
#define ROW_H		11	/* heat map: one row per power of two */
#define LINE_H		130
#define MAX_ROWS	64

/* Light to dark through orange, like the classic latency heat maps. */
static void heat_colour(double f, char *buf, size_t len)
{
	static const double stop[3][3] = { { 255, 238, 214 }, { 250, 140, 50 }, { 120, 28, 4 } };
	int s = f < 0.5 ? 0 : 1;
	double t = f < 0.5 ? f * 2 : (f - 0.5) * 2;

	snprintf(buf, len, "#%02x%02x%02x",
		 (int)(stop[s][0] + (stop[s + 1][0] - stop[s][0]) * t),
		 (int)(stop[s][1] + (stop[s + 1][1] - stop[s][1]) * t),
		 (int)(stop[s][2] + (stop[s + 1][2] - stop[s][2]) * t));
}

/* Power-of-two row of a value: 0 for 0, else 1 + floor(log2(v)). */
static int octave(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

static uint64_t octave_lo(int r)
{
	return r ? 1ULL << (r - 1) : 0;
}

/* Seconds ticks along the bottom: about six, at 1-2-5 steps. */
static void time_axis(FILE *out, double x0, double pw, double y, uint64_t dur_ns)
{
	static const double steps[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600,
					900, 1800, 3600, 7200, 14400, 43200, 86400 };
	double secs = dur_ns / 1e9, step = steps[0];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if (secs / step <= 7)
			break;
	}
	for (double s = 0; s <= secs + 1e-9; s += step) {
		double x = x0 + (secs > 0 ? s / secs : 0) * pw;

		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\"/>", x, x, TT, y);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g s</text>", x, y + 14, s);
	}
}

static uint64_t interval_dur(const json_t *iv)
{
	uint64_t a = json_u64(iv, "start_ns"), b = json_u64(iv, "end_ns");

	return b > a ? b - a : 0;
}

static const json_t *interval_dist(const json_t *iv, const char *col, const char *key)
{
	return json_object_get(json_object_get(json_object_get(json_object_get(iv, "collectors"), col),
					       "dists"), key);
}

/* A heat map's frame: its latency rows, busiest cell, time span and geometry. */
struct heat {
	int lo_row, hi_row;
	uint64_t peak, dur;
	double pw, y0;
};

/* An interval's samples of col's key per power-of-two row; -EINVAL without that distribution. */
static int interval_octaves(const json_t *iv, const char *col, const char *key,
			    uint64_t cells[MAX_ROWS])
{
	struct hist h;

	if (hist_from_json(interval_dist(iv, col, key), "ns", &h))
		return -EINVAL;
	memset(cells, 0, MAX_ROWS * sizeof(cells[0]));
	for (int s = 0; s < HIST_SLOTS; s++)
		if (octave(hist_slot_lo(s)) < MAX_ROWS)
			cells[octave(hist_slot_lo(s))] += h.slots[s];
	return 0;
}

/* The rows any interval (or outlier) reaches, and the busiest cell. */
static void heat_extent(struct heat *hm, const json_t *intervals, const json_t *outliers,
			const char *col, const char *key)
{
	uint64_t cells[MAX_ROWS];
	const json_t *iv, *o;
	size_t i;

	hm->lo_row = MAX_ROWS;
	hm->hi_row = -1;
	hm->peak = 0;
	json_array_foreach(intervals, i, iv) {
		if (interval_octaves(iv, col, key, cells))
			continue;
		for (int r = 0; r < MAX_ROWS; r++) {
			if (!cells[r])
				continue;
			if (r < hm->lo_row)
				hm->lo_row = r;
			if (r > hm->hi_row)
				hm->hi_row = r;
			if (cells[r] > hm->peak)
				hm->peak = cells[r];
		}
	}
	json_array_foreach(outliers, i, o) {
		int r = octave(json_u64(o, "latency_ns"));

		if (!json_object_get(o, "time_ns") || r >= MAX_ROWS)
			continue;
		if (r < hm->lo_row)
			hm->lo_row = r;
		if (r > hm->hi_row)
			hm->hi_row = r;
	}
}

/* One cell per interval and row with samples, coloured by count (log). */
static void heat_cells(FILE *out, const struct heat *hm, const json_t *intervals,
		       const char *col, const char *key)
{
	uint64_t cells[MAX_ROWS];
	char colour[16], a[24], b[24];
	const json_t *iv;
	size_t i;

	json_array_foreach(intervals, i, iv) {
		uint64_t t0 = json_u64(iv, "start_ns"), t1 = json_u64(iv, "end_ns");
		double x0 = TL + (double)t0 / hm->dur * hm->pw, x1 = TL + (double)t1 / hm->dur * hm->pw;

		if (interval_octaves(iv, col, key, cells))
			continue;
		for (int r = hm->lo_row; r <= hm->hi_row; r++) {
			if (!cells[r])
				continue;
			heat_colour(log1p((double)cells[r]) / log1p((double)hm->peak), colour,
				    sizeof(colour));
			fprintf(out, "<rect class=\"hm\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
				"data-t0=\"%" PRIu64 "\" data-t1=\"%" PRIu64 "\" data-lo=\"%" PRIu64 "\" data-n=\"%" PRIu64 "\">",
				x0, hm->y0 - (r - hm->lo_row + 1) * ROW_H, x1 - x0 > 0.5 ? x1 - x0 : 0.5, ROW_H,
				colour, t0, t1, octave_lo(r), cells[r]);
			fprintf(out, "<title>%.1f-%.1f s, %s .. %s: %" PRIu64 "</title></rect>", t0 / 1e9, t1 / 1e9,
				fmt_ns(octave_lo(r), a, sizeof(a)), fmt_ns(octave_lo(r + 1), b, sizeof(b)), cells[r]);
		}
	}
}

/* Outliers where and when they happened, with who ran instead. */
static void heat_outliers(FILE *out, const struct heat *hm, const json_t *outliers)
{
	const json_t *o;
	char a[24];
	size_t i;

	json_array_foreach(outliers, i, o) {
		uint64_t t = json_u64(o, "time_ns"), v = json_u64(o, "latency_ns");
		int r = octave(v);
		double y, x;

		if (!json_object_get(o, "time_ns") || r >= MAX_ROWS)
			continue;
		x = TL + (double)(t < hm->dur ? t : hm->dur) / hm->dur * hm->pw;
		y = hm->y0 - (r - hm->lo_row + 0.5) * ROW_H;
		fprintf(out, "<circle class=\"outlier\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" data-t=\"%" PRIu64
			"\" data-v=\"%" PRIu64 "\"><title>%s at %.2f s: ", x, y, t, v,
			fmt_ns(v, a, sizeof(a)), t / 1e9);
		html_escape(out, json_string_value(json_object_get(o, "comm")) ?: "?");
		fprintf(out, " (pid %" PRIu64 ")", json_u64(o, "pid"));
		if (json_is_string(json_object_get(o, "prev_comm"))) {
			fputs(", ", out);
			html_escape(out, json_string_value(json_object_get(o, "prev_comm")));
			fputs(" ran instead", out);
		}
		fputs("</title></circle>", out);
	}
}

int html_heatmap_svg(FILE *out, const json_t *intervals, const char *col, const char *key,
		     const json_t *outliers, uint64_t duration_ns)
{
	struct heat hm = { .dur = duration_ns, .pw = TW - TL - TR };
	size_t n = json_array_size(intervals);
	char colour[16], a[24];

	if (n && json_u64(json_array_get(intervals, n - 1), "end_ns") > hm.dur)
		hm.dur = json_u64(json_array_get(intervals, n - 1), "end_ns");
	heat_extent(&hm, intervals, outliers, col, key);
	if (hm.hi_row < 0 || !hm.dur)
		return -ENODATA;
	hm.y0 = TT + (hm.hi_row - hm.lo_row + 1) * ROW_H;	/* bottom of the lowest row */
	fprintf(out, "<svg class=\"heatmap\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" role=\"img\" data-collector=\"",
		TW, hm.y0 + TB, TW, hm.y0 + TB);
	html_escape(out, col);
	fputs("\" data-key=\"", out);
	html_escape(out, key);
	fputs("\">", out);
	/* latency axis: every other power of two, labelled by its lower bound */
	for (int r = hm.lo_row; r <= hm.hi_row + 1; r++) {
		double y = hm.y0 - (r - hm.lo_row) * ROW_H;

		if ((r - hm.lo_row) % 2 && r != hm.hi_row + 1)
			continue;
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", TL - 4, y + 4,
			fmt_ns(octave_lo(r), a, sizeof(a)));
	}
	time_axis(out, TL, hm.pw, hm.y0, hm.dur);
	heat_cells(out, &hm, intervals, col, key);
	heat_outliers(out, &hm, outliers);
	/* colour key */
	for (int k = 0; k < 5; k++) {
		heat_colour(k / 4.0, colour, sizeof(colour));
		fprintf(out, "<rect x=\"%.0f\" y=\"%d\" width=\"12\" height=\"10\" fill=\"%s\"/>",
			TW - TR + 8.0, TT + k * 12, colour);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\">1</text><text x=\"%d\" y=\"%d\">%" PRIu64 "</text>",
		TW - TR + 24, TT + 9, TW - TR + 24, TT + 57, hm.peak);
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time; rows: latency (powers of two); "
		"colour: samples (log); dots: outliers</text>", TL + hm.pw / 2, hm.y0 + TB - 4);
	fputs("</svg>\n", out);
	return 0;
}

/* One series' points and its polyline; points where has[i] is false are left out. */
static void series(FILE *out, const char *cls, size_t n, const uint64_t *t0, const uint64_t *t1,
		   const double *v, const bool *has, uint64_t dur, double pw, double y0, double ph,
		   double (*scale)(double v, double top), double top)
{
	bool first = true;

	fprintf(out, "<polyline class=\"%s\" fill=\"none\" stroke-width=\"1.8\" points=\"", cls);
	for (size_t i = 0; i < n; i++) {
		if (has && !has[i])
			continue;
		fprintf(out, "%s%.1f,%.1f", first ? "" : " ", TL + (t0[i] + t1[i]) / 2.0 / dur * pw,
			y0 - scale(v[i], top) * ph);
		first = false;
	}
	fputs("\"/>", out);
	for (size_t i = 0; i < n; i++)
		if (!has || has[i])
			fprintf(out, "<circle class=\"pt %s\" r=\"2.2\" cx=\"%.1f\" cy=\"%.1f\" data-t0=\"%" PRIu64
			"\" data-t1=\"%" PRIu64 "\" data-v=\"%.6g\"/>", cls,
			TL + (t0[i] + t1[i]) / 2.0 / dur * pw, y0 - scale(v[i], top) * ph, t0[i], t1[i], v[i]);
}

static double lin(double v, double top)
{
	return top > 0 ? v / top : 0;
}

/* log10 between 1 us and top */
static double logns(double v, double top)
{
	double lo = 3, hi = log10(top > 1e3 ? top : 1e3);

	if (v < 1e3)
		return 0;
	return hi > lo ? (log10(v) - lo) / (hi - lo) : 0;
}

int html_timeline_svg(FILE *out, const json_t *intervals, const char *col, const char *key,
		      uint64_t duration_ns)
{
	size_t m = 0, i;
	uint64_t t0[TIMELINE_MAX_SNAPSHOTS], t1[TIMELINE_MAX_SNAPSHOTS], dur = duration_ns;
	double rate[TIMELINE_MAX_SNAPSHOTS], p99[TIMELINE_MAX_SNAPSHOTS], p50[TIMELINE_MAX_SNAPSHOTS];
	bool has[TIMELINE_MAX_SNAPSHOTS];
	double rtop = 0, ltop = 0, pw = TW - TL - TR, ph = LINE_H - TT - TB, y0 = TT + ph;
	const json_t *iv;
	char a[24];

	json_array_foreach(intervals, i, iv) {
		const json_t *d = interval_dist(iv, col, key);
		uint64_t dt = interval_dur(iv);

		if (m == TIMELINE_MAX_SNAPSHOTS || !dt || !hist_json_is_distribution(d))
			continue;
		t0[m] = json_u64(iv, "start_ns");
		t1[m] = json_u64(iv, "end_ns");
		rate[m] = json_u64(d, "count") * 1e9 / dt;
		p99[m] = (double)json_u64(d, "p99_ns");
		p50[m] = (double)json_u64(d, "p50_ns");
		has[m] = json_u64(d, "count") > 0;
		if (rate[m] > rtop)
			rtop = rate[m];
		if (p99[m] > ltop)
			ltop = p99[m];
		if (t1[m] > dur)
			dur = t1[m];
		m++;
	}
	if (m < 2 || !dur)
		return -ENODATA;
	fputs("<svg class=\"timeline\" width=\"720\" viewBox=\"0 0 720 130\" height=\"130\" role=\"img\" data-collector=\"", out);
	html_escape(out, col);
	fputs("\" data-key=\"", out);
	html_escape(out, key);
	fputs("\">", out);
	time_axis(out, TL, pw, y0, dur);
	/* left axis: samples per second; right axis: latency, log */
	fprintf(out, "<text class=\"rate-l\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f/s</text>"
		"<text class=\"rate-l\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">0/s</text>",
		TL - 4, TT + 4.0, rtop, TL - 4, y0 + 4);
	fprintf(out, "<text class=\"p99-l\" x=\"%.0f\" y=\"%.1f\">%s</text>", TL + pw + 4, TT + 4.0,
		fmt_ns(ltop > 1e3 ? (uint64_t)ltop : 1000, a, sizeof(a)));
	fprintf(out, "<text class=\"p99-l\" x=\"%.0f\" y=\"%.1f\">1.0us</text>", TL + pw + 4, y0 + 4);
	series(out, "rate", m, t0, t1, rate, NULL, dur, pw, y0, ph, lin, rtop);
	/* no samples: no percentile, not a zero one */
	series(out, "p99", m, t0, t1, p99, has, dur, pw, y0, ph, logns, ltop);
	series(out, "p50", m, t0, t1, p50, has, dur, pw, y0, ph, logns, ltop);
	fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\"><tspan class=\"rate-l\">samples/s (left)</tspan>"
		" &#183; <tspan class=\"p99-l\">p99</tspan> and <tspan class=\"p50-l\">p50</tspan> (right, log)</text>",
		TL + pw / 2, LINE_H - 4);
	fputs("</svg>\n", out);
	return 0;
}
