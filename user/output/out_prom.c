// SPDX-License-Identifier: GPL-2.0
/* Prometheus text exposition of a report, generic over collectors (rules in out_prom.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "out_prom.h"
#include "collector.h"

#define NAME_LEN	192	/* longer generated names are not exported */
#define LABEL_VALUE_MAX	256	/* bytes of a label value (stacks get long) */
#define MAX_LABELS	16
#define MAX_DEPTH	6	/* nesting walked below a collector object */
#define MAX_FIXED	256	/* hooks/programs per collector (files are untrusted) */
#define LE_TIME_FIRST	10	/* 2^10 ns = 1.024 us */
#define LE_LAST		35	/* 2^35: the last power of two that is a slot edge */
#define MAX_MACHINE_ROWS 8192	/* CPUs x modes of the largest machines */

enum ptype { P_COUNTER, P_GAUGE, P_HISTOGRAM };
static const char *const ptype_names[] = { "counter", "gauge", "histogram" };

struct family {
	char name[NAME_LEN];
	enum ptype type;
	char *help;
	char *body;
	size_t bodylen;
	FILE *f;		/* samples, grouped here so each family is printed once */
	char **seen;		/* label sets already emitted */
	size_t nseen, capseen;
};

struct prom {
	struct family **fams;	/* each apart: open_memstream keeps &body */
	size_t n, cap;
	int max_series;
	bool per_pid;
	int err;
};

struct labels {
	char *s;		/* name="value",... (escaped), NULL when empty */
	char names[MAX_LABELS][64];
	int n;
};

void prom_escape_label(FILE *out, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		/* do not cut a UTF-8 sequence: back up to its lead byte */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '\\')
			fputs("\\\\", out);
		else if (c == '"')
			fputs("\\\"", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', out);	/* comm names come from untrusted files */
		else
			fputc(c, out);
	}
}

/* HELP text escaping: only backslash and newline are special there. */
static void escape_help(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/*
 * promtool lints "s", "ms", "b", ... as abbreviated units when they are a
 * whole word of a metric name; spell them out.
 */
static const char *spelled_unit(const char *word, size_t n)
{
	static const char *const abbr[][2] = {
		{ "s", "second" }, { "sec", "second" }, { "ms", "millisecond" },
		{ "us", "microsecond" }, { "ns", "nanosecond" }, { "b", "byte" },
		{ "kb", "kilobyte" }, { "mb", "megabyte" }, { "gb", "gigabyte" },
		{ "tb", "terabyte" }, { "pb", "petabyte" }, { "m", "minute" },
		{ "h", "hour" }, { "d", "day" },
	};

	for (size_t i = 0; i < sizeof(abbr) / sizeof(abbr[0]); i++)
		if (strlen(abbr[i][0]) == n && !strncmp(word, abbr[i][0], n))
			return abbr[i][1];
	return NULL;
}

/* Append "_" + key folded to snake_case; -ENAMETOOLONG if it does not fit. */
static int name_append(char *dst, size_t cap, const char *key)
{
	size_t len = strlen(dst), start;

	if (len + 1 >= cap)
		return -ENAMETOOLONG;
	dst[len++] = '_';
	start = len;
	for (size_t i = 0; key[i]; i++) {
		unsigned char c = key[i], prev = i ? key[i - 1] : 0, next = key[i + 1];

		if (len + 2 >= cap)
			return -ENAMETOOLONG;
		if (isupper(c)) {
			/* ListenOverflows -> listen_overflows, TCPBacklog -> tcp_backlog */
			if (i && (islower(prev) || isdigit(prev) || (isupper(prev) && islower(next))))
				dst[len++] = '_';
			dst[len++] = tolower(c);
		} else if (islower(c) || isdigit(c) || c == '_') {
			dst[len++] = c;
		} else {
			dst[len++] = '_';
		}
	}
	dst[len] = 0;
	/* word by word over what was appended */
	for (size_t w = start; w <= len;) {
		size_t e = w;
		const char *full;

		while (e < len && dst[e] != '_')
			e++;
		full = spelled_unit(dst + w, e - w);
		if (full) {
			size_t fl = strlen(full);

			if (len + fl - (e - w) + 1 > cap)
				return -ENAMETOOLONG;
			memmove(dst + w + fl, dst + e, len - e + 1);
			memcpy(dst + w, full, fl);
			len += fl - (e - w);
			e = w + fl;
		}
		w = e + 1;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool is_ident(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* ns as exact decimal seconds: 1024 -> "0.000001024" */
static void fmt_seconds(char *buf, size_t len, uint64_t ns)
{
	size_t n;

	snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / UINT64_C(1000000000), ns % UINT64_C(1000000000));
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '0')
		buf[--n] = 0;
	if (n > 1 && buf[n - 1] == '.')
		buf[--n] = 0;
}

/* ---- labels ---- */

static void labels_free(struct labels *l)
{
	free(l->s);
	l->s = NULL;
}

static int labels_copy(struct labels *dst, const struct labels *src)
{
	*dst = *src;
	dst->s = NULL;
	if (src->s && !(dst->s = strdup(src->s)))
		return -ENOMEM;
	return 0;
}

static void label_name(char *dst, size_t cap, const char *key)
{
	char tmp[48] = "";
	const char *n;

	if (name_append(tmp, sizeof(tmp), key))
		snprintf(tmp, sizeof(tmp), "_label");
	n = tmp + 1;	/* name_append starts with '_' */
	/* "x_" keeps names reserved by Prometheus (__*, le, quantile) free */
	if (!*n || !strcmp(n, "le") || !strcmp(n, "quantile") || starts_with(n, "__") ||
	    isdigit((unsigned char)*n))
		snprintf(dst, cap, "x_%s", n);
	else
		snprintf(dst, cap, "%s", n);
}

static int labels_add(struct prom *p, struct labels *l, const char *key, const char *value)
{
	char name[64], *buf = NULL;
	size_t len = 0;
	FILE *f;

	label_name(name, sizeof(name), key);
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return 0;	/* first one wins: label names must be unique */
	if (l->n == MAX_LABELS)
		return 0;
	f = open_memstream(&buf, &len);
	if (!f)
		goto out_nomem;
	fprintf(f, "%s%s%s=\"", l->s ?: "", l->s ? "," : "", name);
	prom_escape_label(f, value, LABEL_VALUE_MAX);
	fputc('"', f);
	if (fclose(f))
		goto out_nomem;
	free(l->s);
	l->s = buf;
	snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", name);
	return 0;

out_nomem:
	free(buf);
	p->err = -ENOMEM;
	return -ENOMEM;
}

/* ---- families ---- */

static bool hist_series_of(const char *hist, const char *name)
{
	size_t n = strlen(hist);

	return !strncmp(hist, name, n) && (!strcmp(name + n, "_bucket") ||
		!strcmp(name + n, "_sum") || !strcmp(name + n, "_count"));
}

static struct family *family(struct prom *p, const char *name, enum ptype t, const char *help)
{
	struct family *f;

	for (size_t i = 0; i < p->n; i++) {
		f = p->fams[i];
		if (!strcmp(f->name, name))
			return f->type == t ? f : NULL;
		/* two families must never produce the same sample name */
		if ((f->type == P_HISTOGRAM && t != P_HISTOGRAM && hist_series_of(f->name, name)) ||
		    (t == P_HISTOGRAM && f->type != P_HISTOGRAM && hist_series_of(name, f->name)))
			return NULL;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct family **nf = realloc(p->fams, cap * sizeof(*nf));

		if (!nf)
			goto out_nomem;
		p->fams = nf;
		p->cap = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		goto out_nomem;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = t;
	f->help = strdup(help);
	f->f = open_memstream(&f->body, &f->bodylen);
	if (!f->help || !f->f) {
		free(f->help);
		if (f->f)
			fclose(f->f);
		free(f->body);
		free(f);
		goto out_nomem;
	}
	p->fams[p->n++] = f;
	return f;

out_nomem:
	p->err = -ENOMEM;
	return NULL;
}

/* true if this label set was already emitted in f (then the sample is dropped) */
static bool family_seen(struct prom *p, struct family *f, const struct labels *l)
{
	const char *s = l->s ?: "";
	char *copy;

	for (size_t i = 0; i < f->nseen; i++)
		if (!strcmp(f->seen[i], s))
			return true;
	if (f->nseen == f->capseen) {
		size_t cap = f->capseen ? f->capseen * 2 : 8;
		char **ns = realloc(f->seen, cap * sizeof(*ns));

		if (!ns)
			goto out_nomem;
		f->seen = ns;
		f->capseen = cap;
	}
	copy = strdup(s);
	if (!copy)
		goto out_nomem;
	f->seen[f->nseen++] = copy;
	return false;

out_nomem:
	p->err = -ENOMEM;
	return true;
}

static void emit(struct prom *p, const char *name, enum ptype t, const char *help,
		 const struct labels *l, const char *value)
{
	struct family *f = family(p, name, t, help);

	if (!f || family_seen(p, f, l))
		return;
	if (l->s)
		fprintf(f->f, "%s{%s} %s\n", name, l->s, value);
	else
		fprintf(f->f, "%s %s\n", name, value);
}

static void emit_u64(struct prom *p, const char *name, enum ptype t, const char *help,
		     const struct labels *l, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	emit(p, name, t, help, l, buf);
}

static void emit_ns(struct prom *p, const char *name, enum ptype t, const char *help,
		    const struct labels *l, uint64_t ns)
{
	char buf[40];

	fmt_seconds(buf, sizeof(buf), ns);
	emit(p, name, t, help, l, buf);
}

/*
 * Cumulative counts at powers of two: slot [lo, hi) counts toward le=b
 * when hi <= b. Every power of two up to 2^LE_LAST is a slot edge, so the
 * figures are exact; the last slot is open-ended and only in +Inf.
 */
static void emit_hist(struct prom *p, const char *name, const char *help,
		      const struct labels *l, const struct hist *h, bool ns)
{
	struct family *f = family(p, name, P_HISTOGRAM, help);
	const char *ls = l->s ?: "", *sep = l->s ? "," : "";
	uint64_t cum = 0, total = 0;
	unsigned int slot = 0;
	char le[40];

	if (!f || family_seen(p, f, l))
		return;
	for (unsigned int i = 0; i < HIST_SLOTS; i++)
		total += h->slots[i];
	for (unsigned int k = ns ? LE_TIME_FIRST : 0; k <= LE_LAST; k++) {
		uint64_t b = 1ULL << k;

		while (slot < HIST_SLOTS && hist_slot_hi(slot) <= b)
			cum += h->slots[slot++];
		if (ns)
			fmt_seconds(le, sizeof(le), b);
		else
			snprintf(le, sizeof(le), "%" PRIu64, b);
		fprintf(f->f, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, ls, sep, le, cum);
	}
	fprintf(f->f, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, ls, sep, total);
	if (ns)
		fmt_seconds(le, sizeof(le), h->sum);
	else
		snprintf(le, sizeof(le), "%" PRIu64, (uint64_t)h->sum);
	if (l->s) {
		fprintf(f->f, "%s_sum{%s} %s\n", name, ls, le);
		fprintf(f->f, "%s_count{%s} %" PRIu64 "\n", name, ls, total);
	} else {
		fprintf(f->f, "%s_sum %s\n", name, le);
		fprintf(f->f, "%s_count %" PRIu64 "\n", name, total);
	}
}

/* ---- the generic walk over a collector object ---- */


/* "sum_ns" -> "ns"; NULL if the distribution names no unit */
static const char *dist_unit(json_t *v)
{
	const char *k;
	json_t *x;

	json_object_foreach(v, k, x)
		if (starts_with(k, "sum_") && is_ident(k + 4) && json_is_integer(x))
			return k + 4;
	return NULL;
}


/* Integers that say which entity a row is about, not how much happened. */
static bool identity_key(const char *k)
{
	static const char *const ids[] = {
		"pid", "tid", "cpu", "order", "sport", "dport", "port", "netns",
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!strcmp(k, ids[i]))
			return true;
	return ends_with(k, "_id") || ends_with(k, "_pid");
}

static bool is_label_member(const char *k, const json_t *v)
{
	return json_is_string(v) || json_is_string_array(v) || (json_is_integer(v) && identity_key(k));
}

/* Levels rather than running counts (see out_prom.h). */
static bool gauge_key(const char *k)
{
	static const char *const prefixes[] = {
		"min_", "max_", "oldest_", "outstanding_", "current_", "peak_",
	};
	static const char *const exact[] = {
		"elapsed_ns", "duration_ns", "processes", "sites_seen",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (starts_with(k, prefixes[i]))
			return true;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(k, exact[i]))
			return true;
	return ends_with(k, "_not_listed");
}

/* Per-second averages over the session: rate() over the counters does better. */
static bool derived_rate(const char *k)
{
	return !strcmp(k, "iops") || ends_with(k, "_per_sec") || ends_with(k, "_per_s") ||
	       ends_with(k, "_per_second");
}

/* Outside rows: event lists and settings, not measurements. */
static bool skipped_key(const char *k)
{
	static const char *const skip[] = {
		"targets", "outliers", "timeline", "stacks",
	};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(k, skip[i]))
			return true;
	return ends_with(k, "filters") || ends_with(k, "sampling");
}

static void walk(struct prom *p, json_t *obj, const char *name, const char *jpath,
		 const struct labels *l, int depth, bool entity);

/*
 * A collector lists in "prom_skip" the keys whose labels would multiply
 * series unless the user asked for them (app's HTTP routes).
 */
static bool prom_skipped(json_t *col, const char *k)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(col, "prom_skip"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), k))
			return true;
	return false;
}

/* Entity rank: count of the first distribution, -1 when there is none. */
static json_int_t rank_of(json_t *v)
{
	const char *k;
	json_t *x;

	if (json_is_integer(v))
		return json_integer_value(v);
	json_object_foreach(v, k, x)
		if (hist_json_is_distribution(x))
			return json_integer_value(json_object_get(x, "count"));
	return -1;
}

struct ranked {
	json_t *v;
	const char *key;	/* map key, NULL for array elements */
	json_int_t rank;
	size_t idx;
};

static int by_rank_desc(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;	/* stable: collector's order */
}

static void export_value(struct prom *p, json_t *v, const char *key, const char *base,
			 const char *jpath, const struct labels *l, int depth, bool entity, bool ns);

/* A row of an array or map: its strings and ids become labels. */
static void walk_entity(struct prom *p, json_t *v, const char *key, const char *mapkey,
			const char *name, const char *jpath, const struct labels *l, int depth)
{
	struct labels row;
	const char *k;
	json_t *x;

	if (labels_copy(&row, l)) {
		p->err = -ENOMEM;
		return;
	}
	if (mapkey)
		labels_add(p, &row, "key", mapkey);
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			char num[32], *joined = NULL;
			size_t jl = 0, i;
			json_t *e;
			FILE *f;

			if (json_is_string(x)) {
				labels_add(p, &row, k, json_string_value(x));
			} else if (json_is_integer(x) && identity_key(k)) {
				snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(x));
				labels_add(p, &row, k, num);
			} else if (json_is_string_array(x) && (f = open_memstream(&joined, &jl))) {
				json_array_foreach(x, i, e)
					fprintf(f, "%s%s", i ? ";" : "", json_string_value(e));
				if (!fclose(f))
					labels_add(p, &row, k, joined);
				free(joined);
			}
		}
		walk(p, v, name, jpath, &row, depth + 1, true);
	} else {
		export_value(p, v, key, name, jpath, &row, depth + 1, true, false);
	}
	labels_free(&row);
}

/* Members that name a process or thread: their series churn with the processes. */
static bool process_key(const char *k)
{
	return !strcmp(k, "pid") || !strcmp(k, "tid") || !strcmp(k, "comm") ||
	       ends_with(k, "_pid") || ends_with(k, "_tid") || ends_with(k, "_comm");
}

static bool names_process(json_t *row)
{
	const char *k;
	json_t *x;

	json_object_foreach(row, k, x)
		if (process_key(k))
			return true;
	return false;
}

/*
 * Labels whose values the machine bounds (CPUs, disks, interfaces, fixed
 * enumerations): rows labelled only by these are never folded.
 */
static bool bounded_label(const char *k)
{
	static const char *const keys[] = {
		"cpu", "mode", "device", "disk", "op", "state", "order", "hook", "kind", "direction",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static bool machine_row(json_t *row, const char *mapkey)
{
	const char *k;
	json_t *x;

	if (mapkey)
		return false;
	json_object_foreach(row, k, x)
		if (is_label_member(k, x) && !bounded_label(k))
			return false;
	return true;
}

/* The row's label members as one string (rows with equal ones fold together). */
static char *label_signature(json_t *row)
{
	json_t *sig = json_object();
	const char *k;
	json_t *x;
	char *s;

	json_object_foreach(row, k, x)
		if (is_label_member(k, x))
			json_object_set(sig, k, x);
	s = json_object_size(sig) ? json_dumps(sig, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(sig);
	return s;
}

/*
 * Add src's figures into dst: distributions bucket by bucket, levels named
 * max_/peak_ (min_) by their maximum (minimum), other numbers summed.
 */
static void fold_into(json_t *dst, json_t *src)
{
	const char *k, *unit;
	struct hist a, b;
	json_t *x, *d;

	json_object_foreach(src, k, x) {
		d = json_object_get(dst, k);
		if (!d || is_label_member(k, x))
			continue;
		if (hist_json_is_distribution(x) && (unit = hist_json_unit(x)) &&
		    !hist_from_json(d, unit, &a) && !hist_from_json(x, unit, &b)) {
			hist_merge(&a, &b);
			json_object_set_new(dst, k, hist_to_json(&a, unit));
		} else if (json_is_integer(x) && json_is_integer(d)) {
			json_int_t u = json_integer_value(d), v = json_integer_value(x);

			if (starts_with(k, "max_") || starts_with(k, "peak_"))
				u = u > v ? u : v;
			else if (starts_with(k, "min_"))
				u = u < v ? u : v;
			else
				u += v;
			json_integer_set(d, u);
		} else if (json_is_number(x) && json_is_number(d)) {
			json_object_set_new(dst, k, json_real(json_number_value(d) + json_number_value(x)));
		} else if (json_is_object(x) && json_is_object(d)) {
			fold_into(d, x);
		}
	}
}

/*
 * Without per-process labels, rows about processes become one row per set
 * of their other labels (the cgroup, say). False when no label is left:
 * the collector's own totals already say what such a row would.
 */
static bool aggregate_processes(struct prom *p, struct ranked *rows, size_t *m, json_t *keep)
{
	json_t *groups = json_object(), *g, *x;
	const char *k, *sig;
	size_t n = 0;
	void *tmp;
	char *s;

	for (size_t i = 0; i < *m; i++) {
		g = json_deep_copy(rows[i].v);
		json_object_foreach_safe(g, tmp, k, x)
			if (process_key(k))
				json_object_del(g, k);
		s = label_signature(g);
		if (!s) {
			json_decref(g);
			json_decref(groups);
			return false;
		}
		x = json_object_get(groups, s);
		if (x) {
			fold_into(x, g);
			json_decref(g);
		} else {
			json_object_set_new(groups, s, g);
		}
		free(s);
	}
	json_object_foreach(groups, sig, g) {
		rows[n] = (struct ranked){ g, NULL, rank_of(g), n };
		n++;
	}
	json_array_append_new(keep, groups);
	*m = n;
	(void)p;
	return true;
}

/* How many rows of a family were summed into "other" in this rendering. */
static void fold_count(struct prom *p, const char *rows_name, size_t n)
{
	struct labels l = { 0 };

	if (labels_add(p, &l, "rows", rows_name))
		return;
	emit_u64(p, "disco_exporter_rows_folded", P_GAUGE,
		 "Rows past --max-series that were summed into the series labelled other, per family of rows.",
		 &l, n);
	labels_free(&l);
}

/* The rows past the bound as one row whose every label says "other". */
static json_t *other_row(struct ranked *rows, size_t from, size_t m)
{
	json_t *o = json_deep_copy(rows[from].v), *x;
	const char *k;

	for (size_t i = from + 1; o && i < m; i++)
		fold_into(o, rows[i].v);
	json_object_foreach(o, k, x)
		if (is_label_member(k, x))
			json_object_set_new(o, k, json_string("other"));
	return o;
}

/*
 * Arrays of rows and maps (object keyed by non-identifiers). Rows about
 * processes are aggregated by their other labels unless per_pid; then at
 * most max_series rows, the highest ranked, the rest summed into "other"
 * (rows of CPUs, disks, interfaces are all kept).
 */
static void walk_rows(struct prom *p, json_t *c, const char *key, const char *name,
		      const char *jpath, const struct labels *l, int depth)
{
	size_t n = json_is_array(c) ? json_array_size(c) : json_object_size(c), m = 0, i, limit;
	json_t *keep = json_array(), *other;
	struct ranked *rows;
	char jp[512];
	const char *k;
	json_t *x;

	if (!n || !keep)
		goto out_keep;
	rows = calloc(n, sizeof(*rows));
	if (!rows) {
		p->err = -ENOMEM;
		goto out_keep;
	}
	if (json_is_array(c)) {
		json_array_foreach(c, i, x) {
			if (!json_is_object(x))
				continue;
			/* event records (outliers, closed connections) are not metrics */
			if (json_object_get(x, "time_ns"))
				goto out;
			rows[m++] = (struct ranked){ x, NULL, rank_of(x), i };
		}
		snprintf(jp, sizeof(jp), "%s[]", jpath);
	} else {
		i = 0;
		json_object_foreach(c, k, x)
			rows[m++] = (struct ranked){ x, k, rank_of(x), i++ };
		snprintf(jp, sizeof(jp), "%s.*", jpath);
	}
	if (m && !p->per_pid && names_process(rows[0].v) && !aggregate_processes(p, rows, &m, keep))
		goto out;
	qsort(rows, m, sizeof(*rows), by_rank_desc);
	limit = m && machine_row(rows[0].v, rows[0].key) ? MAX_MACHINE_ROWS : (size_t)p->max_series;
	for (i = 0; i < m && i < limit; i++)
		walk_entity(p, rows[i].v, key, rows[i].key, name, jp, l, depth);
	if (m > limit && (other = other_row(rows, limit, m))) {
		walk_entity(p, other, key, rows[0].key ? "other" : NULL, name, jp, l, depth);
		json_decref(other);
		fold_count(p, name, m - limit);
	}
out:
	free(rows);
out_keep:
	json_decref(keep);
}

static bool is_map(json_t *o)
{
	const char *k;
	json_t *x;

	json_object_foreach(o, k, x)
		if (!is_ident(k))
			return true;
	return false;
}

/*
 * One value under key (its name so far is base = parent + "_" + key, or
 * with ns set, + key without "_ns" + "_seconds"): distributions, numbers,
 * nested objects, arrays of rows.
 */
static void export_value(struct prom *p, json_t *v, const char *key, const char *base,
			 const char *jpath, const struct labels *l, int depth, bool entity, bool ns)
{
	char name[NAME_LEN], help[640];
	const char *unit;
	struct hist h;

	snprintf(name, sizeof(name), "%s", base);
	if (hist_json_is_distribution(v)) {
		unit = dist_unit(v);
		if (!unit || hist_from_json(v, unit, &h))
			return;
		ns = !strcmp(unit, "ns");
		if (!ends_with(name, ns ? "_seconds" : unit) &&
		    name_append(name, sizeof(name), ns ? "seconds" : unit))
			return;
		snprintf(help, sizeof(help), "Distribution %s (docs/json-schema.md), in %s.",
			 jpath, ns ? "seconds" : unit);
		emit_hist(p, name, prom_help(name) ?: help, l, &h, ns);
	} else if (json_is_integer(v) || json_is_real(v)) {
		bool gauge = json_is_real(v) || gauge_key(key);
		enum ptype t = gauge ? P_GAUGE : P_COUNTER;
		char val[48];

		if (!gauge && !ends_with(name, "_total") && name_append(name, sizeof(name), "total"))
			return;
		if (gauge && ends_with(name, "_total"))
			return;	/* would break the _total-means-counter convention */
		snprintf(help, sizeof(help), "%s", prom_help(name) ?: "");
		if (!help[0])
			snprintf(help, sizeof(help), "%s %s%s.", gauge ? "Gauge" : "Counter", jpath,
				 ns ? ", in seconds" : "");
		if (json_is_integer(v)) {
			json_int_t iv = json_integer_value(v);

			/* counters and durations are never negative: hostile input */
			if (iv < 0 && (!gauge || ns))
				return;
			if (ns) {
				emit_ns(p, name, t, help, l, (uint64_t)iv);
			} else {
				snprintf(val, sizeof(val), "%" JSON_INTEGER_FORMAT, iv);
				emit(p, name, t, help, l, val);
			}
		} else {
			double d = json_real_value(v) * (ns ? 1e-9 : 1);

			if (!isfinite(d))
				return;
			snprintf(val, sizeof(val), "%.17g", d);
			emit(p, name, P_GAUGE, help, l, val);
		}
	} else if (json_is_object(v) && depth < MAX_DEPTH) {
		if (is_map(v)) {
			if (!entity)	/* rows inside rows would multiply series */
				walk_rows(p, v, key, name, jpath, l, depth);
		} else {
			walk(p, v, name, jpath, l, depth + 1, entity);
		}
	} else if (json_is_array(v) && !entity && depth < MAX_DEPTH) {
		walk_rows(p, v, key, name, jpath, l, depth);
	}
}

static void walk(struct prom *p, json_t *obj, const char *name, const char *jpath,
		 const struct labels *l, int depth, bool entity)
{
	char child[NAME_LEN], jp[512], key[NAME_LEN];
	const char *k, *w;
	json_t *v;
	bool ns, bare;

	json_object_foreach(obj, k, v) {
		if (depth == 0 && (!strcmp(k, "hooks") || !strcmp(k, "drops") ||
				   !strcmp(k, "events") || !strcmp(k, "programs")))
			continue;	/* exported as the fixed disco_* families */
		if (depth == 0 && prom_skipped(obj, k))
			continue;
		/* the session's length is disco_session_duration_seconds, once */
		if (derived_rate(k) || !strcmp(k, "elapsed_ns") || (!entity && skipped_key(k)) ||
		    (entity && is_label_member(k, v)))
			continue;
		/* w: the words of k in the name; total_x counted ends in _total already */
		w = json_is_integer(v) && !gauge_key(k) && starts_with(k, "total_") && k[6] ? k + 6 : k;
		/* a row's bare "ns" or "value" is the row's own figure: no key in the name */
		bare = entity && (!strcmp(w, "ns") || !strcmp(w, "value"));
		/* x_ns (a number) -> x_seconds, the value converted */
		ns = (json_is_integer(v) || json_is_real(v)) &&
		     (bare ? !strcmp(w, "ns") : ends_with(w, "_ns") && strlen(w) > 3);
		snprintf(child, sizeof(child), "%s", name);
		snprintf(key, sizeof(key), "%.*s", (int)(strlen(w) - (ns ? 3 : 0)), w);
		if ((!bare && name_append(child, sizeof(child), key)) ||
		    (ns && name_append(child, sizeof(child), "seconds")))
			continue;
		snprintf(jp, sizeof(jp), "%s.%s", jpath, k);
		export_value(p, v, k, child, jp, l, depth, entity, ns);
	}
}

/* ---- fixed families ---- */

static void collector_fixed(struct prom *p, const char *cname, json_t *c)
{
	struct labels l = { 0 }, pl;
	json_t *x, *arr;
	size_t i;

	if (labels_add(p, &l, "collector", cname))
		return;
	x = json_object_get(c, "drops");
	/* always present: no drops is worth saying too */
	emit_u64(p, "disco_drops_total", P_COUNTER,
		 "Events lost because the collector's ring buffer was full.", &l,
		 json_is_integer(x) && json_integer_value(x) > 0 ? (uint64_t)json_integer_value(x) : 0);
	x = json_object_get(c, "events");
	if (json_is_integer(x) && json_integer_value(x) >= 0)
		emit_u64(p, "disco_events_total", P_COUNTER,
			 "Ring-buffer events consumed from the collector.", &l,
			 (uint64_t)json_integer_value(x));
	arr = json_object_get(c, "hooks");
	json_array_foreach(arr, i, x) {
		const char *hook = json_string_value(json_object_get(x, "hook"));
		const char *method = json_string_value(json_object_get(x, "method"));

		if (i >= MAX_FIXED || !hook || labels_copy(&pl, &l))
			break;
		labels_add(p, &pl, "hook", hook);
		labels_add(p, &pl, "method", method ?: "none");
		emit(p, "disco_hook_info", P_GAUGE,
		     "Attach method chosen per hook (none: the hook could not be attached).", &pl, "1");
		labels_free(&pl);
	}
	arr = json_object_get(c, "programs");
	json_array_foreach(arr, i, x) {
		const char *prog = json_string_value(json_object_get(x, "name"));
		/* measured, not scaled: a scaled estimate can go down, a counter must not */
		json_t *rc = json_object_get(x, "measured_runs"), *rt = json_object_get(x, "measured_run_time_ns");

		if (i >= MAX_FIXED || !prog || labels_copy(&pl, &l))
			break;
		labels_add(p, &pl, "program", prog);
		if (json_is_integer(rc) && json_integer_value(rc) >= 0)
			emit_u64(p, "disco_bpf_program_runs_total", P_COUNTER,
				 "Runs of each BPF program while BPF statistics were on.", &pl,
				 (uint64_t)json_integer_value(rc));
		if (json_is_integer(rt) && json_integer_value(rt) >= 0)
			emit_ns(p, "disco_bpf_program_run_seconds_total", P_COUNTER,
				"Time spent in each BPF program while BPF statistics were on.", &pl,
				(uint64_t)json_integer_value(rt));
		labels_free(&pl);
	}
	labels_free(&l);
}

static uint64_t u64_of(json_t *o, const char *key, bool *ok)
{
	json_t *x = json_object_get(o, key);

	*ok = json_is_integer(x) && json_integer_value(x) >= 0;
	return *ok ? (uint64_t)json_integer_value(x) : 0;
}

static void session_fixed(struct prom *p, json_t *rep)
{
	json_t *s = json_object_get(rep, "session"), *cost = json_object_get(rep, "cost");
	struct labels l = { 0 }, none = { 0 };
	const char *kernel = json_string_value(json_object_get(s, "kernel"));
	uint64_t v;
	bool ok;

	labels_add(p, &l, "version", DISCO_VERSION);
	labels_add(p, &l, "kernel", kernel ?: "unknown");
	emit(p, "disco_build_info", P_GAUGE, "disco version and the kernel it measures; always 1.", &l, "1");
	labels_free(&l);
	v = u64_of(s, "start_realtime_ns", &ok);
	if (ok)
		emit_ns(p, "disco_session_start_time_seconds", P_GAUGE,
			"When the collectors were attached, seconds since the epoch.", &none, v);
	v = u64_of(s, "duration_ns", &ok);
	if (ok)
		emit_ns(p, "disco_session_duration_seconds", P_GAUGE,
			"How long the collectors have been attached.", &none, v);
	v = u64_of(cost, "recorder_cpu_ns", &ok);
	if (ok)
		emit_ns(p, "disco_recorder_cpu_seconds_total", P_COUNTER,
			"CPU time used by disco itself (user + system).", &none, v);
	v = u64_of(cost, "recorder_peak_rss_bytes", &ok);
	if (ok)
		emit_u64(p, "disco_recorder_peak_rss_bytes", P_GAUGE,
			 "Peak resident memory of disco itself.", &none, v);
	v = u64_of(cost, "bpf_measured_runs", &ok);
	if (ok)
		emit_u64(p, "disco_bpf_runs_total", P_COUNTER,
			 "Runs of all BPF programs of the session while BPF statistics were on.", &none, v);
	v = u64_of(cost, "bpf_measured_run_time_ns", &ok);
	if (ok)
		emit_ns(p, "disco_bpf_run_seconds_total", P_COUNTER,
			"Time spent in all BPF programs of the session while BPF statistics were on.", &none, v);
	v = u64_of(cost, "bpf_stats_measured_ns", &ok);
	if (ok)
		emit_ns(p, "disco_bpf_stats_measured_seconds_total", P_COUNTER,
			"How long BPF statistics were on (sampled: 1 s in every 30 s).", &none, v);
	if (json_is_boolean(json_object_get(cost, "bpf_stats_enabled")))
		emit(p, "disco_bpf_stats_enabled", P_GAUGE,
		     "1 if BPF run-time statistics are on (program cost is measured).", &none,
		     json_is_true(json_object_get(cost, "bpf_stats_enabled")) ? "1" : "0");
}

int prom_render(const json_t *report, FILE *out, const struct prom_opts *po)
{
	struct prom p = { .max_series = po && po->max_series > 0 ? po->max_series : PROM_DEFAULT_MAX_SERIES,
			  .per_pid = po && po->per_pid };
	json_t *rep = (json_t *)report, *cols = json_object_get(rep, "collectors"), *c;
	struct labels none = { 0 };
	char name[NAME_LEN], jp[256];
	const char *cname;
	int err = 0;

	session_fixed(&p, rep);
	json_object_foreach(cols, cname, c) {
		if (!json_is_object(c))
			continue;
		collector_fixed(&p, cname, c);
	}
	json_object_foreach(cols, cname, c) {
		if (!json_is_object(c))
			continue;
		snprintf(name, sizeof(name), "disco");
		if (name_append(name, sizeof(name), cname))
			continue;
		snprintf(jp, sizeof(jp), "collectors.%s", cname);
		walk(&p, c, name, jp, &none, 0, false);
	}
	for (size_t i = 0; i < p.n; i++) {
		struct family *f = p.fams[i];

		if (fclose(f->f))
			p.err = -ENOMEM;
		f->f = NULL;
		if (!p.err && f->bodylen) {
			fprintf(out, "# HELP %s ", f->name);
			escape_help(out, f->help);
			fprintf(out, "\n# TYPE %s %s\n", f->name, ptype_names[f->type]);
			fwrite(f->body, 1, f->bodylen, out);
		}
		free(f->body);
		free(f->help);
		for (size_t j = 0; j < f->nseen; j++)
			free(f->seen[j]);
		free(f->seen);
		free(f);
	}
	free(p.fams);
	err = p.err;
	if (!err && ferror(out))
		err = -EIO;
	return err;
}
