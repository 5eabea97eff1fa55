/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The model registry. Main structure: a->models (rows by name) and
 * a->model_versions (rows in id order), written through to the store under
 * the app lock. The non-obvious decision: a version refers to a checkpoint
 * by uuid only; the checkpoint's own row stays the truth about its files,
 * and its being registered is what keeps it from every deletion path.
 */
#include "model.h"

#include <stdio.h>
#include <string.h>

#include "authz.h"
#include "exp.h"
#include "workspace.h"

#define MODEL_DESCRIPTION_MAX 1024
#define MODEL_NAME_MAX 120 /* it travels as one path segment (api.c: under 128) */

static int64_t iget(json_t *row, const char *k)
{
	return json_integer_value(json_object_get(row, k));
}

int model_load(struct app *a, char *err, size_t errlen)
{
	json_t *rows = store_load_table(a->store, "models", err, errlen), *r;
	size_t i;
	int rv = -1;

	a->models = json_object();
	a->model_versions = store_load_table(a->store, "model_versions", err, errlen);
	if (!rows || !a->models || !a->model_versions)
		goto fail;
	json_array_foreach (rows, i, r) {
		if (json_object_set(a->models, json_string_value(json_object_get(r, "name")), r))
			goto fail;
	}
	rv = 0;
fail:
	json_decref(rows);
	return rv;
}

int model_checkpoint_registered_locked(struct app *a, const char *uuid)
{
	size_t i;
	json_t *v;
	json_array_foreach (a->model_versions, i, v) {
		if (uuid && !strcmp(json_string_value(json_object_get(v, "checkpoint_uuid")), uuid))
			return 1;
	}
	return 0;
}

/* The versions of model id as a new array (lock held). */
static json_t *versions_of(struct app *a, int64_t id)
{
	json_t *out = json_array(), *v;
	size_t i;
	json_array_foreach (a->model_versions, i, v) {
		if (out && iget(v, "model_id") == id)
			json_array_append(out, v);
	}
	return out;
}

enum exp_status model_list(struct app *a, json_t **out, char *err, size_t errlen)
{
	json_t *arr = json_array(), *m;
	const char *k;

	pthread_mutex_lock(&a->lock);
	json_object_foreach (a->models, k, m) {
		json_t *v = json_deep_copy(m), *vs = versions_of(a, iget(m, "id"));
		if (v && vs)
			json_object_set_new(v, "num_versions",
			                    json_integer((json_int_t)json_array_size(vs)));
		json_decref(vs);
		if (arr)
			json_array_append_new(arr, v);
	}
	pthread_mutex_unlock(&a->lock);
	*out = arr ? json_pack("{s:o}", "models", arr) : NULL;
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return EXP_INTERNAL;
	}
	return EXP_OK;
}

enum exp_status model_get(struct app *a, const char *name, json_t **out, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	json_t *m = json_object_get(a->models, name);
	json_t *v = m ? json_deep_copy(m) : NULL;
	if (!m) {
		snprintf(err, errlen, "model %s not found", name);
		status = EXP_NOT_FOUND;
	} else if (!v || json_object_set_new(v, "versions", versions_of(a, iget(m, "id"))) ||
	           !(*out = json_pack("{s:O}", "model", v))) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
	}
	pthread_mutex_unlock(&a->lock);
	json_decref(v);
	return status;
}

/* Insert row (NULL: out of memory) into table and give it its new id (lock held). */
static enum exp_status insert_row(struct app *a, const char *table, json_t *row, char *err,
                                  size_t errlen)
{
	struct store_op op = {.kind = STORE_INSERT, .table = table, .row = row};

	if (!row) {
		snprintf(err, errlen, "out of memory");
		return EXP_INTERNAL;
	}
	if (store_write(a->store, &op, 1, err, errlen))
		return EXP_INTERNAL;
	json_object_set_new(row, "id", json_integer(op.id_out));
	return EXP_OK;
}

enum exp_status model_create(struct app *a, const struct principal *who, const char *name,
                             const char *description, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	json_t *row = NULL;

	if (workspace_name_check("model", name, err, errlen))
		return EXP_INVALID;
	if (strlen(name) > MODEL_NAME_MAX ||
	    (description && strlen(description) > MODEL_DESCRIPTION_MAX)) {
		snprintf(err, errlen, "model name: at most %d bytes; description: at most %d",
		         MODEL_NAME_MAX, MODEL_DESCRIPTION_MAX);
		return EXP_INVALID;
	}
	for (const char *p = description; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "description: control character");
			return EXP_INVALID;
		}
	pthread_mutex_lock(&a->lock);
	if (json_object_get(a->models, name)) {
		snprintf(err, errlen, "model %s already exists", name);
		status = EXP_CONFLICT;
		goto out;
	}
	row = json_pack("{s:s, s:s, s:I, s:f}", "name", name, "description",
	                description ? description : "", "owner_id", (json_int_t)who->user_id,
	                "created_at", app_now());
	status = insert_row(a, "models", row, err, errlen);
	if (status == EXP_OK)
		json_object_set(a->models, name, row);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	return status;
}

enum exp_status model_register_version(struct app *a, const struct principal *who, const char *name,
                                       const char *uuid, int64_t *version, char *err, size_t errlen)
{
	json_t *ck, *row = NULL;
	enum exp_status status = EXP_OK;

	*err = '\0';
	ck = store_checkpoint(a->store, uuid, err, errlen);
	if (!ck) {
		if (*err)
			return EXP_INTERNAL;
		snprintf(err, errlen, "checkpoint %s not found", uuid);
		return EXP_NOT_FOUND;
	}
	pthread_mutex_lock(&a->lock);
	json_t *m = json_object_get(a->models, name);
	struct exp_rt *se = exp_find_locked(a, iget(ck, "experiment_id"));
	int readable = se && workspace_exp_allowed_locked(a, who, se, AUTHZ_EXP_READ);
	if (!m) {
		snprintf(err, errlen, "model %s not found", name);
		status = EXP_NOT_FOUND;
	} else if (!authz_allowed(who, AUTHZ_MODEL_CHANGE, iget(m, "owner_id"))) {
		snprintf(err, errlen, "model %s belongs to another user", name);
		status = EXP_FORBIDDEN;
	} else if (!readable) {
		snprintf(err, errlen, "checkpoint %s not found", uuid);
		status = EXP_NOT_FOUND;
	} else if (strcmp(json_string_value(json_object_get(ck, "state")), "COMPLETED")) {
		snprintf(err, errlen, "checkpoint %s is %s", uuid,
		         json_string_value(json_object_get(ck, "state")));
		status = EXP_CONFLICT;
	}
	if (status != EXP_OK)
		goto out;
	json_t *vs = versions_of(a, iget(m, "id"));
	*version = 1;
	size_t i;
	json_t *v;
	json_array_foreach (vs, i, v) {
		if (iget(v, "version") >= *version)
			*version = iget(v, "version") + 1;
	}
	json_decref(vs);
	row = json_pack("{s:I, s:I, s:s, s:I, s:f}", "model_id", (json_int_t)iget(m, "id"),
	                "version", (json_int_t)*version, "checkpoint_uuid", uuid, "owner_id",
	                (json_int_t)who->user_id, "created_at", app_now());
	status = insert_row(a, "model_versions", row, err, errlen);
	if (status == EXP_OK)
		json_array_append(a->model_versions, row);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	json_decref(ck);
	return status;
}
