// SPDX-License-Identifier: GPL-2.0
/* Knob families: the list of their operation tables, and what goes through them. */
#include <errno.h>
#include <string.h>
#include "tuner.h"

/* Each family's table is in its own file: adding one is a row here (and its enum). */
extern const struct knob_family knob_family_sysctl, knob_family_nofile, knob_family_affinity;

const struct knob_family *const knob_families[FAM_COUNT] = {
	[FAM_SYSCTL] = &knob_family_sysctl,
	[FAM_NOFILE] = &knob_family_nofile,
	[FAM_AFFINITY] = &knob_family_affinity,
};

const struct knob_family *knob_family(enum tune_family f)
{
	return knob_families[f];
}

const char *tune_family_name(enum tune_family f)
{
	return f < FAM_COUNT ? knob_families[f]->name : "?";
}

int tune_family_parse(const char *list, unsigned int *mask)
{
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t l = strcspn(p, ",");
		int i;

		for (i = 0; i < FAM_COUNT; i++)
			if (strlen(knob_families[i]->name) == l &&
			    !strncmp(p, knob_families[i]->name, l))
				break;
		if (i == FAM_COUNT)
			return -EINVAL;
		*mask |= 1u << i;
		p += l;
		if (*p == ',')
			p++;
	}
	return *mask ? 0 : -EINVAL;
}

int knob_normalize(enum tune_family fam, const char *knob, const char *in,
		   char *out, size_t len)
{
	/* a journal read back is untrusted: its family number too */
	if ((unsigned int)fam >= FAM_COUNT)
		return -EINVAL;
	return knob_families[fam]->normalize(knob, in, out, len);
}

const char *knob_privilege(enum tune_family fam, const char *knob, const char *previous,
			   const char *next)
{
	if ((unsigned int)fam >= FAM_COUNT)
		return "root";
	return knob_families[fam]->privilege(knob, previous, next);
}

int knob_check_pid(const struct live_knobs *k, const struct journal_entry *e)
{
	uint64_t st;
	int err;

	/* a --root tree's PIDs are not this system's processes */
	if (!k->live)
		return -EPERM;
	err = proc_start_time(k->root, e->pid, &st);

	if (err)
		return -ESRCH;
	return st == e->start_time ? 0 : -ESRCH;	/* PID reused */
}

/* net.* sysctls live in a network namespace: the journal's, never another */
int knob_enter_ns(const struct live_knobs *k, const struct journal_entry *e, int *saved)
{
	*saved = -1;
	if (strncmp(e->knob, "net.", 4))
		return 0;
	if (k->net_unreachable)
		return -EXDEV;
	if (k->netns && *k->netns)
		return netns_enter(k->netns, saved);
	return 0;
}
