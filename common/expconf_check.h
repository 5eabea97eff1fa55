/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to expconf: typed access to located YAML nodes, with diagnostics. */
#ifndef DET_EXPCONF_CHECK_H
#define DET_EXPCONF_CHECK_H

#include <jansson.h>
#include <stddef.h>

#include "expconf.h"
#include "yamltree.h"

#define EXPCONF_PATH_MAX 512

/* Validation state: where we are (key path) and what was found. */
struct ec_ctx {
	struct expconf_diags *d;
	char path[EXPCONF_PATH_MAX];
	size_t plen;
	int grid;             /* the searcher is grid: hps need counts */
	const struct yt_node *grid_at; /* searcher node, for the grid-size error */
};

/* Append ".key" to the path; returns the old length for ec_pop. */
size_t ec_push(struct ec_ctx *c, const char *key);

/* Append ".index". */
size_t ec_push_index(struct ec_ctx *c, size_t index);

/* Restore the path to an old length. */
void ec_pop(struct ec_ctx *c, size_t len);

/* Report an error (or warning) at node n (or at no place when NULL) under the current path. */
void ec_error(struct ec_ctx *c, const struct yt_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ec_warn(struct ec_ctx *c, const struct yt_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* n, or NULL when n is absent or an explicit null (Determined: null = default). */
const struct yt_node *ec_opt(const struct yt_node *n);

/* Check the keys of a map against known and ignored (NULL-terminated lists):
 * unknown -> error, ignored -> warning. Returns 0 when n is a map, else -1
 * (after an error "expected a mapping"). */
int ec_check_map(struct ec_ctx *c, const struct yt_node *n, const char *const *known,
                 const char *const *ignored);

/* Typed getters: 0 on success, -1 after reporting what was expected. */
int ec_int(struct ec_ctx *c, const struct yt_node *n, long long min, long long max, long long *out);
int ec_num(struct ec_ctx *c, const struct yt_node *n, double *out);
int ec_bool(struct ec_ctx *c, const struct yt_node *n, int *out);
int ec_str(struct ec_ctx *c, const struct yt_node *n, int nonempty, json_t **out);

/* Generic conversion of any subtree (aliases expanded), or NULL after errors. */
json_t *ec_json(struct ec_ctx *c, const struct yt_node *n);

/* Setters that keep going on allocation failure by reporting it. */
void ec_set(struct ec_ctx *c, json_t *obj, const char *key, json_t *val);

/* Child of map under key, with the path pushed when present (pop with ec_pop). */
const struct yt_node *ec_child(struct ec_ctx *c, const struct yt_node *map, const char *key,
                               size_t *saved);

/* Hyperparameters: normalize the map (NULL = none) into a JSON object. */
json_t *expconf_hparams(struct ec_ctx *c, const struct yt_node *n);

/* Grid size of normalized hyperparameters, saturated at limit+1. */
unsigned long long expconf_grid_size(const json_t *hps, unsigned long long limit);

#endif
