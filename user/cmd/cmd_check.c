// SPDX-License-Identifier: GPL-2.0
/* disco check: which collectors and hooks can run here, and why not. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "collector.h"
#include "log.h"
#include "opts.h"

const char usage_check[] =
"usage: disco check [-j] [-q] [-v]\n"
"\n"
"Probe this kernel and print, per collector and per hook, the method that\n"
"will be used (tp_btf, raw_tp, tracepoint, fentry, kprobe, uprobe) or the\n"
"exact reason it cannot run. Exit status 0 if every default collector can\n"
"run, 1 otherwise. Classic tracepoints need tracefs: it is mounted at\n"
"/sys/kernel/tracing if missing (and said so).\n"
"\n"
"Options:\n"
"  -j, --json    machine-readable output (schema disco.check/1)\n"
"  -q, --quiet   print nothing: the exit status says whether all can run\n"
"  -v, --verbose more messages\n"
"\n"
"Examples:\n"
"  sudo disco check\n"
"  sudo disco check --json | jq '.collectors.sched.hooks'\n"
"  DISCO_FORCE_METHOD=raw_tp disco check   # what the raw_tp fallback would use\n";

/* "hook  opt-in: why" or "hook  unavailable (optional): why; lost: what" */
static void print_hook_off(const json_t *h)
{
	const char *word = hook_state_word(h);
	const char *why = json_string_value(json_object_get(h, "reason")) ?: "";
	bool optin = !strcmp(word, "opt-in");

	if (optin && !strncmp(why, "off: ", 5))
		why += 5;
	printf("  %-32s %s%s: %s%s%s\n", json_string_value(json_object_get(h, "hook")), word,
	       !optin && json_is_true(json_object_get(h, "optional")) ? " (optional)" : "", why,
	       json_object_get(h, "unavailable") ? "; lost: " : "",
	       json_string_value(json_object_get(h, "unavailable")) ?: "");
}

const struct opt_cmd opt_cmd_check = {
	.name = "check",
	.json_means = "the report as JSON (schema disco.check/1) on stdout",
	.quiet_means = "print nothing: the exit status says whether every default collector can run",
};

int cmd_check(int argc, char **argv)
{
	struct common_opts co;
	json_t *out, *cols, *k;
	bool json, all_ok = true;
	char why[160];
	int rc, first;

	rc = opts_parse(&opt_cmd_check, argc, argv, &co, NULL, NULL, &first);
	if (rc != EXIT_OK)
		return rc;
	if (first < argc)
		return usage_error("check", "unexpected argument '%s'", argv[first]);
	json = co.json;
	cols = json_object();
	k = probe_kernel_json();
	for (size_t i = 0; i < ncollectors; i++) {
		const struct collector *c = collectors[i];
		struct hook_choice ch[MAX_HOOKS] = {};
		json_t *cj = json_object();
		bool ok = true;

		why[0] = 0;
		if (probe_btf(why, sizeof(why)) || probe_privileges(why, sizeof(why)) ||
		    probe_ringbuf(why, sizeof(why)))
			ok = false;
		/* the same choice start() makes, fallbacks resolved */
		if (hooks_choose(c, ch))
			ok = false;
		json_object_set_new(cj, "ok", json_boolean(ok));
		json_object_set_new(cj, "default", json_boolean(c->default_on));
		if (!ok && why[0])
			json_object_set_new(cj, "reason", json_string(why));
		json_object_set_new(cj, "hooks", hooks_to_json(c, ch));
		json_object_set_new(cols, c->name, cj);
		if (!ok && c->default_on)
			all_ok = false;
	}
	out = json_pack("{s:s, s:o, s:o, s:b}", "schema", "disco.check/1", "kernel", k,
			"collectors", cols, "ok", all_ok);
	if (co.quiet) {
		/* the exit status says it */
	} else if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		const json_t *f = json_object_get(k, "features"), *v, *c, *h;
		const char *name;
		size_t i;

		printf("kernel %s (%s), lockdown: %s\n", json_string_value(json_object_get(k, "release")),
		       json_string_value(json_object_get(k, "machine")),
		       json_string_value(json_object_get(k, "lockdown")));
		json_object_foreach((json_t *)f, name, v)
			printf("  %-13s %s\n", name, json_is_true(v) ? "yes" : json_string_value(v));
		json_object_foreach(cols, name, c) {
			printf("\n%s: %s%s%s\n", name, json_is_true(json_object_get(c, "ok")) ? "can run" : "CANNOT RUN",
			       json_object_get(c, "reason") ? ": " : "",
			       json_string_value(json_object_get(c, "reason")) ?: "");
			json_array_foreach(json_object_get(c, "hooks"), i, h) {
				const char *m = json_string_value(json_object_get(h, "method"));

				if (m)
					printf("  %-32s %s\n", json_string_value(json_object_get(h, "hook")), m);
				else if (json_is_true(json_object_get(h, "not_needed")))
					printf("  %-32s %s\n", json_string_value(json_object_get(h, "hook")),
					       json_string_value(json_object_get(h, "reason")));
				else
					print_hook_off(h);
			}
		}
	}
	json_decref(out);
	return all_ok ? EXIT_OK : EXIT_ERR;
}
