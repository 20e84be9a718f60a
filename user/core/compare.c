// SPDX-License-Identifier: GPL-2.0
/* Two sessions' distributions side by side: change, and whether it exceeds the noise. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "collector.h"
#include "compare.h"
#include "timeline.h"
#include "untrusted.h"

static const struct {
	const char *name;
	double p;
} pcts[] = {
	{ "p50", 0.50 }, { "p90", 0.90 }, { "p99", 0.99 }, { "p999", 0.999 },
};
#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

/* The slot holding the sample of rank r (1-based). */
static int slot_of_rank(const struct hist *h, uint64_t r)
{
	uint64_t seen = 0;

	for (int i = 0; i < HIST_SLOTS; i++) {
		seen += h->slots[i];
		if (seen >= r)
			return i;
	}
	return HIST_SLOTS - 1;
}

int compare_quantile_range(const struct hist *h, double p, uint64_t *lo, uint64_t *hi)
{
	uint64_t n = 0, rlo, rhi;
	double r, sd;

	for (int i = 0; i < HIST_SLOTS; i++)
		n += h->slots[i];
	if (!n)
		return -ENODATA;
	r = n * p;
	sd = 1.96 * sqrt(n * p * (1 - p));
	rlo = r - sd < 1 ? 1 : (uint64_t)floor(r - sd);
	rhi = r + sd > n ? n : (uint64_t)ceil(r + sd);
	if (rhi < 1)
		rhi = 1;
	*lo = hist_slot_lo(slot_of_rank(h, rlo));
	*hi = hist_slot_hi(slot_of_rank(h, rhi));
	if (*hi == UINT64_MAX || (h->max && *hi > h->max))
		*hi = h->max;
	if (*lo > *hi)
		*lo = *hi;
	return 0;
}

static bool enough(uint64_t n, double p)
{
	return n * p >= 5 && n * (1 - p) >= 5;
}

static void set_unit(json_t *o, const char *key, const char *unit, json_t *v)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", key, unit);
	json_object_set_new(o, name, v);
}

static json_t *compare_dist(const json_t *a, const json_t *b, const char *unit)
{
	struct hist ha, hb;
	json_t *out, *ps = json_object();
	int up = 0, down = 0;
	const char *verdict;

	if (hist_from_json(a, unit, &ha) || hist_from_json(b, unit, &hb)) {
		json_decref(ps);
		return NULL;
	}
	out = json_pack("{s:s, s:I, s:I}", "unit", unit, "before_count", (json_int_t)ha.count,
			"after_count", (json_int_t)hb.count);
	for (size_t i = 0; i < NPCTS && ha.count && hb.count; i++) {
		uint64_t va = hist_percentile(&ha, pcts[i].p), vb = hist_percentile(&hb, pcts[i].p);
		uint64_t alo, ahi, blo, bhi;
		json_t *p = json_object();
		bool beyond;

		compare_quantile_range(&ha, pcts[i].p, &alo, &ahi);
		compare_quantile_range(&hb, pcts[i].p, &blo, &bhi);
		/*
		 * the two 95% ranges do not meet; the normal approximation of
		 * the rank needs a few samples on each side of the quantile
		 * (p99.9 of 60 samples is just the maximum: never significant)
		 */
		beyond = (ahi < blo || bhi < alo) && enough(ha.count, pcts[i].p) && enough(hb.count, pcts[i].p);
		set_unit(p, "before", unit, json_integer((json_int_t)va));
		set_unit(p, "after", unit, json_integer((json_int_t)vb));
		set_unit(p, "before_range", unit, json_pack("[II]", (json_int_t)alo, (json_int_t)ahi));
		set_unit(p, "after_range", unit, json_pack("[II]", (json_int_t)blo, (json_int_t)bhi));
		json_object_set_new(p, "change_ratio", json_real(va ? (double)vb / va - 1 : 0));
		json_object_set_new(p, "beyond_noise", json_boolean(beyond));
		json_object_set_new(ps, pcts[i].name, p);
		if (beyond)
			vb > va ? up++ : down++;
	}
	json_object_set_new(out, "percentiles", ps);
	if (!ha.count || !hb.count)
		verdict = "no samples";
	else if (up && down)
		verdict = "mixed";
	else if (up)
		verdict = strcmp(unit, "ns") ? "larger" : "slower";
	else if (down)
		verdict = strcmp(unit, "ns") ? "smaller" : "faster";
	else
		verdict = "within noise";
	json_object_set_new(out, "verdict", json_string(verdict));
	return out;
}

static json_t *side(const json_t *rep)
{
	const json_t *s = json_object_get(rep, "session");

	return json_pack("{s:s, s:s, s:I, s:I}",
			 "hostname", json_string_value(json_object_get(s, "hostname")) ?: "",
			 "kernel", json_string_value(json_object_get(s, "kernel")) ?: "",
			 "start_realtime_ns", (json_int_t)json_u64(s, "start_realtime_ns"),
			 "duration_ns", (json_int_t)json_u64(s, "duration_ns"));
}

json_t *compare_reports(const json_t *before, const json_t *after)
{
	json_t *ra = timeline_reduce(before), *rb = timeline_reduce(after), *out, *cols, *c;
	const char *name;

	out = json_pack("{s:s, s:o, s:o, s:{}}", "schema", "disco.compare/1", "before", side(before),
			"after", side(after), "collectors");
	cols = json_object_get(out, "collectors");
	json_object_foreach(json_object_get(ra, "collectors"), name, c) {
		const json_t *da = json_object_get(c, "dists"), *v;
		const json_t *db = json_object_get(json_object_get(json_object_get(rb, "collectors"), name),
						   "dists");
		json_t *cc;
		const char *k;

		if (!db)
			continue;
		cc = json_object();
		json_object_foreach((json_t *)da, k, v) {
			const char *unit = hist_json_unit(v);
			json_t *d;

			if (!unit || !json_object_get(db, k))
				continue;
			d = compare_dist(v, json_object_get(db, k), unit);
			if (d)
				json_object_set_new(cc, k, d);
		}
		json_object_set_new(cols, name, cc);
	}
	json_decref(ra);
	json_decref(rb);
	return out;
}

static const char *fmt_unit(uint64_t v, const char *unit, char *b, size_t len)
{
	return strcmp(unit, "ns") ? fmt_bytes(v, b, len) : fmt_ns(v, b, len);
}

static void render_compare(const json_t *cmp, FILE *out, const void *unused)
{
	const json_t *a = json_object_get(cmp, "before"), *b = json_object_get(cmp, "after"), *c, *d;
	const char *name, *k;
	char x[3][16];

	(void)unused;
	fprintf(out, "before: %s, kernel %s, %s\n", json_string_value(json_object_get(a, "hostname")),
		json_string_value(json_object_get(a, "kernel")), fmt_ns(json_u64(a, "duration_ns"), x[0], 16));
	fprintf(out, "after:  %s, kernel %s, %s\n", json_string_value(json_object_get(b, "hostname")),
		json_string_value(json_object_get(b, "kernel")), fmt_ns(json_u64(b, "duration_ns"), x[0], 16));
	fputs("A change is marked * when the 95% ranges of the two percentiles (from the\n"
	      "bucket counts) do not overlap: beyond the noise.\n", out);
	json_object_foreach((json_t *)json_object_get(cmp, "collectors"), name, c) {
		fprintf(out, "\n== %s ==\n", name);
		if (!json_object_size(c))
			fputs("  no distribution in both sessions\n", out);
		json_object_foreach((json_t *)c, k, d) {
			const char *unit = json_string_value(json_object_get(d, "unit")) ?: "ns";
			const json_t *p;
			size_t i;

			fprintf(out, "  %s: %s (%" PRIu64 " -> %" PRIu64 " samples)\n", k,
				json_string_value(json_object_get(d, "verdict")), json_u64(d, "before_count"),
				json_u64(d, "after_count"));
			for (i = 0; i < NPCTS; i++) {
				char key[32];

				p = json_object_get(json_object_get(d, "percentiles"), pcts[i].name);
				if (!p)
					continue;
				snprintf(key, sizeof(key), "before_%s", unit);
				fmt_unit(json_u64(p, key), unit, x[0], 16);
				snprintf(key, sizeof(key), "after_%s", unit);
				fmt_unit(json_u64(p, key), unit, x[1], 16);
				fprintf(out, "    %-5s %9s -> %9s  %+7.1f%%%s\n",
					strcmp(pcts[i].name, "p999") ? pcts[i].name : "p99.9", x[0], x[1],
					100 * json_real_value(json_object_get(p, "change_ratio")),
					json_is_true(json_object_get(p, "beyond_noise")) ? " *" : "");
			}
		}
	}
}

int compare_render_text(const json_t *cmp, FILE *out)
{
	return untrusted_text_render(out, render_compare, cmp, NULL);
}
