/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Authorisation: the one decision of who may do what to which object. Pure:
 * the caller looks up the object's owner (under the lock) and asks; the
 * caller words the refusal. The caller also finds the principal's role in the
 * object's workspace (workspace.c); the rules are authz.c's table.
 */
#ifndef DET_MASTER_AUTHZ_H
#define DET_MASTER_AUTHZ_H

#include <stdint.h>

#include "app.h"

/* What a principal wants to do to an object owned by a det user. */
enum authz_action {
	AUTHZ_EXP_CHANGE, /* pause/activate/cancel/kill/archive/delete/move, claim as a user */
	AUTHZ_EXP_REGISTER_JOB,  /* hand the master a Slurm job the user submitted */
	AUTHZ_TRIAL_KILL,        /* kill one trial */
	AUTHZ_CHECKPOINT_DELETE, /* mark a checkpoint deleted */
	AUTHZ_ALLOCATION_EVENT,  /* report an allocation's (job's) own events */
	AUTHZ_TASK_EVENT,        /* report other plugin events (task exits): root's plugins only */
	AUTHZ_EXP_READ,          /* see an experiment, its trials, metrics, logs, checkpoints */
	AUTHZ_WORKSPACE_READ,    /* see a workspace and its projects */
	AUTHZ_WORKSPACE_CHANGE,  /* archive/delete a workspace, add/archive/delete its projects */
	AUTHZ_WORKSPACE_MEMBERS, /* assign and unassign roles in a workspace */
	AUTHZ_PROJECT_WRITE,     /* put an experiment into a project (create or move) */
	AUTHZ_TEMPLATE_CHANGE,   /* replace or delete a template (owner: its creator) */
	AUTHZ_TEMPLATE_GLOBAL,   /* create a template outside any workspace */
	AUTHZ_MODEL_CHANGE,      /* register versions of a model (owner: its creator) */
	AUTHZ_IMAGE_REMOVE,      /* remove or replace an image name (det image) */
	AUTHZ_TASK_READ,         /* see a command task and its logs (owner: its Unix uid) */
	AUTHZ_TASK_KILL,         /* kill a command task */
	AUTHZ_NACTIONS
};

/* A principal's role in a workspace, weakest first (a stronger one includes the weaker). */
enum authz_role {
	AUTHZ_ROLE_NONE,
	AUTHZ_ROLE_VIEWER,          /* read */
	AUTHZ_ROLE_EDITOR,          /* plus create, control and delete anyone's experiments */
	AUTHZ_ROLE_WORKSPACE_ADMIN, /* plus manage the workspace and its members */
};

/* The object of a decision, as the caller found it. */
struct authz_object {
	int64_t owner_id;     /* det user owning it (experiment owner, workspace creator); 0 none */
	enum authz_role role; /* the principal's strongest role in the object's workspace */
	int shared;           /* in the default workspace: every user reads, writes own */
};

/* 1 when who may do action to obj, else 0. Pure. */
int authz_decide(const struct principal *who, enum authz_action action,
                 const struct authz_object *obj);

/* authz_decide for an object outside any workspace, owned by det user owner_id. */
int authz_allowed(const struct principal *who, enum authz_action action, int64_t owner_id);

/* "viewer", "editor", "workspace-admin" to a role; AUTHZ_ROLE_NONE when unknown. */
enum authz_role authz_role_parse(const char *name);

/* A role's name ("none" for AUTHZ_ROLE_NONE). */
const char *authz_role_name(enum authz_role role);

#endif
