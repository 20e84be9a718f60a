// SPDX-License-Identifier: GPL-2.0
/* Per-interval figures from a session's cumulative snapshots. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collector.h"
#include "hist.h"
#include "timeline.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object's keys in byte order, as a malloc'ed array of borrowed strings. */
static const char **sorted_keys(const json_t *o, size_t *n)
{
	const char **k = calloc(json_object_size(o) ?: 1, sizeof(*k)), *key;
	json_t *v;

	*n = 0;
	if (!k)
		return NULL;
	json_object_foreach((json_t *)o, key, v)
		k[(*n)++] = key;
	qsort(k, *n, sizeof(*k), cmp_str);
	return k;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* A distribution summed over the rows of an array, under "rows.key". */
static void merge_rows(json_t *dists, const char *arr_key, const json_t *rows,
		       const json_t *top)
{
	const json_t *row;
	size_t i, nk;

	json_array_foreach(rows, i, row) {
		const char **keys = sorted_keys(row, &nk);

		for (size_t j = 0; keys && j < nk; j++) {
			const json_t *d = json_object_get(row, keys[j]);
			const char *unit = hist_json_unit(d);
			struct hist h, acc;
			char name[128];
			json_t *have;

			if (!hist_json_is_distribution(d) || !unit || json_object_get(top, keys[j]) ||
			    hist_from_json(d, unit, &h))
				continue;
			snprintf(name, sizeof(name), "%s.%s", arr_key, keys[j]);
			have = json_object_get(dists, name);
			if (have && !hist_from_json(have, unit, &acc))
				hist_merge(&h, &acc);
			json_object_set_new(dists, name, hist_to_json(&h, unit));
		}
		free(keys);
	}
}

static json_t *reduce_collector(const json_t *c)
{
	json_t *dists = json_object(), *counters = json_object();
	size_t n, i;
	const char **keys = sorted_keys(c, &n);

	for (i = 0; keys && i < n; i++) {
		const json_t *v = json_object_get(c, keys[i]);

		if (hist_json_is_distribution(v) && hist_json_unit(v))
			json_object_set_new(dists, keys[i], json_deep_copy(v));
		else if (json_is_integer(v) && !ends_with(keys[i], "_ns"))
			json_object_set_new(counters, keys[i], json_incref((json_t *)v));
		else if (json_is_object(v) && !hist_json_is_distribution(v)) {
			const char *k;
			json_t *x;

			json_object_foreach((json_t *)v, k, x) {
				char name[128];

				if (!json_is_integer(x) || ends_with(k, "_ns"))
					continue;
				snprintf(name, sizeof(name), "%s.%s", keys[i], k);
				json_object_set_new(counters, name, json_incref(x));
			}
		}
	}
	for (i = 0; keys && i < n; i++) {
		const json_t *v = json_object_get(c, keys[i]);

		if (json_is_array(v))
			merge_rows(dists, keys[i], v, c);
	}
	free(keys);
	return json_pack("{s:o, s:o}", "dists", dists, "counters", counters);
}

json_t *timeline_reduce(const json_t *snap)
{
	const json_t *cols = json_object_get(snap, "collectors"), *c;
	json_t *out;
	const char *name;

	if (!json_is_object(cols))
		return NULL;
	out = json_pack("{s:I, s:{}}", "t_ns",
			(json_int_t)json_u64(json_object_get(snap, "session"), "duration_ns"), "collectors");
	json_object_foreach((json_t *)cols, name, c)
		if (json_is_object(c))
			json_object_set_new(json_object_get(out, "collectors"), name, reduce_collector(c));
	return out;
}

/* cur - prev, slot by slot (hist_interval); NULL if cur is not a distribution */
static json_t *dist_delta(const json_t *prev, const json_t *cur)
{
	const char *unit = hist_json_unit(cur);
	struct hist d;

	if (!unit || hist_interval(cur, prev, unit, &d))
		return NULL;
	return hist_to_json(&d, unit);
}

json_t *timeline_delta(const json_t *prev, const json_t *cur)
{
	const json_t *pc = json_object_get(prev, "collectors"), *c;
	json_t *out, *cols;
	const char *name;

	out = json_pack("{s:I, s:I, s:{}}", "start_ns", (json_int_t)json_u64(prev, "t_ns"),
			"end_ns", (json_int_t)json_u64(cur, "t_ns"), "collectors");
	cols = json_object_get(out, "collectors");
	json_object_foreach(json_object_get(cur, "collectors"), name, c) {
		const json_t *p = json_object_get(pc, name), *v;
		json_t *dists = json_object(), *counters = json_object();
		const char *k;

		json_object_foreach(json_object_get(c, "dists"), k, v) {
			json_t *d = dist_delta(json_object_get(json_object_get(p, "dists"), k), v);

			if (d)
				json_object_set_new(dists, k, d);
		}
		json_object_foreach(json_object_get(c, "counters"), k, v) {
			json_int_t was = json_integer_value(json_object_get(json_object_get(p, "counters"), k));
			json_int_t now = json_integer_value(v);

			json_object_set_new(counters, k, json_integer(now > was ? now - was : 0));
		}
		json_object_set_new(cols, name, json_pack("{s:o, s:o}", "dists", dists,
							  "counters", counters));
	}
	return out;
}

int timeline_add(json_t *snaps, json_t *reduced)
{
	size_t n;

	if (!reduced)
		return 0;
	if (json_array_append_new(snaps, reduced))
		return -ENOMEM;
	n = json_array_size(snaps);
	if (n <= TIMELINE_MAX_SNAPSHOTS)
		return 0;
	/* cumulative: dropping one merges the two intervals around it */
	for (size_t i = 1; i + 1 < json_array_size(snaps); i++)
		json_array_remove(snaps, i);
	return 0;
}

json_t *timeline_intervals(const json_t *snaps)
{
	json_t *out = json_array();
	size_t n = json_array_size(snaps), skip = n;
	const json_t *prev = NULL;

	/* a summary right after a state: one interval, not a sliver */
	if (n >= 2) {
		uint64_t t1 = n >= 3 ? json_u64(json_array_get(snaps, n - 3), "t_ns") : 0;
		uint64_t t2 = json_u64(json_array_get(snaps, n - 2), "t_ns");
		uint64_t t3 = json_u64(json_array_get(snaps, n - 1), "t_ns");

		if (t3 - t2 < (t2 - t1) / 2)
			skip = n - 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (i == skip)
			continue;
		json_array_append_new(out, timeline_delta(prev, json_array_get(snaps, i)));
		prev = json_array_get(snaps, i);
	}
	return out;
}

const char *timeline_primary(const json_t *dists)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)dists, k, v)
		if (!strcmp(hist_json_unit(v) ?: "", "ns"))
			return k;
	return NULL;
}

void timeline_print_interval(FILE *out, const json_t *iv, uint64_t start_realtime_ns)
{
	uint64_t end = json_u64(iv, "end_ns"), dt = end - json_u64(iv, "start_ns");
	time_t secs = (time_t)((start_realtime_ns + end) / 1000000000ULL);
	const char *name;
	char stamp[16] = "??:??:??";
	bool first = true;
	struct tm tm;
	json_t *c;

	if (localtime_r(&secs, &tm))
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	json_object_foreach(json_object_get(iv, "collectors"), name, c) {
		const json_t *dists = json_object_get(c, "dists");
		const char *key = timeline_primary(dists);
		const json_t *d = json_object_get(dists, key ?: "");
		uint64_t n = json_u64(d, "count");
		char b[3][16];

		fprintf(out, "%-9s %-6s %-16s", first ? stamp : "", name, key ?: "-");
		first = false;
		if (!n) {
			fprintf(out, " %8d\n", 0);
			continue;
		}
		fprintf(out, " %8" PRIu64 " (%.0f/s)  p50 %s  p99 %s  max %s\n", n,
			dt ? n * 1e9 / (double)dt : 0.0, fmt_ns(json_u64(d, "p50_ns"), b[0], 16),
			fmt_ns(json_u64(d, "p99_ns"), b[1], 16), fmt_ns(json_u64(d, "max_ns"), b[2], 16));
	}
	if (first)
		fprintf(out, "%s  (no collectors)\n", stamp);
}
