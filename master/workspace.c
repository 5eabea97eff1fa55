/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workspaces and projects. Main structure: a->workspaces and a->projects,
 * rows by id (decimal text), written through to the store under the app
 * lock; experiments name their project by "project_id" in their row. The
 * non-obvious decision: a deletion with force removes the experiments under
 * it together with the projects and the workspace in one store write, then
 * hands their checkpoint directories to the checkpoint GC (as each
 * experiment's owner), so the store never holds half a workspace. A
 * principal's role in a workspace is the strongest of its uid's and its Unix
 * groups' assignments (a->workspace_roles), workspace-admin for the creator;
 * the default workspace is shared (authz.c says what that allows).
 */
#include "workspace.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "ckpt_gc.h"
#include "exp.h"
#include "fsm.h"
#include "model.h"

int workspace_name_check(const char *what, const char *name, char *err, size_t errlen)
{
	size_t n = name ? strlen(name) : 0;
	int digits = 1;

	if (!n || n > WORKSPACE_NAME_MAX) {
		snprintf(err, errlen, "%s name: expected 1 to %d bytes, got %zu", what,
		         WORKSPACE_NAME_MAX, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(err, errlen, "%s name: control character at byte %zu", what, i);
			return -1;
		}
		if (ch == '/') {
			snprintf(err, errlen,
			         "%s name: '/' is not allowed (it separates "
			         "WORKSPACE/PROJECT)",
			         what);
			return -1;
		}
		digits &= ch >= '0' && ch <= '9';
	}
	if (digits) {
		snprintf(err, errlen, "%s name: digits alone name an id; add a letter", what);
		return -1;
	}
	return 0;
}

static json_t *by_id(json_t *table, int64_t id)
{
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)id);
	return json_object_get(table, key);
}

static int64_t iget(json_t *row, const char *k)
{
	return json_integer_value(json_object_get(row, k));
}

static int is_archived(json_t *row)
{
	json_t *v = json_object_get(row, "archived");
	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v));
}

void workspace_principal_groups(struct principal *p)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[APP_MAX_GROUPS];
	int n = APP_MAX_GROUPS;

	p->ngroups = 0;
	if (p->kind != PRINCIPAL_USER || p->uid < 0 ||
	    getpwuid_r((uid_t)p->uid, &pw, buf, sizeof(buf), &res) || !res)
		return;
	/* More groups than fit: the first APP_MAX_GROUPS count (getgrouplist fills them). */
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		n = APP_MAX_GROUPS;
	for (int i = 0; i < n && i < APP_MAX_GROUPS; i++)
		p->groups[p->ngroups++] = (unsigned int)groups[i];
}

static int in_groups(const struct principal *p, int64_t gid)
{
	for (int i = 0; i < p->ngroups; i++)
		if ((int64_t)p->groups[i] == gid)
			return 1;
	return 0;
}

/* who's strongest role in workspace w (lock held). */
static enum authz_role role_in(struct app *a, const struct principal *who, json_t *w)
{
	enum authz_role best = AUTHZ_ROLE_NONE;
	const char *k;
	json_t *r;

	if (json_is_integer(json_object_get(w, "owner_id")) && iget(w, "owner_id") == who->user_id)
		return AUTHZ_ROLE_WORKSPACE_ADMIN;
	json_object_foreach (a->workspace_roles, k, r) {
		if (iget(r, "workspace_id") != iget(w, "id"))
			continue;
		json_t *uid = json_object_get(r, "uid");
		int match = json_is_integer(uid)
		                ? who->uid >= 0 && json_integer_value(uid) == who->uid
		                : in_groups(who, iget(r, "gid"));
		enum authz_role role =
		    authz_role_parse(json_string_value(json_object_get(r, "role")));
		if (match && role > best)
			best = role;
	}
	return best;
}

/* The authz object for something in workspace w owned by det user owner_id (lock held). */
static struct authz_object ws_object(struct app *a, const struct principal *who, json_t *w,
                                     int64_t owner_id)
{
	struct authz_object o = {.owner_id = owner_id,
	                         .role = role_in(a, who, w),
	                         .shared = iget(w, "id") == WORKSPACE_DEFAULT_ID};
	return o;
}

/* The workspace an experiment's project is in (lock held); the default one when
 * the project is unknown. */
static json_t *exp_workspace(struct app *a, struct exp_rt *e)
{
	json_t *p = by_id(a->projects, e->project_id);
	json_t *w = p ? by_id(a->workspaces, iget(p, "workspace_id")) : NULL;
	return w ? w : by_id(a->workspaces, WORKSPACE_DEFAULT_ID);
}

int workspace_exp_allowed_locked(struct app *a, const struct principal *who, struct exp_rt *e,
                                 enum authz_action action)
{
	json_t *w = exp_workspace(a, e);
	struct authz_object o = {.owner_id = e->owner_id};
	if (w)
		o = ws_object(a, who, w, e->owner_id);
	return authz_decide(who, action, &o);
}

/* Whether who may do action to workspace w itself (owner: its creator) (lock held). */
static int ws_allowed(struct app *a, const struct principal *who, json_t *w,
                      enum authz_action action)
{
	int64_t owner = json_is_integer(json_object_get(w, "owner_id")) ? iget(w, "owner_id") : 0;
	struct authz_object o = ws_object(a, who, w, owner);
	return authz_decide(who, action, &o);
}

static int load_into(struct app *a, const char *table, json_t **slot, char *err, size_t errlen)
{
	json_t *rows = store_load_table(a->store, table, err, errlen), *r;
	size_t i;
	int rv = -1;

	*slot = json_object();
	if (!rows || !*slot)
		goto fail;
	json_array_foreach (rows, i, r) {
		char key[24];
		snprintf(key, sizeof(key), "%lld", (long long)iget(r, "id"));
		if (json_object_set(*slot, key, r))
			goto fail;
	}
	rv = 0;
fail:
	if (rv && !*err)
		snprintf(err, errlen, "loading %s: out of memory", table);
	json_decref(rows);
	return rv;
}

int workspace_load(struct app *a, char *err, size_t errlen)
{
	*err = 0;
	if (load_into(a, "workspaces", &a->workspaces, err, errlen) ||
	    load_into(a, "projects", &a->projects, err, errlen) ||
	    load_into(a, "workspace_roles", &a->workspace_roles, err, errlen))
		return -1;
	return 0;
}

/* A positive decimal id, or 0. */
static int64_t parse_id(const char *s)
{
	char *end;
	long long v;
	if (!s || *s < '1' || *s > '9')
		return 0;
	v = strtoll(s, &end, 10);
	return *end || v <= 0 ? 0 : (int64_t)v;
}

static json_t *ws_by_name(struct app *a, const char *name)
{
	const char *k;
	json_t *w;
	json_object_foreach (a->workspaces, k, w) {
		if (!strcmp(json_string_value(json_object_get(w, "name")), name))
			return w;
	}
	return NULL;
}

static json_t *project_by_name(struct app *a, int64_t ws_id, const char *name)
{
	const char *k;
	json_t *p;
	json_object_foreach (a->projects, k, p) {
		if (iget(p, "workspace_id") == ws_id &&
		    !strcmp(json_string_value(json_object_get(p, "name")), name))
			return p;
	}
	return NULL;
}

int64_t workspace_project_find_locked(struct app *a, const char *spec, enum exp_status *status,
                                      char *err, size_t errlen)
{
	const char *slash = spec ? strchr(spec, '/') : NULL;
	json_t *p = NULL;

	if (!spec || !*spec || strlen(spec) > 2 * WORKSPACE_NAME_MAX + 1) {
		snprintf(err, errlen, "project: expected an id or WORKSPACE/PROJECT");
		*status = EXP_INVALID;
		return 0;
	}
	if (!slash) {
		int64_t id = parse_id(spec);
		if (!id) {
			snprintf(err, errlen, "project: expected an id or WORKSPACE/PROJECT");
			*status = EXP_INVALID;
			return 0;
		}
		p = by_id(a->projects, id);
	} else {
		char ws[2 * WORKSPACE_NAME_MAX + 2];
		snprintf(ws, sizeof(ws), "%.*s", (int)(slash - spec), spec);
		json_t *w = ws_by_name(a, ws);
		p = w ? project_by_name(a, iget(w, "id"), slash + 1) : NULL;
	}
	if (!p) {
		snprintf(err, errlen, "project %s not found", spec);
		*status = EXP_NOT_FOUND;
		return 0;
	}
	return iget(p, "id");
}

int64_t workspace_project_writable_locked(struct app *a, const struct principal *who,
                                          const char *spec, enum exp_status *status, char *err,
                                          size_t errlen)
{
	int64_t id = workspace_project_find_locked(a, spec, status, err, errlen);
	json_t *p = id ? by_id(a->projects, id) : NULL;
	json_t *w = p ? by_id(a->workspaces, iget(p, "workspace_id")) : NULL;

	if (!w)
		return 0;
	if (!ws_allowed(a, who, w, AUTHZ_PROJECT_WRITE)) {
		snprintf(err, errlen,
		         "user %s may not put experiments into project %s (workspace %s)",
		         who->name, json_string_value(json_object_get(p, "name")),
		         json_string_value(json_object_get(w, "name")));
		*status = EXP_FORBIDDEN;
		return 0;
	}
	if (is_archived(w) || is_archived(p)) {
		snprintf(err, errlen, "project %s is archived%s", spec,
		         is_archived(w) ? " (its workspace is)" : "");
		*status = EXP_CONFLICT;
		return 0;
	}
	return id;
}

/* Counts of experiments per project id (text) and per state class. */
struct counts {
	json_t *total, *active; /* project id -> count */
};

static void counts_add(json_t *obj, const char *key)
{
	json_object_set_new(obj, key, json_integer(iget(obj, key) + 1));
}

static int counts_build(struct app *a, struct counts *c)
{
	c->total = json_object();
	c->active = json_object();
	if (!c->total || !c->active)
		return -1;
	for (struct exp_rt *e = a->exps; e; e = e->next) {
		char key[24];
		snprintf(key, sizeof(key), "%lld", (long long)e->project_id);
		counts_add(c->total, key);
		if (!fsm_is_terminal(e->state))
			counts_add(c->active, key);
	}
	return 0;
}

static void counts_free(struct counts *c)
{
	json_decref(c->total);
	json_decref(c->active);
}

static const char *user_name(struct app *a, json_t *row)
{
	const char *k;
	json_t *u;
	if (!json_is_integer(json_object_get(row, "owner_id")))
		return NULL;
	json_object_foreach (a->users, k, u) {
		if (iget(u, "id") == iget(row, "owner_id"))
			return k;
	}
	return NULL;
}

static json_t *project_view(struct app *a, json_t *p, const struct counts *c)
{
	char key[24];
	json_t *v = json_deep_copy(p);
	json_t *w = by_id(a->workspaces, iget(p, "workspace_id"));
	const char *owner = user_name(a, p);

	snprintf(key, sizeof(key), "%lld", (long long)iget(p, "id"));
	if (!v)
		return NULL;
	json_object_set_new(v, "archived", json_boolean(is_archived(p)));
	json_object_set_new(v, "workspace_name",
	                    json_string(json_string_value(json_object_get(w, "name"))));
	json_object_set_new(v, "owner", owner ? json_string(owner) : json_null());
	json_object_set_new(v, "num_experiments", json_integer(iget(c->total, key)));
	json_object_set_new(v, "num_active_experiments", json_integer(iget(c->active, key)));
	return v;
}

static json_t *ws_view(struct app *a, json_t *w, const struct counts *c)
{
	json_t *v = json_deep_copy(w), *p;
	const char *k, *owner = user_name(a, w);
	int64_t projects = 0, exps = 0, active = 0;

	if (!v)
		return NULL;
	json_object_foreach (a->projects, k, p) {
		if (iget(p, "workspace_id") != iget(w, "id"))
			continue;
		projects++;
		exps += iget(c->total, k);
		active += iget(c->active, k);
	}
	json_object_set_new(v, "archived", json_boolean(is_archived(w)));
	json_object_set_new(v, "owner", owner ? json_string(owner) : json_null());
	json_object_set_new(v, "num_projects", json_integer(projects));
	json_object_set_new(v, "num_experiments", json_integer(exps));
	json_object_set_new(v, "num_active_experiments", json_integer(active));
	return v;
}

/* {key: [views of the rows of table that match ws_id (0: all)]} (lock held). */
static enum exp_status list_locked(struct app *a, const struct principal *who, int projects,
                                   int64_t ws_id, json_t **out, char *err, size_t errlen)
{
	struct counts c = {0};
	json_t *arr = json_array(), *r;
	const char *k;
	enum exp_status status = EXP_INTERNAL;

	if (!arr || counts_build(a, &c))
		goto fail;
	json_object_foreach (projects ? a->projects : a->workspaces, k, r) {
		if (ws_id && iget(r, "workspace_id") != ws_id)
			continue;
		json_t *w = projects ? by_id(a->workspaces, iget(r, "workspace_id")) : r;
		if (!w || !ws_allowed(a, who, w, AUTHZ_WORKSPACE_READ))
			continue;
		if (json_array_append_new(arr,
		                          projects ? project_view(a, r, &c) : ws_view(a, r, &c)))
			goto fail;
	}
	*out = json_pack("{s:O}", projects ? "projects" : "workspaces", arr);
	if (*out)
		status = EXP_OK;
fail:
	if (status != EXP_OK)
		snprintf(err, errlen, "out of memory");
	counts_free(&c);
	json_decref(arr);
	return status;
}

enum exp_status workspace_list(struct app *a, const struct principal *who, json_t **out, char *err,
                               size_t errlen)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status = list_locked(a, who, 0, 0, out, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status workspace_project_list(struct app *a, const struct principal *who,
                                       int64_t workspace_id, json_t **out, char *err, size_t errlen)
{
	enum exp_status status = EXP_NOT_FOUND;
	pthread_mutex_lock(&a->lock);
	json_t *w = workspace_id ? by_id(a->workspaces, workspace_id) : NULL;
	if (workspace_id && (!w || !ws_allowed(a, who, w, AUTHZ_WORKSPACE_READ)))
		snprintf(err, errlen, "workspace %lld not found", (long long)workspace_id);
	else
		status = list_locked(a, who, 1, workspace_id, out, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

/* {key: view of one row} (lock held). */
static enum exp_status get_locked(struct app *a, const struct principal *who, int projects,
                                  int64_t id, json_t **out, char *err, size_t errlen)
{
	struct counts c = {0};
	json_t *r = by_id(projects ? a->projects : a->workspaces, id);
	json_t *w = r && projects ? by_id(a->workspaces, iget(r, "workspace_id")) : r;
	const char *what = projects ? "project" : "workspace";
	enum exp_status status = EXP_INTERNAL;

	/* What a principal may not see is not there for it. */
	if (!r || !w || !ws_allowed(a, who, w, AUTHZ_WORKSPACE_READ)) {
		snprintf(err, errlen, "%s %lld not found", what, (long long)id);
		return EXP_NOT_FOUND;
	}
	if (counts_build(a, &c) == 0) {
		*out =
		    json_pack("{s:o}", what, projects ? project_view(a, r, &c) : ws_view(a, r, &c));
		status = *out ? EXP_OK : EXP_INTERNAL;
	}
	if (status != EXP_OK)
		snprintf(err, errlen, "out of memory");
	counts_free(&c);
	return status;
}

enum exp_status workspace_get(struct app *a, const struct principal *who, int64_t id, json_t **out,
                              char *err, size_t errlen)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status = get_locked(a, who, 0, id, out, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status workspace_project_get(struct app *a, const struct principal *who, int64_t id,
                                      json_t **out, char *err, size_t errlen)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status = get_locked(a, who, 1, id, out, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

/* Insert row into table and memory (lock held): EXP_OK with *out, or EXP_INTERNAL. */
static enum exp_status insert_locked(struct app *a, const struct principal *who, int projects,
                                     json_t *row, json_t **out, char *err, size_t errlen)
{
	struct store_op op = {
	    .kind = STORE_INSERT, .table = projects ? "projects" : "workspaces", .row = row};
	char key[24];

	if (store_write(a->store, &op, 1, err, errlen))
		return EXP_INTERNAL;
	json_object_set_new(row, "id", json_integer(op.id_out));
	snprintf(key, sizeof(key), "%lld", (long long)op.id_out);
	json_object_set(projects ? a->projects : a->workspaces, key, row);
	return get_locked(a, who, projects, op.id_out, out, err, errlen);
}

enum exp_status workspace_create(struct app *a, const struct principal *p, const char *name,
                                 json_t **out, char *err, size_t errlen)
{
	enum exp_status status = EXP_INVALID;
	json_t *row = NULL;

	if (workspace_name_check("workspace", name, err, errlen))
		return EXP_INVALID;
	pthread_mutex_lock(&a->lock);
	if (ws_by_name(a, name)) {
		snprintf(err, errlen, "workspace %s already exists", name);
		status = EXP_CONFLICT;
		goto out;
	}
	row = json_pack("{s:s, s:I, s:i, s:f}", "name", name, "owner_id", (json_int_t)p->user_id,
	                "archived", 0, "created_at", app_now());
	if (!row) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
		goto out;
	}
	status = insert_locked(a, p, 0, row, out, err, errlen);
	if (status == EXP_OK)
		log_msg(&a->log, LOG_LEVEL_INFO, "workspace %s created by %s", name, p->name);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	return status;
}

enum exp_status workspace_project_create(struct app *a, const struct principal *p,
                                         int64_t workspace_id, const char *name, json_t **out,
                                         char *err, size_t errlen)
{
	enum exp_status status = EXP_INVALID;
	json_t *row = NULL, *w;

	if (workspace_name_check("project", name, err, errlen))
		return EXP_INVALID;
	pthread_mutex_lock(&a->lock);
	w = by_id(a->workspaces, workspace_id);
	if (!w || !ws_allowed(a, p, w, AUTHZ_WORKSPACE_READ)) {
		snprintf(err, errlen, "workspace %lld not found", (long long)workspace_id);
		status = EXP_NOT_FOUND;
	} else if (!ws_allowed(a, p, w, AUTHZ_WORKSPACE_CHANGE)) {
		snprintf(err, errlen, "user %s may not add projects to workspace %s", p->name,
		         json_string_value(json_object_get(w, "name")));
		status = EXP_FORBIDDEN;
	} else if (is_archived(w)) {
		snprintf(err, errlen, "workspace %s is archived",
		         json_string_value(json_object_get(w, "name")));
		status = EXP_CONFLICT;
	} else if (project_by_name(a, workspace_id, name)) {
		snprintf(err, errlen, "project %s already exists in workspace %s", name,
		         json_string_value(json_object_get(w, "name")));
		status = EXP_CONFLICT;
	} else {
		row = json_pack("{s:I, s:s, s:I, s:i, s:f}", "workspace_id",
		                (json_int_t)workspace_id, "name", name, "owner_id",
		                (json_int_t)p->user_id, "archived", 0, "created_at", app_now());
		status = row ? insert_locked(a, p, 1, row, out, err, errlen) : EXP_INTERNAL;
		if (!row)
			snprintf(err, errlen, "out of memory");
	}
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	return status;
}

/* The workspace row of a workspace or project p may change (lock held), or NULL with
 * *status and err. The default workspace and project are nobody's to change. */
static json_t *changeable_locked(struct app *a, const struct principal *p, int projects, int64_t id,
                                 enum exp_status *status, char *err, size_t errlen)
{
	json_t *r = by_id(projects ? a->projects : a->workspaces, id);
	json_t *w = r && projects ? by_id(a->workspaces, iget(r, "workspace_id")) : r;
	const char *what = projects ? "project" : "workspace";

	if (!r || !w || !ws_allowed(a, p, w, AUTHZ_WORKSPACE_READ)) {
		snprintf(err, errlen, "%s %lld not found", what, (long long)id);
		*status = EXP_NOT_FOUND;
		return NULL;
	}
	if (!ws_allowed(a, p, w, AUTHZ_WORKSPACE_CHANGE)) {
		snprintf(err, errlen, "user %s may not change workspace %s", p->name,
		         json_string_value(json_object_get(w, "name")));
		*status = EXP_FORBIDDEN;
		return NULL;
	}
	if (id == (projects ? WORKSPACE_DEFAULT_PROJECT_ID : WORKSPACE_DEFAULT_ID)) {
		snprintf(err, errlen, "the default %s Uncategorized cannot be changed", what);
		*status = EXP_CONFLICT;
		return NULL;
	}
	return r;
}

static enum exp_status set_archived(struct app *a, const struct principal *p, int projects,
                                    int64_t id, int archived, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	json_t *r = changeable_locked(a, p, projects, id, &status, err, errlen);
	if (r) {
		json_t *row = json_pack("{s:I, s:i}", "id", (json_int_t)id, "archived", archived);
		struct store_op op = {.kind = STORE_UPDATE,
		                      .table = projects ? "projects" : "workspaces",
		                      .row = row};
		if (!row || store_write(a->store, &op, 1, err, errlen))
			status = EXP_INTERNAL;
		else
			json_object_set_new(r, "archived", json_integer(archived));
		json_decref(row);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status workspace_set_archived(struct app *a, const struct principal *p, int64_t id,
                                       int archived, char *err, size_t errlen)
{
	return set_archived(a, p, 0, id, archived, err, errlen);
}

enum exp_status workspace_project_set_archived(struct app *a, const struct principal *p, int64_t id,
                                               int archived, char *err, size_t errlen)
{
	return set_archived(a, p, 1, id, archived, err, errlen);
}

/* Whether project id (text key) lies under what is being deleted. */
static int doomed(struct app *a, int projects, int64_t id, int64_t project_id)
{
	if (projects)
		return project_id == id;
	return iget(by_id(a->projects, project_id), "workspace_id") == id;
}

/* One experiment's delete ops and its live checkpoint uuids (lock held): 0, -1 on
 * error, -2 when a checkpoint of it is a model version (then it is kept). */
static int exp_delete_ops(struct app *a, struct exp_rt *e, json_t *keys, json_t *ckpts, char *err,
                          size_t errlen)
{
	json_t *rows = store_checkpoints(a->store, e->id, 0, err, errlen), *c,
	       *uuids = json_array();
	size_t i;
	int rv = -1;

	if (!rows || !uuids)
		goto fail;
	json_array_foreach (rows, i, c) {
		const char *uuid = json_string_value(json_object_get(c, "uuid"));
		if (model_checkpoint_registered_locked(a, uuid)) {
			snprintf(err, errlen, "experiment %lld has checkpoint %s, a model version",
			         (long long)e->id, uuid);
			rv = -2;
			goto fail;
		}
		if (strcmp(json_string_value(json_object_get(c, "state")), "DELETED"))
			json_array_append(uuids, json_object_get(c, "uuid"));
	}
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)e->id);
	if (json_object_set(ckpts, key, uuids) ||
	    json_array_append_new(keys, json_pack("{s:I}", "experiment_id", (json_int_t)e->id)) ||
	    json_array_append_new(keys, json_pack("{s:I}", "id", (json_int_t)e->id)))
		goto fail;
	rv = 0;
fail:
	if (rv && !*err)
		snprintf(err, errlen, "out of memory");
	json_decref(rows);
	json_decref(uuids);
	return rv;
}

/* Delete a workspace or project and, with force, what is under it (lock held). */
static enum exp_status delete_locked(struct app *a, const struct principal *p, int projects,
                                     int64_t id, int force, char *err, size_t errlen)
{
	const char *what = projects ? "project" : "workspace", *k;
	json_t *keys = json_array(), *pkeys = json_array(), *ckpts = json_object(), *r;
	struct store_op *ops = NULL;
	size_t nexp = 0, n = 0;
	enum exp_status status = EXP_OK;

	*err = 0;
	if (!changeable_locked(a, p, projects, id, &status, err, errlen))
		goto out;
	status = EXP_INTERNAL;
	if (!keys || !pkeys || !ckpts)
		goto out;
	for (struct exp_rt *e = a->exps; e; e = e->next) {
		if (!doomed(a, projects, id, e->project_id))
			continue;
		nexp++;
		if (!force)
			continue;
		if (!fsm_is_terminal(e->state)) {
			snprintf(err, errlen,
			         "experiment %lld in this %s is %s: cancel or kill it first",
			         (long long)e->id, what, fsm_state_name(e->state));
			status = EXP_CONFLICT;
			goto out;
		}
		int rc_ops = exp_delete_ops(a, e, keys, ckpts, err, errlen);
		if (rc_ops) {
			status = rc_ops == -2 ? EXP_CONFLICT : EXP_INTERNAL;
			goto out;
		}
	}
	json_object_foreach (a->projects, k, r) {
		if (!projects && iget(r, "workspace_id") == id)
			json_array_append_new(pkeys,
			                      json_pack("{s:I}", "id", (json_int_t)iget(r, "id")));
	}
	if (projects)
		json_array_append_new(pkeys, json_pack("{s:I}", "id", (json_int_t)id));
	if (!force && (nexp || (!projects && json_array_size(pkeys)))) {
		snprintf(err, errlen,
		         "%s %lld holds %zu experiments%s: delete them first, or delete with force",
		         what, (long long)id, nexp, projects ? "" : " and projects");
		status = EXP_CONFLICT;
		goto out;
	}
	ops = calloc(json_array_size(keys) + json_array_size(pkeys) + 1, sizeof(*ops));
	if (!ops)
		goto out;
	for (size_t i = 0; i < json_array_size(keys); i++)
		ops[n++] = (struct store_op){.kind = STORE_DELETE,
		                             .table = i % 2 ? "experiments" : "tokens",
		                             .row = json_array_get(keys, i)};
	for (size_t i = 0; i < json_array_size(pkeys); i++)
		ops[n++] = (struct store_op){
		    .kind = STORE_DELETE, .table = "projects", .row = json_array_get(pkeys, i)};
	json_t *wkey = projects ? NULL : json_pack("{s:I}", "id", (json_int_t)id);
	if (wkey)
		ops[n++] =
		    (struct store_op){.kind = STORE_DELETE, .table = "workspaces", .row = wkey};
	int rc = store_write(a->store, ops, n, err, errlen);
	json_decref(wkey);
	if (rc)
		goto out;
	/* Committed: memory follows, and the checkpoint files go as their owners. */
	for (struct exp_rt *e = a->exps, *next; e; e = next) {
		next = e->next;
		char key[24];
		snprintf(key, sizeof(key), "%lld", (long long)e->id);
		json_t *uuids = json_object_get(ckpts, key);
		if (!uuids)
			continue;
		ckpt_gc_remove(a, e->id, json_object_get(e->row, "config"),
		               exp_owner_uid_locked(a, e), uuids);
		exp_forget_locked(a, e);
	}
	for (size_t i = 0; i < json_array_size(pkeys); i++) {
		char key[24];
		snprintf(key, sizeof(key), "%lld", (long long)iget(json_array_get(pkeys, i), "id"));
		json_object_del(a->projects, key);
	}
	if (!projects) {
		char key[24];
		snprintf(key, sizeof(key), "%lld", (long long)id);
		json_object_del(a->workspaces, key);
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "%s %lld deleted by %s with %zu experiments", what,
	        (long long)id, p->name, nexp);
	status = EXP_OK;
out:
	if (status == EXP_INTERNAL && !*err)
		snprintf(err, errlen, "out of memory");
	free(ops);
	json_decref(keys);
	json_decref(pkeys);
	json_decref(ckpts);
	return status;
}

enum exp_status workspace_delete(struct app *a, const struct principal *p, int64_t id, int force,
                                 char *err, size_t errlen)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status = delete_locked(a, p, 0, id, force, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status workspace_project_delete(struct app *a, const struct principal *p, int64_t id,
                                         int force, char *err, size_t errlen)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status = delete_locked(a, p, 1, id, force, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status workspace_exp_move(struct app *a, const struct principal *p, int64_t exp_id,
                                   const char *spec, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, exp_id);
	int64_t to = 0;
	if (!e) {
		snprintf(err, errlen, "experiment %lld not found", (long long)exp_id);
		status = EXP_NOT_FOUND;
	} else if (!workspace_exp_allowed_locked(a, p, e, AUTHZ_EXP_READ)) {
		/* What one may not see is not there for one. */
		snprintf(err, errlen, "experiment %lld not found", (long long)exp_id);
		status = EXP_NOT_FOUND;
	} else if (!workspace_exp_allowed_locked(a, p, e, AUTHZ_EXP_CHANGE)) {
		snprintf(err, errlen, "experiment %lld belongs to another user", (long long)exp_id);
		status = EXP_FORBIDDEN;
	} else {
		to = workspace_project_writable_locked(a, p, spec, &status, err, errlen);
	}
	if (to) {
		json_t *row =
		    json_pack("{s:I, s:I}", "id", (json_int_t)exp_id, "project_id", (json_int_t)to);
		struct store_op op = {.kind = STORE_UPDATE, .table = "experiments", .row = row};
		if (!row || store_write(a->store, &op, 1, err, errlen)) {
			status = EXP_INTERNAL;
		} else {
			json_object_set_new(e->row, "project_id", json_integer(to));
			e->project_id = to;
			log_msg(&a->log, LOG_LEVEL_INFO,
			        "experiment %lld moved to project %lld by %s", (long long)exp_id,
			        (long long)to, p->name);
		}
		json_decref(row);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

/* The workspace_roles row for (workspace, uid or gid) (lock held), or NULL. */
static json_t *role_row(struct app *a, int64_t ws, long uid, long gid)
{
	const char *k;
	json_t *r;
	json_object_foreach (a->workspace_roles, k, r) {
		json_t *ru = json_object_get(r, "uid"), *rg = json_object_get(r, "gid");
		if (iget(r, "workspace_id") == ws &&
		    (uid >= 0 ? json_is_integer(ru) && json_integer_value(ru) == uid
		              : json_is_integer(rg) && json_integer_value(rg) == gid))
			return r;
	}
	return NULL;
}

/* Replace old by row in workspace_roles (either may be NULL), in one store write,
 * then in memory (lock held). 0, or -1 with err. */
static int role_write(struct app *a, json_t *old, json_t *row, char *err, size_t errlen)
{
	struct store_op ops[2];
	size_t n = 0;
	char key[24];
	json_t *k = old ? json_pack("{s:I}", "id", (json_int_t)iget(old, "id")) : NULL;
	int rv = -1;

	if (old && !k) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (old)
		ops[n++] =
		    (struct store_op){.kind = STORE_DELETE, .table = "workspace_roles", .row = k};
	if (row)
		ops[n++] =
		    (struct store_op){.kind = STORE_INSERT, .table = "workspace_roles", .row = row};
	if (store_write(a->store, ops, n, err, errlen))
		goto fail;
	if (old) {
		snprintf(key, sizeof(key), "%lld", (long long)iget(old, "id"));
		json_object_del(a->workspace_roles, key);
	}
	if (row) {
		json_object_set_new(row, "id", json_integer(ops[n - 1].id_out));
		snprintf(key, sizeof(key), "%lld", (long long)ops[n - 1].id_out);
		json_object_set(a->workspace_roles, key, row);
	}
	rv = 0;
fail:
	json_decref(k);
	return rv;
}

enum exp_status workspace_role_set(struct app *a, const struct principal *p, int64_t workspace_id,
                                   long uid, long gid, const char *role, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	json_t *row = NULL;

	if (role && authz_role_parse(role) == AUTHZ_ROLE_NONE) {
		snprintf(err, errlen, "role: expected viewer, editor or workspace-admin");
		return EXP_INVALID;
	}
	if ((uid < 0) == (gid < 0)) {
		snprintf(err, errlen, "expected a user or a group");
		return EXP_INVALID;
	}
	pthread_mutex_lock(&a->lock);
	json_t *w = by_id(a->workspaces, workspace_id);
	if (!w || !ws_allowed(a, p, w, AUTHZ_WORKSPACE_READ)) {
		snprintf(err, errlen, "workspace %lld not found", (long long)workspace_id);
		status = EXP_NOT_FOUND;
		goto out;
	}
	if (!ws_allowed(a, p, w, AUTHZ_WORKSPACE_MEMBERS)) {
		snprintf(err, errlen, "user %s may not manage the members of workspace %s", p->name,
		         json_string_value(json_object_get(w, "name")));
		status = EXP_FORBIDDEN;
		goto out;
	}
	if (workspace_id == WORKSPACE_DEFAULT_ID) {
		snprintf(err, errlen,
		         "the default workspace Uncategorized has fixed rules: every "
		         "user reads all and changes their own experiments");
		status = EXP_CONFLICT;
		goto out;
	}
	json_t *old = role_row(a, workspace_id, uid, gid);
	if (!role && !old) {
		snprintf(err, errlen, "%s %ld has no role in workspace %s",
		         uid >= 0 ? "uid" : "gid", uid >= 0 ? uid : gid,
		         json_string_value(json_object_get(w, "name")));
		status = EXP_NOT_FOUND;
		goto out;
	}
	if (role) {
		row =
		    json_pack("{s:I, s:s}", "workspace_id", (json_int_t)workspace_id, "role", role);
		if (!row || json_object_set_new(row, uid >= 0 ? "uid" : "gid",
		                                json_integer(uid >= 0 ? uid : gid))) {
			snprintf(err, errlen, "out of memory");
			status = EXP_INTERNAL;
			goto out;
		}
	}
	/* Replacing a role is a delete and an insert, in one transaction. */
	if (role_write(a, old, row, err, errlen)) {
		status = EXP_INTERNAL;
		goto out;
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "workspace %lld: %s %ld %s%s by %s",
	        (long long)workspace_id, uid >= 0 ? "uid" : "gid", uid >= 0 ? uid : gid,
	        role ? "is now " : "has no role", role ? role : "", p->name);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	return status;
}

enum exp_status workspace_role_list(struct app *a, const struct principal *p, int64_t workspace_id,
                                    json_t **out, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	const char *k;
	json_t *r, *arr = json_array();

	pthread_mutex_lock(&a->lock);
	json_t *w = by_id(a->workspaces, workspace_id);
	if (!w || !ws_allowed(a, p, w, AUTHZ_WORKSPACE_READ)) {
		snprintf(err, errlen, "workspace %lld not found", (long long)workspace_id);
		status = EXP_NOT_FOUND;
		goto out;
	}
	if (!arr) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
		goto out;
	}
	json_object_foreach (a->workspace_roles, k, r) {
		if (iget(r, "workspace_id") == workspace_id)
			json_array_append(arr, r);
	}
	*out = json_pack("{s:O, s:s?}", "roles", arr, "creator", user_name(a, w));
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
	}
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(arr);
	return status;
}

/* EXP_OK when e exists and who may do action to it; EXP_NOT_FOUND when e is unknown
 * or who may not read it (what one may not see is not there for one); else
 * EXP_FORBIDDEN (lock held). */
static enum exp_status exp_access_locked(struct app *a, const struct principal *who,
                                         struct exp_rt *e, enum authz_action action)
{
	if (!e || !workspace_exp_allowed_locked(a, who, e, AUTHZ_EXP_READ))
		return EXP_NOT_FOUND;
	return workspace_exp_allowed_locked(a, who, e, action) ? EXP_OK : EXP_FORBIDDEN;
}

enum exp_status workspace_exp_access(struct app *a, const struct principal *who, int64_t exp_id,
                                     enum authz_action action)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status = exp_access_locked(a, who, exp_find_locked(a, exp_id), action);
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status workspace_trial_access(struct app *a, const struct principal *who, int64_t trial_id,
                                       enum authz_action action)
{
	struct exp_rt *e = NULL;
	pthread_mutex_lock(&a->lock);
	enum exp_status status = exp_trial_locked(a, trial_id, &e)
	                             ? exp_access_locked(a, who, e, action)
	                             : EXP_NOT_FOUND;
	pthread_mutex_unlock(&a->lock);
	return status;
}

int workspace_allowed_locked(struct app *a, const struct principal *who, int64_t workspace_id,
                             enum authz_action action)
{
	json_t *w = by_id(a->workspaces, workspace_id);
	return w && ws_allowed(a, who, w, action);
}

int64_t workspace_find_locked(struct app *a, const char *spec)
{
	int64_t id = parse_id(spec);
	json_t *w = id ? by_id(a->workspaces, id) : ws_by_name(a, spec ? spec : "");
	return w ? iget(w, "id") : 0;
}
