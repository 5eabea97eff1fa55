/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the searcher unit tests: configs from JSON text. */
#ifndef DET_SEARCHER_TEST_UTIL_H
#define DET_SEARCHER_TEST_UTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "searcher.h"

/* A normalized config with the given hyperparameters and searcher (JSON text). */
static inline json_t *test_config(const char *hparams, const char *searcher, long long seed)
{
	char buf[8192];
	json_error_t jerr;
	json_t *cfg;

	snprintf(buf, sizeof(buf),
	         "{\"hyperparameters\": %s, \"searcher\": %s,"
	         " \"reproducibility\": {\"experiment_seed\": %lld}}",
	         hparams, searcher, seed);
	cfg = json_loads(buf, 0, &jerr);
	if (!cfg) {
		fprintf(stderr, "bad test config: %s: %s\n", jerr.text, buf);
		abort();
	}
	return cfg;
}

/* A searcher from hparams/searcher JSON text; aborts the test program on error. */
static inline struct searcher *test_searcher(const char *hparams, const char *searcher,
                                             long long seed)
{
	char err[256] = "";
	json_t *cfg = test_config(hparams, searcher, seed);
	struct searcher *s = searcher_new(cfg, err, sizeof(err));

	if (!s) {
		fprintf(stderr, "searcher_new failed: %s\n", err);
		abort();
	}
	json_decref(cfg);
	return s;
}

/* searcher_new's error text for a config that must be rejected ("" if accepted). */
static inline void test_reject(const char *hparams, const char *searcher, char *err, size_t errlen)
{
	json_t *cfg = test_config(hparams, searcher, 1);
	struct searcher *s;

	err[0] = '\0';
	s = searcher_new(cfg, err, errlen);
	if (s) {
		searcher_free(s);
		err[0] = '\0';
	}
	json_decref(cfg);
}

/* Deterministic test randomness (splitmix64), independent of the code under test. */
static inline unsigned long long test_rand(unsigned long long *state)
{
	unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (slight bias is fine for tests). */
static inline int test_below(unsigned long long *state, int n)
{
	return (int)(test_rand(state) % (unsigned long long)n);
}

/* Shuffle an int array in place. */
static inline void test_shuffle(int *a, int n, unsigned long long *state)
{
	for (int i = n - 1; i > 0; i--) {
		int j = test_below(state, i + 1), t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

#endif
