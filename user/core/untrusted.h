/* SPDX-License-Identifier: GPL-2.0 */
/* Strings from the kernel, other processes and session files: made safe per output kind. */
#ifndef DISCO_UNTRUSTED_H
#define DISCO_UNTRUSTED_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

/*
 * The one rule for every untrusted string (comm, cgroup path, hostname,
 * kernel release, symbol, hook name, file path, HTTP route): a control
 * byte (C0, DEL, and the C1 range U+0080-U+009F) and every byte that is
 * not part of a valid UTF-8 sequence becomes '?'. Valid multi-byte UTF-8
 * is kept. '?' (not "\x1b") so column widths in text and top stay put.
 * Per output kind:
 *   report JSON (and so JSON output): untrusted_copy() when a string is
 *     taken from the kernel or an event, untrusted_json_clean() on every
 *     JSON block read from a session file; jansson then escapes the rest;
 *   text: untrusted_text_write() over the whole rendered report (keeps
 *     only '\n' and '\t'); top: untrusted_copy() on each cell;
 *   HTML: html_escape() (out_html.c); Prometheus: prom_escape_label().
 */

/*
 * Copy at most srclen bytes of src (stops at NUL) into dst (cap bytes,
 * always terminated) with the rule above. dst may equal src. Returns the
 * length written.
 */
size_t untrusted_copy(char *dst, size_t cap, const char *src, size_t srclen);

/* Write n bytes of rendered text with the rule above, keeping '\n' and '\t'. */
void untrusted_text_write(FILE *out, const char *buf, size_t n);

typedef void (*untrusted_render_fn)(const json_t *j, FILE *out, const void *arg);
/*
 * Run fn(j, <memory>, arg), then write what it printed through
 * untrusted_text_write(): no renderer's fprintf reaches out raw.
 * -ENOMEM (and nothing written) when memory runs out.
 */
int untrusted_text_render(FILE *out, untrusted_render_fn fn, const json_t *j, const void *arg);

/*
 * Apply the rule to every string value and object key in j (a block read
 * from a file). Returns 0 or -ENOMEM.
 */
int untrusted_json_clean(json_t *j);

#endif
