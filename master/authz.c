/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Authorisation rules, in one table: for each action, whether its object's
 * owner may do it and whether an admin may. Non-obvious: registering a
 * submitted job is the owner's alone (the job is checked against the
 * owner's Unix uid), and task events come only from admins (the plugins).
 */
#include "authz.h"

struct authz_rule {
	int owner; /* the object's owner may */
	int admin; /* an admin may */
};

static const struct authz_rule rules[AUTHZ_NACTIONS] = {
    [AUTHZ_EXP_CHANGE] = {1, 1},       [AUTHZ_EXP_REGISTER_JOB] = {1, 0},
    [AUTHZ_TRIAL_KILL] = {1, 1},       [AUTHZ_CHECKPOINT_DELETE] = {1, 1},
    [AUTHZ_ALLOCATION_EVENT] = {1, 1}, [AUTHZ_TASK_EVENT] = {0, 1},
    [AUTHZ_IMAGE_REMOVE] = {1, 1},
};

int authz_allowed(const struct principal *who, enum authz_action action, int64_t owner_id)
{
	if (!who || action < 0 || action >= AUTHZ_NACTIONS || who->kind != PRINCIPAL_USER)
		return 0;
	const struct authz_rule *r = &rules[action];
	return (r->admin && who->admin) || (r->owner && owner_id == who->user_id);
}
