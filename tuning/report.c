// SPDX-License-Identifier: GPL-2.0
/* Rendering of tune results: text grouped by family, and disco.tune/1 JSON. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include "tuner.h"

static const char *const family_titles[FAM_COUNT] = {
	[FAM_SYSCTL] = "Kernel parameters (sysctl)",
	[FAM_NOFILE] = "File descriptor limits (RLIMIT_NOFILE)",
	[FAM_AFFINITY] = "CPU affinity",
};

static void print_one(FILE *out, const struct proposal *p)
{
	if (p->family == FAM_SYSCTL)
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
	fprintf(out, "    persist:  %s\n", p->persist);
	fprintf(out, "    undo:     %s\n\n", p->undo);
}

void tune_print_text(FILE *out, const struct tune_result *r, bool dry_run)
{
	bool any_sysctl = false;

	fprintf(out, "disco tune: %zu recommendation%s%s\n\n", r->n, r->n == 1 ? "" : "s",
		dry_run ? " (dry run: nothing was changed)" : "");
	for (int f = 0; f < FAM_COUNT; f++) {
		bool header = false;

		for (size_t i = 0; i < r->n; i++) {
			if (r->props[i].family != (enum tune_family)f)
				continue;
			if (!header) {
				fprintf(out, "%s\n", family_titles[f]);
				header = true;
			}
			print_one(out, &r->props[i]);
			any_sysctl |= f == FAM_SYSCTL;
		}
	}
	if (any_sysctl) {
		fprintf(out, "Ready-to-use /etc/sysctl.d/90-disco.conf:\n");
		fprintf(out, "  # written by disco tune; remove this file and reboot (or sysctl -w the\n"
			"  # old values above) to undo\n");
		for (size_t i = 0; i < r->n; i++)
			if (r->props[i].family == FAM_SYSCTL)
				fprintf(out, "  %s = %s\n", r->props[i].knob, r->props[i].proposed);
		fputc('\n', out);
	}
	if (r->nnotes) {
		fprintf(out, "Not decided:\n");
		for (size_t i = 0; i < r->nnotes; i++)
			fprintf(out, "  %s\n", r->notes[i]);
		fputc('\n', out);
	}
	if (r->n && dry_run)
		fprintf(out, "Apply with: disco tune --apply (root; journaled, undo with "
			"disco tune --rollback)\n");
}

json_t *tune_to_json(const struct tune_result *r)
{
	json_t *o = json_object(), *arr = json_array(), *notes = json_array();
	json_t *snippet = json_array();

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
		if (p->family != FAM_SYSCTL) {
			json_object_set_new(j, "pid", json_integer(p->pid));
			json_object_set_new(j, "comm", json_string(p->comm));
			json_object_set_new(j, "start_time", json_integer((json_int_t)p->start_time));
		} else {
			json_array_append_new(snippet, json_sprintf("%s = %s", p->knob, p->proposed));
		}
		json_array_append_new(arr, j);
	}
	for (size_t i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(o, "proposals", arr);
	json_object_set_new(o, "sysctl_d", snippet);
	json_object_set_new(o, "notes", notes);
	return o;
}
