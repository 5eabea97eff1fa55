/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The API's rate limits: token buckets per key with a simulated clock, and
 * the gate on concurrent password hashing. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_refill), cmocka_unit_test(test_retry_after_seconds),
	    cmocka_unit_test(test_unlimited_kind),    cmocka_unit_test(test_many_keys_bounded),
	    cmocka_unit_test(test_hash_gate),         cmocka_unit_test(test_peek_takes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
