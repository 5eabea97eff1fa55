/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment config templates. Main structure: a->templates, rows by name,
 * written through to the store under the app lock. The non-obvious
 * decision: a template is merged as data, not as text (common/
 * expconf_merge.c), and the merged document, JSON text and so YAML, goes
 * through the same config validation as any experiment config.
 */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "expconf.h"
#include "workspace.h"

#define TEMPLATE_NAME_MAX 120 /* it travels as one path segment (api.c: under 128) */

int template_load(struct app *a, char *err, size_t errlen)
{
	json_t *rows = store_load_table(a->store, "templates", err, errlen), *r;
	size_t i;
	int rv = -1;

	a->templates = json_object();
	if (!rows || !a->templates)
		goto fail;
	json_array_foreach (rows, i, r) {
		if (json_object_set(a->templates, json_string_value(json_object_get(r, "name")), r))
			goto fail;
	}
	rv = 0;
fail:
	if (rv && rows)
		snprintf(err, errlen, "loading templates: out of memory");
	json_decref(rows);
	return rv;
}

static int64_t iget(json_t *row, const char *k)
{
	return json_integer_value(json_object_get(row, k));
}

/* Whether who may read template t (lock held): global ones everyone. */
static int readable(struct app *a, const struct principal *who, json_t *t)
{
	json_t *ws = json_object_get(t, "workspace_id");
	return !json_is_integer(ws) ||
	       workspace_allowed_locked(a, who, json_integer_value(ws), AUTHZ_WORKSPACE_READ);
}

/* Whether who may replace or delete template t (lock held). */
static int changeable(struct app *a, const struct principal *who, json_t *t)
{
	json_t *ws = json_object_get(t, "workspace_id");
	if (!json_is_integer(ws))
		return authz_allowed(who, AUTHZ_TEMPLATE_CHANGE, iget(t, "owner_id"));
	/* In a workspace: its editors, the creator, admins (not every user of the shared one). */
	return authz_allowed(who, AUTHZ_TEMPLATE_CHANGE, iget(t, "owner_id")) ||
	       (json_integer_value(ws) != WORKSPACE_DEFAULT_ID &&
	        workspace_allowed_locked(a, who, json_integer_value(ws), AUTHZ_PROJECT_WRITE));
}

/* Template name if who may read it (lock held), else NULL with err: what one may
 * not read is not there for one. */
static json_t *find_readable(struct app *a, const struct principal *who, const char *name,
                             char *err, size_t errlen)
{
	json_t *t = json_object_get(a->templates, name);
	if (t && readable(a, who, t))
		return t;
	snprintf(err, errlen, "template %s not found", name);
	return NULL;
}

static json_t *view(json_t *t, int with_yaml)
{
	json_t *v = json_deep_copy(t);
	if (v && !with_yaml)
		json_object_del(v, "config_yaml");
	return v;
}

enum exp_status template_list(struct app *a, const struct principal *who, json_t **out, char *err,
                              size_t errlen)
{
	json_t *arr = json_array(), *t;
	const char *k;
	enum exp_status status = EXP_OK;

	pthread_mutex_lock(&a->lock);
	json_object_foreach (a->templates, k, t) {
		if (arr && readable(a, who, t))
			json_array_append_new(arr, view(t, 0));
	}
	pthread_mutex_unlock(&a->lock);
	*out = arr ? json_pack("{s:o}", "templates", arr) : NULL;
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
	}
	return status;
}

enum exp_status template_get(struct app *a, const struct principal *who, const char *name,
                             json_t **out, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	json_t *t = find_readable(a, who, name, err, errlen);
	if (!t) {
		status = EXP_NOT_FOUND;
	} else if (!(*out = json_pack("{s:o}", "template", view(t, 1)))) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

/* 0 when yaml is a template: a YAML map (its keys are checked when it is used). */
static int yaml_ok(const char *yaml, size_t ylen, char *err, size_t errlen)
{
	char why[512];
	json_t *j = expconf_yaml_json(yaml, ylen, why, sizeof(why));
	if (!j) {
		snprintf(err, errlen, "config: %s", why);
		return -1;
	}
	json_decref(j);
	return 0;
}

enum exp_status template_put(struct app *a, const struct principal *who, const char *name,
                             const char *yaml, size_t ylen, int create, const char *workspace,
                             char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	json_t *row = NULL;

	if (workspace_name_check("template", name, err, errlen))
		return EXP_INVALID;
	if (strlen(name) > TEMPLATE_NAME_MAX) {
		snprintf(err, errlen, "template name: at most %d bytes", TEMPLATE_NAME_MAX);
		return EXP_INVALID;
	}
	if (strlen(yaml) != ylen || yaml_ok(yaml, ylen, err, errlen))
		return EXP_INVALID;
	pthread_mutex_lock(&a->lock);
	json_t *old = json_object_get(a->templates, name);
	int64_t ws = 0;
	if (create && old) {
		snprintf(err, errlen, "template %s already exists", name);
		status = readable(a, who, old) ? EXP_CONFLICT : EXP_FORBIDDEN;
		goto out;
	}
	if (!create && !find_readable(a, who, name, err, errlen)) {
		status = EXP_NOT_FOUND;
		goto out;
	}
	if (create && workspace) {
		ws = workspace_find_locked(a, workspace);
		if (!ws || !workspace_allowed_locked(a, who, ws, AUTHZ_WORKSPACE_READ)) {
			snprintf(err, errlen, "workspace %s not found", workspace);
			status = EXP_NOT_FOUND;
			goto out;
		}
	}
	if (create ? (ws ? !workspace_allowed_locked(a, who, ws, AUTHZ_PROJECT_WRITE)
	                 : !authz_allowed(who, AUTHZ_TEMPLATE_GLOBAL, 0))
	           : !changeable(a, who, old)) {
		snprintf(err, errlen, "user %s may not %s template %s%s", who->name,
		         create ? "create" : "change", name,
		         create && !ws ? " (global templates are admins')" : "");
		status = EXP_FORBIDDEN;
		goto out;
	}
	row = create ? json_pack("{s:s, s:I, s:s%, s:f, s:f}", "name", name, "owner_id",
	                         (json_int_t)who->user_id, "config_yaml", yaml, ylen, "created_at",
	                         app_now(), "updated_at", app_now())
	             : json_deep_copy(old);
	if (row && create)
		json_object_set_new(row, "workspace_id", ws ? json_integer(ws) : json_null());
	if (row && !create) {
		json_object_set_new(row, "config_yaml", json_stringn(yaml, ylen));
		json_object_set_new(row, "updated_at", json_real(app_now()));
	}
	struct store_op op = {
	    .kind = create ? STORE_INSERT : STORE_PUT, .table = "templates", .row = row};
	if (!row || store_write(a->store, &op, 1, err, errlen)) {
		if (!row)
			snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
		goto out;
	}
	if (create)
		json_object_set_new(row, "id", json_integer(op.id_out));
	json_object_set(a->templates, name, row);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	return status;
}

enum exp_status template_delete(struct app *a, const struct principal *who, const char *name,
                                char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	json_t *t = find_readable(a, who, name, err, errlen);
	if (!t) {
		status = EXP_NOT_FOUND;
	} else if (!changeable(a, who, t)) {
		snprintf(err, errlen, "user %s may not delete template %s", who->name, name);
		status = EXP_FORBIDDEN;
	} else {
		json_t *key = json_pack("{s:I}", "id", (json_int_t)iget(t, "id"));
		struct store_op op = {.kind = STORE_DELETE, .table = "templates", .row = key};
		if (!key || store_write(a->store, &op, 1, err, errlen))
			status = EXP_INTERNAL;
		else
			json_object_del(a->templates, name);
		json_decref(key);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status template_apply(struct app *a, const struct principal *who, const char *name,
                               const char *yaml, size_t ylen, char **merged, char *err,
                               size_t errlen)
{
	char *tyaml = NULL, why[512];
	json_t *tj = NULL, *cj = NULL, *m = NULL;
	enum exp_status status = EXP_NOT_FOUND;

	*merged = NULL;
	pthread_mutex_lock(&a->lock);
	json_t *t = find_readable(a, who, name, err, errlen);
	if (t)
		tyaml = strdup(json_string_value(json_object_get(t, "config_yaml")));
	pthread_mutex_unlock(&a->lock);
	if (!tyaml) {
		if (t)
			snprintf(err, errlen, "out of memory");
		status = t ? EXP_INTERNAL : EXP_NOT_FOUND;
		goto out;
	}
	status = EXP_INVALID;
	tj = expconf_yaml_json(tyaml, strlen(tyaml), why, sizeof(why));
	if (!tj) {
		snprintf(err, errlen, "template %s: %s", name, why);
		goto out;
	}
	cj = expconf_yaml_json(yaml, ylen, why, sizeof(why));
	if (!cj) {
		snprintf(err, errlen, "config.yaml:%s", why);
		goto out;
	}
	m = expconf_merge(tj, cj);
	*merged = m ? json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	status = *merged ? EXP_OK : EXP_INTERNAL;
	if (!*merged)
		snprintf(err, errlen, "out of memory");
out:
	free(tyaml);
	json_decref(tj);
	json_decref(cj);
	json_decref(m);
	return status;
}
