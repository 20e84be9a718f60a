// SPDX-License-Identifier: GPL-2.0
/* Unit tests for user/core/syms.c against the alloc fixture (addresses from nm). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnu/libc-version.h>
#include <cmocka.h>
#include "syms.h"

static char fixture[512], abs_fixture[4096];

/* Address of sym in path as nm prints it (dynamic table when dyn). */
static uint64_t nm_addr(const char *path, const char *sym, bool dyn)
{
	char cmd[1024], line[512];
	unsigned long long a = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm %s --defined-only '%s'", dyn ? "-D" : "", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long v;
		char t, n[256];

		if (sscanf(line, "%llx %c %255s", &v, &t, n) == 3) {
			char *at = strchr(n, '@');

			if (at)
				*at = 0;
			if (!strcmp(n, sym))
				a = v;
		}
	}
	pclose(p);
	return a;
}

static int setup(void **state)
{
	const char *dir = getenv("FIXTURES");

	snprintf(fixture, sizeof(fixture), "%s/alloc_fixture",
		 dir ? dir : ".output/fixtures");
	if (access(fixture, R_OK)) {
		fprintf(stderr, "fixture %s missing: build it with make\n", fixture);
		return -1;
	}
	/* maps name files by absolute path */
	if (!realpath(fixture, abs_fixture))
		return -1;
	return 0;
}

static void test_syms_symtab_lookup_matches_nm(void **state)
{
	const char *names[] = { "leak_here", "freed_here", "grow_start", "leak_realloc_here" };
	struct elf_syms *es = elf_syms_load(fixture);
	size_t i;

	assert_non_null(es);
	assert_string_equal(elf_syms_table(es), ".symtab");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t a = nm_addr(fixture, names[i], false), off = 99;
		const char *s;

		assert_true(a != 0);
		s = elf_syms_lookup(es, a, &off);
		assert_non_null(s);
		assert_string_equal(s, names[i]);
		assert_int_equal(off, 0);
		s = elf_syms_lookup(es, a + 5, &off);
		assert_string_equal(s, names[i]);
		assert_int_equal(off, 5);
	}
	/* below the first function there is nothing */
	assert_null(elf_syms_lookup(es, 0x10, NULL));
	elf_syms_free(es);
}

static void test_syms_stripped_libc_falls_back_to_dynsym(void **state)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	struct elf_syms *es;
	uint64_t a = nm_addr(libc, "malloc", true), off;
	const char *s;

	/* no debug directory: libc6-dbg, if installed, would be used first */
	setenv("DISCO_DEBUG_DIR", "/nonexistent", 1);
	es = elf_syms_load(libc);
	unsetenv("DISCO_DEBUG_DIR");
	assert_non_null(es);
	assert_true(a != 0);
	/* Debian ships libc without .symtab (or a .symtab with no functions) */
	if (!strcmp(elf_syms_table(es), ".dynsym")) {
		s = elf_syms_lookup(es, a + 3, &off);
		/* aliases: malloc and __libc_malloc share it; the plain name wins */
		assert_string_equal(s, "malloc");
		assert_int_equal(off, 3);
	}
	assert_true(elf_syms_count(es) > 100);
	elf_syms_free(es);
}

static void test_syms_find_func_gives_file_offset(void **state)
{
	struct elf_func f;
	struct elf_syms *es = elf_syms_load(fixture);
	uint64_t v;

	assert_int_equal(elf_find_func(fixture, "leak_here", &f), 0);
	assert_int_equal(f.vaddr, nm_addr(fixture, "leak_here", false));
	assert_true(f.size > 0);
	assert_int_equal(elf_syms_off_to_vaddr(es, f.file_off, &v), 0);
	assert_int_equal(v, f.vaddr);
	assert_int_equal(elf_find_func(fixture, "no_such_function", &f), -ENOENT);
	elf_syms_free(es);
}

/* A maps text placing the fixture's segments at a PIE-like base. */
static void test_syms_format_through_maps(void **state)
{
	struct syms_cache *c = syms_cache_new();
	struct elf_func f;
	struct stat st;
	struct proc_syms *ps;
	char maps[8192], buf[256];
	uint64_t base = 0x555555554000ull;

	assert_int_equal(stat(fixture, &st), 0);
	assert_int_equal(elf_find_func(fixture, "leak_here", &f), 0);
	/* one mapping of the whole (small) file, executable */
	snprintf(maps, sizeof(maps),
		 "%llx-%llx r-xp 00000000 08:01 %llu %s\n"
		 "7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0 [vdso]\n"
		 "garbage line\n",
		 (unsigned long long)base, (unsigned long long)base + 0x10000,
		 (unsigned long long)st.st_ino, abs_fixture);
	ps = proc_syms_from_maps(c, maps, NULL);
	assert_non_null(ps);
	proc_syms_format(ps, base + f.file_off + 0x13, buf, sizeof(buf));
	assert_string_equal(buf, "leak_here+0x13 (alloc_fixture)");
	proc_syms_format(ps, 0x7ffff7fc1010ull, buf, sizeof(buf));
	assert_string_equal(buf, "[vdso]+0x10");
	proc_syms_format(ps, 0x1234, buf, sizeof(buf));
	assert_string_equal(buf, "0x1234");
	assert_true(proc_syms_covers(ps, base + 1));
	assert_false(proc_syms_covers(ps, 0x1234));
	proc_syms_free(ps);
	syms_cache_free(c);
}

/* The build-id of the file behind an address: the file's own; none for [vdso] or no mapping. */
static void test_proc_syms_build_id_is_the_mapped_files(void **state)
{
	struct syms_cache *c = syms_cache_new();
	unsigned char want[SYMS_BUILD_ID_MAX], got[SYMS_BUILD_ID_MAX];
	struct elf_syms *es = elf_syms_load(fixture);
	struct proc_syms *ps;
	struct stat st;
	char maps[8192];
	uint64_t base = 0x555555554000ull;
	size_t n;

	assert_non_null(es);
	n = elf_syms_build_id(es, want);
	assert_true(n >= 2);
	assert_int_equal(stat(fixture, &st), 0);
	snprintf(maps, sizeof(maps),
		 "%llx-%llx r-xp 00000000 08:01 %llu %s\n"
		 "7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0 [vdso]\n",
		 (unsigned long long)base, (unsigned long long)base + 0x10000,
		 (unsigned long long)st.st_ino, abs_fixture);
	ps = proc_syms_from_maps(c, maps, NULL);
	assert_non_null(ps);
	assert_int_equal(proc_syms_build_id(ps, base + 0x100, got), n);
	assert_memory_equal(got, want, n);
	assert_int_equal(proc_syms_build_id(ps, 0x7ffff7fc1010ull, got), 0);
	assert_int_equal(proc_syms_build_id(ps, 0x1234, got), 0);
	proc_syms_free(ps);
	syms_cache_free(c);
	elf_syms_free(es);
}

/* A stripped copy of stack_fixture and its debug file in a temp directory. */
struct stripped {
	char dir[64], bin[128], dbg[128], bid[2 * SYMS_BUILD_ID_MAX + 1];
	char orig[512];
};

static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void make_stripped(struct stripped *st, bool debuglink)
{
	const char *dir = getenv("FIXTURES");
	unsigned char id[SYMS_BUILD_ID_MAX];
	struct elf_syms *es;
	size_t n;

	snprintf(st->orig, sizeof(st->orig), "%s/stack_fixture", dir ? dir : ".output/fixtures");
	snprintf(st->dir, sizeof(st->dir), "/tmp/disco-syms.XXXXXX");
	assert_non_null(mkdtemp(st->dir));
	snprintf(st->bin, sizeof(st->bin), "%s/prog", st->dir);
	snprintf(st->dbg, sizeof(st->dbg), "%s/prog.debug", st->dir);
	run("cp '%s' %s && objcopy --only-keep-debug %s %s && strip --strip-all %s",
	    st->orig, st->bin, st->bin, st->dbg, st->bin);
	if (debuglink)
		run("cd %s && objcopy --add-gnu-debuglink=prog.debug prog", st->dir);
	es = elf_syms_load(st->orig);
	assert_non_null(es);
	n = elf_syms_build_id(es, id);
	assert_true(n >= 2);
	syms_hex(id, n, st->bid, sizeof(st->bid));
	elf_syms_free(es);
}

static void test_syms_stripped_binary_named_from_build_id_debug_file(void **state)
{
	struct stripped st;
	struct elf_syms *es;
	uint64_t a, off = 99;
	const char *s;

	make_stripped(&st, false);
	a = nm_addr(st.orig, "hot_three_quarters", false);
	assert_true(a != 0);
	/* without a debug directory: nothing names it */
	setenv("DISCO_DEBUG_DIR", st.dir, 1);
	es = elf_syms_load(st.bin);
	assert_non_null(es);
	assert_null(elf_syms_lookup(es, a + 4, &off));
	assert_null(elf_syms_debug_file(es));
	elf_syms_free(es);
	run("mkdir -p %s/.build-id/%.2s && mv %s %s/.build-id/%.2s/%s.debug", st.dir, st.bid,
	    st.dbg, st.dir, st.bid, st.bid + 2);
	es = elf_syms_load(st.bin);
	unsetenv("DISCO_DEBUG_DIR");
	assert_non_null(es);
	assert_string_equal(elf_syms_table(es), "debug file");
	assert_non_null(strstr(elf_syms_debug_file(es), "/.build-id/"));
	s = elf_syms_lookup(es, a + 4, &off);
	assert_non_null(s);
	assert_string_equal(s, "hot_three_quarters");
	assert_int_equal(off, 4);
	elf_syms_free(es);
	run("rm -rf %s", st.dir);
}

static void test_syms_debuglink_found_beside_binary_and_crc_checked(void **state)
{
	struct stripped st;
	struct elf_syms *es;
	uint64_t a, off;

	make_stripped(&st, true);
	a = nm_addr(st.orig, "cold_one_quarter", false);
	setenv("DISCO_DEBUG_DIR", "/nonexistent", 1);
	es = elf_syms_load(st.bin);
	assert_non_null(es);
	assert_string_equal(elf_syms_table(es), "debug file");
	assert_string_equal(elf_syms_lookup(es, a, &off), "cold_one_quarter");
	elf_syms_free(es);
	/* a different file under the linked name: its CRC does not match */
	run("cp '%s' %s", st.orig, st.dbg);
	run("printf x >> %s", st.dbg);
	es = elf_syms_load(st.bin);
	unsetenv("DISCO_DEBUG_DIR");
	assert_non_null(es);
	assert_null(elf_syms_debug_file(es));
	elf_syms_free(es);
	run("rm -rf %s", st.dir);
}

/*
 * A binary seen through /proc/PID/root (another mount namespace): its
 * debug files are under that root, by debuglink and by build-id, not
 * under this machine's debug directory with the /proc path appended.
 */
static void test_syms_debug_file_under_the_process_root(void **state)
{
	struct stripped st;
	struct elf_syms *es;
	char via_root[600], dbgdir[300];
	uint64_t a, off;

	make_stripped(&st, true);
	a = nm_addr(st.orig, "cold_one_quarter", false);
	snprintf(via_root, sizeof(via_root), "/proc/%d/root%s", (int)getpid(), st.bin);
	/* the debug directory, as seen from inside the root, holds the file */
	snprintf(dbgdir, sizeof(dbgdir), "%s/dbg", st.dir);
	run("mkdir -p %s%s && mv %s %s%s/", dbgdir, st.dir, st.dbg, dbgdir, st.dir);
	setenv("DISCO_DEBUG_DIR", dbgdir, 1);
	es = elf_syms_load(via_root);
	assert_non_null(es);
	assert_string_equal(elf_syms_table(es), "debug file");
	assert_non_null(strstr(elf_syms_debug_file(es), "/root/tmp/"));
	assert_string_equal(elf_syms_lookup(es, a, &off), "cold_one_quarter");
	elf_syms_free(es);
	/* by build-id under the root's debug directory */
	run("mkdir -p %s/.build-id/%.2s && mv %s%s/prog.debug %s/.build-id/%.2s/%s.debug",
	    dbgdir, st.bid, dbgdir, st.dir, dbgdir, st.bid, st.bid + 2);
	run("objcopy --remove-section=.gnu_debuglink %s", st.bin);
	es = elf_syms_load(via_root);
	unsetenv("DISCO_DEBUG_DIR");
	assert_non_null(es);
	assert_string_equal(elf_syms_table(es), "debug file");
	assert_non_null(strstr(elf_syms_debug_file(es), "/.build-id/"));
	assert_string_equal(elf_syms_lookup(es, a, &off), "cold_one_quarter");
	elf_syms_free(es);
	run("rm -rf %s", st.dir);
}

static void test_syms_resolve_says_why_a_frame_is_unnamed(void **state)
{
	struct stripped st;
	struct syms_cache *c = syms_cache_new();
	struct proc_syms *ps;
	struct sym_frame f;
	struct stat sb;
	char maps[1024];
	uint64_t base = 0x555555554000ull;

	make_stripped(&st, false);
	setenv("DISCO_DEBUG_DIR", "/nonexistent", 1);
	assert_int_equal(stat(st.bin, &sb), 0);
	snprintf(maps, sizeof(maps),
		 "%llx-%llx r-xp 00000000 08:01 %llu %s\n"
		 "7f0000000000-7f0000001000 r-xp 00000000 00:00 0 \n"
		 "7f0000002000-7f0000003000 r-xp 00000000 08:01 1 /nonexistent/lib.so\n",
		 (unsigned long long)base, (unsigned long long)base + 0x10000,
		 (unsigned long long)sb.st_ino, st.bin);
	ps = proc_syms_from_maps(c, maps, NULL);
	assert_non_null(ps);
	assert_int_equal(proc_syms_resolve(ps, base + 0x1100, &f), -ENOENT);
	assert_int_equal(f.status, SYM_STRIPPED);
	assert_string_equal(f.module, "prog");
	assert_int_equal(f.offset, 0x1100);
	proc_syms_resolve(ps, 0x7f0000000010ull, &f);
	assert_int_equal(f.status, SYM_ANON);
	proc_syms_resolve(ps, 0x7f0000002010ull, &f);
	assert_int_equal(f.status, SYM_NO_FILE);
	proc_syms_resolve(ps, 0x10, &f);
	assert_int_equal(f.status, SYM_NO_MAPPING);
	assert_string_equal(sym_status_name(SYM_PROCESS_GONE), "process_gone");
	unsetenv("DISCO_DEBUG_DIR");
	proc_syms_free(ps);
	syms_cache_free(c);
	run("rm -rf %s", st.dir);
}

static void test_perfmap_parse_and_lookup(void **state)
{
	struct perfmap *pm = perfmap_parse(
		"7f00001000 40 LazyCompile:~handler /srv/app.js:12\n"
		"bad line\n"
		"7f00000800 100 Interpreter\n"
		"7f00002000 0 zero-sized\n");
	uint64_t off = 0;

	assert_non_null(pm);
	assert_string_equal(perfmap_lookup(pm, 0x7f00001010ull, &off), "LazyCompile:~handler /srv/app.js:12");
	assert_int_equal(off, 0x10);
	assert_string_equal(perfmap_lookup(pm, 0x7f00000800ull, &off), "Interpreter");
	assert_int_equal(off, 0);
	assert_null(perfmap_lookup(pm, 0x7f00001040ull, &off));
	assert_null(perfmap_lookup(pm, 0x7f00002000ull, &off));
	assert_null(perfmap_lookup(pm, 0x10, &off));
	perfmap_free(pm);
}

__attribute__((noinline)) int syms_test_marker_function(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static void test_syms_live_process_resolves_own_function(void **state)
{
	struct syms_cache *c = syms_cache_new();
	struct proc_syms *ps = proc_syms_new(c, getpid());
	char buf[256];

	assert_non_null(ps);
	proc_syms_format(ps, (uint64_t)(uintptr_t)syms_test_marker_function + 2, buf, sizeof(buf));
	assert_string_equal(buf, "syms_test_marker_function+0x2 (test_syms)");
	/* a libc function no sanitizer intercepts */
	proc_syms_format(ps, (uint64_t)(uintptr_t)gnu_get_libc_version, buf, sizeof(buf));
	assert_non_null(strstr(buf, "(libc.so.6)"));
	assert_int_equal(proc_syms_refresh(ps), 0);
	proc_syms_free(ps);
	syms_cache_free(c);
}

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/disco-ksyms.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_ksyms_hidden_addresses_detected(void **state)
{
	char *p = write_tmp("0000000000000000 T _text\n"
			    "0000000000000000 T kmalloc_trace\n"
			    "0000000000000000 t do_sys_open\n");
	struct ksyms *ks = ksyms_load(p);
	char buf[64];

	unlink(p);
	assert_non_null(ks);
	assert_true(ksyms_hidden(ks));
	assert_null(ksyms_lookup(ks, 0xffffffff81234567ull, NULL, NULL));
	assert_string_equal(ksyms_format(ks, 0xffffffff81234567ull, buf, sizeof(buf)),
			    "0xffffffff81234567");
	ksyms_free(ks);
}

static void test_ksyms_lookup_names_and_modules(void **state)
{
	char *p = write_tmp("ffffffff81000000 T _text\n"
			    "ffffffff81200000 T alloc_file\n"
			    "ffffffff81200400 t path_openat\n"
			    "0000000000001000 A fixed_percpu_data\n"
			    "ffffffffc0001000 t nft_do_chain\t[nf_tables]\n");
	struct ksyms *ks = ksyms_load(p);
	const char *mod = "x";
	uint64_t off;
	char buf[96];

	unlink(p);
	assert_non_null(ks);
	assert_false(ksyms_hidden(ks));
	assert_int_equal(ksyms_count(ks), 4);
	assert_string_equal(ksyms_lookup(ks, 0xffffffff81200010ull, &off, &mod), "alloc_file");
	assert_int_equal(off, 0x10);
	assert_null(mod);
	assert_string_equal(ksyms_format(ks, 0xffffffff81200404ull, buf, sizeof(buf)),
			    "path_openat+0x4");
	assert_string_equal(ksyms_format(ks, 0xffffffffc0001020ull, buf, sizeof(buf)),
			    "nft_do_chain+0x20 [nf_tables]");
	assert_int_equal(ksyms_addr(ks, "alloc_file"), 0xffffffff81200000ull);
	ksyms_free(ks);
}

static void test_ksyms_real_kallsyms_loads(void **state)
{
	struct ksyms *ks = ksyms_load(NULL);

	assert_non_null(ks);
	assert_true(ksyms_count(ks) > 1000);
	if (!ksyms_hidden(ks)) {
		uint64_t a = ksyms_addr(ks, "__kmalloc_noprof") ?: ksyms_addr(ks, "__kmalloc");
		const char *n;

		assert_true(a != 0);
		n = ksyms_lookup(ks, a + 1, NULL, NULL);
		assert_non_null(n);
		assert_true(!strcmp(n, "__kmalloc_noprof") || !strcmp(n, "__kmalloc"));
	}
	ksyms_free(ks);
}

static void test_maps_keep_code_drops_data_mappings_of_files_only(void **state)
{
	struct map_entry *m;
	int n = maps_parse("55d000000000-55d000001000 r--p 00000000 fd:01 10 /usr/bin/prog\n"
			   "55d000001000-55d000005000 r-xp 00001000 fd:01 10 /usr/bin/prog\n"
			   "55d000005000-55d000006000 r--p 00005000 fd:01 10 /usr/bin/prog\n"
			   "55d000006000-55d000007000 rw-p 00006000 fd:01 10 /usr/bin/prog\n"
			   "55d000100000-55d000200000 rw-p 00000000 00:00 0 [heap]\n"
			   "7f0000000000-7f0000100000 r--p 00000000 fd:01 20 /usr/lib/locale/locale-archive\n"
			   "7f0000200000-7f0000201000 rw-p 00000000 00:00 0 \n"
			   "7f0000300000-7f0000328000 r--p 00000000 fd:01 30 /usr/lib/libc.so.6\n"
			   "7f0000328000-7f00004bd000 r-xp 00028000 fd:01 30 /usr/lib/libc.so.6\n"
			   "7f00004bd000-7f0000515000 r--p 001bd000 fd:01 30 /usr/lib/libc.so.6\n"
			   "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n"
			   "7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0 [vdso]\n", &m);

	assert_int_equal(n, 12);
	n = maps_keep_code(m, n);
	assert_int_equal(n, 8);
	assert_true(m[0].start == 0x55d000000000ULL && !m[0].exec);	/* prog's first mapping */
	assert_true(m[1].exec && !strcmp(m[1].path, "/usr/bin/prog"));
	assert_string_equal(m[2].path, "[heap]");
	assert_string_equal(m[3].path, "");
	assert_true(m[4].start == 0x7f0000300000ULL && !m[4].exec);	/* libc's first mapping */
	assert_true(m[5].exec && !strcmp(m[5].path, "/usr/lib/libc.so.6"));
	assert_string_equal(m[6].path, "[stack]");
	assert_string_equal(m[7].path, "[vdso]");
	free(m);
}

static void test_maps_keep_code_merges_adjacent_anonymous_and_pack_keeps_paths(void **state)
{
	struct map_entry *m, *v;
	int n = maps_parse("7f0000000000-7f0000001000 ---p 00000000 00:00 0 \n"
			   "7f0000001000-7f0000801000 rw-p 00000000 00:00 0 \n"
			   "7f0000801000-7f0000802000 ---p 00000000 00:00 0 \n"
			   "7f0000900000-7f0000928000 r--p 00000000 fd:01 30 /usr/lib/libc.so.6\n"
			   "7f0000928000-7f0000abd000 r-xp 00028000 fd:01 30 /usr/lib/libc.so.6\n"
			   "7f0000abd000-7f0000abe000 rw-p 00000000 00:00 0 \n"
			   "7f0000abe000-7f0000abf000 rw-p 00000000 00:00 0 [anon:x]\n", &m);

	assert_int_equal(n, 7);
	/* the lines of one file share its path */
	assert_ptr_equal(m[3].path, m[4].path);
	n = maps_keep_code(m, n);
	assert_int_equal(n, 5);
	assert_true(m[0].start == 0x7f0000000000ULL && m[0].end == 0x7f0000802000ULL);
	assert_string_equal(m[0].path, "");
	assert_true(m[2].exec && !strcmp(m[2].path, "/usr/lib/libc.so.6"));
	/* a named anonymous mapping stays apart */
	assert_string_equal(m[4].path, "[anon:x]");
	v = maps_pack(m, n);
	free(m);
	assert_non_null(v);
	assert_string_equal(v[1].path, "/usr/lib/libc.so.6");
	assert_ptr_equal(v[1].path, v[2].path);
	assert_string_equal(v[4].path, "[anon:x]");
	assert_ptr_equal(maps_find(v, n, 0x7f0000500000ULL), &v[0]);
	free(v);
}

static void test_maps_parse_fields(void **state)
{
	struct map_entry *m;
	int n = maps_parse("00400000-00452000 r-xp 00001000 fd:01 1234 /usr/bin/x\n"
			   "00651000-00652000 rw-p 00051000 fd:01 1234 /usr/bin/x\n"
			   "7f0000000000-7f0000001000 r-xp 00000000 fd:01 99 /tmp/a b (deleted)\n", &m);

	assert_int_equal(n, 3);
	assert_true(m[0].exec);
	assert_false(m[1].exec);
	assert_int_equal(m[0].file_off, 0x1000);
	assert_int_equal(m[0].ino, 1234);
	assert_string_equal(m[2].path, "/tmp/a b (deleted)");
	assert_ptr_equal(maps_find(m, n, 0x00651800), &m[1]);
	assert_null(maps_find(m, n, 0x00500000));
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syms_symtab_lookup_matches_nm),
		cmocka_unit_test(test_syms_stripped_libc_falls_back_to_dynsym),
		cmocka_unit_test(test_syms_find_func_gives_file_offset),
		cmocka_unit_test(test_syms_format_through_maps),
		cmocka_unit_test(test_proc_syms_build_id_is_the_mapped_files),
		cmocka_unit_test(test_syms_live_process_resolves_own_function),
		cmocka_unit_test(test_ksyms_hidden_addresses_detected),
		cmocka_unit_test(test_ksyms_lookup_names_and_modules),
		cmocka_unit_test(test_ksyms_real_kallsyms_loads),
		cmocka_unit_test(test_maps_parse_fields),
		cmocka_unit_test(test_maps_keep_code_drops_data_mappings_of_files_only),
		cmocka_unit_test(test_maps_keep_code_merges_adjacent_anonymous_and_pack_keeps_paths),
		cmocka_unit_test(test_syms_stripped_binary_named_from_build_id_debug_file),
		cmocka_unit_test(test_syms_debuglink_found_beside_binary_and_crc_checked),
		cmocka_unit_test(test_syms_debug_file_under_the_process_root),
		cmocka_unit_test(test_syms_resolve_says_why_a_frame_is_unnamed),
		cmocka_unit_test(test_perfmap_parse_and_lookup),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
