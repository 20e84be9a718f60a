// SPDX-License-Identifier: GPL-2.0
/* bench workload "io": O_DIRECT 4 KiB random reads or writes, file or device. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "bench.h"
#include "clock.h"

#define IO_FILL_CHUNK (1u << 20)

struct io_state {
	int fd;
	bool write;
	uint64_t nblocks;
	uint64_t rng;
	void *buf;
};

/* xorshift64*: offsets only need to be spread, not unpredictable */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

static const char *fs_without_disk(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf))
		return NULL;
	switch ((unsigned long)sf.f_type) {
	case TMPFS_MAGIC:
		return "tmpfs";
	case RAMFS_MAGIC:
		return "ramfs";
	default:
		return NULL;
	}
}

static int setup_device(const char *device, struct bench_env *env, char *err, size_t errlen)
{
	uint64_t size = 0;
	struct stat st;
	int fd, ret = 0;

	fd = open(device, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "io: cannot open --device %s with O_DIRECT: %s", device,
			 strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "io: --device %s is not a block device", device);
		ret = -ENOTBLK;
		goto out_close;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) || size < IO_FILL_CHUNK) {
		snprintf(err, errlen, "io: --device %s: size unknown or below 1 MiB", device);
		ret = -EINVAL;
		goto out_close;
	}
	env->io_path = device;
	env->io_is_device = true;
	env->io_bytes = size / BENCH_IO_BLOCK * BENCH_IO_BLOCK;
out_close:
	close(fd);
	return ret;
}

/*
 * Once per invocation: create DIR/disco-bench.XXXXXX/data of --file-size,
 * written through and fsynced so reads hit allocated blocks; or check a
 * --device. Refuses tmpfs/ramfs (no block device behind it).
 */
static int bench_io_setup(const struct bench_opts *o, struct bench_env *env, char *err,
			  size_t errlen)
{
	char *tdir = NULL, *path = NULL, *buf = NULL;
	const char *fs, *dir = o->dir;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, done, bytes = o->file_bytes;
	int fd = -1, ret = 0;

	env->io_tmpdir = NULL;
	if (o->device)
		return setup_device(o->device, env, err, errlen);
	if (!dir)
		dir = "/var/tmp";
	fs = fs_without_disk(dir);
	if (fs) {
		snprintf(err, errlen,
			 "io: %s is on %s, which has no block device behind it (O_DIRECT there is refused or never reaches a disk): use --dir on a disk filesystem or --device",
			 dir, fs);
		return -EINVAL;
	}
	if (asprintf(&tdir, "%s/disco-bench.XXXXXX", dir) < 0)
		return -ENOMEM;
	if (!mkdtemp(tdir)) {
		ret = -errno;
		snprintf(err, errlen, "io: cannot create a directory in %s: %s", dir,
			 strerror(errno));
		goto out_free;
	}
	if (asprintf(&path, "%s/data", tdir) < 0) {
		ret = -ENOMEM;
		goto out_rmdir;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	buf = malloc(IO_FILL_CHUNK);
	if (fd < 0 || !buf) {
		ret = fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "io: cannot create %s: %s", path, strerror(-ret));
		goto out_unlink;
	}
	/* Real data on every block: reads must hit allocated extents, not holes. */
	for (done = 0; done < bytes; done += IO_FILL_CHUNK) {
		for (size_t i = 0; i < IO_FILL_CHUNK / 8; i++)
			((uint64_t *)buf)[i] = next_rand(&seed);
		if (pwrite(fd, buf, IO_FILL_CHUNK, done) != IO_FILL_CHUNK) {
			ret = errno ? -errno : -ENOSPC;
			snprintf(err, errlen, "io: writing %s: %s", path, strerror(-ret));
			goto out_unlink;
		}
	}
	if (fsync(fd)) {
		ret = -errno;
		snprintf(err, errlen, "io: fsync %s: %s", path, strerror(errno));
		goto out_unlink;
	}
	close(fd);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "io: the filesystem of %s refuses O_DIRECT (%s): use --dir on another filesystem or --device",
			 dir, strerror(errno));
		goto out_unlink;
	}
	env->io_path = path;
	env->io_is_device = false;
	env->io_bytes = bytes;
	env->io_tmpdir = tdir;
	path = NULL;
	tdir = NULL;
	goto out_close;
out_unlink:
	unlink(path);
out_rmdir:
	rmdir(tdir);
out_close:
	if (fd >= 0)
		close(fd);
out_free:
	free(buf);
	free(path);
	free(tdir);
	return ret;
}

static void bench_io_teardown(struct bench_env *env)
{
	if (env->io_path && !env->io_is_device) {
		unlink(env->io_path);
		free((char *)env->io_path);
	}
	env->io_path = NULL;
	if (env->io_tmpdir)
		rmdir(env->io_tmpdir);
	free(env->io_tmpdir);
	env->io_tmpdir = NULL;
}

static void bench_io_cleanup(void *state)
{
	struct io_state *s = state;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s);
}

static int bench_io_prepare(const struct bench_figure *fig, const struct bench_env *env,
			    void **state, char *err, size_t errlen)
{
	struct io_state *s;
	int ret;

	if (!env->io_path) {
		snprintf(err, errlen, "io: no file or device was set up");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->write = fig->variant == 1;
	s->nblocks = env->io_bytes / BENCH_IO_BLOCK;
	s->rng = mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x5bd1e995;
	s->fd = open(env->io_path, (s->write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (s->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "io: open %s with O_DIRECT: %s", env->io_path,
			 strerror(errno));
		goto fail;
	}
	ret = -posix_memalign(&s->buf, BENCH_IO_BLOCK, BENCH_IO_BLOCK);
	if (ret) {
		s->buf = NULL;
		goto fail;
	}
	memset(s->buf, 0xa5, BENCH_IO_BLOCK);
	*state = s;
	return 0;
fail:
	bench_io_cleanup(s);
	return ret;
}

static int bench_io_run(void *state, uint64_t duration_ns, uint64_t *ops,
			uint64_t *elapsed_ns, char *err, size_t errlen)
{
	struct io_state *s = state;
	uint64_t n = 0, start, end, now;
	int ret = 0;

	start = mono_ns();
	end = start + duration_ns;
	do {
		off_t off = (off_t)(next_rand(&s->rng) % s->nblocks) * BENCH_IO_BLOCK;
		ssize_t r = s->write ? pwrite(s->fd, s->buf, BENCH_IO_BLOCK, off) :
				       pread(s->fd, s->buf, BENCH_IO_BLOCK, off);

		if (r != BENCH_IO_BLOCK) {
			ret = r < 0 ? -errno : -EIO;
			snprintf(err, errlen, "io: %s at offset %lld: %s",
				 s->write ? "write" : "read", (long long)off,
				 r < 0 ? strerror(errno) : "short transfer");
			break;
		}
		n++;
		now = mono_ns();
	} while (now < end);
	*ops = n;
	*elapsed_ns = mono_ns() - start;
	return ret;
}

const struct bench_runner bench_io_runner = {
	.setup = bench_io_setup,
	.teardown = bench_io_teardown,
	.prepare = bench_io_prepare,
	.run = bench_io_run,
	.cleanup = bench_io_cleanup,
};
