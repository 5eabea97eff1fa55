/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who may do what (master/authz.c): every action for the owner, another user,
 * an admin and non-user credentials, as a table. */
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
	int owner, other, admin; /* allowed for the owner, another user, an admin (not owner) */
};

static const struct row table[] = {
    {AUTHZ_EXP_CHANGE, 1, 0, 1},       {AUTHZ_EXP_REGISTER_JOB, 1, 0, 0},
    {AUTHZ_TRIAL_KILL, 1, 0, 1},       {AUTHZ_CHECKPOINT_DELETE, 1, 0, 1},
    {AUTHZ_ALLOCATION_EVENT, 1, 0, 1}, {AUTHZ_TASK_EVENT, 0, 0, 1},
    {AUTHZ_IMAGE_REMOVE, 1, 0, 1},
};

static struct principal user(int64_t id, int admin)
{
	struct principal p = {.kind = PRINCIPAL_USER, .user_id = id, .admin = admin};
	return p;
}

static void test_every_action_for_owner_other_and_admin(void **state)
{
	(void)state;
	struct principal owner = user(OWNER, 0), other = user(OWNER + 1, 0),
	                 admin = user(OWNER + 2, 1);
	assert_int_equal(sizeof(table) / sizeof(table[0]), AUTHZ_NACTIONS);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *r = &table[i];
		assert_int_equal(authz_allowed(&owner, r->action, OWNER), r->owner);
		assert_int_equal(authz_allowed(&other, r->action, OWNER), r->other);
		assert_int_equal(authz_allowed(&admin, r->action, OWNER), r->admin);
	}
}

static void test_trial_and_allocation_credentials_may_nothing(void **state)
{
	(void)state;
	for (int a = 0; a < AUTHZ_NACTIONS; a++) {
		struct principal t = user(OWNER, 1), al = user(OWNER, 1);
		t.kind = PRINCIPAL_TRIAL;
		al.kind = PRINCIPAL_ALLOCATION;
		assert_false(authz_allowed(&t, (enum authz_action)a, OWNER));
		assert_false(authz_allowed(&al, (enum authz_action)a, OWNER));
	}
}

static void test_unknown_action_or_no_principal_is_refused(void **state)
{
	(void)state;
	struct principal admin = user(1, 1);
	assert_false(authz_allowed(&admin, AUTHZ_NACTIONS, 1));
	assert_false(authz_allowed(NULL, AUTHZ_EXP_CHANGE, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_action_for_owner_other_and_admin),
	    cmocka_unit_test(test_trial_and_allocation_credentials_may_nothing),
	    cmocka_unit_test(test_unknown_action_or_no_principal_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
