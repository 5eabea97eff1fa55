/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The model registry: named models, each with numbered versions that are
 * checkpoints. A registered checkpoint is kept: garbage collection, checkpoint
 * deletion and forced workspace deletion leave it alone. Functions answer
 * with an engine status (EXP_OK, else err) and take the app lock unless *_locked.
 */
#ifndef DET_MASTER_MODEL_H
#define DET_MASTER_MODEL_H

#include <jansson.h>
#include <stddef.h>

#include "app.h"
#include "exp.h"

/* Load the registry into a->models and a->model_versions (before serving). */
int model_load(struct app *a, char *err, size_t errlen);

/* 1 when checkpoint uuid is a version of some model (lock held). */
int model_checkpoint_registered_locked(struct app *a, const char *uuid);

/* Every model; *out gets {"models": [...]} with each one's number of versions. */
enum exp_status model_list(struct app *a, json_t **out, char *err, size_t errlen);

/* One model and its versions; *out gets {"model": {..., "versions": [...]}}. */
enum exp_status model_get(struct app *a, const char *name, json_t **out, char *err, size_t errlen);

/* A new model owned by who (EXP_CONFLICT on a duplicate name). */
enum exp_status model_create(struct app *a, const struct principal *who, const char *name,
                             const char *description, char *err, size_t errlen);

/* Register checkpoint uuid as the model's next version; who must own the model (or
 * be an admin) and be allowed to read the checkpoint's experiment. *version gets it. */
enum exp_status model_register_version(struct app *a, const struct principal *who, const char *name,
                                       const char *uuid, int64_t *version, char *err,
                                       size_t errlen);

#endif
