// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a whole session file through report_load_mem (JSON
 * blocks, collectors' event decoders) and the text renderer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_opts ro = { .top = 5 };
	char err[256] = "";
	json_t *rep = report_load_mem(data, size, &ro, err, sizeof(err));
	FILE *null;

	if (!rep) {
		if (!err[0])
			abort();	/* every refusal must say why */
		return 0;
	}
	null = fopen("/dev/null", "w");
	if (null) {
		report_render_text(rep, null, &ro);
		fclose(null);
	}
	json_decref(rep);
	return 0;
}
