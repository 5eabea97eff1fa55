/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workspaces and projects: every experiment belongs to a project, every
 * project to a workspace. Functions answering the API return an engine status
 * (EXP_OK on success, exp.h) with a message in err otherwise, and take the app
 * lock unless named *_locked. Who may do what is authz.c's; the API layer alone
 * turns a status into HTTP.
 */
#ifndef DET_MASTER_WORKSPACE_H
#define DET_MASTER_WORKSPACE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "authz.h"
#include "exp.h"

/* The default workspace and project (migration 6): never deleted. */
#define WORKSPACE_DEFAULT_ID 1
#define WORKSPACE_DEFAULT_PROJECT_ID 1
#define WORKSPACE_NAME_MAX 128

/* 0 when name is a valid workspace or project name (1..128 bytes, no control
 * character, no '/', not only digits), else -1 with err naming what. Pure. */
int workspace_name_check(const char *what, const char *name, char *err, size_t errlen);

/* Load workspaces, projects and roles into a->workspaces, a->projects and
 * a->workspace_roles (before serving). */
int workspace_load(struct app *a, char *err, size_t errlen);

/* The project "ID" or "WORKSPACE/PROJECT" names (lock held): its id, or 0 with
 * *status EXP_INVALID/EXP_NOT_FOUND and err. */
int64_t workspace_project_find_locked(struct app *a, const char *spec, enum exp_status *status,
                                      char *err, size_t errlen);

/* Like workspace_project_find_locked, and p may put experiments there (EXP_FORBIDDEN
 * otherwise) and neither it nor its workspace is archived (EXP_CONFLICT). */
int64_t workspace_project_writable_locked(struct app *a, const struct principal *p,
                                          const char *spec, enum exp_status *status, char *err,
                                          size_t errlen);

/* Every workspace who may see, with its counts; *out gets {"workspaces": [...]}. */
enum exp_status workspace_list(struct app *a, const struct principal *who, json_t **out, char *err,
                               size_t errlen);

/* One workspace with its counts; *out gets {"workspace": {...}}. */
enum exp_status workspace_get(struct app *a, const struct principal *who, int64_t id, json_t **out,
                              char *err, size_t errlen);

/* A new workspace owned by p (EXP_CONFLICT on a duplicate name). */
enum exp_status workspace_create(struct app *a, const struct principal *p, const char *name,
                                 json_t **out, char *err, size_t errlen);

/* Archive (1) or unarchive (0) a workspace. */
enum exp_status workspace_set_archived(struct app *a, const struct principal *p, int64_t id,
                                       int archived, char *err, size_t errlen);

/* Delete a workspace; one with projects or experiments only with force, then
 * everything under it goes in one transaction (experiments must be finished). */
enum exp_status workspace_delete(struct app *a, const struct principal *p, int64_t id, int force,
                                 char *err, size_t errlen);

/* Projects of a workspace (0: of all); *out gets {"projects": [...]}. */
enum exp_status workspace_project_list(struct app *a, const struct principal *who,
                                       int64_t workspace_id, json_t **out, char *err,
                                       size_t errlen);

/* One project with its counts; *out gets {"project": {...}}. */
enum exp_status workspace_project_get(struct app *a, const struct principal *who, int64_t id,
                                      json_t **out, char *err, size_t errlen);

/* A new project in a workspace p may change (EXP_CONFLICT on a duplicate name). */
enum exp_status workspace_project_create(struct app *a, const struct principal *p,
                                         int64_t workspace_id, const char *name, json_t **out,
                                         char *err, size_t errlen);

/* Archive (1) or unarchive (0) a project. */
enum exp_status workspace_project_set_archived(struct app *a, const struct principal *p, int64_t id,
                                               int archived, char *err, size_t errlen);

/* Delete a project; one with experiments only with force (as workspace_delete). */
enum exp_status workspace_project_delete(struct app *a, const struct principal *p, int64_t id,
                                         int force, char *err, size_t errlen);

/* Move experiment exp_id (p may change it) to the project spec names (p may write it). */
enum exp_status workspace_exp_move(struct app *a, const struct principal *p, int64_t exp_id,
                                   const char *spec, char *err, size_t errlen);

/* 1 when who may do action to workspace workspace_id itself (0 when unknown) (lock held). */
int workspace_allowed_locked(struct app *a, const struct principal *who, int64_t workspace_id,
                             enum authz_action action);

/* The id of workspace "ID" or "NAME", 0 when there is none (lock held). */
int64_t workspace_find_locked(struct app *a, const char *spec);

/* Fill p->groups with the Unix groups of p->uid (nothing for other principals). */
void workspace_principal_groups(struct principal *p);

/* 1 when who may do action (authz.h) to experiment e, by its workspace's rules (lock held). */
int workspace_exp_allowed_locked(struct app *a, const struct principal *who, struct exp_rt *e,
                                 enum authz_action action);

/* EXP_OK when experiment exp_id exists and who may do action to it; EXP_NOT_FOUND
 * when it is unknown or who may not read it; else EXP_FORBIDDEN (takes the lock). */
enum exp_status workspace_exp_access(struct app *a, const struct principal *who, int64_t exp_id,
                                     enum authz_action action);

/* workspace_exp_access for the experiment of trial trial_id. */
enum exp_status workspace_trial_access(struct app *a, const struct principal *who, int64_t trial_id,
                                       enum authz_action action);

/* Give (role a name of authz_role_parse) or, with role NULL, take away the role of
 * Unix user uid (gid -1) or group gid (uid -1) in a workspace: p must manage its members. */
enum exp_status workspace_role_set(struct app *a, const struct principal *p, int64_t workspace_id,
                                   long uid, long gid, const char *role, char *err, size_t errlen);

/* The role assignments of a workspace; *out gets {"roles": [{uid|gid, role}]}. */
enum exp_status workspace_role_list(struct app *a, const struct principal *p, int64_t workspace_id,
                                    json_t **out, char *err, size_t errlen);

#endif
