/* SPDX-License-Identifier: GPL-2.0 */
/* Pure helpers of the app collector, exported for the unit tests. */
#ifndef DISCO_COL_APP_H
#define DISCO_COL_APP_H

#include <stddef.h>
#include <stdint.h>

/* "GET", ... for an enum app_method; "" for 0 (not HTTP), "?" if unknown. */
const char *app_method_name(unsigned int m);
/*
 * The local ports of the LISTEN sockets in /proc/net/tcp or tcp6 text,
 * each once: how many, or -E2BIG when more than max.
 */
int app_listen_ports(const char *text, size_t len, uint16_t *ports, int max);

#endif
