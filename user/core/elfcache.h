/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ELF handles shared across processes: a file that many processes map
 * (libc, ld.so) is opened, mapped and parsed once, whichever process
 * or mount namespace it is reached through, for as long as it is cached.
 */
#ifndef DISCO_ELFCACHE_H
#define DISCO_ELFCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

struct elf_cache;

struct elf_cache_stats {
	uint64_t opens;		/* files opened and mapped */
	uint64_t hits;		/* handed out without opening anything */
	uint64_t shared;	/* opened, but the same build-id was cached: that handle shared */
	uint64_t evicted;	/* dropped from the cache past its size */
	size_t files;		/* cached now */
};

/* At most max_files handles kept (least recently used dropped first). NULL and errno. */
struct elf_cache *elf_cache_new(unsigned int max_files);
/* Drops the cache's references; handles given out stay valid until elf_end(). */
void elf_cache_free(struct elf_cache *c);

/*
 * The ELF file at path: a new reference (the caller elf_end()s it) to the
 * handle every earlier caller of the same file got. A file is the same
 * when its device, inode, size and modification time are (a binary
 * rewritten at the same path is another file), or when it has the same
 * GNU build-id (the same library in another mount namespace). want_ino
 * (0: any) is the inode the caller expects: another file now at path is
 * refused (ESTALE). NULL and errno.
 */
Elf *elf_cache_get(struct elf_cache *c, const char *path, uint64_t want_ino);

void elf_cache_stats(const struct elf_cache *c, struct elf_cache_stats *st);

/* The GNU build-id of e into id (at most max bytes): its length, 0 when there is none. */
size_t elf_build_id(Elf *e, unsigned char *id, size_t max);

#endif
