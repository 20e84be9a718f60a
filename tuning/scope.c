// SPDX-License-Identifier: GPL-2.0
/* Scope of a tune run: which namespaces, root, host and boot it measured, and the commands that act there. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tuner.h"

#define NETNS_RUN_DIR	"/run/netns/"

static int ns_ident(const char *path, uint64_t *ino, uint64_t *dev)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*ino = st.st_ino;
	*dev = st.st_dev;
	return 0;
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static bool all_digits(const char *s)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	return p != s && !*p;
}

/*
 * When pid 1's namespace cannot be read (a process in a child namespace may
 * not), the knobs tell: netdev_max_backlog exists only in the initial one.
 */
static bool init_netns_knobs(const char *netns)
{
	int saved = -1;
	bool init;

	if (netns && netns_enter(netns, &saved))
		return false;
	init = !access("/proc/sys/net/core/netdev_max_backlog", F_OK);
	netns_leave(saved);
	return init;
}

int scope_identify(struct tune_scope *s, const char *root, const char *netns,
		   const char *jdir)
{
	char path[300];
	uint64_t ino = 0, dev = 0;
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->root, sizeof(s->root), "%s", root);
	snprintf(s->netns, sizeof(s->netns), "%s", netns ? netns : "");
	if (jdir)
		snprintf(s->journal_dir, sizeof(s->journal_dir), "%s", jdir);
	else
		snprintf(s->journal_dir, sizeof(s->journal_dir), "%s%svar/lib/disco", root,
			 root[strlen(root) - 1] == '/' ? "" : "/");
	s->journal_dir_given = jdir != NULL;
	if (!netns)
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else if (all_digits(netns))
		snprintf(path, sizeof(path), "/proc/%s/ns/net", netns);
	else
		snprintf(path, sizeof(path), "%s", netns);
	err = ns_ident(path, &s->id.netns_ino, &s->id.netns_dev);
	if (err)
		return err;
	/* pid 1's namespace is the host's */
	if (!ns_ident("/proc/1/ns/net", &ino, &dev))
		s->netns_private = ino != s->id.netns_ino || dev != s->id.netns_dev;
	else
		s->netns_private = !init_netns_knobs(netns);
	if (strcmp(root, "/") && (err = ns_ident("/proc/self/ns/mnt", &s->id.mntns_ino,
						  &s->id.mntns_dev)))
		return err;
	if (gethostname(s->id.hostname, sizeof(s->id.hostname) - 1))
		s->id.hostname[0] = 0;
	read_line("/proc/sys/kernel/random/boot_id", s->id.boot_id, sizeof(s->id.boot_id));
	s->id.uid = (uint32_t)getuid();
	s->id.pid = (int32_t)getpid();
	snprintf(s->id.version, sizeof(s->id.version), "%s", DISCO_VERSION);
	return 0;
}

bool scope_same(const struct tune_scope *here, const struct journal *j, char *why, size_t len)
{
	const struct tune_ident *a = &here->id, *b = &j->id;

	if (!b->netns_ino && !b->boot_id[0]) {
		snprintf(why, len, "written before journals recorded their namespace");
		return false;
	}
	if (strcmp(here->root, j->root)) {
		snprintf(why, len, "written for --root %s", j->root);
		return false;
	}
	if (strcmp(a->boot_id, b->boot_id)) {
		snprintf(why, len, "written during another boot (%s)", b->boot_id);
		return false;
	}
	if (a->netns_ino != b->netns_ino || a->netns_dev != b->netns_dev) {
		snprintf(why, len, "written in network namespace %llu:%llu%s%s, not %llu:%llu",
			 (unsigned long long)b->netns_dev, (unsigned long long)b->netns_ino,
			 j->netns[0] ? " --netns " : "", j->netns,
			 (unsigned long long)a->netns_dev, (unsigned long long)a->netns_ino);
		return false;
	}
	if (strcmp(here->root, "/") &&
	    (a->mntns_ino != b->mntns_ino || a->mntns_dev != b->mntns_dev)) {
		snprintf(why, len, "written in mount namespace %llu:%llu, where --root %s may be "
			 "another tree", (unsigned long long)b->mntns_dev,
			 (unsigned long long)b->mntns_ino, j->root);
		return false;
	}
	why[0] = 0;
	return true;
}

void shell_quote(const char *in, char *out, size_t len)
{
	size_t o = 0;
	bool plain = *in != 0;

	for (const char *p = in; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789/._-:,=+@%", *p) != NULL;
	if (plain) {
		snprintf(out, len, "%s", in);
		return;
	}
	if (len < 3) {
		if (len)
			out[0] = 0;
		return;
	}
	out[o++] = '\'';
	for (const char *p = in; *p && o + 6 < len; p++) {
		if (*p == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *p;
		}
	}
	out[o++] = '\'';
	out[o] = 0;
}

void scope_args(const struct tune_scope *s, char *buf, size_t len)
{
	char ns[300] = "", root[300] = "", jd[600] = "";

	if (s->netns[0])
		shell_quote(s->netns, ns, sizeof(ns));
	if (strcmp(s->root, "/"))
		shell_quote(s->root, root, sizeof(root));
	if (s->journal_dir_given)
		shell_quote(s->journal_dir, jd, sizeof(jd));
	snprintf(buf, len, "%s%s%s%s%s%s", ns[0] ? " --netns " : "", ns, root[0] ? " --root " : "",
		 root, jd[0] ? " --journal " : "", jd);
}

void scope_ns_exec(const struct tune_scope *s, char *buf, size_t len)
{
	char q[300];

	buf[0] = 0;
	if (!s->netns[0])
		return;
	if (!strncmp(s->netns, NETNS_RUN_DIR, strlen(NETNS_RUN_DIR)) &&
	    !strchr(s->netns + strlen(NETNS_RUN_DIR), '/')) {
		shell_quote(s->netns + strlen(NETNS_RUN_DIR), q, sizeof(q));
		snprintf(buf, len, "ip netns exec %s ", q);
	} else if (all_digits(s->netns)) {
		snprintf(buf, len, "nsenter -t %s -n ", s->netns);
	} else {
		shell_quote(s->netns, q, sizeof(q));
		snprintf(buf, len, "nsenter --net=%s ", q);
	}
}

/* A net.* knob measured in a namespace lives there, not on the host. */
static bool in_private_ns(const struct tune_scope *s, const struct proposal *p)
{
	return p->family == FAM_SYSCTL && s->netns_private && !strncmp(p->knob, "net.", 4);
}

static void sysctl_commands(const struct tune_scope *s, struct proposal *p, const char *args)
{
	char exec[320], file[300], root[300];

	if (strcmp(s->root, "/")) {
		/* a tree, not this system: its own files, never sysctl(8) */
		if (sysctl_path(s->root, p->knob, file, sizeof(file)))
			file[0] = 0;
		shell_quote(file, root, sizeof(root));
		snprintf(p->undo, sizeof(p->undo), "echo '%s' > %s (or: disco tune --rollback%s)",
			 p->current, root, args);
		snprintf(file, sizeof(file), "%s/etc/sysctl.d/90-disco.conf", s->root);
		snprintf(p->persist, sizeof(p->persist), "%s = %s   (in %s)", p->knob, p->proposed,
			 file);
		return;
	}
	if (!in_private_ns(s, p)) {
		snprintf(p->undo, sizeof(p->undo), "sysctl -w %s=\"%s\" (or: disco tune --rollback%s)",
			 p->knob, p->current, args);
		snprintf(p->persist, sizeof(p->persist),
			 "%s = %s   (in /etc/sysctl.d/90-disco.conf)", p->knob, p->proposed);
		return;
	}
	scope_ns_exec(s, exec, sizeof(exec));
	snprintf(p->undo, sizeof(p->undo), "%ssysctl -w %s=\"%s\" (or: disco tune --rollback%s)",
		 exec, p->knob, p->current, args);
	if (exec[0])
		snprintf(p->persist, sizeof(p->persist),
			 "%s = %s in a file loaded when the namespace is set up: %ssysctl -p FILE; "
			 "a container: its runtime's sysctl setting (docker run --sysctl %s=%s, "
			 "Kubernetes securityContext.sysctls); the host's sysctl.d files do not reach it",
			 p->knob, p->proposed, exec, p->knob, p->proposed);
	else
		snprintf(p->persist, sizeof(p->persist),
			 "%s = %s in a file loaded inside this network namespace when it is set up "
			 "(sysctl -p FILE from a process in it); a container: its runtime's sysctl "
			 "setting; the host's sysctl.d files do not reach it", p->knob, p->proposed);
}

void tune_scope_commands(const struct tune_scope *s, struct tune_result *r)
{
	char args[640];

	scope_args(s, args, sizeof(args));
	for (size_t i = 0; i < r->n; i++) {
		struct proposal *p = &r->props[i];
		char *tail;

		if (p->family == FAM_SYSCTL) {
			sysctl_commands(s, p, args);
			continue;
		}
		/* prlimit/taskset act on a pid: only the rollback needs the scope */
		tail = strstr(p->undo, " (or: disco tune --rollback)");
		if (tail)
			snprintf(tail, sizeof(p->undo) - (size_t)(tail - p->undo),
				 " (or: disco tune --rollback%s)", args);
	}
}

json_t *scope_to_json(const struct tune_scope *s)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:s, s:s, s:s}",
			      "root", s->root, "netns", s->netns,
			      "netns_private", s->netns_private,
			      "netns_inode", (json_int_t)s->id.netns_ino,
			      "netns_dev", (json_int_t)s->id.netns_dev,
			      "hostname", s->id.hostname, "boot_id", s->id.boot_id,
			      "journal_dir", s->journal_dir);

	if (o && strcmp(s->root, "/")) {
		json_object_set_new(o, "mntns_inode", json_integer((json_int_t)s->id.mntns_ino));
		json_object_set_new(o, "mntns_dev", json_integer((json_int_t)s->id.mntns_dev));
	}
	return o;
}
