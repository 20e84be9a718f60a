// SPDX-License-Identifier: GPL-2.0
/* disco bench results: statistics, JSON, baseline comparison; pure logic. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "hist.h"

static const char *const metric_names[BM_COUNT] = {
	[BM_OPS] = "ops_per_sec",
	[BM_P50] = "latency_p50_ns",
	[BM_P99] = "latency_p99_ns",
};

const char *bench_metric_name(enum bench_metric m)
{
	return m < BM_COUNT ? metric_names[m] : "?";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_stats_of(const double *v, size_t n, struct bench_stats *st)
{
	double *s;

	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	st->n = n;
	s = malloc(n * sizeof(*s));
	if (!s) {
		/* fall back to a linear pass: min/max exact, median approximated by mean */
		double sum = 0;

		st->min = st->max = v[0];
		for (size_t i = 0; i < n; i++) {
			sum += v[i];
			st->min = fmin(st->min, v[i]);
			st->max = fmax(st->max, v[i]);
		}
		st->median = sum / n;
		goto spread;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	st->min = s[0];
	st->max = s[n - 1];
	st->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
spread:
	st->spread = st->median > 0 ? (st->max - st->min) / st->median : 0;
}

static double sample_metric(const struct bench_sample *x, enum bench_metric m)
{
	switch (m) {
	case BM_OPS:
		return x->ops_per_sec;
	case BM_P50:
		return (double)x->p50_ns;
	case BM_P99:
		return (double)x->p99_ns;
	default:
		return 0;
	}
}

int bench_series_stats(const struct bench_series *s, enum bench_metric m,
		       bool untraced, struct bench_stats *st)
{
	const struct bench_samples *ss = untraced ? &s->untraced : &s->traced;
	double *v;
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	if (!ss->n)
		return -ENODATA;
	v = calloc(ss->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < ss->n; i++) {
		if (m != BM_OPS && !ss->v[i].has_latency)
			continue;
		v[n++] = sample_metric(&ss->v[i], m);
	}
	bench_stats_of(v, n, st);
	free(v);
	return n ? 0 : -ENODATA;
}

static void copy_name(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

struct bench_series *bench_result_add_series(struct bench_result *r,
					     const char *name, const char *workload,
					     const char *collector, const char *unit)
{
	struct bench_series *s;

	if (bench_result_find(r, name)) {
		errno = EEXIST;
		return NULL;
	}
	if (r->nseries >= BENCH_MAX_SERIES) {
		errno = E2BIG;
		return NULL;
	}
	s = &r->series[r->nseries++];
	memset(s, 0, sizeof(*s));
	copy_name(s->name, sizeof(s->name), name);
	copy_name(s->workload, sizeof(s->workload), workload);
	copy_name(s->collector, sizeof(s->collector), collector);
	copy_name(s->unit, sizeof(s->unit), unit);
	return s;
}

struct bench_series *bench_result_find(const struct bench_result *r, const char *name)
{
	for (size_t i = 0; i < r->nseries; i++)
		if (!strcmp(r->series[i].name, name))
			return (struct bench_series *)&r->series[i];
	return NULL;
}

int bench_samples_add(struct bench_samples *s, const struct bench_sample *x)
{
	if (s->n >= BENCH_MAX_REPEAT)
		return -E2BIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct bench_sample *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *x;
	return 0;
}

void bench_result_free(struct bench_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nseries; i++) {
		free(r->series[i].traced.v);
		free(r->series[i].untraced.v);
	}
	r->nseries = 0;
}

/* ---- JSON writing ---- */

static json_t *stats_json(const struct bench_stats *st)
{
	return json_pack("{s:f, s:f, s:f, s:f}", "median", st->median, "min", st->min,
			 "max", st->max, "spread", st->spread);
}

static json_t *samples_json(const struct bench_samples *ss)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < ss->n; i++) {
		const struct bench_sample *x = &ss->v[i];
		json_t *o = json_pack("{s:f, s:I, s:I}", "ops_per_sec", x->ops_per_sec,
				      "ops", (json_int_t)x->ops,
				      "elapsed_ns", (json_int_t)x->elapsed_ns);

		if (o && x->has_latency) {
			json_object_set_new(o, "latency_count", json_integer(x->lat_count));
			json_object_set_new(o, "latency_p50_ns", json_integer(x->p50_ns));
			json_object_set_new(o, "latency_p99_ns", json_integer(x->p99_ns));
		}
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* repeats + median/min/max/spread of ops/s, plus the latency metrics. */
static int fill_samples_json(json_t *o, const struct bench_series *s, bool untraced)
{
	struct bench_stats st;
	int err = 0;

	err |= json_object_set_new(o, "repeats",
				   samples_json(untraced ? &s->untraced : &s->traced));
	if (!bench_series_stats(s, BM_OPS, untraced, &st)) {
		err |= json_object_set_new(o, "median", json_real(st.median));
		err |= json_object_set_new(o, "min", json_real(st.min));
		err |= json_object_set_new(o, "max", json_real(st.max));
		err |= json_object_set_new(o, "spread", json_real(st.spread));
	}
	for (int m = BM_P50; m < BM_COUNT; m++)
		if (!bench_series_stats(s, m, untraced, &st))
			err |= json_object_set_new(o, metric_names[m], stats_json(&st));
	return err ? -ENOMEM : 0;
}

json_t *bench_result_to_json(const struct bench_result *r)
{
	json_t *root, *wls;
	int err = 0;

	root = json_pack("{s:s, s:{s:s, s:i, s:s}, s:s, s:s, s:I, s:i, s:b}",
			 "schema", BENCH_SCHEMA,
			 "machine", "hostname", r->hostname, "cpus", (int)r->cpus,
			 "model", r->model,
			 "kernel_release", r->kernel,
			 "disco_version", r->version,
			 "duration_ns", (json_int_t)r->duration_ns,
			 "repeat", (int)r->repeat,
			 "overhead", r->overhead);
	wls = json_object();
	if (!root || !wls)
		goto fail;
	for (size_t i = 0; i < r->nseries; i++) {
		const struct bench_series *s = &r->series[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "workload", s->workload,
				      "collector", s->collector, "unit", s->unit);

		if (!o)
			goto fail;
		err |= fill_samples_json(o, s, false);
		if (s->latency_note[0])
			err |= json_object_set_new(o, "latency_unavailable",
						   json_string(s->latency_note));
		if (r->overhead) {
			struct bench_stats a, b;
			json_t *u = json_object();

			err |= !u || fill_samples_json(u, s, true);
			err |= json_object_set_new(o, "untraced", u);
			if (!bench_series_stats(s, BM_OPS, false, &a) &&
			    !bench_series_stats(s, BM_OPS, true, &b) && b.median > 0)
				err |= json_object_set_new(o, "overhead_ratio",
							   json_real(a.median / b.median));
		}
		err |= json_object_set_new(wls, s->name, o);
		if (err)
			goto fail;
	}
	if (json_object_set_new(root, "workloads", wls)) {
		wls = NULL;
		goto fail;
	}
	return root;
fail:
	json_decref(wls);
	json_decref(root);
	errno = ENOMEM;
	return NULL;
}

/* ---- JSON reading (untrusted) ---- */

static int bad(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Names become table rows and JSON keys: [a-z0-9_], bounded. */
static bool valid_name(const char *s, bool empty_ok)
{
	size_t n = strlen(s);

	if (n >= BENCH_NAME_MAX || (!n && !empty_ok))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return false;
	return true;
}

/* Free text (hostname, model...) is copied with control bytes replaced. */
static int get_text(const json_t *o, const char *key, char *dst, size_t len,
		    bool required, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	const char *s;
	size_t i;

	dst[0] = 0;
	if (!v)
		return required ? bad(err, errlen, "missing \"%s\"", key) : 0;
	if (!json_is_string(v))
		return bad(err, errlen, "\"%s\" is not a string", key);
	s = json_string_value(v);
	for (i = 0; s[i] && i + 1 < len; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	dst[i] = 0;
	return 0;
}

static int get_number(const json_t *v, double max, double *out)
{
	double d;

	if (!json_is_number(v))
		return -EINVAL;
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d > max)
		return -EINVAL;
	*out = d;
	return 0;
}

/* Latency keys are optional; all three or none. */
static int parse_sample(const json_t *o, struct bench_sample *x)
{
	const json_t *c, *p50, *p99;
	double d;

	memset(x, 0, sizeof(*x));
	if (!json_is_object(o))
		return -EINVAL;
	if (get_number(json_object_get(o, "ops_per_sec"), 1e15, &x->ops_per_sec))
		return -EINVAL;
	if (json_object_get(o, "ops")) {
		if (get_number(json_object_get(o, "ops"), 1e18, &d))
			return -EINVAL;
		x->ops = (uint64_t)d;
	}
	if (json_object_get(o, "elapsed_ns")) {
		if (get_number(json_object_get(o, "elapsed_ns"), 1e18, &d))
			return -EINVAL;
		x->elapsed_ns = (uint64_t)d;
	}
	c = json_object_get(o, "latency_count");
	p50 = json_object_get(o, "latency_p50_ns");
	p99 = json_object_get(o, "latency_p99_ns");
	if (!c && !p50 && !p99)
		return 0;
	if (!c || !p50 || !p99)
		return -EINVAL;
	if (get_number(c, 1e18, &d))
		return -EINVAL;
	x->lat_count = (uint64_t)d;
	if (get_number(p50, 1e18, &d))
		return -EINVAL;
	x->p50_ns = (uint64_t)d;
	if (get_number(p99, 1e18, &d))
		return -EINVAL;
	x->p99_ns = (uint64_t)d;
	x->has_latency = true;
	return 0;
}

static int parse_samples(const json_t *a, struct bench_samples *ss, const char *name,
			 const char *what, char *err, size_t errlen)
{
	size_t i;
	json_t *e;

	if (!json_is_array(a))
		return bad(err, errlen, "workload \"%s\": \"%s\" is not an array", name, what);
	if (json_array_size(a) > BENCH_MAX_REPEAT)
		return bad(err, errlen, "workload \"%s\": more than %d %s", name,
			   BENCH_MAX_REPEAT, what);
	json_array_foreach(a, i, e) {
		struct bench_sample x;
		int ret;

		if (parse_sample(e, &x))
			return bad(err, errlen,
				   "workload \"%s\": %s[%zu] is malformed (needs a finite ops_per_sec >= 0; latency_count, latency_p50_ns, latency_p99_ns together or not at all)",
				   name, what, i);
		ret = bench_samples_add(ss, &x);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_series(struct bench_result *r, const char *name, const json_t *o,
			char *err, size_t errlen)
{
	char wl[BENCH_NAME_MAX], col[BENCH_NAME_MAX], unit[BENCH_NAME_MAX];
	const json_t *u;
	struct bench_series *s;
	int ret;

	if (!valid_name(name, false))
		return bad(err, errlen, "workload name is not [a-z0-9_]{1,%d}", BENCH_NAME_MAX - 1);
	if (!json_is_object(o))
		return bad(err, errlen, "workload \"%s\" is not an object", name);
	if (get_text(o, "workload", wl, sizeof(wl), true, err, errlen) ||
	    get_text(o, "collector", col, sizeof(col), false, err, errlen) ||
	    get_text(o, "unit", unit, sizeof(unit), false, err, errlen))
		return -EINVAL;
	if (!valid_name(wl, false) || !valid_name(col, true) || !valid_name(unit, true))
		return bad(err, errlen, "workload \"%s\": workload/collector/unit is not [a-z0-9_]",
			   name);
	s = bench_result_add_series(r, name, wl, col, unit);
	if (!s)
		return errno == E2BIG ?
			bad(err, errlen, "more than %d workloads", BENCH_MAX_SERIES) :
			bad(err, errlen, "workload \"%s\" appears twice", name);
	if (get_text(o, "latency_unavailable", s->latency_note, sizeof(s->latency_note),
		     false, err, errlen))
		return -EINVAL;
	ret = parse_samples(json_object_get(o, "repeats"), &s->traced, name, "repeats",
			    err, errlen);
	if (ret)
		return ret;
	if (!s->traced.n)
		return bad(err, errlen, "workload \"%s\" has no repeats", name);
	u = json_object_get(o, "untraced");
	if (u) {
		if (!json_is_object(u))
			return bad(err, errlen, "workload \"%s\": \"untraced\" is not an object",
				   name);
		ret = parse_samples(json_object_get(u, "repeats"), &s->untraced, name,
				    "untraced repeats", err, errlen);
	}
	return ret;
}

int bench_result_from_json(const json_t *j, struct bench_result *r,
			   char *err, size_t errlen)
{
	const json_t *m, *v, *wls, *o;
	const char *schema, *name;
	double d;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(j))
		return bad(err, errlen, "not a JSON object");
	schema = json_string_value(json_object_get(j, "schema"));
	if (!schema || strcmp(schema, BENCH_SCHEMA))
		return bad(err, errlen, "\"schema\" is not \"%s\"", BENCH_SCHEMA);
	m = json_object_get(j, "machine");
	if (!json_is_object(m))
		return bad(err, errlen, "missing \"machine\" object");
	ret = get_text(m, "hostname", r->hostname, sizeof(r->hostname), true, err, errlen);
	ret = ret ?: get_text(m, "model", r->model, sizeof(r->model), false, err, errlen);
	ret = ret ?: get_text(j, "kernel_release", r->kernel, sizeof(r->kernel), true,
			      err, errlen);
	ret = ret ?: get_text(j, "disco_version", r->version, sizeof(r->version), false,
			      err, errlen);
	if (ret)
		return ret;
	v = json_object_get(m, "cpus");
	if (v) {
		if (get_number(v, 1 << 20, &d))
			return bad(err, errlen, "\"machine.cpus\" is not a count");
		r->cpus = (unsigned int)d;
	}
	v = json_object_get(j, "duration_ns");
	if (v) {
		if (get_number(v, 1e18, &d))
			return bad(err, errlen, "\"duration_ns\" is not a duration");
		r->duration_ns = (uint64_t)d;
	}
	v = json_object_get(j, "repeat");
	if (v) {
		if (get_number(v, BENCH_MAX_REPEAT, &d))
			return bad(err, errlen, "\"repeat\" is not in 0..%d", BENCH_MAX_REPEAT);
		r->repeat = (unsigned int)d;
	}
	v = json_object_get(j, "overhead");
	if (v && !json_is_boolean(v))
		return bad(err, errlen, "\"overhead\" is not a boolean");
	r->overhead = json_is_true(v);
	wls = json_object_get(j, "workloads");
	if (!json_is_object(wls) || !json_object_size(wls))
		return bad(err, errlen, "missing or empty \"workloads\" object");
	json_object_foreach((json_t *)wls, name, o) {
		ret = parse_series(r, name, o, err, errlen);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	bench_result_free(r);
	return ret == -ENOMEM ? ret : -EINVAL;
}

/* ---- latency from a recorder snapshot ---- */

static int merge_hist(const json_t *j, struct hist *sum)
{
	struct hist h;

	if (!json_is_object(j) || hist_from_json(j, "ns", &h))
		return -EINVAL;
	hist_merge(sum, &h);
	return 0;
}

int bench_latency_from_report(const json_t *report, const struct bench_workload *w,
			      struct bench_sample *s, char *note, size_t notelen)
{
	const json_t *col;
	struct hist *sum;
	int ret = -ENODATA;

	s->has_latency = false;
	col = json_object_get(json_object_get(report, "collectors"), w->collector);
	if (!json_is_object(col)) {
		snprintf(note, notelen, "collector %s returned no data", w->collector);
		return -ENODATA;
	}
	sum = calloc(1, sizeof(*sum));
	if (!sum)
		return -ENOMEM;
	if (w->hist_array) {
		const json_t *a = json_object_get(col, w->hist_array), *e;
		size_t k;

		json_array_foreach(a, k, e)
			if (merge_hist(json_object_get(e, w->hist_key), sum))
				goto malformed;
		if (!json_is_array(a))
			goto missing;
	} else {
		const json_t *h = json_object_get(col, w->hist_key);

		if (!h)
			goto missing;
		if (merge_hist(h, sum))
			goto malformed;
	}
	if (!sum->count) {
		snprintf(note, notelen, "collector %s recorded no events", w->collector);
		goto out;
	}
	s->has_latency = true;
	s->lat_count = sum->count;
	s->p50_ns = hist_percentile(sum, 0.50);
	s->p99_ns = hist_percentile(sum, 0.99);
	ret = 0;
	goto out;
missing:
	snprintf(note, notelen, "collector %s reports no \"%s\" distribution", w->collector,
		 w->hist_key);
	goto out;
malformed:
	snprintf(note, notelen, "collector %s: \"%s\" is not a latency histogram",
		 w->collector, w->hist_key);
out:
	free(sum);
	return ret;
}

/* ---- comparison ---- */

static bool higher_is_better(enum bench_metric m)
{
	return m == BM_OPS;
}

static void cmp_one(struct bench_cmp *c, double pct)
{
	double worse_by;

	c->threshold = fmax(pct / 100.0, fmax(c->base.spread, c->now.spread));
	if (!c->have_base || !c->have_now)
		return;
	if (c->base.median <= 0) {
		c->note = c->now.median > 0 ? "baseline is zero" : NULL;
		return;
	}
	c->change = (c->now.median - c->base.median) / c->base.median;
	worse_by = higher_is_better(c->metric) ? -c->change : c->change;
	c->worse = worse_by > 0;
	c->regress = worse_by > c->threshold;
}

static struct bench_cmp *next_row(struct bench_cmp *rows, size_t maxrows, size_t *n,
				  const char *name, enum bench_metric m)
{
	struct bench_cmp *c;

	if (*n >= maxrows)
		return NULL;
	c = &rows[(*n)++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->metric = m;
	return c;
}

int bench_compare(const struct bench_result *base, const struct bench_result *now,
		  double max_regress_pct, struct bench_cmp *rows, size_t maxrows,
		  size_t *nrows)
{
	int regressions = 0;

	*nrows = 0;
	for (size_t i = 0; i < now->nseries; i++) {
		const struct bench_series *sn = &now->series[i];
		const struct bench_series *sb = bench_result_find(base, sn->name);

		for (int m = 0; m < BM_COUNT; m++) {
			struct bench_stats st_b = { 0 }, st_n = { 0 };
			bool hb = sb && !bench_series_stats(sb, m, false, &st_b);
			bool hn = !bench_series_stats(sn, m, false, &st_n);
			struct bench_cmp *c;

			/* latency rows only where someone measured latency */
			if (m != BM_OPS && !hb && !hn)
				continue;
			c = next_row(rows, maxrows, nrows, sn->name, m);
			if (!c)
				return regressions;
			c->have_base = hb;
			c->have_now = hn;
			c->base = st_b;
			c->now = st_n;
			if (!sb)
				c->note = "not in baseline";
			else if (!hb)
				c->note = "baseline has no latency";
			else if (!hn)
				c->note = "latency unavailable now";
			cmp_one(c, max_regress_pct);
			regressions += c->regress;
		}
	}
	for (size_t i = 0; i < base->nseries; i++) {
		const struct bench_series *sb = &base->series[i];
		struct bench_cmp *c;

		if (bench_result_find(now, sb->name))
			continue;
		c = next_row(rows, maxrows, nrows, sb->name, BM_OPS);
		if (!c)
			break;
		c->have_base = !bench_series_stats(sb, BM_OPS, false, &c->base);
		c->note = "not run now";
		c->threshold = fmax(max_regress_pct / 100.0, c->base.spread);
	}
	return regressions;
}

static const char *fmt_value(char *buf, size_t len, enum bench_metric m, bool have,
			     double v)
{
	if (!have)
		snprintf(buf, len, "-");
	else if (m == BM_OPS)
		snprintf(buf, len, "%.0f/s", v);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fms", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fus", v / 1e3);
	else
		snprintf(buf, len, "%.0fns", v);
	return buf;
}

static const char *metric_label(enum bench_metric m)
{
	static const char *const l[BM_COUNT] = {
		[BM_OPS] = "ops/s", [BM_P50] = "lat p50", [BM_P99] = "lat p99",
	};

	return m < BM_COUNT ? l[m] : "?";
}

void bench_compare_print(FILE *out, const struct bench_result *base,
			 const struct bench_result *now, double max_regress_pct,
			 const struct bench_cmp *rows, size_t nrows)
{
	char b1[32], b2[32], sp[32];

	fprintf(out, "baseline: %s, kernel %s, %u cpus, disco %s\n", base->hostname,
		base->kernel, base->cpus, base->version);
	fprintf(out, "now:      %s, kernel %s, %u cpus, disco %s\n", now->hostname,
		now->kernel, now->cpus, now->version);
	if (strcmp(base->kernel, now->kernel))
		fprintf(out, "note: kernels differ (%s -> %s)\n", base->kernel, now->kernel);
	if (strcmp(base->hostname, now->hostname) || strcmp(base->model, now->model) ||
	    base->cpus != now->cpus)
		fprintf(out, "note: machines differ (%s, %u x %s -> %s, %u x %s)\n",
			base->hostname, base->cpus, base->model, now->hostname, now->cpus,
			now->model);
	fprintf(out, "regression: worse by more than %.1f%% and more than the run-to-run spread of either side\n\n",
		max_regress_pct);
	fprintf(out, "%-16s %-8s %14s %14s %9s %15s  %s\n", "workload", "figure",
		"baseline", "now", "change", "spread b/n", "verdict");
	for (size_t i = 0; i < nrows; i++) {
		const struct bench_cmp *c = &rows[i];
		const char *verdict;
		char ch[32];

		if (c->have_base && c->have_now && c->base.median > 0)
			snprintf(ch, sizeof(ch), "%+.1f%%", c->change * 100);
		else
			snprintf(ch, sizeof(ch), "-");
		snprintf(sp, sizeof(sp), "%.1f%%/%.1f%%", c->base.spread * 100,
			 c->now.spread * 100);
		if (c->regress)
			verdict = "REGRESSION";
		else if (c->note)
			verdict = c->note;
		else if (c->worse)
			verdict = "worse, within noise";
		else
			verdict = "ok";
		fprintf(out, "%-16s %-8s %14s %14s %9s %15s  %s\n", c->name,
			metric_label(c->metric),
			fmt_value(b1, sizeof(b1), c->metric, c->have_base, c->base.median),
			fmt_value(b2, sizeof(b2), c->metric, c->have_now, c->now.median),
			ch, sp, verdict);
	}
}

void bench_result_print(FILE *out, const struct bench_result *r)
{
	char v[5][32];

	fprintf(out, "%s, kernel %s, %u cpus (%s), %u x %.1fs\n", r->hostname, r->kernel,
		r->cpus, r->model, r->repeat, r->duration_ns / 1e9);
	fprintf(out, "%-16s %14s %14s %14s %8s %10s %10s\n", "workload", "median",
		"min", "max", "spread", "lat p50", "lat p99");
	for (size_t i = 0; i < r->nseries; i++) {
		const struct bench_series *s = &r->series[i];
		struct bench_stats ops, p50, p99;
		bool h50, h99;

		if (bench_series_stats(s, BM_OPS, false, &ops))
			continue;
		h50 = !bench_series_stats(s, BM_P50, false, &p50);
		h99 = !bench_series_stats(s, BM_P99, false, &p99);
		fprintf(out, "%-16s %14s %14s %14s %7.1f%% %10s %10s\n", s->name,
			fmt_value(v[0], sizeof(v[0]), BM_OPS, true, ops.median),
			fmt_value(v[1], sizeof(v[1]), BM_OPS, true, ops.min),
			fmt_value(v[2], sizeof(v[2]), BM_OPS, true, ops.max),
			ops.spread * 100,
			fmt_value(v[3], sizeof(v[3]), BM_P50, h50, p50.median),
			fmt_value(v[4], sizeof(v[4]), BM_P99, h99, p99.median));
		if (s->latency_note[0])
			fprintf(out, "%-16s latency unavailable: %s\n", "", s->latency_note);
	}
}

void bench_overhead_print(FILE *out, const struct bench_result *r)
{
	char a[32], b[32];

	fprintf(out, "%-16s %-10s %14s %14s %8s %15s\n", "workload", "collector",
		"untraced", "traced", "ratio", "spread u/t");
	for (size_t i = 0; i < r->nseries; i++) {
		const struct bench_series *s = &r->series[i];
		struct bench_stats t, u;

		if (bench_series_stats(s, BM_OPS, false, &t) ||
		    bench_series_stats(s, BM_OPS, true, &u))
			continue;
		fprintf(out, "%-16s %-10s %14s %14s %8.3f %7.1f%%/%.1f%%\n", s->name,
			s->collector[0] ? s->collector : "-",
			fmt_value(a, sizeof(a), BM_OPS, true, u.median),
			fmt_value(b, sizeof(b), BM_OPS, true, t.median),
			u.median > 0 ? t.median / u.median : 0, u.spread * 100, t.spread * 100);
		if (s->latency_note[0])
			fprintf(out, "%-16s note: %s\n", "", s->latency_note);
	}
}
