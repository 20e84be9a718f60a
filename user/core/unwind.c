// SPDX-License-Identifier: GPL-2.0
/* DWARF (CFI) unwinding of sampled user stacks with libdwfl, one session per process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include "clock.h"
#include "elfcache.h"
#include "log.h"
#include "unwind.h"

/*
 * Processes kept; the oldest is replaced past that. A process holds
 * references to its files' handles, which are shared (elfcache.c): a
 * process that maps the same libc as others costs no new open, mapping
 * or parse of it, only libdwfl's small per-process module records.
 */
#define UW_PROCS 64
/* Files whose handles stay cached with no process of the unwinder using them. */
#define UW_FILES 128
/* Files of one process reported to libdwfl; the rest are left out. */
#define UW_PROC_FILES 256
/*
 * A process's files are opened again when its code runs outside them
 * (dlopen): the first times at once (a program loads its plugins as it
 * starts), then at most once a second (code outside every file, JIT,
 * would otherwise reread its maps at every sample).
 */
#define UW_QUICK_LOADS 16
#define UW_RELOAD_NS 1000000000ULL

struct uw_proc {
	pid_t pid;
	Dwfl *dwfl;
	const struct ustack_sample *cur;	/* the sample being unwound */
	uint64_t loaded_ns;
	unsigned int loads;	/* of this process */
	Elf *files[UW_PROC_FILES];	/* our references, one per module (its userdata) */
	int nfiles;
};

struct unwinder {
	struct uw_proc procs[UW_PROCS];
	unsigned int next;	/* slot replaced when all are used */
	struct elf_cache *files;
};

struct uw_walk {
	uint64_t *ips;
	int n, max;
};

#if defined(__x86_64__)
bool unwinder_available(void)
{
	return true;
}
#else
bool unwinder_available(void)
{
	return false;	/* the BPF side copies x86-64 registers only */
}
#endif

/*
 * No separate debug files: the CFI of every x86-64 binary is in its own
 * .eh_frame, and looking further (debuginfod) could reach the network.
 */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
	return -1;
}

/* A module's ELF: another reference to the shared handle its userdata holds. */
static int shared_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		      char **file_name, Elf **elfp)
{
	(void)mod, (void)modname, (void)base, (void)file_name;
	*elfp = *userdata ? elf_begin(-1, ELF_C_READ_MMAP, *userdata) : NULL;
	return -1;
}

static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = shared_elf,
	.find_debuginfo = no_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct uw_proc *p = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = p;
	return p->cur->tid ? (pid_t)p->cur->tid : p->pid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct uw_proc *p = arg;
	uint64_t v;

	(void)dwfl;
	if (!ustack_read_word(p->cur, addr, &v))
		return false;
	*result = v;
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct uw_proc *p = thread_arg;
	Dwarf_Word regs[CPU_DWARF_NREGS];

	for (int i = 0; i < CPU_DWARF_NREGS; i++)
		regs[i] = p->cur->regs[i];
	return dwfl_thread_state_registers(thread, 0, CPU_DWARF_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_cbs = {
	.next_thread = next_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

struct unwinder *unwinder_new(void)
{
	struct unwinder *u;

	if (!unwinder_available()) {
		errno = ENOTSUP;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->files = elf_cache_new(UW_FILES);
	if (!u->files) {
		free(u);
		errno = ENOMEM;
		return NULL;
	}
	return u;
}

static void proc_clear(struct uw_proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	for (int i = 0; i < p->nfiles; i++)
		elf_end(p->files[i]);
	memset(p, 0, sizeof(*p));
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	for (int i = 0; i < UW_PROCS; i++)
		proc_clear(&u->procs[i]);
	elf_cache_free(u->files);
	free(u);
}

static struct uw_proc *find(struct unwinder *u, pid_t pid)
{
	for (int i = 0; i < UW_PROCS; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	return NULL;
}

/* The lowest mapping of the file m[i] maps: where its first segment is. */
static const struct map_entry *file_start(const struct map_entry *m, int n, int i)
{
	const struct map_entry *lo = &m[i];

	for (int j = 0; j < n; j++)
		if (m[j].dev == m[i].dev && m[j].ino == m[i].ino && m[j].start < lo->start)
			lo = &m[j];
	return lo;
}

/*
 * Where a file's addresses land in the process: the bias from the lowest
 * mapping lo (the segment loaded from its page) and the range libdwfl
 * expects for the module (from its first loadable segment to the end of
 * the last). -ENOEXEC when no segment is loaded from lo's page.
 */
static int file_range(Elf *e, const struct map_entry *lo, uint64_t *low, uint64_t *high)
{
	uint64_t bias = 0, first = 0, end = 0;
	bool have_first = false, found = false;
	size_t n;

	if (elf_getphdrnum(e, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (!have_first) {
			first = ph.p_vaddr & -(ph.p_align ?: 1);
			have_first = true;
		}
		if (!found && (ph.p_offset & ~4095ULL) == lo->file_off) {
			bias = lo->start - (ph.p_vaddr & ~4095ULL);
			found = true;
		}
		if (ph.p_vaddr + ph.p_memsz > end)
			end = ph.p_vaddr + ph.p_memsz;
	}
	if (!found)
		return -ENOEXEC;
	*low = bias + first;
	*high = bias + end;
	return 0;
}

/*
 * The shared handle of a file the process maps: under the process's root
 * (other mount namespaces), or by its mapping when it was deleted (that
 * needs CAP_SYS_ADMIN, which disco may have dropped), or by its path when
 * the process is already gone, if the same inode is still there.
 */
static Elf *open_file(struct unwinder *u, pid_t pid, const struct map_entry *m,
		      const struct map_entry *lo, char *path, size_t plen)
{
	char file[400];
	size_t pl;
	bool deleted;
	Elf *e;

	snprintf(path, plen, "%s", m->path);
	pl = strlen(path);
	deleted = pl > 10 && !strcmp(path + pl - 10, " (deleted)");
	if (deleted) {
		path[pl - 10] = 0;
		snprintf(file, sizeof(file), "/proc/%d/map_files/%llx-%llx", pid,
			 (unsigned long long)lo->start, (unsigned long long)lo->end);
	} else {
		snprintf(file, sizeof(file), "/proc/%d/root%s", pid, path);
	}
	e = elf_cache_get(u->files, file, 0);
	if (!e && !deleted)
		e = elf_cache_get(u->files, path, m->ino);
	return e;
}

/* Report each file with executable code once, at its load address. */
static int report_files(struct unwinder *u, struct uw_proc *p, pid_t pid,
			const struct map_entry *m, int n)
{
	int reported = 0;

	for (int i = 0; i < n && p->nfiles < UW_PROC_FILES; i++) {
		char path[MAP_PATH_MAX];
		uint64_t low, high;
		Dwfl_Module *mod = NULL;
		void **userdata;
		bool dup = false;
		Elf *e;

		if (!m[i].exec || m[i].path[0] != '/' || !m[i].ino)
			continue;
		for (int j = 0; j < i && !dup; j++)
			dup = m[j].exec && m[j].dev == m[i].dev && m[j].ino == m[i].ino;
		if (dup)
			continue;
		e = open_file(u, pid, &m[i], file_start(m, n, i), path, sizeof(path));
		if (!e) {
			log_debug("unwind: pid %d: %s: %s", pid, path, strerror(errno));
			continue;
		}
		if (!file_range(e, file_start(m, n, i), &low, &high))
			mod = dwfl_report_module(p->dwfl, strrchr(path, '/') + 1, low, high);
		if (!mod) {
			log_debug("unwind: pid %d: %s: no module (%s)", pid, path, dwfl_errmsg(-1));
			elf_end(e);
			continue;
		}
		p->files[p->nfiles++] = e;
		dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
		*userdata = e;
		reported++;
	}
	return reported;
}

int unwinder_load(struct unwinder *u, pid_t pid, const struct map_entry *m, int n)
{
	struct uw_proc *p = find(u, pid);
	unsigned int loads = p ? p->loads : 0;
	int err = 0;

	if (!p) {
		p = &u->procs[u->next];
		u->next = (u->next + 1) % UW_PROCS;
	}
	proc_clear(p);
	p->dwfl = dwfl_begin(&dwfl_cbs);
	if (!p->dwfl)
		return -ENOMEM;
	dwfl_report_begin(p->dwfl);
	if (!report_files(u, p, pid, m, n))
		err = -ENOENT;
	if (dwfl_report_end(p->dwfl, NULL, NULL))
		err = err ?: -EIO;
	/* the first file's ELF tells libdwfl the architecture */
	if (!err && !dwfl_attach_state(p->dwfl, p->files[0], pid, &thread_cbs, p))
		err = -ENOTSUP;
	if (err) {
		log_debug("unwind: pid %d: %s", pid, err == -ENOENT ? "no file could be opened"
								  : dwfl_errmsg(-1));
		proc_clear(p);
		return err;
	}
	p->pid = pid;
	p->loaded_ns = mono_ns();
	p->loads = loads + 1;
	return 0;
}

void unwinder_file_stats(const struct unwinder *u, struct elf_cache_stats *st)
{
	elf_cache_stats(u->files, st);
}

void unwinder_prune(struct unwinder *u)
{
	for (int i = 0; u && i < UW_PROCS; i++)
		if (u->procs[i].pid && kill(u->procs[i].pid, 0) && errno == ESRCH)
			proc_clear(&u->procs[i]);
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct uw_walk *w = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL))
		return DWARF_CB_ABORT;
	w->ips[w->n++] = pc;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int unwinder_unwind(struct unwinder *u, const struct ustack_sample *s, uint64_t *ips, int max,
		    bool *complete, bool *stale)
{
	struct uw_proc *p = find(u, (pid_t)s->tgid);
	struct uw_walk w = { ips, 0, max };
	int rc;

	*complete = false;
	*stale = false;
	if (max <= 0)
		return -EINVAL;
	if (!p)
		return -ENOENT;
	p->cur = s;
	/* 0: the outermost frame was reached; -1: stopped (no CFI, outside the copy) */
	rc = dwfl_getthread_frames(p->dwfl, s->tid ? (pid_t)s->tid : p->pid, on_frame, &w);
	p->cur = NULL;
	*complete = rc == 0 && w.n > 0;
	/* stopped in no file we know: mapped since (dlopen) */
	if (rc < 0 && w.n && !dwfl_addrmodule(p->dwfl, ips[w.n - 1]))
		*stale = p->loads < UW_QUICK_LOADS || mono_ns() - p->loaded_ns > UW_RELOAD_NS;
	if (!w.n) {
		/* not even the sampled ip: keep it, as the frame-pointer walk does */
		ips[0] = s->regs[CPU_DWARF_REG_IP];
		w.n = 1;
	}
	return w.n;
}
