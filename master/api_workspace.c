/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workspace and project endpoints (/workspaces, /projects) and moving an
 * experiment between projects, workspace roles: parse the request (user and
 * group names become a uid or gid here, before any lock), call workspace.c, answer.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "workspace.h"

/* Answer status: out as the body, or err as the error. */
/* The string field key of the body, or NULL with a 400 in rep. */
static const char *body_string(struct api_call *c, struct http_reply *rep, const char *key)
{
	const char *s = json_string_value(json_object_get(c->body, key));
	if (!s)
		api_error(rep, 400, "%s: expected a string", key);
	return s;
}

/* ?force=1 / true; -1 with a 400 on another value. */
static int force_arg(struct api_call *c, struct http_reply *rep)
{
	const char *f = http_request_arg(c->req, "force");
	if (!f || !strcmp(f, "0") || !strcmp(f, "false"))
		return 0;
	if (!strcmp(f, "1") || !strcmp(f, "true"))
		return 1;
	api_error(rep, 400, "force: expected 1 or 0");
	return -1;
}

void api_workspace_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	enum exp_status status = workspace_list(a, &c->who, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_workspace_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[512];
	const char *name = body_string(c, rep, "name");
	if (!name)
		return;
	enum exp_status status = workspace_create(a, &c->who, name, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_workspace_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	enum exp_status status = workspace_get(a, &c->who, c->id, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

static void ws_archive(struct app *a, struct api_call *c, struct http_reply *rep, int on)
{
	char err[512];
	enum exp_status status = workspace_set_archived(a, &c->who, c->id, on, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_workspace_get(a, c, rep);
}

void api_workspace_archive(struct app *a, struct api_call *c, struct http_reply *rep)
{
	ws_archive(a, c, rep, 1);
}

void api_workspace_unarchive(struct app *a, struct api_call *c, struct http_reply *rep)
{
	ws_archive(a, c, rep, 0);
}

void api_workspace_delete(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	int force = force_arg(c, rep);
	if (force < 0)
		return;
	enum exp_status status = workspace_delete(a, &c->who, c->id, force, err, sizeof(err));
	api_exp_answer(rep, status, NULL, err);
}

void api_workspace_projects(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	enum exp_status status = workspace_project_list(a, &c->who, c->id, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_workspace_project_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[512];
	const char *name = body_string(c, rep, "name");
	if (!name)
		return;
	enum exp_status status =
	    workspace_project_create(a, &c->who, c->id, name, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_project_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	enum exp_status status = workspace_project_list(a, &c->who, 0, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_project_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	enum exp_status status = workspace_project_get(a, &c->who, c->id, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

static void project_archive(struct app *a, struct api_call *c, struct http_reply *rep, int on)
{
	char err[512];
	enum exp_status status =
	    workspace_project_set_archived(a, &c->who, c->id, on, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_project_get(a, c, rep);
}

void api_project_archive(struct app *a, struct api_call *c, struct http_reply *rep)
{
	project_archive(a, c, rep, 1);
}

void api_project_unarchive(struct app *a, struct api_call *c, struct http_reply *rep)
{
	project_archive(a, c, rep, 0);
}

void api_project_delete(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	int force = force_arg(c, rep);
	if (force < 0)
		return;
	enum exp_status status =
	    workspace_project_delete(a, &c->who, c->id, force, err, sizeof(err));
	api_exp_answer(rep, status, NULL, err);
}

void api_exp_move(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	json_t *pj = json_object_get(c->body, "project");
	char id[24];
	const char *spec = json_string_value(pj);
	if (json_is_integer(pj)) {
		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(pj));
		spec = id;
	}
	if (!spec) {
		api_error(rep, 400, "project: expected an id or \"WORKSPACE/PROJECT\"");
		return;
	}
	enum exp_status status = workspace_exp_move(a, &c->who, c->id, spec, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_exp_get(a, c, rep);
}

/* The uid of a user name (a Unix account, or a det user bound to a uid), -1 after a 404. */
static long user_uid_of(struct app *a, const char *name, struct http_reply *rep)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	long uid = -1;

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res)
		return (long)pw.pw_uid;
	pthread_mutex_lock(&a->lock);
	json_t *u = json_object_get(a->users, name);
	if (u && json_is_integer(json_object_get(u, "uid")))
		uid = (long)json_integer_value(json_object_get(u, "uid"));
	pthread_mutex_unlock(&a->lock);
	if (uid < 0)
		api_error(rep, 404, "user %s: no Unix account and no det user bound to a uid",
		          name);
	return uid;
}

/* The gid of a Unix group name, -1 after a 404. */
static long group_gid_of(const char *name, struct http_reply *rep)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res)
		return (long)gr.gr_gid;
	api_error(rep, 404, "group %s: no such Unix group", name);
	return -1;
}

/* {user: NAME} or {group: NAME} of the body to a uid or gid; -1 with rep filled. */
static int member_of(struct app *a, struct api_call *c, struct http_reply *rep, long *uid,
                     long *gid)
{
	const char *user = json_string_value(json_object_get(c->body, "user"));
	const char *group = json_string_value(json_object_get(c->body, "group"));

	*uid = *gid = -1;
	if (!user == !group || (user && !*user) || (group && !*group)) {
		api_error(rep, 400, "expected either user or group (a name)");
		return -1;
	}
	if (user)
		*uid = user_uid_of(a, user, rep);
	else
		*gid = group_gid_of(group, rep);
	return *uid < 0 && *gid < 0 ? -1 : 0;
}

void api_workspace_role_assign(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	long uid, gid;
	const char *role = body_string(c, rep, "role");
	if (!role || member_of(a, c, rep, &uid, &gid))
		return;
	enum exp_status status =
	    workspace_role_set(a, &c->who, c->id, uid, gid, role, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_workspace_roles(a, c, rep);
}

void api_workspace_role_unassign(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	long uid, gid;
	if (member_of(a, c, rep, &uid, &gid))
		return;
	enum exp_status status =
	    workspace_role_set(a, &c->who, c->id, uid, gid, NULL, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_workspace_roles(a, c, rep);
}

void api_workspace_roles(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	enum exp_status status = workspace_role_list(a, &c->who, c->id, &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}
