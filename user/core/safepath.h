/* SPDX-License-Identifier: GPL-2.0 */
/* Output paths root writes to: no directory reached through someone else's symlink. */
#ifndef DISCO_SAFEPATH_H
#define DISCO_SAFEPATH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Walk the directories of path (everything before its last component) as
 * the kernel would, following each symbolic link met on the way, and
 * refuse one that is owned by neither root nor uid: whoever owns that
 * link decides where the file really goes, and could point root's output
 * at /etc. The last component is the writer's to check (O_NOFOLLOW).
 * A component that does not exist ends the walk with 0: creating the
 * file there fails with its own message. Returns 0, -EPERM (why says
 * which link and its owner), -ELOOP or -ENAMETOOLONG.
 */
int safepath_check_dirs(const char *path, uid_t uid, char *why, size_t len);

#endif
