/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to expconf: the searcher section and length values. */
#ifndef DET_EXPCONF_SEARCHER_H
#define DET_EXPCONF_SEARCHER_H

#include "expconf_check.h"

/* Normalize the searcher map; sets c->grid. Returns the JSON (errors in c). */
json_t *expconf_searcher(struct expconf_ctx *c, const struct yamltree_node *s);

/* A length {batches|epochs|records: N >= min}: 0 with *out (new ref) and *unit, or -1. */
int expconf_length(struct expconf_ctx *c, const struct yamltree_node *n, long long min,
                   json_t **out, const char **unit);

#endif
