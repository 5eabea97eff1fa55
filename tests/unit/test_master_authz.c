/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who may do what (master/authz.c), as a table: every action for the owner,
 * another user, an admin, each workspace role, a user of the shared default
 * workspace, and non-user credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "master/authz.h"

#define OWNER 7

struct row {
	enum authz_action action;
	int owner, other, admin;     /* the owner, another user, an admin (not owner), no role */
	int viewer, editor, wsadmin; /* another user with that role in the object's workspace */
	int shared;                  /* another user, in the shared default workspace */
};

/* clang-format off */
static const struct row table[] = {
    /* action                    own oth adm vie edi wsa shared */
    {AUTHZ_EXP_CHANGE,             1, 0, 1, 0, 1, 1, 0},
    {AUTHZ_EXP_REGISTER_JOB,       1, 0, 0, 0, 0, 0, 0},
    {AUTHZ_TRIAL_KILL,             1, 0, 1, 0, 1, 1, 0},
    {AUTHZ_CHECKPOINT_DELETE,      1, 0, 1, 0, 1, 1, 0},
    {AUTHZ_ALLOCATION_EVENT,       1, 0, 1, 0, 0, 0, 0},
    {AUTHZ_TASK_EVENT,             0, 0, 1, 0, 0, 0, 0},
    {AUTHZ_EXP_READ,               1, 0, 1, 1, 1, 1, 1},
    {AUTHZ_WORKSPACE_READ,         1, 0, 1, 1, 1, 1, 1},
    {AUTHZ_WORKSPACE_CHANGE,       1, 0, 1, 0, 0, 1, 0},
    {AUTHZ_WORKSPACE_MEMBERS,      1, 0, 1, 0, 0, 1, 0},
    {AUTHZ_PROJECT_WRITE,          1, 0, 1, 0, 1, 1, 1},
    {AUTHZ_TEMPLATE_CHANGE,        1, 0, 1, 0, 1, 1, 0},
    {AUTHZ_TEMPLATE_GLOBAL,        0, 0, 1, 0, 0, 0, 0},
    {AUTHZ_MODEL_CHANGE,           1, 0, 1, 0, 0, 0, 0},
    {AUTHZ_IMAGE_REMOVE,           1, 0, 1, 0, 0, 0, 0},
    {AUTHZ_TASK_READ,              1, 0, 1, 0, 0, 0, 0},
    {AUTHZ_TASK_KILL,              1, 0, 1, 0, 0, 0, 0},
};
/* clang-format on */

static struct principal user(int64_t id, int admin)
{
	struct principal p = {.kind = PRINCIPAL_USER, .user_id = id, .admin = admin};
	return p;
}

static int may(const struct principal *p, enum authz_action a, enum authz_role role, int shared)
{
	struct authz_object o = {.owner_id = OWNER, .role = role, .shared = shared};
	return authz_decide(p, a, &o);
}

static void test_every_action_for_every_kind_of_user(void **state)
{
	(void)state;
	struct principal owner = user(OWNER, 0), other = user(OWNER + 1, 0),
	                 admin = user(OWNER + 2, 1);
	assert_int_equal(sizeof(table) / sizeof(table[0]), AUTHZ_NACTIONS);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *r = &table[i];
		assert_int_equal(r->action, (enum authz_action)i);
		assert_int_equal(may(&owner, r->action, AUTHZ_ROLE_NONE, 0), r->owner);
		assert_int_equal(may(&other, r->action, AUTHZ_ROLE_NONE, 0), r->other);
		assert_int_equal(may(&admin, r->action, AUTHZ_ROLE_NONE, 0), r->admin);
		assert_int_equal(may(&other, r->action, AUTHZ_ROLE_VIEWER, 0), r->viewer);
		assert_int_equal(may(&other, r->action, AUTHZ_ROLE_EDITOR, 0), r->editor);
		assert_int_equal(may(&other, r->action, AUTHZ_ROLE_WORKSPACE_ADMIN, 0), r->wsadmin);
		assert_int_equal(may(&other, r->action, AUTHZ_ROLE_NONE, 1), r->shared);
		/* authz_allowed: outside any workspace, owner and admin only. */
		assert_int_equal(authz_allowed(&owner, r->action, OWNER), r->owner);
		assert_int_equal(authz_allowed(&other, r->action, OWNER), r->other);
	}
}

static void test_trial_and_allocation_credentials_may_nothing(void **state)
{
	(void)state;
	for (int a = 0; a < AUTHZ_NACTIONS; a++) {
		struct principal t = user(OWNER, 1), al = user(OWNER, 1);
		t.kind = PRINCIPAL_TRIAL;
		al.kind = PRINCIPAL_ALLOCATION;
		assert_false(may(&t, (enum authz_action)a, AUTHZ_ROLE_WORKSPACE_ADMIN, 1));
		assert_false(may(&al, (enum authz_action)a, AUTHZ_ROLE_WORKSPACE_ADMIN, 1));
	}
}

static void test_unknown_action_or_no_principal_is_refused(void **state)
{
	(void)state;
	struct principal admin = user(1, 1);
	assert_false(authz_allowed(&admin, AUTHZ_NACTIONS, 1));
	assert_false(authz_allowed(NULL, AUTHZ_EXP_CHANGE, 1));
	assert_false(authz_decide(&admin, AUTHZ_EXP_CHANGE, NULL));
}

static void test_role_names(void **state)
{
	(void)state;
	for (int r = AUTHZ_ROLE_VIEWER; r <= AUTHZ_ROLE_WORKSPACE_ADMIN; r++)
		assert_int_equal(authz_role_parse(authz_role_name((enum authz_role)r)), r);
	assert_int_equal(authz_role_parse("admin"), AUTHZ_ROLE_NONE);
	assert_int_equal(authz_role_parse("none"), AUTHZ_ROLE_NONE);
	assert_int_equal(authz_role_parse(NULL), AUTHZ_ROLE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_action_for_every_kind_of_user),
	    cmocka_unit_test(test_trial_and_allocation_credentials_may_nothing),
	    cmocka_unit_test(test_unknown_action_or_no_principal_is_refused),
	    cmocka_unit_test(test_role_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
