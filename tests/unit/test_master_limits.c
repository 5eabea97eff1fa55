/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The API's rate limits: token buckets per key with a simulated clock, the
 * gate on concurrent password hashing, and the budgets of body bytes in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "master/rate_limits.h"

static struct limits *make(double per_second, double burst, unsigned hashing)
{
	struct limits_rate r[LIMITS_NKINDS] = {
	    [LIMITS_LOGIN_ADDRESS] = {per_second, burst},
	    [LIMITS_LOGIN_USER] = {0, 0},
	    [LIMITS_USER_REQUESTS] = {per_second, burst},
	};
	struct limits *l = limits_new(r, hashing);
	assert_non_null(l);
	return l;
}

static void test_burst_then_refill(void **state)
{
	struct limits *l = make(1.0, 3, 0);
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "10.0.0.1", 1000), 0);
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "10.0.0.1", 1000), 1);
	/* Other keys and other kinds have their own buckets. */
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "10.0.0.2", 1000), 0);
	assert_int_equal(limits_take(l, LIMITS_USER_REQUESTS, "10.0.0.1", 1000), 0);
	/* One token a second comes back. */
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "10.0.0.1", 2000), 0);
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "10.0.0.1", 2000), 1);
	/* Never more than the burst, however long the wait. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "10.0.0.1", 900000), 0);
	assert_int_not_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "10.0.0.1", 900000), 0);
	limits_free(l);
}

static void test_retry_after_seconds(void **state)
{
	struct limits *l = make(1.0 / 60, 1, 0); /* one a minute */
	(void)state;
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "a", 0), 0);
	unsigned w = limits_take(l, LIMITS_LOGIN_ADDRESS, "a", 0);
	assert_true(w >= 60 && w <= 61);
	w = limits_take(l, LIMITS_LOGIN_ADDRESS, "a", 30000);
	assert_true(w >= 30 && w <= 31);
	limits_free(l);
}

static void test_unlimited_kind(void **state)
{
	struct limits *l = make(1.0, 1, 0);
	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(limits_take(l, LIMITS_LOGIN_USER, "bob", 0), 0);
	assert_int_equal(limits_take(NULL, LIMITS_LOGIN_USER, "bob", 0), 0);
	limits_free(l);
}

static void test_many_keys_bounded(void **state)
{
	struct limits *l = make(1.0, 2, 0);
	char key[32];
	(void)state;
	/* A throttled key survives a flood of new keys that each take one token. */
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "victim", 0), 0);
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "victim", 0), 0);
	assert_int_not_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "victim", 0), 0);
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, key, 10), 0);
	}
	assert_int_not_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "victim", 10), 0);
	limits_free(l);
}

static void test_peek_takes_nothing(void **state)
{
	struct limits *l = make(1.0, 2, 0);
	(void)state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(limits_peek(l, LIMITS_LOGIN_ADDRESS, "a", 0), 0);
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "a", 0), 0);
	assert_int_equal(limits_take(l, LIMITS_LOGIN_ADDRESS, "a", 0), 0);
	assert_int_equal(limits_peek(l, LIMITS_LOGIN_ADDRESS, "a", 0), 1);
	limits_free(l);
}

static void test_hash_gate(void **state)
{
	struct limits *l = make(1.0, 1, 2);
	(void)state;
	assert_int_equal(limits_hash_begin(l), 0);
	assert_int_equal(limits_hash_begin(l), 0);
	assert_int_equal(limits_hash_begin(l), -1);
	limits_hash_end(l);
	assert_int_equal(limits_hash_begin(l), 0);
	limits_hash_end(l);
	limits_hash_end(l);
	limits_free(l);
}

static void test_body_budget(void **state)
{
	struct limits *l = make(1.0, 1, 0);
	(void)state;
	limits_body_budget(l, 100, 250);
	assert_int_equal(limits_body_take(l, "alice", 60), LIMITS_BODY_OK);
	assert_int_equal(limits_body_take(l, "alice", 40), LIMITS_BODY_OK);
	assert_int_equal(limits_body_take(l, "alice", 1), LIMITS_BODY_OVER_KEY);
	assert_int_equal(limits_body_take(l, "alice", 101), LIMITS_BODY_OVER_KEY);
	assert_int_equal(limits_body_in_flight(l, "alice"), 100);
	/* Another user has their own budget, within the total. */
	assert_int_equal(limits_body_take(l, "bob", 100), LIMITS_BODY_OK);
	assert_int_equal(limits_body_take(l, NULL, 50), LIMITS_BODY_OK);
	assert_int_equal(limits_body_take(l, "carol", 1), LIMITS_BODY_OVER_TOTAL);
	assert_int_equal(limits_body_take(l, NULL, 1), LIMITS_BODY_OVER_TOTAL);
	assert_int_equal(limits_body_in_flight(l, NULL), 250);
	/* A refusal reserved nothing; giving back frees both budgets. */
	limits_body_give(l, "alice", 60);
	assert_int_equal(limits_body_in_flight(l, "alice"), 40);
	assert_int_equal(limits_body_take(l, "carol", 60), LIMITS_BODY_OK);
	assert_int_equal(limits_body_take(l, "alice", 60), LIMITS_BODY_OVER_TOTAL);
	limits_body_give(l, "alice", 40);
	limits_body_give(l, "bob", 100);
	limits_body_give(l, "carol", 60);
	limits_body_give(l, NULL, 50);
	assert_int_equal(limits_body_in_flight(l, NULL), 0);
	assert_int_equal(limits_body_in_flight(l, "alice"), 0);
	/* Nothing to reserve always passes; 0 budgets are unlimited. */
	assert_int_equal(limits_body_take(l, "dave", 0), LIMITS_BODY_OK);
	limits_body_budget(l, 0, 0);
	assert_int_equal(limits_body_take(l, "alice", 1000000), LIMITS_BODY_OK);
	limits_body_give(l, "alice", 1000000);
	limits_free(l);
}

static void test_body_budget_many_keys(void **state)
{
	struct limits *l = make(1.0, 1, 0);
	char key[32];
	int refused = 0;
	(void)state;
	limits_body_budget(l, 10, 0);
	/* The table of keys is fixed: past it new keys are refused, not stored. */
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "u%d", i);
		refused += limits_body_take(l, key, 1) != LIMITS_BODY_OK;
	}
	assert_true(refused > 0 && refused < 5000);
	/* A key given back frees its entry for a new one. */
	limits_body_give(l, "u0", 1);
	assert_int_equal(limits_body_take(l, "newcomer", 1), LIMITS_BODY_OK);
	limits_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_refill), cmocka_unit_test(test_retry_after_seconds),
	    cmocka_unit_test(test_unlimited_kind),    cmocka_unit_test(test_many_keys_bounded),
	    cmocka_unit_test(test_hash_gate),         cmocka_unit_test(test_peek_takes_nothing),
	    cmocka_unit_test(test_body_budget),       cmocka_unit_test(test_body_budget_many_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
