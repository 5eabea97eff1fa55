/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 against the FIPS 180-4 / NIST example vectors, including the
 * padding edge cases (55, 56 and 64 byte messages) and chunked updates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sha256.h"

static void expect_hex(const char *msg, size_t len, const char *want)
{
	char hex[SHA256_HEX_BYTES];
	sha256_buffer_hex(msg, len, hex);
	assert_string_equal(hex, want);
}

static void test_empty_message(void **state)
{
	expect_hex("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc_one_block(void **state)
{
	expect_hex("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_two_block_message(void **state)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	expect_hex(m, strlen(m),
	           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_four_hundred_forty_eight_bit_long_message(void **state)
{
	const char *m =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqk"
	    "lmnopqrlmnopqrsmnopqrstnopqrstu";
	expect_hex(m, strlen(m),
	           "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a_chunked(void **state)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_BYTES];
	char hex[SHA256_HEX_BYTES];
	char chunk[1000];
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&ctx);
	/* uneven chunk sizes cross block boundaries in every way */
	static const size_t sizes[] = {1, 63, 64, 65, 999, 1000, 7};
	size_t left = 1000000;
	for (size_t i = 0; left > 0; i++) {
		size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		if (n > left)
			n = left;
		sha256_update(&ctx, chunk, n);
		left -= n;
	}
	sha256_final(&ctx, d);
	sha256_hex(d, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_byte_at_a_time_equals_whole(void **state)
{
	const char *m = "The quick brown fox jumps over the lazy dog, many times over, 1234567890";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_BYTES];
	char a[SHA256_HEX_BYTES], b[SHA256_HEX_BYTES];
	sha256_init(&ctx);
	for (size_t i = 0; i < strlen(m); i++)
		sha256_update(&ctx, m + i, 1);
	sha256_final(&ctx, d);
	sha256_hex(d, a);
	sha256_buffer_hex(m, strlen(m), b);
	assert_string_equal(a, b);
}

static void test_padding_boundaries_55_56_64(void **state)
{
	char m[64];
	memset(m, 'a', sizeof(m));
	expect_hex(m, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	expect_hex(m, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	expect_hex(m, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void test_file_hash_and_size(void **state)
{
	char path[] = "/tmp/test_sha256_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	char hex[SHA256_HEX_BYTES], err[256];
	uint64_t size = 0;
	assert_int_equal(sha256_file_hex(path, hex, &size, err, sizeof(err)), 0);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(size, 3);
	unlink(path);
	assert_int_equal(sha256_file_hex(path, hex, &size, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_message),
	    cmocka_unit_test(test_abc_one_block),
	    cmocka_unit_test(test_two_block_message),
	    cmocka_unit_test(test_four_hundred_forty_eight_bit_long_message),
	    cmocka_unit_test(test_million_a_chunked),
	    cmocka_unit_test(test_byte_at_a_time_equals_whole),
	    cmocka_unit_test(test_padding_boundaries_55_56_64),
	    cmocka_unit_test(test_file_hash_and_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
