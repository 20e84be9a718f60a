/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --call-graph dwarf: user stacks unwound in userspace with elfutils'
 * libdwfl from a sample's registers and stack copy, through the CFI
 * (.eh_frame) of the files the process maps. One libdwfl session per
 * process, made when the process is first seen (its files stay open, so
 * its later samples unwind after it exits); the files' ELF handles are
 * shared by every process that maps them.
 */
#ifndef DISCO_UNWIND_H
#define DISCO_UNWIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "elfcache.h"
#include "syms.h"
#include "ustack.h"

struct unwinder;

/* NULL and errno (ENOTSUP: built without libdw, or not x86-64). */
struct unwinder *unwinder_new(void);
void unwinder_free(struct unwinder *u);
/* Whether this build can unwind (libdw linked, x86-64). */
bool unwinder_available(void);

/*
 * Open the files of pid's executable mappings m[0..n) (through
 * /proc/PID/map_files, so deleted files and other mount namespaces work),
 * replacing what pid had. 0 or -errno.
 */
int unwinder_load(struct unwinder *u, pid_t pid, const struct map_entry *m, int n);

/*
 * Close the files of processes that have exited (their samples still in
 * the ring load them again, by path, if they need to).
 */
void unwinder_prune(struct unwinder *u);

/* What the shared file handles saved: opens, reuses, handles shared by build-id. */
void unwinder_file_stats(const struct unwinder *u, struct elf_cache_stats *st);

/*
 * Unwind sample s into ips (leaf first, at most max): the number of
 * frames (at least the sampled ip), *complete when the unwind reached the
 * outermost frame. *stale when it stopped in code outside every file
 * loaded for the process (its maps grew, dlopen): load it again and
 * retry; said at once for the first loads, then at most once a second. -ENOENT when the process was never loaded.
 */
int unwinder_unwind(struct unwinder *u, const struct ustack_sample *s, uint64_t *ips, int max,
		    bool *complete, bool *stale);

#endif
