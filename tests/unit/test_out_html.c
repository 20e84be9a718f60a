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

static void test_html_report_is_self_contained_and_escaped(void **state)
{
	struct report_opts ro = { .top = 10 };
	json_t *rep = hostile_report();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(html_render(rep, f, &ro), 0);
	assert_int_equal(fclose(f), 0);
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
	assert_int_equal(count(buf, "<h3>processes "), 1);
	assert_int_equal(count(buf, "<h3>outliers "), 1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape_entities_and_controls),
		cmocka_unit_test(test_html_report_is_self_contained_and_escaped),
		cmocka_unit_test(test_html_svg_one_bar_per_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
