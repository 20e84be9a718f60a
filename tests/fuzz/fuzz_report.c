// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a session's decompressed blocks through report_load_mem
 * (JSON blocks, the EVENTS_PACKED decoder, every collector's event decoder)
 * and every renderer (text, intervals, JSON, HTML, Prometheus, folded).
 *
 * The input is a session in plain form, so that mutations reach the block
 * payloads instead of dying in the CRC or in inflate:
 *
 *   plain  := file_header[16] | pblock*
 *   pblock := u32 type | u32 len | byte[len]      (len cut to what is left)
 *
 * Each pblock becomes a real block (zlib, stored; its CRC computed) before
 * the file is loaded. Built with -DFUZZ_REPORT_SEEDS instead, this file is
 * the tool that turns recorded sessions into such seeds: fuzz_report_seed
 * IN OUT_PREFIX (tests/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "out_flame.h"
#include "out_html.h"
#include "out_pprof.h"
#include "out_prom.h"
#include "report.h"
#include "session.h"
#include "fuzz_le.h"

#ifndef FUZZ_REPORT_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The plain input as a session file with valid blocks; NULL when too short. */
static uint8_t *to_session(const uint8_t *data, size_t size, size_t *out_len)
{
	size_t cap = SESSION_FILE_HDR, off = SESSION_FILE_HDR, n = SESSION_FILE_HDR, pos;
	uint32_t seq = 0;
	uint8_t *out;

	if (size < SESSION_FILE_HDR)
		return NULL;
	/* stored deflate: 5 bytes a 64 KiB block, plus the zlib wrapper */
	for (pos = off; size - pos >= 8;) {
		size_t len = get_le32(data + pos + 4);

		if (len > size - pos - 8)
			len = size - pos - 8;
		cap += SESSION_BLOCK_HDR + compressBound(len);
		pos += 8 + len;
	}
	out = malloc(cap);
	if (!out)
		return NULL;
	memcpy(out, data, SESSION_FILE_HDR);
	while (size - off >= 8) {
		uLongf comp;
		uint32_t type = get_le32(data + off);
		size_t len = get_le32(data + off + 4);
		uLong crc;

		if (len > size - off - 8)
			len = size - off - 8;
		comp = cap - n - SESSION_BLOCK_HDR;
		if (compress2(out + n + SESSION_BLOCK_HDR, &comp, data + off + 8, len, Z_NO_COMPRESSION) != Z_OK)
			break;
		if (get_le32(data + 8) >= 3) {
			/* version 3: magic, number, both CRCs (session.h) */
			memcpy(out + n, SESSION_BLOCK_MAGIC, 4);
			put_le32(out + n + 4, type);
			put_le32(out + n + 8, seq++);
			put_le32(out + n + 12, (uint32_t)len);
			put_le32(out + n + 16, (uint32_t)comp);
			put_le32(out + n + 20, (uint32_t)crc32(0, out + n + SESSION_BLOCK_HDR, comp));
			put_le32(out + n + 24, (uint32_t)crc32(0, out + n, 24));
			n += SESSION_BLOCK_HDR + comp;
			off += 8 + len;
			continue;
		}
		memmove(out + n + SESSION_BLOCK_HDR_V2, out + n + SESSION_BLOCK_HDR, comp);
		put_le32(out + n, type);
		put_le32(out + n + 4, (uint32_t)len);
		put_le32(out + n + 8, (uint32_t)comp);
		crc = crc32(0, out + n, 12);
		crc = crc32(crc, out + n + SESSION_BLOCK_HDR_V2, comp);
		put_le32(out + n + 12, (uint32_t)crc);
		n += SESSION_BLOCK_HDR_V2 + comp;
		off += 8 + len;
	}
	*out_len = n;
	return out;
}

static void render_all(json_t *rep, FILE *null, const struct report_opts *ro)
{
	struct prom_opts po = { .max_series = 50 };
	static const char *const stack_cols[] = { "cpu", "offcpu", "alloc" };
	char *s;

	report_render_text(rep, null, ro);
	report_render_intervals(rep, null);
	html_render(rep, null, ro);
	prom_render(rep, null, &po);
	for (size_t i = 0; i < sizeof(stack_cols) / sizeof(stack_cols[0]); i++) {
		const json_t *col = json_object_get(json_object_get(rep, "collectors"), stack_cols[i]);

		if (col) {
			uint8_t *pb = NULL;
			size_t n;

			folded_write(col, null);
			if (!pprof_encode(col, stack_cols[i], NULL, &pb, &n))
				free(pb);
		}
	}
	s = json_dumps(rep, JSON_COMPACT);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct report_opts ro = { .top = 5 };
	char err[256] = "";
	size_t len = 0;
	uint8_t *file = to_session(data, size, &len);
	json_t *rep;

	if (!file)
		return 0;
	if (!null)
		null = fopen("/dev/null", "w");
	rep = report_load_mem(file, len, &ro, err, sizeof(err));
	if (!rep) {
		if (!err[0])
			abort();	/* every refusal must say why */
	} else {
		if (null)
			render_all(rep, null, &ro);
		json_decref(rep);
	}
	free(file);
	return 0;
}

#else /* FUZZ_REPORT_SEEDS: a recorded session -> plain-form seeds */

static int write_seed(const char *prefix, int nr, const uint8_t *hdr, const uint8_t *first,
		      size_t first_len, const uint8_t *blk, size_t blk_len)
{
	char path[4096];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s.%03d", prefix, nr);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(hdr, 1, SESSION_FILE_HDR, f) != SESSION_FILE_HDR ||
	    fwrite(first, 1, first_len, f) != first_len || fwrite(blk, 1, blk_len, f) != blk_len)
		ret = -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

/*
 * One seed per block after the first, each the file header, the HEADER
 * block and that block: small inputs run fast and mutate where it matters.
 */
int main(int argc, char **argv)
{
	uint8_t *buf = NULL, *first = NULL, *cur = NULL;
	size_t size = 0, cap = 0, off = SESSION_FILE_HDR, first_len = 0, hlen;
	int ret = 1, nr = 0;
	FILE *in;

	if (argc != 3) {
		fprintf(stderr, "usage: fuzz_report_seed SESSION OUT_PREFIX\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (!in)
		goto out;
	for (;;) {
		size_t n;

		if (size == cap && !(buf = realloc(buf, cap = cap * 2 + 65536)))
			goto out;
		n = fread(buf + size, 1, cap - size, in);
		if (!n)
			break;
		size += n;
	}
	if (size < SESSION_FILE_HDR)
		goto out;
	/* whole blocks only: a cut or damaged tail ends the seeds */
	hlen = get_le32(buf + 8) >= 3 ? SESSION_BLOCK_HDR : SESSION_BLOCK_HDR_V2;
	while (size - off >= hlen) {
		/* version 3: magic | type | seq | raw_len | comp_len | crcs */
		const uint8_t *h = buf + off + (hlen == SESSION_BLOCK_HDR ? 8 : 0);
		uint32_t raw_len = get_le32(h + 4), comp_len = get_le32(h + 8);
		uLongf got = raw_len;

		if (comp_len > size - off - hlen || raw_len > SESSION_MAX_RAW)
			break;
		free(cur);
		cur = malloc(8 + (size_t)raw_len);
		if (!cur || uncompress(cur + 8, &got, buf + off + hlen, comp_len) != Z_OK ||
		    got != raw_len)
			break;
		put_le32(cur, get_le32(buf + off + (hlen == SESSION_BLOCK_HDR ? 4 : 0)));
		put_le32(cur + 4, raw_len);
		if (!first) {
			first = cur;
			first_len = 8 + (size_t)raw_len;
			cur = NULL;
		} else if (write_seed(argv[2], ++nr, buf, first, first_len, cur, 8 + (size_t)raw_len)) {
			goto out;
		}
		off += hlen + comp_len;
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "fuzz_report_seed: %s -> %s failed\n", argc > 1 ? argv[1] : "?",
			argc > 2 ? argv[2] : "?");
	if (in)
		fclose(in);
	free(buf);
	free(first);
	free(cur);
	return ret;
}

#endif
