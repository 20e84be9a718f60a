// SPDX-License-Identifier: GPL-2.0
/* Stack symbolization for user (libelf) and kernel (/proc/kallsyms) addresses. */
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>
#include "log.h"
#include "elfcache.h"
#include "syms.h"

/* ---- string arena: symbol names stored back to back -------------------- */

struct arena {
	char *buf;
	size_t len, cap;
};

/* Returns the offset of the copy of n bytes, or (size_t)-1 on allocation failure. */
static size_t arena_add_raw(struct arena *a, const void *s, size_t n)
{
	size_t off = a->len;

	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4096;
		char *nb;

		while (cap < a->len + n)
			cap *= 2;
		nb = realloc(a->buf, cap);
		if (!nb)
			return (size_t)-1;
		a->buf = nb;
		a->cap = cap;
	}
	memcpy(a->buf + off, s, n);
	a->len += n;
	return off;
}

/* A string and its NUL. */
static size_t arena_add(struct arena *a, const char *s)
{
	return arena_add_raw(a, s, strlen(s) + 1);
}

/* Done adding: give back the room the doublings left (up to half of it). */
static void arena_shrink(struct arena *a)
{
	char *nb;

	if (a->len < a->cap && a->len && (nb = realloc(a->buf, a->len))) {
		a->buf = nb;
		a->cap = a->len;
	}
}

/* The same for an array of n elements of size bytes with room for more. */
static void *shrink_array(void *v, size_t n, size_t size)
{
	void *nv;

	if (!n) {
		free(v);
		return NULL;
	}
	nv = realloc(v, n * size);
	return nv ? nv : v;
}

/* ---- ELF ---------------------------------------------------------------- */

/*
 * 16 bytes a function (libraries hold 1k-100k of them, for the session):
 * the size saturates at 4 GiB, and the binding, needed only to choose
 * among aliases while loading, is the arena byte before the name.
 */
struct esym {
	uint64_t addr;
	uint32_t size;
	uint32_t name;		/* arena offset */
};

struct load_seg {
	uint64_t off, vaddr, filesz;
};

struct elf_syms {
	struct esym *syms;
	size_t n;
	struct load_seg *segs;
	size_t nsegs;
	struct arena names;
	const char *table;
	unsigned char build_id[SYMS_BUILD_ID_MAX];
	size_t build_id_len;
	char *debug_file;	/* where the names came from, if not the file itself */
};

const char *syms_debug_dir(void)
{
	const char *d = getenv("DISCO_DEBUG_DIR");

	return d && *d ? d : "/usr/lib/debug";
}

static int elf_init(void)
{
	static int ok = -1;

	if (ok < 0)
		ok = elf_version(EV_CURRENT) != EV_NONE;
	return ok ? 0 : -ENOTSUP;
}

static bool sym_is_func(const GElf_Sym *s)
{
	int t = GELF_ST_TYPE(s->st_info);

	return (t == STT_FUNC || t == STT_GNU_IFUNC) && s->st_shndx != SHN_UNDEF &&
	       s->st_value != 0;
}

/* Among aliases at one address prefer global, then no leading '_', then shorter. */
static int alias_rank(const struct esym *s, const char *names)
{
	const char *n = names + s->name;
	unsigned char bind = (unsigned char)n[-1];
	int r = 0;

	if (bind == STB_GLOBAL)
		r += 4;
	else if (bind == STB_WEAK)
		r += 2;
	if (n[0] != '_')
		r += 1;
	return r;
}

static int esym_cmp(const void *a, const void *b)
{
	const struct esym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* Copy the function symbols of one table section; returns count or -errno. */
static int read_table(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, struct elf_syms *es)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t cnt, i;
	int added = 0;

	if (!d || !sh->sh_entsize)
		return 0;
	cnt = sh->sh_size / sh->sh_entsize;
	/* room for every entry at once: a realloc per symbol is quadratic
	 * where realloc copies (large libraries have 100k symbols) */
	if (cnt) {
		struct esym *ns = realloc(es->syms, (es->n + cnt) * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		es->syms = ns;
	}
	for (i = 0; i < cnt; i++) {
		GElf_Sym s;
		const char *name;
		unsigned char bind;
		size_t off;

		if (!gelf_getsym(d, i, &s) || !sym_is_func(&s))
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name || !name[0])
			continue;
		bind = GELF_ST_BIND(s.st_info);
		off = arena_add_raw(&es->names, &bind, 1);
		if (off != (size_t)-1)
			off = arena_add(&es->names, name);
		if (off == (size_t)-1)
			return -ENOMEM;
		if (off > UINT32_MAX)
			return -EFBIG;
		es->syms[es->n++] = (struct esym){ s.st_value,
			s.st_size > UINT32_MAX ? UINT32_MAX : (uint32_t)s.st_size, (uint32_t)off };
		added++;
	}
	return added;
}

/* Sort and keep one symbol per address (the best-ranked alias). */
static void dedupe(struct elf_syms *es)
{
	size_t i, j = 0;

	if (es->n < 2)
		return;	/* a file with no symbols has no array either */
	qsort(es->syms, es->n, sizeof(*es->syms), esym_cmp);
	for (i = 0; i < es->n; i++) {
		if (j && es->syms[j - 1].addr == es->syms[i].addr) {
			struct esym *k = &es->syms[j - 1];

			if (alias_rank(&es->syms[i], es->names.buf) > alias_rank(k, es->names.buf) ||
			    (alias_rank(&es->syms[i], es->names.buf) == alias_rank(k, es->names.buf) &&
			     strlen(es->names.buf + es->syms[i].name) < strlen(es->names.buf + k->name)))
				*k = es->syms[i];
			if (!k->size)
				k->size = es->syms[i].size;
			continue;
		}
		es->syms[j++] = es->syms[i];
	}
	es->n = j;
}

/* Kept for the session: no room for more. */
static void elf_syms_shrink(struct elf_syms *es)
{
	es->syms = shrink_array(es->syms, es->n, sizeof(*es->syms));
	arena_shrink(&es->names);
}

static int read_segments(Elf *e, struct elf_syms *es)
{
	size_t n, i;

	if (elf_getphdrnum(e, &n))
		return -EINVAL;
	es->segs = calloc(n ? n : 1, sizeof(*es->segs));
	if (!es->segs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		es->segs[es->nsegs++] = (struct load_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
	return 0;
}

/* The GNU build-id note (NT_GNU_BUILD_ID), from any note section. */
static void read_build_id(Elf *e, struct elf_syms *es)
{
	es->build_id_len = elf_build_id(e, es->build_id, sizeof(es->build_id));
}

/* .gnu_debuglink: file name and the CRC32 of the debug file. */
static int read_debuglink(Elf *e, char *name, size_t len, uint32_t *crc)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *sn;
		Elf_Data *d;
		size_t nl;

		if (!gelf_getshdr(scn, &sh))
			continue;
		sn = elf_strptr(e, shstrndx, sh.sh_name);
		if (!sn || strcmp(sn, ".gnu_debuglink"))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || d->d_size < 8)
			return -ENOENT;
		nl = strnlen(d->d_buf, d->d_size);
		/* name, NUL, padding to 4, then the CRC */
		if (nl == 0 || nl >= len || ((nl + 4) & ~3UL) + 4 > d->d_size)
			return -ENOENT;
		memcpy(name, d->d_buf, nl);
		name[nl] = 0;
		memcpy(crc, (char *)d->d_buf + ((nl + 4) & ~3UL), 4);
		return 0;
	}
	return -ENOENT;
}

static int file_crc32(const char *path, uint32_t *out)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, NULL, 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32(crc, buf, (uInt)r);
	close(fd);
	if (r < 0)
		return -EIO;
	*out = (uint32_t)crc;
	return 0;
}

/* .symtab of a separate debug file; count of functions read or -errno. */
static int load_debug_symtab(const char *path, struct elf_syms *es)
{
	Elf_Scn *scn = NULL;
	Elf *e;
	int fd, got = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (e && elf_kind(e) == ELF_K_ELF && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			got = read_table(e, scn, &sh, es);
			break;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return got;
}

/*
 * The length of a "/proc/PID/root" prefix of path (a file seen through a
 * process's root, another mount namespace's), or 0.
 */
static size_t proc_root_prefix(const char *path)
{
	size_t n = 6;

	if (strncmp(path, "/proc/", 6))
		return 0;
	while (path[n] >= '0' && path[n] <= '9')
		n++;
	if (n == 6 || strncmp(path + n, "/root/", 6))
		return 0;
	return n + 5;
}

/*
 * Where gdb and perf look for the debug file of a stripped binary: by
 * build-id under the debug directory, then by .gnu_debuglink next to the
 * binary, in its .debug/ and under the debug directory (CRC checked). A
 * file seen through /proc/PID/root has its debug files under that root:
 * the build-id is tried there after this machine's directory, and the
 * debuglink's directory is the file's own within that root.
 */
static int find_debug_file(Elf *e, const char *path, struct elf_syms *es)
{
	char cand[3][1400], link[256], dir[768];
	const char *dbg = syms_debug_dir(), *slash;
	size_t root = proc_root_prefix(path);
	uint32_t want, have = 0;
	int got, nc = 0;

	if (es->build_id_len >= 2) {
		char hex[2 * SYMS_BUILD_ID_MAX + 1];

		syms_hex(es->build_id, es->build_id_len, hex, sizeof(hex));
		snprintf(cand[nc++], sizeof(cand[0]), "%s/.build-id/%.2s/%s.debug", dbg, hex, hex + 2);
		if (root)
			snprintf(cand[nc++], sizeof(cand[0]), "%.*s%s/.build-id/%.2s/%s.debug",
				 (int)root, path, dbg, hex, hex + 2);
		for (int i = 0; i < nc; i++) {
			got = load_debug_symtab(cand[i], es);
			if (got > 0) {
				es->debug_file = strdup(cand[i]);
				return got;
			}
		}
	}
	if (read_debuglink(e, link, sizeof(link), &want))
		return -ENOENT;
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	snprintf(cand[0], sizeof(cand[0]), "%s/%s", dir, link);
	snprintf(cand[1], sizeof(cand[1]), "%s/.debug/%s", dir, link);
	snprintf(cand[2], sizeof(cand[2]), "%.*s%s%s/%s", (int)root, path, dbg, dir + root, link);
	for (int i = 0; i < 3; i++) {
		if (!strcmp(cand[i], path) || file_crc32(cand[i], &have) || have != want)
			continue;
		got = load_debug_symtab(cand[i], es);
		if (got > 0) {
			es->debug_file = strdup(cand[i]);
			return got;
		}
	}
	return -ENOENT;
}

struct elf_syms *elf_syms_load(const char *path)
{
	struct elf_syms *es = NULL;
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr sh_sym, sh_dyn;
	Elf *e = NULL;
	int fd, err, got = 0;

	err = elf_init();
	if (err)
		goto out_err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_err;
	}
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out_close;
	}
	es = calloc(1, sizeof(*es));
	if (!es) {
		err = -ENOMEM;
		goto out_close;
	}
	err = read_segments(e, es);
	if (err)
		goto out_close;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			symtab = scn;
			sh_sym = sh;
		} else if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			sh_dyn = sh;
		}
	}
	read_build_id(e, es);
	/*
	 * .symtab has the local functions too; a stripped file keeps only
	 * .dynsym, and its debug file (if installed) the full .symtab.
	 */
	if (symtab) {
		got = read_table(e, symtab, &sh_sym, es);
		es->table = ".symtab";
	}
	if (got == 0 && find_debug_file(e, path, es) > 0) {
		got = (int)es->n;
		es->table = "debug file";
	}
	if (got == 0 && dynsym) {
		got = read_table(e, dynsym, &sh_dyn, es);
		es->table = ".dynsym";
	}
	if (got < 0) {
		err = got;
		goto out_close;
	}
	if (!es->table)
		es->table = "none";
	dedupe(es);
	elf_syms_shrink(es);
	err = 0;
out_close:
	if (e)
		elf_end(e);
	close(fd);
out_err:
	if (err) {
		elf_syms_free(es);
		errno = -err;
		return NULL;
	}
	return es;
}

void elf_syms_free(struct elf_syms *es)
{
	if (!es)
		return;
	free(es->syms);
	free(es->segs);
	free(es->names.buf);
	free(es->debug_file);
	free(es);
}

const char *elf_syms_debug_file(const struct elf_syms *es)
{
	return es->debug_file;
}

size_t elf_syms_build_id(const struct elf_syms *es, unsigned char *id)
{
	memcpy(id, es->build_id, es->build_id_len);
	return es->build_id_len;
}

const char *syms_hex(const unsigned char *b, size_t n, char *buf, size_t len)
{
	size_t i;

	buf[0] = 0;
	for (i = 0; i < n && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	return buf;
}

const char *elf_syms_table(const struct elf_syms *es)
{
	return es->table;
}

size_t elf_syms_count(const struct elf_syms *es)
{
	return es->n;
}

const char *elf_syms_lookup(const struct elf_syms *es, uint64_t vaddr, uint64_t *off)
{
	size_t lo = 0, hi = es->n;
	const struct esym *s;

	/* last symbol with addr <= vaddr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (es->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &es->syms[lo - 1];
	/* a sized symbol ends somewhere; past it the address is not in it */
	if (s->size && vaddr >= s->addr + s->size)
		return NULL;
	if (off)
		*off = vaddr - s->addr;
	return es->names.buf + s->name;
}

int elf_syms_off_to_vaddr(const struct elf_syms *es, uint64_t file_off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < es->nsegs; i++) {
		const struct load_seg *g = &es->segs[i];

		if (file_off >= g->off && file_off < g->off + g->filesz) {
			*vaddr = file_off - g->off + g->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

/* Search one table by name; 1 found, 0 not, -errno. */
/* A defined function symbol (func) or data object (!func) named name. */
static int find_in_table(Elf *e, Elf_Scn *scn, const char *name, bool func, GElf_Sym *out)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t i, cnt;

	if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	d = elf_getdata(scn, NULL);
	if (!d)
		return 0;
	cnt = sh.sh_size / sh.sh_entsize;
	for (i = 0; i < cnt; i++) {
		GElf_Sym s;
		const char *n;

		if (!gelf_getsym(d, i, &s) ||
		    !(func ? sym_is_func(&s) :
		      GELF_ST_TYPE(s.st_info) == STT_OBJECT && s.st_shndx != SHN_UNDEF))
			continue;
		n = elf_strptr(e, sh.sh_link, s.st_name);
		if (!n || strcmp(n, name))
			continue;
		*out = s;
		return 1;
	}
	return 0;
}

static int find_sym(const char *path, const char *name, bool func, struct elf_func *out)
{
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	Elf *e = NULL;
	GElf_Sym s;
	size_t n, i;
	int fd, err, found = 0;

	err = elf_init();
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn;
	}
	if (symtab)
		found = find_in_table(e, symtab, name, func, &s);
	if (!found && dynsym)
		found = find_in_table(e, dynsym, name, func, &s);
	if (!found) {
		err = -ENOENT;
		goto out;
	}
	/* an IFUNC symbol is the resolver, not the function callers reach */
	if (GELF_ST_TYPE(s.st_info) == STT_GNU_IFUNC) {
		err = -ENOTSUP;
		goto out;
	}
	err = -ENOENT;
	if (elf_getphdrnum(e, &n))
		goto out;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (s.st_value >= ph.p_vaddr && s.st_value < ph.p_vaddr + ph.p_filesz) {
			out->vaddr = s.st_value;
			out->size = s.st_size;
			out->file_off = s.st_value - ph.p_vaddr + ph.p_offset;
			err = 0;
			break;
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return err;
}

int elf_find_func(const char *path, const char *name, struct elf_func *out)
{
	return find_sym(path, name, true, out);
}

int elf_find_object(const char *path, const char *name, struct elf_func *out)
{
	return find_sym(path, name, false, out);
}

/* ---- maps --------------------------------------------------------------- */

/*
 * The entries and their paths in one block: a whole-machine session keeps
 * the maps of every process it sees, and a fixed path buffer per entry
 * was most of the recorder's heap (256 bytes against ~30 used, ~750
 * processes of 30-300 entries).
 */
static struct map_entry *maps_block(const struct map_entry *m, const size_t *poff,
				    const char *paths, int n)
{
	size_t bytes = 0, l;
	struct map_entry *v;
	char *s;
	int i;

	for (i = 0; i < n; i++)
		if (!i || poff[i] != poff[i - 1])
			bytes += strlen(paths + poff[i]) + 1;
	v = malloc(n * sizeof(*v) + bytes + 1);
	if (!v)
		return NULL;
	s = (char *)(v + n);
	for (i = 0; i < n; i++) {
		v[i] = m[i];
		if (i && poff[i] == poff[i - 1]) {
			v[i].path = v[i - 1].path;
			continue;
		}
		l = strlen(paths + poff[i]) + 1;
		memcpy(s, paths + poff[i], l);
		v[i].path = s;
		s += l;
	}
	return v;
}

int maps_parse(const char *text, struct map_entry **out)
{
	struct map_entry *v = NULL;
	const char *p = text;
	size_t *poff = NULL, plen = 0, cap = 1;
	char *paths = NULL;
	int n = 0, err = 0;

	*out = NULL;
	/* at most a line each, and the paths in less than the text */
	for (const char *q = text; (q = strchr(q, '\n')); q++)
		cap++;
	v = malloc(cap * sizeof(*v));
	poff = malloc(cap * sizeof(*poff));
	paths = malloc(strlen(text) + 1);
	if (!v || !poff || !paths) {
		err = -ENOMEM;
		goto out;
	}
	paths[plen++] = 0;	/* offset 0: "" for anonymous memory */
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char line[512], perms[8] = "";
		unsigned long long start, end, off, ino;
		unsigned int maj, min;
		int pos = 0;

		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = 0;
			if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end,
				   perms, &off, &maj, &min, &ino, &pos) >= 7 && end > start) {
				struct map_entry *m = &v[n];
				const char *path = pos > 0 && pos <= (int)ll ? line + pos : "";
				size_t l = strnlen(path, MAP_PATH_MAX - 1);

				memset(m, 0, sizeof(*m));
				m->start = start;
				m->end = end;
				m->file_off = off;
				m->dev = makedev(maj, min);
				m->ino = ino;
				m->exec = perms[2] == 'x';
				/* the lines of one file follow each other: its path once */
				if (!l)
					poff[n] = 0;
				else if (n && poff[n - 1] && !strncmp(paths + poff[n - 1], path, l) &&
					 !paths[poff[n - 1] + l])
					poff[n] = poff[n - 1];
				else {
					poff[n] = plen;
					memcpy(paths + plen, path, l);
					paths[plen + l] = 0;
					plen += l + 1;
				}
				n++;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	if (n) {
		*out = maps_block(v, poff, paths, n);
		if (!*out)
			err = -ENOMEM;
	}
out:
	free(v);
	free(poff);
	free(paths);
	return err ? err : n;
}

struct map_entry *maps_pack(const struct map_entry *m, int n)
{
	struct map_entry *v;
	size_t *poff = calloc(n + 1, sizeof(*poff)), plen = 0;
	char *paths = NULL;
	int i;

	for (i = 0; poff && i < n; i++)
		plen += strlen(m[i].path) + 1;
	paths = poff ? malloc(plen + 1) : NULL;
	if (!paths) {
		free(poff);
		errno = ENOMEM;
		return NULL;
	}
	plen = 0;
	for (i = 0; i < n; i++) {
		size_t l = strlen(m[i].path);

		if (i && !strcmp(m[i].path, m[i - 1].path)) {
			poff[i] = poff[i - 1];
			continue;
		}
		poff[i] = plen;
		memcpy(paths + plen, m[i].path, l + 1);
		plen += l + 1;
	}
	v = maps_block(m, poff, paths, n);
	free(poff);
	free(paths);
	if (!v)
		errno = ENOMEM;
	return v;
}

const struct map_entry *maps_find(const struct map_entry *m, int n, uint64_t addr)
{
	int lo = 0, hi = n;

	/* maps are sorted by address */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (m[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && m[lo].start <= addr && addr < m[lo].end)
		return &m[lo];
	return NULL;
}

/* ---- cache of binaries -------------------------------------------------- */

struct cache_ent {
	uint64_t dev, ino;
	char path[256];
	struct elf_syms *es;	/* NULL if it failed to load */
	struct cache_ent *next;
};

struct syms_cache {
	struct cache_ent *head;
};

struct syms_cache *syms_cache_new(void)
{
	return calloc(1, sizeof(struct syms_cache));
}

void syms_cache_free(struct syms_cache *c)
{
	struct cache_ent *e, *n;

	if (!c)
		return;
	for (e = c->head; e; e = n) {
		n = e->next;
		elf_syms_free(e->es);
		free(e);
	}
	free(c);
}

/* Loaded once per (dev, inode); a failure is cached too, so not retried. */
static struct elf_syms *cache_get(struct syms_cache *c, const struct map_entry *m,
				  const char *open_path, const char *fallback)
{
	struct cache_ent *e;

	for (e = c->head; e; e = e->next) {
		if (m->ino ? (e->dev == m->dev && e->ino == m->ino) : !strcmp(e->path, m->path))
			return e->es;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->dev = m->dev;
	e->ino = m->ino;
	snprintf(e->path, sizeof(e->path), "%s", m->path);
	e->es = elf_syms_load(open_path);
	if (!e->es && fallback)
		e->es = elf_syms_load(fallback);
	if (!e->es)
		log_debug("syms: cannot read symbols of %s: %s", m->path, strerror(errno));
	e->next = c->head;
	c->head = e;
	return e->es;
}

/* ---- processes ---------------------------------------------------------- */

struct proc_syms {
	struct syms_cache *cache;
	pid_t pid;
	char root[64];
	struct map_entry *maps;
	int nmaps;
	struct perfmap *perfmap;	/* /tmp/perf-PID.map, if the process wrote one */
	bool gone;			/* exited: its view is what was captured */
};

static char *read_text(const char *path)
{
	size_t len = 0, cap = 16384;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !buf)
		goto out_fail;
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				goto out_fail;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out_fail;
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = 0;
	close(fd);
	return buf;
out_fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Data mappings of files go: most of a large process's entries. */
int maps_keep_code(struct map_entry *m, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		bool keep = m[i].exec || m[i].path[0] != '/';

		/* thread stacks and their guard pages, arenas: one anonymous range */
		if (k && !m[i].path[0] && !m[k - 1].path[0] && m[k - 1].end == m[i].start &&
		    m[k - 1].exec == m[i].exec) {
			m[k - 1].end = m[i].end;
			continue;
		}

		for (int j = 0; j < n && !keep; j++)
			keep = m[j].exec && m[j].dev == m[i].dev && m[j].ino == m[i].ino &&
			       m[j].path[0] == '/' && m[i].file_off < m[j].file_off &&
			       (i == 0 || m[i - 1].dev != m[i].dev || m[i - 1].ino != m[i].ino ||
				m[i - 1].path[0] != '/');
		if (keep)
			m[k++] = m[i];
	}
	return k;
}

int proc_syms_refresh(struct proc_syms *ps)
{
	struct map_entry *m, *packed;
	char path[64];
	char *text;
	int n;

	if (ps->pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", ps->pid);
	text = read_text(path);
	if (!text) {
		if (errno == ENOENT || errno == ESRCH)
			ps->gone = true;
		return -errno;
	}
	n = maps_parse(text, &m);
	free(text);
	if (n < 0)
		return n;
	/* an exited process reads as empty: keep what we had */
	if (n == 0) {
		free(m);
		ps->gone = true;
		return -ESRCH;
	}
	n = maps_keep_code(m, n);
	/* the view lives for the session: just what it kept */
	packed = maps_pack(m, n);
	free(m);
	if (!packed)
		return -ENOMEM;
	free(ps->maps);
	ps->maps = packed;
	ps->nmaps = n;
	return 0;
}

struct proc_syms *proc_syms_new(struct syms_cache *c, pid_t pid)
{
	struct proc_syms *ps = calloc(1, sizeof(*ps));
	int err;

	if (!ps)
		return NULL;
	ps->cache = c;
	ps->pid = pid;
	snprintf(ps->root, sizeof(ps->root), "/proc/%d/root", pid);
	err = proc_syms_refresh(ps);
	if (err) {
		free(ps);
		errno = -err;
		return NULL;
	}
	return ps;
}

struct proc_syms *proc_syms_from_maps(struct syms_cache *c, const char *maps_text,
				      const char *root)
{
	struct proc_syms *ps = calloc(1, sizeof(*ps));
	int n;

	if (!ps)
		return NULL;
	ps->cache = c;
	snprintf(ps->root, sizeof(ps->root), "%s", root ? root : "");
	n = maps_parse(maps_text, &ps->maps);
	if (n < 0) {
		free(ps);
		errno = -n;
		return NULL;
	}
	ps->nmaps = n;
	return ps;
}

bool proc_syms_covers(const struct proc_syms *ps, uint64_t addr)
{
	return maps_find(ps->maps, ps->nmaps, addr) != NULL;
}

int proc_syms_maps(const struct proc_syms *ps, const struct map_entry **m)
{
	*m = ps->maps;
	return ps->nmaps;
}

void proc_syms_free(struct proc_syms *ps)
{
	if (!ps)
		return;
	perfmap_free(ps->perfmap);
	free(ps->maps);
	free(ps);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* ---- JIT maps (/tmp/perf-PID.map) ------------------------------------ */

struct perfmap_ent {
	uint64_t start, size;
	size_t name;		/* arena offset */
};

struct perfmap {
	struct perfmap_ent *v;
	size_t n;
	struct arena names;
};

static int pm_cmp(const void *a, const void *b)
{
	const struct perfmap_ent *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

struct perfmap *perfmap_parse(const char *text)
{
	struct perfmap *pm = calloc(1, sizeof(*pm));
	const char *p = text;
	size_t cap = 0;

	if (!pm)
		return NULL;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		unsigned long long start, size;
		char line[1024];
		int pos = 0;

		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = 0;
			/* "START SIZE name with spaces", both numbers hex */
			if (sscanf(line, "%llx %llx %n", &start, &size, &pos) == 2 && pos > 0 &&
			    line[pos] && size) {
				size_t off;

				if (pm->n == cap) {
					struct perfmap_ent *nv;

					cap = cap ? cap * 2 : 256;
					nv = realloc(pm->v, cap * sizeof(*nv));
					if (!nv)
						goto out_fail;
					pm->v = nv;
				}
				off = arena_add(&pm->names, line + pos);
				if (off == (size_t)-1)
					goto out_fail;
				pm->v[pm->n++] = (struct perfmap_ent){ start, size, off };
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	qsort(pm->v, pm->n, sizeof(*pm->v), pm_cmp);
	return pm;
out_fail:
	perfmap_free(pm);
	errno = ENOMEM;
	return NULL;
}

void perfmap_free(struct perfmap *pm)
{
	if (!pm)
		return;
	free(pm->v);
	free(pm->names.buf);
	free(pm);
}

const char *perfmap_lookup(const struct perfmap *pm, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = pm->n;
	const struct perfmap_ent *e;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	e = &pm->v[lo - 1];
	if (addr >= e->start + e->size)
		return NULL;
	*off = addr - e->start;
	return pm->names.buf + e->name;
}

/* ---- processes, continued ------------------------------------------------ */

const char *sym_status_name(enum sym_status st)
{
	static const char *const names[SYM_NSTATUS] = {
		[SYM_NAMED] = "named",
		[SYM_STRIPPED] = "stripped",
		[SYM_NO_FILE] = "no_file",
		[SYM_NO_MAPPING] = "no_mapping",
		[SYM_PROCESS_GONE] = "process_gone",
		[SYM_ANON] = "anonymous",
		[SYM_KERNEL_HIDDEN] = "kernel_hidden",
	};

	return st < SYM_NSTATUS ? names[st] : "?";
}

/* The binary behind a file mapping, loaded through the cache. */
static struct elf_syms *mapping_syms(struct proc_syms *ps, const struct map_entry *m,
				     char *name, size_t nlen)
{
	char open_path[400];
	const char *fallback = NULL;
	size_t pl;

	snprintf(name, nlen, "%s", m->path);
	pl = strlen(name);
	if (pl > 10 && !strcmp(name + pl - 10, " (deleted)")) {
		/* the file is gone from the tree but still mapped */
		name[pl - 10] = 0;
		snprintf(open_path, sizeof(open_path), "/proc/%d/map_files/%llx-%llx", ps->pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
	} else {
		snprintf(open_path, sizeof(open_path), "%s%s", ps->root, name);
		/* the process may have exited: its root is gone, the file is not */
		if (ps->root[0])
			fallback = name;
	}
	return cache_get(ps->cache, m, open_path, fallback);
}

int proc_syms_preload(struct proc_syms *ps)
{
	char name[256], path[96];
	char *text;
	int n = 0;

	for (int i = 0; i < ps->nmaps; i++) {
		if (!ps->maps[i].exec || ps->maps[i].path[0] != '/')
			continue;
		if (mapping_syms(ps, &ps->maps[i], name, sizeof(name)))
			n++;
	}
	if (ps->pid > 0) {
		snprintf(path, sizeof(path), "%s/tmp/perf-%d.map", ps->root, ps->pid);
		text = read_text(path);
		if (text) {
			perfmap_free(ps->perfmap);
			ps->perfmap = perfmap_parse(text);
			free(text);
		}
	}
	return n;
}

int proc_syms_resolve(struct proc_syms *ps, uint64_t addr, struct sym_frame *f)
{
	const struct map_entry *m = maps_find(ps->maps, ps->nmaps, addr);
	struct elf_syms *es;
	uint64_t vaddr, off;
	char name[256];
	const char *sym;

	memset(f, 0, sizeof(*f));
	f->offset = addr;
	if (!m || !m->path[0] || !strncmp(m->path, "[anon", 5)) {
		/* JIT code lives in anonymous memory and is named by the runtime */
		if (ps->perfmap && (sym = perfmap_lookup(ps->perfmap, addr, &off))) {
			snprintf(f->sym, sizeof(f->sym), "%s", sym);
			snprintf(f->module, sizeof(f->module), "[perf-%d.map]", ps->pid);
			f->offset = off;
			f->status = SYM_NAMED;
			return 0;
		}
		f->status = m ? SYM_ANON : ps->gone ? SYM_PROCESS_GONE : SYM_NO_MAPPING;
		return -ENOENT;
	}
	f->offset = addr - m->start + m->file_off;
	if (m->path[0] != '/') {	/* [vdso], [heap], ... */
		snprintf(f->module, sizeof(f->module), "%.127s", m->path);
		f->offset = addr - m->start;
		f->status = SYM_ANON;
		return -ENOENT;
	}
	es = mapping_syms(ps, m, name, sizeof(name));
	snprintf(f->module, sizeof(f->module), "%.127s", base_name(name));
	if (!es) {
		f->status = SYM_NO_FILE;
		return -ENOENT;
	}
	if (!elf_syms_off_to_vaddr(es, f->offset, &vaddr) &&
	    (sym = elf_syms_lookup(es, vaddr, &off))) {
		snprintf(f->sym, sizeof(f->sym), "%s", sym);
		f->offset = off;
		f->status = SYM_NAMED;
		return 0;
	}
	f->status = SYM_STRIPPED;
	return -ENOENT;
}

bool proc_syms_file_offset(const struct proc_syms *ps, uint64_t addr, uint64_t *dev,
			   uint64_t *ino, uint64_t *off)
{
	const struct map_entry *m = maps_find(ps->maps, ps->nmaps, addr);

	if (!m || m->path[0] != '/' || !m->ino)
		return false;
	*dev = m->dev;
	*ino = m->ino;
	*off = addr - m->start + m->file_off;
	return true;
}

size_t proc_syms_build_id(struct proc_syms *ps, uint64_t addr, unsigned char *id)
{
	const struct map_entry *m = maps_find(ps->maps, ps->nmaps, addr);
	struct elf_syms *es;
	char name[256];

	if (!m || m->path[0] != '/')
		return 0;
	es = mapping_syms(ps, m, name, sizeof(name));
	return es ? elf_syms_build_id(es, id) : 0;
}

const char *proc_syms_format(struct proc_syms *ps, uint64_t addr, char *buf, size_t len)
{
	struct sym_frame f;

	if (!proc_syms_resolve(ps, addr, &f))
		snprintf(buf, len, "%s+0x%llx (%s)", f.sym, (unsigned long long)f.offset, f.module);
	else if (f.module[0])
		snprintf(buf, len, "%s+0x%llx", f.module, (unsigned long long)f.offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	return buf;
}

/* ---- kernel ------------------------------------------------------------- */

/* 16 bytes a symbol: kallsyms has 100k-200k, held for the session */
struct ksym {
	uint64_t addr;
	uint32_t name, module;	/* arena offsets; module NO_MODULE if none */
};

#define NO_MODULE UINT32_MAX

struct ksyms {
	struct ksym *syms;
	size_t n;
	struct arena names;
	bool hidden;
};

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

struct ksyms *ksyms_load(const char *path)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0, nonzero = 0, last_mod = (size_t)-1;
	char line[512];
	FILE *f = NULL;
	int err = 0;

	if (!ks)
		return NULL;
	f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!f) {
		err = -errno;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256], mod[128];
		int k = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);
		struct ksym *s;
		size_t off;

		if (k < 3)
			continue;
		/*
		 * Stacks hold code addresses: text symbols only (kernels with
		 * CONFIG_KALLSYMS_ALL list their data too, and absolute ones
		 * such as per-CPU offsets are no addresses at all)
		 */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (ks->n == cap) {
			struct ksym *nv;

			cap = cap ? cap * 2 : 65536;
			nv = realloc(ks->syms, cap * sizeof(*nv));
			if (!nv) {
				err = -ENOMEM;
				goto out;
			}
			ks->syms = nv;
		}
		s = &ks->syms[ks->n];
		s->addr = addr;
		off = arena_add(&ks->names, name);
		/* a module's symbols come in a row: its name once */
		if (k == 4 && (last_mod == (size_t)-1 || strcmp(ks->names.buf + last_mod, mod)))
			last_mod = arena_add(&ks->names, mod);
		if (off == (size_t)-1 || (k == 4 && last_mod == (size_t)-1)) {
			err = -ENOMEM;
			goto out;
		}
		if (ks->names.len > NO_MODULE) {
			err = -EFBIG;
			goto out;
		}
		s->name = (uint32_t)off;
		s->module = k == 4 ? (uint32_t)last_mod : NO_MODULE;
		ks->n++;
		if (addr)
			nonzero++;
	}
	ks->hidden = ks->n > 0 && nonzero == 0;
	qsort(ks->syms, ks->n, sizeof(*ks->syms), ksym_cmp);
	ks->syms = shrink_array(ks->syms, ks->n, sizeof(*ks->syms));
	arena_shrink(&ks->names);
out:
	if (f)
		fclose(f);
	if (err) {
		ksyms_free(ks);
		errno = -err;
		return NULL;
	}
	return ks;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->names.buf);
	free(ks);
}

bool ksyms_hidden(const struct ksyms *ks)
{
	return ks->hidden;
}

size_t ksyms_count(const struct ksyms *ks)
{
	return ks->n;
}

const char *ksyms_lookup(const struct ksyms *ks, uint64_t addr, uint64_t *off,
			 const char **module)
{
	size_t lo = 0, hi = ks->n;
	const struct ksym *s;

	if (ks->hidden || !addr)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &ks->syms[lo - 1];
	if (off)
		*off = addr - s->addr;
	if (module)
		*module = s->module == NO_MODULE ? NULL : ks->names.buf + s->module;
	return ks->names.buf + s->name;
}

uint64_t ksyms_addr(const struct ksyms *ks, const char *name)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (!strcmp(ks->names.buf + ks->syms[i].name, name))
			return ks->syms[i].addr;
	return 0;
}

int ksyms_resolve(const struct ksyms *ks, uint64_t addr, struct sym_frame *f)
{
	const char *mod = NULL, *name;
	uint64_t off = 0;

	memset(f, 0, sizeof(*f));
	f->offset = addr;
	name = ks ? ksyms_lookup(ks, addr, &off, &mod) : NULL;
	snprintf(f->module, sizeof(f->module), "%s", mod ? mod : "[kernel.kallsyms]");
	if (!name) {
		f->status = !ks || ks->hidden ? SYM_KERNEL_HIDDEN : SYM_NO_MAPPING;
		return -ENOENT;
	}
	snprintf(f->sym, sizeof(f->sym), "%s", name);
	f->offset = off;
	f->status = SYM_NAMED;
	return 0;
}

const char *ksyms_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	const char *mod = NULL, *name;
	uint64_t off = 0;

	name = ks ? ksyms_lookup(ks, addr, &off, &mod) : NULL;
	if (!name)
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	else if (mod)
		snprintf(buf, len, "%s+0x%llx [%s]", name, (unsigned long long)off, mod);
	else
		snprintf(buf, len, "%s+0x%llx", name, (unsigned long long)off);
	return buf;
}
