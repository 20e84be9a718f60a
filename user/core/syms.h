/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stack symbolization: user addresses through the ELF symbol tables of the
 * files a process maps (libelf, .symtab falling back to .dynsym, cached per
 * binary), kernel addresses through /proc/kallsyms.
 */
#ifndef DISCO_SYMS_H
#define DISCO_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- one ELF file ------------------------------------------------------ */

struct elf_syms;

/* Load the function symbols of path. NULL and errno on failure. */
struct elf_syms *elf_syms_load(const char *path);
void elf_syms_free(struct elf_syms *es);
/* Which table was used: ".symtab" or ".dynsym". */
const char *elf_syms_table(const struct elf_syms *es);
size_t elf_syms_count(const struct elf_syms *es);
/*
 * Symbol containing the link-time virtual address vaddr; *off is vaddr
 * minus the symbol's start. NULL when no symbol covers it.
 */
const char *elf_syms_lookup(const struct elf_syms *es, uint64_t vaddr, uint64_t *off);
/* File offset -> link-time vaddr through the PT_LOAD headers; -ENOENT. */
int elf_syms_off_to_vaddr(const struct elf_syms *es, uint64_t file_off, uint64_t *vaddr);

/* A defined function symbol found by name (first in .symtab, then .dynsym). */
struct elf_func {
	uint64_t vaddr;		/* link-time address */
	uint64_t size;
	uint64_t file_off;	/* what a uprobe attaches to */
};
int elf_find_func(const char *path, const char *name, struct elf_func *out);

/* ---- /proc/PID/maps ------------------------------------------------------ */

struct map_entry {
	uint64_t start, end, file_off;
	uint64_t dev, ino;
	bool exec;
	char path[256];		/* as shown in maps; "" for anonymous */
};

/*
 * Parse the text of a maps file into *out (malloc'd, caller frees). Lines
 * that do not parse are skipped. Returns the number of entries or -errno.
 */
int maps_parse(const char *text, struct map_entry **out);
/* The entry containing addr, or NULL. */
const struct map_entry *maps_find(const struct map_entry *m, int n, uint64_t addr);

/* ---- processes ----------------------------------------------------------- */

/* A cache of loaded binaries (keyed by device and inode) shared by processes. */
struct syms_cache;
struct syms_cache *syms_cache_new(void);
void syms_cache_free(struct syms_cache *c);

/* One process's view: its mappings and, through the cache, their symbols. */
struct proc_syms;
/*
 * root is the directory the process's paths are resolved under:
 * "/proc/PID/root" for a live process (other mount namespaces), or NULL for
 * "/". The maps are read now; proc_syms_refresh() re-reads them.
 */
struct proc_syms *proc_syms_new(struct syms_cache *c, pid_t pid);
/* For tests: a process view from a maps text and a root directory. */
struct proc_syms *proc_syms_from_maps(struct syms_cache *c, const char *maps_text,
				      const char *root);
/* Re-read /proc/PID/maps; keeps the old view (and returns -errno) if the
 * process is gone, so stacks captured before it exited still resolve. */
int proc_syms_refresh(struct proc_syms *ps);
/* True if addr falls in a mapping of the current view. */
bool proc_syms_covers(const struct proc_syms *ps, uint64_t addr);
void proc_syms_free(struct proc_syms *ps);

/*
 * "func+0x1a (binary)" or, without a symbol, "binary+0xfileoff", or
 * "0xaddr" when no mapping covers addr. Returns buf.
 */
const char *proc_syms_format(struct proc_syms *ps, uint64_t addr, char *buf, size_t len);

/* ---- kernel -------------------------------------------------------------- */

struct ksyms;
/* Parse a kallsyms-format file (path NULL: /proc/kallsyms). NULL+errno. */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *ks);
/* True when every address read as zero (kptr_restrict): nothing resolves. */
bool ksyms_hidden(const struct ksyms *ks);
size_t ksyms_count(const struct ksyms *ks);
/* Symbol at or below addr; *off the distance. NULL if none or hidden. */
const char *ksyms_lookup(const struct ksyms *ks, uint64_t addr, uint64_t *off,
			 const char **module);
/* Address of a symbol by name (0 if absent); for tests and probes. */
uint64_t ksyms_addr(const struct ksyms *ks, const char *name);
/* "name+0x10", "name+0x10 [module]" or "0xaddr". Returns buf. */
const char *ksyms_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif
