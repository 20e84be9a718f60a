// SPDX-License-Identifier: GPL-2.0
/*
 * `disco serve` in the static binary (make static): Debian's libgnutls.a,
 * which libmicrohttpd.a needs, depends on p11-kit, shipped only as a shared
 * library, so the static build (used in the qemu initramfs) has no HTTP
 * server. The command stays in the table and says so.
 */
#include "cmd.h"
#include "log.h"
#include "opts.h"

const char usage_serve[] =
"usage: disco serve [--listen ADDR:PORT] [-e LIST]\n"
"\n"
"Not available in this static build of disco (no static libmicrohttpd\n"
"with its TLS dependencies on Debian). Use the dynamically linked disco.\n";

/* The option layer lists every command's table (help, completion). */
const struct opt_cmd opt_cmd_serve = {
	.name = "serve",
	.no_json = "serve is not in the static build",
};

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_err("serve: not available in the static build (libmicrohttpd needs gnutls and p11-kit, which Debian ships only as shared libraries): use the dynamically linked disco");
	return EXIT_ERR;
}
