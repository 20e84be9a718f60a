// SPDX-License-Identifier: GPL-2.0
/* Text rendering helpers shared by every collector's render_text(). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "collector.h"
#include "hist.h"

const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.1fs", ns / 1e9);
	return buf;
}

/* Binary units from 1 KiB up, three significant digits: 2.9MiB, not 2988.0KiB. */
const char *fmt_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", b);
		return buf;
	}
	while (v >= 1023.95 && u < 5) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, v < 9.995 ? "%.2f%s" : v < 99.95 ? "%.1f%s" : "%.0f%s", v, unit[u]);
	return buf;
}

const char *hook_state_word(const json_t *h)
{
	const char *m = json_string_value(json_object_get(h, "method"));
	const char *why = json_string_value(json_object_get(h, "reason"));

	if (m)
		return m;
	if (json_is_true(json_object_get(h, "not_needed")))
		return "not needed";
	/* switched off by default, an option turns it on */
	if (why && !strncmp(why, "off:", 4))
		return "opt-in";
	return "unavailable";
}

void report_print_hooks(FILE *out, const json_t *hooks)
{
	const json_t *h;
	int col = 6;
	size_t i;

	fputs("hooks:", out);
	json_array_foreach(hooks, i, h) {
		char item[128];
		int n = snprintf(item, sizeof(item), "%s=%s",
				 json_string_value(json_object_get(h, "hook")) ?: "?", hook_state_word(h));

		if (col + 1 + n > 78 && col > 6) {
			fputs("\n      ", out);
			col = 6;
		}
		fprintf(out, " %s", item);
		col += 1 + n;
	}
	fputc('\n', out);
}

uint64_t json_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

bool json_is_string_array(const json_t *v)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || !json_array_size(v))
		return false;
	json_array_foreach(v, i, x)
		if (!json_is_string(x))
			return false;
	return true;
}

void report_append_bounded(json_t *col, const char *key, json_t *item, size_t max)
{
	json_t *a = json_object_get(col, key);
	char over[64];

	if (!a) {
		a = json_array();
		json_object_set_new(col, key, a);
	}
	if (json_array_size(a) < max) {
		json_array_append_new(a, item);
		return;
	}
	json_decref(item);
	snprintf(over, sizeof(over), "%s_not_listed", key);
	json_object_set_new(col, over, json_integer(json_integer_value(json_object_get(col, over)) + 1));
}

void report_print_latency_row(FILE *out, const char *label, const json_t *h)
{
	char b[5][16];

	if (!label) {
		fprintf(out, "  %-28s %9s %9s %9s %9s %9s %9s\n", "", "count", "p50", "p90",
			"p99", "p99.9", "max");
		return;
	}
	if (!json_u64(h, "count")) {
		fprintf(out, "  %-28.28s %9d %9s %9s %9s %9s %9s\n", label, 0, "-", "-", "-", "-", "-");
		return;
	}
	fprintf(out, "  %-28.28s %9" PRIu64 " %9s %9s %9s %9s %9s\n", label, json_u64(h, "count"),
		fmt_ns(json_u64(h, "p50_ns"), b[0], 16), fmt_ns(json_u64(h, "p90_ns"), b[1], 16),
		fmt_ns(json_u64(h, "p99_ns"), b[2], 16), fmt_ns(json_u64(h, "p999_ns"), b[3], 16),
		fmt_ns(json_u64(h, "max_ns"), b[4], 16));
}

void report_print_hist(FILE *out, const json_t *hj, const char *unit)
{
	uint64_t rows[66] = { 0 }, peak = 0;
	int lo_row = 66, hi_row = -1;
	bool ns = !strcmp(unit, "ns");
	struct hist h;
	char a[16], b[16];

	if (hist_from_json(hj, unit, &h) || !h.count) {
		fprintf(out, "  (no samples)\n");
		return;
	}
	/* fold the log-linear slots into power-of-two rows for the terminal */
	for (unsigned int i = 0; i < HIST_SLOTS; i++) {
		uint64_t lo = hist_slot_lo(i);
		int r = lo ? 64 - __builtin_clzll(lo) : 0;

		if (!h.slots[i])
			continue;
		rows[r] += h.slots[i];
		if (r < lo_row)
			lo_row = r;
		if (r > hi_row)
			hi_row = r;
	}
	for (int r = lo_row; r <= hi_row; r++)
		if (rows[r] > peak)
			peak = rows[r];
	for (int r = lo_row; r <= hi_row; r++) {
		uint64_t lo = r ? 1ULL << (r - 1) : 0, hi = r ? (1ULL << r) - 1 : 0;
		int bar = peak ? (int)(rows[r] * 40 / peak) : 0;

		if (ns)
			fprintf(out, "  %9s .. %-9s %10" PRIu64 " |", fmt_ns(lo, a, 16), fmt_ns(hi, b, 16), rows[r]);
		else
			fprintf(out, "  %9s .. %-9s %10" PRIu64 " |", fmt_bytes(lo, a, 16), fmt_bytes(hi, b, 16), rows[r]);
		for (int i = 0; i < 40; i++)
			fputc(i < bar ? '*' : ' ', out);
		fputs("|\n", out);
	}
}

/* ---- the session's filters, described without naming a collector ---- */

static void append(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n + 1 >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	*n = w < 0 ? *n : *n + (size_t)w >= len ? len - 1 : *n + (size_t)w;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a > b && !strcmp(s + a - b, tail);
}

/* One value as text: durations and sizes by their key's suffix; false when empty. */
static bool value_text(const char *key, const json_t *v, char *buf, size_t len)
{
	size_t n = 0, i;
	const json_t *x;

	buf[0] = 0;
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		uint64_t u = (uint64_t)json_integer_value(v);

		if (ends_with(key, "_ns"))
			fmt_ns(u, buf, len);
		else if (ends_with(key, "_bytes"))
			fmt_bytes(u, buf, len);
		else
			snprintf(buf, len, "%" PRIu64, u);
	} else if (json_is_real(v) && json_real_value(v) != 0) {
		snprintf(buf, len, "%g", json_real_value(v));
	} else if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			char item[64];

			if (value_text(key, x, item, sizeof(item)))
				append(buf, len, &n, "%s%s", n ? "," : "", item);
		}
	}
	return buf[0] != 0;
}

/* Is every member an object (a level that only groups: {"bio": {...}})? */
static bool only_groups(const json_t *o)
{
	const char *k;
	const json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (!json_is_object(v))
			return false;
	return true;
}

static int describe(const json_t *o, const char *label, char *buf, size_t len, size_t *n)
{
	bool started = false;
	int active = 0;
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		char val[256];
		size_t klen = strlen(key);

		if (json_is_object(v)) {
			int k = describe(v, only_groups(v) ? NULL : key, buf, len, n);

			active += k;
			started = started && !k;
			continue;
		}
		if (json_is_true(v)) {
			val[0] = 0;
		} else if (!value_text(key, v, val, sizeof(val))) {
			continue;
		}
		if (!started && *n)
			append(buf, len, n, "; ");
		if (!started && label)
			append(buf, len, n, "%s: ", label);
		if (started)
			append(buf, len, n, ", ");
		started = true;
		if (ends_with(key, "_ns") || ends_with(key, "_bytes"))
			klen -= ends_with(key, "_ns") ? 3 : 6;
		append(buf, len, n, "%.*s%s%s", (int)klen, key, val[0] ? "=" : "", val);
		active++;
	}
	return active;
}

int report_describe_filters(const json_t *filters, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return 0;
	buf[0] = 0;
	return json_is_object(filters) ? describe(filters, NULL, buf, len, &n) : 0;
}
