/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small deterministic pseudo-random generator: xoshiro256** seeded through
 * splitmix64 from (seed, index, stream). Same inputs, same numbers, on every
 * machine: the searchers derive trial i's hyperparameters and seed from it.
 */
#ifndef DET_PRNG_H
#define DET_PRNG_H

#include <stdint.h>

/* Generator state (plain value, copy freely). */
struct prng {
	uint64_t s[4];
};

/* Independent streams derived from the same (seed, index). */
enum prng_stream { PRNG_STREAM_HPARAMS = 1, PRNG_STREAM_TRIAL_SEED = 2 };

/* Seed gen from (seed, index, stream): a pure function of the three. */
void prng_init(struct prng *gen, uint64_t seed, uint64_t index, uint64_t stream);

/* Next 64 random bits. */
uint64_t prng_next(struct prng *gen);

/* Uniform integer in [0, bound) without modulo bias; bound 0 means the full 2^64 range. */
uint64_t prng_below(struct prng *gen, uint64_t bound);

/* Uniform double in [0, 1) with 53 random bits. */
double prng_unit(struct prng *gen);

/* The splitmix64 finalizer: a bijective 64-bit mix. */
uint64_t prng_mix64(uint64_t x);

#endif
