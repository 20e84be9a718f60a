/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recording engine behind `record`, `top`, `serve`, `tune -d` and
 * `bench`: starts a set of collectors, runs one poll loop over all their
 * ring buffers, optionally streams everything into a session file.
 */
#ifndef DISCO_RECORDER_H
#define DISCO_RECORDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "collector.h"

struct recorder;

/*
 * Start the collectors in mask (bits index collectors[]). session_path may
 * be NULL (no file). argv is stored in the header. NULL and errno on
 * failure, with one clear message already logged.
 */
struct recorder *recorder_start(uint64_t mask, const struct rec_opts *o,
				const char *session_path, bool force,
				int argc, char **argv);
/* Whether a started collector has a target_loaded() callback. */
bool recorder_wants_target_loaded(const struct recorder *r);
/* Call every collector's target_loaded(); the first error, logged by it. */
int recorder_target_loaded(struct recorder *r, pid_t pid);
/* Wait up to timeout_ms for events, drain every ring, flush the file at
 * least every second. Returns events consumed or -errno. */
int recorder_poll(struct recorder *r, int timeout_ms);
/*
 * Current snapshot, shaped like a report: {"schema": "disco.report/1",
 * "session": {...}, "cost": {...}, "collectors": {name: {...}}}. Caller
 * owns the reference.
 */
json_t *recorder_collect(struct recorder *r);
/*
 * The same for a live view (top, serve) that shows counters and
 * distributions only: what only the final report shows (the stack
 * collectors' lists of stacks, processes and wakers) is left out, so a
 * refresh costs what changed since the last one (new stacks are
 * resolved once), not a rebuild of every list.
 */
json_t *recorder_collect_live(struct recorder *r);
/*
 * Snapshots (STATE blocks) are written every 2 s; record -i writes one per
 * interval itself: period 0 stops the automatic ones, recorder_write_state()
 * writes one now (0 or the write error, sticky like the poll loop's).
 */
void recorder_state_period(struct recorder *r, uint64_t ns);
int recorder_write_state(struct recorder *r, const json_t *state);
uint64_t recorder_events(const struct recorder *r);
uint64_t recorder_drops(const struct recorder *r);
uint64_t recorder_bytes(const struct recorder *r);
/*
 * Compress and write the session from a low-priority thread from now on
 * (session_start_async); call it once attached and capabilities dropped.
 */
int recorder_write_async(struct recorder *r);
/* Final snapshot (SUMMARY block when recording), detach, free. */
int recorder_stop(struct recorder *r, json_t **summary);

#endif
