/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small deterministic random number generator (xoshiro256**) whose whole
 * state is four words, so it goes into checkpoints as is.
 */
#ifndef FM_RNG_H
#define FM_RNG_H

#include <stdint.h>

struct fm_rng {
	uint64_t s[4];
};

/* Seed from one 64-bit value (expanded with splitmix64). */
void fm_rng_seed(struct fm_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t fm_rng_next(struct fm_rng *r);

/* Uniform in [0, n) without modulo bias (n > 0). */
uint64_t fm_rng_below(struct fm_rng *r, uint64_t n);

/* Uniform in [0, 1). */
double fm_rng_uniform(struct fm_rng *r);

/* Standard normal (Box-Muller; consumes two draws). */
double fm_rng_normal(struct fm_rng *r);

#endif
