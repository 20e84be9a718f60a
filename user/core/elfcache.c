// SPDX-License-Identifier: GPL-2.0
/* ELF handles opened once per file (identity or build-id) and shared, least recently used dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <sys/stat.h>
#include "elfcache.h"

#define BUILD_ID_MAX 64

struct ec_ent {
	Elf *elf;		/* the cache's reference; NULL: free slot */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned char build_id[BUILD_ID_MAX];
	size_t build_id_len;
	uint64_t used;		/* tick of its last use */
};

struct elf_cache {
	struct ec_ent *ents;
	unsigned int max;
	uint64_t tick;
	struct elf_cache_stats st;
};

struct elf_cache *elf_cache_new(unsigned int max_files)
{
	struct elf_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max_files ?: 1;
	c->ents = calloc(c->max, sizeof(*c->ents));
	if (!c->ents || elf_version(EV_CURRENT) == EV_NONE) {
		free(c->ents);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void elf_cache_free(struct elf_cache *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < c->max; i++)
		if (c->ents[i].elf)
			elf_end(c->ents[i].elf);
	free(c->ents);
	free(c);
}

size_t elf_build_id(Elf *e, unsigned char *id, size_t max)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + noff, "GNU", 4) && nh.n_descsz > 0 &&
			    nh.n_descsz <= max) {
				memcpy(id, (char *)d->d_buf + doff, nh.n_descsz);
				return nh.n_descsz;
			}
		}
	}
	return 0;
}

static bool same_file(const struct ec_ent *e, const struct stat *st)
{
	return e->elf && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Another reference to a cached handle: libelf counts them on the one descriptor. */
static Elf *give(struct elf_cache *c, struct ec_ent *e)
{
	e->used = ++c->tick;
	return elf_begin(-1, ELF_C_READ_MMAP, e->elf);
}

/* A free slot, or the least recently used one emptied. */
static struct ec_ent *slot_for_new(struct elf_cache *c)
{
	struct ec_ent *lru = &c->ents[0];

	for (unsigned int i = 0; i < c->max; i++) {
		if (!c->ents[i].elf)
			return &c->ents[i];
		if (c->ents[i].used < lru->used)
			lru = &c->ents[i];
	}
	elf_end(lru->elf);
	memset(lru, 0, sizeof(*lru));
	c->st.evicted++;
	return lru;
}

/* Open and map path; its identity in *st. */
static Elf *open_elf(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e = NULL;
	int err = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, st)) {
		err = errno;
		goto out_close;
	}
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		err = ENOEXEC;
		goto out_close;
	}
	/* the whole file is mapped: the descriptor is not needed again */
	if (elf_cntl(e, ELF_C_FDDONE))
		err = EIO;
out_close:
	close(fd);
	if (err) {
		if (e)
			elf_end(e);
		errno = err;
		return NULL;
	}
	return e;
}

Elf *elf_cache_get(struct elf_cache *c, const char *path, uint64_t want_ino)
{
	unsigned char id[BUILD_ID_MAX];
	struct ec_ent *e;
	struct stat st;
	size_t idlen;
	Elf *elf;

	if (stat(path, &st))
		return NULL;
	if (want_ino && st.st_ino != want_ino) {
		errno = ESTALE;
		return NULL;
	}
	for (unsigned int i = 0; i < c->max; i++)
		if (same_file(&c->ents[i], &st)) {
			c->st.hits++;
			return give(c, &c->ents[i]);
		}
	elf = open_elf(path, &st);
	if (!elf)
		return NULL;
	c->st.opens++;
	idlen = elf_build_id(elf, id, sizeof(id));
	e = NULL;
	for (unsigned int i = 0; idlen && i < c->max && !e; i++)
		if (c->ents[i].elf && c->ents[i].build_id_len == idlen &&
		    !memcmp(c->ents[i].build_id, id, idlen))
			e = &c->ents[i];
	if (e) {
		/* the same binary reached by another name: its parsed handle serves */
		Elf *have = e->elf;

		elf_end(elf);
		c->st.shared++;
		elf = elf_begin(-1, ELF_C_READ_MMAP, have);
		if (!elf)
			return NULL;
	}
	e = slot_for_new(c);
	e->elf = elf;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mtime = st.st_mtim;
	memcpy(e->build_id, id, idlen);
	e->build_id_len = idlen;
	return give(c, e);
}

void elf_cache_stats(const struct elf_cache *c, struct elf_cache_stats *st)
{
	*st = c->st;
	st->files = 0;
	for (unsigned int i = 0; i < c->max; i++)
		st->files += c->ents[i].elf != NULL;
}
