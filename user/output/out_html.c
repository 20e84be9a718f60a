// SPDX-License-Identifier: GPL-2.0
/* Self-contained HTML report: inline CSS + SVG, every string escaped (files are untrusted). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include "hist.h"
#include "out_flame.h"
#include "out_html.h"
#include "collector.h"
#include "report.h"
#include "timeline.h"

#define MAX_COLUMNS	14	/* per row table */
#define MAX_FRAMES	8	/* of a stack shown in a cell */
#define MAX_DEPTH	4
#define SVG_W		720
#define SVG_H		200
#define PLOT_L		56	/* left margin: count axis */
#define PLOT_B		34	/* bottom margin: value axis */
#define PLOT_T		16

static const char css[] =
"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1100px;padding:0 18px 40px;color:#1d2330;background:#fbfbfd}\n"
"h1{font-size:22px;margin:22px 0 6px}h2{font-size:19px;margin:30px 0 8px;padding-top:8px;border-top:2px solid #3b5bdb}\n"
"h3{font-size:15px;margin:18px 0 6px}.muted{color:#667}.warn{color:#b3261e;font-weight:600}\n"
"table{border-collapse:collapse;margin:4px 0 12px;font-size:13px}th,td{padding:3px 9px;border-bottom:1px solid #dde;text-align:right;vertical-align:top}\n"
"th{background:#eef1f8;font-weight:600}td.s,th.s{text-align:left}td.stack{text-align:left;font:12px ui-monospace,monospace;white-space:pre}\n"
"svg{background:#fff;border:1px solid #dde;display:block;margin:4px 0 10px}svg text{font:11px sans-serif;fill:#445}\n"
"svg .bar{fill:#4c6ef5}svg .grid{stroke:#e4e6ee}svg .axis{stroke:#889}svg .p50{stroke:#2b8a3e}svg .p99{stroke:#e8590c}\n"
"nav a{margin-right:12px}code{font:12px ui-monospace,monospace}\n"
"svg{max-width:100%;height:auto}.wide{overflow-x:auto;max-width:100%}\n"
"p.verdict{font-size:15px;background:#fff4e6;border-left:4px solid #e8590c;padding:8px 12px;margin:10px 0}\n"
"p.ok{background:#ebfbee;border-left-color:#2b8a3e}p.idle{color:#667;margin:4px 0}\n"
"svg .outlier{fill:#1d2330;stroke:#fff;stroke-width:1}svg .rate{stroke:#4c6ef5}svg .pt.rate{fill:#4c6ef5}\n"
"svg polyline.p99,svg .pt.p99{stroke:#e8590c}svg .pt.p99{fill:#e8590c}svg polyline.p50{stroke:#2b8a3e}svg .pt.p50{fill:#2b8a3e}\n"
"svg .rate-l{fill:#3b5bdb}svg .p99-l{fill:#d9480f}svg .p50-l{fill:#2b8a3e}details{margin:6px 0 10px}summary{cursor:pointer;color:#445}\n";

void html_escape(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ? '?' : c, out);
		}
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}



/*
 * A JSON key as a reader's words: "runq_latency" -> "run-queue latency",
 * "netstat_delta.TCPBacklogDrop" -> "netstat delta › TCPBacklogDrop",
 * unit suffixes (_ns, _bytes, _per_s) left to the value's formatting.
 */
static const char *human(const char *key, bool capital, char *buf, size_t len)
{
	static const char *const words[][2] = {
		{ "runq", "run-queue" }, { "srtt", "smoothed RTT" }, { "rtt", "RTT" },
		{ "io", "IO" }, { "iops", "IOPS" }, { "pid", "PID" }, { "tid", "TID" },
		{ "cpu", "CPU" }, { "cpus", "CPUs" }, { "comm", "command" }, { "p999", "p99.9" },
		{ "rcvqueue", "receive-queue" }, { "synack", "SYN-ACK" }, { "bpf", "BPF" },
		{ "tcp", "TCP" }, { "rss", "RSS" }, { "dev", "device" }, { "vol", "voluntary" },
		{ "invol", "involuntary" }, { "id", "ID" }, { "snmp", "SNMP" },
	};
	static const char *const suffixes[] = { "_bytes_per_s", "_per_s", "_ns", "_bytes" };
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	while (*key && o + 1 < len) {
		size_t seg = strcspn(key, "."), wl;
		char part[96];
		const char *w;

		snprintf(part, sizeof(part), "%.*s", (int)(seg < sizeof(part) ? seg : sizeof(part) - 1), key);
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
			size_t pl = strlen(part), sl = strlen(suffixes[i]);

			if (pl > sl && !strcmp(part + pl - sl, suffixes[i])) {
				part[pl - sl] = 0;
				break;
			}
		}
		if (o)
			o += snprintf(buf + o, len - o, " \u203a ");
		for (w = part; *w && o + 1 < len; w += wl + (w[wl] == '_')) {
			const char *out_w = NULL;
			size_t k;

			wl = strcspn(w, "_");
			for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
				if (strlen(words[k][0]) == wl && !strncmp(w, words[k][0], wl))
					out_w = words[k][1];
			if (o >= len)
				break;
			o += snprintf(buf + o, len - o, "%s%.*s", w != part ? " " : "",
				      out_w ? (int)strlen(out_w) : (int)wl, out_w ?: w);
			if (!w[wl])
				break;
		}
		key += seg + (key[seg] == '.');
		if (o >= len)
			o = len - 1;
	}
	if (capital && buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] -= 'a' - 'A';
	return buf;
}

static void human_escaped(FILE *out, const char *key, bool capital)
{
	char b[256];

	html_escape(out, human(key, capital, b, sizeof(b)));
}

/* A number by the unit its key names. */
static const char *fmt_value(const char *key, const json_t *v, char *buf, size_t len)
{
	json_int_t i;

	if (json_is_real(v)) {
		double d = json_real_value(v);

		if (ends_with(key, "_bytes_per_s") && d >= 0) {
			fmt_bytes((uint64_t)d, buf, len);
			strncat(buf, "/s", len - strlen(buf) - 1);
		} else if (ends_with(key, "_ns") && d >= 0) {
			fmt_ns((uint64_t)d, buf, len);
		} else {
			snprintf(buf, len, fabs(d) >= 100 ? "%.0f%s" : "%.1f%s", d,
				 ends_with(key, "_per_s") || !strcmp(key, "iops") ? "/s" : "");
		}
		return buf;
	}
	i = json_integer_value(v);
	if (i >= 0 && (ends_with(key, "_ns") || !strcmp(key, "ns")))
		return fmt_ns((uint64_t)i, buf, len);
	if (i >= 0 && (ends_with(key, "_bytes") || !strcmp(key, "bytes")))
		return fmt_bytes((uint64_t)i, buf, len);
	snprintf(buf, len, "%" JSON_INTEGER_FORMAT, i);
	return buf;
}

static const char *fmt_unit(uint64_t v, const char *unit, char *buf, size_t len)
{
	return strcmp(unit, "ns") ? fmt_bytes(v, buf, len) : fmt_ns(v, buf, len);
}

/* ---- SVG chart ---- */

static double xlog(uint64_t v)
{
	return log2(v ? (double)v : 0.5);
}

/* Where a histogram chart draws: value axis log2 from x0 over span octaves. */
struct hplot {
	double x0, span, pw, ph;
};

static double xpos(const struct hplot *pl, double lv)
{
	return PLOT_L + (lv - pl->x0) / pl->span * pl->pw;
}

/*
 * Count axis, log: a bucket of 3 samples in the tail stays visible next to
 * one of 30000; grid lines at powers of ten up to the peak. Value axis:
 * powers of ten inside the range.
 */
static void hist_grid(FILE *out, const struct hplot *pl, uint64_t peak, const char *unit)
{
	char a[24];

	for (uint64_t g = 1; g <= peak; g *= 10) {
		double y = PLOT_T + pl->ph - pl->ph * log1p((double)g) / log1p((double)peak);

		fprintf(out, "<line class=\"grid\" x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			PLOT_L, PLOT_L + pl->pw, y, y);
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%" PRIu64 "</text>",
			PLOT_L - 4, y + 4, g);
		if (g > UINT64_MAX / 10)
			break;
	}
	for (double d = 0; d < 20; d++) {
		uint64_t v = (uint64_t)pow(10, d);
		double lv = log2((double)v), x;

		if (lv < pl->x0 || lv > pl->x0 + pl->span)
			continue;
		x = xpos(pl, lv);
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\"/>",
			x, x, PLOT_T, PLOT_T + pl->ph);
		/* a tick near an edge keeps its label inside the chart */
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>",
			x, PLOT_T + pl->ph + 14, x > SVG_W - 30 ? "end" : x < 30 ? "start" : "middle",
			fmt_unit(v, unit, a, sizeof(a)));
	}
}

/* One bar per non-empty bucket, its range and count as a tooltip. */
static void hist_bars(FILE *out, const struct hplot *pl, const struct hist *h, int first,
		      int last, uint64_t peak, const char *unit)
{
	char a[24], b[24];

	for (int i = first; i <= last; i++) {
		double bx0, bx1, bh;

		if (!h->slots[i])
			continue;
		bx0 = xpos(pl, xlog(hist_slot_lo(i)));
		bx1 = i == HIST_SLOTS - 1 ? xpos(pl, xlog(hist_slot_lo(i)) + 1) :
					    xpos(pl, xlog(hist_slot_hi(i)));
		bh = pl->ph * log1p((double)h->slots[i]) / log1p((double)peak);
		if (bh < 1)
			bh = 1;
		fprintf(out, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\">",
			bx0, PLOT_T + pl->ph - bh, bx1 - bx0 > 0.6 ? bx1 - bx0 - 0.3 : 0.3, bh);
		fprintf(out, "<title>%s .. %s: %" PRIu64 "</title></rect>",
			fmt_unit(hist_slot_lo(i), unit, a, sizeof(a)),
			i == HIST_SLOTS - 1 ? "more" : fmt_unit(hist_slot_hi(i), unit, b, sizeof(b)),
			(uint64_t)h->slots[i]);
	}
}

/* Dashed p50 and p99 lines with their values. */
static void hist_percentile_marks(FILE *out, const struct hplot *pl, const struct hist *h,
				  const char *unit)
{
	char a[24];

	for (int m = 0; m < 2; m++) {
		uint64_t v = hist_percentile(h, m ? 0.99 : 0.50);
		double x = xpos(pl, xlog(v));

		if (x < PLOT_L || x > PLOT_L + pl->pw)
			continue;
		fprintf(out, "<line class=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\"/>",
			m ? "p99" : "p50", x, x, PLOT_T, PLOT_T + pl->ph);
		/*
		 * p50 label inside the plot, p99 above it: close values must
		 * not overlap; near the right edge a label reads leftwards
		 */
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s %s</text>",
			x > SVG_W - 100 ? x - 3 : x + 3, m ? PLOT_T - 3 : PLOT_T + 10,
			x > SVG_W - 100 ? "end" : "start", m ? "p99" : "p50", fmt_unit(v, unit, a, sizeof(a)));
	}
}

int html_hist_svg(FILE *out, const json_t *hj, const char *unit)
{
	struct hplot pl = { .pw = SVG_W - PLOT_L - 10, .ph = SVG_H - PLOT_T - PLOT_B };
	struct hist h;
	int first = -1, last = -1;
	uint64_t peak = 0;
	double x1;

	if (hist_from_json(hj, unit, &h))
		return -EINVAL;
	for (int i = 0; i < HIST_SLOTS; i++) {
		if (!h.slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (h.slots[i] > peak)
			peak = h.slots[i];
	}
	fprintf(out, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">",
		SVG_W, SVG_H, SVG_W, SVG_H);
	if (first < 0) {
		fprintf(out, "<text x=\"%d\" y=\"%d\">no samples</text></svg>\n", SVG_W / 2 - 30, SVG_H / 2);
		return 0;
	}
	pl.x0 = floor(xlog(hist_slot_lo(first)));
	/* the open last slot is drawn one octave wide */
	x1 = ceil(last == HIST_SLOTS - 1 ? xlog(hist_slot_lo(last)) + 1 : xlog(hist_slot_hi(last)));
	if (x1 - pl.x0 < 3)
		x1 = pl.x0 + 3;
	pl.span = x1 - pl.x0;
	hist_grid(out, &pl, peak, unit);
	hist_bars(out, &pl, &h, first, last, peak, unit);
	hist_percentile_marks(out, &pl, &h, unit);
	fprintf(out, "<line class=\"axis\" x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
		PLOT_L, PLOT_L + pl.pw, PLOT_T + pl.ph, PLOT_T + pl.ph);
	fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s (log scale); bars: samples per bucket (log scale)</text>",
		PLOT_L + pl.pw / 2, SVG_H - 4, strcmp(unit, "ns") ? "size" : "latency");
	fputs("</svg>\n", out);
	return 0;
}

/* ---- tables ---- */

static void pct_header(FILE *out, const char *first)
{
	fputs("<tr><th class=\"s\">", out);
	html_escape(out, first);
	fputs("</th><th>count</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n", out);
}

static void pct_row(FILE *out, const char *label, const json_t *d)
{
	const char *unit = hist_json_unit(d) ?: "ns";
	static const char *const keys[] = { "p50", "p90", "p99", "p999", "max" };
	uint64_t count = json_u64(d, "count");
	char key[24], b[24];

	fputs("<tr><td class=\"s\">", out);
	html_escape(out, label);
	fprintf(out, "</td><td>%" PRIu64 "</td><td>", count);
	snprintf(key, sizeof(key), "sum_%s", unit);
	fputs(count ? fmt_unit(json_u64(d, key) / count, unit, b, sizeof(b)) : "-", out);
	fputs("</td>", out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(key, sizeof(key), "%s_%s", keys[i], unit);
		fprintf(out, "<td>%s</td>", fmt_unit(json_u64(d, key), unit, b, sizeof(b)));
	}
	fputs("</tr>\n", out);
}

static void distribution(FILE *out, const char *path, const json_t *d)
{
	const char *unit = hist_json_unit(d);

	char b[256];

	fputs("<h3>", out);
	human_escaped(out, path, true);
	fputs("</h3>\n<table>", out);
	pct_header(out, "");
	pct_row(out, human(path, false, b, sizeof(b)), d);
	fputs("</table>\n", out);
	if (unit)
		html_hist_svg(out, d, unit);
}


static void cell(FILE *out, const char *key, const json_t *v)
{
	char b[3][24];
	size_t i;
	json_t *x;

	if (json_is_string(v)) {
		fputs("<td class=\"s\">", out);
		html_escape(out, json_string_value(v));
	} else if (json_is_integer(v) || json_is_real(v)) {
		fputs("<td>", out);
		fputs(fmt_value(key, v, b[0], sizeof(b[0])), out);
	} else if (json_is_boolean(v)) {
		fprintf(out, "<td class=\"s\">%s", json_is_true(v) ? "yes" : "no");
	} else if (hist_json_is_distribution(v)) {
		const char *u = hist_json_unit(v) ?: "ns";
		char k[3][16];

		snprintf(k[0], sizeof(k[0]), "p50_%s", u);
		snprintf(k[1], sizeof(k[1]), "p99_%s", u);
		snprintf(k[2], sizeof(k[2]), "max_%s", u);
		fprintf(out, "<td>%" PRIu64 " &middot; %s / %s / %s", json_u64(v, "count"),
			fmt_unit(json_u64(v, k[0]), u, b[0], sizeof(b[0])),
			fmt_unit(json_u64(v, k[1]), u, b[1], sizeof(b[1])),
			fmt_unit(json_u64(v, k[2]), u, b[2], sizeof(b[2])));
	} else if (json_is_string_array(v)) {
		fputs("<td class=\"stack\">", out);
		json_array_foreach(v, i, x) {
			if (i == MAX_FRAMES) {
				fprintf(out, "\n(%zu more)", json_array_size(v) - i);
				break;
			}
			if (i)
				fputc('\n', out);
			html_escape(out, json_string_value(x));
		}
	} else {
		fputs("<td>", out);
	}
	fputs("</td>", out);
}

/* Columns: union of the rows' keys in first-seen order, nested arrays/objects left out. */
static size_t columns(json_t **rows, size_t n, const char **cols)
{
	size_t nc = 0;
	const char *k;
	json_t *v;

	for (size_t r = 0; r < n; r++) {
		json_object_foreach(rows[r], k, v) {
			size_t c;

			if ((json_is_object(v) && !hist_json_is_distribution(v)) ||
			    (json_is_array(v) && !json_is_string_array(v)))
				continue;
			for (c = 0; c < nc; c++)
				if (!strcmp(cols[c], k))
					break;
			if (c == nc && nc < MAX_COLUMNS)
				cols[nc++] = k;
		}
	}
	return nc;
}

static void row_table(FILE *out, const char *path, json_t *c, int top)
{
	json_t *rows[256], *v;
	const char *cols[MAX_COLUMNS], *keys[256], *k;
	size_t n = 0, total, nc, i;
	bool map = json_is_object(c);

	total = map ? json_object_size(c) : json_array_size(c);
	if (top > 256)
		top = 256;
	if (map) {
		json_object_foreach(c, k, v) {
			if (n == (size_t)top)
				break;
			if (json_is_object(v)) {
				keys[n] = k;
				rows[n++] = v;
			}
		}
	} else {
		json_array_foreach(c, i, v) {
			if (n == (size_t)top)
				break;
			if (json_is_object(v))
				rows[n++] = v;
		}
	}
	fputs("<h3>", out);
	human_escaped(out, path, true);
	fprintf(out, " <span class=\"muted\">(%zu%s)</span></h3>\n", total,
		total > n ? ", first rows shown" : "");
	if (!n) {
		fputs("<p class=\"muted\">none</p>\n", out);
		return;
	}
	nc = columns(rows, n, cols);
	fputs("<div class=\"wide\"><table><tr>", out);
	if (map)
		fputs("<th class=\"s\">key</th>", out);
	for (size_t j = 0; j < nc; j++) {
		json_t *first = NULL;

		for (size_t r = 0; r < n && !first; r++)
			first = json_object_get(rows[r], cols[j]);
		fprintf(out, "<th%s>", json_is_string(first) || json_is_string_array(first) ? " class=\"s\"" : "");
		human_escaped(out, cols[j], false);
		if (hist_json_is_distribution(first))
			fputs("<br><span class=\"muted\">n &middot; p50 / p99 / max</span>", out);
		fputs("</th>", out);
	}
	fputs("</tr>\n", out);
	for (size_t r = 0; r < n; r++) {
		fputs("<tr>", out);
		if (map) {
			fputs("<td class=\"s\">", out);
			html_escape(out, keys[r]);
			fputs("</td>", out);
		}
		for (size_t j = 0; j < nc; j++)
			cell(out, cols[j], json_object_get(rows[r], cols[j]));
		fputs("</tr>\n", out);
	}
	fputs("</table></div>\n", out);
}

static bool is_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool is_map(json_t *o)
{
	const char *k;
	json_t *x;

	if (!json_object_size(o))
		return false;
	json_object_foreach(o, k, x)
		if (!is_ident(k))
			return true;
	return false;
}

/* Pass 1: scalars into one table; pass 2: distributions; pass 3: row tables. */
static void scalars(FILE *out, json_t *o, const char *prefix, int depth, bool *opened)
{
	const char *k;
	json_t *v;
	char path[256], b[32];

	json_object_foreach(o, k, v) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (depth == 0 && (!strcmp(k, "drops") || !strcmp(k, "events")))
			continue;
		if (json_is_integer(v) || json_is_real(v) || json_is_string(v) || json_is_boolean(v)) {
			if (!*opened) {
				fputs("<table><tr><th class=\"s\">figure</th><th>value</th></tr>\n", out);
				*opened = true;
			}
			fputs("<tr><td class=\"s\">", out);
			human_escaped(out, path, true);
			fputs("</td>", out);
			if (json_is_string(v) || json_is_boolean(v))
				cell(out, k, v);
			else
				fprintf(out, "<td>%s</td>", fmt_value(k, v, b, sizeof(b)));
			fputs("</tr>\n", out);
		} else if (json_is_object(v) && !hist_json_is_distribution(v) && !is_map(v) && depth < MAX_DEPTH) {
			scalars(out, v, path, depth + 1, opened);
		}
	}
}

static void distributions(FILE *out, json_t *o, const char *prefix, int depth)
{
	const char *k;
	json_t *v;
	char path[256];

	json_object_foreach(o, k, v) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (hist_json_is_distribution(v))
			distribution(out, path, v);
		else if (json_is_object(v) && !is_map(v) && depth < MAX_DEPTH)
			distributions(out, v, path, depth + 1);
	}
}

static void tables(FILE *out, json_t *o, const char *prefix, int depth, int top)
{
	const char *k;
	json_t *v;
	char path[256];

	json_object_foreach(o, k, v) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (depth == 0 && (!strcmp(k, "hooks") || !strcmp(k, "programs")))
			continue;
		if (json_is_array(v) && !json_is_string_array(v) && json_array_size(v) &&
		    json_is_object(json_array_get(v, 0)))
			row_table(out, path, v, top);
		else if (json_is_array(v) && !json_array_size(v) && depth == 0)
			row_table(out, path, v, top);
		else if (json_is_object(v) && is_map(v))
			row_table(out, path, v, top);
		else if (json_is_object(v) && !hist_json_is_distribution(v) && depth < MAX_DEPTH)
			tables(out, v, path, depth + 1, top);
	}
}

static void hooks_table(FILE *out, const json_t *hooks)
{
	const json_t *x;
	size_t i, attached = 0;

	if (!json_array_size(hooks))
		return;
	json_array_foreach(hooks, i, x)
		attached += json_is_string(json_object_get(x, "method"));
	fprintf(out, "<details><summary>Hooks: %zu of %zu attached</summary>\n"
		"<table><tr><th class=\"s\">hook</th><th class=\"s\">method</th><th class=\"s\">note</th></tr>\n",
		attached, json_array_size(hooks));
	json_array_foreach(hooks, i, x) {
		fputs("<tr><td class=\"s\">", out);
		html_escape(out, json_string_value(json_object_get(x, "hook")) ?: "?");
		fputs("</td><td class=\"s\">", out);
		html_escape(out, hook_state_word(x));
		fputs("</td><td class=\"s\">", out);
		html_escape(out, json_string_value(json_object_get(x, "reason")) ?: "");
		fputs("</td></tr>\n", out);
	}
	fputs("</table></details>\n", out);
}

/* How the collector's main latency moved over the session: heat map, then rates and p99. */
static void over_time(FILE *out, const char *name, const json_t *c, const json_t *intervals,
		      const char *key, uint64_t duration_ns)
{
	const json_t *iv;
	size_t i, with = 0;

	if (!key || json_array_size(intervals) < 2)
		return;
	json_array_foreach(intervals, i, iv)
		with += json_u64(json_object_get(json_object_get(json_object_get(json_object_get(iv,
				"collectors"), name), "dists"), key), "count") > 0;
	if (!with)
		return;
	fputs("<h3>", out);
	human_escaped(out, key, true);
	fputs(" over time</h3>\n", out);
	html_heatmap_svg(out, intervals, name, key, json_object_get(c, "outliers"), duration_ns);
	html_timeline_svg(out, intervals, name, key, duration_ns);
}

static void collector_section(FILE *out, const char *name, json_t *c, const json_t *intervals,
			      const char *primary, uint64_t duration_ns, int top)
{
	json_t *progs = json_object_get(c, "programs"), *x;
	uint64_t drops = json_u64(c, "drops");
	bool opened = false;
	char b[3][24];
	size_t i;

	fputs("<h2 id=\"c-", out);
	html_escape(out, name);
	fputs("\">", out);
	html_escape(out, name);
	fputs("</h2>\n", out);
	if (report_collector_idle(c)) {
		fprintf(out, "<p class=\"idle\">Idle: no events and no samples in %s.</p>\n",
			fmt_ns(duration_ns, b[0], sizeof(b[0])));
		hooks_table(out, json_object_get(c, "hooks"));
		return;
	}
	fputs("<p>", out);
	fprintf(out, "%" PRIu64 " events streamed, ", json_u64(c, "events"));
	if (drops)
		fprintf(out, "<span class=\"warn\">%" PRIu64 " dropped (ring buffer full: event lists are incomplete; distributions and counters are not affected)</span>", drops);
	else
		fputs("none dropped", out);
	fputs("</p>\n", out);
	over_time(out, name, c, intervals, primary, duration_ns);
	if (json_array_size(json_object_get(c, "stacks"))) {
		fputs("<h3>Flame graph</h3>\n", out);
		flame_svg(out, c, NULL);
	}
	distributions(out, c, "", 0);
	fputs("<h3>Figures</h3>\n", out);
	scalars(out, c, "", 0, &opened);
	if (opened)
		fputs("</table>\n", out);
	tables(out, c, "", 0, top);
	hooks_table(out, json_object_get(c, "hooks"));
	if (json_array_size(progs)) {
		fputs("<h3>Cost of the BPF programs</h3>\n<table><tr><th class=\"s\">program</th><th>runs</th><th>run time</th><th>per run</th></tr>\n", out);
		json_array_foreach(progs, i, x) {
			fputs("<tr><td class=\"s\">", out);
			html_escape(out, json_string_value(json_object_get(x, "name")) ?: "?");
			fprintf(out, "</td><td>%" PRIu64 "</td><td>%s</td><td>%s</td></tr>\n",
				json_u64(x, "run_count"), fmt_ns(json_u64(x, "run_time_ns"), b[0], 24),
				fmt_ns(json_u64(x, "ns_per_run"), b[1], 24));
		}
		fputs("</table>\n", out);
	}
}

/*
 * The latency a collector is summed up by: its first latency distribution
 * with samples (tcp without connections: the smoothed RTT), else its first.
 */
static const char *main_key(const json_t *reduced, const char *col)
{
	const json_t *dists = json_object_get(json_object_get(json_object_get(reduced, "collectors"),
							      col), "dists"), *v;
	const char *k;

	json_object_foreach((json_t *)dists, k, v)
		if (!strcmp(hist_json_unit(v) ?: "", "ns") && json_u64(v, "count"))
			return k;
	return timeline_primary(dists);
}

/* The outlier with the highest latency over every collector, or NULL. */
static const json_t *worst_outlier(const json_t *cols, const char **col)
{
	const json_t *c, *o, *worst = NULL;
	const char *name;
	size_t i;

	json_object_foreach((json_t *)cols, name, c)
		json_array_foreach(json_object_get(c, "outliers"), i, o)
			if (json_object_get(o, "latency_ns") &&
			    (!worst || json_u64(o, "latency_ns") > json_u64(worst, "latency_ns"))) {
				worst = o;
				*col = name;
			}
	return worst;
}

/* The interval where a collector's main latency had its highest p99. */
static const json_t *worst_interval(const json_t *intervals, const char *col, const char *key)
{
	const json_t *iv, *w = NULL;
	size_t i;

	json_array_foreach(intervals, i, iv) {
		const json_t *d = json_object_get(json_object_get(json_object_get(json_object_get(iv,
					"collectors"), col), "dists"), key);

		if (json_u64(d, "count") && (!w || json_u64(d, "p99_ns") > json_u64(w, "p99_ns")))
			w = d;
	}
	return w;
}

/*
 * What stood out, in a sentence or two: the worst outlier and who caused
 * it, lost events, the interval where latency peaked.
 */
static void verdict(FILE *out, const json_t *cols, const json_t *reduced, const json_t *intervals)
{
	const char *col = NULL, *name;
	const json_t *o = worst_outlier(cols, &col), *c;
	uint64_t drops = 0, best_p99 = 0;
	const char *p99_col = NULL, *p99_key = NULL;
	bool any = false;
	char b[3][24], h[256];

	json_object_foreach((json_t *)cols, name, c) {
		const json_t *dists = json_object_get(json_object_get(json_object_get(reduced, "collectors"),
								      name), "dists");
		const char *key = main_key(reduced, name);

		drops += json_u64(c, "drops");
		if (key && json_u64(json_object_get(dists, key), "p99_ns") > best_p99) {
			best_p99 = json_u64(json_object_get(dists, key), "p99_ns");
			p99_col = name;
			p99_key = key;
		}
	}
	fputs("<p class=\"verdict\">", out);
	if (o) {
		fputs("Worst outlier: ", out);
		fprintf(out, "<b>%s</b> of ", fmt_ns(json_u64(o, "latency_ns"), b[0], sizeof(b[0])));
		html_escape(out, json_string_value(json_object_get(o, "comm")) ?: "?");
		fprintf(out, " (pid %" PRIu64 ", %s) %.1f s into the session", json_u64(o, "pid"), col,
			json_u64(o, "time_ns") / 1e9);
		if (json_is_string(json_object_get(o, "prev_comm"))) {
			fputs(", while ", out);
			html_escape(out, json_string_value(json_object_get(o, "prev_comm")));
			fprintf(out, " (pid %" PRIu64 ") held the CPU", json_u64(o, "prev_pid"));
		}
		fputs(". ", out);
		any = true;
	}
	if (p99_col) {
		const json_t *w = worst_interval(intervals, p99_col, p99_key);
		size_t i;
		const json_t *iv;

		fputs("Highest p99: ", out);
		html_escape(out, human(p99_key, false, h, sizeof(h)));
		fprintf(out, " (%s) <b>%s</b>", p99_col, fmt_ns(best_p99, b[0], sizeof(b[0])));
		json_array_foreach(intervals, i, iv) {
			const json_t *d = json_object_get(json_object_get(json_object_get(json_object_get(iv,
						"collectors"), p99_col), "dists"), p99_key);

			if (w && d == w && json_array_size(intervals) > 1)
				fprintf(out, "; worst from %.1f s to %.1f s (p99 %s)",
					json_u64(iv, "start_ns") / 1e9, json_u64(iv, "end_ns") / 1e9,
					fmt_ns(json_u64(d, "p99_ns"), b[2], sizeof(b[2])));
		}
		fputs(". ", out);
		any = true;
	}
	if (drops) {
		fprintf(out, "<span class=\"warn\">%" PRIu64 " events were lost</span> (ring buffers full). ", drops);
		any = true;
	}
	if (!any)
		fputs("Nothing stood out: no outliers and no latency samples.", out);
	fputs("</p>\n", out);
}

/* The few numbers that matter per collector, idle ones on one line. */
static void summary_section(FILE *out, const json_t *cols, const json_t *reduced,
			    const json_t *intervals, uint64_t duration_ns)
{
	const json_t *c;
	const char *name;
	bool idle_seen = false;
	char b[5][24];

	fputs("<h2 id=\"summary\">Summary</h2>\n", out);
	verdict(out, cols, reduced, intervals);
	fputs("<div class=\"wide\"><table><tr><th class=\"s\">collector</th><th class=\"s\">measured</th>"
	      "<th>samples</th><th>per second</th><th>p50</th><th>p99</th><th>max</th><th>outliers</th><th>lost events</th></tr>\n", out);
	json_object_foreach((json_t *)cols, name, c) {
		const json_t *dists = json_object_get(json_object_get(json_object_get(reduced, "collectors"),
								      name), "dists");
		const char *key = main_key(reduced, name);
		const json_t *d = json_object_get(dists, key ?: "");
		uint64_t n = json_u64(d, "count");

		if (report_collector_idle(c))
			continue;
		fputs("<tr><td class=\"s\"><a href=\"#c-", out);
		html_escape(out, name);
		fputs("\">", out);
		html_escape(out, name);
		fputs("</a></td><td class=\"s\">", out);
		human_escaped(out, key ?: "events", false);
		snprintf(b[0], sizeof(b[0]), "%.1f", duration_ns ? n * 1e9 / duration_ns : 0.0);
		fprintf(out, "</td><td>%" PRIu64 "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%zu</td>"
			"<td%s>%" PRIu64 "</td></tr>\n", n, b[0],
			n ? fmt_ns(json_u64(d, "p50_ns"), b[1], 24) : "-",
			n ? fmt_ns(json_u64(d, "p99_ns"), b[2], 24) : "-",
			n ? fmt_ns(json_u64(d, "max_ns"), b[3], 24) : "-",
			json_array_size(json_object_get(c, "outliers")),
			json_u64(c, "drops") ? " class=\"warn\"" : "", json_u64(c, "drops"));
	}
	fputs("</table></div>\n", out);
	json_object_foreach((json_t *)cols, name, c) {
		if (!report_collector_idle(c))
			continue;
		fputs(idle_seen ? ", " : "<p class=\"idle\">Idle (nothing measured): ", out);
		html_escape(out, name);
		idle_seen = true;
	}
	if (idle_seen)
		fputs("</p>\n", out);
}

static void kv(FILE *out, const char *k, const char *v)
{
	fputs("<tr><th class=\"s\">", out);
	html_escape(out, k);
	fputs("</th><td class=\"s\">", out);
	html_escape(out, v);
	fputs("</td></tr>\n", out);
}

static void session_section(FILE *out, json_t *s, json_t *cost)
{
	char b[256], t[64], f[1024];
	uint64_t start = json_u64(s, "start_realtime_ns");
	time_t secs = (time_t)(start / 1000000000ULL);
	struct tm tm;
	json_t *cmd = json_object_get(s, "command_line"), *x;
	size_t i, len = 0;

	fputs("<table>\n", out);
	kv(out, "host", json_string_value(json_object_get(s, "hostname")) ?: "?");
	kv(out, "kernel", json_string_value(json_object_get(s, "kernel")) ?: "?");
	snprintf(b, sizeof(b), "%" PRIu64, json_u64(s, "cpus"));
	kv(out, "CPUs", b);
	if (start && gmtime_r(&secs, &tm) && strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S UTC", &tm))
		kv(out, "started", t);
	kv(out, "duration", fmt_ns(json_u64(s, "duration_ns"), b, sizeof(b)));
	b[0] = 0;
	json_array_foreach(cmd, i, x) {
		if (json_is_string(x) && len < sizeof(b) - 1)
			len += snprintf(b + len, sizeof(b) - len, "%s%s", i ? " " : "", json_string_value(x));
		if (len >= sizeof(b))
			len = sizeof(b) - 1;
	}
	kv(out, "command", b);
	if (report_describe_filters(json_object_get(s, "filters"), f, sizeof(f)))
		kv(out, "filters", f);
	kv(out, "complete", json_is_true(json_object_get(s, "complete")) ? "yes" :
	   "no: the session was cut off (killed or crashed); figures are from its last snapshot");
	kv(out, "disco", json_string_value(json_object_get(s, "disco_version")) ?: "?");
	fputs("</table>\n<h3>what the measurement cost</h3>\n<table>\n", out);
	kv(out, "disco CPU time", fmt_ns(json_u64(cost, "recorder_cpu_ns"), b, sizeof(b)));
	kv(out, "disco peak memory", fmt_bytes(json_u64(cost, "recorder_peak_rss_bytes"), b, sizeof(b)));
	kv(out, "BPF program runs", (snprintf(t, sizeof(t), "%" PRIu64, json_u64(cost, "bpf_runs")), t));
	kv(out, "BPF run time", fmt_ns(json_u64(cost, "bpf_run_time_ns"), b, sizeof(b)));
	kv(out, "BPF time per event", json_is_true(json_object_get(cost, "bpf_stats_enabled")) ?
	   fmt_ns(json_u64(cost, "bpf_ns_per_event"), b, sizeof(b)) : "not measured (BPF statistics off)");
	kv(out, "session file", fmt_bytes(json_u64(cost, "file_bytes"), b, sizeof(b)));
	fputs("</table>\n", out);
}

int html_render(const json_t *report, FILE *out, const struct report_opts *ro)
{
	json_t *rep = (json_t *)report, *s = json_object_get(rep, "session");
	json_t *cols = json_object_get(rep, "collectors"), *c;
	int top = ro && ro->top > 0 ? ro->top : 10;
	json_t *reduced, *intervals;
	const char *name;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>disco report: ", out);
	html_escape(out, json_string_value(json_object_get(s, "hostname")) ?: "session");
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>disco report: ", css);
	html_escape(out, json_string_value(json_object_get(s, "hostname")) ?: "session");
	fputs("</h1>\n<nav><a href=\"#summary\">summary</a><a href=\"#session\">session</a>", out);
	json_object_foreach(cols, name, c) {
		fputs("<a href=\"#c-", out);
		html_escape(out, name);
		fputs("\">", out);
		html_escape(out, name);
		fputs("</a>", out);
	}
	fputs("</nav>\n", out);
	reduced = timeline_reduce(rep);
	intervals = json_object_get(rep, "intervals");
	summary_section(out, cols, reduced, intervals, json_u64(s, "duration_ns"));
	fputs("<h2 id=\"session\">Session</h2>\n", out);
	session_section(out, s, json_object_get(rep, "cost"));
	json_object_foreach(cols, name, c)
		if (json_is_object(c))
			collector_section(out, name, c, intervals, main_key(reduced, name),
					  json_u64(s, "duration_ns"), top);
	json_decref(reduced);
	fputs("<p class=\"muted\">Distributions: counts per log-linear bucket (16 per power of two); "
	      "percentiles are bucket midpoints, within 3.2% of the exact value; max is exact. "
	      "Keys as in docs/json-schema.md.</p>\n</body>\n</html>\n", out);
	return ferror(out) ? -EIO : 0;
}

int html_compare_render(const json_t *cmp, FILE *out, const char *before, const char *after)
{
	static const char *const pct[] = { "p50", "p90", "p99", "p999" };
	const json_t *c, *d;
	const char *name, *k;
	char b[2][24], key[32];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>disco compare</title>\n<style>\n", out);
	fprintf(out, "%s.slower,.larger{color:#b3261e;font-weight:600}.faster,.smaller{color:#2b8a3e;font-weight:600}\n"
		"</style>\n</head>\n<body>\n<h1>disco compare</h1>\n<p>Before: <code>", css);
	html_escape(out, before);
	fputs("</code>, after: <code>", out);
	html_escape(out, after);
	fputs("</code>. A change is <b>beyond the noise</b> (&#9679;) when the 95% ranges of the two "
	      "percentiles, from the bucket counts, do not overlap.</p>\n", out);
	json_object_foreach((json_t *)json_object_get(cmp, "collectors"), name, c) {
		fputs("<h2>", out);
		html_escape(out, name);
		fputs("</h2>\n", out);
		if (!json_object_size(c)) {
			fputs("<p class=\"idle\">No distribution in both sessions.</p>\n", out);
			continue;
		}
		fputs("<div class=\"wide\"><table><tr><th class=\"s\">distribution</th><th class=\"s\">verdict</th>"
		      "<th>samples</th>", out);
		for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
			fprintf(out, "<th>%s before</th><th>after</th><th>change</th>", i == 3 ? "p99.9" : pct[i]);
		fputs("</tr>\n", out);
		json_object_foreach((json_t *)c, k, d) {
			const char *unit = json_string_value(json_object_get(d, "unit")) ?: "ns";
			const char *verdict = json_string_value(json_object_get(d, "verdict")) ?: "";

			fputs("<tr><td class=\"s\">", out);
			human_escaped(out, k, true);
			fputs("</td><td class=\"s ", out);
			html_escape(out, verdict);
			fputs("\">", out);
			html_escape(out, verdict);
			fprintf(out, "</td><td>%" PRIu64 " &#8594; %" PRIu64 "</td>", json_u64(d, "before_count"),
				json_u64(d, "after_count"));
			for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
				const json_t *p = json_object_get(json_object_get(d, "percentiles"), pct[i]);

				if (!p) {
					fputs("<td>-</td><td>-</td><td>-</td>", out);
					continue;
				}
				snprintf(key, sizeof(key), "before_%s", unit);
				fmt_unit(json_u64(p, key), unit, b[0], sizeof(b[0]));
				snprintf(key, sizeof(key), "after_%s", unit);
				fmt_unit(json_u64(p, key), unit, b[1], sizeof(b[1]));
				fprintf(out, "<td>%s</td><td>%s</td><td>%+.1f%%%s</td>", b[0], b[1],
					100 * json_real_value(json_object_get(p, "change_ratio")),
					json_is_true(json_object_get(p, "beyond_noise")) ? " &#9679;" : "");
			}
			fputs("</tr>\n", out);
		}
		fputs("</table></div>\n", out);
	}
	fputs("</body>\n</html>\n", out);
	return ferror(out) ? -EIO : 0;
}
