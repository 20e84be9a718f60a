// SPDX-License-Identifier: GPL-2.0
/* Output paths root writes to: no directory reached through someone else's symlink. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "safepath.h"

/* As the kernel's MAXSYMLINKS: more links than this on one path is a loop. */
#define SAFEPATH_MAX_LINKS 40

/*
 * rest is what is still to walk, done the directory reached so far (""
 * for /, "." for a relative start); each component is lstat'ed under
 * done, a link's target replaces it at the front of rest.
 */
int safepath_check_dirs(const char *path, uid_t uid, char *why, size_t len)
{
	char done[PATH_MAX], rest[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	const char *slash = path ? strrchr(path, '/') : NULL;
	const char *p;
	int links = 0, err = 0;
	struct stat st;

	if (!slash)
		goto out;	/* no directory named: the current one */
	if ((size_t)(slash - path) >= sizeof(rest)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	memcpy(rest, path, slash - path);
	rest[slash - path] = '\0';
	snprintf(done, sizeof(done), "%s", path[0] == '/' ? "" : ".");
	p = rest;
	for (;;) {
		size_t n;
		ssize_t tl;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if ((size_t)snprintf(next, sizeof(next), "%s/%.*s", done, (int)n, p) >= sizeof(next)) {
			err = -ENAMETOOLONG;
			goto out;
		}
		p += n;
		if (lstat(next, &st))
			goto out;	/* missing or unreadable: the open says why */
		if (!S_ISLNK(st.st_mode)) {
			/* done has no link in it, so ".." here is the real parent */
			memcpy(done, next, strlen(next) + 1);
			continue;
		}
		if (st.st_uid != 0 && st.st_uid != uid) {
			snprintf(why, len, "%s is a symbolic link owned by uid %u, neither root nor you",
				 next, (unsigned int)st.st_uid);
			err = -EPERM;
			goto out;
		}
		tl = readlink(next, target, sizeof(target) - 1);
		if (tl < 0)
			goto out;
		target[tl] = '\0';
		if (++links > SAFEPATH_MAX_LINKS) {
			err = -ELOOP;
			goto out;
		}
		if ((size_t)snprintf(next, sizeof(next), "%s/%s", target, p) >= sizeof(next)) {
			err = -ENAMETOOLONG;
			goto out;
		}
		memcpy(rest, next, strlen(next) + 1);
		p = rest;
		if (target[0] == '/')
			done[0] = '\0';
	}
out:
	if (err && err != -EPERM)
		snprintf(why, len, "%s", strerror(-err));
	return err;
}
