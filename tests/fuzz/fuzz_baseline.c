// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a `disco bench --baseline` file is untrusted input.
 * Parse it, then compare it with itself and print the tables, so every
 * value the reader accepts also goes through the statistics and printing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bench_result r;
	static struct bench_cmp rows[BENCH_MAX_CMP];
	char err[256];
	size_t nrows;
	json_t *j, *again;
	FILE *null;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	if (bench_result_from_json(j, &r, err, sizeof(err)))
		goto out;
	null = fopen("/dev/null", "w");
	if (null) {
		bench_compare(&r, &r, 10, rows, BENCH_MAX_CMP, &nrows);
		bench_compare_print(null, &r, &r, 10, rows, nrows);
		bench_result_print(null, &r);
		bench_overhead_print(null, &r);
		fclose(null);
	}
	/* what we accept we must be able to write back and read again */
	again = bench_result_to_json(&r);
	bench_result_free(&r);
	if (!again || bench_result_from_json(again, &r, err, sizeof(err)))
		abort();
	bench_result_free(&r);
	json_decref(again);
out:
	json_decref(j);
	return 0;
}
