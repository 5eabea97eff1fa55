/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64. Chosen for
 * a state small enough to checkpoint verbatim, which is what makes resumed
 * training draw exactly the numbers an uninterrupted run would.
 */
#include "fm_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fm_rng_seed(struct fm_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t fm_rng_next(struct fm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t fm_rng_below(struct fm_rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = fm_rng_next(r);
	while (x >= limit);
	return x % n;
}

double fm_rng_uniform(struct fm_rng *r)
{
	return (double)(fm_rng_next(r) >> 11) * 0x1.0p-53;
}

double fm_rng_normal(struct fm_rng *r)
{
	double u1 = fm_rng_uniform(r), u2 = fm_rng_uniform(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
