// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: every /proc and /sys text parser of the tuner snapshot, and the sock_diag answer parser. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tuner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snapshot s;
	struct proc_snap p;
	struct sysctl_val v;
	uint64_t soft, hard, pages[TUNE_MAX_NODES];
	double some, full;
	cpu_set_t set;
	char buf[256];
	char *text;

	if (!size)
		return 0;
	/* the first byte picks the parser; the rest is the file, NUL-terminated
	 * as snapshot.c hands it over */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	switch (data[0] % 15) {
	case 0:
		parse_netstat(text, &s.c);
		break;
	case 1:
		parse_softnet(text, &s.c);
		break;
	case 2:
		parse_vmstat(text, &s.c);
		break;
	case 3:
		parse_cpustat(text, &s);
		break;
	case 4:
		parse_sockstat(text, &s);
		break;
	case 5:
		parse_meminfo(text, &s);
		break;
	case 6:
		parse_psi(text, &some, &full);
		break;
	case 7:
		parse_file_nr(text, &s);
		break;
	case 8:
		parse_limits_nofile(text, &soft, &hard);
		break;
	case 9:
		parse_pid_stat(text, &p);
		if (strlen(p.comm) >= sizeof(p.comm))
			__builtin_trap();
		break;
	case 10:
		parse_pid_status(text, &p);
		break;
	case 11:
		parse_numa_maps(text, pages);
		break;
	case 12:
		if (!cpulist_parse(text, &set)) {
			cpu_set_t back;

			/* format and parse again: the same set */
			cpulist_format(&set, buf, sizeof(buf));
			if (strlen(buf) < sizeof(buf) - 1 && CPU_COUNT(&set) &&
			    (cpulist_parse(buf, &back) || !CPU_EQUAL(&set, &back)))
				__builtin_trap();
		}
		break;
	case 13:
		for (int id = 0; id < SC_COUNT; id++)
			if (!sysctl_parse_value(id, text, &v)) {
				char again[128];
				struct sysctl_val w;

				sysctl_format(&v, again, sizeof(again));
				if (sysctl_parse_value(id, again, &w) || memcmp(&v, &w, sizeof(v)))
					__builtin_trap();
			}
		if (!nofile_parse(text, &soft, &hard))
			nofile_format(soft, hard, buf, sizeof(buf));
		break;
	case 14: {
		/* a netlink sock_diag answer: binary; malloc aligns it as recv()'s buffer */
		struct listener *ls = NULL;
		size_t n = 0, cap = 0;
		void *al = malloc(size);

		if (al) {
			memcpy(al, data + 1, size - 1);
			parse_inet_diag(al, size - 1, &ls, &n, &cap);
			if (n > cap)
				__builtin_trap();
			free(ls);
			free(al);
		}
		break;
	}
	}
	free(text);
	return 0;
}
