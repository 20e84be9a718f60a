// SPDX-License-Identifier: GPL-2.0
/* Logger: "disco: ..." lines on stderr, filtered by verbosity. */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

int log_verbosity;
static unsigned long nerrors;

static const char *const prefix[] = {
	[LOG_ERR] = "disco: error: ",
	[LOG_WARN] = "disco: warning: ",
	[LOG_INFO] = "disco: ",
	[LOG_DEBUG] = "disco: debug: ",
};

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((level == LOG_INFO && log_verbosity < 1) ||
	    (level == LOG_DEBUG && log_verbosity < 2))
		return;
	if (level == LOG_ERR)
		nerrors++;
	fputs(prefix[level], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

unsigned long log_errors(void)
{
	return nerrors;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_verbosity < 1 || (level == LIBBPF_DEBUG && log_verbosity < 2))
		return 0;
	fputs("", stderr);
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
