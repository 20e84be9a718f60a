/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a session file back into the report JSON, and rendering it. */
#ifndef DISCO_REPORT_H
#define DISCO_REPORT_H

#include <stdio.h>
#include <jansson.h>
#include "collector.h"

/*
 * Read a session file into {"schema": "disco.report/1", "session",
 * "cost", "collectors"}: the last STATE or the SUMMARY block, plus every
 * recorded event folded in by its collector. A file cut off mid-way gives
 * session.complete = false; a damaged one (a corrupt block, one over the
 * reader's budgets: session.h) returns NULL with err naming the block and
 * its byte offset.
 */
json_t *report_load(const char *path, const struct report_opts *ro, char *err, size_t errlen);
/*
 * Same, but a damaged file still gives the report of what could be read:
 * session.complete = false and session.damage, one message per damage.
 * NULL (err says why) only when not even the header block could be read.
 */
json_t *report_load_partial(const char *path, const struct report_opts *ro, char *err,
			    size_t errlen);
/* Same from memory (tests, fuzzing). */
json_t *report_load_mem(const void *buf, size_t len, const struct report_opts *ro,
			char *err, size_t errlen);
/* Keep only the collectors named in the comma-separated list; -EINVAL if one is unknown. */
int report_filter(json_t *report, const char *only);
/* No events, no drops and no distribution with a sample: one line in the reports. */
bool report_collector_idle(const json_t *collector);
/* Every interval as timeline_print_interval() lines (`report --intervals`). */
int report_render_intervals(const json_t *report, FILE *out);
/* Text report, written through untrusted_text_write(); 0 or -ENOMEM (nothing written). */
int report_render_text(const json_t *report, FILE *out, const struct report_opts *ro);

#endif
