// SPDX-License-Identifier: GPL-2.0
/* Journal round trip, hostile journals, apply/rollback on a --root tree. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
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
#include "tuner.h"

struct fx {
	char root[64];
	char jpath[128];
	struct journal j;
	FILE *log;
	struct live_knobs lk;
	struct knob_ops ops;
};

static void put(struct fx *f, const char *rel, const char *val)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(val, fp);
	fclose(fp);
}

static char *get(struct fx *f, const char *rel)
{
	static char buf[128];
	char path[256];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

static void add(struct journal *j, const char *knob, const char *prev, const char *next)
{
	struct journal_entry *e = &j->e[j->n++];

	memset(e, 0, sizeof(*e));
	snprintf(e->rule, sizeof(e->rule), "test");
	e->family = FAM_SYSCTL;
	snprintf(e->knob, sizeof(e->knob), "%s", knob);
	snprintf(e->previous, sizeof(e->previous), "%s", prev);
	snprintf(e->next, sizeof(e->next), "%s", next);
	e->time_ns = 1;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[256];

	strcpy(f->root, "/tmp/disco-tune-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/proc/sys/net/core %s/proc/sys/net/ipv4 %s/proc/sys/vm",
		 f->root, f->root, f->root);
	assert_int_equal(system(cmd), 0);
	put(f, "proc/sys/net/core/somaxconn", "128\n");
	put(f, "proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
	put(f, "proc/sys/vm/swappiness", "60\n");
	snprintf(f->jpath, sizeof(f->jpath), "%s/journal-1.json", f->root);
	snprintf(f->j.root, sizeof(f->j.root), "%s", f->root);
	f->j.e = calloc(8, sizeof(*f->j.e));
	add(&f->j, "net.core.somaxconn", "128", "256");
	add(&f->j, "net.ipv4.tcp_rmem", "4096 131072 6291456", "4096 131072 12582912");
	add(&f->j, "vm.swappiness", "60", "30");
	f->log = fopen("/dev/null", "w");
	f->lk.root = f->root;
	live_knob_ops(&f->ops, &f->lk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", f->root, f->root);
	if (system(cmd))
		return -1;
	journal_free(&f->j);
	fclose(f->log);
	free(f);
	return 0;
}

static void test_journal_round_trip(void **state)
{
	struct fx *f = *state;
	struct journal back;
	struct stat st;
	char err[128];

	f->j.e[0].pid = 0;
	f->j.created_ns = 123;
	snprintf(f->j.netns, sizeof(f->j.netns), "/run/netns/x");
	assert_int_equal(journal_write(f->jpath, &f->j), 0);
	assert_int_equal(stat(f->jpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(journal_read(f->jpath, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	assert_int_equal(back.created_ns, 123);
	assert_string_equal(back.root, f->root);
	assert_string_equal(back.netns, "/run/netns/x");
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(back.e[i].knob, f->j.e[i].knob);
		assert_string_equal(back.e[i].previous, f->j.e[i].previous);
		assert_string_equal(back.e[i].next, f->j.e[i].next);
		assert_int_equal(back.e[i].family, FAM_SYSCTL);
	}
	journal_free(&back);
	/* never overwritten, never through a symlink */
	assert_int_equal(journal_write(f->jpath, &f->j), -EEXIST);
}

static void test_journal_nofile_and_affinity_entries_round_trip(void **state)
{
	struct fx *f = *state;
	struct journal j = { .n = 2 }, back;
	struct journal_entry e[2] = {
		{ .rule = "nofile", .family = FAM_NOFILE, .knob = "RLIMIT_NOFILE", .pid = 77,
		  .start_time = 555, .previous = "64:64", .next = "128:unlimited" },
		{ .rule = "affinity-numa", .family = FAM_AFFINITY, .knob = "affinity", .pid = 77,
		  .start_time = 555, .previous = "0-3", .next = "2,3" },
	};
	char err[128];
	json_t *o;
	char *text;

	strcpy(j.root, "/");
	j.e = e;
	o = journal_to_json(&j);
	text = json_dumps(o, 0);
	assert_int_equal(journal_parse(text, strlen(text), &back, err, sizeof(err)), 0);
	assert_int_equal(back.e[0].pid, 77);
	assert_int_equal(back.e[0].start_time, 555);
	assert_string_equal(back.e[0].next, "128:unlimited");
	assert_int_equal(back.e[1].family, FAM_AFFINITY);
	journal_free(&back);
	free(text);
	json_decref(o);
	(void)f;
}

static void expect_reject(const char *text, const char *why)
{
	struct journal j;
	char err[160] = "";

	assert_int_not_equal(journal_parse(text, strlen(text), &j, err, sizeof(err)), 0);
	assert_non_null(strstr(err, why));
	assert_null(j.e);
}

#define HDR "{\"schema\":\"disco.journal/1\",\"created_ns\":1,\"root\":\"/\",\"netns\":\"\","
#define CH(fam, knob, pid, prev, next) \
	"\"changes\":[{\"rule\":\"r\",\"family\":\"" fam "\",\"knob\":\"" knob "\",\"pid\":" pid \
	",\"start_time\":1,\"previous\":\"" prev "\",\"new\":\"" next "\",\"time_ns\":1}]}"

static void test_journal_rejects_hostile_input(void **state)
{
	expect_reject("", "invalid JSON");
	expect_reject("[1,2]", "not a disco.journal/1");
	expect_reject("{\"schema\":\"disco.journal/2\"}", "not a disco.journal/1");
	expect_reject(HDR "\"changes\":{}}", "'changes' must be an array");
	/* only knobs the tuner knows; values within their bounds */
	expect_reject(HDR CH("sysctl", "kernel.core_pattern", "0", "core", "|/bin/sh"), "unknown knob");
	expect_reject(HDR CH("sysctl", "../../etc/passwd", "0", "1", "2"), "unknown knob");
	expect_reject(HDR CH("sysctl", "net.core.somaxconn", "0", "128", "-5"), "invalid value");
	expect_reject(HDR CH("sysctl", "net.core.somaxconn", "0", "128", "99999999999"), "invalid value");
	expect_reject(HDR CH("sysctl", "net.core.somaxconn", "7", "128", "256"), "needs no pid");
	expect_reject(HDR CH("nofile", "RLIMIT_NOFILE", "0", "1:2", "3:4"), "needs a pid");
	expect_reject(HDR CH("nofile", "RLIMIT_NOFILE", "5", "9:2", "3:4"), "invalid value");
	expect_reject(HDR CH("affinity", "affinity", "5", "0-1", ""), "malformed");
	expect_reject(HDR CH("affinity", "affinity", "-5", "0-1", "1"), "malformed");
	expect_reject(HDR CH("bogus", "affinity", "5", "0-1", "1"), "unknown family");
	expect_reject(HDR "\"changes\":[{\"rule\":\"r\"}]}", "malformed field");
	expect_reject("{\"schema\":\"disco.journal/1\",\"schema\":\"disco.journal/1\"}", "invalid JSON");
}

static void test_journal_rejects_oversized_file(void **state)
{
	struct fx *f = *state;
	struct journal j;
	char err[128];
	int fd = open(f->jpath, O_CREAT | O_WRONLY, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, JOURNAL_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_not_equal(journal_read(f->jpath, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "at most"));
}

static void test_apply_then_rollback_restores_every_knob(void **state)
{
	struct fx *f = *state;
	int left;

	assert_int_equal(tune_apply(&f->j, &f->ops, f->log), 0);
	assert_string_equal(get(f, "proc/sys/net/core/somaxconn"), "256\n");
	assert_string_equal(get(f, "proc/sys/net/ipv4/tcp_rmem"), "4096 131072 12582912\n");
	assert_string_equal(get(f, "proc/sys/vm/swappiness"), "30\n");
	assert_int_equal(tune_rollback(&f->j, &f->ops, false, f->log, &left), 0);
	assert_int_equal(left, 0);
	assert_string_equal(get(f, "proc/sys/net/core/somaxconn"), "128\n");
	assert_string_equal(get(f, "proc/sys/net/ipv4/tcp_rmem"), "4096 131072 6291456\n");
	assert_string_equal(get(f, "proc/sys/vm/swappiness"), "60\n");
}

static void test_apply_failure_midway_restores_what_was_changed(void **state)
{
	struct fx *f = *state;
	char path[256];

	/* the last knob cannot be written: a directory where the file should be */
	snprintf(path, sizeof(path), "%s/proc/sys/vm/swappiness", f->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_not_equal(tune_apply(&f->j, &f->ops, f->log), 0);
	assert_string_equal(get(f, "proc/sys/net/core/somaxconn"), "128\n");
	assert_string_equal(get(f, "proc/sys/net/ipv4/tcp_rmem"), "4096 131072 6291456\n");
}

/* A fake knob that accepts writes but keeps its old value. */
static int sticky_write(void *ctx, const struct journal_entry *e, const char *val)
{
	struct fx *f = ctx;

	if (!strcmp(e->knob, "net.ipv4.tcp_rmem"))
		return 0;
	return f->ops.write(f->ops.ctx, e, val);
}

static int sticky_read(void *ctx, const struct journal_entry *e, char *val, size_t len)
{
	struct fx *f = ctx;

	return f->ops.read(f->ops.ctx, e, val, len);
}

static void test_apply_read_back_mismatch_rolls_back(void **state)
{
	struct fx *f = *state;
	struct knob_ops sticky = { sticky_read, sticky_write, f };

	assert_int_equal(tune_apply(&f->j, &sticky, f->log), -EIO);
	assert_string_equal(get(f, "proc/sys/net/core/somaxconn"), "128\n");
	assert_string_equal(get(f, "proc/sys/vm/swappiness"), "60\n");
}

static void test_rollback_leaves_drifted_knob_unless_forced(void **state)
{
	struct fx *f = *state;
	int left;

	assert_int_equal(tune_apply(&f->j, &f->ops, f->log), 0);
	put(f, "proc/sys/net/core/somaxconn", "1000\n");	/* someone else */
	assert_int_equal(tune_rollback(&f->j, &f->ops, false, f->log, &left), 0);
	assert_int_equal(left, 1);
	assert_string_equal(get(f, "proc/sys/net/core/somaxconn"), "1000\n");
	assert_string_equal(get(f, "proc/sys/vm/swappiness"), "60\n");
	assert_int_equal(tune_rollback(&f->j, &f->ops, true, f->log, &left), 0);
	assert_int_equal(left, 0);
	assert_string_equal(get(f, "proc/sys/net/core/somaxconn"), "128\n");
}

static void test_refresh_takes_live_previous_and_drops_noops(void **state)
{
	struct fx *f = *state;

	put(f, "proc/sys/net/core/somaxconn", "200\n");
	put(f, "proc/sys/vm/swappiness", "30\n");
	assert_int_equal(journal_refresh(&f->j, &f->ops, f->log), 0);
	assert_int_equal(f->j.n, 2);
	assert_string_equal(f->j.e[0].previous, "200");
	assert_string_equal(f->j.e[1].knob, "net.ipv4.tcp_rmem");
}

static void test_journal_names_newest_first(void **state)
{
	struct fx *f = *state;
	char (*names)[256];
	size_t n;

	put(f, "journal-20260101T000000.000000001.json", "{}");
	put(f, "journal-20261127T170000.000000001.json", "{}");
	put(f, "journal-20261127T160000.000000001.json", "{}");
	put(f, "other.json", "{}");
	assert_int_equal(journal_names(f->root, &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "journal-20261127T170000.000000001.json");
	assert_string_equal(names[2], "journal-20260101T000000.000000001.json");
	free(names);
	assert_int_equal(journal_names("/nonexistent-disco", &names, &n), -ENOENT);
}

static void ident(struct tune_ident *id, uint64_t ino, const char *boot)
{
	memset(id, 0, sizeof(*id));
	id->netns_ino = ino;
	id->netns_dev = 4;
	snprintf(id->boot_id, sizeof(id->boot_id), "%s", boot);
}

static void test_scope_same_requires_namespace_root_and_boot(void **state)
{
	struct tune_scope here = { .root = "/" };
	struct journal j = { .root = "/" };
	char why[256];

	(void)state;
	ident(&here.id, 4026531840ull, "b1");
	ident(&j.id, 4026531840ull, "b1");
	assert_true(scope_same(&here, &j, why, sizeof(why)));
	ident(&j.id, 4026532999ull, "b1");
	assert_false(scope_same(&here, &j, why, sizeof(why)));
	assert_non_null(strstr(why, "network namespace 4:4026532999"));
	ident(&j.id, 4026531840ull, "b2");
	assert_false(scope_same(&here, &j, why, sizeof(why)));
	assert_non_null(strstr(why, "another boot"));
	ident(&j.id, 4026531840ull, "b1");
	strcpy(j.root, "/srv/tree");
	assert_false(scope_same(&here, &j, why, sizeof(why)));
	/* a journal from before identities is never taken unnamed */
	memset(&j.id, 0, sizeof(j.id));
	strcpy(j.root, "/");
	assert_false(scope_same(&here, &j, why, sizeof(why)));
}

static void test_journal_identity_and_state_round_trip(void **state)
{
	struct journal j = { .root = "/", .netns = "1234", .created_ns = 5 }, back;
	json_t *o;
	char err[128];

	(void)state;
	ident(&j.id, 4026532999ull, "0f1e");
	snprintf(j.id.hostname, sizeof(j.id.hostname), "web1");
	j.id.uid = 1000;
	j.id.pid = 77;
	snprintf(j.id.version, sizeof(j.id.version), "v1");
	j.rolled_back_ns = 9;
	j.e = calloc(1, sizeof(*j.e));
	add(&j, "net.core.somaxconn", "16", "128");
	snprintf(j.e[0].verdict, sizeof(j.e[0].verdict), "rolled-back");
	snprintf(j.e[0].verify_note, sizeof(j.e[0].verify_note), "no improvement");
	snprintf(j.state_note, sizeof(j.state_note), "rolled back by test");
	o = journal_to_json(&j);
	assert_int_equal(journal_from_json(o, &back, err, sizeof(err)), 0);
	assert_int_equal(back.id.netns_ino, 4026532999ull);
	assert_int_equal(back.id.netns_dev, 4);
	assert_string_equal(back.id.boot_id, "0f1e");
	assert_string_equal(back.id.hostname, "web1");
	assert_int_equal(back.id.uid, 1000);
	assert_int_equal(back.id.pid, 77);
	assert_string_equal(back.id.version, "v1");
	assert_int_equal(back.rolled_back_ns, 9);
	assert_string_equal(back.state_note, "rolled back by test");
	assert_string_equal(back.e[0].verdict, "rolled-back");
	assert_string_equal(back.e[0].verify_note, "no improvement");
	journal_free(&back);
	journal_free(&j);
	json_decref(o);
}

static void test_journal_update_replaces_in_place(void **state)
{
	struct fx *f = *state;
	char err[128];
	struct journal back;

	assert_int_equal(journal_write(f->jpath, &f->j), 0);
	f->j.rolled_back_ns = 42;
	assert_int_equal(journal_update(f->jpath, &f->j), 0);
	assert_int_equal(journal_read(f->jpath, &back, err, sizeof(err)), 0);
	assert_int_equal(back.rolled_back_ns, 42);
	journal_free(&back);
}

/* Every family answers every operation; nothing falls through to a default. */
static void test_every_knob_family_has_all_operations(void **state)
{
	char out[TUNE_VAL_LEN];
	unsigned int mask;

	(void)state;
	for (int f = 0; f < FAM_COUNT; f++) {
		const struct knob_family *k = knob_family(f);

		assert_non_null(k);
		assert_true(k->name && k->title && k->normalize && k->read && k->write &&
			    k->privilege && k->lacks);
		assert_string_equal(tune_family_name(f), k->name);
		assert_int_equal(tune_family_parse(k->name, &mask), 0);
		assert_int_equal(mask, 1u << f);
		for (int g = 0; g < f; g++)
			assert_string_not_equal(knob_family(g)->name, k->name);
		/* a knob the family does not know is refused, whatever the value */
		assert_int_equal(knob_normalize(f, "no.such.knob", "1", out, sizeof(out)), -EINVAL);
		assert_non_null(knob_privilege(f, "x", "1", "2"));
	}
	/* a family number from a hostile journal goes nowhere */
	assert_int_equal(knob_normalize(FAM_COUNT, "affinity", "0", out, sizeof(out)), -EINVAL);
	assert_int_equal(knob_normalize(FAM_AFFINITY, "affinity", "0-1", out, sizeof(out)), 0);
	assert_string_equal(out, "0-1");
	assert_false(knob_family(FAM_SYSCTL)->per_process);
	assert_true(knob_family(FAM_NOFILE)->per_process);
}

#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_journal_round_trip),
		T(test_journal_nofile_and_affinity_entries_round_trip),
		T(test_journal_rejects_hostile_input),
		T(test_journal_rejects_oversized_file),
		T(test_apply_then_rollback_restores_every_knob),
		T(test_apply_failure_midway_restores_what_was_changed),
		T(test_apply_read_back_mismatch_rolls_back),
		T(test_rollback_leaves_drifted_knob_unless_forced),
		T(test_refresh_takes_live_previous_and_drops_noops),
		T(test_journal_names_newest_first),
		T(test_scope_same_requires_namespace_root_and_boot),
		T(test_journal_identity_and_state_round_trip),
		T(test_journal_update_replaces_in_place),
		T(test_every_knob_family_has_all_operations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
