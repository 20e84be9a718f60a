// SPDX-License-Identifier: GPL-2.0
/*
 * The journal of applied changes (written and fsync'd before the first
 * change), applying with read-back and automatic undo, and rollback. A
 * journal read back is untrusted input: every field is validated and only
 * knobs the tuner knows can be written.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tuner.h"

#define JOURNAL_SCHEMA	"disco.journal/1"

json_t *journal_to_json(const struct journal *j)
{
	json_t *o = json_object(), *arr = json_array();

	json_object_set_new(o, "schema", json_string(JOURNAL_SCHEMA));
	json_object_set_new(o, "created_ns", json_integer(j->created_ns));
	json_object_set_new(o, "root", json_string(j->root));
	json_object_set_new(o, "netns", json_string(j->netns));
	json_object_set_new(o, "scope", json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:i, s:s}",
		"netns_inode", (json_int_t)j->id.netns_ino, "netns_dev", (json_int_t)j->id.netns_dev,
		"mntns_inode", (json_int_t)j->id.mntns_ino, "mntns_dev", (json_int_t)j->id.mntns_dev,
		"hostname", j->id.hostname, "boot_id", j->id.boot_id,
		"uid", (json_int_t)j->id.uid, "pid", (int)j->id.pid,
		"disco_version", j->id.version));
	json_object_set_new(o, "rolled_back_ns", json_integer(j->rolled_back_ns));
	json_object_set_new(o, "state_note", json_string(j->state_note));
	for (size_t i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->e[i];

		json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:I}",
			"rule", e->rule, "family", tune_family_name(e->family),
			"knob", e->knob, "pid", (int)e->pid,
			"start_time", (json_int_t)e->start_time,
			"previous", e->previous, "new", e->next,
			"time_ns", (json_int_t)e->time_ns);

		if (e->verdict[0])
			json_object_set_new(c, "verify", json_pack("{s:s, s:s}", "verdict", e->verdict,
								   "measured", e->verify_note));
		json_array_append_new(arr, c);
	}
	json_object_set_new(o, "changes", arr);
	return o;
}

static int jstr(const json_t *o, const char *key, char *dst, size_t len, bool empty_ok)
{
	const json_t *x = json_object_get(o, key);
	const char *s;

	if (!json_is_string(x))
		return -EINVAL;
	s = json_string_value(x);
	if (strlen(s) >= len || strlen(s) != json_string_length(x) || (!*s && !empty_ok))
		return -EINVAL;
	strcpy(dst, s);
	return 0;
}

static int jint(const json_t *o, const char *key, int64_t min, int64_t max, int64_t *v)
{
	const json_t *x = json_object_get(o, key);

	if (!json_is_integer(x) || json_integer_value(x) < min || json_integer_value(x) > max)
		return -EINVAL;
	*v = json_integer_value(x);
	return 0;
}

static int entry_from_json(const json_t *c, struct journal_entry *e, char *err, size_t errlen,
			   size_t idx)
{
	char fam[16], norm[TUNE_VAL_LEN];
	int64_t pid, st, t;
	int f;

	if (!json_is_object(c) || jstr(c, "rule", e->rule, sizeof(e->rule), false) ||
	    jstr(c, "family", fam, sizeof(fam), false) ||
	    jstr(c, "knob", e->knob, sizeof(e->knob), false) ||
	    jstr(c, "previous", e->previous, sizeof(e->previous), false) ||
	    jstr(c, "new", e->next, sizeof(e->next), false) ||
	    jint(c, "pid", 0, INT32_MAX, &pid) || jint(c, "start_time", 0, INT64_MAX, &st) ||
	    jint(c, "time_ns", 0, INT64_MAX, &t)) {
		snprintf(err, errlen, "change %zu: missing or malformed field", idx);
		return -EINVAL;
	}
	for (const char *p = e->rule; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
			snprintf(err, errlen, "change %zu: bad rule id", idx);
			return -EINVAL;
		}
	for (f = 0; f < FAM_COUNT; f++)
		if (!strcmp(fam, tune_family_name(f)))
			break;
	if (f == FAM_COUNT) {
		snprintf(err, errlen, "change %zu: unknown family '%s'", idx, fam);
		return -EINVAL;
	}
	if (json_object_get(c, "verify") &&
	    (jstr(json_object_get(c, "verify"), "verdict", e->verdict, sizeof(e->verdict), false) ||
	     jstr(json_object_get(c, "verify"), "measured", e->verify_note,
		  sizeof(e->verify_note), true))) {
		snprintf(err, errlen, "change %zu: malformed verify", idx);
		return -EINVAL;
	}
	e->family = f;
	e->pid = (pid_t)pid;
	e->start_time = (uint64_t)st;
	e->time_ns = t;
	if (knob_family(f)->per_process != (pid != 0)) {
		snprintf(err, errlen, "change %zu: %s needs %s pid", idx, fam,
			 knob_family(f)->per_process ? "a" : "no");
		return -EINVAL;
	}
	if (knob_normalize(e->family, e->knob, e->previous, norm, sizeof(norm)) ||
	    knob_normalize(e->family, e->knob, e->next, norm, sizeof(norm))) {
		snprintf(err, errlen, "change %zu: unknown knob or invalid value for %.48s", idx,
			 e->knob);
		return -EINVAL;
	}
	return 0;
}

/* A journal from before identities has no scope: all zero, never "ours". */
static int ident_from_json(const json_t *sc, struct tune_ident *id)
{
	int64_t ino, dev, mino, mdev, uid, pid;

	if (!sc)
		return 0;
	if (!json_is_object(sc) || jint(sc, "netns_inode", 0, INT64_MAX, &ino) ||
	    jint(sc, "netns_dev", 0, INT64_MAX, &dev) ||
	    jint(sc, "mntns_inode", 0, INT64_MAX, &mino) ||
	    jint(sc, "mntns_dev", 0, INT64_MAX, &mdev) ||
	    jint(sc, "uid", 0, UINT32_MAX, &uid) || jint(sc, "pid", 0, INT32_MAX, &pid) ||
	    jstr(sc, "hostname", id->hostname, sizeof(id->hostname), true) ||
	    jstr(sc, "boot_id", id->boot_id, sizeof(id->boot_id), true) ||
	    jstr(sc, "disco_version", id->version, sizeof(id->version), true))
		return -EINVAL;
	id->netns_ino = (uint64_t)ino;
	id->netns_dev = (uint64_t)dev;
	id->mntns_ino = (uint64_t)mino;
	id->mntns_dev = (uint64_t)mdev;
	id->uid = (uint32_t)uid;
	id->pid = (int32_t)pid;
	return 0;
}

static int optional_state(const json_t *o, struct journal *j)
{
	if (json_object_get(o, "rolled_back_ns") &&
	    jint(o, "rolled_back_ns", 0, INT64_MAX, &j->rolled_back_ns))
		return -EINVAL;
	if (json_object_get(o, "state_note") &&
	    jstr(o, "state_note", j->state_note, sizeof(j->state_note), true))
		return -EINVAL;
	return 0;
}

int journal_from_json(const json_t *o, struct journal *j, char *err, size_t errlen)
{
	const json_t *schema, *changes, *c;
	int64_t created;
	size_t i;

	memset(j, 0, sizeof(*j));
	schema = json_object_get(o, "schema");
	if (!json_is_object(o) || !json_is_string(schema) ||
	    strcmp(json_string_value(schema), JOURNAL_SCHEMA)) {
		snprintf(err, errlen, "not a %s object", JOURNAL_SCHEMA);
		return -EINVAL;
	}
	if (jint(o, "created_ns", 0, INT64_MAX, &created) ||
	    jstr(o, "root", j->root, sizeof(j->root), false) ||
	    jstr(o, "netns", j->netns, sizeof(j->netns), true)) {
		snprintf(err, errlen, "missing or malformed created_ns/root/netns");
		return -EINVAL;
	}
	j->created_ns = created;
	if (ident_from_json(json_object_get(o, "scope"), &j->id) ||
	    optional_state(o, j)) {
		snprintf(err, errlen, "malformed scope, rolled_back_ns or state_note");
		return -EINVAL;
	}
	changes = json_object_get(o, "changes");
	if (!json_is_array(changes) || json_array_size(changes) > JOURNAL_MAX_ENTRIES) {
		snprintf(err, errlen, "'changes' must be an array of at most %d entries",
			 JOURNAL_MAX_ENTRIES);
		return -EINVAL;
	}
	j->e = calloc(json_array_size(changes) + 1, sizeof(*j->e));
	if (!j->e) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(changes, i, c) {
		if (entry_from_json(c, &j->e[i], err, errlen, i)) {
			journal_free(j);
			return -EINVAL;
		}
		j->n++;
	}
	return 0;
}

int journal_parse(const char *buf, size_t len, struct journal *j, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;
	int ret;

	memset(j, 0, sizeof(*j));
	if (len > JOURNAL_MAX_BYTES) {
		snprintf(err, errlen, "journal larger than %u bytes", JOURNAL_MAX_BYTES);
		return -EFBIG;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		snprintf(err, errlen, "invalid JSON at byte %d: %s", je.position, je.text);
		return -EINVAL;
	}
	ret = journal_from_json(o, j, err, errlen);
	json_decref(o);
	return ret;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return err;
}

/* Write text to a new file (O_EXCL, 0600), fsync it and its directory. */
static int write_new_file(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += n;
	}
	if (!err && (write(fd, "\n", 1) != 1 || fsync(fd)))
		err = -errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err)
		err = fsync_dir_of(path);
	if (err)
		unlink(path);
	return err;
}

static char *journal_text(const struct journal *j)
{
	json_t *o = journal_to_json(j);
	char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;

	json_decref(o);
	return text;
}

int journal_write(const char *path, const struct journal *j)
{
	char *text = journal_text(j);
	int err;

	if (!text)
		return -ENOMEM;
	err = write_new_file(path, text);
	free(text);
	return err;
}

int journal_update(const char *path, const struct journal *j)
{
	char tmp[PATH_MAX], *text = journal_text(j);
	int err;

	if (!text)
		return -ENOMEM;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out_free;
	}
	err = write_new_file(tmp, text);
	if (!err && rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
	}
	if (!err)
		err = fsync_dir_of(path);
out_free:
	free(text);
	return err;
}

int journal_read(const char *path, struct journal *j, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t off = 0;
	int fd, ret;

	memset(j, 0, sizeof(*j));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > JOURNAL_MAX_BYTES) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 JOURNAL_MAX_BYTES);
		ret = -EINVAL;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out_close;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	ret = journal_parse(buf, off, j, err, errlen);
	free(buf);
out_close:
	close(fd);
	return ret;
}

static int name_newer(const void *a, const void *b)
{
	return -strcmp((const char *)a, (const char *)b);
}

int journal_names(const char *dir, char (**names)[256], size_t *n)
{
	char (*v)[256] = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, "journal-", 8) || l < 13 || l >= sizeof(v[0]) ||
		    strcmp(de->d_name + l - 5, ".json"))
			continue;
		if (*n == cap) {
			char (*nv)[256] = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*nv));

			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		snprintf(v[(*n)++], sizeof(v[0]), "%s", de->d_name);
	}
	closedir(d);
	if (err) {
		free(v);
		*n = 0;
		return err;
	}
	/* names carry a fixed-width UTC time: the greatest is the newest */
	if (*n)
		qsort(v, *n, sizeof(v[0]), name_newer);
	*names = v;
	return 0;
}

void journal_free(struct journal *j)
{
	if (!j)
		return;
	free(j->e);
	j->e = NULL;
	j->n = 0;
}

/* ---- live knobs ---------------------------------------------------------- */

static int live_read(void *ctx, const struct journal_entry *e, char *val, size_t len)
{
	if ((unsigned int)e->family >= FAM_COUNT)
		return -EINVAL;
	return knob_family(e->family)->read(ctx, e, val, len);
}

static int live_write(void *ctx, const struct journal_entry *e, const char *val)
{
	if ((unsigned int)e->family >= FAM_COUNT)
		return -EINVAL;
	return knob_family(e->family)->write(ctx, e, val);
}

void live_knob_ops(struct knob_ops *ops, struct live_knobs *ctx)
{
	ops->read = live_read;
	ops->write = live_write;
	ops->ctx = ctx;
}

/* ---- apply and rollback -------------------------------------------------- */

static void what(const struct journal_entry *e, char *buf, size_t len)
{
	if (!knob_family(e->family)->per_process)
		snprintf(buf, len, "%s", e->knob);
	else
		snprintf(buf, len, "%s of pid %d", e->knob, (int)e->pid);
}

/* Read the knob and compare with want, both normalized. 1 equal, 0 not. */
static int knob_is(const struct knob_ops *ops, const struct journal_entry *e,
		   const char *want, char *now, size_t len)
{
	char a[TUNE_VAL_LEN], b[TUNE_VAL_LEN];
	int err = ops->read(ops->ctx, e, now, len);

	if (err)
		return err;
	if (knob_normalize(e->family, e->knob, now, a, sizeof(a)) ||
	    knob_normalize(e->family, e->knob, want, b, sizeof(b)))
		return -EINVAL;
	return !strcmp(a, b);
}

static int set_checked(const struct knob_ops *ops, const struct journal_entry *e,
		       const char *val, char *now, size_t len)
{
	int err = ops->write(ops->ctx, e, val);

	if (err)
		return err;
	err = knob_is(ops, e, val, now, len);
	if (err < 0)
		return err;
	return err ? 0 : -EIO;	/* the kernel did not keep the value */
}

int journal_refresh(struct journal *j, const struct knob_ops *ops, FILE *out)
{
	size_t w = 0;

	for (size_t i = 0; i < j->n; i++) {
		struct journal_entry *e = &j->e[i];
		char now[TUNE_VAL_LEN], name[96];
		int same = knob_is(ops, e, e->next, now, sizeof(now));

		what(e, name, sizeof(name));
		if (same < 0) {
			fprintf(out, "%s: cannot read: %s\n", name, strerror(-same));
			return same;
		}
		if (same) {
			fprintf(out, "%s: already %s, nothing to do\n", name, e->next);
			continue;
		}
		knob_normalize(e->family, e->knob, now, e->previous, sizeof(e->previous));
		j->e[w++] = *e;
	}
	j->n = w;
	return 0;
}

static const char *privilege_hint(const struct journal_entry *e)
{
	static char buf[192];

	snprintf(buf, sizeof(buf), ": needs %s",
		 knob_privilege(e->family, e->knob, e->previous, e->next));
	return buf;
}

int tune_apply(const struct journal *j, const struct knob_ops *ops, FILE *out)
{
	char now[TUNE_VAL_LEN], name[96];
	size_t i;
	int err = 0;

	for (i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->e[i];

		what(e, name, sizeof(name));
		err = set_checked(ops, e, e->next, now, sizeof(now));
		if (err) {
			fprintf(out, "%s: setting %s failed: %s%s%s%s\n", name, e->next,
				err == -EIO ? "read back " : "",
				err == -EIO ? now : strerror(-err),
				err == -ESRCH ? " (process gone or PID reused)" : "",
				err == -EPERM ? privilege_hint(e) : "");
			break;
		}
		fprintf(out, "%s: %s -> %s\n", name, e->previous, e->next);
	}
	if (!err)
		return 0;
	/* undo, newest first, including the one that failed half way */
	fprintf(out, "rolling back %zu change(s)\n", i + 1);
	for (size_t k = i + 1; k-- > 0;) {
		const struct journal_entry *e = &j->e[k];
		int r = knob_is(ops, e, e->previous, now, sizeof(now));

		what(e, name, sizeof(name));
		if (r == 1)
			continue;
		r = set_checked(ops, e, e->previous, now, sizeof(now));
		if (r)
			fprintf(out, "%s: could not restore %s: %s\n", name, e->previous,
				strerror(-r));
		else
			fprintf(out, "%s: restored %s\n", name, e->previous);
	}
	return err;
}

int tune_rollback(const struct journal *j, const struct knob_ops *ops, bool force,
		  FILE *out, int *left)
{
	char now[TUNE_VAL_LEN], name[96];
	int first = 0;

	*left = 0;
	for (size_t k = j->n; k-- > 0;) {
		const struct journal_entry *e = &j->e[k];
		int r;

		what(e, name, sizeof(name));
		r = knob_is(ops, e, e->previous, now, sizeof(now));
		if (r == 1) {
			fprintf(out, "%s: already %s\n", name, e->previous);
			continue;
		}
		if (r < 0) {
			fprintf(out, "%s: not restored: %s\n", name, r == -ESRCH ?
				"process gone or PID reused" : r == -EXDEV ?
				"the network namespace it was changed in is not reachable from "
				"here (give --netns PATH|PID of that namespace)" : strerror(-r));
			(*left)++;
			if (!first)
				first = r;
			continue;
		}
		r = knob_is(ops, e, e->next, now, sizeof(now));
		if (r == 0 && !force) {
			fprintf(out, "%s: changed by someone else since (now %s, we set %s); "
				"left alone (--force restores %s)\n", name, now, e->next,
				e->previous);
			(*left)++;
			continue;
		}
		r = set_checked(ops, e, e->previous, now, sizeof(now));
		if (r) {
			fprintf(out, "%s: could not restore %s: %s\n", name, e->previous,
				strerror(-r));
			(*left)++;
			if (!first)
				first = r;
			continue;
		}
		fprintf(out, "%s: restored %s\n", name, e->previous);
	}
	return first;
}
