/* SPDX-License-Identifier: GPL-2.0 */
/* The one logger: every message to the user goes through here. */
#ifndef DISCO_LOG_H
#define DISCO_LOG_H

enum log_level {
	LOG_ERR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/* 0: errors and warnings; 1 (-v): info and libbpf; 2 (-vv): debug */
extern int log_verbosity;

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Error lines printed so far: a command that goes on after one can still fail. */
unsigned long log_errors(void);
/* Route libbpf's own output through the logger, shown only with -v. */
void log_setup_libbpf(void);

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
