// SPDX-License-Identifier: GPL-2.0
/* Rendering of tune results: text grouped by family, and disco.tune/1 JSON. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include "tuner.h"

static void print_one(FILE *out, const struct proposal *p)
{
	if (!knob_family(p->family)->per_process)
		fprintf(out, "  %s: %s -> %s   [rule %s]\n", p->knob, p->current, p->proposed,
			p->rule);
	else
		fprintf(out, "  pid %d (%s) %s: %s -> %s   [rule %s]\n", (int)p->pid, p->comm,
			p->knob, p->current, p->proposed, p->rule);
	fprintf(out, "    why:      %s\n", p->why);
	fprintf(out, "    evidence:");
	for (int i = 0; i < p->nev; i++)
		fprintf(out, "%s %s=%llu", i ? "," : "", p->ev[i].key,
			(unsigned long long)p->ev[i].value);
	fprintf(out, "\n    risk:     %s\n", p->risk);
	if (p->cannot[0])
		fprintf(out, "    CANNOT APPLY: %s\n", p->cannot);
	fprintf(out, "    persist:  %s\n", p->persist);
	fprintf(out, "    undo:     %s\n\n", p->undo);
}

/* The sysctl.d files: the host's for global knobs, the namespace's own for
 * net.* knobs measured inside one, the tree's own under --root. */
static void print_snippets(FILE *out, const struct tune_result *r, const struct tune_scope *s)
{
	char exec[320];
	bool tree = strcmp(s->root, "/") != 0;

	scope_ns_exec(s, exec, sizeof(exec));
	for (int ns = 0; ns < 2; ns++) {
		bool header = false;

		for (size_t i = 0; i < r->n; i++) {
			const struct proposal *p = &r->props[i];
			bool in_ns = !tree && s->netns_private && !strncmp(p->knob, "net.", 4);

			if (p->family != FAM_SYSCTL || in_ns != (bool)ns)
				continue;
			if (!header && ns)
				fprintf(out, "For the network namespace%s%s (load inside it with: "
					"%ssysctl -p FILE; the host's sysctl.d files do not reach it):\n",
					s->netns[0] ? " " : "", s->netns, exec);
			else if (!header)
				fprintf(out, "Ready-to-use %s/etc/sysctl.d/90-disco.conf:\n"
					"  # written by disco tune; remove this file and reboot (or "
					"apply the undo lines above) to undo\n", tree ? s->root : "");
			header = true;
			fprintf(out, "  %s = %s\n", p->knob, p->proposed);
		}
		if (header)
			fputc('\n', out);
	}
}

void tune_print_text(FILE *out, const struct tune_result *r, const struct tune_scope *s,
		     bool dry_run)
{
	char args[640];

	scope_args(s, args, sizeof(args));
	fprintf(out, "disco tune: %zu recommendation%s", r->n, r->n == 1 ? "" : "s");
	if (r->nadvice)
		fprintf(out, ", %zu fix%s outside the kernel", r->nadvice,
			r->nadvice == 1 ? "" : "es");
	fprintf(out, "%s\n", dry_run ? " (dry run: nothing was changed)" : "");
	fprintf(out, "scope: root %s, network namespace %s%s%llu:%llu%s, journals in %s\n\n",
		s->root, s->netns[0] ? s->netns : "", s->netns[0] ? " = " : "",
		(unsigned long long)s->id.netns_dev, (unsigned long long)s->id.netns_ino,
		s->netns_private ? " (not the host's)" : " (the host's)", s->journal_dir);
	for (int f = 0; f < FAM_COUNT; f++) {
		bool header = false;

		for (size_t i = 0; i < r->n; i++) {
			if (r->props[i].family != (enum tune_family)f)
				continue;
			if (!header) {
				fprintf(out, "%s\n", knob_family(f)->title);
				header = true;
			}
			print_one(out, &r->props[i]);
		}
	}
	if (r->nadvice) {
		fprintf(out, "Fixes outside the kernel (nothing to apply: the cause is the "
			"application's setting)\n");
		for (size_t i = 0; i < r->nadvice; i++) {
			const struct proposal *p = &r->advice[i];
			int k;

			fprintf(out, "  pid %d (%s) %s: %s   [rule %s]\n", (int)p->pid, p->comm,
				p->knob, p->current, p->rule);
			fprintf(out, "    why:      %s\n    evidence:", p->why);
			for (k = 0; k < p->nev; k++)
				fprintf(out, "%s %s=%llu", k ? "," : "", p->ev[k].key,
					(unsigned long long)p->ev[k].value);
			fprintf(out, "\n    fix:      %s\n\n", p->persist);
		}
	}
	print_snippets(out, r, s);
	if (r->nnotes) {
		fprintf(out, "Not decided:\n");
		for (size_t i = 0; i < r->nnotes; i++)
			fprintf(out, "  %s\n", r->notes[i]);
		fputc('\n', out);
	}
	if (r->n && dry_run)
		fprintf(out, "Apply with: disco tune --apply%s (root; journaled in %s, undo with "
			"disco tune --rollback%s)\n", args, s->journal_dir, args);
}

static json_t *advice_json(const struct tune_result *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->nadvice; i++) {
		const struct proposal *p = &r->advice[i];
		json_t *ev = json_object();

		for (int k = 0; k < p->nev; k++)
			json_object_set_new(ev, p->ev[k].key, json_integer((json_int_t)p->ev[k].value));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:o, s:s}",
			"rule", p->rule, "what", p->knob, "pid", (int)p->pid, "comm", p->comm,
			"current", p->current, "why", p->why, "evidence", ev, "fix", p->persist));
	}
	return arr;
}

json_t *tune_to_json(const struct tune_result *r, const struct tune_scope *s)
{
	char args[640], cmd[800];

	json_t *o = json_object(), *arr = json_array(), *notes = json_array();
	json_t *snippet = json_array(), *ns_snippet = json_array();

	json_object_set_new(o, "schema", json_string("disco.tune/1"));
	json_object_set_new(o, "recommendations", json_integer((json_int_t)r->n));
	for (size_t i = 0; i < r->n; i++) {
		const struct proposal *p = &r->props[i];
		json_t *ev = json_object(), *j;

		for (int k = 0; k < p->nev; k++)
			json_object_set_new(ev, p->ev[k].key, json_integer((json_int_t)p->ev[k].value));
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}",
			      "rule", p->rule, "family", tune_family_name(p->family),
			      "knob", p->knob, "current", p->current, "proposed", p->proposed,
			      "why", p->why, "evidence", ev, "risk", p->risk,
			      "persistent", p->persist, "undo", p->undo);
		if (p->cannot[0])
			json_object_set_new(j, "cannot_apply", json_string(p->cannot));
		if (knob_family(p->family)->per_process) {
			json_object_set_new(j, "pid", json_integer(p->pid));
			json_object_set_new(j, "comm", json_string(p->comm));
			json_object_set_new(j, "start_time", json_integer((json_int_t)p->start_time));
		} else {
			bool in_ns = !strcmp(s->root, "/") && s->netns_private &&
				     !strncmp(p->knob, "net.", 4);

			json_array_append_new(in_ns ? ns_snippet : snippet,
					      json_sprintf("%s = %s", p->knob, p->proposed));
		}
		json_array_append_new(arr, j);
	}
	for (size_t i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(o, "proposals", arr);
	json_object_set_new(o, "advice", advice_json(r));
	json_object_set_new(o, "sysctl_d", snippet);
	json_object_set_new(o, "netns_sysctl", ns_snippet);
	json_object_set_new(o, "notes", notes);
	scope_args(s, args, sizeof(args));
	json_object_set_new(o, "scope", scope_to_json(s));
	snprintf(cmd, sizeof(cmd), "disco tune --apply%s", args);
	json_object_set_new(o, "apply_command", json_string(cmd));
	snprintf(cmd, sizeof(cmd), "disco tune --rollback%s", args);
	json_object_set_new(o, "rollback_command", json_string(cmd));
	return o;
}
