// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the HTML report: escaping of untrusted strings, self-containment, charts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "out_html.h"

static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	html_escape(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Does any markup tag (text between '<' and '>') contain needle? Text content may. */
static bool tag_contains(const char *html, const char *needle)
{
	for (const char *p = html; (p = strchr(p, '<')); p++) {
		const char *e = strchr(p, '>');
		char tag[4096];
		size_t n;

		assert_non_null(e);
		n = (size_t)(e - p);
		assert_true(n < sizeof(tag));
		memcpy(tag, p, n);
		tag[n] = 0;
		if (strstr(tag, needle))
			return true;
	}
	return false;
}

static void test_html_escape_entities_and_controls(void **state)
{
	char *s;

	(void)state;
	s = escaped("<script>alert('x')</script> & \"q\"\x1b[2J");
	assert_string_equal(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;?[2J");
	free(s);
	s = escaped("caf\xc3\xa9");	/* UTF-8 passes through */
	assert_string_equal(s, "caf\xc3\xa9");
	free(s);
}

static json_t *hostile_report(void)
{
	struct hist h = { 0 };

	for (int i = 1; i < 2000; i++)
		hist_add_value(&h, (uint64_t)i * 997);
	return json_pack("{s:s, s:{s:s, s:s, s:[s, s], s:b}, s:{s:b}, s:{s:{s:o, s:[{s:i, s:s, s:o}],"
			 " s:[{s:I, s:i, s:s, s:s, s:I}], s:i, s:[{s:s, s:n, s:s}]}}}",
		"schema", "disco.report/1",
		"session", "hostname", "<img src=http://evil.example/x.png>", "kernel", "6.1\"><b>",
		"command_line", "disco", "<iframe src='https://x'>", "complete", 0,
		"cost", "bpf_stats_enabled", 1,
		"collectors", "sched",
		"runq_latency", hist_to_json(&h, "ns"),
		"processes", "pid", 7, "comm", "<script>alert(1)</script>", "runq_latency", hist_to_json(&h, "ns"),
		"outliers", "time_ns", (json_int_t)5, "pid", 7, "comm", "a&b", "prev_comm", "<svg onload=x>",
		"latency_ns", (json_int_t)12000000,
		"drops", 3,
		"hooks", "hook", "sched:sched_switch", "method", "reason", "no <BTF>");
}

/* The whole page of a report, as a malloc'ed string. */
static char *rendered(const json_t *rep)
{
	struct report_opts ro = { .top = 10 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(html_render(rep, f, &ro), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_html_report_is_self_contained_and_escaped(void **state)
{
	json_t *rep = hostile_report();
	char *buf = rendered(rep);

	(void)state;
	assert_true(!strncmp(buf, "<!DOCTYPE html>", 15));
	assert_non_null(strstr(buf, "</html>\n"));
	/* no external resources and no active content, whatever the file said */
	assert_false(tag_contains(buf, "http:"));
	assert_false(tag_contains(buf, "https:"));
	assert_false(tag_contains(buf, "src="));
	assert_false(tag_contains(buf, "url("));
	assert_false(tag_contains(buf, "onload"));
	assert_null(strstr(buf, "<script"));
	assert_null(strstr(buf, "<img"));
	assert_null(strstr(buf, "<iframe"));
	assert_null(strstr(buf, "<link"));
	assert_non_null(strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(buf, "&lt;img src=http://evil.example/x.png&gt;"));
	assert_non_null(strstr(buf, "6.1&quot;&gt;&lt;b&gt;"));
	assert_non_null(strstr(buf, "no &lt;BTF&gt;"));
	assert_non_null(strstr(buf, "a&amp;b"));
	/* a chart for the top-level distribution; per-process ones are table cells */
	assert_int_equal(count(buf, "<svg "), 1);
	assert_int_equal(count(buf, "<h3>Processes "), 1);
	assert_int_equal(count(buf, "<h3>Outliers "), 1);
	assert_non_null(strstr(buf, "3 dropped"));
	assert_non_null(strstr(buf, "12.0ms"));
	free(buf);
	json_decref(rep);
}

static void test_html_svg_one_bar_per_bucket(void **state)
{
	struct hist h = { 0 };
	json_t *j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	hist_add_value(&h, 100);
	hist_add_value(&h, 100);
	hist_add_value(&h, 5000);
	hist_add_value(&h, 1000000);
	j = hist_to_json(&h, "ns");
	f = open_memstream(&buf, &len);
	assert_int_equal(html_hist_svg(f, j, "ns"), 0);
	assert_int_equal(html_hist_svg(f, j, "bytes"), -EINVAL);	/* wrong unit */
	fclose(f);
	assert_int_equal(count(buf, "<rect class=\"bar\""), 3);
	assert_int_equal(count(buf, "<svg "), 1);
	assert_non_null(strstr(buf, "p99"));
	free(buf);
	json_decref(j);

	memset(&h, 0, sizeof(h));
	j = hist_to_json(&h, "ns");
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(html_hist_svg(f, j, "ns"), 0);
	fclose(f);
	assert_non_null(strstr(buf, "no samples"));
	assert_int_equal(count(buf, "<rect"), 0);
	free(buf);
	json_decref(j);
}

/* Sum of data-n over heat map cells whose interval starts at or after t0 and before t1. */
static uint64_t heat_sum(const char *html, uint64_t t0, uint64_t t1)
{
	uint64_t sum = 0;

	for (const char *p = html; (p = strstr(p, "<rect class=\"hm\"")); p++) {
		unsigned long long a, n;
		const char *q = strstr(p, "data-t0=\""), *r = strstr(p, "data-n=\"");

		assert_non_null(q);
		assert_non_null(r);
		assert_int_equal(sscanf(q, "data-t0=\"%llu\"", &a), 1);
		assert_int_equal(sscanf(r, "data-n=\"%llu\"", &n), 1);
		if (a >= t0 && a < t1)
			sum += n;
	}
	return sum;
}

/* Three 2 s intervals: idle, then 500 samples around 1 ms, an outlier at 5 s, an idle tcp. */
static json_t *changing_report(void)
{
	struct hist all = { 0 }, none = { 0 };
	json_t *ivs = json_array();

	for (int k = 0; k < 3; k++) {
		struct hist h = { 0 };

		for (int i = 0; k && i < 500; i++)
			hist_add_value(&h, 1000000 + i);
		hist_merge(&all, &h);
		json_array_append_new(ivs, json_pack("{s:I, s:I, s:{s:{s:{s:o}, s:{}}}}",
			"start_ns", (json_int_t)k * 2000000000, "end_ns", (json_int_t)(k + 1) * 2000000000,
			"collectors", "sched", "dists", "runq_latency", hist_to_json(&h, "ns"), "counters"));
	}
	return json_pack("{s:s, s:{s:s, s:I, s:b}, s:{}, s:{s:{s:o, s:[{s:I, s:i, s:s, s:s, s:i, s:I}], s:i},"
			 " s:{s:o, s:i, s:i}}, s:o}",
		"schema", "disco.report/1",
		"session", "hostname", "h", "duration_ns", (json_int_t)6000000000, "complete", 1,
		"cost",
		"collectors", "sched", "runq_latency", hist_to_json(&all, "ns"),
		"outliers", "time_ns", (json_int_t)5000000000, "pid", 42, "comm", "victim",
		"prev_comm", "hog", "prev_pid", 43, "latency_ns", (json_int_t)30000000,
		"events", 1,
		"tcp", "connect_latency", hist_to_json(&none, "ns"), "events", 0, "drops", 0,
		"intervals", ivs);
}

static void test_html_heat_map_shows_when_the_workload_changed(void **state)
{
	json_t *rep = changing_report();
	char *buf = rendered(rep);

	(void)state;
	assert_int_equal(count(buf, "<svg class=\"heatmap\""), 1);
	assert_int_equal(count(buf, "<svg class=\"timeline\""), 1);
	/* nothing in the first interval, every sample after */
	assert_int_equal(heat_sum(buf, 0, 2000000000), 0);
	assert_int_equal(heat_sum(buf, 2000000000, 6000000000), 1000);
	/* the outlier sits on the time axis where it happened */
	assert_int_equal(count(buf, "<circle class=\"outlier\""), 1);
	assert_non_null(strstr(buf, "data-t=\"5000000000\" data-v=\"30000000\""));
	/* the rate line: 0/s, then 250/s */
	assert_non_null(strstr(buf, "data-t0=\"0\" data-t1=\"2000000000\" data-v=\"0\""));
	assert_non_null(strstr(buf, "data-t0=\"2000000000\" data-t1=\"4000000000\" data-v=\"250\""));
	/* a summary with a verdict naming the outlier and who ran instead */
	assert_non_null(strstr(buf, "<p class=\"verdict\">Worst outlier: <b>30.0ms</b> of victim (pid 42, sched)"));
	assert_non_null(strstr(buf, "while hog (pid 43) held the CPU"));
	/* human headings; the idle tcp collapsed to one line */
	assert_non_null(strstr(buf, "<h3>Run-queue latency</h3>"));
	assert_null(strstr(buf, "runq_latency</h3>"));
	assert_non_null(strstr(buf, "<p class=\"idle\">Idle: no events and no samples in 6.0s.</p>"));
	assert_null(strstr(buf, "<h3>Connect latency</h3>"));
	free(buf);
	json_decref(rep);
}

static void test_html_hist_count_axis_is_logarithmic(void **state)
{
	struct hist h = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	json_t *j;

	(void)state;
	for (int i = 0; i < 10000; i++)
		hist_add_value(&h, 1000);
	hist_add_value(&h, 5000000);	/* one sample in the tail */
	j = hist_to_json(&h, "ns");
	f = open_memstream(&buf, &len);
	assert_int_equal(html_hist_svg(f, j, "ns"), 0);
	fclose(f);
	/* ticks 1, 10, 100, 1000, 10000: never "0" */
	assert_int_equal(count(buf, "text-anchor=\"end\">1</text>"), 1);
	assert_int_equal(count(buf, "text-anchor=\"end\">10000</text>"), 1);
	assert_null(strstr(buf, "text-anchor=\"end\">0</text>"));
	/* the single tail sample is a visible bar: log1p(1)/log1p(10000) of 150 px, not 1 px */
	{
		const char *p = strstr(buf, "5.0ms");
		const char *r = buf, *last = NULL;
		double hgt;

		assert_non_null(p);
		while ((r = strstr(r, "<rect class=\"bar\"")) && r < p)
			last = r++;
		assert_non_null(last);
		assert_int_equal(sscanf(strstr(last, "height=\""), "height=\"%lf\"", &hgt), 1);
		assert_true(hgt > 10);
	}
	free(buf);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape_entities_and_controls),
		cmocka_unit_test(test_html_report_is_self_contained_and_escaped),
		cmocka_unit_test(test_html_svg_one_bar_per_bucket),
		cmocka_unit_test(test_html_heat_map_shows_when_the_workload_changed),
		cmocka_unit_test(test_html_hist_count_axis_is_logarithmic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
