/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where an experiment's checkpoints live, and whether that place is inside the storage roots. */
#ifndef DET_MASTER_CKPT_PATH_H
#define DET_MASTER_CKPT_PATH_H

#include <jansson.h>
#include <stddef.h>

/* The checkpoint directory <host_path>[/<storage_path>] of an experiment config
 * (host_path from default_cs, the master's checkpoint_storage, when the config has
 * none). Refuses a relative result and any ".." component. 0, or -1 with err naming
 * the key (checkpoint_storage.host_path or .storage_path). */
int ckpt_path_dir(const json_t *config, const json_t *default_cs, char *out, size_t outlen,
                  char *err, size_t errlen);

/* The effective roots: each entry of storage_roots ("~" and "~/..." taken under home,
 * dropped when home is NULL) plus default_host (may be NULL). New array, NULL when out
 * of memory. */
json_t *ckpt_path_roots(const json_t *storage_roots, const char *default_host, const char *home);

/* Is dir (absolute, as from ckpt_path_dir) under one of roots once resolved: the realpath
 * of its deepest existing ancestor plus the rest must lie under the realpath of a root.
 * The resolved path goes to real (PATH_MAX bytes; may be NULL). Uses the caller's
 * credentials. 0, or -1 with err (why). */
int ckpt_path_confined(const char *dir, const json_t *roots, char *real, char *err, size_t errlen);

#endif
