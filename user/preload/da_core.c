// SPDX-License-Identifier: GPL-2.0
/* Sampling, address set and stack walk of libdisco-alloc.so (no system calls). */
#include <math.h>
#include "da_core.h"

/* splitmix64: one multiply-xorshift chain per draw, any seed is fine */
uint64_t da_rand(struct da_sampler *s)
{
	uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* uniform in (0, 1]: never 0, so its logarithm is finite */
static double unit(struct da_sampler *s)
{
	return ((da_rand(s) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* bytes to the next sample point: exponential with the sampler's mean */
static int64_t next_gap(struct da_sampler *s)
{
	double g = -log(unit(s)) * (double)s->mean;

	if (g < 1)
		return 1;
	if (g > (double)(INT64_MAX / 4))
		return INT64_MAX / 4;
	return (int64_t)g;
}

void da_sampler_seed(struct da_sampler *s, uint64_t mean, uint64_t seed)
{
	s->mean = mean ? mean : DA_DEFAULT_MEAN_BYTES;
	s->rng = seed;
	s->left = s->mean == 1 ? 0 : next_gap(s);
}

bool da_sample_hit(struct da_sampler *s)
{
	/* memoryless: the next point is a fresh gap from the end of this block */
	s->left = s->mean == 1 ? 0 : next_gap(s);
	return true;
}

bool da_sample_first(struct da_sampler *s, size_t n, uint64_t mean, uint64_t seed)
{
	da_sampler_seed(s, mean, seed);
	return da_sample(s, n);
}

void da_weight(struct da_sampler *s, size_t n, __u64 *bytes, __u64 *blocks)
{
	double p, inv, whole;

	if (s->mean <= 1 || n == 0) {
		*bytes = n;
		*blocks = 1;
		return;
	}
	p = -expm1(-(double)n / (double)s->mean);
	inv = p > 0 ? 1.0 / p : 1.0;
	*bytes = (uint64_t)llround((double)n * inv);
	whole = floor(inv);
	*blocks = (uint64_t)whole + (unit(s) <= inv - whole ? 1 : 0);
}

/* ---- address set ---------------------------------------------------------- */

#define SLOT_EMPTY	((uintptr_t)0)
#define SLOT_TOMB	((uintptr_t)1)

static inline size_t slot_of(const struct da_set *set, uintptr_t p)
{
	return (size_t)(((uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - set->bits));
}

/* +1 or -1, unless the counter is stuck */
static void counter_add(uint8_t *c, int d)
{
	uint8_t v = __atomic_load_n(c, __ATOMIC_RELAXED);

	do {
		if (v == DA_FILTER_STUCK)
			return;
	} while (!__atomic_compare_exchange_n(c, &v, (uint8_t)(v + d), true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

bool da_set_insert(const struct da_set *set, uintptr_t p)
{
	size_t mask = ((size_t)1 << set->bits) - 1, i = slot_of(set, p);

	for (int k = 0; k < DA_SET_PROBES; k++, i = (i + 1) & mask) {
		uintptr_t v = __atomic_load_n(&set->slot[i], __ATOMIC_RELAXED);

		if (v != SLOT_EMPTY && v != SLOT_TOMB)
			continue;
		if (__atomic_compare_exchange_n(&set->slot[i], &v, p, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			counter_add(da_set_counter(set, p), 1);
			return true;
		}
	}
	return false;
}

bool da_set_remove(const struct da_set *set, uintptr_t p)
{
	size_t mask = ((size_t)1 << set->bits) - 1, i = slot_of(set, p);
	uint8_t *c = da_set_counter(set, p);

	if (!da_set_may_hold(set, p))
		return false;
	for (int k = 0; k < DA_SET_PROBES; k++, i = (i + 1) & mask) {
		uintptr_t v = __atomic_load_n(&set->slot[i], __ATOMIC_ACQUIRE);

		if (v == SLOT_EMPTY)
			return false;
		if (v != p)
			continue;
		if (!__atomic_compare_exchange_n(&set->slot[i], &v, SLOT_TOMB, false,
						 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return false;
		counter_add(c, -1);
		return true;
	}
	return false;
}

/* ---- stacks ----------------------------------------------------------------- */

unsigned int da_walk(uintptr_t fp, uintptr_t lo, uintptr_t hi, __u64 *ips, unsigned int max)
{
	unsigned int n = 0;

	while (n < max) {
		const uintptr_t *f = (const uintptr_t *)fp;
		uintptr_t next, ret;

		if (fp < lo || hi < 16 || fp > hi - 16 || (fp & 7))
			break;
		next = f[0];
		ret = f[1];
		if (!ret)
			break;
		ips[n++] = ret;
		if (next <= fp)
			break;
		fp = next;
	}
	if (n < max)
		ips[n] = 0;
	return n;
}

uint64_t da_stack_hash(const __u64 *ips, unsigned int n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned int i = 0; i < n; i++)
		h = (h ^ ips[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool da_maps_range(const char *line, size_t len, uintptr_t *lo, uintptr_t *hi)
{
	uintptr_t v[2] = { 0, 0 };
	size_t i = 0;

	for (int part = 0; part < 2; part++) {
		size_t start = i;

		for (; i < len && hexval(line[i]) >= 0; i++)
			v[part] = v[part] << 4 | (uintptr_t)hexval(line[i]);
		if (i == start || i - start > 16)
			return false;
		if (part == 0) {
			if (i >= len || line[i] != '-')
				return false;
			i++;
		}
	}
	if (v[1] <= v[0])
		return false;
	*lo = v[0];
	*hi = v[1];
	return true;
}

/* Past the field at i and the blanks after it. */
static size_t next_field(const char *line, size_t len, size_t i)
{
	while (i < len && line[i] != ' ')
		i++;
	while (i < len && line[i] == ' ')
		i++;
	return i;
}

bool da_maps_file(const char *line, size_t len, struct da_map *m)
{
	size_t i, start;

	if (!da_maps_range(line, len, &m->lo, &m->hi))
		return false;
	i = next_field(line, len, 0);		/* perms */
	i = next_field(line, len, i);		/* offset */
	m->off = 0;
	for (start = i; i < len && hexval(line[i]) >= 0; i++)
		m->off = m->off << 4 | (uint64_t)hexval(line[i]);
	if (i == start || i - start > 16 || i >= len || line[i] != ' ')
		return false;
	i = next_field(line, len, i);		/* dev */
	i = next_field(line, len, i);		/* inode */
	m->ino = 0;
	for (start = i; i < len && line[i] >= '0' && line[i] <= '9'; i++)
		m->ino = m->ino * 10 + (uint64_t)(line[i] - '0');
	if (i == start || i - start > 19)
		return false;
	i = next_field(line, len, i);
	if (i >= len || line[i] != '/')
		return false;
	m->path = line + i;
	m->path_len = len - i;
	return true;
}
