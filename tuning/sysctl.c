// SPDX-License-Identifier: GPL-2.0
/* The sysctls the tuner knows, and reading/writing them through /proc/sys. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tuner.h"

/* Bounds are what the kernel accepts; rules stay far inside them. */
const struct sysctl_desc sysctl_descs[SC_COUNT] = {
	[SC_SOMAXCONN]		= { "net.core.somaxconn", 1, 0, INT_MAX },
	[SC_SYN_BACKLOG]	= { "net.ipv4.tcp_max_syn_backlog", 1, 0, INT_MAX },
	[SC_NETDEV_BACKLOG]	= { "net.core.netdev_max_backlog", 1, 0, INT_MAX },
	[SC_RMEM_MAX]		= { "net.core.rmem_max", 1, 0, INT_MAX },
	[SC_WMEM_MAX]		= { "net.core.wmem_max", 1, 0, INT_MAX },
	[SC_TCP_RMEM]		= { "net.ipv4.tcp_rmem", 3, 0, INT_MAX },
	[SC_TCP_WMEM]		= { "net.ipv4.tcp_wmem", 3, 0, INT_MAX },
	[SC_PORT_RANGE]		= { "net.ipv4.ip_local_port_range", 2, 1, 65535 },
	[SC_TW_REUSE]		= { "net.ipv4.tcp_tw_reuse", 1, 0, 2 },
	[SC_DIRTY_BG_RATIO]	= { "vm.dirty_background_ratio", 1, 0, 100 },
	[SC_DIRTY_RATIO]	= { "vm.dirty_ratio", 1, 0, 100 },
	[SC_DIRTY_BG_BYTES]	= { "vm.dirty_background_bytes", 1, 0, INT64_MAX },
	[SC_DIRTY_BYTES]	= { "vm.dirty_bytes", 1, 0, INT64_MAX },
	[SC_SWAPPINESS]		= { "vm.swappiness", 1, 0, 200 },
	[SC_MAX_MAP_COUNT]	= { "vm.max_map_count", 1, 0, INT_MAX },
	[SC_FILE_MAX]		= { "fs.file-max", 1, 0, INT64_MAX },
	[SC_NR_OPEN]		= { "fs.nr_open", 1, 0, INT_MAX },
};

int sysctl_lookup(const char *name)
{
	for (int i = 0; i < SC_COUNT; i++)
		if (!strcmp(sysctl_descs[i].name, name))
			return i;
	return -ENOENT;
}

int sysctl_parse_value(int id, const char *text, struct sysctl_val *out)
{
	const struct sysctl_desc *d;
	const char *p = text;
	int n = 0;

	if (id < 0 || id >= SC_COUNT)
		return -EINVAL;
	d = &sysctl_descs[id];
	memset(out, 0, sizeof(*out));
	for (;;) {
		long long v;
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			break;
		if (n == d->nvals || !isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		v = strtoll(p, &end, 10);
		if (errno || v < d->min || v > d->max)
			return -EINVAL;
		out->v[n++] = v;
		p = end;
		if (*p && *p != ' ' && *p != '\t' && *p != '\n')
			return -EINVAL;
	}
	while (*p == '\n')
		p++;
	if (*p || n != d->nvals)
		return -EINVAL;
	out->n = n;
	out->present = true;
	return 0;
}

void sysctl_format(const struct sysctl_val *v, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (int i = 0; i < v->n && i < 3; i++) {
		int n = snprintf(buf + off, len - off, "%s%lld", i ? " " : "",
				 (long long)v->v[i]);

		if (n < 0 || (size_t)n >= len - off)
			return;
		off += n;
	}
}

int sysctl_path(const char *root, const char *name, char *buf, size_t len)
{
	size_t off;
	int n;

	/* Only names from our table reach here; still refuse path tricks. */
	if (strstr(name, "..") || strchr(name, '/'))
		return -EINVAL;
	n = snprintf(buf, len, "%s%sproc/sys/%s", root,
		     root[0] && root[strlen(root) - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	off = (size_t)n - strlen(name);
	for (char *p = buf + off; *p; p++)
		if (*p == '.')
			*p = '/';
	return 0;
}

int sysctl_read(const char *root, int id, struct sysctl_val *out)
{
	char path[PATH_MAX], buf[128];
	ssize_t n;
	int fd, err;

	if (id < 0 || id >= SC_COUNT)
		return -EINVAL;
	err = sysctl_path(root, sysctl_descs[id].name, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = 0;
	return sysctl_parse_value(id, buf, out);
}

int sysctl_write(const char *root, int id, const struct sysctl_val *v)
{
	char path[PATH_MAX], buf[128];
	size_t len;
	ssize_t n;
	int fd, err;

	if (id < 0 || id >= SC_COUNT || v->n != sysctl_descs[id].nvals)
		return -EINVAL;
	err = sysctl_path(root, sysctl_descs[id].name, path, sizeof(path));
	if (err)
		return err;
	sysctl_format(v, buf, sizeof(buf) - 1);
	len = strlen(buf);
	buf[len++] = '\n';
	/* O_TRUNC matters for --root trees of plain files; /proc ignores it.
	 * No O_CREAT: a knob that does not exist is an error, not a new file. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int netns_enter(const char *spec, int *saved_fd)
{
	char path[PATH_MAX];
	const char *p = spec;
	int fd, err = 0;

	*saved_fd = -1;
	while (isdigit((unsigned char)*p))
		p++;
	if (!*p && p != spec)
		snprintf(path, sizeof(path), "/proc/%s/ns/net", spec);
	else
		snprintf(path, sizeof(path), "%s", spec);
	*saved_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved_fd < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_saved;
	}
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	if (!err)
		return 0;
out_saved:
	close(*saved_fd);
	*saved_fd = -1;
	return err;
}

int netns_leave(int saved_fd)
{
	int err = 0;

	if (saved_fd < 0)
		return 0;
	if (setns(saved_fd, CLONE_NEWNET))
		err = -errno;
	close(saved_fd);
	return err;
}

/* ---- the sysctl knob family ---- */

static int sysctl_knob_normalize(const char *knob, const char *in, char *out, size_t len)
{
	struct sysctl_val v;
	int id = sysctl_lookup(knob);

	if (id < 0 || sysctl_parse_value(id, in, &v))
		return -EINVAL;
	sysctl_format(&v, out, len);
	return 0;
}

static int sysctl_knob_read(const struct live_knobs *k, const struct journal_entry *e,
			    char *val, size_t len)
{
	struct sysctl_val v;
	int err, saved, id = sysctl_lookup(e->knob);

	if (id < 0)
		return -EINVAL;
	err = knob_enter_ns(k, e, &saved);
	if (err)
		return err;
	err = sysctl_read(k->root, id, &v);
	netns_leave(saved);
	if (!err)
		sysctl_format(&v, val, len);
	return err;
}

static int sysctl_knob_write(const struct live_knobs *k, const struct journal_entry *e,
			     const char *val)
{
	struct sysctl_val v;
	int err, saved, id = sysctl_lookup(e->knob);

	if (id < 0 || sysctl_parse_value(id, val, &v))
		return -EINVAL;
	err = knob_enter_ns(k, e, &saved);
	if (err)
		return err;
	err = sysctl_write(k->root, id, &v);
	netns_leave(saved);
	return err;
}

static const char *sysctl_knob_privilege(const char *knob, const char *previous,
					 const char *next)
{
	(void)previous;
	(void)next;
	/* /proc/sys checks the euid, not a capability; net.* of a
	 * namespace also accept CAP_NET_ADMIN over its user namespace */
	return strncmp(knob, "net.", 4) ? "euid 0 (root)" :
	       "euid 0 (root), or CAP_NET_ADMIN over the namespace's user namespace";
}

static const char *sysctl_knob_lacks(const struct proposal *p, uint64_t cap_eff, uid_t euid,
				     bool live, bool other)
{
	(void)cap_eff;
	(void)other;
	return live && euid != 0 ? sysctl_knob_privilege(p->knob, p->current, p->proposed) : NULL;
}

const struct knob_family knob_family_sysctl = {
	.name = "sysctl",
	.title = "Kernel parameters (sysctl)",
	.per_process = false,
	.normalize = sysctl_knob_normalize,
	.read = sysctl_knob_read,
	.write = sysctl_knob_write,
	.privilege = sysctl_knob_privilege,
	.lacks = sysctl_knob_lacks,
};
