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
struct expconf_ctx {
	struct expconf_diags *d;
	char path[EXPCONF_PATH_MAX];
	size_t plen;
	int grid;                            /* the searcher is grid: hps need counts */
	const struct yamltree_node *grid_at; /* searcher node, for the grid-size error */
};

/* Append ".key" to the path; returns the old length for expconf_path_pop. */
size_t expconf_path_push(struct expconf_ctx *c, const char *key);

/* Append ".index". */
size_t expconf_path_index(struct expconf_ctx *c, size_t index);

/* Restore the path to an old length. */
void expconf_path_pop(struct expconf_ctx *c, size_t len);

/* Report an error (or warning) at node n (or at no place when NULL) under the current path. */
void expconf_err(struct expconf_ctx *c, const struct yamltree_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void expconf_warn(struct expconf_ctx *c, const struct yamltree_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* n, or NULL when n is absent or an explicit null (Determined: null = default). */
const struct yamltree_node *expconf_opt(const struct yamltree_node *n);

/* Check the keys of a map against known and ignored (NULL-terminated lists):
 * unknown -> error, ignored -> warning. Returns 0 when n is a map, else -1
 * (after an error "expected a mapping"). */
int expconf_check_keys(struct expconf_ctx *c, const struct yamltree_node *n,
                       const char *const *known, const char *const *ignored);

/* Typed getters: 0 on success, -1 after reporting what was expected. */
int expconf_get_int(struct expconf_ctx *c, const struct yamltree_node *n, long long min,
                    long long max, long long *out);
int expconf_get_num(struct expconf_ctx *c, const struct yamltree_node *n, double *out);
int expconf_get_bool(struct expconf_ctx *c, const struct yamltree_node *n, int *out);
int expconf_get_str(struct expconf_ctx *c, const struct yamltree_node *n, int nonempty,
                    json_t **out);

/* Generic conversion of any subtree (aliases expanded), or NULL after errors. */
json_t *expconf_to_json(struct expconf_ctx *c, const struct yamltree_node *n);

/* Setters that keep going on allocation failure by reporting it. */
void expconf_set(struct expconf_ctx *c, json_t *obj, const char *key, json_t *val);

/* Child of map under key, with the path pushed when present (pop with expconf_path_pop). */
const struct yamltree_node *expconf_child(struct expconf_ctx *c, const struct yamltree_node *map,
                                          const char *key, size_t *saved);

/* Optional integer field key of map in [min, max] into out; when absent: nothing (has_def
 * 0), def (1) or JSON null (2). */
void expconf_opt_int(struct expconf_ctx *c, const struct yamltree_node *map, const char *key,
                     long long min, long long max, int has_def, long long def, json_t *out);

/* Hyperparameters: normalize the map (NULL = none) into a JSON object. */
json_t *expconf_hparams(struct expconf_ctx *c, const struct yamltree_node *n);

/* Grid size of normalized hyperparameters, saturated at limit+1. */
unsigned long long expconf_grid_size(const json_t *hps, unsigned long long limit);

#endif
