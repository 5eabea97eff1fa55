/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workspace and project endpoints (/workspaces, /projects) and moving an
 * experiment between projects: parse the request, call workspace.c, answer.
 */
#include <string.h>

#include "api_internal.h"
#include "workspace.h"

/* Answer status: out as the body, or err as the error. */
static void answer(struct http_reply *rep, int status, json_t *out, const char *err)
{
	if (status == 200)
		api_json(rep, 200, out);
	else
		api_error(rep, status, "%s", err);
}

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
	(void)c;
	int status = workspace_list(a, &out, err, sizeof(err));
	answer(rep, status, out, err);
}

void api_workspace_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[512];
	const char *name = body_string(c, rep, "name");
	if (!name)
		return;
	int status = workspace_create(a, &c->who, name, &out, err, sizeof(err));
	answer(rep, status, out, err);
}

void api_workspace_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	int status = workspace_get(a, c->id, &out, err, sizeof(err));
	answer(rep, status, out, err);
}

static void ws_archive(struct app *a, struct api_call *c, struct http_reply *rep, int on)
{
	char err[512];
	int status = workspace_set_archived(a, &c->who, c->id, on, err, sizeof(err));
	if (status != 200)
		api_error(rep, status, "%s", err);
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
	int status = workspace_delete(a, &c->who, c->id, force, err, sizeof(err));
	answer(rep, status, NULL, err);
}

void api_workspace_projects(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	int status = workspace_project_list(a, c->id, &out, err, sizeof(err));
	answer(rep, status, out, err);
}

void api_workspace_project_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[512];
	const char *name = body_string(c, rep, "name");
	if (!name)
		return;
	int status = workspace_project_create(a, &c->who, c->id, name, &out, err, sizeof(err));
	answer(rep, status, out, err);
}

void api_project_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	(void)c;
	int status = workspace_project_list(a, 0, &out, err, sizeof(err));
	answer(rep, status, out, err);
}

void api_project_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = NULL;
	char err[256];
	int status = workspace_project_get(a, c->id, &out, err, sizeof(err));
	answer(rep, status, out, err);
}

static void project_archive(struct app *a, struct api_call *c, struct http_reply *rep, int on)
{
	char err[512];
	int status = workspace_project_set_archived(a, &c->who, c->id, on, err, sizeof(err));
	if (status != 200)
		api_error(rep, status, "%s", err);
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
	int status = workspace_project_delete(a, &c->who, c->id, force, err, sizeof(err));
	answer(rep, status, NULL, err);
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
	int status = workspace_exp_move(a, &c->who, c->id, spec, err, sizeof(err));
	if (status != 200)
		api_error(rep, status, "%s", err);
	else
		api_exp_get(a, c, rep);
}
