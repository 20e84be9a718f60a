// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the bio collector's pure parts: op decoding, disk names, events. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "collector.h"
#include "col_bio.h"
#include "bpf/bio.h"

extern const struct collector col_bio;

static const char *data_dir(void)
{
	const char *d = getenv("DISCO_TEST_DATA");

	return d ? d : "tests/data";
}

static const char *sysroot(void)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/bio", data_dir());
	return buf;
}

static void test_bio_stats_entries_cover_every_op_of_the_disks_it_may_see(void **state)
{
	(void)state;
	/* --disk names exactly the disks that can have entries */
	assert_int_equal(bio_stats_entries(10, 2), 2 * BIO_NOPS);
	/* present disks, and 16 more that may appear while recording */
	assert_int_equal(bio_stats_entries(10, 0), 26 * BIO_NOPS);
	assert_int_equal(bio_stats_entries(60, 0), BIO_DISKS_MAX * BIO_NOPS);
	/* nothing known: every disk the filter could name */
	assert_int_equal(bio_stats_entries(0, 0), BIO_DISKS_MAX * BIO_NOPS);
}

static void test_bio_disks_present_counts_sys_block_entries(void **state)
{
	char root[] = "/tmp/disco-bio-XXXXXX", path[256];
	const char *names[] = { "vda", "loop0", "nvme0n1" };

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(bio_disks_present(root), 0);
	snprintf(path, sizeof(path), "%s/sys", root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sys/block", root);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/sys/block/%s", root, names[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	assert_int_equal(bio_disks_present(root), 3);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/sys/block/%s", root, names[i]);
		rmdir(path);
	}
	snprintf(path, sizeof(path), "%s/sys/block", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys", root);
	rmdir(path);
	rmdir(root);
}

static void test_bio_op_decoding_matches_fixture(void **state)
{
	char path[4096], line[256], kind[16], value[64], want[16];
	unsigned int n_rwbs = 0, n_cmd = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bio/ops.txt", data_dir());
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *got;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_int_equal(sscanf(line, "%15s %63s %15s", kind, value, want), 3);
		if (strcmp(kind, "rwbs") == 0) {
			const char *s = strcmp(value, "-") == 0 ? "" : value;

			got = bio_op_name(bio_op_from_rwbs(s[0], s[0] ? s[1] : 0));
			n_rwbs++;
		} else {
			assert_string_equal(kind, "cmd");
			got = bio_op_name(bio_op_from_cmd_flags(strtoul(value, NULL, 16)));
			n_cmd++;
		}
		if (strcmp(got, want) != 0)
			fail_msg("%s %s: decoded %s, expected %s", kind, value, got, want);
	}
	fclose(f);
	/* the fixture really was read */
	assert_true(n_rwbs >= 20);
	assert_true(n_cmd >= 18);
}

static void test_bio_op_names_round_trip(void **state)
{
	for (unsigned int op = 0; op < BIO_NOPS; op++)
		assert_int_equal(bio_op_parse(bio_op_name(op)), op);
	assert_null(bio_op_name(BIO_NOPS));
	assert_int_equal(bio_op_parse("trim"), -EINVAL);
	assert_int_equal(bio_op_parse(NULL), -EINVAL);
}

static void test_bio_parse_majmin_enforces_kernel_dev_t_bounds(void **state)
{
	uint32_t dev = 0;

	assert_int_equal(bio_parse_majmin("7:0", &dev), 0);
	assert_int_equal(dev, BIO_MKDEV(7, 0));
	assert_int_equal(bio_parse_majmin("259:65537\n", &dev), 0);
	assert_int_equal(BIO_MAJOR(dev), 259);
	assert_int_equal(BIO_MINOR(dev), 65537);
	assert_int_equal(bio_parse_majmin("4095:1048575", &dev), 0);
	assert_int_equal(bio_parse_majmin("4096:0", &dev), -EINVAL);
	assert_int_equal(bio_parse_majmin("7:1048576", &dev), -EINVAL);
	assert_int_equal(bio_parse_majmin("7:", &dev), -EINVAL);
	assert_int_equal(bio_parse_majmin(":7", &dev), -EINVAL);
	assert_int_equal(bio_parse_majmin("7:0x", &dev), -EINVAL);
	assert_int_equal(bio_parse_majmin("7:0\n\n", &dev), -EINVAL);
	assert_int_equal(bio_parse_majmin("-7:0", &dev), -EINVAL);
	assert_int_equal(bio_parse_majmin("loop0", &dev), -EINVAL);
}

static void test_bio_uevent_get_finds_key_on_any_line(void **state)
{
	const char *ue = "MAJOR=8\nMINOR=16\nDEVNAME=sdb\nDEVTYPE=disk\nDISKSEQ=4";
	char buf[8];

	assert_int_equal(bio_uevent_get(ue, "DEVNAME", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sdb");
	assert_int_equal(bio_uevent_get(ue, "DISKSEQ", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "4");
	/* a prefix of a key is not the key */
	assert_int_equal(bio_uevent_get(ue, "DEV", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(bio_uevent_get(ue, "PARTN", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(bio_uevent_get("DEVNAME=verylongname\n", "DEVNAME", buf, sizeof(buf)),
			 -ENAMETOOLONG);
}

static void test_bio_disk_name_reads_uevent_devname(void **state)
{
	char name[32];

	assert_int_equal(bio_disk_name(sysroot(), BIO_MKDEV(7, 0), name, sizeof(name)), 0);
	assert_string_equal(name, "loop0");
	assert_int_equal(bio_disk_name(sysroot(), BIO_MKDEV(254, 0), name, sizeof(name)), 0);
	assert_string_equal(name, "vda");
	assert_int_equal(bio_disk_name(sysroot(), BIO_MKDEV(259, 0), name, sizeof(name)), 0);
	assert_string_equal(name, "nvme0n1");
	/* DEVNAME keeps the '/' that sysfs spells '!' */
	assert_int_equal(bio_disk_name(sysroot(), BIO_MKDEV(104, 0), name, sizeof(name)), 0);
	assert_string_equal(name, "cciss/c0d0");
}

static void test_bio_disk_name_falls_back_to_link_name(void **state)
{
	char name[32];

	/* uevent without DEVNAME */
	assert_int_equal(bio_disk_name(sysroot(), BIO_MKDEV(253, 0), name, sizeof(name)), 0);
	assert_string_equal(name, "zram0");
	/* no uevent at all */
	assert_int_equal(bio_disk_name(sysroot(), BIO_MKDEV(252, 3), name, sizeof(name)), 0);
	assert_string_equal(name, "dm-3");
}

static void test_bio_disk_name_unknown_dev_is_enoent(void **state)
{
	char name[32];

	assert_int_equal(bio_disk_name(sysroot(), BIO_MKDEV(9, 9), name, sizeof(name)), -ENOENT);
}

static void test_bio_disk_dev_accepts_name_devpath_and_majmin(void **state)
{
	uint32_t dev = 0;

	assert_int_equal(bio_disk_dev(sysroot(), "loop3", &dev), 0);
	assert_int_equal(dev, BIO_MKDEV(7, 3));
	dev = 0;
	assert_int_equal(bio_disk_dev(sysroot(), "/dev/loop3", &dev), 0);
	assert_int_equal(dev, BIO_MKDEV(7, 3));
	dev = 0;
	assert_int_equal(bio_disk_dev(sysroot(), "7:3", &dev), 0);
	assert_int_equal(dev, BIO_MKDEV(7, 3));
	assert_int_equal(bio_disk_dev(sysroot(), "cciss/c0d0", &dev), 0);
	assert_int_equal(dev, BIO_MKDEV(104, 0));
	assert_int_equal(bio_disk_dev(sysroot(), "dm-3", &dev), 0);
	assert_int_equal(dev, BIO_MKDEV(252, 3));
}

static void test_bio_disk_dev_rejects_partitions(void **state)
{
	uint32_t dev;

	assert_int_equal(bio_disk_dev(sysroot(), "sdb1", &dev), -EISDIR);
	assert_int_equal(bio_disk_dev(sysroot(), "8:17", &dev), -EISDIR);
	assert_int_equal(bio_disk_dev(sysroot(), "sdb", &dev), 0);
}

static void test_bio_disk_dev_rejects_unknown_and_path_tricks(void **state)
{
	uint32_t dev;

	assert_int_equal(bio_disk_dev(sysroot(), "nosuchdisk", &dev), -ENOENT);
	assert_int_equal(bio_disk_dev(sysroot(), "9:9", &dev), -ENOENT);
	assert_int_equal(bio_disk_dev(sysroot(), "", &dev), -EINVAL);
	assert_int_equal(bio_disk_dev(sysroot(), "..", &dev), -EINVAL);
	assert_int_equal(bio_disk_dev(sysroot(), "../../class/block/loop0", &dev), -EINVAL);
	assert_int_equal(bio_disk_dev(sysroot(), ".hidden", &dev), -EINVAL);
	assert_int_equal(bio_disk_dev(sysroot(), NULL, &dev), -EINVAL);
}

static struct bio_event sample_event(void)
{
	struct bio_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.time_ns = 123456789;
	ev.sector = 2048;
	ev.queue_ns = 1000;
	ev.latency_ns = 25000000;
	ev.pid = 4242;
	ev.tid = 4243;
	ev.dev = BIO_MKDEV(7, 3);
	ev.size_bytes = 65536;
	ev.op = BIO_OP_WRITE;
	memcpy(ev.comm, "bio_direct", 11);
	return ev;
}

static void test_bio_report_event_rejects_bad_length_and_op(void **state)
{
	struct bio_event ev = sample_event();
	json_t *col = json_object();

	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev) - 1, NULL), -EBADMSG);
	assert_int_equal(col_bio.report_event(col, &ev, 0, NULL), -EBADMSG);
	ev.op = BIO_NOPS;
	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev), NULL), -EBADMSG);
	assert_null(json_object_get(col, "outliers"));
	json_decref(col);
}

static void test_bio_report_event_folds_outlier_relative_to_session_start(void **state)
{
	struct report_opts ro = { .top = 10, .start_mono_ns = 100000000 };
	struct bio_event ev = sample_event();
	json_t *col = json_object();
	json_t *o;

	memcpy(ev.disk, "loop3", 6);
	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev), &ro), 0);
	/* an unterminated, hostile comm and disk name stay inside their fields */
	memset(ev.comm, 'A', sizeof(ev.comm));
	memset(ev.disk, 'x', sizeof(ev.disk));
	ev.disk[3] = '\n';
	ev.op = BIO_OP_READ;
	ev.time_ns = 5;		/* before the session start: clamped, not wrapped */
	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev), &ro), 0);
	assert_int_equal(json_array_size(json_object_get(col, "outliers")), 2);

	o = json_array_get(json_object_get(col, "outliers"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "disk")), "loop3");
	assert_string_equal(json_string_value(json_object_get(o, "dev")), "7:3");
	assert_string_equal(json_string_value(json_object_get(o, "op")), "write");
	assert_string_equal(json_string_value(json_object_get(o, "comm")), "bio_direct");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 4242);
	assert_int_equal(json_integer_value(json_object_get(o, "tid")), 4243);
	assert_int_equal(json_integer_value(json_object_get(o, "sector")), 2048);
	assert_int_equal(json_integer_value(json_object_get(o, "size_bytes")), 65536);
	assert_int_equal(json_integer_value(json_object_get(o, "queue_ns")), 1000);
	assert_int_equal(json_integer_value(json_object_get(o, "latency_ns")), 25000000);
	assert_int_equal(json_integer_value(json_object_get(o, "time_ns")), 123456789 - 100000000);

	o = json_array_get(json_object_get(col, "outliers"), 1);
	assert_int_equal(strlen(json_string_value(json_object_get(o, "comm"))), 16);
	assert_string_equal(json_string_value(json_object_get(o, "disk")),
			    "xxx?xxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_string_equal(json_string_value(json_object_get(o, "op")), "read");
	assert_int_equal(json_integer_value(json_object_get(o, "time_ns")), 0);
	json_decref(col);
}

static void test_bio_report_finish_names_disks_from_recorded_table(void **state)
{
	struct report_opts ro = { .top = 10 };
	struct bio_event ev = sample_event();
	json_t *col = json_pack("{s:[{s:s, s:s, s:s}]}", "disks",
				"disk", "loop3", "dev", "7:3", "op", "write");
	json_t *o;

	/* classic tracepoints leave ev.disk empty */
	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev), &ro), 0);
	ev.dev = BIO_MKDEV(8, 0);
	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev), &ro), 0);
	o = json_array_get(json_object_get(col, "outliers"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "disk")), "7:3");
	col_bio.report_finish(col, &ro);
	assert_string_equal(json_string_value(json_object_get(o, "disk")), "loop3");
	/* a device the recording machine never named stays MAJ:MIN */
	o = json_array_get(json_object_get(col, "outliers"), 1);
	assert_string_equal(json_string_value(json_object_get(o, "disk")), "8:0");
	json_decref(col);
}

static void test_bio_render_text_shows_tables_processes_and_outliers(void **state)
{
	struct report_opts ro = { .top = 10 };
	struct bio_event ev = sample_event();
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	json_t *col = json_pack("{s:I, s:I, s:[{s:s, s:s, s:s, s:I, s:I, s:{s:I}, s:{s:I}}],"
				" s:[{s:i, s:s, s:I, s:I, s:I, s:I, s:I}]}",
				"elapsed_ns", (json_int_t)2000000000, "min_latency_ns", (json_int_t)10000000,
				"disks", "disk", "loop3", "dev", "7:3", "op", "write",
				"requests", (json_int_t)100, "bytes", (json_int_t)6553600,
				"latency", "count", (json_int_t)100, "queue_latency", "count", (json_int_t)0,
				"processes", "pid", 4242, "comm", "bio_direct", "requests", (json_int_t)100,
				"bytes", (json_int_t)6553600, "io_ns", (json_int_t)5000000,
				"queue_ns", (json_int_t)0, "max_latency_ns", (json_int_t)25000000);

	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev), &ro), 0);
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	col_bio.render_text(col, out, &ro);
	fclose(out);
	assert_non_null(strstr(buf, "100 requests"));
	assert_non_null(strstr(buf, "50.0 IOPS"));
	assert_non_null(strstr(buf, "loop3"));
	assert_non_null(strstr(buf, "top processes by IO time"));
	assert_non_null(strstr(buf, "bio_direct"));
	assert_non_null(strstr(buf, "outliers"));
	assert_non_null(strstr(buf, "2048"));
	free(buf);
	json_decref(col);
}

static void test_bio_report_event_unknown_dev_shows_majmin(void **state)
{
	struct bio_event ev = sample_event();
	json_t *col = json_object();
	json_t *o;

	assert_int_equal(col_bio.report_event(col, &ev, sizeof(ev), NULL), 0);
	col_bio.report_finish(col, NULL);
	o = json_array_get(json_object_get(col, "outliers"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "disk")), "7:3");
	json_decref(col);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bio_op_decoding_matches_fixture),
		cmocka_unit_test(test_bio_op_names_round_trip),
		cmocka_unit_test(test_bio_parse_majmin_enforces_kernel_dev_t_bounds),
		cmocka_unit_test(test_bio_uevent_get_finds_key_on_any_line),
		cmocka_unit_test(test_bio_disk_name_reads_uevent_devname),
		cmocka_unit_test(test_bio_disk_name_falls_back_to_link_name),
		cmocka_unit_test(test_bio_disk_name_unknown_dev_is_enoent),
		cmocka_unit_test(test_bio_disk_dev_accepts_name_devpath_and_majmin),
		cmocka_unit_test(test_bio_disk_dev_rejects_partitions),
		cmocka_unit_test(test_bio_disk_dev_rejects_unknown_and_path_tricks),
		cmocka_unit_test(test_bio_report_event_rejects_bad_length_and_op),
		cmocka_unit_test(test_bio_report_event_folds_outlier_relative_to_session_start),
		cmocka_unit_test(test_bio_report_finish_names_disks_from_recorded_table),
		cmocka_unit_test(test_bio_render_text_shows_tables_processes_and_outliers),
		cmocka_unit_test(test_bio_report_event_unknown_dev_shows_majmin),
		cmocka_unit_test(test_bio_stats_entries_cover_every_op_of_the_disks_it_may_see),
		cmocka_unit_test(test_bio_disks_present_counts_sys_block_entries),
	};

	return cmocka_run_group_tests_name("bio", tests, NULL, NULL);
}
