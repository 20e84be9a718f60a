// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the system collector: /proc parsers on fake text, snapshots of a fake root tree, the timeline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "col_system.h"
#include "collector.h"
#include "system_parse.h"

extern const struct collector col_system;

static const char stat_text[] =
	"cpu  300 10 200 5000 40 0 6 0 0 0\n"
	"cpu0 100 4 50 2500 20 0 3 0 0 0\n"
	"cpu1 200 6 150 2500 20 0 3 7 9 0\n"
	"intr 12345 0 0 1\n"
	"ctxt 987654\n"
	"btime 1700000000\n"
	"processes 4321\n"
	"procs_running 3\n"
	"procs_blocked 1\n"
	"softirq 55 1 2\n";

static void test_system_stat_gives_cpu_modes_and_counters(void **state)
{
	struct sys_cpu cpus[4];
	struct sys_stat st = { .cpus = cpus, .cap = 4 };

	assert_int_equal(sys_parse_stat(stat_text, &st), 0);
	assert_int_equal(st.ncpu, 2);
	assert_int_equal(cpus[1].cpu, 1);
	assert_int_equal(cpus[1].ticks[SYS_USER], 200);
	assert_int_equal(cpus[1].ticks[SYS_SYSTEM], 150);
	assert_int_equal(cpus[1].ticks[SYS_IOWAIT], 20);
	assert_int_equal(cpus[1].ticks[SYS_STEAL], 7);
	assert_int_equal(st.ctxt, 987654);
	assert_int_equal(st.forks, 4321);
	assert_int_equal(st.intr, 12345);
	assert_int_equal(st.procs_running, 3);
	assert_int_equal(st.procs_blocked, 1);
}

static void test_system_stat_old_kernel_short_cpu_line(void **state)
{
	/* 2.6-era lines stop after iowait/irq/softirq: the rest stays 0 */
	static const char t[] = "cpu0 1 2 3 4\nctxt 5\n";
	struct sys_cpu cpus[1];
	struct sys_stat st = { .cpus = cpus, .cap = 1 };

	assert_int_equal(sys_parse_stat(t, &st), 0);
	assert_int_equal(cpus[0].ticks[SYS_IDLE], 4);
	assert_int_equal(cpus[0].ticks[SYS_IOWAIT], 0);
}

static void test_system_stat_malformed_is_einval(void **state)
{
	static const char *const bad[] = {
		"cpu0 1 2 3\nctxt 5\n",			/* too few fields */
		"cpu0 1 2 x 4\nctxt 5\n",		/* not a number */
		"cpu0 1 2 3 4\n",			/* no ctxt: not /proc/stat */
		"ctxt 99999999999999999999999\ncpu0 1 2 3 4\n",	/* > u64 */
		"",
	};
	struct sys_cpu cpus[2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sys_stat st = { .cpus = cpus, .cap = 2 };

		assert_int_equal(sys_parse_stat(bad[i], &st), -EINVAL);
	}
}

static void test_system_loadavg_three_figures(void **state)
{
	double l[3];

	assert_int_equal(sys_parse_loadavg("0.52 1.25 2.00 3/456 7890\n", l), 0);
	assert_true(l[0] == 0.52 && l[1] == 1.25 && l[2] == 2.0);
	assert_int_equal(sys_parse_loadavg("0.52 x", l), -EINVAL);
}

static void test_system_meminfo_in_bytes(void **state)
{
	static const char t[] =
		"MemTotal:        8000000 kB\nMemFree:         1000000 kB\n"
		"MemAvailable:    5000000 kB\nBuffers:           10000 kB\n"
		"Cached:          3000000 kB\nSwapCached:            0 kB\n"
		"SwapTotal:       2000000 kB\nSwapFree:        1500000 kB\n"
		"Shmem:             20000 kB\nSReclaimable:      90000 kB\n";
	struct sys_mem m;

	assert_int_equal(sys_parse_meminfo(t, &m), 0);
	assert_int_equal(m.total, 8000000ull * 1024);
	assert_int_equal(m.available, 5000000ull * 1024);
	/* "Cached:" is not confused with "SwapCached:" */
	assert_int_equal(m.cached, 3000000ull * 1024);
	assert_int_equal(m.sreclaimable, 90000ull * 1024);
	assert_int_equal(m.swap_free, 1500000ull * 1024);
	assert_int_equal(sys_parse_meminfo("MemFree: 1 kB\n", &m), -EINVAL);
}

static void test_system_vmstat_swap_pages(void **state)
{
	struct sys_vmstat v;

	assert_int_equal(sys_parse_vmstat("nr_free_pages 5\npswpin 11\npswpout 22\npgmajfault 3\n", &v), 0);
	assert_int_equal(v.pswpin, 11);
	assert_int_equal(v.pswpout, 22);
	assert_int_equal(v.pgmajfault, 3);
	assert_int_equal(sys_parse_vmstat("nr_free_pages 5\n", &v), -EINVAL);
}

static void test_system_diskstats_all_kernel_generations(void **state)
{
	/* 4.18 added discards, 5.5 flushes: 14, 18 and 20 fields */
	static const char t[] =
		"   7       0 loop0 1 0 2 3 4 0 5 6 0 7 8\n"
		" 254       0 vda 100 20 4096 50 200 30 8192 60 1 70 110 9 0 72 4\n"
		" 254       1 vda1 90 20 4000 45 190 30 8000 55 0 65 100 9 0 72 4 17 3\n";
	struct sys_disk d[4];
	size_t n;

	assert_int_equal(sys_parse_diskstats(t, d, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(d[0].name, "loop0");
	assert_int_equal(d[0].io_weighted_ms, 8);
	assert_int_equal(d[1].read_sectors, 4096);
	assert_int_equal(d[1].write_sectors, 8192);
	assert_int_equal(d[1].in_flight, 1);
	assert_int_equal(d[1].discards, 9);
	assert_int_equal(d[1].discard_sectors, 72);
	assert_int_equal(d[1].flushes, 0);
	assert_int_equal(d[2].flushes, 17);
	assert_int_equal(d[2].flush_ms, 3);
	/* cap: the rest is not written */
	assert_int_equal(sys_parse_diskstats(t, d, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sys_parse_diskstats("   7 0 loop0 1 2 3\n", d, 4, &n), -EINVAL);
}

static const char netdev_text[] =
	"Inter-|   Receive                                                |  Transmit\n"
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	"    lo:    3267      29    0    0    0     0          0         0     3267      29    0    0    0     0       0          0\n"
	"  eth0:1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\n";

static void test_system_netdev_counters_per_interface(void **state)
{
	struct sys_netdev d[4];
	size_t n;

	assert_int_equal(sys_parse_netdev(netdev_text, d, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].name, "lo");
	assert_int_equal(d[0].rx_bytes, 3267);
	/* no blank after the colon */
	assert_string_equal(d[1].name, "eth0");
	assert_int_equal(d[1].rx_errs, 1);
	assert_int_equal(d[1].rx_drop, 2);
	assert_int_equal(d[1].tx_bytes, 2000);
	assert_int_equal(d[1].tx_packets, 20);
	assert_int_equal(d[1].tx_drop, 4);
	assert_int_equal(sys_parse_netdev("  eth0: 1 2 3\n", d, 4, &n), -EINVAL);
}

static void test_system_tcp_states_counted(void **state)
{
	static const char t[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
		"   1: 0100007F:0CEA 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
		"   2: 0100007F:A1B2 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n"
		"   3: 0100007F:A1B4 0100007F:0CEA 06 00000000:00000000 00:00000000 00000000     0        0 0 1\n";
	uint64_t c[SYS_TCP_STATES] = { 0 };

	assert_int_equal(sys_parse_tcp_states(t, c), 0);
	assert_int_equal(c[1], 2);
	assert_int_equal(c[6], 1);
	assert_int_equal(c[10], 1);
	assert_string_equal(sys_tcp_state_names[10], "listen");
	/* adds up over tcp and tcp6 */
	assert_int_equal(sys_parse_tcp_states(t, c), 0);
	assert_int_equal(c[1], 4);
	assert_int_equal(sys_parse_tcp_states("  sl  local_address\n 0: a b ZZ\n", c), -EINVAL);
	assert_int_equal(sys_parse_tcp_states("garbage\n", c), -EINVAL);
}

static void test_system_psi_totals_and_optional_full(void **state)
{
	struct sys_psi p;

	assert_int_equal(sys_parse_psi("some avg10=1.00 avg60=0.50 avg300=0.10 total=123456\n"
				       "full avg10=0.00 avg60=0.00 avg300=0.00 total=789\n", &p), 0);
	assert_int_equal(p.some_us, 123456);
	assert_int_equal(p.full_us, 789);
	assert_true(p.has_full);
	/* cpu.pressure before 5.13 had no full line */
	assert_int_equal(sys_parse_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", &p), 0);
	assert_false(p.has_full);
	assert_int_equal(sys_parse_psi("some avg10=0.00\n", &p), -EINVAL);
}

/* ---- a fake root tree ---- */

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void psi(const char *rel, unsigned int some)
{
	char t[160];

	snprintf(t, sizeof(t), "some avg10=0.00 avg60=0.00 avg300=0.00 total=%u\n"
		 "full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", some);
	put(rel, t);
}

static int tree_setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/disco-test-system.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("proc/stat", stat_text);
	put("proc/loadavg", "0.50 0.25 0.10 2/100 999\n");
	put("proc/meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\n"
	    "Buffers: 50 kB\nCached: 300 kB\nSReclaimable: 50 kB\nSwapTotal: 100 kB\nSwapFree: 40 kB\n");
	put("proc/vmstat", "pswpin 3\npswpout 5\npgmajfault 7\n");
	put("proc/diskstats",
	    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n"
	    "   7       1 loop1 4 0 64 1 2 0 16 2 0 3 3\n"
	    " 254       0 vda 100 20 4096 50 200 30 8192 60 1 70 110 9 0 72 4\n"
	    " 254       1 vda1 90 20 4000 45 190 30 8000 55 0 65 100 9 0 72 4\n");
	put("sys/block/loop0/size", "0\n");
	put("sys/block/loop1/size", "0\n");
	put("sys/block/vda/size", "0\n");
	put("proc/net/dev", netdev_text);
	put("proc/net/tcp", "  sl  local_address rem_address   st\n"
	    "   0: 0100007F:0CEA 00000000:0000 0A 0\n   1: 0100007F:0CEA 0100007F:A1B2 01 0\n");
	psi("proc/pressure/cpu", 1000);
	psi("proc/pressure/memory", 2000);
	psi("proc/pressure/io", 3000);
	put("sys/fs/cgroup/cgroup.controllers", "cpu io memory\n");
	psi("sys/fs/cgroup/a.slice/cpu.pressure", 10);
	psi("sys/fs/cgroup/b.slice/cpu.pressure", 500);
	psi("sys/fs/cgroup/b.slice/x.service/cpu.pressure", 400);
	*state = root;
	return 0;
}

static int tree_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static const json_t *row(const json_t *a, const char *k1, const char *v1, const char *k2, const char *v2)
{
	const json_t *r;
	size_t i;

	json_array_foreach(a, i, r)
		if (!strcmp(json_string_value(json_object_get(r, k1)) ?: "", v1) &&
		    (!k2 || !strcmp(json_string_value(json_object_get(r, k2)) ?: "", v2)))
			return r;
	return NULL;
}

static struct sys_state *state_at_root(void)
{
	struct sys_state *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	snprintf(s->root, sizeof(s->root), "%s", root);
	s->hz = 100;
	s->page_bytes = 4096;
	return s;
}

static void test_system_snapshot_of_fake_root(void **state)
{
	struct sys_state *s = state_at_root();
	json_t *o = system_snapshot(s), *mem;
	const json_t *r;

	assert_non_null(o);
	/* ticks of USER_HZ -> ns */
	r = row(json_object_get(o, "cpu"), "cpu", "1", "mode", "user");
	assert_non_null(r);
	assert_int_equal(json_u64(r, "ns"), 200 * 10000000ull);
	assert_int_equal(json_array_size(json_object_get(o, "cpu")), 2 * SYS_CPU_MODES);
	assert_int_equal(json_u64(o, "context_switches"), 987654);
	assert_true(json_real_value(json_object_get(o, "load1")) == 0.5);
	mem = json_object_get(o, "memory");
	assert_true(json_real_value(json_object_get(mem, "total_bytes")) == 1000 * 1024.0);
	/* used = total - free - buffers - cached - reclaimable slab */
	assert_true(json_real_value(json_object_get(mem, "used_bytes")) == 500 * 1024.0);
	assert_true(json_real_value(json_object_get(mem, "swap_used_bytes")) == 60 * 1024.0);
	assert_int_equal(json_u64(o, "swapped_out_bytes"), 5 * 4096);
	/* whole disks with IO: not the idle loop0, not the partition vda1 */
	assert_int_equal(json_array_size(json_object_get(o, "disk")), 2);
	r = row(json_object_get(o, "disk"), "device", "vda", NULL, NULL);
	assert_non_null(r);
	assert_int_equal(json_u64(r, "read_bytes"), 4096 * 512);
	assert_int_equal(json_u64(r, "written_bytes"), 8192 * 512);
	assert_int_equal(json_u64(r, "io_time_ns"), 70 * 1000000ull);
	assert_null(row(json_object_get(o, "disk"), "device", "vda1", NULL, NULL));
	r = row(json_object_get(o, "network"), "device", "eth0", NULL, NULL);
	assert_int_equal(json_u64(r, "transmit_bytes"), 2000);
	r = row(json_object_get(o, "tcp_connection_states"), "state", "listen", NULL, NULL);
	assert_true(json_real_value(json_object_get(r, "value")) == 1);
	r = row(json_object_get(o, "tcp_connection_states"), "state", "time_wait", NULL, NULL);
	assert_true(json_real_value(json_object_get(r, "value")) == 0);
	assert_int_equal(json_u64(json_object_get(o, "pressure"), "io_waiting_ns"), 3000 * 1000);
	assert_int_equal(json_u64(json_object_get(o, "pressure"), "io_stalled_ns"), 1000);
	json_decref(o);
	system_state_free(s);
}

static void test_system_cgroups_ranked_by_recent_pressure(void **state)
{
	struct sys_state *s = state_at_root();
	json_t *o = system_snapshot(s);
	const json_t *a = json_object_get(o, "cgroup_pressure");

	/* first snapshot: by total since boot */
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "cgroup")), "/b.slice");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "cgroup")), "/b.slice/x.service");
	json_decref(o);
	/* then by what changed: a.slice stalls most since */
	psi("sys/fs/cgroup/a.slice/cpu.pressure", 10 + 900);
	o = system_snapshot(s);
	a = json_object_get(o, "cgroup_pressure");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "cgroup")), "/a.slice");
	assert_int_equal(json_u64(json_array_get(a, 0), "cpu_waiting_ns"), 910 * 1000);
	json_decref(o);
	system_state_free(s);
}

static void test_system_missing_files_are_left_out(void **state)
{
	struct sys_state *s = calloc(1, sizeof(*s));
	json_t *o;

	snprintf(s->root, sizeof(s->root), "/nonexistent-disco-root");
	s->hz = 100;
	o = system_snapshot(s);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 0);
	json_decref(o);
	system_state_free(s);
}

static void test_system_timeline_points_are_interval_figures(void **state)
{
	struct sys_state *s = state_at_root();
	json_t *acc = json_object(), *snap1 = system_snapshot(s), *snap2, *tl;
	const json_t *pt;

	assert_int_equal(col_system.report_snapshot(acc, snap1, 2000000000ull), 0);
	/* the first snapshot is the baseline: no interval yet */
	assert_int_equal(json_array_size(json_object_get(acc, "timeline")), 0);
	put("proc/diskstats", "   7       1 loop1 4 0 64 1 2 0 16 2 0 3 3\n"
	    " 254       0 vda 100 20 4096 50 400 30 10240 60 1 70 110\n");
	put("proc/stat", "cpu0 150 4 100 2600 20 0 3 0 0 0\ncpu1 200 6 150 2500 20 0 3 7 9 0\nctxt 1\n");
	snap2 = system_snapshot(s);
	assert_int_equal(col_system.report_snapshot(acc, snap2, 4000000000ull), 0);
	tl = json_object_get(acc, "timeline");
	assert_int_equal(json_array_size(tl), 1);
	pt = json_array_get(tl, 0);
	assert_int_equal(json_u64(pt, "interval_ns"), 2000000000ull);
	assert_int_equal(json_u64(pt, "disk_written_bytes"), 2048 * 512);
	assert_int_equal(json_u64(pt, "disk_read_bytes"), 0);
	/* cpu0: 50 user + 50 system busy, 100 idle ticks */
	assert_true(json_real_value(json_object_get(pt, "cpu_busy_ratio")) == 0.5);
	col_system.report_finish(acc, NULL);
	assert_null(json_object_get(acc, "timeline_last"));
	assert_int_equal(col_system.report_snapshot(acc, json_object_get(snap2, "memory"), 5), -EINVAL);
	json_decref(snap1);
	json_decref(snap2);
	json_decref(acc);
	system_state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_stat_gives_cpu_modes_and_counters),
		cmocka_unit_test(test_system_stat_old_kernel_short_cpu_line),
		cmocka_unit_test(test_system_stat_malformed_is_einval),
		cmocka_unit_test(test_system_loadavg_three_figures),
		cmocka_unit_test(test_system_meminfo_in_bytes),
		cmocka_unit_test(test_system_vmstat_swap_pages),
		cmocka_unit_test(test_system_diskstats_all_kernel_generations),
		cmocka_unit_test(test_system_netdev_counters_per_interface),
		cmocka_unit_test(test_system_tcp_states_counted),
		cmocka_unit_test(test_system_psi_totals_and_optional_full),
		cmocka_unit_test(test_system_snapshot_of_fake_root),
		cmocka_unit_test(test_system_cgroups_ranked_by_recent_pressure),
		cmocka_unit_test(test_system_missing_files_are_left_out),
		cmocka_unit_test(test_system_timeline_points_are_interval_figures),
	};

	return cmocka_run_group_tests(tests, tree_setup, tree_teardown);
}
