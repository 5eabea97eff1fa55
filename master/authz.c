/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Authorisation rules, in one table: for each action, whether its object's
 * owner may do it, whether an admin may, the least workspace role that may,
 * and whether every user may in the shared default workspace. Non-obvious:
 * registering a submitted job is the owner's alone (the job is checked
 * against the owner's Unix uid), and task events come only from admins (the
 * plugins). The caller computes the principal's role in the object's
 * workspace (its own and its Unix groups' assignments, the creator's
 * workspace-admin); this file only decides.
 */
#include "authz.h"

#include <string.h>

struct authz_rule {
	int owner;            /* the object's owner may */
	int admin;            /* an admin may */
	enum authz_role role; /* this role or a stronger one may; NONE: no role may */
	int shared;           /* any user may, in the shared (default) workspace */
};

static const struct authz_rule rules[AUTHZ_NACTIONS] = {
    [AUTHZ_EXP_READ] = {1, 1, AUTHZ_ROLE_VIEWER, 1},
    [AUTHZ_EXP_CHANGE] = {1, 1, AUTHZ_ROLE_EDITOR, 0},
    [AUTHZ_EXP_REGISTER_JOB] = {1, 0, AUTHZ_ROLE_NONE, 0},
    [AUTHZ_TRIAL_KILL] = {1, 1, AUTHZ_ROLE_EDITOR, 0},
    [AUTHZ_CHECKPOINT_DELETE] = {1, 1, AUTHZ_ROLE_EDITOR, 0},
    [AUTHZ_ALLOCATION_EVENT] = {1, 1, AUTHZ_ROLE_NONE, 0},
    [AUTHZ_TASK_EVENT] = {0, 1, AUTHZ_ROLE_NONE, 0},
    [AUTHZ_WORKSPACE_READ] = {1, 1, AUTHZ_ROLE_VIEWER, 1},
    [AUTHZ_WORKSPACE_CHANGE] = {1, 1, AUTHZ_ROLE_WORKSPACE_ADMIN, 0},
    [AUTHZ_WORKSPACE_MEMBERS] = {1, 1, AUTHZ_ROLE_WORKSPACE_ADMIN, 0},
    [AUTHZ_PROJECT_WRITE] = {1, 1, AUTHZ_ROLE_EDITOR, 1},
    [AUTHZ_TEMPLATE_CHANGE] = {1, 1, AUTHZ_ROLE_EDITOR, 0},
    [AUTHZ_TEMPLATE_GLOBAL] = {0, 1, AUTHZ_ROLE_NONE, 0},
    [AUTHZ_MODEL_CHANGE] = {1, 1, AUTHZ_ROLE_NONE, 0},
    [AUTHZ_IMAGE_REMOVE] = {1, 1, AUTHZ_ROLE_NONE, 0},
    [AUTHZ_TASK_READ] = {1, 1, AUTHZ_ROLE_NONE, 0},
    [AUTHZ_TASK_KILL] = {1, 1, AUTHZ_ROLE_NONE, 0},
};

int authz_decide(const struct principal *who, enum authz_action action,
                 const struct authz_object *obj)
{
	if (!who || !obj || action < 0 || action >= AUTHZ_NACTIONS || who->kind != PRINCIPAL_USER)
		return 0;
	const struct authz_rule *r = &rules[action];
	return (r->admin && who->admin) || (r->owner && obj->owner_id == who->user_id) ||
	       (r->role != AUTHZ_ROLE_NONE && obj->role >= r->role) || (r->shared && obj->shared);
}

int authz_allowed(const struct principal *who, enum authz_action action, int64_t owner_id)
{
	struct authz_object obj = {.owner_id = owner_id, .role = AUTHZ_ROLE_NONE, .shared = 0};
	return authz_decide(who, action, &obj);
}

enum authz_role authz_role_parse(const char *name)
{
	static const char *const names[] = {"viewer", "editor", "workspace-admin"};
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (enum authz_role)(i + 1);
	return AUTHZ_ROLE_NONE;
}

const char *authz_role_name(enum authz_role role)
{
	switch (role) {
	case AUTHZ_ROLE_VIEWER:
		return "viewer";
	case AUTHZ_ROLE_EDITOR:
		return "editor";
	case AUTHZ_ROLE_WORKSPACE_ADMIN:
		return "workspace-admin";
	default:
		return "none";
	}
}
