/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Authorisation: the one decision of who may do what to which object. Pure:
 * the caller looks up the object's owner (under the lock) and asks; the
 * caller words the refusal. Roles, when they come, are added here.
 */
#ifndef DET_MASTER_AUTHZ_H
#define DET_MASTER_AUTHZ_H

#include <stdint.h>

#include "app.h"

/* What a principal wants to do to an object owned by a det user. */
enum authz_action {
	AUTHZ_EXP_CHANGE,        /* pause/activate/cancel/kill/archive/delete, claim as a user */
	AUTHZ_EXP_REGISTER_JOB,  /* hand the master a Slurm job the user submitted */
	AUTHZ_TRIAL_KILL,        /* kill one trial */
	AUTHZ_CHECKPOINT_DELETE, /* mark a checkpoint deleted */
	AUTHZ_ALLOCATION_EVENT,  /* report an allocation's (job's) own events */
	AUTHZ_TASK_EVENT,        /* report other plugin events (task exits): root's plugins only */
	AUTHZ_IMAGE_REMOVE,      /* remove or replace an image name (det image) */
	AUTHZ_NACTIONS
};

/* 1 when who may do action to an object of det user owner_id, else 0. */
int authz_allowed(const struct principal *who, enum authz_action action, int64_t owner_id);

#endif
