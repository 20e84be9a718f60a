// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the app collector's pure parts: listener ports, options, outlier records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "col_app.h"
#include "collector.h"
#include "bpf/app.h"

extern const struct collector col_app;

/* Shaped like /proc/net/tcp: two listeners (8080, 22), one connection, 8080 again. */
static const char tcp_text[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0\n"
	"   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102 1 0 100 0 0 10 0\n"
	"   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 103 1 0 20 4 30 10 -1\n"
	"   3: 0200007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 104 1 0 100 0 0 10 0\n";

static void test_app_listen_ports_are_listeners_once_each(void **state)
{
	uint16_t ports[8];

	assert_int_equal(app_listen_ports(tcp_text, strlen(tcp_text), ports, 8), 2);
	assert_int_equal(ports[0], 8080);
	assert_int_equal(ports[1], 22);
}

static void test_app_listen_ports_too_many_is_e2big(void **state)
{
	uint16_t ports[1];

	assert_int_equal(app_listen_ports(tcp_text, strlen(tcp_text), ports, 1), -E2BIG);
}

static void test_app_listen_ports_ignores_garbage(void **state)
{
	static const char junk[] = "garbage\n\n  7: zz:zz\n   9: 0100007F:0000 00000000:0000 0A\n";
	uint16_t ports[4];

	assert_int_equal(app_listen_ports(junk, strlen(junk), ports, 4), 0);
	/* a cut-off line is not read past len */
	assert_int_equal(app_listen_ports(tcp_text, 100, ports, 4), 0);
}

static void test_app_method_names(void **state)
{
	assert_string_equal(app_method_name(APP_M_GET), "GET");
	assert_string_equal(app_method_name(APP_M_OTHER), "OTHER");
	assert_string_equal(app_method_name(APP_M_NONE), "");
	assert_string_equal(app_method_name(200), "?");
}

static void test_app_port_option_validation(void **state)
{
	void *opts = calloc(1, col_app.opts_size);
	char num[8];

	assert_non_null(opts);
	assert_int_equal(col_app.set_option(opts, "port", "8080"), 0);
	assert_int_equal(col_app.set_option(opts, "port", "0"), -EINVAL);
	assert_int_equal(col_app.set_option(opts, "port", "65536"), -EINVAL);
	assert_int_equal(col_app.set_option(opts, "port", "-1"), -EINVAL);
	assert_int_equal(col_app.set_option(opts, "port", "80x"), -EINVAL);
	assert_int_equal(col_app.set_option(opts, "port", ""), -EINVAL);
	for (int i = 1; i < APP_MAX_PORTS; i++) {
		snprintf(num, sizeof(num), "%d", 1000 + i);
		assert_int_equal(col_app.set_option(opts, "port", num), 0);
	}
	assert_int_equal(col_app.set_option(opts, "port", "9999"), -E2BIG);
	assert_int_equal(col_app.set_option(opts, "app-routes", NULL), 0);
	assert_int_equal(col_app.set_option(opts, "nope", NULL), -EINVAL);
	free(opts);
}

static void test_app_outlier_record_folds_and_hostile_ones_are_refused(void **state)
{
	struct report_opts ro = { .top = 10, .start_mono_ns = 1000 };
	struct app_outlier e = {
		.kind = APP_EV_OUTLIER, .method = APP_M_POST, .port = 8080, .status = 503,
		.pid = 42, .tid = 43, .start_ns = 5000, .latency_ns = 250000000,
		.bytes_in = 100, .bytes_out = 200,
	};
	json_t *col = json_object(), *o;

	memcpy(e.comm, "srv\x1b[31m", 8);
	memcpy(e.route, "/api/:id", 9);
	assert_int_equal(col_app.report_event(col, &e, sizeof(e), &ro), 0);
	o = json_array_get(json_object_get(col, "outliers"), 0);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "time_ns")), 4000);
	assert_int_equal(json_integer_value(json_object_get(o, "latency_ns")), 250000000);
	assert_string_equal(json_string_value(json_object_get(o, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(o, "route")), "/api/:id");
	/* control bytes from the kernel never reach a terminal */
	assert_string_equal(json_string_value(json_object_get(o, "comm")), "srv?[31m");
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 503);

	assert_int_equal(col_app.report_event(col, &e, sizeof(e) - 1, &ro), -EINVAL);
	e.kind = 7;
	assert_int_equal(col_app.report_event(col, &e, sizeof(e), &ro), -EINVAL);
	e.kind = APP_EV_OUTLIER;
	e.method = APP_NMETHODS;
	assert_int_equal(col_app.report_event(col, &e, sizeof(e), &ro), -EINVAL);
	/* an unterminated route and comm stay within their fields */
	e.method = APP_M_GET;
	memset(e.route, 'a', sizeof(e.route));
	memset(e.comm, 'b', sizeof(e.comm));
	assert_int_equal(col_app.report_event(col, &e, sizeof(e), &ro), 0);
	o = json_array_get(json_object_get(col, "outliers"), 1);
	assert_int_equal(strlen(json_string_value(json_object_get(o, "route"))), APP_ROUTE_LEN - 1);
	assert_int_equal(strlen(json_string_value(json_object_get(o, "comm"))), 15);
	json_decref(col);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_listen_ports_are_listeners_once_each),
		cmocka_unit_test(test_app_listen_ports_too_many_is_e2big),
		cmocka_unit_test(test_app_listen_ports_ignores_garbage),
		cmocka_unit_test(test_app_method_names),
		cmocka_unit_test(test_app_port_option_validation),
		cmocka_unit_test(test_app_outlier_record_folds_and_hostile_ones_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
