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

#define SYMS_BUILD_ID_MAX 64

struct elf_syms;

/*
 * Where debug files are looked for: $DISCO_DEBUG_DIR, else /usr/lib/debug
 * (.build-id/xx/rest.debug and the .gnu_debuglink tree under it).
 */
const char *syms_debug_dir(void);

/*
 * Load the function symbols of path: its .symtab; without one, the
 * .symtab of its debug file (found by build-id, then .gnu_debuglink);
 * then its .dynsym. NULL and errno on failure.
 */
struct elf_syms *elf_syms_load(const char *path);
void elf_syms_free(struct elf_syms *es);
/* Which table was used: ".symtab", "debug file", ".dynsym" or "none". */
const char *elf_syms_table(const struct elf_syms *es);
/* Path of the debug file the names came from, or NULL. */
const char *elf_syms_debug_file(const struct elf_syms *es);
/* The GNU build-id into id (SYMS_BUILD_ID_MAX bytes); its length, 0 if none. */
size_t elf_syms_build_id(const struct elf_syms *es, unsigned char *id);
/* Lower-case hex of n bytes into buf. Returns buf. */
const char *syms_hex(const unsigned char *b, size_t n, char *buf, size_t len);
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
/* The same for a defined data object with initial contents (in the file). */
int elf_find_object(const char *path, const char *name, struct elf_func *out);

/* ---- /proc/PID/maps ------------------------------------------------------ */

#define MAP_PATH_MAX 256	/* longer paths are cut to MAP_PATH_MAX - 1 bytes */

struct map_entry {
	uint64_t start, end, file_off;
	uint64_t dev, ino;
	const char *path;	/* as shown in maps; "" for anonymous; in the array's block */
	bool exec;
};

/*
 * Parse the text of a maps file into *out: one malloc'd block (the caller
 * frees it) holding the entries and, after them, their paths, each stored
 * once for the lines of the same file in a row. Lines that do not parse
 * are skipped. Returns the number of entries or -errno.
 */
int maps_parse(const char *text, struct map_entry **out);
/*
 * What a process's view keeps of its maps (it lives for the session):
 * code (executable mappings), memory that is no file's ([heap], [stack],
 * anonymous: a stack walk that strays there is told apart from one
 * outside every mapping; adjacent anonymous mappings become one), and
 * the first mapping of each file with code (its load address). m[0..n)
 * sorted by address is shrunk in place (the paths stay in m's block);
 * returns how many entries stay.
 */
int maps_keep_code(struct map_entry *m, int n);
/*
 * A copy of m[0..n) in a block of its own, sized to hold just them and
 * their paths (each distinct path once). NULL and errno.
 */
struct map_entry *maps_pack(const struct map_entry *m, int n);
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
/* The mappings of the current view (*m), and how many. */
int proc_syms_maps(const struct proc_syms *ps, const struct map_entry **m);
void proc_syms_free(struct proc_syms *ps);

/* Why a frame has no name (SYM_NAMED when it has one). */
enum sym_status {
	SYM_NAMED = 0,
	SYM_STRIPPED,		/* the file has no symbol there and no debug file */
	SYM_NO_FILE,		/* the mapped file cannot be opened or parsed */
	SYM_NO_MAPPING,		/* no mapping covers the address */
	SYM_PROCESS_GONE,	/* exited before its maps could be read */
	SYM_ANON,		/* anonymous or special memory ([vdso], JIT without a map) */
	SYM_KERNEL_HIDDEN,	/* kallsyms shows zeros (kptr_restrict) */
	SYM_NSTATUS,
};
const char *sym_status_name(enum sym_status st);

/* One resolved frame. */
struct sym_frame {
	char sym[256];		/* "" when unnamed */
	char module[128];	/* file base name, "[kernel.kallsyms]", module, "[vdso]" */
	uint64_t offset;	/* from the symbol, or the file offset when unnamed */
	enum sym_status status;
};

/* Resolve addr: 0 when named, -ENOENT with f->status saying why not. */
int proc_syms_resolve(struct proc_syms *ps, uint64_t addr, struct sym_frame *f);
/*
 * Which code addr is, whatever the process: the file mapped there (its
 * device and inode) and the offset in it. False for memory that is no
 * file's, or a file without an inode number: such frames are the
 * process's own.
 */
bool proc_syms_file_offset(const struct proc_syms *ps, uint64_t addr, uint64_t *dev,
			   uint64_t *ino, uint64_t *off);
/* The build-id of the file mapped at addr into id (SYMS_BUILD_ID_MAX bytes); its length, 0 if none. */
size_t proc_syms_build_id(struct proc_syms *ps, uint64_t addr, unsigned char *id);
/*
 * Load now the symbols of every executable file mapping and the JIT map
 * (/tmp/perf-PID.map) of the view, so that they resolve after the process
 * (or the file) is gone. Returns the number of binaries loaded.
 */
int proc_syms_preload(struct proc_syms *ps);

/* /tmp/perf-PID.map: "START SIZE name" lines, hex numbers. */
struct perfmap;
struct perfmap *perfmap_parse(const char *text);
void perfmap_free(struct perfmap *pm);
const char *perfmap_lookup(const struct perfmap *pm, uint64_t addr, uint64_t *off);

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
/* Resolve a kernel address (module "[kernel.kallsyms]" or the module's). */
int ksyms_resolve(const struct ksyms *ks, uint64_t addr, struct sym_frame *f);
/* "name+0x10", "name+0x10 [module]" or "0xaddr". Returns buf. */
const char *ksyms_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif
