// SPDX-License-Identifier: GPL-2.0
/* Strings from the kernel, other processes and session files: one cleaning rule (untrusted.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "untrusted.h"

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), 0 when the
 * byte at s starts none. Overlong forms, surrogates and code points past
 * U+10FFFF are invalid; so are C1 controls (a terminal may act on them).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned int cp, min;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

/* Emit through put() the cleaned form of n bytes; keep_lines spares '\n' and '\t'. */
static void clean(const char *src, size_t n, bool keep_lines, bool stop_at_nul,
		    void (*put)(void *arg, const char *p, size_t len), void *arg)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, l;

	while (i < n && !(stop_at_nul && !s[i])) {
		if (s[i] < 0x80) {
			bool ok = (s[i] >= 0x20 && s[i] != 0x7f) ||
				  (keep_lines && (s[i] == '\n' || s[i] == '\t'));

			put(arg, ok ? (const char *)&s[i] : "?", 1);
			i++;
			continue;
		}
		/* a NUL is no continuation byte: the sequence check stops there */
		l = utf8_len(&s[i], n - i < 4 ? n - i : 4);
		if (!l) {
			put(arg, "?", 1);
			i++;
			continue;
		}
		put(arg, (const char *)&s[i], l);
		i += l;
	}
}

struct buf_sink {
	char *dst;
	size_t cap, len;
	bool full;
};

static void put_buf(void *arg, const char *p, size_t len)
{
	struct buf_sink *b = arg;

	/* never cut a UTF-8 sequence: it goes in whole or not at all */
	if (b->full || b->len + len >= b->cap) {
		b->full = true;
		return;
	}
	memmove(b->dst + b->len, p, len);
	b->len += len;
}

size_t untrusted_copy(char *dst, size_t cap, const char *src, size_t srclen)
{
	struct buf_sink b = { .dst = dst, .cap = cap };

	if (!cap)
		return 0;
	/* in place is safe: the output never runs ahead of the input */
	clean(src, srclen, false, true, put_buf, &b);
	dst[b.len] = 0;
	return b.len;
}

static void put_file(void *arg, const char *p, size_t len)
{
	fwrite(p, 1, len, arg);
}

void untrusted_text_write(FILE *out, const char *buf, size_t n)
{
	clean(buf, n, true, false, put_file, out);
}

int untrusted_text_render(FILE *out, untrusted_render_fn fn, const json_t *j, const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int err = 0;

	if (!mem)
		return -ENOMEM;
	fn(j, mem, arg);
	if (fclose(mem))
		err = -ENOMEM;
	else
		untrusted_text_write(out, buf, len);
	free(buf);
	return err;
}

static bool is_clean(const char *s, size_t n)
{
	size_t i = 0, l;

	while (i < n && s[i]) {
		l = utf8_len((const unsigned char *)&s[i], n - i);
		if (!l || (l == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)))
			return false;
		i += l;
	}
	return true;
}

/* Clean string value j, or key k of object o (value v); 0 or -ENOMEM. */
static int clean_one(json_t *j, json_t *o, const char *k, json_t *v)
{
	const char *s = j ? json_string_value(j) : k;
	size_t n = j ? json_string_length(j) : strlen(k);
	char *c;
	int err = 0;

	if (is_clean(s, n))
		return 0;
	c = malloc(n + 1);
	if (!c)
		return -ENOMEM;
	untrusted_copy(c, n + 1, s, n);
	if (j) {
		err = json_string_set(j, c) ? -ENOMEM : 0;
	} else if (json_object_set(o, c, v)) {
		err = -ENOMEM;
	} else {
		/* the object holds the value under its clean key now */
		json_object_del(o, k);
	}
	free(c);
	return err;
}

int untrusted_json_clean(json_t *j)
{
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;
	int err = 0;

	if (json_is_string(j))
		return clean_one(j, NULL, NULL, NULL);
	json_array_foreach(j, i, v)
		if ((err = untrusted_json_clean(v)))
			break;
	if (!err && json_is_object(j))
		json_object_foreach_safe(j, tmp, k, v)
			if ((err = untrusted_json_clean(v)) || (err = clean_one(NULL, j, k, v)))
				break;
	return err;
}
