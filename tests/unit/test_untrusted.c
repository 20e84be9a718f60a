// SPDX-License-Identifier: GPL-2.0
/* Untrusted strings: one rule per output kind (text, top, JSON, HTML, Prometheus). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "out_html.h"
#include "out_prom.h"
#include "untrusted.h"

/* what a hostile process names itself: ESC, BEL, CR, LF, invalid UTF-8, HTML */
static const char evil[] = "\x1b[31mEV\aIL\r\n\xff\xc3<script>";

static char *capture(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, s);
	fclose(f);
	return buf;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void test_copy_turns_control_and_invalid_utf8_into_question_marks(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(untrusted_copy(out, sizeof(out), evil, sizeof(evil)), 22);
	assert_string_equal(out, "?[31mEV?IL???" "?<script>");
}

static void test_copy_keeps_valid_utf8_and_drops_c1_controls(void **state)
{
	char out[64];

	(void)state;
	/* é, €, 😀 stay; U+009B (a CSI to some terminals) and an overlong '/' do not */
	untrusted_copy(out, sizeof(out), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xc2\x9b|\xc0\xaf", 64);
	assert_string_equal(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|??|??");
}

static void test_copy_stops_at_srclen_and_never_cuts_a_sequence(void **state)
{
	char out[4];

	(void)state;
	/* a comm of 16 bytes without its NUL */
	assert_int_equal(untrusted_copy(out, sizeof(out), "abcdef", 2), 2);
	assert_string_equal(out, "ab");
	/* "a€": the 3-byte € does not fit in what is left of 4 bytes */
	assert_int_equal(untrusted_copy(out, sizeof(out), "a\xe2\x82\xac", 8), 1);
	assert_string_equal(out, "a");
}

static void test_copy_in_place_gives_the_same_result(void **state)
{
	char s[sizeof(evil)];

	(void)state;
	memcpy(s, evil, sizeof(evil));
	untrusted_copy(s, sizeof(s), s, sizeof(s));
	assert_string_equal(s, "?[31mEV?IL???" "?<script>");
}

static void write_text(FILE *f, const char *s)
{
	untrusted_text_write(f, s, strlen(s));
}

static void test_text_keeps_only_newline_and_tab(void **state)
{
	char *t = capture(write_text, "a\tb\n\x1b]0;t\a\n");

	(void)state;
	assert_string_equal(t, "a\tb\n?]0;t?\n");
	free(t);
}

static void render_hostname(const json_t *j, FILE *out, const void *arg)
{
	(void)arg;
	fprintf(out, "host %s\n", json_string_value(json_object_get(j, "hostname")));
}

static void test_text_render_filters_every_fprintf_of_a_renderer(void **state)
{
	json_t *j = json_pack("{s:s}", "hostname", "h\x1b[2J");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(untrusted_text_render(f, render_hostname, j, NULL), 0);
	fclose(f);
	assert_string_equal(buf, "host h?[2J\n");
	free(buf);
	json_decref(j);
}

static void test_json_clean_rewrites_values_and_keys_from_a_file(void **state)
{
	json_error_t e;
	/* jansson keeps \u001b as a raw ESC byte: the file can carry it */
	json_t *j = json_loads("{\"hostname\":\"x\\u001b[31m\\n\",\"hooks\":[{\"hook\":\"a\\u0007\"}],"
			       "\"cg\\u001b\":{\"k\":\"ok \\u00e9\"}}", 0, &e);
	char *dump;

	(void)state;
	assert_non_null(j);
	assert_int_equal(untrusted_json_clean(j), 0);
	dump = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(dump, "{\"cg?\":{\"k\":\"ok \xc3\xa9\"},\"hooks\":[{\"hook\":\"a?\"}],"
			    "\"hostname\":\"x?[31m?\"}");
	free(dump);
	json_decref(j);
}

static void html(FILE *f, const char *s)
{
	char clean[64];

	/* what a collector stored (untrusted_copy), as the HTML report shows it */
	untrusted_copy(clean, sizeof(clean), s, strlen(s));
	html_escape(f, clean);
}

static void prom(FILE *f, const char *s)
{
	char clean[64];

	untrusted_copy(clean, sizeof(clean), s, strlen(s));
	prom_escape_label(f, clean, 128);
}

static void test_evil_name_through_html_and_prometheus(void **state)
{
	char *h = capture(html, evil), *p = capture(prom, evil);

	(void)state;
	assert_string_equal(h, "?[31mEV?IL???" "?&lt;script&gt;");
	assert_false(has_control(h));
	assert_string_equal(p, "?[31mEV?IL???" "?<script>");
	assert_false(has_control(p));
	free(h);
	free(p);
	/* a name that skipped cleaning still cannot open a tag or a terminal escape */
	h = capture(html_escape, evil);
	assert_null(strstr(h, "<script>"));
	assert_null(strchr(h, '\x1b'));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_turns_control_and_invalid_utf8_into_question_marks),
		cmocka_unit_test(test_copy_keeps_valid_utf8_and_drops_c1_controls),
		cmocka_unit_test(test_copy_stops_at_srclen_and_never_cuts_a_sequence),
		cmocka_unit_test(test_copy_in_place_gives_the_same_result),
		cmocka_unit_test(test_text_keeps_only_newline_and_tab),
		cmocka_unit_test(test_text_render_filters_every_fprintf_of_a_renderer),
		cmocka_unit_test(test_json_clean_rewrites_values_and_keys_from_a_file),
		cmocka_unit_test(test_evil_name_through_html_and_prometheus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
