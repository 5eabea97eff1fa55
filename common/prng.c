/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xoshiro256** (Blackman and Vigna) seeded by splitmix64.
 *
 * State: four 64-bit words. The seed material is the splitmix64 chain started
 * from a mix of (seed, stream, index), so neighbouring trial indices get
 * unrelated streams and a trial never depends on which indices came before.
 * Non-obvious decision: bounded integers use rejection on the top of the
 * range (no modulo bias), so the number of draws per value can vary; callers
 * must therefore draw in a fixed order (they do: sorted names, depth first).
 */
#include "prng.h"

#define PRNG_GOLDEN UINT64_C(0x9e3779b97f4a7c15)

uint64_t prng_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint64_t splitmix_next(uint64_t *state)
{
	*state += PRNG_GOLDEN;
	return prng_mix64(*state);
}

void prng_init(struct prng *gen, uint64_t seed, uint64_t index, uint64_t stream)
{
	uint64_t sm = prng_mix64(seed + PRNG_GOLDEN);

	sm = prng_mix64(sm ^ (stream * PRNG_GOLDEN + UINT64_C(0x632be59bd9b4e019)));
	sm = prng_mix64(sm ^ (index + PRNG_GOLDEN));
	for (int i = 0; i < 4; i++)
		gen->s[i] = splitmix_next(&sm);
	/* splitmix64 outputs are a bijection of distinct inputs: never all zero. */
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(struct prng *gen)
{
	uint64_t *s = gen->s;
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

uint64_t prng_below(struct prng *gen, uint64_t bound)
{
	uint64_t limit, x;

	if (bound == 0)
		return prng_next(gen);
	/* Largest multiple of bound that fits: accept draws below it. */
	limit = UINT64_MAX - (UINT64_MAX % bound + 1) % bound;
	do
		x = prng_next(gen);
	while (x > limit);
	return x % bound;
}

double prng_unit(struct prng *gen)
{
	return (double)(prng_next(gen) >> 11) * 0x1.0p-53;
}
