/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hyperparameter spaces of the normalized config (doc/expconf.md): checking
 * their shape, random sampling and grid enumeration. Used by the searchers.
 */
#ifndef DET_HPARAMS_H
#define DET_HPARAMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "expconf.h"
#include "prng.h"

/* Deepest nesting of hyperparameter maps accepted (the config parser's limit). */
#define HPARAMS_MAX_DEPTH EXPCONF_MAX_DEPTH
/* Largest grid (cartesian product) accepted. */
#define HPARAMS_MAX_GRID_POINTS EXPCONF_MAX_GRID_POINTS

/* A checked hyperparameter space. */
struct hparams;

/* Check and compile the "hyperparameters" object. With for_grid, int/double/log
 * need a count and the grid may not exceed HPARAMS_MAX_GRID_POINTS. NULL and a
 * message naming the key path in err on error. */
struct hparams *hparams_new(const json_t *hyperparameters, int for_grid, char *err, size_t errlen);

/* Free (NULL is fine). */
void hparams_free(struct hparams *hp);

/* One random sample (new reference) drawn from gen in a fixed order. NULL only
 * on allocation failure. */
json_t *hparams_sample(const struct hparams *hp, struct prng *gen);

/* Number of grid points (only meaningful when built with for_grid). */
int hparams_grid_size(const struct hparams *hp);

/* Grid point index (0 <= index < hparams_grid_size) as a new reference; NULL
 * when out of range or on allocation failure. */
json_t *hparams_grid_point(const struct hparams *hp, int index);

/* The grid values of one int hyperparameter: element k of count values in
 * [minval, maxval] (count already capped), rounded half away from zero. */
int64_t hparams_grid_int(int64_t minval, int64_t maxval, int64_t count, int64_t k);

#endif
