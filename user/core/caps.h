/* SPDX-License-Identifier: GPL-2.0 */
/* Dropping privileges once the BPF programs are attached (SPEC §8). */
#ifndef DISCO_CAPS_H
#define DISCO_CAPS_H

#include <stdbool.h>
#include <sys/capability.h>

/*
 * Keep only what a running session still needs: reading /proc of other
 * users' processes, kallsyms addresses and signalling the traced command.
 * Attached programs, maps and rings stay usable through their fds. A
 * failure is a warning: the session goes on with the privileges it has.
 * writer: also CAP_SYS_NICE, for the session writer thread's priority.
 */
void caps_drop_after_attach(bool writer);
/*
 * Keep exactly keep[0..n) (permitted and effective), empty the bounding,
 * inheritable and ambient sets, and set no_new_privs. 0 or -errno.
 */
int caps_limit(const cap_value_t *keep, int n);

#endif
