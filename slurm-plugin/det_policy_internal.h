/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by det_policy.c (submissions) and det_policy_modify.c (updates). */
#ifndef DET_POLICY_INTERNAL_H
#define DET_POLICY_INTERNAL_H

#include "det_policy.h"

#define DET_POLICY_MAX_SLOTS_LIMIT 4096
#define DET_POLICY_MAX_EXPERIMENT_ID 2147483647u

/* Decimal without sign, leading zeros or spaces, at most max: 0, or -1. */
int det_policy_parse_u32(const char *s, uint32_t max, uint32_t *out);

/* The pool called name, or NULL. */
const struct det_pool *det_policy_find_pool(const struct det_policy_conf *conf, const char *name);

/* Slots of a trial in pool -> gres per node, tasks and nodes in out. */
void det_policy_shape(const struct det_policy_conf *conf, const struct det_pool *pool,
                      uint32_t slots, struct det_job_out *out);

/* out with every field "leave as is". */
void det_policy_out_init(struct det_job_out *out);

/* The pool det jobs use when det.conf maps none: any partition, slots are GPUs. */
extern const struct det_pool det_policy_no_pool_map;

#endif
