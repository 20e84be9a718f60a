// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the shared ELF handles: reuse, sharing by build-id, replaced files, eviction. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "elfcache.h"

static char dir[64];

/*
 * A small ELF file at path: a GNU build-id note of 20 bytes all `id`
 * (0: no note), and pad bytes of filler after it, so that two files can
 * differ in size or only in content.
 */
static void make_elf(const char *path, unsigned char id, size_t pad)
{
	static const char shstr[] = "\0.note.gnu.build-id\0.pad\0.shstrtab";
	unsigned char note[12 + 4 + 20], *filler = calloc(1, pad ?: 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	Elf *e;
	Elf64_Ehdr *eh;
	Elf_Scn *scn;
	Elf_Data *d;
	Elf64_Shdr *sh;
	uint32_t hdr[3] = { 4, 20, NT_GNU_BUILD_ID };

	assert_true(fd >= 0 && filler);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	assert_non_null(e);
	eh = elf64_newehdr(e);
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	memcpy(note, hdr, sizeof(hdr));
	memcpy(note + 12, "GNU", 4);
	memset(note + 16, id, 20);
	if (id) {
		scn = elf_newscn(e);
		d = elf_newdata(scn);
		d->d_buf = note;
		d->d_size = sizeof(note);
		d->d_type = ELF_T_NHDR;
		d->d_align = 4;
		sh = elf64_getshdr(scn);
		sh->sh_name = 1;
		sh->sh_type = SHT_NOTE;
		sh->sh_flags = SHF_ALLOC;
	}
	scn = elf_newscn(e);
	d = elf_newdata(scn);
	d->d_buf = filler;
	d->d_size = pad;
	d->d_align = 1;
	sh = elf64_getshdr(scn);
	sh->sh_name = 20;
	sh->sh_type = SHT_PROGBITS;
	scn = elf_newscn(e);
	d = elf_newdata(scn);
	d->d_buf = (void *)shstr;
	d->d_size = sizeof(shstr);
	d->d_align = 1;
	sh = elf64_getshdr(scn);
	sh->sh_name = 25;
	sh->sh_type = SHT_STRTAB;
	eh->e_shstrndx = elf_ndxscn(scn);
	assert_true(elf_update(e, ELF_C_WRITE) > 0);
	elf_end(e);
	close(fd);
	free(filler);
}

static char *at(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static unsigned char id_of(Elf *e)
{
	unsigned char id[64];

	return elf_build_id(e, id, sizeof(id)) == 20 ? id[0] : 0;
}

/* Set path's modification time (a rewrite in the same second must still differ). */
static void set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/disco-elfcache-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	const char *names[] = { "a", "b", "c", "copy", "new" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(at(names[i]));
	return rmdir(dir);
}

static void test_elfcache_gives_the_same_handle_without_opening_again(void **state)
{
	struct elf_cache *c = elf_cache_new(8);
	struct elf_cache_stats st;
	Elf *a, *b;

	make_elf(at("a"), 0xa1, 64);
	a = elf_cache_get(c, at("a"), 0);
	b = elf_cache_get(c, at("a"), 0);
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_int_equal(id_of(a), 0xa1);
	elf_cache_stats(c, &st);
	assert_int_equal(st.opens, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.files, 1);
	elf_end(a);
	elf_end(b);
	elf_cache_free(c);
}

static void test_elfcache_shares_one_handle_by_build_id_across_paths(void **state)
{
	struct elf_cache *c = elf_cache_new(8);
	struct elf_cache_stats st;
	Elf *a, *copy, *other;

	make_elf(at("a"), 0xa1, 64);
	make_elf(at("copy"), 0xa1, 64);	/* another inode, as in another mount namespace */
	make_elf(at("b"), 0xb2, 64);
	a = elf_cache_get(c, at("a"), 0);
	copy = elf_cache_get(c, at("copy"), 0);
	other = elf_cache_get(c, at("b"), 0);
	assert_non_null(a);
	assert_ptr_equal(copy, a);
	assert_ptr_not_equal(other, a);
	assert_int_equal(id_of(other), 0xb2);
	elf_cache_stats(c, &st);
	assert_int_equal(st.opens, 3);
	assert_int_equal(st.shared, 1);
	elf_end(a);
	elf_end(copy);
	elf_end(other);
	elf_cache_free(c);
}

static void test_elfcache_never_reuses_a_binary_replaced_at_the_same_path(void **state)
{
	struct elf_cache *c = elf_cache_new(8);
	struct stat before, after;
	Elf *old, *rewritten, *renamed;

	make_elf(at("a"), 0xa1, 64);
	set_mtime(at("a"), 1000000);
	old = elf_cache_get(c, at("a"), 0);
	assert_int_equal(stat(at("a"), &before), 0);
	/* rewritten in place, same inode and size: only the content and mtime differ */
	make_elf(at("a"), 0xc3, 64);
	set_mtime(at("a"), 2000000);
	assert_int_equal(stat(at("a"), &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_size, after.st_size);
	rewritten = elf_cache_get(c, at("a"), 0);
	assert_non_null(rewritten);
	assert_ptr_not_equal(rewritten, old);
	assert_int_equal(id_of(rewritten), 0xc3);
	/* replaced by a rename, as package managers do */
	make_elf(at("new"), 0xd4, 32);
	assert_int_equal(rename(at("new"), at("a")), 0);
	renamed = elf_cache_get(c, at("a"), 0);
	assert_non_null(renamed);
	assert_int_equal(id_of(renamed), 0xd4);
	/* a handle given out before the rename still reads the file it was opened on */
	assert_int_equal(id_of(rewritten), 0xc3);
	elf_end(old);
	elf_end(rewritten);
	elf_end(renamed);
	elf_cache_free(c);
}

static void test_elfcache_refuses_another_inode_than_the_one_mapped(void **state)
{
	struct elf_cache *c = elf_cache_new(8);
	struct stat st;

	make_elf(at("a"), 0xa1, 64);
	assert_int_equal(stat(at("a"), &st), 0);
	errno = 0;
	assert_null(elf_cache_get(c, at("a"), st.st_ino + 1));
	assert_int_equal(errno, ESTALE);
	errno = 0;
	assert_null(elf_cache_get(c, at("missing"), 0));
	assert_int_equal(errno, ENOENT);
	elf_cache_free(c);
}

static void test_elfcache_evicts_the_least_recently_used_and_keeps_given_handles_valid(void **state)
{
	struct elf_cache *c = elf_cache_new(2);
	struct elf_cache_stats st;
	Elf *a, *b, *a2, *cc, *b2;

	make_elf(at("a"), 0xa1, 64);
	make_elf(at("b"), 0xb2, 64);
	make_elf(at("c"), 0xc3, 64);
	a = elf_cache_get(c, at("a"), 0);
	b = elf_cache_get(c, at("b"), 0);
	a2 = elf_cache_get(c, at("a"), 0);	/* b is now the least recently used */
	cc = elf_cache_get(c, at("c"), 0);
	elf_cache_stats(c, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.evicted, 1);
	/* b was dropped from the cache, not from its holder */
	assert_int_equal(id_of(b), 0xb2);
	b2 = elf_cache_get(c, at("b"), 0);
	elf_cache_stats(c, &st);
	assert_int_equal(st.opens, 4);
	assert_int_equal(id_of(b2), 0xb2);
	assert_ptr_equal(a, a2);
	elf_end(a);
	elf_end(a2);
	elf_end(b);
	elf_end(b2);
	elf_end(cc);
	elf_cache_free(c);
}

static void test_elfcache_reads_no_build_id_from_a_file_without_one(void **state)
{
	struct elf_cache *c = elf_cache_new(4);
	struct elf_cache_stats st;
	Elf *a, *b;

	make_elf(at("a"), 0, 64);
	make_elf(at("b"), 0, 64);
	a = elf_cache_get(c, at("a"), 0);
	b = elf_cache_get(c, at("b"), 0);
	assert_non_null(a);
	assert_non_null(b);
	/* no build-id: nothing says they are the same binary */
	assert_ptr_not_equal(a, b);
	elf_cache_stats(c, &st);
	assert_int_equal(st.shared, 0);
	elf_end(a);
	elf_end(b);
	elf_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_elfcache_gives_the_same_handle_without_opening_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elfcache_shares_one_handle_by_build_id_across_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elfcache_never_reuses_a_binary_replaced_at_the_same_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elfcache_refuses_another_inode_than_the_one_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elfcache_evicts_the_least_recently_used_and_keeps_given_handles_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elfcache_reads_no_build_id_from_a_file_without_one, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
