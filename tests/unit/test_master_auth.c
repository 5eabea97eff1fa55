/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Password hashing and tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "master/auth.h"

static void test_hash_and_check(void **state)
{
	char hash[256], err[256];
	assert_int_equal(auth_hash_password("s3cret-pass", hash, sizeof(hash), err, sizeof(err)),
	                 0);
	assert_true(strncmp(hash, "$y$", 3) == 0);
	assert_true(auth_check_password("s3cret-pass", hash));
	assert_false(auth_check_password("s3cret-pasS", hash));
	assert_false(auth_check_password("", hash));
	assert_false(auth_check_password("x", ""));
	assert_false(auth_check_password("x", NULL));
	char hash2[256];
	auth_hash_password("s3cret-pass", hash2, sizeof(hash2), err, sizeof(err));
	assert_string_not_equal(hash, hash2); /* fresh salt each time */
}

static void test_tokens_are_random_hex(void **state)
{
	char a[AUTH_TOKEN_CHARS + 1], b[AUTH_TOKEN_CHARS + 1], err[256];
	assert_int_equal(auth_new_token(a, sizeof(a), err, sizeof(err)), 0);
	assert_int_equal(auth_new_token(b, sizeof(b), err, sizeof(err)), 0);
	assert_int_equal(strlen(a), AUTH_TOKEN_CHARS);
	assert_int_equal(strspn(a, "0123456789abcdef"), AUTH_TOKEN_CHARS);
	assert_string_not_equal(a, b);
	assert_int_equal(auth_new_token(a, 10, err, sizeof(err)), -1);
}

/* The stored form of a token is its SHA-256 hex: fixed, not the token, not reversible. */
static void test_token_hash(void **state)
{
	char tok[AUTH_TOKEN_CHARS + 1], h[AUTH_TOKEN_CHARS + 1], h2[AUTH_TOKEN_CHARS + 1], err[128];
	auth_token_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(auth_new_token(tok, sizeof(tok), err, sizeof(err)), 0);
	auth_token_hash(tok, h);
	auth_token_hash(tok, h2);
	assert_int_equal(strlen(h), AUTH_TOKEN_CHARS);
	assert_string_equal(h, h2);
	assert_string_not_equal(h, tok);
}

static void test_passwords(void **state)
{
	char p[21];
	assert_int_equal(auth_new_password(p, 20), 0);
	assert_int_equal(strlen(p), 20);
}

static void test_same_secret(void **state)
{
	(void)state;
	assert_int_equal(auth_same_secret("", ""), 1);
	assert_int_equal(auth_same_secret("abc", "abc"), 1);
	assert_int_equal(auth_same_secret("abc", "abd"), 0);
	assert_int_equal(auth_same_secret("xbc", "abc"), 0);
	assert_int_equal(auth_same_secret("abc", "ab"), 0);
	assert_int_equal(auth_same_secret("ab", "abc"), 0);
	assert_int_equal(auth_same_secret("", "a"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_and_check), cmocka_unit_test(test_tokens_are_random_hex),
	    cmocka_unit_test(test_token_hash),     cmocka_unit_test(test_passwords),
	    cmocka_unit_test(test_same_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
