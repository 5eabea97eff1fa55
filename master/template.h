/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment config templates: named YAML documents, global (admins write
 * them) or in a workspace (its editors write them, its viewers read them),
 * merged under an experiment's config when it names one. Functions answer
 * with an engine status (EXP_OK on success, err otherwise) and take the app lock.
 */
#ifndef DET_MASTER_TEMPLATE_H
#define DET_MASTER_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "app.h"
#include "exp.h"

/* Load every template into a->templates (before serving). 0, or -1 with err. */
int template_load(struct app *a, char *err, size_t errlen);

/* The templates who may read; *out gets {"templates": [...]} without their YAML. */
enum exp_status template_list(struct app *a, const struct principal *who, json_t **out, char *err,
                              size_t errlen);

/* One template with its YAML; *out gets {"template": {...}}. */
enum exp_status template_get(struct app *a, const struct principal *who, const char *name,
                             json_t **out, char *err, size_t errlen);

/* Create (create 1: workspace "ID"/"NAME" or NULL for a global one) or replace
 * (create 0: workspace ignored) template name with YAML text yaml (a map). */
enum exp_status template_put(struct app *a, const struct principal *who, const char *name,
                             const char *yaml, size_t ylen, int create, const char *workspace,
                             char *err, size_t errlen);

/* Delete template name. */
enum exp_status template_delete(struct app *a, const struct principal *who, const char *name,
                                char *err, size_t errlen);

/* The config yaml with template name merged under it (config wins), as text that
 * parses as YAML (malloc'd, *merged); EXP_NOT_FOUND when who may not read the
 * template, EXP_INVALID when either is not a YAML map. */
enum exp_status template_apply(struct app *a, const struct principal *who, const char *name,
                               const char *yaml, size_t ylen, char **merged, char *err,
                               size_t errlen);

#endif
