// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the tune journal parser (untrusted file read by --rollback). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tuner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal j;
	char err[256], norm[TUNE_VAL_LEN];

	if (journal_parse((const char *)data, size, &j, err, sizeof(err)))
		return 0;
	/* whatever parses must be internally consistent */
	for (size_t i = 0; i < j.n; i++) {
		const struct journal_entry *e = &j.e[i];

		if (knob_normalize(e->family, e->knob, e->previous, norm, sizeof(norm)) ||
		    knob_normalize(e->family, e->knob, e->next, norm, sizeof(norm)))
			__builtin_trap();
		if ((e->family == FAM_SYSCTL) != (e->pid == 0))
			__builtin_trap();
	}
	journal_free(&j);
	return 0;
}
