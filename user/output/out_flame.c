// SPDX-License-Identifier: GPL-2.0
/* Folded stacks, flame graph SVG and session differences, over any collector with "stacks". */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "collector.h"
#include "out_flame.h"
#include "out_html.h"
#include "stacks.h"

#define FLAME_W 1200.0		/* px */
#define FLAME_ROW 16		/* px per frame */
#define FLAME_MIN_PX 0.3	/* narrower frames are left out */
#define FLAME_MAX_DEPTH 512

uint64_t flame_stack_value(const json_t *stack, const char **unit)
{
	const json_t *v = json_object_get(stack, "blocked_ns");

	if (json_is_integer(v)) {
		if (unit)
			*unit = "ns";
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	}
	v = json_object_get(stack, "bytes");	/* alloc: outstanding bytes */
	if (json_is_integer(v)) {
		if (unit)
			*unit = "bytes";
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	}
	if (unit)
		*unit = "samples";
	return json_u64(stack, "count");
}

static char *folded_of(const json_t *s)
{
	const json_t *frames = json_object_get(s, "frames");
	char *line, *cut, *semi;
	size_t len;

	if (!json_is_array(frames))
		return NULL;
	line = stack_folded(json_string_value(json_object_get(s, "comm")), frames);
	if (!line || !json_is_true(json_object_get(s, "truncated")))
		return line;
	/* the marker goes right under comm, where the missing callers would be */
	len = strlen(line);
	cut = malloc(len + sizeof(";" FLAME_TRUNCATED));
	if (cut) {
		semi = strchr(line, ';');
		if (!semi)
			semi = line + len;
		sprintf(cut, "%.*s;%s%s", (int)(semi - line), line, FLAME_TRUNCATED, semi);
	}
	free(line);
	return cut;
}

int folded_write(const json_t *col, FILE *out)
{
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(col, "stacks"), i, s) {
		char *line = folded_of(s);

		if (!line)
			continue;
		fprintf(out, "%s %" PRIu64 "\n", line, flame_stack_value(s, NULL));
		free(line);
	}
	return ferror(out) ? -EIO : 0;
}

const json_t *flame_pick(const json_t *report, const char *name, const char **picked,
			 const char **why)
{
	const json_t *cols = json_object_get(report, "collectors"), *c, *found = NULL;
	const char *k;

	if (name) {
		c = json_object_get(cols, name);
		if (!json_is_array(json_object_get(c, "stacks"))) {
			*why = "that collector has no stacks in this session";
			return NULL;
		}
		*picked = name;
		return c;
	}
	json_object_foreach((json_t *)cols, k, c) {
		if (!json_is_array(json_object_get(c, "stacks")))
			continue;
		if (found) {
			*why = "several collectors have stacks: choose one with -e (cpu, offcpu)";
			return NULL;
		}
		found = c;
		*picked = k;
	}
	if (!found)
		*why = "no collector with stacks in this session (record with -e cpu or -e offcpu)";
	return found;
}

/* ---- tree ------------------------------------------------------------------ */

struct fnode {
	char *name;
	uint64_t v;		/* this session */
	uint64_t before;	/* the other session (differential) */
	struct fnode **kids;
	size_t n, cap;
};

static void fnode_free(struct fnode *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		fnode_free(f->kids[i]);
	free(f->kids);
	free(f->name);
	free(f);
}

static struct fnode *child(struct fnode *f, const char *name, size_t len)
{
	struct fnode *c;

	for (size_t i = 0; i < f->n; i++)
		if (strlen(f->kids[i]->name) == len && !memcmp(f->kids[i]->name, name, len))
			return f->kids[i];
	if (f->n == f->cap) {
		struct fnode **nk = realloc(f->kids, (f->cap = f->cap ? f->cap * 2 : 4) * sizeof(*nk));

		if (!nk)
			return NULL;
		f->kids = nk;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strndup(name, len))) {
		free(c);
		return NULL;
	}
	f->kids[f->n++] = c;
	return c;
}

/* Add a folded line's value along its path; before selects the field. */
static void add_path(struct fnode *root, const char *folded, uint64_t v, bool before)
{
	struct fnode *f = root;
	const char *p = folded;
	int depth = 0;

	if (before)
		root->before += v;
	else
		root->v += v;
	while (f && *p && depth++ < FLAME_MAX_DEPTH) {
		const char *e = strchr(p, ';');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		f = child(f, p, len);
		if (!f)
			return;
		if (before)
			f->before += v;
		else
			f->v += v;
		p = e ? e + 1 : p + len;
	}
}

static void add_stacks(struct fnode *root, const json_t *col, bool before)
{
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(col, "stacks"), i, s) {
		char *line = folded_of(s);

		if (line)
			add_path(root, line, flame_stack_value(s, NULL), before);
		free(line);
	}
}

/* Depth of the frames wide enough to be drawn (at least min of the total). */
static int max_depth(const struct fnode *f, uint64_t min)
{
	int d = 0;

	for (size_t i = 0; i < f->n; i++) {
		int k;

		if (f->kids[i]->v < min)
			continue;
		k = max_depth(f->kids[i], min) + 1;

		if (k > d)
			d = k;
	}
	return d;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct fnode *const *)a)->name, (*(struct fnode *const *)b)->name);
}

/* ---- SVG ------------------------------------------------------------------- */

struct svg {
	FILE *out;
	uint64_t total, total_before;
	bool diff;
	const char *unit;
	double maxdelta;	/* largest |share change| (differential) */
	int height;
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static double delta(const struct svg *g, const struct fnode *f)
{
	double a = g->total ? (double)f->v / g->total : 0;
	double b = g->total_before ? (double)f->before / g->total_before : 0;

	return a - b;
}

static void find_maxdelta(struct svg *g, const struct fnode *f)
{
	double d = fabs(delta(g, f));

	if (d > g->maxdelta)
		g->maxdelta = d;
	for (size_t i = 0; i < f->n; i++)
		find_maxdelta(g, f->kids[i]);
}

static void fill(const struct svg *g, const struct fnode *f, char *buf, size_t len)
{
	uint32_t h = hash(f->name);

	if (g->diff) {
		double d = delta(g, f), t = g->maxdelta > 0 ? fabs(d) / g->maxdelta : 0;
		int c = (int)lround(255 * (1 - 0.8 * t));

		if (d > 0)
			snprintf(buf, len, "rgb(255,%d,%d)", c, c);
		else
			snprintf(buf, len, "rgb(%d,%d,255)", c, c);
		return;
	}
	/* the warm palette of flamegraph.pl, stable per name */
	snprintf(buf, len, "rgb(%u,%u,%u)", 205 + h % 50, (h >> 8) % 230, (h >> 16) % 55);
}

static void value_text(const struct svg *g, uint64_t v, char *buf, size_t len)
{
	char b[32];

	if (!strcmp(g->unit, "ns"))
		snprintf(buf, len, "%s blocked", fmt_ns(v, b, sizeof(b)));
	else
		snprintf(buf, len, "%" PRIu64 " samples", v);
}

static void node_svg(struct svg *g, struct fnode *f, uint64_t x, int depth)
{
	double px = FLAME_W * x / g->total, pw = FLAME_W * f->v / g->total;
	int y = g->height - (depth + 1) * FLAME_ROW;
	char color[32], val[64];
	uint64_t cx = x;

	if (pw < FLAME_MIN_PX)
		return;
	fill(g, f, color, sizeof(color));
	value_text(g, f->v, val, sizeof(val));
	fprintf(g->out, "<g data-x=\"%.6f\" data-w=\"%.6f\" data-d=\"%d\"><title>", (double)x / g->total,
		(double)f->v / g->total, depth);
	html_escape(g->out, f->name);
	fprintf(g->out, " (%s, %.2f%%", val, 100.0 * f->v / g->total);
	if (g->diff)
		fprintf(g->out, "; before %.2f%%, change %+.2f points",
			g->total_before ? 100.0 * f->before / g->total_before : 0.0, 100 * delta(g, f));
	fprintf(g->out, ")</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
		"<text x=\"%.1f\" y=\"%d\">", px, y, pw > 0.6 ? pw - 0.5 : pw, FLAME_ROW - 1, color,
		px + 3, y + FLAME_ROW - 4);
	if (pw > 24) {
		size_t fit = (size_t)((pw - 6) / 7), n = strlen(f->name);
		char *t = strndup(f->name, fit < n ? (fit > 2 ? fit - 2 : 0) : n);

		html_escape(g->out, t ? t : "");
		if (fit < n)
			fputs("..", g->out);
		free(t);
	}
	fputs("</text></g>\n", g->out);
	if (f->n)	/* a leaf has no array: qsort(NULL, 0) is undefined */
		qsort(f->kids, f->n, sizeof(*f->kids), by_name);
	for (size_t i = 0; i < f->n; i++) {
		node_svg(g, f->kids[i], cx, depth + 1);
		cx += f->kids[i]->v;
	}
}

/* Click a frame: it fills the width, its ancestors span it, the rest hides. */
static const char zoom_js[] =
"function dzoom(e){var g=e.target.closest('g');if(!g)return;var s=g.ownerSVGElement,"
"W=+s.dataset.w,x=+g.dataset.x,w=+g.dataset.w,d=+g.dataset.d;"
"s.querySelectorAll('g').forEach(function(n){var nx=+n.dataset.x,nw=+n.dataset.w,nd=+n.dataset.d,"
"r=n.querySelector('rect'),t=n.querySelector('text'),e=1e-9,"
"inside=nd>=d&&nx>=x-e&&nx+nw<=x+w+e,anc=nd<d&&nx<=x+e&&nx+nw>=x+w-e;"
"if(!inside&&!anc){n.style.display='none';return;}n.style.display='';"
"var X=anc?0:(nx-x)/w*W,Wd=anc?W:nw/w*W;r.setAttribute('x',X);r.setAttribute('width',Math.max(Wd-0.5,0.1));"
"t.setAttribute('x',X+3);var name=n.querySelector('title').textContent.replace(/ \\(.*$/,''),"
"fit=Math.floor((Wd-6)/7);t.textContent=Wd>24?(fit<name.length?name.slice(0,Math.max(fit-2,0))+'..':name):'';});}";

int flame_svg(FILE *out, const json_t *col, const json_t *before)
{
	struct fnode *root = calloc(1, sizeof(*root));
	struct svg g = { .out = out, .diff = before != NULL };
	const json_t *first = json_array_get(json_object_get(col, "stacks"), 0);

	if (!root || !(root->name = strdup("all"))) {
		free(root);
		return -ENOMEM;
	}
	flame_stack_value(first, &g.unit);
	add_stacks(root, col, false);
	if (before)
		add_stacks(root, before, true);
	g.total = root->v;
	g.total_before = root->before;
	if (!g.total) {
		fnode_free(root);
		return 0;
	}
	if (g.diff)
		find_maxdelta(&g, root);
	g.height = (max_depth(root, (uint64_t)ceil(g.total * FLAME_MIN_PX / FLAME_W)) + 1) * FLAME_ROW;
	/*
	 * Scales with the page (viewBox): texts are sized for FLAME_W. In an
	 * HTML page an inline <svg> is foreign content where '<' would open a
	 * tag even in a script: CDATA keeps the script text as it is.
	 */
	fprintf(out, "<svg class=\"flame\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\" "
		"viewBox=\"0 0 %.0f %d\" data-w=\"%.0f\" onclick=\"dzoom(event)\" "
		"style=\"font:11px monospace;cursor:pointer;max-width:%.0fpx\">\n<script><![CDATA[%s]]></script>\n",
		FLAME_W, g.height, FLAME_W, FLAME_W, zoom_js);
	node_svg(&g, root, 0, 0);
	fputs("</svg>\n", out);
	fnode_free(root);
	return ferror(out) ? -EIO : 0;
}

/* ---- differences ------------------------------------------------------------- */

/* folded line -> [before, after] */
static json_t *diff_map(const json_t *before, const json_t *after)
{
	const json_t *cols[2] = { before, after }, *s;
	json_t *m = json_object();
	size_t i;

	for (int w = 0; w < 2; w++) {
		json_array_foreach(json_object_get(cols[w], "stacks"), i, s) {
			char *line = folded_of(s);
			json_t *pair;

			if (!line)
				continue;
			pair = json_object_get(m, line);
			if (!pair) {
				pair = json_pack("[I, I]", (json_int_t)0, (json_int_t)0);
				json_object_set_new(m, line, pair);
			}
			json_array_set_new(pair, w, json_integer(json_integer_value(json_array_get(pair, w)) +
							       (json_int_t)flame_stack_value(s, NULL)));
			free(line);
		}
	}
	return m;
}

int folded_diff_write(const json_t *before, const json_t *after, FILE *out)
{
	json_t *m = diff_map(before, after), *pair;
	const char *k;

	json_object_foreach(m, k, pair)
		fprintf(out, "%s %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT "\n", k,
			json_integer_value(json_array_get(pair, 0)), json_integer_value(json_array_get(pair, 1)));
	json_decref(m);
	return ferror(out) ? -EIO : 0;
}

struct drow {
	const char *stack;
	double before, after;
};

static int by_change(const void *a, const void *b)
{
	const struct drow *x = a, *y = b;
	double dx = fabs(x->after - x->before), dy = fabs(y->after - y->before);

	return dx == dy ? strcmp(x->stack, y->stack) : dx < dy ? 1 : -1;
}

int flame_diff_text(const json_t *before, const json_t *after, FILE *out, int top)
{
	json_t *m = diff_map(before, after), *pair;
	uint64_t tb = 0, ta = 0;
	struct drow *rows;
	size_t n = 0;
	const char *k, *unit;

	flame_stack_value(json_array_get(json_object_get(after, "stacks"), 0), &unit);
	json_object_foreach(m, k, pair) {
		tb += json_integer_value(json_array_get(pair, 0));
		ta += json_integer_value(json_array_get(pair, 1));
	}
	rows = calloc(json_object_size(m) + 1, sizeof(*rows));
	if (!rows) {
		json_decref(m);
		return -ENOMEM;
	}
	json_object_foreach(m, k, pair) {
		rows[n].stack = k;
		rows[n].before = tb ? 100.0 * json_integer_value(json_array_get(pair, 0)) / tb : 0;
		rows[n].after = ta ? 100.0 * json_integer_value(json_array_get(pair, 1)) / ta : 0;
		n++;
	}
	qsort(rows, n, sizeof(*rows), by_change);
	fprintf(out, "Before: %" PRIu64 " %s, after: %" PRIu64 " %s\n", tb, unit, ta, unit);
	fprintf(out, "Stacks whose share changed most (share of each session's total):\n");
	fprintf(out, "  %8s %8s %9s  %s\n", "before", "after", "change", "stack (outermost first)");
	for (size_t i = 0; i < n && (int)i < top; i++)
		fprintf(out, "  %7.2f%% %7.2f%% %+8.2f  %s\n", rows[i].before, rows[i].after,
			rows[i].after - rows[i].before, rows[i].stack);
	free(rows);
	json_decref(m);
	return ferror(out) ? -EIO : 0;
}

int flame_diff_html(const json_t *before, const json_t *after, FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>disco diff: ", out);
	html_escape(out, title);
	fputs("</title>\n<style>body{font:14px sans-serif;margin:1em}pre{font-size:12px;overflow-x:auto}</style>\n"
	      "</head>\n<body>\n<h1>disco diff: ", out);
	html_escape(out, title);
	fputs("</h1>\n<p>Shaped like the second session; red frames took a larger share of it than of "
	      "the first, blue a smaller one (hover for the figures, click to zoom).</p>\n", out);
	flame_svg(out, after, before);
	fputs("<h2>stacks that changed most</h2>\n<pre>", out);
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		if (m) {
			flame_diff_text(before, after, m, 20);
			fclose(m);
			html_escape(out, buf ? buf : "");
			free(buf);
		}
	}
	fputs("</pre>\n</body>\n</html>\n", out);
	return ferror(out) ? -EIO : 0;
}
